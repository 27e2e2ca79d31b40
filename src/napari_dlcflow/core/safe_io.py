"""Atomic file writes with backup generations.

Every file the package writes goes through :func:`atomic_writer` (a context manager that yields
a temporary path, for anything that writes files itself: pandas, PyAV, ...) or its in-memory form
:func:`atomic_write`: the new content goes to a temporary file in the target's own folder, is
flushed to disk, the previous file is copied into a backup folder, and only then the new file
replaces the target. A failure at any step (disk full,
read-only folder, a killed process) leaves the old file byte-identical and no temporary file
behind.

What we wrote is recorded too: :func:`record_written` keeps the content hash of a file beside it
(``.dlcflow-backups/hashes.json``), so :func:`changed_outside` notices a file another program
changed since, and the untrusted-file reader (:mod:`napari_dlcflow.core.untrusted`) reads our
own unchanged files in process.
"""

from __future__ import annotations

import contextlib
import glob
import hashlib
import json
import os
import shutil
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

__all__ = [
    "BACKUP_DIRNAME",
    "HASHES_NAME",
    "SaveError",
    "atomic_write",
    "atomic_writer",
    "backed_up_name",
    "backup_folder",
    "changed_outside",
    "content_hash",
    "list_backups",
    "record_written",
    "recorded_hash",
    "restore_backup",
]

BACKUP_DIRNAME = ".dlcflow-backups"
HASHES_NAME = "hashes.json"
DEFAULT_KEEP = 5


class SaveError(OSError):
    """A file could not be saved; the previous version on disk is unchanged."""


def backup_folder(path: str | os.PathLike) -> Path:
    """Return the folder that holds the backups of ``path`` (beside it, hidden)."""
    return Path(path).parent / BACKUP_DIRNAME


def list_backups(path: str | os.PathLike) -> list[Path]:
    """Return the backups of ``path``, newest first.

    Parameters
    ----------
    path : path-like
        The file whose backups to list.

    Returns
    -------
    list of Path
        Backup files named ``<name>.<timestamp>.bak``, newest first.
    """
    target = Path(path)
    folder = backup_folder(target)
    if not folder.is_dir():
        return []
    found = [p for p in folder.glob(f"{target.name}.*.bak") if p.is_file()]
    return sorted(found, key=lambda p: p.name, reverse=True)


def backed_up_name(backup: str | os.PathLike) -> str | None:
    """The name of the file a backup (``<name>.<timestamp>.bak``) was made of; None for a
    path that is not such a backup."""
    b = Path(backup)
    if b.suffix != ".bak" or b.parent.name != BACKUP_DIRNAME:
        return None
    name = b.name.removesuffix(".bak").rpartition(".")[0]
    return name or None


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def _fsync_dir(folder: Path) -> None:
    with contextlib.suppress(OSError):
        fd = os.open(folder, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


def _make_backup(target: Path, keep: int) -> Path:
    folder = backup_folder(target)
    folder.mkdir(exist_ok=True)
    stamp = datetime.now().strftime("%Y%m%dT%H%M%S_%f")
    dest = folder / f"{target.name}.{stamp}.bak"
    n = 1
    while dest.exists():
        dest = folder / f"{target.name}.{stamp}-{n}.bak"
        n += 1
    tmp = dest.with_name(dest.name + ".tmp")
    try:
        shutil.copy2(target, tmp)
        os.replace(tmp, dest)
    except BaseException:
        with contextlib.suppress(OSError):
            tmp.unlink()
        raise
    for old in list_backups(target)[keep:]:
        with contextlib.suppress(OSError):
            old.unlink()
    return dest


@dataclass
class _Pending:
    tmp: Path
    backup: Path | None = None


@contextlib.contextmanager
def _replacing(target: Path, backup: bool, keep: int) -> Iterator[_Pending]:
    """The steps of :func:`atomic_writer`."""

    def failed(exc: OSError) -> SaveError:
        reason = exc.strerror or str(exc)
        return SaveError(f"Cannot save {target}: {reason}. The previous file is unchanged.")

    if not target.parent.is_dir():
        raise SaveError(f"Cannot save {target}: folder {target.parent} does not exist")
    try:
        fd, tmp_name = tempfile.mkstemp(
            prefix=f".{target.name}.", suffix=".tmp", dir=target.parent
        )
        os.close(fd)
    except OSError as exc:
        raise failed(exc) from exc
    pending: _Pending | None = _Pending(Path(tmp_name))
    try:
        try:
            yield pending
            tmp = pending.tmp
            if not tmp.is_file():
                raise SaveError(f"Cannot save {target}: nothing was written")
            with open(tmp, "rb+") as fh:
                os.fsync(fh.fileno())
            with contextlib.suppress(OSError):
                if target.exists():
                    shutil.copymode(target, tmp)
                else:
                    os.chmod(tmp, 0o666 & ~_umask())
            if backup and target.is_file():
                pending.backup = _make_backup(target, keep)
            os.replace(tmp, target)
        except SaveError:
            raise
        except OSError as exc:
            raise failed(exc) from exc
        pending = None
        _fsync_dir(target.parent)
    finally:
        if pending is not None:
            with contextlib.suppress(OSError):
                pending.tmp.unlink()


@contextlib.contextmanager
def atomic_writer(
    path: str | os.PathLike,
    *,
    backup: bool = True,
    keep: int = DEFAULT_KEEP,
) -> Iterator[Path]:
    """Write a file under a temporary name and put it in place of ``path`` only on success.

    The body of the ``with`` block writes the new content to the yielded temporary path (in
    the target's own folder, so the final rename is atomic); anything can write it: Python,
    pandas, PyAV. When the block ends without an error the temporary file is flushed to disk
    (fsync), gets the old file's permissions (or the usual ones for a new file), the old file
    is copied to a backup generation, and the temporary file replaces ``path``.

    Parameters
    ----------
    path : path-like
        The file to write. Its folder must exist.
    backup : bool, default True
        Copy the current file (if any) into :func:`backup_folder` before replacing it.
    keep : int, default 5
        How many backup generations of this file to keep.

    Yields
    ------
    Path
        The temporary file to write (it exists, empty; writers may replace it).

    Raises
    ------
    SaveError
        If the folder is missing, nothing was written, or a file step fails: an ``OSError``
        raised in the block (disk full while writing) included, named by the target and
        chained to the original. Other errors raised in the block propagate unchanged. Either
        way the previous file is byte-identical and no temporary file is left.

    Examples
    --------
    >>> with atomic_writer(folder / "table.csv") as tmp:  # doctest: +SKIP
    ...     df.to_csv(tmp)
    """
    with _replacing(Path(path), backup, keep) as pending:
        yield pending.tmp


def leftover_temporaries(path: str | os.PathLike) -> list[Path]:
    """Temporary files that :func:`atomic_writer` made for ``path`` and a killed process left.

    Only the owner of ``path`` (the one task that writes it) should remove them, before it
    writes ``path`` again: another writer's file of the same pattern may be in use.
    """
    target = Path(path)
    if not target.parent.is_dir():
        return []
    return sorted(target.parent.glob(f".{glob.escape(target.name)}.*.tmp"))


def atomic_write(
    path: str | os.PathLike,
    data: bytes | str,
    *,
    backup: bool = True,
    keep: int = DEFAULT_KEEP,
) -> Path | None:
    """Replace ``path`` with ``data`` atomically, keeping the old version as a backup.

    The in-memory form of :func:`atomic_writer`.

    Parameters
    ----------
    path : path-like
        The file to write. Its folder must exist.
    data : bytes or str
        The new content; ``str`` is encoded as UTF-8.
    backup : bool, default True
        Copy the current file (if any) into :func:`backup_folder` first.
    keep : int, default 5
        How many backup generations of this file to keep.

    Returns
    -------
    Path or None
        The backup that was made, or None if there was nothing to back up.

    Raises
    ------
    SaveError
        If any step fails. The previous file is then unchanged and no temporary file is left.
    """
    target = Path(path)
    payload = data.encode("utf-8") if isinstance(data, str) else bytes(data)
    with _replacing(target, backup, keep) as pending, open(pending.tmp, "wb") as fh:
        fh.write(payload)
    return pending.backup


def restore_backup(path: str | os.PathLike, backup: str | os.PathLike) -> Path | None:
    """Put a backup back in place of ``path``; the current file is backed up first.

    Parameters
    ----------
    path : path-like
        The file to restore.
    backup : path-like
        One of :func:`list_backups` ``(path)``.

    Returns
    -------
    Path or None
        The backup made of the file that was replaced.
    """
    content = Path(backup).read_bytes()
    made = atomic_write(path, content)
    record_written(path)  # our own write: not a change by another program on the next read
    return made


# ------------------------------------------------------------------------------ content hashes
def content_hash(path: str | os.PathLike) -> str:
    """SHA-256 of the bytes of ``path`` (hex)."""
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def _hashes_file(path: Path) -> Path:
    return path.parent / BACKUP_DIRNAME / HASHES_NAME


def _load_hashes(path: Path) -> dict[str, Any]:
    try:
        data = json.loads(_hashes_file(path).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def record_written(path: str | os.PathLike, digest: str | None = None) -> None:
    """Remember the content hash of a file we just wrote, so a later change is noticed.

    Never raises: if the record cannot be written, the file is simply treated as untrusted
    (read in a child) the next time.
    """
    p = Path(path)
    with contextlib.suppress(OSError, ValueError):
        digest = digest or content_hash(p)
        data = _load_hashes(p)
        data[p.name] = {"sha256": digest, "size": p.stat().st_size}
        (p.parent / BACKUP_DIRNAME).mkdir(exist_ok=True)
        atomic_write(_hashes_file(p), json.dumps(data, indent=1, sort_keys=True), backup=False)


def recorded_hash(path: str | os.PathLike) -> str | None:
    """The content hash recorded when we last wrote ``path``, or None."""
    p = Path(path)
    entry = _load_hashes(p).get(p.name)
    if isinstance(entry, dict) and isinstance(entry.get("sha256"), str):
        return entry["sha256"]
    return None


def changed_outside(path: str | os.PathLike, digest: str | None = None) -> bool:
    """Whether ``path`` has other bytes than when napari-dlcflow last wrote it.

    False when we never wrote it (nothing to compare with) or it is gone; a plain ``touch``
    (new modification time, same bytes) is not a change.
    """
    p = Path(path)
    known = recorded_hash(p)
    if known is None or not p.is_file():
        return False
    try:
        return (digest or content_hash(p)) != known
    except OSError:
        return True
