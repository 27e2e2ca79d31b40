"""Outlier frames: where a trained model is likely wrong, picked for correction.

The criteria are DeepLabCut's (``deeplabcut.extract_outlier_frames``), computed on the analysis
table with numpy:

``jump``
    a keypoint moves more than ``epsilon`` pixels from the previous frame;
``uncertain``
    a keypoint's likelihood is below ``p_bound``;
``fitting``
    the predictions deviate, on average over the keypoints, more than ``epsilon`` pixels from a
    fitted trajectory in which points below ``p_bound`` count as missing. ``fit="arima"`` is
    DeepLabCut's SARIMAX model; ``fit="median"`` a running median that needs seconds, not
    hours, on very long videos;
``manual``
    frames the user marked (e.g. with a key while watching the overlay).

Multi-animal files are judged animal by animal: a jump or a low likelihood is that of one
individual's body part, and the fit is made and averaged per individual, so one animal's
error is never diluted by (or blamed on) another; :attr:`OutlierResult.individuals` names the
animals flagged in each frame, and :attr:`OutlierSpec.individuals` restricts the search. The
default analysis file is the tracked one (``<stem><scorer>_el.h5``) when the video has it; on an
untracked multi-animal file an individual is a detection slot, and the result says so.

Several criteria may be combined (a frame qualifies if any of them flags it). Among the
candidates, ``n`` frames are chosen uniformly over time or one per k-means cluster of
downsampled frames (DeepLabCut's default), excluding frames already in the labeled-data folder.
The chosen frames are decoded frame-exactly (:mod:`napari_dlcflow.core.video.extract`: counted,
never
sought, unlike OpenCV's seek that returns the wrong frame on some AVI files) and written with
DeepLabCut's names, and the model's predictions on them go to ``machinelabels-iter<N>.h5``.
"""

from __future__ import annotations

import contextlib
import os
import warnings
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

__all__ = [
    "CRITERIA",
    "SELECTIONS",
    "OutlierResult",
    "OutlierSpec",
    "extract_outliers",
    "find_outliers",
    "fit_deviation",
    "flagged_individuals",
    "jump_distance",
    "uncertain_mask",
]

CRITERIA = ("jump", "uncertain", "fitting", "manual")
SELECTIONS = ("uniform", "kmeans")
FITS = ("arima", "median")


@dataclass
class OutlierSpec:
    """How to find and pick outlier frames.

    Parameters
    ----------
    criteria : tuple of str
        One or more of :data:`CRITERIA`.
    epsilon : float
        Pixels: jump size (``jump``) or mean deviation from the fit (``fitting``).
    p_bound : float
        Likelihood below which a point is uncertain (and missing for the fit).
    fit : {"arima", "median"}
        The fitted trajectory of ``fitting``.
    window : int
        Frames of the running median (``fit="median"``; odd).
    bodyparts : tuple of str, optional
        Keypoints to consider (default: all).
    individuals : tuple of str, optional
        Animals to consider in multi-animal data (default: all; ``single`` names the unique
        body parts).
    frames : tuple of int
        Frames marked by hand (``manual``).
    n : int
        How many frames to extract at most.
    selection : {"uniform", "kmeans"}
        How to choose ``n`` among the candidates.
    start, stop : float
        Fractions of the video to consider.
    use_crop : bool
        Crop the written frames to the video's ``video_sets`` crop (as the labeled frames were).
    seed : int
        Seed of k-means.
    """

    criteria: tuple[str, ...] = ("jump",)
    epsilon: float = 20.0
    p_bound: float = 0.01
    fit: str = "median"
    window: int = 9
    bodyparts: tuple[str, ...] | None = None
    individuals: tuple[str, ...] | None = None
    frames: tuple[int, ...] = ()
    n: int = 20
    selection: str = "kmeans"
    start: float = 0.0
    stop: float = 1.0
    use_crop: bool = False
    seed: int = 0

    def __post_init__(self) -> None:
        if isinstance(self.criteria, str):
            self.criteria = (self.criteria,)
        self.criteria = tuple(self.criteria)
        bad = [c for c in self.criteria if c not in CRITERIA]
        if bad or not self.criteria:
            raise ValueError(f"criteria must be among {CRITERIA}, got {self.criteria}")
        if self.selection not in SELECTIONS:
            raise ValueError(f"selection must be one of {SELECTIONS}, got {self.selection!r}")
        if self.fit not in FITS:
            raise ValueError(f"fit must be one of {FITS}, got {self.fit!r}")
        if self.epsilon <= 0:
            raise ValueError(f"epsilon must be positive, got {self.epsilon}")
        if not 0 <= self.p_bound <= 1:
            raise ValueError(f"p_bound must be in [0, 1], got {self.p_bound}")
        if self.window < 3 or self.window % 2 == 0:
            raise ValueError(f"window must be an odd number of at least 3, got {self.window}")
        if int(self.n) < 1:
            raise ValueError(f"n must be at least 1, got {self.n}")
        if not 0.0 <= self.start < self.stop <= 1.0:
            raise ValueError(f"need 0 <= start < stop <= 1, got {self.start}, {self.stop}")
        if "manual" in self.criteria and not self.frames:
            raise ValueError("manual criterion: mark at least one frame")
        self.frames = tuple(sorted({int(f) for f in self.frames}))


@dataclass
class OutlierResult:
    """What :func:`extract_outliers` found and wrote.

    Attributes
    ----------
    video : Path
    analysis : Path or None
        The analysis file the predictions came from.
    folder : Path
        ``labeled-data/<video stem>``.
    candidates : list of int
        Frames flagged by the criteria (before choosing).
    reasons : dict of int to list of str
        Which criteria flagged each candidate.
    individuals : dict of int to list of str
        Multi-animal data: the animals whose keypoints flagged each candidate (``manual``
        frames name none); empty for single-animal data.
    notes : list of str
        What the caller should know (e.g. an untracked multi-animal analysis).
    already : list of int
        Candidates already in the folder (not extracted again).
    picked : list of int
        Frames chosen.
    written : list of Path
        Images written.
    machine_labels : Path or None
        The machine-label file written (None if no frame was new).
    cancelled : bool
    """

    video: Path
    analysis: Path | None
    folder: Path
    candidates: list[int] = field(default_factory=list)
    reasons: dict[int, list[str]] = field(default_factory=dict)
    individuals: dict[int, list[str]] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    already: list[int] = field(default_factory=list)
    picked: list[int] = field(default_factory=list)
    written: list[Path] = field(default_factory=list)
    machine_labels: Path | None = None
    cancelled: bool = False

    def format(self) -> str:
        """One paragraph for the status line and the CLI."""
        counts: dict[str, int] = {}
        for rs in self.reasons.values():
            for r in rs:
                counts[r] = counts.get(r, 0) + 1
        why = ", ".join(f"{k} {counts[k]}" for k in CRITERIA if k in counts) or "none"
        text = (
            f"{self.video.name}: {len(self.candidates)} outlier frame(s) ({why}); "
            f"{len(self.already)} already in {self.folder.name}; "
            f"{len(self.written)} extracted"
        )
        if self.machine_labels is not None:
            text += f" with machine labels in {self.machine_labels.name}"
        if self.cancelled:
            text += " (cancelled)"
        text += "."
        if self.individuals:
            per: dict[str, int] = {}
            for names in self.individuals.values():
                for name in names:
                    per[name] = per.get(name, 0) + 1
            text += " By individual: " + ", ".join(f"{k} {v}" for k, v in per.items()) + "."
        return " ".join([text, *self.notes])


# ---------------------------------------------------------------------------------- criteria


def _columns(pred: Any, spec: OutlierSpec) -> np.ndarray:
    """The keypoint columns ``spec`` considers (its body parts and individuals)."""
    keep = np.ones(pred.data.shape[1], dtype=bool)
    for names, have, what in (
        (spec.bodyparts, pred.bodyparts, "body part(s)"),
        (spec.individuals, pred.individuals, "individual(s)"),
    ):
        if not names:
            continue
        unknown = sorted(set(names) - set(have))
        if unknown:
            raise ValueError(f"{pred.path}: no {what} {', '.join(unknown)} in the analysis")
        keep &= np.isin(np.asarray(have), list(names))
    return np.flatnonzero(keep)


def jump_distance(xy: np.ndarray) -> np.ndarray:
    """Largest keypoint displacement from the previous frame, per frame (frame 0: 0; NaN
    points ignored).

    Parameters
    ----------
    xy : ndarray of shape (T, N, 2)
    """
    step = _step(xy)
    return step.max(axis=1) if step.shape[1] else np.zeros(len(xy))


def uncertain_mask(likelihood: np.ndarray, p_bound: float) -> np.ndarray:
    """Frames where a keypoint's likelihood is below ``p_bound`` (NaN likelihood: missing, not
    uncertain)."""
    with np.errstate(invalid="ignore"):
        return np.asarray((likelihood < p_bound).any(axis=1))


def _running_median(values: np.ndarray, window: int, chunk: int = 20000) -> np.ndarray:
    """NaN-ignoring centred running median along axis 0, in chunks (bounded memory)."""
    half = window // 2
    pad = np.concatenate(
        [
            np.full((half, *values.shape[1:]), np.nan),
            values,
            np.full((half, *values.shape[1:]), np.nan),
        ]
    )
    out = np.empty_like(values)
    for s in range(0, len(values), chunk):
        e = min(len(values), s + chunk)
        win = np.lib.stride_tricks.sliding_window_view(pad[s : e + 2 * half], window, axis=0)
        with _quiet():
            out[s:e] = np.nanmedian(win, axis=-1)
    return out


@contextlib.contextmanager
def _quiet() -> Iterator[None]:
    """Silence numpy's floating-point and all-NaN-slice warnings."""
    with np.errstate(all="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        yield


def fit_deviation(
    data: np.ndarray, p_bound: float, *, fit: str = "median", window: int = 9
) -> np.ndarray:
    """Mean distance (over keypoints) between the predictions and a fitted trajectory.

    Parameters
    ----------
    data : ndarray of shape (T, N, 3)
        ``x, y, likelihood``.
    p_bound : float
        Points below it are missing for the fit (their deviation still counts).
    fit : {"median", "arima"}
        Running median over ``window`` frames, or DeepLabCut's SARIMAX model.
    """
    xy = data[..., :2].copy()
    lik = data[..., 2]
    with np.errstate(invalid="ignore"):
        low = ~(lik >= p_bound)
    if fit == "arima":
        from napari_dlcflow.core.predictions.analysis_files import Predictions
        from napari_dlcflow.core.predictions.filtering import arima_filter

        n = data.shape[1]
        pred = Predictions(data, ("bp",) * n, ("",) * n, "fit", np.arange(len(data)))
        fitted = arima_filter(pred, p_bound=p_bound).xy
    else:
        masked = xy.copy()
        masked[low] = np.nan
        fitted = _running_median(masked, window)
    dist = np.hypot(*np.moveaxis(xy - fitted, -1, 0))
    with _quiet():
        d = np.nanmean(dist, axis=1)
    return np.nan_to_num(d, nan=0.0)


def _step(xy: np.ndarray) -> np.ndarray:
    """Displacement of every keypoint column from the previous frame ``(T, N)`` (frame 0 and
    NaN points: 0)."""
    out = np.zeros(xy.shape[:2])
    if len(xy) > 1:
        out[1:] = np.nan_to_num(np.hypot(*np.moveaxis(np.diff(xy, axis=0), -1, 0)), nan=0.0)
    return out


def _column_flags(pred: Any, spec: OutlierSpec, cols: np.ndarray) -> dict[str, np.ndarray]:
    """Per criterion (but ``manual``), a ``(T, len(cols))`` mask of the flagged keypoints.

    ``fitting`` is judged per individual (the mean deviation over its keypoints), and flags
    every column of an individual whose deviation exceeds ``epsilon``.
    """
    data = pred.data[:, cols]
    flags: dict[str, np.ndarray] = {}
    if "uncertain" in spec.criteria:
        with np.errstate(invalid="ignore"):
            flags["uncertain"] = np.asarray(data[..., 2] < spec.p_bound)
    if "jump" in spec.criteria:
        flags["jump"] = _step(data[..., :2]) > spec.epsilon
    if "fitting" in spec.criteria:
        mask = np.zeros(data.shape[:2], dtype=bool)
        owners = np.asarray(pred.individuals)[cols]
        for ind in dict.fromkeys(owners.tolist()):
            mine = np.flatnonzero(owners == ind)
            dev = fit_deviation(data[:, mine], spec.p_bound, fit=spec.fit, window=spec.window)
            mask[:, mine] = (dev > spec.epsilon)[:, None]
        flags["fitting"] = mask
    return flags


def _in_range(frames: np.ndarray, spec: OutlierSpec) -> tuple[int, int]:
    total = int(frames.max()) + 1 if len(frames) else 0
    return int(np.floor(spec.start * total)), int(np.ceil(spec.stop * total))


def find_outliers(pred: Any, spec: OutlierSpec) -> dict[int, list[str]]:
    """Frames flagged by ``spec``'s criteria, with the criteria that flagged each.

    Parameters
    ----------
    pred : Predictions
        The video's analysis.
    spec : OutlierSpec

    Returns
    -------
    dict of int to list of str
        Video frame index -> criteria, sorted by frame.
    """
    cols = _columns(pred, spec)
    frames = np.asarray(pred.frames)
    n = len(frames)
    flagged: dict[int, list[str]] = {}
    for name, mask in _column_flags(pred, spec, cols).items():
        for f in frames[np.flatnonzero(mask.any(axis=1))]:
            flagged.setdefault(int(f), []).append(name)
    if "manual" in spec.criteria:
        have = set(frames.tolist())
        outside = [f for f in spec.frames if f not in have]
        if outside:
            span = f"{int(frames.min())}-{int(frames.max())}" if n else "none"
            raise ValueError(
                f"{pred.path}: marked frame(s) {', '.join(map(str, outside[:5]))} are not in the "
                f"analysis (frames {span})"
            )
        for f in spec.frames:
            flagged.setdefault(int(f), []).append("manual")
    lo, hi = _in_range(frames, spec)
    return {f: r for f, r in sorted(flagged.items()) if lo <= f < hi}


def flagged_individuals(pred: Any, spec: OutlierSpec) -> dict[int, list[str]]:
    """The animals whose keypoints the criteria flag, per frame (multi-animal data).

    Parameters
    ----------
    pred : Predictions
        A multi-animal analysis.
    spec : OutlierSpec

    Returns
    -------
    dict of int to list of str
        Frame -> individuals (in column order) flagged by ``jump``, ``uncertain`` or
        ``fitting``; empty for single-animal predictions.
    """
    if not pred.multi_animal:
        return {}
    cols = _columns(pred, spec)
    frames = np.asarray(pred.frames)
    owners = np.asarray(pred.individuals)[cols]
    hit = np.zeros((len(frames), len(cols)), dtype=bool)
    for mask in _column_flags(pred, spec, cols).values():
        hit |= mask
    lo, hi = _in_range(frames, spec)
    out: dict[int, list[str]] = {}
    for r in np.flatnonzero(hit.any(axis=1)):
        if lo <= int(frames[r]) < hi:
            out[int(frames[r])] = list(dict.fromkeys(owners[hit[r]].tolist()))
    return out


# ---------------------------------------------------------------------------------- extraction


def _analysis_for(project: Any, video: Path, analysis: str | os.PathLike | None) -> Path:
    from napari_dlcflow.core.predictions.analysis_files import find_analysis_files

    if analysis is not None:
        path = Path(analysis)
        if not path.is_file():
            raise FileNotFoundError(f"{path}: no such analysis file")
        return path
    for where in (video.parent, project.root / "videos"):
        found = find_analysis_files(video, where)
        if found:
            return found[0]
    raise FileNotFoundError(
        f"{video}: no analysis file (<video>DLC*.h5) beside the video; analyze the video first"
    )


def extract_outliers(
    project: Any,
    video: str | os.PathLike,
    spec: OutlierSpec | None = None,
    *,
    analysis: str | os.PathLike | None = None,
    on_progress: Callable[[int, int], None] | None = None,
    should_stop: Callable[[], bool] | None = None,
) -> OutlierResult:
    """Find outlier frames of one analysed video, extract them and write their machine labels.

    Parameters
    ----------
    project : Project
        The open project (its ``iteration`` names the machine-label file).
    video : path-like
        The analysed video.
    spec : OutlierSpec, optional
        Criteria and choice (default: ``jump``, epsilon 20 px, k-means, ``numframes2pick``).
    analysis : path-like, optional
        The analysis h5 (default: the first of
        :func:`~napari_dlcflow.core.predictions.analysis_files.find_analysis_files` beside the
        video: the newest model's, its tracked file when there is one). Multi-animal: the
        machine labels hold every individual's prediction in each extracted frame.
    on_progress, should_stop : callable, optional
        As in :func:`~napari_dlcflow.core.video.extract.extract_frames`.

    Raises
    ------
    FileNotFoundError
        If the video or its analysis is missing.
    napari_dlcflow.core.predictions.analysis_files.PredictionsError
        If the analysis file cannot be read (the message names it).
    """
    from napari_dlcflow.core.labels.collected import read_labels
    from napari_dlcflow.core.labels.machine import (
        frame_index_of,
        machine_labels_path,
        predictions_to_labels,
        write_machine_labels,
    )
    from napari_dlcflow.core.predictions.analysis_files import (
        crop_offset,
        read_predictions,
        untracked_animals,
    )
    from napari_dlcflow.core.video.extract import (
        extract_frames,
        labeled_data_folder,
        project_video_crop,
    )

    if spec is None:
        spec = OutlierSpec(n=int(project.get("numframes2pick") or 20))
    from napari_dlcflow.core.video.source import parse_source_key

    video = Path(video)
    if not parse_source_key(video).path.exists():  # a channel's key names its file
        raise FileNotFoundError(f"{video}: no such video")
    path = _analysis_for(project, video, analysis)
    pred = read_predictions(path)
    reasons = find_outliers(pred, spec)
    folder = labeled_data_folder(project.root, video)
    iteration = int(project.get("iteration", 0) or 0)
    existing = machine_labels_path(folder, iteration)
    if existing.exists():
        read_labels(existing)  # an unreadable file stops us before any frame is written
    result = OutlierResult(video=video, analysis=path, folder=folder, reasons=reasons)
    result.candidates = list(reasons)
    result.individuals = flagged_individuals(pred, spec)
    if untracked_animals(pred, path):
        result.notes.append(
            f"{path.name} is not tracked: its individuals are detection slots, not the same "
            "animal from frame to frame (analyse with tracking for the _el.h5 file)."
        )
    if not reasons:
        return result
    crop = None
    if spec.use_crop:
        try:
            crop = project_video_crop(project, video)
        except KeyError:
            crop = None
    manual_only = spec.criteria == ("manual",)
    method = "uniform" if spec.selection == "uniform" or manual_only else "kmeans"
    n = int(spec.n)
    if manual_only:
        n = len(reasons)  # every marked frame
    extracted = extract_frames(
        video,
        folder,
        method=method,
        n=n,
        crop=crop,
        seed=spec.seed,
        on_progress=on_progress,
        should_stop=should_stop,
        candidates=result.candidates,
    )
    result.already = list(extracted.already)
    result.written = [p for p in extracted.written if p.exists()]
    result.cancelled = extracted.cancelled
    frames = [frame_index_of(p.name) for p in result.written]
    result.picked = sorted(int(f) for f in frames if f is not None)
    if not result.written:
        return result
    dx, dy = crop_offset(pred)
    ox, oy = (crop[0], crop[2]) if crop is not None else (0, 0)
    labels = predictions_to_labels(
        pred,
        [int(f) for f in frames if f is not None],
        [p.name for p in result.written],
        folder.name,
        offset=(ox - dx, oy - dy),
    )
    result.machine_labels = write_machine_labels(labels, folder, iteration)
    return result
