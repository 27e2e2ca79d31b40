"""Tracking several animals: DeepLabCut's detections, tracklets and stitched tracks, resumable.

A multi-animal analysis runs DeepLabCut's three stages one video at a time, each writing
DeepLabCut's own files with DeepLabCut's names, so that every DLC tool reads them:

1. **detections**: ``deeplabcut.analyze_videos(auto_track=False)`` writes
   ``<stem><scorer>_full.pickle`` (every body part's candidates), ``_meta.pickle`` and
   ``_assemblies.pickle`` (the candidates grouped into animals);
2. **tracklets**: ``deeplabcut.convert_detections2tracklets`` links the assemblies of
   consecutive frames with a tracker (``ellipse``, ``box`` or ``skeleton``) and writes
   ``<stem><scorer>_el.pickle`` (``_bx``, ``_sk``);
3. **tracks**: ``deeplabcut.stitch_tracklets`` joins the tracklets into one track per animal
   (a min-cost flow) and writes ``<stem><scorer>_el.h5``, which we then pad to one row per
   frame of the video (DeepLabCut stops at the last frame it tracked).

The tracker's settings live where DeepLabCut reads them, the model's
``test/inference_cfg.yaml`` (:func:`write_tracking_settings`), so a later
``deeplabcut.convert_detections2tracklets`` gives the same tracklets.

Resuming: after each stage a record ``<stem><scorer>.dlcflow-tracking.json`` notes the files
the stage wrote (size and modification time) and the settings it ran with. A rerun skips a
stage whose files still match and whose settings are the same, so changing only the tracker's
settings redoes the tracklets and the stitching, never the detections; a run killed in a stage
redoes just that stage. The completion marker of :mod:`.analysis` is written for the tracked
``.h5`` only when it has one row per frame.

This module is the engine side: the parent reads and writes settings without deeplabcut; the
stages (:func:`track_video`) run in the analysis child and import deeplabcut inside.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from dataclasses import asdict, dataclass, fields
from pathlib import Path
from typing import TYPE_CHECKING, Any

from napari_dlcflow.core.predictions.analysis_files import output_files
from napari_dlcflow.core.safe_io import atomic_write, atomic_writer

if TYPE_CHECKING:
    from napari_dlcflow.core.engine.model_ref import ModelRef

__all__ = [
    "INFERENCE_CFG",
    "RECORD_SUFFIX",
    "TRACKERS",
    "TrackingError",
    "TrackingSpec",
    "inference_cfg_path",
    "read_tracking_settings",
    "record_path",
    "track_video",
    "write_tracking_settings",
]

INFERENCE_CFG = "inference_cfg.yaml"
_SPEC_KEY = "dlcflow_tracking"
RECORD_SUFFIX = ".dlcflow-tracking.json"
TRACKERS = ("box", "ellipse")
"""DeepLabCut's trackers we offer: ``box`` (our default) and ``ellipse`` (DeepLabCut's default).
Its ``skeleton`` tracker fails in DeepLabCut 3.0.2 (a shape error in its Kalman state), so it
is not offered; its files (``_sk``) are still read."""

_TRACKER_NOTES = {
    "box": "each animal's bounding box (grown by the slack), matched by overlap; our default",
    "ellipse": "an ellipse fitted to each animal's keypoints; DeepLabCut's default, but in "
    "DeepLabCut 3.0.2 with numpy 2 its Kalman state breaks after one frame and tracks end "
    "at once (docs/multi-animal.md)",
}


class TrackingError(RuntimeError):
    """A multi-animal analysis cannot go on; the message names the file and the problem."""


@dataclass(frozen=True)
class TrackingSpec:
    """How to link and stitch animals over time.

    Attributes
    ----------
    tracker : str
        ``box`` (default) or ``ellipse`` (:data:`TRACKERS`).
    iou_threshold : float
        Least overlap (0-1) of a detection's box with a tracklet's predicted box for it to
        continue the tracklet (the ellipse tracker: least similarity).
    box_slack : int
        Pixels added on every side of an animal's box (DeepLabCut's ``boundingboxslack``):
        the boxes of a fast or thin animal then still overlap from one frame to the next.
    max_age : int
        Frames a tracklet survives without a detection before it ends.
    min_hits : int
        Consecutive detections before a tracklet starts.
    max_gap : int or None
        Longest gap (frames) the stitching may bridge between two tracklets (None: chosen
        by DeepLabCut from the tracklets).
    min_length : int
        Tracklets shorter than this are added last, after the long ones are stitched (at
        least 3).
    n_tracks : int or None
        Animals in the video (None: the project's ``individuals``).
    identity_only : bool or None
        Link by the identity head's prediction alone (None: when the project has
        ``identity: true``).
    """

    tracker: str = "box"
    iou_threshold: float = 0.2
    box_slack: int = 10
    max_age: int = 1
    min_hits: int = 1
    max_gap: int | None = None
    min_length: int = 10
    n_tracks: int | None = None
    identity_only: bool | None = None

    def __post_init__(self) -> None:
        if self.tracker not in TRACKERS:
            raise ValueError(f"tracker must be one of {', '.join(TRACKERS)}, not {self.tracker!r}")
        iou = self.iou_threshold
        if isinstance(iou, bool) or not isinstance(iou, int | float) or not 0.0 < iou <= 1.0:
            raise ValueError(f"the IoU threshold must be in (0, 1], not {iou!r}")
        for name, least in (("box_slack", 0), ("max_age", 1), ("min_hits", 1), ("min_length", 3)):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < least:
                raise ValueError(
                    f"{name} must be a whole number of at least {least}, not {value!r}"
                )
        for name in ("max_gap", "n_tracks"):
            value = getattr(self, name)
            if value is not None and (
                isinstance(value, bool) or not isinstance(value, int) or value < 1
            ):
                raise ValueError(f"{name} must be a positive whole number, not {value!r}")

    @classmethod
    def from_dict(cls, data: dict[str, Any] | None) -> TrackingSpec:
        """A spec from :func:`dataclasses.asdict` output (unknown keys refused)."""
        data = dict(data or {})
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(data) - known)
        if unknown:
            raise ValueError(f"unknown tracking settings: {', '.join(unknown)}")
        return cls(**data)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    def tracklet_settings(self) -> dict[str, Any]:
        """What the tracklet stage depends on (a change redoes it)."""
        return {
            "tracker": self.tracker,
            "iou_threshold": float(self.iou_threshold),
            "box_slack": self.box_slack,
            "max_age": self.max_age,
            "min_hits": self.min_hits,
            "identity_only": self.identity_only,
        }

    def stitch_settings(self) -> dict[str, Any]:
        """What the stitching depends on (besides the tracklets)."""
        return {"max_gap": self.max_gap, "min_length": self.min_length, "n_tracks": self.n_tracks}

    def describe(self, n_animals: int | None = None) -> str:
        """One line a user reads before the run, e.g. ``ellipse tracker (...), stitching ...``."""
        animals = self.n_tracks or n_animals
        gap = "chosen from the tracklets" if self.max_gap is None else f"{self.max_gap} frames"
        slack = f", box slack {self.box_slack} px" if self.tracker == "box" else ""
        return (
            f"{self.tracker} tracker ({_TRACKER_NOTES[self.tracker]}): IoU threshold "
            f"{self.iou_threshold:g}{slack}, max age {self.max_age}, min hits {self.min_hits}; "
            f"stitching into {animals if animals else 'the project’s'} tracks (tracklets "
            f"shorter than {self.min_length} frames added last, largest gap {gap})"
        )


# ------------------------------------------------------------------ settings on disk
def inference_cfg_path(model: ModelRef) -> Path:
    """The model's ``test/inference_cfg.yaml``, where DeepLabCut reads the tracker settings."""
    return model.find_train_folder().parent / "test" / INFERENCE_CFG


def _read_yaml(path: Path) -> dict[str, Any]:
    import yaml

    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return {}
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as exc:
        raise TrackingError(f"{path} cannot be read: {exc}") from exc
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise TrackingError(f"{path} is not a mapping of settings")
    return data


def read_tracking_settings(model: ModelRef | str | os.PathLike) -> TrackingSpec:
    """The tracking settings last used with this model (defaults when none were).

    ``model``: the model, or its ``inference_cfg.yaml`` itself.

    :func:`write_tracking_settings` keeps the whole spec under the key ``dlcflow_tracking`` of
    the model's ``inference_cfg.yaml`` besides DeepLabCut's own keys. A file DeepLabCut made
    (at dataset creation, with its template's tracker values) gives our defaults, not its.
    """
    path = Path(model) if isinstance(model, str | os.PathLike) else inference_cfg_path(model)
    data = _read_yaml(path).get(_SPEC_KEY)
    if not isinstance(data, dict):
        return TrackingSpec()
    try:
        return TrackingSpec.from_dict(data)
    except (TypeError, ValueError) as exc:
        raise TrackingError(f"{path}: {_SPEC_KEY}: {exc}") from exc


def write_tracking_settings(
    path: str | os.PathLike, spec: TrackingSpec, defaults: dict[str, Any] | None = None
) -> Path:
    """Write the tracker settings of ``spec`` into DeepLabCut's ``inference_cfg.yaml``.

    Other keys (the assembly settings) are kept; a missing file starts from ``defaults``
    (DeepLabCut's template for the project, filled in by the child). The file is replaced
    atomically with a backup, and only when a value changes.

    Parameters
    ----------
    path : path-like
        The ``inference_cfg.yaml``.
    spec : TrackingSpec
        The settings.
    defaults : dict, optional
        The content to start from when the file does not exist.

    Returns
    -------
    Path
    """
    import yaml

    target = Path(path)
    data = _read_yaml(target) or dict(defaults or {})
    new = dict(data)
    new.update(
        iou_threshold=float(spec.iou_threshold),
        boundingboxslack=int(spec.box_slack),
        max_age=int(spec.max_age),
        min_hits=int(spec.min_hits),
    )
    new[_SPEC_KEY] = spec.to_dict()  # the whole spec, read back by read_tracking_settings
    if new != data or not target.is_file():
        target.parent.mkdir(parents=True, exist_ok=True)
        atomic_write(target, yaml.safe_dump(new, sort_keys=False), backup=True)
    return target


# ------------------------------------------------------------------ the stage record
def record_path(
    video: str | os.PathLike, scorer: str, destfolder: str | os.PathLike | None = None
) -> Path:
    """``<stem><scorer>.dlcflow-tracking.json`` beside DeepLabCut's output."""
    folder = Path(destfolder) if destfolder is not None else Path(video).parent
    return folder / f"{Path(video).stem}{scorer}{RECORD_SUFFIX}"


def _fingerprint(path: Path) -> dict[str, int] | None:
    try:
        st = path.stat()
    except OSError:
        return None
    return {"size": st.st_size, "mtime_ns": st.st_mtime_ns}


def _read_record(path: Path) -> dict[str, Any]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def _stage_done(record: dict[str, Any], stage: str, files: dict[str, Path], settings: Any) -> bool:
    entry = record.get(stage)
    if not isinstance(entry, dict) or entry.get("settings") != settings:
        return False
    prints = entry.get("files", {})
    for key, path in files.items():
        now = _fingerprint(path)
        if now is None or prints.get(key) != now:
            return False
    return True


def _note_stage(
    path: Path,
    record: dict[str, Any],
    stage: str,
    files: dict[str, Path],
    settings: Any,
    later: tuple[str, ...],
) -> None:
    record[stage] = {"files": {k: _fingerprint(p) for k, p in files.items()}, "settings": settings}
    for name in later:  # a redone stage invalidates the ones built on it
        record.pop(name, None)
    atomic_write(path, json.dumps(record, indent=1), backup=False)


# ------------------------------------------------------------------------- the child
def _model_individuals(model_cfg: dict[str, Any]) -> list[str]:
    meta = model_cfg.get("metadata") or {}
    return [str(i) for i in meta.get("individuals") or []]


def _check_pickle(path: Path, what: str) -> dict[str, Any]:
    import pickle

    try:
        with path.open("rb") as fh:
            data = pickle.load(fh)
    except FileNotFoundError as exc:
        raise TrackingError(f"{what} {path} is missing") from exc
    except (pickle.UnpicklingError, EOFError, AttributeError, ValueError, OSError) as exc:
        raise TrackingError(
            f"{what} {path} is damaged or cut off ({type(exc).__name__}); it is redone "
            "on the next run"
        ) from exc
    if not isinstance(data, dict):
        raise TrackingError(f"{what} {path} does not hold DeepLabCut's data")
    return data


def _pad_tracks(h5: Path, n_frames: int) -> int:
    """Give DeepLabCut's tracked ``.h5`` one row per frame (NaN where nothing was tracked)."""
    import pandas as pd

    with pd.HDFStore(h5, mode="r") as store:
        key = store.keys()[0]
    df = pd.read_hdf(h5, key=key)
    if len(df) > n_frames:
        raise TrackingError(f"{h5} has {len(df)} rows but the video has {n_frames} frames")
    if len(df) == n_frames and df.index.equals(pd.RangeIndex(n_frames)):
        return n_frames
    df = df.reindex(range(n_frames))
    with atomic_writer(h5, backup=False) as tmp:
        df.to_hdf(tmp, key=key.lstrip("/"), format="table", mode="w")
    return n_frames


def track_video(
    *,
    config: str,
    video: str,
    scorer: str,
    spec: TrackingSpec,
    shuffle: int | None,
    trainset_index: int | None,
    destfolder: str | None,
    n_frames: int,
    detect_kwargs: dict[str, Any],
    emit: Callable[..., None],
) -> Path:
    """Run the stages not yet done for one video (analysis child only; imports deeplabcut).

    Parameters
    ----------
    config : str
        The project's ``config.yaml``.
    video : str
        The video.
    scorer : str
        The model's scorer name (in every output's name).
    spec : TrackingSpec
        The tracking settings.
    shuffle, trainset_index : int or None
        The model.
    destfolder : str or None
        Where the outputs go (None: beside the video).
    n_frames : int
        The video's frame count.
    detect_kwargs : dict
        More arguments of ``deeplabcut.analyze_videos`` (device, batch size, snapshot).
    emit : callable
        ``emit(event, **fields)``: ``tracking_stage`` events (``stage``, ``state``: ``done`` or
        ``skipped``).

    Returns
    -------
    Path
        The tracked ``.h5``, one row per frame.

    Raises
    ------
    TrackingError
        With the file and the problem (damaged detections, a video shorter than its
        detections, individuals changed since training, no animal tracked).
    """
    import deeplabcut
    from deeplabcut.pose_estimation_pytorch.apis.tracklets import convert_detections2tracklets
    from deeplabcut.pose_estimation_pytorch.data import DLCLoader
    from deeplabcut.utils import auxfun_multianimal

    loader = DLCLoader(config, trainset_index=trainset_index or 0, shuffle=shuffle or 1)
    project_cfg = loader.project_cfg
    individuals = [str(i) for i in project_cfg.get("individuals") or []]
    trained = _model_individuals(loader.model_cfg)
    if trained and spec.n_tracks is None and trained != individuals:
        raise TrackingError(
            f"{config} lists the individuals {individuals} but shuffle {shuffle}'s model was "
            f"trained with {trained} ({Path(loader.model_folder) / 'pytorch_config.yaml'}): "
            "put the old list back, or create a dataset and train again, or give the number "
            "of animals to track"
        )
    identity_only = spec.identity_only
    if identity_only is None:
        identity_only = bool(project_cfg.get("identity"))
    spec = TrackingSpec.from_dict({**spec.to_dict(), "identity_only": identity_only})
    n_tracks = spec.n_tracks or len(individuals)
    names = individuals if n_tracks == len(individuals) else None

    files = output_files(video, scorer, destfolder, tracker=spec.tracker)
    rec_path = record_path(video, scorer, destfolder)
    record = _read_record(rec_path)
    common = {
        "shuffle": shuffle,
        "trainingsetindex": trainset_index,
        "destfolder": destfolder,
    }
    snapshot_index = detect_kwargs.get("snapshot_index")
    snap = {} if snapshot_index is None else {"snapshot_index": snapshot_index}

    # 1. detections and assemblies
    det_files = {k: files[k] for k in ("full", "meta", "assemblies")}
    det_settings = {"frames": n_frames, "video_size": Path(video).stat().st_size}
    if _stage_done(record, "detections", det_files, det_settings):
        emit("tracking_stage", video=video, stage="detections", state="skipped")
    else:
        deeplabcut.analyze_videos(
            config, [video], overwrite=True, auto_track=False, **common, **detect_kwargs
        )
        full = _check_pickle(files["full"], "the detections")
        counted = int((full.get("metadata") or {}).get("nframes", n_frames))
        if counted > n_frames:
            raise TrackingError(
                f"the detections {files['full']} cover {counted} frames but {video} has "
                f"{n_frames}: the video is shorter than its detections"
            )
        _check_pickle(files["assemblies"], "the assemblies")
        _note_stage(
            rec_path, record, "detections", det_files, det_settings, ("tracklets", "tracks")
        )
        emit("tracking_stage", video=video, stage="detections", state="done")

    # 2. tracklets, with the settings where DeepLabCut reads them
    cfg_path = Path(loader.model_folder).parent / "test" / INFERENCE_CFG  # beside train/
    write_tracking_settings(
        cfg_path, spec, auxfun_multianimal.form_default_inferencecfg(project_cfg)
    )
    tr_files = {"tracklets": files["tracklets"]}
    tr_settings = spec.tracklet_settings()
    if _stage_done(record, "tracklets", tr_files, tr_settings):
        emit("tracking_stage", video=video, stage="tracklets", state="skipped")
    else:
        _check_pickle(files["assemblies"], "the assemblies")
        # the PyTorch API itself: DeepLabCut's top-level wrapper drops snapshot_index
        convert_detections2tracklets(
            config,
            [video],
            overwrite=True,
            track_method=spec.tracker,
            identity_only=identity_only,
            **common,
            **snap,
        )
        if not files["tracklets"].is_file():
            raise TrackingError(
                f"DeepLabCut wrote no tracklets for {video} ({files['tracklets']})"
            )
        _note_stage(rec_path, record, "tracklets", tr_files, tr_settings, ("tracks",))
        emit("tracking_stage", video=video, stage="tracklets", state="done")

    # 3. stitched tracks, padded to every frame
    st_files = {"tracks": files["tracks"]}
    st_settings = spec.stitch_settings()
    if _stage_done(record, "tracks", st_files, st_settings):
        emit("tracking_stage", video=video, stage="tracks", state="skipped")
        return files["tracks"]
    files["tracks"].unlink(missing_ok=True)
    try:
        deeplabcut.stitch_tracklets(
            config,
            [video],
            n_tracks=n_tracks,
            animal_names=names,
            min_length=spec.min_length,
            max_gap=spec.max_gap,
            track_method=spec.tracker,
            save_as_csv=bool(detect_kwargs.get("save_as_csv")),
            **common,
            **snap,
        )
    except OSError as exc:
        if "empty" in str(exc).lower():
            raise TrackingError(
                f"no animal could be followed in {video}: the tracklets {files['tracklets']} "
                "are empty (the model found no whole animal; train longer or label more frames)"
            ) from exc
        raise
    if not files["tracks"].is_file():
        raise TrackingError(f"DeepLabCut's stitching wrote no tracks for {video}")
    _pad_tracks(files["tracks"], n_frames)
    _note_stage(rec_path, record, "tracks", st_files, st_settings, ())
    emit("tracking_stage", video=video, stage="tracks", state="done")
    return files["tracks"]


def tracker_note(tracker: str) -> str:
    """What a tracker matches on, in a few words."""
    return _TRACKER_NOTES[tracker]
