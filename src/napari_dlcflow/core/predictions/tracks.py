"""How good are the tracks: identities over time, compared with a truth or on their own.

A :class:`Tracks` holds the keypoints of every individual in every frame of one video,
``(T, N, K, 2)`` (NaN: absent), read from a DeepLabCut tracked or analysis file
(:func:`read_dlc_tracks`, ``.h5`` or ``.csv``, multi- or single-animal, or a truth table of
``x, y`` only) or, one package up, from a SLEAP ``.slp``
(:func:`napari_dlcflow.core.formats.sleap.read_tracks`; :func:`napari_dlcflow.core.formats.
tracks.load_tracks` picks the reader by the file). Frame ``t`` is row ``t``: a file's rows are
placed at their frame numbers, ``0 .. last``; ``covered`` says which frames the file holds.

:func:`compare_tracks` scores predictions against a truth with motmetrics (IDF1, MOTA, identity
switches): per frame, the animals are the objects, and the distance between a truth and a
predicted animal is their mean keypoint distance over the body parts both show. A pair farther
apart than the threshold (default: half the truth's median body size, the diagonal of an
animal's keypoint bounding box) cannot match. :func:`track_report` describes tracks with no
truth: frames missing animals, tracklets and gaps per individual.

An animal is present in a frame when at least one of its body parts has coordinates (NaN
marks absence, as in DeepLabCut's tracked files); likelihoods are not thresholded.
"""

from __future__ import annotations

import itertools
import os
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from napari_dlcflow.core.predictions.analysis_files import (
    Predictions,
    PredictionsError,
    read_predictions,
)
from napari_dlcflow.core.untrusted import shorten

__all__ = [
    "SINGLE_ANIMAL",
    "TrackComparison",
    "TrackReport",
    "Tracks",
    "compare_tracks",
    "default_threshold",
    "predictions_from_tracks",
    "read_dlc_tracks",
    "track_report",
    "tracks_from_predictions",
]

#: The individual's name in a single-animal file (DeepLabCut's 3-level columns).
SINGLE_ANIMAL = "animal"


@dataclass(eq=False)
class Tracks:
    """Keypoints of every individual in every frame of one video.

    Attributes
    ----------
    keypoints : ndarray of float of shape (T, N, K, 2)
        ``x, y`` of body part k of individual n in frame t; NaN: absent.
    likelihood : ndarray of float of shape (T, N, K) or None
        The likelihoods, when the file has them (a truth of ``x, y`` only has none).
    individuals : tuple of str
        The N identities (DeepLabCut's individuals, SLEAP's tracks).
    bodyparts : tuple of str
        The K body parts.
    source : Path or None
        The file read.
    covered : ndarray of bool of shape (T,)
        Frames the file holds a row for (a truth may annotate only some frames).
    notes : list of str
        What reading met (left-out body parts, ignored instances).
    """

    keypoints: np.ndarray
    likelihood: np.ndarray | None
    individuals: tuple[str, ...]
    bodyparts: tuple[str, ...]
    source: Path | None = None
    covered: np.ndarray | None = None
    notes: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.keypoints = np.asarray(self.keypoints, dtype=np.float64)
        if self.keypoints.ndim != 4 or self.keypoints.shape[3] != 2:
            raise ValueError(f"keypoints must have shape (T, N, K, 2), not {self.keypoints.shape}")
        t, n, k, _ = self.keypoints.shape
        if len(self.individuals) != n or len(self.bodyparts) != k:
            raise ValueError(
                f"keypoints have {n} individuals and {k} body parts, names give "
                f"{len(self.individuals)} and {len(self.bodyparts)}"
            )
        if self.likelihood is not None:
            self.likelihood = np.asarray(self.likelihood, dtype=np.float64)
            if self.likelihood.shape != (t, n, k):
                raise ValueError(f"likelihood must have shape {(t, n, k)}")
        self.covered = (
            np.ones(t, dtype=bool) if self.covered is None else np.asarray(self.covered, bool)
        )
        if self.covered.shape != (t,):
            raise ValueError(f"covered must have shape ({t},)")

    @property
    def n_frames(self) -> int:
        """T, the number of frames (``0 .. last``)."""
        return int(self.keypoints.shape[0])

    @property
    def name(self) -> str:
        """The file's name, or ``"tracks"``."""
        return str(self.source) if self.source is not None else "tracks"

    def present(self) -> np.ndarray:
        """``(T, N)`` bool: the individual has at least one body part in the frame."""
        return ~np.isnan(self.keypoints[..., 0]).all(axis=2)


# ------------------------------------------------------------------------------ reading


def tracks_from_predictions(pred: Predictions, path: Path | None = None) -> Tracks:
    """Tracks from a DeepLabCut table (:class:`~.analysis_files.Predictions`).

    A single-animal table (3 column levels) is one individual, :data:`SINGLE_ANIMAL`. The
    unique body parts of a multi-animal table (individual ``single``) belong to no identity:
    they are left out, with a note. Rows go to their frame numbers.

    Raises
    ------
    PredictionsError
        No individual, repeated frame numbers, negative frame numbers, or individuals with
        different body parts.
    """
    where = path or pred.path or "the table"
    notes = list(pred.notes)
    if pred.multi_animal:
        singles = sorted({b for i, b in pred.keypoints if i == "single"})
        if singles:
            notes.append(
                f"unique body parts ({shorten(', '.join(singles))}) belong to no individual: "
                "left out of the identity metrics"
            )
        individuals = [i for i in pred.unique_individuals if i != "single"]
    else:
        individuals = [SINGLE_ANIMAL] if pred.data.shape[1] else []
    if not individuals:
        raise PredictionsError(f"{where}: no individuals (no body part of any animal)")
    cols = {
        (i if pred.multi_animal else SINGLE_ANIMAL, b): c
        for c, (i, b) in enumerate(pred.keypoints)
    }
    bodyparts = list(dict.fromkeys(b for (i, b) in cols if i == individuals[0]))
    for ind in individuals:
        mine = [b for (i, b) in cols if i == ind]
        if sorted(mine) != sorted(bodyparts):
            raise PredictionsError(
                f"{where}: individual {ind!r} has other body parts than {individuals[0]!r}"
            )
    frames = pred.frames
    if len(frames) == 0:
        raise PredictionsError(f"{where}: no rows (frames)")
    if frames.min() < 0 or len(np.unique(frames)) != len(frames):
        raise PredictionsError(f"{where}: its frame numbers are negative or repeated")
    n_t = int(frames.max()) + 1
    if n_t > 50 * max(len(frames), 1000):
        raise PredictionsError(f"{where}: frame numbers up to {n_t - 1} for {len(frames)} rows")
    idx = np.array([[cols[(ind, b)] for b in bodyparts] for ind in individuals])
    kp = np.full((n_t, len(individuals), len(bodyparts), 2), np.nan)
    kp[frames] = pred.data[:, idx, :2]
    lik_rows = pred.data[:, idx, 2]
    likelihood = None
    if not np.isnan(lik_rows).all():
        likelihood = np.full((n_t, len(individuals), len(bodyparts)), np.nan)
        likelihood[frames] = lik_rows
    covered = np.zeros(n_t, dtype=bool)
    covered[frames] = True
    return Tracks(
        keypoints=kp,
        likelihood=likelihood,
        individuals=tuple(individuals),
        bodyparts=tuple(bodyparts),
        source=path or pred.path,
        covered=covered,
        notes=notes,
    )


def read_dlc_tracks(path: str | os.PathLike) -> Tracks:
    """Read a DeepLabCut tracked or analysis file (``.h5``/``.csv``) as :class:`Tracks`.

    Accepts the tracked output (``<video><scorer>_el.h5``, ``_bx.h5``, ``_sk.h5``, their
    ``_filtered`` versions), single-animal analysis files, and tables of ``x, y`` only (a truth)
    whose index is frame numbers.

    Raises
    ------
    FileNotFoundError
        If the file does not exist.
    PredictionsError
        (a ValueError) If it is not such a table; the message names the file and the problem.
    """
    p = Path(path)
    pred = read_predictions(p, meta=False, xy_only=True, frame_index=True)
    return tracks_from_predictions(pred, p)


def predictions_from_tracks(
    tracks: Tracks, scorer: str, *, likelihood: float = 1.0
) -> Predictions:
    """DeepLabCut's multi-animal table of ``tracks`` (the inverse of
    :func:`tracks_from_predictions`): one row per frame ``0 .. T-1``, columns individual by
    individual, as DeepLabCut's tracked files have them.

    Parameters
    ----------
    tracks : Tracks
        What to convert (e.g. a SLEAP file's tracks).
    scorer : str
        The scorer of the table's header.
    likelihood : float, default 1.0
        The likelihood of present points when ``tracks`` has none (a SLEAP file read by
        :func:`~napari_dlcflow.core.formats.sleap.read_tracks`); absent points get NaN.

    Returns
    -------
    Predictions
        ``multi_animal`` True, ``path`` ``tracks.source``.
    """
    kp = tracks.keypoints
    t, n, k, _ = kp.shape
    data = np.empty((t, n, k, 3))
    data[..., :2] = kp
    if tracks.likelihood is not None:
        data[..., 2] = tracks.likelihood
    else:
        data[..., 2] = np.where(np.isnan(kp).any(axis=-1), np.nan, float(likelihood))
    return Predictions(
        data=data.reshape(t, n * k, 3),
        bodyparts=tuple(tracks.bodyparts) * n,
        individuals=tuple(i for i in tracks.individuals for _ in range(k)),
        scorer=scorer,
        frames=np.arange(t),
        multi_animal=True,
        path=tracks.source,
        notes=list(tracks.notes),
    )


# ------------------------------------------------------------------------- with a truth


def body_sizes(tracks: Tracks) -> np.ndarray:
    """``(T, N)`` diagonal of each animal's keypoint bounding box (NaN: fewer than 2 parts)."""
    kp = tracks.keypoints
    n_vis = (~np.isnan(kp[..., 0])).sum(axis=2)
    with np.errstate(all="ignore"), _quiet():
        span = np.nanmax(kp, axis=2) - np.nanmin(kp, axis=2)
    size = np.hypot(span[..., 0], span[..., 1])
    size[n_vis < 2] = np.nan
    return size


class _quiet:
    """Silences numpy's all-NaN slice warnings (NaN is "absent" here)."""

    def __enter__(self) -> None:
        import warnings

        self._w = warnings.catch_warnings()
        self._w.__enter__()
        warnings.simplefilter("ignore", RuntimeWarning)

    def __exit__(self, *exc: object) -> None:
        self._w.__exit__(*exc)


def default_threshold(truth: Tracks) -> float:
    """Half the truth's median body size (bounding-box diagonal over frames and animals).

    Raises
    ------
    ValueError
        If no animal of the truth shows two body parts in any frame.
    """
    sizes = body_sizes(truth)
    if np.isnan(sizes).all():
        raise ValueError(
            f"{truth.name}: no animal shows two body parts in any frame, so there is no body "
            "size for the default match threshold; give one (--threshold PX)"
        )
    return 0.5 * float(np.nanmedian(sizes))


@dataclass
class IndividualError:
    """Keypoint error of one truth individual over the frames it was matched.

    Attributes
    ----------
    individual : str
    matched_frames : int
        Frames where a predicted animal matched it.
    present_frames : int
        Frames where it is present in the truth.
    median_px, mean_px : float
        Over every body part shown by both in the matched frames (NaN: never matched).
    predicted : str or None
        The predicted identity matched with it most often.
    """

    individual: str
    matched_frames: int
    present_frames: int
    median_px: float
    mean_px: float
    predicted: str | None


@dataclass
class TrackComparison:
    """Predicted tracks scored against a truth (:func:`compare_tracks`).

    Attributes
    ----------
    idf1, mota : float
        motmetrics' IDF1 and MOTA.
    switches : int
        Identity switches (motmetrics: each time a truth animal's matched predicted identity
        changes, so swapping two animals' identities counts 2).
    switches_per_1000 : float
        Per 1,000 compared frames.
    all_found : float
        Share of compared frames where every truth animal present was matched.
    frames : int
        Compared frames (those the truth covers).
    threshold : float
        The match distance in pixels.
    per_individual : list of IndividualError
    mapping : dict of str to str
        Each predicted identity to the truth identity it matched most often.
    bodyparts : tuple of str
        The body parts compared.
    notes : list of str
    """

    idf1: float
    mota: float
    switches: int
    switches_per_1000: float
    all_found: float
    frames: int
    threshold: float
    per_individual: list[IndividualError]
    mapping: dict[str, str]
    bodyparts: tuple[str, ...]
    notes: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-ready values."""
        from dataclasses import asdict

        d = asdict(self)
        d["bodyparts"] = list(self.bodyparts)
        return _json_safe(d)


def _json_safe(obj: Any) -> Any:
    if isinstance(obj, dict):
        return {str(k): _json_safe(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_json_safe(v) for v in obj]
    if isinstance(obj, (float, np.floating)):
        return None if np.isnan(obj) else float(obj)
    if isinstance(obj, np.integer):
        return int(obj)
    return obj


def _align(
    pred: Tracks, truth: Tracks, require_names: bool, common_bodyparts: bool
) -> tuple[list[int], list[int], list[str]]:
    """Columns of the compared body parts in ``truth`` and in ``pred``, and notes; refuses
    what cannot be compared."""
    notes: list[str] = []
    if pred.n_frames != truth.n_frames:
        short, long_ = (pred, truth) if pred.n_frames < truth.n_frames else (truth, pred)
        raise ValueError(
            f"{short.name} is shorter: it ends at frame {short.n_frames - 1}, "
            f"{long_.name} at frame {long_.n_frames - 1}; tracks of the same video have "
            "the same length"
        )
    missing = [b for b in truth.bodyparts if b not in pred.bodyparts]
    common = [b for b in truth.bodyparts if b in pred.bodyparts]
    if missing and not (common_bodyparts and common):
        hint = "" if common_bodyparts else "; to compare the body parts both have, allow that"
        raise ValueError(
            f"{pred.name} lacks body parts of the truth {truth.name}: "
            f"{shorten(', '.join(missing))}{hint}"
        )
    if missing:
        notes.append(f"body parts only in the truth, not compared: {shorten(', '.join(missing))}")
    extra = [b for b in pred.bodyparts if b not in truth.bodyparts]
    if extra:
        notes.append(f"body parts only in the predictions, not compared: {', '.join(extra)}")
    if require_names:
        lacking = [i for i in truth.individuals if i not in pred.individuals]
        if lacking:
            raise ValueError(
                f"{pred.name} lacks individuals of the truth {truth.name}: "
                f"{shorten(', '.join(lacking))} (it has "
                f"{shorten(', '.join(pred.individuals))}); to compare identities whatever "
                "their names, ignore the names"
            )
    t_cols = [truth.bodyparts.index(b) for b in common]
    return t_cols, [pred.bodyparts.index(b) for b in common], notes


def compare_tracks(
    pred: Tracks,
    truth: Tracks,
    *,
    threshold: float | None = None,
    require_names: bool = True,
    common_bodyparts: bool = False,
) -> TrackComparison:
    """Score predicted tracks against a truth: IDF1, MOTA, switches, keypoint errors.

    Per compared frame (the frames the truth covers), the truth's present animals are the
    objects and the predicted present animals the hypotheses; their distance is the mean
    keypoint distance over the body parts both show, and pairs farther apart than
    ``threshold`` (or with no body part in common) cannot match. motmetrics' accumulator does
    the matching (keeping the previous frame's matches where still possible) and the metrics.

    Parameters
    ----------
    pred, truth : Tracks
        Tracks of the same video: the same number of frames (``0 .. last``).
    threshold : float, optional
        Largest distance in pixels of a match; default :func:`default_threshold` of the truth.
    require_names : bool, default True
        The truth's individuals must exist by name in the predictions. With False the names
        are ignored (the metrics never use them: identities are matched by motmetrics).
    common_bodyparts : bool, default False
        Compare on the body parts both files have, when the truth has some the predictions
        lack (at least one in common). By default that is refused.

    Returns
    -------
    TrackComparison

    Raises
    ------
    ValueError
        Different lengths (names the shorter file), body parts (unless ``common_bodyparts``)
        or, with ``require_names``, individuals of the truth missing in the predictions, or a
        threshold that is not a positive number.
    """
    try:
        import motmetrics as mm
    except ImportError:
        raise ValueError(
            "comparing tracks needs motmetrics: pip install 'napari-dlcflow[tracking]'"
        ) from None
    t_cols, cols, notes = _align(pred, truth, require_names, common_bodyparts)
    notes = list(truth.notes) + list(pred.notes) + notes
    if threshold is None:
        threshold = default_threshold(truth)
    threshold = float(threshold)
    if not threshold > 0 or not np.isfinite(threshold):
        raise ValueError(
            f"the match threshold must be a positive number of pixels, not {threshold}"
        )
    p_kp = pred.keypoints[:, :, cols]
    t_kp = truth.keypoints[:, :, t_cols]
    p_here = ~np.isnan(p_kp[..., 0]).all(axis=2)
    t_here = ~np.isnan(t_kp[..., 0]).all(axis=2)
    frames = np.flatnonzero(truth.covered)
    acc = mm.MOTAccumulator(auto_id=False)
    n_truth, n_pred = len(truth.individuals), len(pred.individuals)
    matched = np.full((truth.n_frames, n_truth), -1)
    for t in frames:
        oids = np.flatnonzero(t_here[t])
        hids = np.flatnonzero(p_here[t])
        # (objects, hypotheses, K) distances per body part
        d = np.hypot(*(t_kp[t, oids][:, None] - p_kp[t, hids][None, :]).transpose(3, 0, 1, 2))
        with _quiet():
            dist = np.nanmean(d, axis=2) if d.size else np.zeros((len(oids), len(hids)))
        dist[~(dist <= threshold)] = np.nan
        acc.update(oids.tolist(), hids.tolist(), dist, frameid=int(t))
    events = acc.mot_events
    if len(events):
        hits = events[events["Type"].isin(["MATCH", "SWITCH"])]
        fr = hits.index.get_level_values(0).to_numpy(dtype=np.int64)
        matched[fr, hits["OId"].to_numpy(dtype=np.int64)] = hits["HId"].to_numpy(dtype=np.int64)
    mh = mm.metrics.create()
    summary = mh.compute(acc, metrics=["idf1", "mota", "num_switches"], name="tracks")
    n_f = len(frames)
    switches = int(summary["num_switches"].iloc[0])
    found = (matched[frames] >= 0) | ~t_here[frames]
    all_found = float(found.all(axis=1).mean()) if n_f else float("nan")
    per: list[IndividualError] = []
    pair_counts: Counter[tuple[int, int]] = Counter()
    for o, name in enumerate(truth.individuals):
        rows = frames[matched[frames, o] >= 0]
        hyp = matched[rows, o]
        pair_counts.update((int(h), o) for h in hyp)
        err = np.hypot(*(t_kp[rows, o] - p_kp[rows, hyp]).transpose(2, 0, 1)).ravel()
        err = err[~np.isnan(err)]
        best = Counter(hyp.tolist()).most_common(1)
        per.append(
            IndividualError(
                individual=name,
                matched_frames=len(rows),
                present_frames=int(t_here[frames, o].sum()),
                median_px=float(np.median(err)) if err.size else float("nan"),
                mean_px=float(np.mean(err)) if err.size else float("nan"),
                predicted=pred.individuals[best[0][0]] if best else None,
            )
        )
    mapping: dict[str, str] = {}
    for h in range(n_pred):
        counts = {o: c for (hh, o), c in pair_counts.items() if hh == h}
        if counts:
            mapping[pred.individuals[h]] = truth.individuals[max(counts, key=counts.__getitem__)]
    return TrackComparison(
        idf1=float(summary["idf1"].iloc[0]),
        mota=float(summary["mota"].iloc[0]),
        switches=switches,
        switches_per_1000=1000.0 * switches / n_f if n_f else float("nan"),
        all_found=all_found,
        frames=n_f,
        threshold=threshold,
        per_individual=per,
        mapping=mapping,
        bodyparts=tuple(truth.bodyparts[c] for c in t_cols),
        notes=notes,
    )


# --------------------------------------------------------------------------- no truth


@dataclass
class IndividualTrack:
    """One identity's presence over the frames (:func:`track_report`).

    Attributes
    ----------
    individual : str
    frames_present : int
    tracklets : int
        Runs of consecutive frames where it is present.
    gaps : int
        Runs of absent frames between two tracklets (not before the first or after the last).
    longest_gap : int
        Frames in the longest gap (0 without gaps).
    """

    individual: str
    frames_present: int
    tracklets: int
    gaps: int
    longest_gap: int


@dataclass
class TrackReport:
    """Tracks described without a truth (:func:`track_report`).

    Attributes
    ----------
    source : str
    frames : int
    expected : int
        Animals expected in every frame.
    frames_missing_animals : int
        Frames with fewer present animals than expected.
    per_individual : list of IndividualTrack
    summary : str
        One paragraph saying the above.
    notes : list of str
    """

    source: str
    frames: int
    expected: int
    frames_missing_animals: int
    per_individual: list[IndividualTrack]
    summary: str
    notes: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-ready values."""
        from dataclasses import asdict

        return _json_safe(asdict(self))


def _runs(mask: np.ndarray) -> list[tuple[int, int]]:
    """``(start, stop)`` of the runs of True."""
    m = np.concatenate([[False], mask.astype(bool), [False]])
    edges = np.flatnonzero(np.diff(m.astype(np.int8)))
    return list(zip(edges[::2].tolist(), edges[1::2].tolist(), strict=True))


def track_report(tracks: Tracks, expected: int | None = None) -> TrackReport:
    """Describe tracks without a truth: missing animals, tracklets and gaps per identity.

    Parameters
    ----------
    tracks : Tracks
    expected : int, optional
        Animals in every frame; default the number of individuals of the file.

    Raises
    ------
    ValueError
        If ``expected`` is not a positive number.
    """
    n_exp = len(tracks.individuals) if expected is None else int(expected)
    if n_exp < 1:
        raise ValueError(f"the expected number of animals must be at least 1, not {expected}")
    here = tracks.present()
    n_t = tracks.n_frames
    missing = int((here.sum(axis=1) < n_exp).sum())
    per = []
    for n, name in enumerate(tracks.individuals):
        runs = _runs(here[:, n])
        gaps = [b[0] - a[1] for a, b in itertools.pairwise(runs)]
        per.append(
            IndividualTrack(
                individual=name,
                frames_present=int(here[:, n].sum()),
                tracklets=len(runs),
                gaps=len(gaps),
                longest_gap=max(gaps, default=0),
            )
        )
    pieces = sum(p.tracklets for p in per)
    worst = max(per, key=lambda p: (p.tracklets, p.longest_gap))
    text = (
        f"{tracks.name}: {n_t} frames, {len(tracks.individuals)} identities, "
        f"{n_exp} animals expected. {missing} frames ({100.0 * missing / n_t:.1f}%) show fewer "
        f"animals than expected. The identities are cut into {pieces} tracklets in all"
    )
    if worst.tracklets > 1:
        text += (
            f"; the most fragmented is {worst.individual!r} ({worst.tracklets} tracklets, "
            f"{worst.gaps} gap{'s' if worst.gaps != 1 else ''}, the longest "
            f"{worst.longest_gap} frames)"
        )
    text += (
        ". Each gap is a frame range where an identity was lost; a new tracklet after it may "
        "carry another animal's identity."
        if any(p.gaps for p in per)
        else ". No identity has a gap."
    )
    return TrackReport(
        source=tracks.name,
        frames=n_t,
        expected=n_exp,
        frames_missing_animals=missing,
        per_individual=per,
        summary=text,
        notes=list(tracks.notes),
    )
