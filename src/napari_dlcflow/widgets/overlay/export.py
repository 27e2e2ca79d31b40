"""Run a child process from a napari thread worker and stream its JSON events back.

The worker's generator yields each event; ``yielded`` is delivered in the GUI thread, where the
dock updates its progress bar. The worker never touches a widget or a layer.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator, Sequence
from typing import Any

from napari_dlcflow.core.jobs import run_child
from napari_dlcflow.widgets.common.jobs import stream


def child_events(args: Sequence[str], stop: threading.Event) -> Iterator[dict[str, Any]]:
    """Run ``python -m napari_dlcflow *args``; yield its events, then a final ``exit`` event.

    Parameters
    ----------
    args : sequence of str
        Subcommand and arguments.
    stop : threading.Event
        Set it to terminate the child.
    """
    try:
        result = yield from stream(
            lambda emit: run_child(list(args), on_event=emit, should_stop=stop.is_set)
        )
    except Exception as exc:  # reported through the final event
        yield {"event": "exit", "ok": False, "reason": f"{type(exc).__name__}: {exc}"}
        return
    yield {"event": "exit", "ok": result.ok, "reason": "" if result.ok else result.reason()}
