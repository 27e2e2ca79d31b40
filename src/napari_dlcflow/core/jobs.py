"""Run napari-dlcflow work in a child process and read what it reports, line by line.

DeepLabCut work never runs inside the viewer's process: importing deeplabcut takes 12-22 s and
crashes a process that already has an OpenGL canvas, and a crash or an out-of-memory kill of a
child cannot take the viewer or the labels with it. The child is ``python -m napari_dlcflow
<subcommand> ...``, started without a shell (paths with ``#``, ``&``, spaces or non-ASCII
characters pass through untouched). A child reports with JSON lines on stdout; anything else it
prints is kept as log text.
"""

from __future__ import annotations

import json
import os
import queue
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

__all__ = ["ChildResult", "child_env", "emit", "emit_error", "run_child"]

EVENT_PREFIX = "@dlcflow "


def emit(kind: str, **data: Any) -> None:
    """Report an event from inside a child process (one JSON line on stdout)."""
    print(EVENT_PREFIX + json.dumps({"event": kind, **data}, default=str), flush=True)


def emit_error(exc: BaseException, **extra: Any) -> None:
    """Report an exception as the one ``error`` event of a child.

    The event holds ``type`` (the exception's class name), ``message`` (its text, which names
    the file it is about when there is one), ``file`` (the file the exception names:
    ``OSError.filename`` or an engine error's ``file``; None otherwise) and ``where``
    (``path:line`` of the innermost frame of the traceback), plus ``extra``.
    """
    file = getattr(exc, "filename", None) or getattr(exc, "file", None)
    tb = exc.__traceback__
    where = None
    while tb is not None:
        where = f"{tb.tb_frame.f_code.co_filename}:{tb.tb_lineno}"
        tb = tb.tb_next
    emit(
        "error",
        type=type(exc).__name__,
        message=str(exc) or type(exc).__name__,
        file=str(file) if file else None,
        where=where,
        **extra,
    )


@dataclass
class ChildResult:
    """How a child process ended.

    Attributes
    ----------
    returncode : int
        Exit status (negative: killed by that signal).
    events : list of dict
        The JSON events it emitted, in order.
    log : list of str
        Every other line it printed (stdout and stderr interleaved).
    cancelled : bool
        Whether ``should_stop`` asked for it to stop.
    """

    returncode: int
    events: list[dict[str, Any]] = field(default_factory=list)
    log: list[str] = field(default_factory=list)
    cancelled: bool = False

    @property
    def ok(self) -> bool:
        return self.returncode == 0 and not self.cancelled

    def last(self, kind: str) -> dict[str, Any] | None:
        """The last event of this kind, if any."""
        for e in reversed(self.events):
            if e.get("event") == kind:
                return e
        return None

    def reason(self) -> str:
        """A short human explanation of a failure."""
        if self.cancelled:
            return "cancelled"
        if self.returncode < 0:
            if -self.returncode == 9:  # what the out-of-memory killer sends
                return (
                    "killed by signal 9 (SIGKILL: kill -9, or the system ran out of memory and "
                    "its out-of-memory killer stopped the process)"
                )
            return f"killed by signal {-self.returncode}"
        from napari_dlcflow.core.untrusted import explain_child_failure

        err = self.last("error")
        named = explain_child_failure("\n".join(self.log))  # the file and cause, if shown
        if err:
            kind = err.get("type")
            msg = str(err.get("message"))
            if kind and kind != "EngineError":
                msg = f"{kind}: {msg}"
            return f"{msg} ({named})" if named and named not in msg else msg
        if named:
            return f"exit status {self.returncode}: {named}"
        tail = [line for line in self.log if line.strip()][-5:]
        return f"exit status {self.returncode}" + (": " + " | ".join(tail) if tail else "")


def child_env(extra: dict[str, str] | None = None) -> dict[str, str]:
    """Environment for a child: offline model hubs, unbuffered output, no GUI platform."""
    env = dict(os.environ)
    env.setdefault("HF_HUB_OFFLINE", "1")
    env["PYTHONUNBUFFERED"] = "1"
    env.setdefault("MPLBACKEND", "Agg")
    env.update(extra or {})
    return env


def _dispatch(
    line: str,
    result: ChildResult,
    on_event: Callable[[dict[str, Any]], None] | None,
    on_log: Callable[[str], None] | None,
) -> None:
    if line.startswith(EVENT_PREFIX):
        try:
            event = json.loads(line[len(EVENT_PREFIX) :])
        except json.JSONDecodeError:
            event = None
        if isinstance(event, dict):
            result.events.append(event)
            if on_event:
                on_event(event)
            return
    result.log.append(line)
    if on_log:
        on_log(line)


def run_child(
    args: Sequence[str],
    *,
    on_event: Callable[[dict[str, Any]], None] | None = None,
    on_log: Callable[[str], None] | None = None,
    should_stop: Callable[[], bool] | None = None,
    timeout: float | None = None,
    env: dict[str, str] | None = None,
) -> ChildResult:
    """Run ``python -m napari_dlcflow *args`` and collect its events.

    Parameters
    ----------
    args : sequence of str
        Subcommand and its arguments (each one argument; no shell is involved).
    on_event, on_log : callable, optional
        Called for each JSON event / other output line as it arrives.
    should_stop : callable, optional
        Polled between lines; when it returns True the child is terminated.
    timeout : float, optional
        Seconds after which the child is terminated and ``TimeoutError`` raised.
    env : dict, optional
        Extra environment variables.

    Returns
    -------
    ChildResult
    """
    cmd = [sys.executable, "-m", "napari_dlcflow", *map(str, args)]
    proc = subprocess.Popen(
        cmd,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        stdin=subprocess.DEVNULL,
        text=True,
        encoding="utf-8",
        errors="replace",
        env=child_env(env),
    )
    result = ChildResult(returncode=0)
    start = time.monotonic()
    assert proc.stdout is not None
    lines: queue.Queue[str | None] = queue.Queue()

    def pump(stream: Any) -> None:
        for raw in stream:
            lines.put(raw)
        lines.put(None)

    # A reader thread lets cancel and timeout act even while the child prints nothing
    # (DeepLabCut's import alone is 12-22 s of silence).
    threading.Thread(target=pump, args=(proc.stdout,), daemon=True).start()
    try:
        while True:
            if should_stop and should_stop():
                result.cancelled = True
                break
            if timeout is not None and time.monotonic() - start > timeout:
                raise TimeoutError(f"{' '.join(cmd[2:4])} took more than {timeout:.0f} s")
            try:
                raw = lines.get(timeout=0.2)
            except queue.Empty:
                continue
            if raw is None:
                break
            _dispatch(raw.rstrip("\n"), result, on_event, on_log)
    finally:
        if proc.poll() is None and (result.cancelled or sys.exc_info()[0] is not None):
            proc.terminate()
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()
        result.returncode = proc.wait()
    return result
