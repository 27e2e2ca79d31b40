"""Run a batch (:mod:`napari_dlcflow.core.batch`) from a napari thread worker.

:func:`batch_events` opens the cluster and runs
:func:`~napari_dlcflow.core.batch.runner.run_batch` in the worker's thread (never in the GUI
thread, so the viewer stays responsive) and yields what happens as plain dicts, which napari
delivers in the GUI thread where the dock updates its table. The job never touches a widget;
DeepLabCut runs in the analysis children of the cluster's workers.
"""

from __future__ import annotations

import contextlib
import os
import threading
from collections.abc import Callable, Iterator, Sequence
from dataclasses import asdict
from pathlib import Path
from typing import Any

from napari_dlcflow.widgets.common.jobs import stream

__all__ = ["RUN_ON", "batch_events"]

RUN_ON = {
    "local": "this machine (local Dask cluster)",
    "address": "scheduler address",
    "profile": "cluster profile",
}
"""Where a dock can run a batch: the key (what the dock stores) and what the user reads."""


def batch_events(
    where: str,
    tasks: Sequence[Any],
    stop: threading.Event,
    *,
    project_root: str | os.PathLike | None = None,
    n_workers: int | None = None,
    use_gpus: bool = False,
    summary_csv: str | os.PathLike | None = None,
    timeout: float = 20,
) -> Iterator[dict[str, Any]]:
    """Open the cluster ``where``, run ``tasks`` on it, close what was started; yield events.

    Parameters
    ----------
    where : str
        What :func:`~napari_dlcflow.core.batch.cluster.open_cluster` takes: ``"local"``, a
        scheduler address or a profile name.
    tasks : sequence of VideoTask
    stop : threading.Event
        Set it to cancel: queued tasks are dropped, running ones stop (see ``run_batch``).
    project_root : path-like, optional
        The project whose sidecar names the profiles.
    n_workers : int, optional
        Local cluster: workers.
    use_gpus : bool
        Local cluster: one worker per GPU when there are GPUs.
    summary_csv : path-like, optional
        Where the summary CSV is written.
    timeout : float
        Seconds to wait for a scheduler given by address.

    Yields
    ------
    dict
        ``{"event": "cluster", "description", "dashboard", "address"}`` once the cluster is
        open; ``{"event": "progress", "index", "row"}`` after every change of a video
        (``row``: the fields of ``VideoProgress``; ``index``: its task's position); the
        engine events a task passes on (``tracking``, ``tracking_stage``: see
        ``core.batch.tasks.RELAYED``) as they are, with their ``video``;
        ``{"event": "summary", "rows", "csv", "cancelled", "seconds"}`` at the end (after the
        cluster was closed).
    """
    from napari_dlcflow.core.batch.cluster import open_cluster
    from napari_dlcflow.core.batch.runner import run_batch

    with open_cluster(
        where,
        project_root=project_root,
        n_workers=n_workers,
        use_gpus=use_gpus,
        timeout=timeout,
    ) as opened:
        address = ""
        with contextlib.suppress(AttributeError):
            address = str(opened.client.scheduler.address)
        yield {
            "event": "cluster",
            "description": opened.description,
            "dashboard": opened.dashboard,
            "address": address,
        }
        for t in tasks:
            t.threads = opened.threads_per_task

        def work(emit: Callable[[Any], None]) -> Any:
            def changed(table: Any, row: Any) -> None:
                index = next(i for i, v in enumerate(table.videos) if v is row)
                emit({"event": "progress", "index": index, "row": asdict(row)})

            def note(msg: dict[str, Any]) -> None:
                if isinstance(msg.get("note"), dict):
                    emit({**msg["note"], "video": msg.get("video")})

            return run_batch(
                tasks,
                opened.client,
                on_progress=changed,
                on_event=note,
                should_stop=stop.is_set,
                summary_csv=summary_csv,
            )

        result = yield from stream(work)
    yield {
        "event": "summary",
        "rows": result.rows,
        "csv": str(Path(summary_csv)) if summary_csv is not None else None,
        "cancelled": result.cancelled,
        "seconds": result.seconds,
    }
