"""The client side of a batch: submit one task per video, follow them, cancel, summarise.

:func:`run_batch` submits every :class:`~napari_dlcflow.core.batch.tasks.VideoTask` to a
``distributed.Client``, turns the workers' progress events into a table of
:class:`VideoProgress` (state, frames done, frames/s, worker, error, attempts) that it hands to
``on_progress`` after every change, and returns a :class:`BatchResult` whose rows are the
summary (video, frames, frames/s, mean likelihood, share below p-cutoff, output path, ...),
saved as CSV with :func:`write_summary_csv` (atomically).

Cancelling (``should_stop`` returns True) sets the batch's cancel
flag, which running tasks poll (they stop within a second and remove their partial output), and
cancels the queued ones.
"""

from __future__ import annotations

import contextlib
import os
import queue
import time
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from napari_dlcflow.core.batch.tasks import VideoTask, cancel_name, run_task, topic

__all__ = [
    "SUMMARY_COLUMNS",
    "BatchProgress",
    "BatchResult",
    "VideoProgress",
    "default_summary_csv",
    "run_batch",
    "run_plain",
    "write_summary_csv",
]

SUMMARY_COLUMNS = (
    "video",
    "kind",
    "state",
    "frames",
    "fps",
    "mean_likelihood",
    "below_pcutoff",
    "output",
    "worker",
    "attempts",
    "seconds",
    "peak_mb",
    "error",
)
"""The columns of the summary table, in order (``fps``: frames per second of the task)."""

FINAL = ("done", "skipped", "failed", "cancelled")


@dataclass
class VideoProgress:
    """Where one video of a batch stands.

    Attributes
    ----------
    video : str
    kind : str
    state : {"queued", "running", "retrying", "done", "skipped", "failed", "cancelled"}
        ``retrying``: its worker was lost and the task starts again elsewhere.
    frames_done, frames_total : int
    fps : float
        Frames per second of the running task.
    worker : str
        The worker running it (last seen).
    error : str or None
    attempts : int
        How many times a worker started it.
    pid : int or None
        The worker process's id (last seen).
    output : str or None
        The complete output, once the task is done or skipped.
    """

    video: str
    kind: str
    state: str = "queued"
    frames_done: int = 0
    frames_total: int = 0
    fps: float = 0.0
    worker: str = ""
    error: str | None = None
    attempts: int = 0
    pid: int | None = None
    output: str | None = None


@dataclass
class BatchProgress:
    """The whole batch: one :class:`VideoProgress` per task, in order."""

    videos: list[VideoProgress]
    started: float = field(default_factory=time.monotonic)

    @property
    def finished(self) -> int:
        """Tasks in a final state."""
        return sum(v.state in FINAL for v in self.videos)

    @property
    def frames_done(self) -> int:
        return sum(v.frames_done for v in self.videos)

    @property
    def frames_total(self) -> int:
        return sum(v.frames_total for v in self.videos)

    @property
    def fps(self) -> float:
        """Frames per second of the whole batch so far."""
        dt = time.monotonic() - self.started
        return self.frames_done / dt if dt > 0 else 0.0


@dataclass
class BatchResult:
    """How a batch ended.

    Attributes
    ----------
    rows : list of dict
        One summary row per task, in order (keys :data:`SUMMARY_COLUMNS`).
    seconds : float
        Wall time.
    cancelled : bool
        Whether the batch was cancelled.
    batch_id : str
    """

    rows: list[dict[str, Any]]
    seconds: float = 0.0
    cancelled: bool = False
    batch_id: str = ""

    @property
    def ok(self) -> bool:
        """Whether every video is done or skipped."""
        return all(r["state"] in ("done", "skipped") for r in self.rows)

    def failed(self) -> list[dict[str, Any]]:
        """The rows of videos that failed."""
        return [r for r in self.rows if r["state"] == "failed"]

    def table(self) -> Any:
        """The summary as a pandas DataFrame."""
        import pandas as pd

        return pd.DataFrame(self.rows, columns=list(SUMMARY_COLUMNS))


def write_summary_csv(result: BatchResult, path: str | os.PathLike) -> Path:
    """Write the summary table as CSV, atomically (folder created if missing).

    Raises
    ------
    SaveError
        If the file cannot be written (the previous one is then unchanged).
    """
    from napari_dlcflow.core.safe_io import atomic_write

    out = Path(path)
    out.parent.mkdir(parents=True, exist_ok=True)
    atomic_write(out, result.table().to_csv(index=False), backup=False)
    return out


def default_summary_csv(tasks: Sequence[VideoTask]) -> Path:
    """Where a batch's summary goes unless told: ``batch-summary.csv`` in the first task's
    output folder, or beside its input when it writes beside its inputs."""
    if not tasks:
        raise ValueError("no task: nowhere to put the summary")
    first = tasks[0]
    return Path(first.out_dir or Path(first.source).parent) / "batch-summary.csv"


def _row(res: dict[str, Any], attempts: int) -> dict[str, Any]:
    row = {k: res.get(k) for k in SUMMARY_COLUMNS}
    row["attempts"] = attempts
    return row


def _failed_row(task: VideoTask, reason: str, attempts: int, state: str = "failed") -> dict:
    return _row(
        {"video": task.source, "kind": task.kind, "state": state, "frames": 0, "error": reason},
        attempts,
    )


def run_plain(
    tasks: Sequence[VideoTask],
    *,
    on_progress: Callable[[BatchProgress, VideoProgress], None] | None = None,
) -> BatchResult:
    """Run the tasks one after the other in this process (no Dask): the reference a batch's
    results are compared with, and the fallback where ``distributed`` is not installed."""
    t0 = time.monotonic()
    progress = BatchProgress([VideoProgress(t.source, t.kind) for t in tasks])
    rows = []
    for task, vp in zip(tasks, progress.videos, strict=True):
        vp.state, vp.attempts = "running", 1
        res = run_task(replace(task, batch_id=""))
        vp.state, vp.frames_done, vp.frames_total = res["state"], res["frames"], res["frames"]
        vp.error, vp.worker, vp.output = res["error"], res["worker"], res["output"]
        rows.append(_row(res, 1))
        if on_progress:
            on_progress(progress, vp)
    return BatchResult(rows=rows, seconds=time.monotonic() - t0)


def run_batch(
    tasks: Sequence[VideoTask],
    client: Any,
    *,
    on_progress: Callable[[BatchProgress, VideoProgress], None] | None = None,
    on_event: Callable[[dict[str, Any]], None] | None = None,
    should_stop: Callable[[], bool] | None = None,
    summary_csv: str | os.PathLike | None = None,
    timeout: float | None = None,
    poll: float = 0.1,
    grace: float = 15.0,
) -> BatchResult:
    """Run one task per video on the cluster of ``client`` and wait for all of them.

    Parameters
    ----------
    tasks : sequence of VideoTask
        One per video (their ``batch_id`` is replaced by this batch's).
    client : distributed.Client
        See :func:`~napari_dlcflow.core.batch.cluster.open_cluster`.
    on_progress : callable(BatchProgress, VideoProgress), optional
        Called in this thread after every change of a video (the table and the row that
        changed).
    on_event : callable(dict), optional
        Every progress event of the workers, as sent; engine events a task passes on
        (``tasks.RELAYED``) come as ``{"video", "kind", "note": event}``.
    should_stop : callable() -> bool, optional
        Polled every ``poll`` seconds; True cancels the batch.
    summary_csv : path-like, optional
        Also write the summary there (atomically).
    timeout : float, optional
        Seconds before the batch is cancelled.
    poll : float
        Seconds between two looks at the futures.
    grace : float
        Seconds running tasks get to stop after a cancel before their futures are dropped.

    Returns
    -------
    BatchResult
        Failed videos have ``state="failed"`` and the reason in ``error``; a lost worker's task
        is retried by the scheduler (see ``allowed_failures`` of ``open_cluster``), a task that
        lost too many is failed with ``KilledWorker`` as reason.
    """
    from distributed import Event

    t0 = time.monotonic()
    batch_id = uuid.uuid4().hex[:12]
    tasks = [replace(t, batch_id=batch_id) for t in tasks]
    progress = BatchProgress([VideoProgress(t.source, t.kind) for t in tasks])
    by_video: dict[str, list[int]] = {}
    for i, t in enumerate(tasks):
        by_video.setdefault(t.source, []).append(i)
    inbox: queue.SimpleQueue[dict[str, Any]] = queue.SimpleQueue()
    name = topic(batch_id)
    client.subscribe_topic(name, lambda ev: inbox.put(ev[1]))
    flag = Event(cancel_name(batch_id), client=client)
    futures = [
        client.submit(
            run_task,
            t,
            key=f"dlcflow-{t.kind}-{i:05d}-{batch_id}",
            pure=False,
            retries=0,
            priority=-i,
        )
        for i, t in enumerate(tasks)
    ]
    rows: list[dict[str, Any] | None] = [None] * len(tasks)
    cancelled = False
    cancel_at: float | None = None

    def changed(vp: VideoProgress) -> None:
        if on_progress is not None:
            on_progress(progress, vp)

    def take(msg: dict[str, Any]) -> None:
        if on_event is not None:
            on_event(msg)
        if "note" in msg:
            return  # an engine event passed on (the tracker chosen): no change of state
        idx = by_video.get(str(msg.get("video")), [])
        idx = [i for i in idx if tasks[i].kind == msg.get("kind")] or idx
        if not idx or rows[idx[0]] is not None:
            return  # late events of a finished task
        vp = progress.videos[idx[0]]
        state = str(msg.get("state"))
        if state == "started":
            vp.attempts += 1
            vp.state = "running" if vp.attempts == 1 else "retrying"
            vp.frames_done = 0
        elif state == "running":
            vp.state = "running" if vp.attempts <= 1 else "retrying"
        elif vp.state not in FINAL:
            vp.state = state
        vp.frames_done = int(msg.get("frames_done", vp.frames_done))
        vp.frames_total = int(msg.get("frames_total") or vp.frames_total)
        vp.fps = float(msg.get("fps") or vp.fps)
        vp.worker = str(msg.get("worker_name") or msg.get("worker") or vp.worker)
        vp.pid = msg.get("pid", vp.pid)
        if msg.get("error"):
            vp.error = str(msg["error"])
        changed(vp)

    def cancel() -> None:
        nonlocal cancelled, cancel_at
        cancelled, cancel_at = True, time.monotonic()
        with contextlib.suppress(Exception):
            flag.set()
        queued = [
            f
            for f, vp in zip(futures, progress.videos, strict=True)
            if not f.done() and vp.attempts == 0
        ]
        client.cancel(queued)

    try:
        while True:
            while True:
                try:
                    take(inbox.get_nowait())
                except queue.Empty:
                    break
            for i, f in enumerate(futures):
                if rows[i] is not None or not f.done():
                    continue
                vp = progress.videos[i]
                attempts = max(1, vp.attempts)
                if f.status == "finished":
                    res = f.result()
                    rows[i] = _row(res, attempts)
                    vp.state, vp.error, vp.output = res["state"], res["error"], res["output"]
                    vp.worker = str(res.get("worker") or vp.worker)
                    vp.frames_done = vp.frames_total = int(res["frames"] or 0)
                elif f.status == "cancelled":
                    rows[i] = _failed_row(tasks[i], "cancelled", vp.attempts, "cancelled")
                    vp.state = "cancelled"
                else:
                    exc = f.exception()
                    reason = f"{type(exc).__name__}: {exc}"
                    rows[i] = _failed_row(tasks[i], reason, attempts)
                    vp.state, vp.error = "failed", reason
                changed(vp)
            if all(r is not None for r in rows):
                break
            now = time.monotonic()
            if not cancelled and (
                (should_stop is not None and should_stop())
                or (timeout is not None and now - t0 > timeout)
            ):
                cancel()
            if cancelled and cancel_at is not None and now - cancel_at > grace:
                client.cancel([f for f in futures if not f.done()])
                cancel_at = None
            time.sleep(poll)
    except BaseException:
        with contextlib.suppress(Exception):
            flag.set()
            client.cancel(futures)
        raise
    finally:
        with contextlib.suppress(Exception):
            client.unsubscribe_topic(name)
    result = BatchResult(
        rows=[r for r in rows if r is not None],
        seconds=time.monotonic() - t0,
        cancelled=cancelled,
        batch_id=batch_id,
    )
    if summary_csv is not None:
        write_summary_csv(result, summary_csv)
    return result
