"""Opening files we did not write, where a crash in a C library cannot take the process down.

PyTables (HDF5) has no checksums and segfaults on some corrupted bytes; catching exceptions
cannot help against that. :func:`read_hdf_table` therefore reads an HDF5 table in a forked child
process (a fork costs milliseconds, not a fresh interpreter), with a time limit, and turns a
crash or a hang into a clear error that names the file.

Files napari-dlcflow wrote itself are cheap to trust:
:func:`~napari_dlcflow.core.safe_io.record_written` keeps their content hash in
``.dlcflow-backups/hashes.json`` beside them, and a file whose bytes still have that hash
is read in process. A file whose hash differs from the one recorded was changed by another
program (or silently damaged on disk): it is read in the child and a
:class:`ChangedOutsideWarning` says so.

The same module turns a DeepLabCut child's traceback into a sentence naming the file and the
cause (:func:`explain_child_failure`).
"""

from __future__ import annotations

import _csv
import contextlib
import json
import multiprocessing
import os
import re
import signal
import struct
import threading
import time
import warnings
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from napari_dlcflow.core.safe_io import (
    SaveError,
    atomic_write,
    content_hash,
    recorded_hash,
)

if TYPE_CHECKING:
    import pandas as pd

__all__ = [
    "ChangedOutsideWarning",
    "IncompleteFileWarning",
    "UntrustedFileError",
    "check_csv_text",
    "check_values",
    "explain_child_failure",
    "mp4_box_problem",
    "named_errors",
    "quoted",
    "read_hdf_table",
    "restore_pair",
    "shorten",
]

#: Seconds a child may take to read one HDF5 table before it is killed as hanging.
DEFAULT_TIMEOUT = 120.0

_ctx_lock = threading.Lock()
_ctx: Any = None


class UntrustedFileError(ValueError):
    """A file we did not write cannot be read; the message names the file and the problem."""

    def __init__(self, path: str | os.PathLike, problem: str) -> None:
        self.path = Path(path)
        self.problem = problem
        super().__init__(f"{self.path}: {problem}")


class IncompleteFileWarning(UserWarning):
    """A table may be cut short (no final newline), though every row has all its cells."""


class ChangedOutsideWarning(UserWarning):
    """A file napari-dlcflow wrote has other content now (another program, or damage on disk)."""


def restore_pair(
    first: Path, old: bytes | None, backup: Path | None, failure: BaseException
) -> SaveError:
    """Undo the first file of a two-file save after the second failed, and say truthfully how
    things stand.

    The previous ``first`` is moved back from its backup (a rename: it needs no free space, so
    it works on a full disk); if that is not possible its bytes are written back; a file that
    did not exist before is removed.

    Parameters
    ----------
    first : Path
        The file already replaced (the h5).
    old : bytes or None
        Its previous content, or None if it did not exist.
    backup : Path or None
        The backup :func:`~napari_dlcflow.core.safe_io.atomic_write` made of it.
    failure : BaseException
        Why the second file failed (its message names that file).

    Returns
    -------
    SaveError
        To raise; its message says whether both files are unchanged.
    """
    try:
        if old is None:
            first.unlink(missing_ok=True)
        else:
            restored = False
            if backup is not None and backup.is_file():
                with contextlib.suppress(OSError):
                    os.replace(backup, first)
                    restored = first.read_bytes() == old
            if not restored:
                atomic_write(first, old, backup=False)
    except OSError as exc:
        reason = getattr(exc, "strerror", None) or str(exc)
        kept = f" (the previous one is kept as {backup})" if backup is not None else ""
        return SaveError(
            f"{failure} Putting the previous {first.name} back also failed ({reason}): "
            f"{first} now holds the new labels{kept} and the other file the old ones. "
            "The labels are still in memory: save again once the problem is fixed."
        )
    what = "put back as it was" if old is not None else "removed again (it did not exist)"
    return SaveError(f"{failure} {first.name} was {what}, so both files are unchanged.")


# ------------------------------------------------------------------------------ HDF5 tables
def _context() -> Any:
    """Where the reading child comes from: a fork of this process (POSIX), else a spawn.

    A fork costs milliseconds and needs no re-import. Multiprocessing's fork server was tried
    and dropped: its children re-run the main module (``napari`` itself, or fail outright
    from an interactive session). A fork of a process with threads could in principle inherit
    a lock another thread held; the child only reads one file with pandas/PyTables (never Qt),
    and a child that hangs is killed after the time limit and reported, so the viewer is safe
    either way.
    """
    global _ctx
    with _ctx_lock:
        if _ctx is None:
            methods = multiprocessing.get_all_start_methods()
            _ctx = multiprocessing.get_context("fork" if "fork" in methods else "spawn")
        return _ctx


def _open_table(
    path: str, prefer: Sequence[str], any_key: bool, nrows: int | None
) -> tuple[pd.DataFrame, str]:
    """Read the table (in whatever process calls it). Raises UntrustedFileError or whatever the
    HDF5 library raises."""
    import pandas as pd

    with open(path, "rb") as fh:
        head = fh.read(8)
    if head != b"\x89HDF\r\n\x1a\n":
        raise UntrustedFileError(path, "cannot be read: not an HDF5 file (bad signature)")
    with pd.HDFStore(path, mode="r") as store:
        keys = [k.lstrip("/") for k in store.keys()]  # noqa: SIM118
        key = next((k for k in prefer if k in keys), None)
        if key is None and (len(keys) == 1 or (any_key and keys)):
            key = keys[0]
        if key is None:
            raise UntrustedFileError(
                path, f"holds no pandas table (keys: {', '.join(keys) or 'none'})"
            )
        storer = store.get_storer(key)
        if nrows is not None and getattr(storer, "is_table", False):
            df = store.select(key, start=0, stop=nrows)
        else:
            df = store.get(key)
    if not isinstance(df, pd.DataFrame):
        kind = type(df).__name__
        raise UntrustedFileError(path, f"the entry {key!r} is not a table (got {kind})")
    return df, key


def _short(exc: BaseException) -> str:
    """``Type: last line of the message`` (HDF5 prints its whole C back trace), shortened
    (parsers quote the offending content)."""
    lines = [ln.strip() for ln in str(exc).splitlines() if ln.strip()]
    return f"{type(exc).__name__}: {shorten(lines[-1] if lines else '')}"


def _child(conn: Any, path: str, prefer: Sequence[str], any_key: bool, nrows: int | None) -> None:
    import faulthandler

    faulthandler.disable()  # a crash here is expected and reported by the parent
    try:
        result: tuple[str, Any] = ("ok", _open_table(path, prefer, any_key, nrows))
    except UntrustedFileError as exc:
        result = ("refused", exc.problem)
    except BaseException as exc:  # the parent turns it into a named error
        result = ("error", _short(exc))
    try:
        conn.send(result)
    except Exception as exc:  # e.g. a table that does not pickle
        conn.send(("error", _short(exc)))
    conn.close()


def _signal_name(code: int) -> str:
    try:
        return signal.Signals(-code).name
    except ValueError:
        return f"signal {-code}"


class _PipeConn:
    """``send``/``close`` over a pipe's write end, for the forked child."""

    def __init__(self, fd: int) -> None:
        self.fd = fd

    def send(self, obj: Any) -> None:
        import pickle

        data = pickle.dumps(obj, protocol=pickle.HIGHEST_PROTOCOL)
        view = memoryview(data)
        while view:
            view = view[os.write(self.fd, view) :]

    def close(self) -> None:
        os.close(self.fd)


def _fork_is_safe() -> bool:
    """Whether a fork of this process can read a file: only with one thread and no Qt.

    A fork copies only the calling thread; a lock another thread held at that moment (a thread
    pool's, the allocator's) stays locked in the child forever. In napari, or beside a Dask
    client's threads, the child then hangs until the time limit and a good file is refused.
    """
    import sys

    return threading.active_count() == 1 and not any(
        m in sys.modules for m in ("qtpy", "PyQt5", "PyQt6", "PySide2", "PySide6")
    )


def _read_in_fresh_interpreter(
    path: Path, prefer: Sequence[str], any_key: bool, nrows: int | None, timeout: float
) -> tuple[str, Any]:
    """Read in a new Python process (about a second to start: pandas and PyTables load)."""
    import pickle
    import subprocess
    import sys

    args = json.dumps([str(path), list(prefer), any_key, nrows])
    code = "from napari_dlcflow.core.untrusted import _fresh_main; _fresh_main()"
    try:
        run = subprocess.run(
            [sys.executable, "-c", code, args], capture_output=True, timeout=timeout, check=False
        )
    except subprocess.TimeoutExpired:
        return ("crash", f"the HDF5 reader did not finish within {timeout:g} s (hangs on it)")
    if run.stdout:
        try:
            return pickle.loads(run.stdout)
        except Exception:  # a child killed while writing
            pass
    code_ = run.returncode
    how = _signal_name(code_) if code_ < 0 else f"exit code {code_}"
    return ("crash", f"the HDF5 reader crashed on it ({how})")


def _fresh_main() -> None:
    """The fresh interpreter's side of :func:`_read_in_fresh_interpreter`."""
    import sys

    path, prefer, any_key, nrows = json.loads(sys.argv[1])

    class _Stdout:
        def send(self, obj: Any) -> None:
            import pickle

            sys.stdout.buffer.write(pickle.dumps(obj, protocol=pickle.HIGHEST_PROTOCOL))
            sys.stdout.buffer.flush()

        def close(self) -> None:
            pass

    _child(_Stdout(), path, tuple(prefer), bool(any_key), nrows)


def _read_in_child(
    path: Path, prefer: Sequence[str], any_key: bool, nrows: int | None, timeout: float
) -> tuple[str, Any]:
    import pandas  # noqa: F401 - loaded once here, so each forked child starts ready
    import tables  # noqa: F401

    if not hasattr(os, "fork"):
        return _read_in_spawned_child(path, prefer, any_key, nrows, timeout)
    if not _fork_is_safe():
        return _read_in_fresh_interpreter(path, prefer, any_key, nrows, timeout)
    # a plain fork, not multiprocessing: it also works inside daemonic processes (a Dask
    # worker), where multiprocessing refuses to start children
    recv, send = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: read, send the outcome, and leave without any clean-up
        try:
            os.close(recv)
            _child(_PipeConn(send), str(path), tuple(prefer), any_key, nrows)
        finally:
            os._exit(0)
    os.close(send)
    import pickle
    import select

    chunks: list[bytes] = []
    deadline = time.monotonic() + timeout
    try:
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                os.kill(pid, signal.SIGKILL)
                os.waitpid(pid, 0)
                return (
                    "crash",
                    f"the HDF5 reader did not finish within {timeout:g} s (hangs on it)",
                )
            ready, _, _ = select.select([recv], [], [], min(left, 0.5))
            if ready:
                chunk = os.read(recv, 1 << 20)
                if not chunk:
                    break
                chunks.append(chunk)
    finally:
        os.close(recv)
    _, status = os.waitpid(pid, 0)
    if chunks:
        try:
            return pickle.loads(b"".join(chunks))
        except Exception:  # a child killed while sending
            pass
    if os.WIFSIGNALED(status):
        how = _signal_name(-os.WTERMSIG(status))
    else:
        how = f"exit code {os.WEXITSTATUS(status)}"
    return ("crash", f"the HDF5 reader crashed on it ({how})")


def _read_in_spawned_child(
    path: Path, prefer: Sequence[str], any_key: bool, nrows: int | None, timeout: float
) -> tuple[str, Any]:
    """Where there is no fork (Windows): a spawned multiprocessing child."""
    ctx = _context()
    recv, send = ctx.Pipe(duplex=False)
    proc = ctx.Process(
        target=_child, args=(send, str(path), tuple(prefer), any_key, nrows), daemon=True
    )
    proc.start()
    send.close()
    deadline = time.monotonic() + timeout
    result: tuple[str, Any] | None = None
    try:
        while time.monotonic() < deadline:
            if recv.poll(0.05):
                try:
                    result = recv.recv()
                except (EOFError, OSError):
                    result = None
                break
            if not proc.is_alive() and not recv.poll(0):
                break
        else:
            proc.kill()
            proc.join(5)
            return ("crash", f"the HDF5 reader did not finish within {timeout:g} s (hangs on it)")
        proc.join(10)
        if proc.is_alive():
            proc.kill()
            proc.join(5)
    finally:
        recv.close()
    if result is not None:
        return result
    code = proc.exitcode
    how = _signal_name(code) if code is not None and code < 0 else f"exit code {code}"
    return ("crash", f"the HDF5 reader crashed on it ({how})")


def read_hdf_table(
    path: str | os.PathLike,
    *,
    prefer: Sequence[str] = ("df_with_missing",),
    any_key: bool = False,
    nrows: int | None = None,
    error: Callable[[str], Exception] | None = None,
    timeout: float = DEFAULT_TIMEOUT,
) -> tuple[pd.DataFrame, str]:
    """Read a pandas table from an HDF5 file we may not have written, without risking a crash.

    A file whose bytes match the hash :func:`record_written` kept is read in process; any other
    is read in a child process, so a segfault or a hang of the HDF5 library becomes an error.

    Parameters
    ----------
    path : path-like
        The ``.h5`` file.
    prefer : sequence of str
        Keys to take, in order of preference.
    any_key : bool, default False
        Take the first key when none of ``prefer`` is there (else only a file with one key).
    nrows : int, optional
        Read only the first rows (``table`` format only; ``fixed`` reads everything).
    error : callable, optional
        Builds the exception to raise from a problem sentence (default
        :class:`UntrustedFileError` naming ``path``). The sentence does not name the file.
    timeout : float
        Seconds before a child that has not answered is killed.

    Returns
    -------
    (DataFrame, str)
        The table and the key it was stored under.

    Raises
    ------
    Exception
        ``error(problem)``: "is damaged: the HDF5 reader crashed on it", "cannot be read, it may
        be truncated (...)", "holds no pandas table", ...
    """
    p = Path(path)
    make = error or (lambda problem: UntrustedFileError(p, problem))
    try:
        size = p.stat().st_size
        digest = content_hash(p)
    except OSError as exc:
        raise make(f"cannot be read ({exc.strerror or exc})") from None
    if size == 0:
        raise make("the file is empty (0 bytes)")
    known = recorded_hash(p)
    if known is not None and known == digest:
        try:
            return _open_table(str(p), prefer, any_key, nrows)
        except UntrustedFileError as exc:
            raise make(exc.problem) from None
        except Exception as exc:  # PyTables raises many kinds
            raise make(f"cannot be read, it may be truncated ({_short(exc)})") from None
    if known is not None:
        warnings.warn(
            ChangedOutsideWarning(
                f"{p}: changed since napari-dlcflow wrote it (content hash differs): "
                "another program edited it, or it was damaged on disk"
            ),
            stacklevel=2,
        )
    status, value = _read_in_child(p, prefer, any_key, nrows, timeout)
    if status == "ok":
        return value
    if status == "refused":
        raise make(value)
    if status == "crash":
        raise make(f"is damaged: {value}")
    raise make(f"cannot be read, it may be truncated ({value})")


# ------------------------------------------------------------------------------ quoting content
#: Characters of a file's content that one error message or report line may quote.
MAX_QUOTED = 200
_QUOTE_DEPTH = 12


def shorten(text: Any, limit: int = MAX_QUOTED) -> str:
    """``text`` if it has at most ``limit`` characters, else its start and its length.

    Every message that quotes a file's content (a cell, a name, a parser's complaint) goes
    through this or :func:`quoted`, so a damaged file cannot make a message of megabytes.

    Parameters
    ----------
    text : str
        What to show (anything else is turned into ``str`` first).
    limit : int
        Characters kept.

    Returns
    -------
    str
        E.g. ``"xxxxxxxx... (1,234,567 characters)"``.
    """
    s = text if isinstance(text, str) else str(text)
    if len(s) <= limit:
        return s
    return f"{s[:limit]}... ({len(s):,} characters)"


def _repr_pieces(value: Any, limit: int, depth: int, path: set[int]) -> Iterator[str]:
    """The repr of ``value`` in pieces, read lazily: a caller that stops early never visits
    the rest (a value built by YAML aliases can expand to billions of elements)."""
    if isinstance(value, str):
        yield repr(str(value[: limit + 1]))
    elif isinstance(value, bool) or value is None:
        yield repr(value)
    elif isinstance(value, int):
        if value.bit_length() > 3000:  # repr of a 4,300-digit number raises ValueError
            yield f"<a number of about {int(value.bit_length() * 0.30103):,} digits>"
        else:
            yield int.__repr__(value)
    elif isinstance(value, float):
        yield float.__repr__(value)
    elif isinstance(value, (dict, list, tuple, set, frozenset)):
        if id(value) in path or depth >= _QUOTE_DEPTH:
            yield "..."
            return
        path.add(id(value))
        opening, closing = "{}" if isinstance(value, (dict, set, frozenset)) else "[]"
        yield opening
        for k, item in enumerate(value):
            if k:
                yield ", "
            if isinstance(value, dict):
                yield from _repr_pieces(item, limit, depth + 1, path)
                yield ": "
                yield from _repr_pieces(value[item], limit, depth + 1, path)
            else:
                yield from _repr_pieces(item, limit, depth + 1, path)
        yield closing
        path.discard(id(value))
    else:
        yield shorten(repr(value), limit)


def quoted(value: Any, limit: int = MAX_QUOTED) -> str:
    """The ``repr`` of a value read from a file, at most about ``limit`` characters long and
    built in time bounded by ``limit`` (never by the value's size).

    Parameters
    ----------
    value : object
        A value parsed from a file (str, number, list, mapping, ...), possibly huge or
        self-referencing.
    limit : int
        Characters kept.

    Returns
    -------
    str
        E.g. ``"[[1, 1, 1, ... (a list of 9 items)"`` or ``"'xxx... (200,000 characters)"``.
    """
    out: list[str] = []
    n = 0
    for piece in _repr_pieces(value, limit, 0, set()):
        out.append(piece)
        n += len(piece)
        if n > limit:
            break
    text = "".join(out)
    if n <= limit and not (isinstance(value, str) and len(value) > limit):
        return text
    if isinstance(value, str):
        return f"{text[:limit]}... ({len(value):,} characters)"
    if isinstance(value, (dict, list, tuple, set, frozenset)):
        kind = "mapping" if isinstance(value, dict) else "list"
        return f"{text[:limit]}... (a {kind} of {len(value):,} items)"
    return f"{text[:limit]}..."


# ------------------------------------------------------------------------------ parser errors
#: What parsers raise on malformed input (never MemoryError or KeyboardInterrupt).
PARSER_ERRORS: tuple[type[BaseException], ...] = (
    ValueError,
    TypeError,
    LookupError,
    AttributeError,
    ArithmeticError,
    RecursionError,
    EOFError,
    OSError,
    _csv.Error,
    struct.error,
)


@contextlib.contextmanager
def named_errors(
    path: str | os.PathLike,
    make: Callable[[str], Exception],
    documented: tuple[type[BaseException], ...] = (),
) -> Iterator[None]:
    """Turn what a parser raises on malformed input into the reader's documented error.

    Used at the boundary of each reader of files from elsewhere, so a malformed file gives an
    error that names it (``make(problem)``) and never a raw ``TypeError`` or ``KeyError``.

    Parameters
    ----------
    path : path-like
        The file (for the message of errors that lack it).
    make : callable
        Builds the documented error from a problem sentence.
    documented : tuple of exception types
        Errors that already are the reader's own; they pass unchanged (as do
        ``FileNotFoundError`` and ``PermissionError``, which name the file).
    """
    try:
        yield
    except (*documented, FileNotFoundError, PermissionError):
        raise
    except UntrustedFileError as exc:
        raise make(exc.problem) from None
    except PARSER_ERRORS as exc:
        if isinstance(exc, RecursionError):
            problem = "cannot be read: its content is nested too deeply"
        else:
            problem = f"cannot be read ({_short(exc)})"
        raise make(problem) from exc


# ------------------------------------------------------------------------------ table content
def check_csv_text(
    path: str | os.PathLike, data: str | bytes, make: Callable[[str], Exception]
) -> None:
    """Refuse a DeepLabCut CSV cut mid-file or with a row whose index (image name or frame)
    is empty: both used to load without a word.

    Parameters
    ----------
    path : path-like
        The file (for the caller's message).
    data : str or bytes
        Its content.
    make : callable
        Builds the reader's documented error from a problem sentence.
    """
    raw = data.encode("utf-8", "replace") if isinstance(data, str) else data
    lines = raw.split(b"\n", 8)
    coords = next((ln for ln in lines[:8] if ln.lower().startswith(b"coords")), None)
    if coords is None:
        return  # not DLC's layout: the reader says so
    cells = coords.rstrip(b"\r").split(b",")
    n_index = 1
    while n_index < len(cells) and not cells[n_index].strip():
        n_index += 1
    width = len(cells)
    end = raw.rstrip(b"\r\n") if raw.endswith(b"\n") else None
    if end is None:  # no final newline: is the last row complete?
        last = raw.rsplit(b"\n", 1)[-1]
        if last.strip() and last.count(b",") + 1 < width:
            raise make(
                f"the last row has {last.count(b',') + 1} of {width} cells: the file is cut "
                "short (incomplete copy or save?)"
            )
        if last.strip():
            warnings.warn(
                IncompleteFileWarning(
                    f"{path}: does not end with a newline as DeepLabCut's files do; it may be "
                    "cut short (check the last row's values)"
                ),
                stacklevel=3,
            )
    header = re.compile(rb"^(scorer|individuals|bodyparts|coords)\b", re.IGNORECASE)
    empty = re.compile(rb"\n(?:[^,\n]+,){0,%d}\s*(?:,|\r?\n|$)" % (n_index - 1))
    for m in empty.finditer(raw):
        start = m.start() + 1
        line = raw[start : raw.find(b"\n", start) if b"\n" in raw[start:] else len(raw)]
        if not line.strip() or header.match(line) or not line.strip(b", \r"):
            continue
        row = raw.count(b"\n", 0, start) + 1
        raise make(f"row {row} has no image name or frame number in its index")


def check_values(
    xy: Any, likelihood: Any, make: Callable[[str], Exception], what: str = "coordinates"
) -> None:
    """Refuse infinite coordinates and likelihoods outside 0..1 (NaN is "not labeled").

    Parameters
    ----------
    xy : array-like
        Coordinates (any shape).
    likelihood : array-like or None
        Likelihoods, when the table has them.
    make : callable
        Builds the reader's documented error from a problem sentence.
    what : str
        Name of the coordinates in the message.
    """
    import numpy as np

    a = np.asarray(xy, dtype=float)
    if np.isinf(a).any():
        raise make(f"{int(np.isinf(a).sum())} infinite {what}: the file is damaged")
    if likelihood is not None:
        lik = np.asarray(likelihood, dtype=float)
        bad = ~np.isnan(lik) & ((lik < 0) | (lik > 1))
        if bad.any():
            raise make(
                f"{int(bad.sum())} likelihoods outside 0..1 (e.g. {lik[bad].flat[0]:g}): "
                "the file is damaged"
            )


# ------------------------------------------------------------------------------ containers
def mp4_box_problem(path: str | os.PathLike) -> str | None:
    """Why an MP4/MOV file's top-level boxes do not add up to its size, or None if they do.

    Every top-level box states its length; a file that lost even its last byte ends inside
    one (FFmpeg opens it and fails only when it reaches the missing part).
    """
    p = Path(path)
    try:
        size = p.stat().st_size
        with open(p, "rb") as fh:
            pos = 0
            while pos < size:
                fh.seek(pos)
                head = fh.read(16)
                if len(head) < 8:
                    return f"ends inside a box header at byte {pos} of {size}"
                length = int.from_bytes(head[:4], "big")
                kind = head[4:8].decode("latin-1")
                if length == 1:
                    if len(head) < 16:
                        return f"ends inside the header of box {kind!r}"
                    length = int.from_bytes(head[8:16], "big")
                elif length == 0:  # the box runs to the end of the file
                    return None
                if length < 8:
                    return f"box {kind!r} at byte {pos} has an invalid length {length}"
                if pos + length > size:
                    return (
                        f"box {kind!r} at byte {pos} needs {length} bytes, the file ends "
                        f"{pos + length - size} bytes short"
                    )
                pos += length
    except OSError as exc:
        return f"cannot be read ({exc.strerror or exc})"
    return None


# ------------------------------------------------------------------------------ child failures
_FILE_RE = re.compile(
    r"""(?:(?:No such file or directory|Permission denied|cannot (?:open|read|identify)[^:'"]*|"""
    r"""[Cc]ould not (?:open|read|load)[^:'"]*|[Ee]rror (?:opening|reading)[^:'"]*)"""
    r"""[:\s]*)['"]?(?P<path>[^'"\n]+\.(?:png|jpe?g|tiff?|bmp|h5|hdf5|csv|pickle|pt|yaml|mp4|avi|mkv|mov))['"]?""",
)
_ANY_PATH_RE = re.compile(
    r"""['"](?P<path>[^'"\n]*/[^'"\n]+\.(?:png|jpe?g|tiff?|bmp|h5|hdf5|csv|pickle|pt|yaml|mp4|avi|mkv|mov))['"]"""
)


def explain_child_failure(traceback_text: str) -> str | None:
    """One sentence naming the file and the cause of a DeepLabCut child's failure, when its
    traceback shows them; None when it does not.

    Parameters
    ----------
    traceback_text : str
        The child's stderr or formatted traceback.
    """
    text = traceback_text or ""
    lines = [ln.strip() for ln in text.strip().splitlines() if ln.strip()]
    if not lines:
        return None
    cause = next(
        (ln for ln in reversed(lines) if re.match(r"^[A-Za-z_.]*(Error|Exception)\b", ln)),
        lines[-1],
    )
    m = _FILE_RE.search(text)
    path = m.group("path").strip() if m else None
    if path is None:
        # the last file-looking path quoted in the traceback that is not Python source
        found = [g for g in _ANY_PATH_RE.findall(text) if not g.endswith(".py")]
        path = found[-1] if found else None
    if path is None and "opencv" in text.lower() and "!_src.empty()" in text:
        return (
            "OpenCV got an empty image: an image of the dataset could not be read "
            "(run the validation report to find which); " + cause
        )
    if path is None:
        return None
    return f"{path}: {cause}"
