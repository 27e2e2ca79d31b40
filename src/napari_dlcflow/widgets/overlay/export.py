"""Run a child process from a napari thread worker and stream its JSON events back.

The worker's generator yields each event; ``yielded`` is delivered in the GUI thread, where the
dock updates its progress bar. The worker never touches a widget or a layer.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Iterator, Sequence
from typing import Any

from napari_dlcflow.core.jobs import ChildResult, run_child


def child_events(
    args: Sequence[str], stop: threading.Event, *, logs: bool = False
) -> Iterator[dict[str, Any]]:
    """Run ``python -m napari_dlcflow *args``; yield its events, then a final ``exit`` event.

    Parameters
    ----------
    args : sequence of str
        Subcommand and arguments.
    stop : threading.Event
        Set it to terminate the child.
    logs : bool
        Also yield every other output line as ``{"event": "log", "line": ...}``.
    """
    events: queue.Queue[dict[str, Any]] = queue.Queue()
    box: dict[str, ChildResult | BaseException] = {}

    def target() -> None:
        try:
            box["result"] = run_child(list(args), on_event=events.put, should_stop=stop.is_set)
        except BaseException as exc:  # reported through the final event
            box["result"] = exc

    thread = threading.Thread(target=target, daemon=True)
    thread.start()
    while thread.is_alive() or not events.empty():
        try:
            yield events.get(timeout=0.1)
        except queue.Empty:
            continue
    result = box.get("result")
    if isinstance(result, BaseException):
        yield {"event": "exit", "ok": False, "reason": f"{type(result).__name__}: {result}"}
    elif isinstance(result, ChildResult):
        yield {"event": "exit", "ok": result.ok, "reason": "" if result.ok else result.reason()}
