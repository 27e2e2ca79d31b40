"""Video analysis with a trained DeepLabCut model, in a child process, resumable.

:func:`analyze` runs the engine task ``analyze`` (``python -m napari_dlcflow _engine analyze
<spec.json>``, :mod:`~napari_dlcflow.core.engine.tasks`); the child imports
deeplabcut and runs ``deeplabcut.analyze_videos`` one video at a time, so that DLC writes its own
output (``<stem><scorer>.h5``, ``_meta.pickle``, ``_full.pickle``, ``.csv`` on request) and every
DLC tool reads it. The viewer's process never imports deeplabcut.

Resuming (FAULTS 25): DeepLabCut treats a video as analysed when its ``_full.pickle`` exists, and
a run killed between writing that pickle and the h5 (or while writing the h5) leaves a partial
output that DLC then skips for good. We write a completion marker of our own,
``<stem><scorer>.dlcflow-analysis.json``, only after DLC returned *and* the h5 has exactly one
row per frame of the video; it records the h5's size and modification time. A video counts as
done only when its marker matches its h5. Anything else found (h5, pickles without a matching
marker) is a partial output: the video is analysed again with ``overwrite=True``, never
reported as done.

Sources that are not plain videos (a microscopy file with its channel/z/scene choice, a TIFF
stack): ``spec.videos`` holds their ``video_sets`` keys
(:func:`~napari_dlcflow.core.video.source.source_key`); our engine reads them through their
frame source and names the outputs with the choice, beside the file
(``cells_C1DLC_<scorer>.h5``). DeepLabCut's own loop reads videos with OpenCV and cannot read
them: asking for it (``engine="dlc"``, or a model that falls back to it, or multi-animal
tracking) fails that source with a message saying so.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from napari_dlcflow.core.engine import inference
from napari_dlcflow.core.engine.tracking import TrackingError, TrackingSpec, track_video
from napari_dlcflow.core.predictions.analysis_files import output_files
from napari_dlcflow.core.video.reader import VIDEO_SUFFIXES, count_frames
from napari_dlcflow.core.video.source import SourceRef, parse_source_key

__all__ = [
    "ENGINES",
    "HEAP_ENV",
    "MARKER_SUFFIX",
    "AnalysisResult",
    "AnalysisSpec",
    "IncompleteAnalysisError",
    "analyze",
    "analyze_here",
    "count_frames",
    "mark_complete",
    "marker_path",
    "output_folder",
    "parse_progress",
    "run_in_child",
    "source_frames",
    "video_status",
]

MARKER_SUFFIX = ".dlcflow-analysis.json"
#: The marker's name before 0.1.0 (the same suffix as the preprocessing sidecar): still read.
LEGACY_MARKER_SUFFIX = ".dlcflow.json"
ENGINES = ("dlcflow", "dlc")
_TQDM = re.compile(r"(\d+)/(\d+) \[")

#: glibc allocator settings of the analysis child (both engines; same results). The model's
#: per-batch activation buffers (tens to hundreds of MB) would otherwise be fresh mappings that
#: page-fault on every batch: ``MALLOC_MMAP_MAX_=0`` takes them from the heap, and the trim
#: threshold keeps the freed heap instead of handing it back to the kernel after each batch
#: (with the first alone this machine still took 320,000 page faults per 48 frames). The child
#: is short-lived, so a heap that never shrinks costs nothing. ANALYSIS-FACTS.md, and
#: docs/analysis-engine.md for the measurements.
HEAP_ENV = {"MALLOC_MMAP_MAX_": "0", "MALLOC_TRIM_THRESHOLD_": str(1 << 40)}


def parse_progress(line: str) -> tuple[int, int] | None:
    """Frames done and total from one of DeepLabCut's progress-bar lines (tqdm), if it is one."""
    m = _TQDM.search(line)
    return (int(m.group(1)), int(m.group(2))) if m else None


class IncompleteAnalysisError(RuntimeError):
    """An analysis output does not cover every frame of its video."""


@dataclass
class AnalysisSpec:
    """What to analyse and how.

    Attributes
    ----------
    config : str
        The project's ``config.yaml``.
    videos : list of str
        Videos to analyse.
    shuffle, trainset_index : int or None
        Which trained model (None: the last dataset creation's,
        :func:`~napari_dlcflow.core.engine.dataset.resolve_shuffle`).
    snapshot_index : int or str or None
        Which snapshot (None: the config's ``snapshotindex``; ``-1`` the last; ``"best"``).
    device : str or None
        ``"cpu"``, ``"cuda"``, ``"cuda:1"``, ... (None: the model's setting, DLC's ``auto``).
    batch_size : int or None
        Frames per batch (None: the config's ``batch_size``).
    save_as_csv : bool
        Also write the ``.csv``.
    destfolder : str or None
        Output folder (None: beside each video, DLC's default).
    cropping : list of int or None
        ``[x1, x2, y1, y2]``: analyse only this region of every frame (DLC's ``cropping``).
    engine : str
        ``"dlcflow"`` (default): our pipeline over DLC's model (:mod:`.inference`), same
        predictions, faster; models it does not support fall back to DLC's loop with an
        ``engine_fallback`` event. ``"dlc"``: DeepLabCut's ``analyze_videos``.
    fast : bool
        dlcflow engine only: half-precision autocast (bf16 on a CPU, fp16 on a GPU). Not the
        same predictions: a ``fast_report`` event first says how far they move on the
        project's labeled frames.
    tracking : dict or None
        Multi-animal projects: the fields of
        :class:`~napari_dlcflow.core.engine.tracking.TrackingSpec` (None: its defaults). Each
        video is detected, tracked and stitched (:func:`~.tracking.track_video`), and its
        output is DeepLabCut's tracked ``<stem><scorer>_el.h5``. Ignored for one animal.
    """

    config: str
    videos: list[str]
    shuffle: int | None = None
    trainset_index: int | None = None
    snapshot_index: int | str | None = None
    device: str | None = None
    batch_size: int | None = None
    save_as_csv: bool = False
    destfolder: str | None = None
    cropping: list[int] | None = None
    engine: str = "dlcflow"
    fast: bool = False
    tracking: dict[str, Any] | None = None

    def __post_init__(self) -> None:
        if self.engine not in ENGINES:
            raise ValueError(f"engine must be one of {', '.join(ENGINES)}, not {self.engine!r}")
        if self.tracking is not None:  # checked here, so a bad setting fails before a child
            self.tracking = TrackingSpec.from_dict(self.tracking).to_dict()
        if self.fast and self.engine != "dlcflow":
            raise ValueError("the fast mode is a mode of the dlcflow engine, not of DLC's loop")

    def to_json(self) -> str:
        return json.dumps(asdict(self))

    @classmethod
    def from_json(cls, text: str) -> AnalysisSpec:
        return cls(**json.loads(text))

    def resolved(self) -> AnalysisSpec:
        """A copy whose shuffle and trainset index are set (the last dataset's by default).

        A config that cannot be read leaves them as they are: DeepLabCut then names the
        config in its error.
        """
        from dataclasses import replace

        from napari_dlcflow.core.engine.dataset import resolve_shuffle

        try:
            shuffle, index = resolve_shuffle(self.config, self.shuffle, self.trainset_index)
        except (OSError, ValueError):
            return self
        return replace(self, shuffle=shuffle, trainset_index=index)


@dataclass
class AnalysisResult:
    """How an analysis run ended.

    Attributes
    ----------
    status : dict of str to str
        Per video: ``done`` (analysed now), ``skipped`` (already complete), ``incomplete``
        (DLC returned but the output misses frames), ``failed``, or ``not run`` (cancelled or
        the child died before reaching it).
    outputs : dict of str to str
        Per finished video, its h5.
    scorer : str or None
        The model's scorer name.
    ok : bool
        Whether every video is done or skipped.
    message : str
        A short explanation when not ok.
    """

    status: dict[str, str] = field(default_factory=dict)
    outputs: dict[str, str] = field(default_factory=dict)
    scorer: str | None = None
    ok: bool = False
    message: str = ""


# ------------------------------------------------------------------------- output bookkeeping
def _plain_video(ref: SourceRef) -> bool:
    """True for a video file DeepLabCut's own loop can read (no choice, a video suffix)."""
    return not ref.choice and ref.path.suffix.lower() in VIDEO_SUFFIXES


def source_frames(video: str | os.PathLike | SourceRef) -> int:
    """The exact frame count of a video (:func:`count_frames`) or of another source (its
    frame source's length, the choice applied)."""
    ref = parse_source_key(video)
    if _plain_video(ref):
        return count_frames(ref.path)
    with ref.open() as src:
        return len(src)


def output_folder(
    video: str | os.PathLike | SourceRef, destfolder: str | os.PathLike | None = None
) -> Path:
    """Where the outputs of ``video`` go: ``destfolder``, else beside the file (for a
    ``video_sets`` key with a choice, beside the file it names)."""
    return Path(destfolder) if destfolder is not None else parse_source_key(video).path.parent


def marker_path(
    video: str | os.PathLike, scorer: str, destfolder: str | os.PathLike | None = None
) -> Path:
    """Our completion marker ``<stem><scorer>.dlcflow-analysis.json`` beside DLC's output
    (``<stem>`` with the choice for a source that has one: ``cells_C1``)."""
    ref = parse_source_key(video)
    return output_folder(ref, destfolder) / f"{ref.stem}{scorer}{MARKER_SUFFIX}"


def _marker_to_read(
    video: str | os.PathLike, scorer: str, destfolder: str | os.PathLike | None
) -> Path:
    """The marker as written now, or one written under the old name by an earlier version."""
    marker = marker_path(video, scorer, destfolder)
    legacy = marker.with_name(marker.name.removesuffix(MARKER_SUFFIX) + LEGACY_MARKER_SUFFIX)
    return legacy if not marker.is_file() and legacy.is_file() else marker


def _h5_rows(path: Path) -> int:
    import pandas as pd

    with pd.HDFStore(path, mode="r") as store:
        key = "df_with_missing" if "/df_with_missing" in store.keys() else store.keys()[0]  # noqa: SIM118
        storer = store.get_storer(key)
        return int(storer.nrows) if storer.is_table else len(store.get(key))


def mark_complete(
    video: str | os.PathLike,
    scorer: str,
    destfolder: str | os.PathLike | None = None,
    *,
    n_frames: int | None = None,
    snapshot: str | None = None,
    extra: dict[str, Any] | None = None,
    h5: str | os.PathLike | None = None,
) -> Path:
    """Check that the h5 of ``video`` has one row per frame and write the completion marker.

    Parameters
    ----------
    video : path-like
        The analysed video.
    scorer : str
        The scorer in the output's name.
    destfolder : path-like, optional
        Where the output is (default: beside the video).
    n_frames : int, optional
        The video's frame count (default: :func:`count_frames`).
    snapshot : str, optional
        The snapshot file the model was loaded from, recorded so that a later model whose
        scorer name happens to be the same (another iteration, same epoch) is not taken for it.
    extra : dict, optional
        More facts to record (the engine, the precision, the header's frame count).
    h5 : path-like, optional
        The output to check when it is not DeepLabCut's plain ``<stem><scorer>.h5`` (a
        multi-animal tracked ``_el.h5``); its name is recorded and :func:`video_status` checks
        it.

    Returns
    -------
    Path
        The marker, written atomically.

    Raises
    ------
    FileNotFoundError
        If the h5 does not exist.
    IncompleteAnalysisError
        If its row count differs from the frame count, or it cannot be read.
    """
    from napari_dlcflow.core.safe_io import atomic_write

    ref = parse_source_key(video)
    dest = output_folder(ref, destfolder)
    h5 = Path(h5) if h5 is not None else output_files(ref.key, scorer, dest)["h5"]
    if not h5.is_file():
        raise FileNotFoundError(f"analysis output {h5} does not exist")
    expected = source_frames(ref) if n_frames is None else int(n_frames)
    try:
        rows = _h5_rows(h5)
    except Exception as exc:
        raise IncompleteAnalysisError(f"{h5} cannot be read: {exc}") from exc
    if rows != expected:
        raise IncompleteAnalysisError(
            f"{h5} has {rows} rows but {ref.path.name}"
            f"{f' ({ref.choice})' if ref.choice else ''} has {expected} frames"
        )
    st = h5.stat()
    marker = marker_path(ref, scorer, dest)
    record = {
        "video": str(ref.path.resolve()),
        **({"choice": ref.choice} if ref.choice else {}),
        "video_size": _size(ref.path),
        "h5": h5.name,
        "h5_size": st.st_size,
        "h5_mtime_ns": st.st_mtime_ns,
        "rows": rows,
        "frames": expected,
        "scorer": scorer,
        "snapshot": snapshot,
        **(extra or {}),
    }
    atomic_write(marker, json.dumps(record, indent=1), backup=False)
    return marker


def _size(path: Path) -> int:
    """A file's size; a folder's (OME-Zarr) total size of its files."""
    if path.is_dir():
        return sum(f.stat().st_size for f in path.rglob("*") if f.is_file())
    return path.stat().st_size


def video_status(
    video: str | os.PathLike,
    scorer: str,
    destfolder: str | os.PathLike | None = None,
    *,
    snapshot: str | None = None,
    tracking: dict[str, Any] | None = None,
) -> str:
    """``"done"``, ``"partial"``, ``"stale"`` or ``"missing"`` for one video and scorer.

    ``done`` needs our marker to match the h5 (size and modification time) and the video (its
    size: a video replaced by another under the same name is analysed again; copies keep their
    size, so a project copied elsewhere is not), and the marker to record as many rows as
    frames. Any output file without that is ``partial``. ``stale``: a
    complete output of another snapshot with the same scorer name (DeepLabCut's names do not
    carry the iteration, so iteration 1's ``snapshot-best-020`` writes where iteration 0's did);
    it is analysed again. ``tracking``: the settings a multi-animal output must have been
    tracked with (else it is ``partial``, and only its tracking is redone).
    """
    ref = parse_source_key(video)
    destfolder = output_folder(ref, destfolder)
    files = output_files(ref.key, scorer, destfolder)
    marker = _marker_to_read(ref, scorer, destfolder)
    if marker.is_file():
        try:
            record = json.loads(marker.read_text(encoding="utf-8"))
            h5 = marker.with_name(str(record.get("h5") or files["h5"].name))
            st = h5.stat()
            same_video = "video_size" not in record or (  # markers before 2026-12-07
                record["video_size"] == _size(ref.path)
            )
            if (
                same_video
                and record.get("h5_size") == st.st_size
                and record.get("h5_mtime_ns") == st.st_mtime_ns
                and record.get("rows") == record.get("frames")
            ):
                made_by = record.get("snapshot")
                if snapshot is not None and made_by is not None and made_by != snapshot:
                    return "stale"
                if tracking is not None and record.get("tracking") != tracking:
                    return "partial"  # other tracking settings: tracking is redone
                return "done"
        except (OSError, ValueError, AttributeError):
            pass
    if marker.exists() or any(p.exists() for p in files.values()):
        return "partial"
    return "missing"


# ------------------------------------------------------------------------------- the parent


def analyze(
    spec: AnalysisSpec,
    *,
    on_event: Callable[[dict[str, Any]], None] | None = None,
    on_progress: Callable[[int, int, int, int], None] | None = None,
    on_log: Callable[[str], None] | None = None,
    should_stop: Callable[[], bool] | None = None,
    timeout: float | None = None,
) -> AnalysisResult:
    """Analyse videos in a child process and report progress.

    Parameters
    ----------
    spec : AnalysisSpec
        What to analyse.
    on_event : callable, optional
        Called with each JSON event of the child (``scorer``, which also gives the ``heap``
        allocator settings the child runs with; ``video_start``, ``video_done``,
        ``video_skipped``, ``video_incomplete``, ``video_failed``, ``done``, ``error``; with
        our engine also ``frames`` (``done``, ``total``, ``fps``), ``engine_fallback``,
        ``fast_report`` and ``fast_unavailable``).
    on_progress : callable, optional
        ``on_progress(video_index, n_videos, frames_done, frames_total)``; frames come from
        our engine's ``frames`` events or DeepLabCut's progress bar (0, 0 when unknown).
    on_log : callable, optional
        Every other output line of the child.
    should_stop : callable, optional
        Polled between output lines; True terminates the child. The video being analysed then
        stays unfinished (no marker) and is redone next time.
    timeout : float, optional
        Seconds before the child is terminated.

    Returns
    -------
    AnalysisResult
    """
    from napari_dlcflow.core.engine.tasks import run_task

    spec = spec.resolved()
    result = AnalysisResult(status={str(v): "not run" for v in spec.videos})
    current = {"index": 0, "n": len(spec.videos)}

    def event(e: dict[str, Any]) -> None:
        kind = e.get("event")
        video = str(e.get("video", ""))
        if kind == "scorer":
            result.scorer = e.get("scorer")
        elif kind == "video_start":
            current["index"] = int(e.get("index", 0))
            if on_progress:
                on_progress(current["index"], current["n"], 0, int(e.get("frames", 0)))
        elif kind in ("video_done", "video_skipped"):
            result.status[video] = "done" if kind == "video_done" else "skipped"
            result.outputs[video] = str(e.get("h5"))
        elif kind == "frames" and on_progress:
            on_progress(current["index"], current["n"], int(e["done"]), int(e["total"]))
        elif kind == "video_incomplete":
            result.status[video] = "incomplete"
        elif kind == "video_failed":
            result.status[video] = "failed"
        if on_event:
            on_event(e)

    def log(line: str) -> None:
        frames = parse_progress(line)
        if frames and on_progress:
            on_progress(current["index"], current["n"], *frames)
        if on_log:
            on_log(line)

    child = run_task(
        "analyze",
        **asdict(spec),
        on_event=event,
        on_log=log,
        should_stop=should_stop,
        timeout=timeout,
        env=HEAP_ENV,
    )
    result.ok = child.ok and all(s in ("done", "skipped") for s in result.status.values())
    if not result.ok:
        bad = [
            f"{Path(v).name}: {s}"
            for v, s in result.status.items()
            if s not in ("done", "skipped")
        ]
        result.message = (child.reason() if not child.ok else "") + (
            (" | " if not child.ok and bad else "") + ", ".join(bad)
        )
    return result


# -------------------------------------------------------------------------------- the child


def _dlc_scorer(spec: AnalysisSpec) -> str:
    """The scorer name DeepLabCut will use (needs deeplabcut; child only)."""
    return _dlc_model(spec)[0]


def _dlc_model(spec: AnalysisSpec) -> tuple[str, str]:
    """The scorer name DeepLabCut will use and the snapshot file (child only)."""
    from deeplabcut.pose_estimation_pytorch.apis import utils
    from deeplabcut.pose_estimation_pytorch.data import DLCLoader

    loader = DLCLoader(spec.config, trainset_index=spec.trainset_index, shuffle=spec.shuffle)
    index, _ = utils.parse_snapshot_index_for_analysis(
        loader.project_cfg, loader.model_cfg, spec.snapshot_index, None
    )
    snapshot = utils.get_model_snapshots(index, loader.model_folder, loader.pose_task)[0]
    return loader.scorer(snapshot), str(Path(snapshot.path).resolve())


def analyze_here(**spec: Any) -> int:
    """Engine task ``analyze``: :func:`run_in_child` of the spec given as keyword arguments."""
    return run_in_child(AnalysisSpec(**spec))


def run_in_child(spec: AnalysisSpec) -> int:
    """The body of the task ``analyze``: analyse each video not yet complete; emit events."""
    from napari_dlcflow.core.engine.tasks import EngineError
    from napari_dlcflow.core.jobs import emit

    if spec.device and spec.device.startswith("cuda"):
        import torch

        if not torch.cuda.is_available():
            raise EngineError(f"device {spec.device!r} asked for, but no CUDA GPU is visible")
    spec = spec.resolved()
    import deeplabcut

    tracking, n_individuals = _tracking_of(spec)
    engine = None
    if spec.engine == "dlcflow":  # our pipeline; None when the model needs DLC's loop
        engine = engine_for(spec)
    scorer, snapshot = (engine.scorer, engine.snapshot) if engine else _dlc_model(spec)
    emit(
        "scorer",
        scorer=scorer,
        snapshot=snapshot,
        engine="dlcflow" if engine else "dlc",
        heap={k: os.environ.get(k) for k in HEAP_ENV},  # the allocator settings it runs with
    )
    if engine is not None and engine.fast:
        report = inference.fast_mode_report(engine)
        emit("fast_report", message=report.summary(), **report.as_dict())
    recorded = None
    if tracking is not None:
        recorded = tracking.to_dict()
        emit("tracking", message=tracking.describe(n_individuals), **recorded)
    failures = 0
    for i, video in enumerate(spec.videos):
        ref = parse_source_key(video)
        dest = str(output_folder(ref, spec.destfolder))
        files = output_files(ref.key, scorer, dest)
        if tracking is not None:
            files["h5"] = output_files(ref.key, scorer, dest, tracker=tracking.tracker)["tracks"]
        status = video_status(video, scorer, dest, snapshot=snapshot, tracking=recorded)
        if status == "done":
            emit("video_skipped", video=video, index=i, h5=str(files["h5"]))
            continue
        if not _plain_video(ref) and (engine is None or tracking is not None):
            failures += 1
            loop = "multi-animal tracking" if tracking is not None else "DeepLabCut's own loop"
            emit(
                "video_failed",
                video=video,
                message=f"{ref.path}{f' ({ref.choice})' if ref.choice else ''}: {loop} reads "
                "videos with OpenCV and cannot read this source (a microscopy file, TIFF stack "
                "or channel choice); analyse it with the dlcflow engine (engine='dlcflow'), "
                "or convert it to a video first",
            )
            continue
        try:
            n_frames = source_frames(ref)
        except Exception as exc:
            failures += 1
            emit("video_failed", video=video, message=f"{type(exc).__name__}: {exc}")
            continue
        redo = status in ("partial", "stale")
        emit(
            "video_start",
            video=video,
            index=i,
            frames=n_frames,
            redo=redo,
            stale=status == "stale",
        )
        _marker_to_read(video, scorer, dest).unlink(missing_ok=True)
        marker_path(video, scorer, dest).unlink(missing_ok=True)
        kwargs: dict[str, Any] = {
            "shuffle": spec.shuffle,
            "trainingsetindex": spec.trainset_index,
            "save_as_csv": spec.save_as_csv,
            "destfolder": spec.destfolder,
            "overwrite": True,
            "auto_track": False,
        }
        if spec.snapshot_index is not None:
            kwargs["snapshot_index"] = spec.snapshot_index
        if spec.device:
            kwargs["device"] = spec.device
        if spec.batch_size:
            kwargs["batch_size"] = spec.batch_size
        if spec.cropping:
            kwargs["cropping"] = list(spec.cropping)
        extra: dict[str, Any] = {"engine": "dlc"}
        try:
            if tracking is not None:
                track_video(
                    config=spec.config,
                    video=video,
                    scorer=scorer,
                    spec=tracking,
                    shuffle=spec.shuffle,
                    trainset_index=spec.trainset_index,
                    destfolder=spec.destfolder,
                    n_frames=n_frames,
                    detect_kwargs={
                        k: v
                        for k, v in kwargs.items()
                        if k not in ("shuffle", "trainingsetindex", "destfolder", "overwrite")
                        and k != "auto_track"
                    },
                    emit=emit,
                )
                extra["tracking"] = recorded
                used = scorer
            elif engine is not None:
                n_frames, extra = analyze_for(engine, spec, video, i)
                used = scorer
            else:
                used = deeplabcut.analyze_videos(spec.config, [video], **kwargs)
        except TrackingError as exc:
            failures += 1
            emit("video_failed", video=video, message=str(exc))
            continue
        except Exception as exc:
            failures += 1
            emit("video_failed", video=video, message=f"{type(exc).__name__}: {exc}")
            continue
        if used and used != scorer:  # should not happen; trust what DLC says it wrote
            scorer = used
            files = output_files(ref.key, scorer, dest)
        try:
            mark_complete(
                video,
                scorer,
                dest,
                n_frames=n_frames,
                snapshot=snapshot,
                extra=extra,
                h5=files["h5"],
            )
        except (IncompleteAnalysisError, FileNotFoundError) as exc:
            failures += 1
            emit("video_incomplete", video=video, message=str(exc))
            continue
        emit("video_done", video=video, index=i, h5=str(files["h5"]), frames=n_frames)
    emit("done", failures=failures)
    return 1 if failures else 0


def _tracking_of(spec: AnalysisSpec) -> tuple[TrackingSpec | None, int | None]:
    """The tracking settings of a multi-animal project's analysis (None for one animal) and
    the number of individuals in its config."""
    from napari_dlcflow.core.project.config import Project

    try:
        project = Project.open(spec.config)
    except (OSError, ValueError):
        return None, None  # DeepLabCut names the config in its own error
    if not project.multianimal:
        return None, None
    return TrackingSpec.from_dict(spec.tracking), len(project.individuals) or None


# ---------------------------------------------------------------- our engine for a spec
def engine_for(spec: AnalysisSpec) -> inference.EngineModel | None:
    """The model of an analysis spec for our engine, or None (after an ``engine_fallback``
    event) when it is a kind of model that needs DeepLabCut's loop."""
    from napari_dlcflow.core.jobs import emit

    try:
        model = inference.load_model(
            spec.config,
            shuffle=spec.shuffle,
            trainset_index=spec.trainset_index,
            snapshot_index=spec.snapshot_index,
            device=spec.device,
            batch_size=spec.batch_size,
            fast=spec.fast,
        )
    except inference.UnsupportedModelError as exc:
        emit("engine_fallback", engine="dlc", message=f"{exc}; using DeepLabCut's loop")
        return None
    if model.fast_unavailable:
        emit("fast_unavailable", message=model.fast_unavailable)
    return model


def analyze_for(
    model: inference.EngineModel, spec: AnalysisSpec, video: str, index: int
) -> tuple[int, dict[str, Any]]:
    """Analyse one video of ``spec``, reporting ``frames`` events.

    Returns
    -------
    rows : int
        Frames decoded and analysed (what the marker checks the h5 against).
    extra : dict
        Facts for the completion marker: engine, precision, decoded and header frame counts.
    """
    from napari_dlcflow.core.jobs import emit

    def progress(done: int, total: int, fps: float) -> None:
        emit("frames", video=video, index=index, done=done, total=total, fps=round(fps, 2))

    run = inference.analyze_video(
        model,
        video,
        destfolder=spec.destfolder,
        cropping=spec.cropping,
        save_as_csv=spec.save_as_csv,
        on_progress=progress,
    )
    extra = {
        "engine": "dlcflow",
        "precision": model.precision,
        "winograd_layers": len(model.winograd),
        "decoded_frames": run.rows,
        "header_frames": run.header_frames,
        "seconds": round(run.seconds, 3),
        "preprocess": run.preprocess,
    }
    return run.rows, extra
