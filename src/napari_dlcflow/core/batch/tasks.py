"""The per-video tasks a batch runs on a Dask worker (or in a plain loop).

Each task does one video and is idempotent: a complete output is skipped, a partial one is done
again, and every output is written under a temporary name and renamed when complete (by the
functions called here), so a killed task never leaves a file that looks complete.

Completion per kind:

``analyze``
    Our marker beside DeepLabCut's h5 (:func:`~napari_dlcflow.core.engine.analysis.video_status`),
    checked in the analysis child.
``preprocess``
    :func:`preprocess_status`: the output, and its sidecar written *after* it (the sidecar is the
    completion marker of a preprocessed video), for the same source and the same settings.
``filter``, ``labeled``
    The output exists and is newer than the analysis file it was made from.

A task never raises for a bad video: it returns a result with ``state="failed"`` and the reason,
so that one video cannot stop the others. Progress goes to the client as worker events on the
topic :func:`topic` (``state``, ``frames_done``, ``frames_total``, ``fps``, ``worker``); a task
polls the batch's cancel flag (a ``distributed.Event`` named by :func:`cancel_name`).
"""

from __future__ import annotations

import contextlib
import os
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

__all__ = [
    "RELAYED",
    "VideoTask",
    "analysis_tasks",
    "cancel_name",
    "output_for",
    "preprocess_status",
    "run_task",
    "topic",
]

RELAYED = ("tracking", "tracking_stage")
"""Engine events of an analysis passed on to the client as notes (:meth:`_Reporter.relay`)."""
_EMIT_EVERY = 0.25  # seconds between two progress events of one task
_POLL_EVERY = 0.5  # seconds between two looks at the cancel flag


def topic(batch_id: str) -> str:
    """The worker-event topic that carries the progress of batch ``batch_id``."""
    return f"dlcflow-batch-{batch_id}"


def cancel_name(batch_id: str) -> str:
    """The name of the ``distributed.Event`` that cancels batch ``batch_id`` when set."""
    return f"dlcflow-cancel-{batch_id}"


@dataclass
class VideoTask:
    """One video's work.

    Attributes
    ----------
    kind : {"preprocess", "analyze", "filter", "labeled"}
    source : str
        The input: a video (preprocess, analyze, labeled) or a raw analysis h5 (filter).
    out_dir : str or None
        Output folder (preprocess: required; analyze: DLC's ``destfolder``, None beside the
        video; filter and labeled: beside the analysis file when None).
    params : dict
        ``preprocess``: :meth:`PreprocessSpec.to_dict`. ``analyze``: the fields of
        :class:`~napari_dlcflow.core.engine.analysis.AnalysisSpec` but ``videos`` (``config``
        is required) and ``pcutoff``. ``filter``: ``method`` and the filter's parameters,
        ``csv``, ``pcutoff`` (for the report; also the gap filler's). ``labeled``:
        ``analysis`` (default: the newest beside the video), ``filtered``,
        ``pcutoff``, ``skeleton``, ``trail_length``, ``codec``, ``crf``.
    batch_id : str
        Names the progress topic and the cancel flag ("" outside a batch).
    threads : int
        Encoder threads for preprocessing (1 on a worker that has one core; 0 the encoder's
        choice).
    """

    kind: str
    source: str
    out_dir: str | None = None
    params: dict[str, Any] = field(default_factory=dict)
    batch_id: str = ""
    threads: int = 1

    def __post_init__(self) -> None:
        from napari_dlcflow.core.batch import KINDS

        if self.kind not in KINDS:
            raise ValueError(f"unknown batch task {self.kind!r}; choose one of {KINDS}")
        if self.kind == "preprocess" and not self.out_dir:
            raise ValueError(f"{self.source}: preprocessing needs an output folder")
        if self.kind == "analyze" and not self.params.get("config"):
            raise ValueError(f"{self.source}: analysis needs the project's config.yaml")


def analysis_tasks(spec: Any) -> list[VideoTask]:
    """One analysis task per video of ``spec``: how the CLI's ``analyze --cluster`` and the
    Overlay dock build a batch.

    Parameters
    ----------
    spec : AnalysisSpec
        Its videos (each one task, in order) and its ``destfolder`` (each task's output
        folder; None beside each video); every other field goes to the task's params. Its
        shuffle and trainset index are resolved here, once
        (:meth:`~napari_dlcflow.core.engine.analysis.AnalysisSpec.resolved`), so every video
        of the batch is analysed by the same model and no worker resolves it again.

    Returns
    -------
    list of VideoTask
    """
    from dataclasses import asdict

    spec = spec.resolved()
    params = {k: v for k, v in asdict(spec).items() if k not in ("videos", "destfolder")}
    return [
        VideoTask("analyze", str(v), spec.destfolder, dict(params))
        for v in dict.fromkeys(str(v) for v in spec.videos)
    ]


# ------------------------------------------------------------------------------- completion


def preprocess_status(source: str | os.PathLike, out_dir: str | os.PathLike, spec: Any) -> str:
    """``"done"``, ``"partial"`` or ``"missing"`` for the preprocessed output of ``source``.

    ``done``: the output and its sidecar exist, the sidecar was written after the output (as
    :func:`~napari_dlcflow.core.video.preprocess.preprocess_video` does), names this source with
    its current size, and records the same contrast and output settings (and ROI, when one is
    given). Anything else under the output's name is ``partial``.
    """
    from napari_dlcflow.core.video.preprocess import (
        PreprocessError,
        output_path_for,
        read_sidecar,
    )
    from napari_dlcflow.core.video.source import parse_source_key

    ref = parse_source_key(source)  # a file, or a file with its channel/z/scene choice
    src = ref.path
    out = output_path_for(source, out_dir, spec)
    side = out.with_name(out.name + ".dlcflow.json")
    if not out.exists() and not side.exists():
        return "missing"
    try:
        used, record = read_sidecar(side)
        if side.stat().st_mtime_ns < out.stat().st_mtime_ns:
            return "partial"
    except (PreprocessError, OSError):
        return "partial"
    same = (
        record.get("source") == str(src.resolve())
        and (record.get("choice") or "") == (ref.choice or "")
        and (not src.is_file() or record.get("source_bytes") == src.stat().st_size)
        and used.contrast == spec.contrast
        and used.output == spec.output
        and (spec.roi is None or used.roi in (spec.roi, spec.roi.even()))
    )
    return "done" if same else "partial"


def output_for(task: VideoTask) -> Path | None:
    """Where ``task`` writes its output, when that is known before it runs (not for analysis,
    whose name carries the model's scorer)."""
    if task.kind == "preprocess":
        from napari_dlcflow.core.video.preprocess import PreprocessSpec, output_path_for

        assert task.out_dir is not None  # checked in __post_init__
        return output_path_for(task.source, task.out_dir, PreprocessSpec.from_dict(task.params))
    if task.kind == "filter":
        from napari_dlcflow.core.predictions.analysis_files import filtered_path

        return filtered_path(task.source)
    return None


def _newer(out: Path, than: Path) -> bool:
    try:
        return out.stat().st_mtime_ns >= than.stat().st_mtime_ns
    except OSError:
        return False


# ------------------------------------------------------------------------ worker plumbing


class _Reporter:
    """Sends a task's progress as worker events and polls the batch's cancel flag."""

    def __init__(self, task: VideoTask) -> None:
        self.task = task
        self.worker: Any = None
        self.name = f"local-{os.getpid()}"
        self._event: Any = None
        self._last_emit = 0.0
        self._last_poll = 0.0
        self._stopped = False
        self._first: tuple[float, int] | None = None  # (time, frames) of the first progress
        try:
            from distributed import get_worker

            self.worker = get_worker()
            self.name = str(self.worker.name)
        except (ImportError, ValueError):
            pass

    def send(self, state: str, done: int = 0, total: int = 0, **extra: Any) -> None:
        now = time.perf_counter()
        final = state != "running" or (total and done >= total)
        if not final and now - self._last_emit < _EMIT_EVERY:
            return
        if self._first is None and done:
            self._first = (now, done)
        self._last_emit = now
        if self.worker is None or not self.task.batch_id:
            return
        fps = 0.0
        if self._first is not None and now > self._first[0]:  # from the first frame on:
            fps = (done - self._first[1]) / (now - self._first[0])  # not the model's loading
        msg = {
            "video": self.task.source,
            "kind": self.task.kind,
            "state": state,
            "frames_done": int(done),
            "frames_total": int(total),
            "fps": round(fps, 2),
            "worker_name": self.name,  # the scheduler sets "worker" to the address
            "pid": os.getpid(),
            **extra,
        }
        with contextlib.suppress(Exception):  # progress must never fail the work
            self.worker.log_event(topic(self.task.batch_id), msg)

    def relay(self, event: dict[str, Any]) -> None:
        """Pass an engine event on to the client as it is (``note``), never throttled: what a
        user reads (the tracker chosen, each tracking stage done)."""
        if self.worker is None or not self.task.batch_id:
            return
        msg = {"video": self.task.source, "kind": self.task.kind, "note": dict(event)}
        with contextlib.suppress(Exception):  # a note must never fail the work
            self.worker.log_event(topic(self.task.batch_id), msg)

    def should_stop(self) -> bool:
        if self._stopped:
            return True
        if self.worker is None or not self.task.batch_id:
            return False
        now = time.perf_counter()
        if now - self._last_poll < _POLL_EVERY:
            return False
        self._last_poll = now
        try:
            if self._event is None:
                from distributed import Event

                self._event = Event(cancel_name(self.task.batch_id))
            self._stopped = bool(self._event.is_set())
        except Exception:
            return False
        return self._stopped


@contextlib.contextmanager
def _peak_memory() -> Iterator[dict[str, float]]:
    """Sample the resident memory of this process and its children; yields ``{"peak_mb"}``."""
    import psutil

    me = psutil.Process()
    out = {"peak_mb": 0.0}
    done = threading.Event()

    def sample() -> None:
        while True:
            rss = 0
            with contextlib.suppress(psutil.Error):
                rss = me.memory_info().rss
                for child in me.children(recursive=True):
                    with contextlib.suppress(psutil.Error):
                        rss += child.memory_info().rss
            out["peak_mb"] = max(out["peak_mb"], rss / 2**20)
            if done.wait(0.05):
                return

    thread = threading.Thread(target=sample, name="dlcflow-peak-memory", daemon=True)
    thread.start()
    try:
        yield out
    finally:
        done.set()
        thread.join(timeout=2)


def _likelihood_stats(h5: Path, pcutoff: float | None) -> tuple[float | None, float | None]:
    """Mean likelihood and the share of predictions below ``pcutoff`` in an analysis file."""
    import numpy as np

    from napari_dlcflow.core.predictions.analysis_files import read_predictions

    lk = read_predictions(h5, meta=False).likelihood
    if lk.size == 0 or np.isnan(lk).all():
        return None, None
    mean = float(np.nanmean(lk))
    below = None if pcutoff is None else float(np.mean(~(lk >= pcutoff)))
    return round(mean, 4), None if below is None else round(below, 4)


def _pcutoff(task: VideoTask, near: Path) -> float | None:
    if task.params.get("pcutoff") is not None:
        return float(task.params["pcutoff"])
    from napari_dlcflow.core.layers.style import display_settings

    config = task.params.get("config")
    if config:
        from napari_dlcflow.core.project.config import Project

        with contextlib.suppress(Exception):
            value = Project.open(config).get("pcutoff")
            return float(value) if value is not None else None
    return display_settings(near).pcutoff


# ------------------------------------------------------------------------------- the kinds


def _preprocess(task: VideoTask, rep: _Reporter, res: dict[str, Any]) -> None:
    from napari_dlcflow.core.safe_io import leftover_temporaries
    from napari_dlcflow.core.video.preprocess import (
        PreprocessCancelled,
        PreprocessSpec,
        output_path_for,
        preprocess_video,
        read_sidecar,
    )

    assert task.out_dir is not None
    spec = PreprocessSpec.from_dict(task.params)
    out = output_path_for(task.source, task.out_dir, spec)
    res["output"] = str(out)
    if preprocess_status(task.source, task.out_dir, spec) == "done":
        res["state"] = "skipped"
        res["frames"] = int(read_sidecar(out)[1].get("frames") or 0)
        return
    # a killed task leaves its hidden temporary file: this task owns the output, remove it
    for stale in leftover_temporaries(out):
        with contextlib.suppress(OSError):
            stale.unlink()
    frames = {"n": 0}

    def progress(done: int, total: int) -> None:
        frames["n"] = done
        rep.send("running", done, total)

    try:
        preprocess_video(
            task.source,
            task.out_dir,
            spec,
            on_progress=progress,
            should_stop=rep.should_stop,
            threads=task.threads,
            decode_threads=task.threads != 1,  # a one-core task decodes in one thread too
        )
    except PreprocessCancelled:
        res["state"] = "cancelled"
        return
    res["frames"] = frames["n"]
    res["state"] = "done"


def _analyze(task: VideoTask, rep: _Reporter, res: dict[str, Any]) -> None:
    from napari_dlcflow.core.engine.analysis import AnalysisSpec, analyze

    fields = {k: v for k, v in task.params.items() if k != "pcutoff"}
    fields.setdefault("destfolder", task.out_dir)
    spec = AnalysisSpec(videos=[task.source], **fields)
    frames = {"done": 0, "total": 0}

    def progress(_index: int, _n: int, done: int, total: int) -> None:
        frames["done"], frames["total"] = done, total
        rep.send("running", done, total)

    def relay(e: dict[str, Any]) -> None:
        if e.get("event") in RELAYED:
            rep.relay(e)

    result = analyze(spec, on_event=relay, on_progress=progress, should_stop=rep.should_stop)
    status = result.status.get(task.source, "not run")
    if rep.should_stop() and status not in ("done", "skipped"):
        res["state"] = "cancelled"
        return
    if status not in ("done", "skipped"):
        res["state"] = "failed"
        res["error"] = result.message or status
        return
    h5 = Path(result.outputs[task.source])
    res["state"] = status
    res["output"] = str(h5)
    res["frames"] = frames["total"] or _rows(h5)
    res["mean_likelihood"], res["below_pcutoff"] = _likelihood_stats(h5, _pcutoff(task, h5))


def _rows(h5: Path) -> int:
    from napari_dlcflow.core.predictions.analysis_files import read_predictions

    return read_predictions(h5, meta=False).n_frames


def _filter(task: VideoTask, rep: _Reporter, res: dict[str, Any]) -> None:
    from napari_dlcflow.core.predictions.filtering import filter_file

    src = Path(task.source)
    out = output_for(task)
    assert out is not None
    res["output"] = str(out)
    params = dict(task.params)
    method = params.pop("method", "median")
    csv = bool(params.pop("csv", False))
    cut = params.get("pcutoff")
    if method != "interpolate":
        params.pop("pcutoff", None)  # only the gap filler takes a p-cutoff; else for the report
    if out.is_file() and _newer(out, src):
        res["state"] = "skipped"
    else:
        rep.send("running", 0, 1)
        filter_file(src, method, csv=csv, overwrite=True, **params)
        res["state"] = "done"
    res["frames"] = _rows(out)
    res["mean_likelihood"], res["below_pcutoff"] = _likelihood_stats(
        out, float(cut) if cut is not None else _pcutoff(task, src)
    )


def _labeled(task: VideoTask, rep: _Reporter, res: dict[str, Any]) -> None:
    from napari_dlcflow.core.layers.labeled_video import default_output, render_labeled_video
    from napari_dlcflow.core.layers.style import display_settings
    from napari_dlcflow.core.predictions.analysis_files import find_analysis_files

    p = task.params
    if p.get("analysis"):
        analysis = Path(p["analysis"])
    else:
        found = find_analysis_files(task.source, filtered=bool(p.get("filtered")))
        if not found:
            kind = "filtered analysis" if p.get("filtered") else "analysis"
            raise FileNotFoundError(f"no {kind} file for {task.source} beside it")
        analysis = found[0]
    shown = display_settings(p.get("config") or analysis)
    skeleton, cut = shown.skeleton, shown.pcutoff
    if p.get("skeleton") is not None:
        skeleton = [tuple(e) for e in p["skeleton"]]
    pcutoff = float(p["pcutoff"]) if p.get("pcutoff") is not None else (cut or 0.6)
    out = default_output(analysis, pcutoff)
    if task.out_dir:
        out = Path(task.out_dir) / out.name
    res["output"] = str(out)
    res["mean_likelihood"], res["below_pcutoff"] = _likelihood_stats(analysis, pcutoff)
    if out.is_file() and _newer(out, analysis):
        res["state"] = "skipped"
        res["frames"] = _rows(analysis)
        return
    frames = {"n": 0}

    def progress(done: int, total: int) -> None:
        frames["n"] = done
        rep.send("running", done, total)

    Path(out).parent.mkdir(parents=True, exist_ok=True)
    made = render_labeled_video(
        task.source,
        analysis,
        out,
        pcutoff=pcutoff,
        skeleton=skeleton,
        trail_length=int(p.get("trail_length", 0)),
        codec=str(p.get("codec", "libx264")),
        crf=int(p.get("crf", 23)),
        on_progress=progress,
        should_stop=rep.should_stop,
    )
    res["state"] = "done" if made is not None else "cancelled"
    res["frames"] = frames["n"]


_KINDS: dict[str, Callable[[VideoTask, _Reporter, dict[str, Any]], None]] = {
    "preprocess": _preprocess,
    "analyze": _analyze,
    "filter": _filter,
    "labeled": _labeled,
}


def run_task(task: VideoTask) -> dict[str, Any]:
    """Do one video's work (on a Dask worker, or in the caller's process).

    Returns
    -------
    dict
        ``video``, ``kind``, ``state`` (``done``, ``skipped``, ``failed`` or ``cancelled``),
        ``frames``, ``seconds``, ``fps``, ``mean_likelihood`` and ``below_pcutoff`` (analysis
        output only, else None), ``output``, ``worker``, ``pid``, ``error`` and ``peak_mb``
        (resident memory of the worker process and its children, sampled every 50 ms).
    """
    rep = _Reporter(task)
    res: dict[str, Any] = {
        "video": task.source,
        "kind": task.kind,
        "state": "failed",
        "frames": 0,
        "seconds": 0.0,
        "fps": None,
        "mean_likelihood": None,
        "below_pcutoff": None,
        "output": None,
        "worker": rep.name,
        "pid": os.getpid(),
        "error": None,
        "peak_mb": None,
    }
    rep.send("started")
    t0 = time.perf_counter()
    with _peak_memory() as mem:
        try:
            _KINDS[task.kind](task, rep, res)
        except Exception as exc:  # one bad video must not stop the batch: report it
            res["state"] = "failed"
            res["error"] = f"{type(exc).__name__}: {exc}"
    if res["state"] not in ("done", "skipped"):
        res["output"] = None  # nothing complete was written
    res["seconds"] = round(time.perf_counter() - t0, 3)
    res["peak_mb"] = round(mem["peak_mb"], 1)
    if res["state"] == "done" and res["frames"] and res["seconds"] > 0:
        res["fps"] = round(res["frames"] / res["seconds"], 2)
    rep.send(res["state"], res["frames"], res["frames"], error=res["error"])
    return res
