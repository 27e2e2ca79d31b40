"""napari layer data (plain ``(data, kwargs, layer type)`` tuples; no napari import).

Points, skeleton vectors and trails of predictions, ground-truth keypoints, label files and
the labels being edited, all coloured by :mod:`.colors` and styled by :mod:`.style`.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import numpy as np
import numpy.typing as npt

from napari_dlcflow.core.layers.colors import (
    DEFAULT_COLORMAP,
    color_groups,
    group_colors,
    keypoint_colors,
    palette,
)
from napari_dlcflow.core.layers.coords import keypoints_to_points
from napari_dlcflow.core.layers.skeleton import skeleton_edges, skeleton_segments
from napari_dlcflow.core.layers.style import PointsStyle, TracksStyle, VectorsStyle

if TYPE_CHECKING:
    import pandas as pd

    from napari_dlcflow.core.labels.collected import Labels
    from napari_dlcflow.core.predictions.analysis_files import Predictions

__all__ = [
    "LABEL_BORDER",
    "LOW_BORDER",
    "PREDICTED_BORDER",
    "TRAILS_BY",
    "LayerData",
    "editing_colors",
    "editing_points",
    "editing_skeleton",
    "identity_layer_data",
    "individual_centres",
    "keypoint_layers",
    "labels_points",
    "points_layer_data",
    "predictions_colors",
    "predictions_layers",
    "shown_mask",
    "skeleton_vectors_for",
    "track_groups",
    "tracks_layer_data",
]

LayerData = tuple[Any, dict[str, Any], str]
"""A napari LayerData tuple: ``(data, kwargs, layer type)``."""

PREDICTED_BORDER = np.array([1.0, 0.84, 0.0, 1.0])
"""Border of a prediction not accepted yet (gold)."""
LOW_BORDER = np.array([1.0, 0.19, 0.19, 1.0])
"""Border of a prediction below the p-cutoff (red)."""
LABEL_BORDER = np.array([0.0, 0.0, 0.0, 1.0])
"""Border of a label (black)."""
TRAILS_BY = ("bodypart", "individual")
"""Trails per keypoint column, or one per animal along its centre."""
UNIQUE = "single"
"""DeepLabCut's individual of the unique body parts: not an animal, so it gets no name label."""


# ------------------------------------------------------------------------------ predictions


def shown_mask(likelihood: npt.ArrayLike, pcutoff: float) -> np.ndarray:
    """Which points to show: likelihood at or above ``pcutoff`` (NaN likelihood: hidden)."""
    lik = np.asarray(likelihood, dtype=float)
    with np.errstate(invalid="ignore"):
        return lik >= pcutoff


def predictions_colors(
    pred: Predictions, *, color_by: str = "auto", colormap: str = DEFAULT_COLORMAP
) -> tuple[np.ndarray, list[str], np.ndarray]:
    """Colour group of each column, the group names and their RGBA (``(G, 4)``)."""
    group, names = color_groups(
        pred.individuals, pred.bodyparts, color_by, multi_animal=pred.multi_animal
    )
    return group, names, palette(len(names), colormap)


def _codes(values: Sequence[str], categories: Sequence[str]) -> np.ndarray:
    lookup = {n: i for i, n in enumerate(categories)}
    return np.array([lookup[v] for v in values], dtype=np.int16)


def _rows(pred: Predictions, frames: tuple[int, int] | None) -> slice | np.ndarray:
    """Rows whose frame lies in ``[start, stop)`` (all rows when ``frames`` is None)."""
    if frames is None:
        return slice(None)
    start, stop = frames
    if pred.n_frames and np.all(np.diff(pred.frames) > 0):
        lo, hi = np.searchsorted(pred.frames, [start, stop])
        return slice(int(lo), int(hi))
    return np.flatnonzero((pred.frames >= start) & (pred.frames < stop))


def points_layer_data(
    pred: Predictions,
    *,
    pcutoff: float = 0.6,
    color_by: str = "auto",
    colormap: str = DEFAULT_COLORMAP,
) -> tuple[np.ndarray, dict[str, Any]]:
    """Points ``(t, y, x)`` of every predicted keypoint, with its features and colours.

    Parameters
    ----------
    pred : Predictions
        The predictions.
    pcutoff : float
        Points with a lower likelihood get ``shown=False``.
    color_by : {"auto", "bodypart", "individual"}
        ``auto`` colours by individual in multi-animal files, else by body part.
    colormap : str
        The project's colormap.

    Returns
    -------
    points : ndarray of shape (P, 3)
        ``(frame, y, x)``, frame-major then column order; NaN predictions are left out.
    extra : dict
        ``features`` (``bodypart``, ``individual`` categoricals, ``likelihood``, ``column``),
        ``face_color`` ``(P, 4)``, ``shown`` ``(P,)`` and ``colors`` (one per colour group).
    """
    import pandas as pd

    points, _, col = keypoints_to_points(pred.xy, pred.frames)
    n_cols = pred.data.shape[1]
    lik_all = pred.likelihood.reshape(-1)
    # the rows kept are those with x and y; their likelihoods in the same (frame-major) order
    lik = lik_all if len(col) == lik_all.size else lik_all[~np.isnan(pred.xy).any(axis=2).ravel()]
    col = col.astype(np.int32 if n_cols < 2**31 else np.int64)
    group, names, colors = predictions_colors(pred, color_by=color_by, colormap=colormap)
    features = pd.DataFrame(
        {
            "bodypart": pd.Categorical.from_codes(
                np.take(_codes(pred.bodyparts, pred.unique_bodyparts), col),
                pred.unique_bodyparts,
            ),
            "individual": pd.Categorical.from_codes(
                np.take(_codes(pred.individuals, pred.unique_individuals), col),
                pred.unique_individuals,
            ),
            "likelihood": lik,
            "column": col,
        },
        copy=False,
    )
    face = np.take(colors[group], col, axis=0)
    return points, {
        "features": features,
        "face_color": face,
        "shown": shown_mask(lik, pcutoff),
        "colors": {n: colors[i] for i, n in enumerate(names)},
    }


def skeleton_vectors_for(
    pred: Predictions,
    skeleton: Sequence[tuple[str, str]],
    *,
    pcutoff: float = 0.0,
    frames: tuple[int, int] | None = None,
) -> np.ndarray:
    """Skeleton edges of every frame (and individual) of predictions as napari vectors.

    An edge is drawn in a frame when both ends are predicted with likelihood at or above
    ``pcutoff``. ``frames=(start, stop)`` keeps only frames ``start <= frame < stop`` (a
    window around the current frame of a long video).

    Returns
    -------
    ndarray of shape (M, 2, 3)
        Start ``(t, y, x)`` and displacement ``(0, dy, dx)`` of each drawn edge.
    """
    rows = _rows(pred, frames)
    data = pred.data[rows]
    return skeleton_segments(
        data[..., :2],
        skeleton_edges(pred.individuals, pred.bodyparts, skeleton),
        frames=pred.frames[rows],
        likelihood=data[..., 2],
        pcutoff=pcutoff,
    )


def individual_centres(
    pred: Predictions,
    *,
    pcutoff: float = 0.0,
    at: Sequence[str] = (),
    frames: tuple[int, int] | None = None,
) -> tuple[np.ndarray, list[str]]:
    """One point per animal and frame: where its name label and its centre trail go.

    Parameters
    ----------
    pred : Predictions
        The predictions.
    pcutoff : float
        Only keypoints at or above it count (NaN: never).
    at : sequence of str
        Preferred body parts, in order: the first one visible in a frame is the animal's point
        there; where none of them is (or none is given), the mean of its visible keypoints.
    frames : (int, int), optional
        Only frames ``start <= frame < stop``.

    Returns
    -------
    centres : ndarray of shape (T, N, 2)
        ``x, y`` per frame (rows of ``pred`` in the window) and animal; NaN where no keypoint
        of it is visible.
    names : list of str
        The N animals: the individuals in column order, without DeepLabCut's ``single`` (the
        unique body parts); ``[""]`` for a single-animal file.
    """
    rows = _rows(pred, frames)
    data = pred.data[rows]
    names = [n for n in pred.unique_individuals if n != UNIQUE]
    with np.errstate(invalid="ignore"):
        ok = ~np.isnan(data[..., :2]).any(axis=2) & (data[..., 2] >= pcutoff)
    out = np.full((data.shape[0], len(names), 2), np.nan)
    inds = np.asarray(pred.individuals, dtype=object)
    bps = np.asarray(pred.bodyparts, dtype=object)
    for j, name in enumerate(names):
        cols = np.flatnonzero(inds == name)
        seen = ok[:, cols]
        count = seen.sum(axis=1)
        xy = np.where(seen[..., None], data[:, cols, :2], 0.0).sum(axis=1)
        with np.errstate(invalid="ignore", divide="ignore"):
            out[:, j] = xy / count[:, None]
        chosen = np.zeros(len(out), dtype=bool)
        for bp in at:
            hit = np.flatnonzero(bps[cols] == bp)
            if not len(hit):
                continue
            c = cols[hit[0]]
            use = ok[:, c] & ~chosen
            out[use, j] = data[use, c, :2]
            chosen |= use
    return out, names


def tracks_layer_data(
    pred: Predictions,
    *,
    pcutoff: float = 0.0,
    frames: tuple[int, int] | None = None,
    by: str = "bodypart",
) -> np.ndarray:
    """Trails as napari tracks, ``(track_id, t, y, x)`` rows.

    ``by="bodypart"`` gives one track per keypoint column (an individual's body part), so a
    trail never joins two animals; ``by="individual"`` one track per animal along its centre
    (:func:`individual_centres`; track ``j`` is animal ``j``). Rows are sorted by track then
    frame; predictions that are NaN or below ``pcutoff`` are left out (the trail then joins
    the neighbouring points of the same track). ``frames=(start, stop)`` keeps only that window.
    """
    if by not in TRAILS_BY:
        raise ValueError(f"by must be one of {', '.join(TRAILS_BY)}, not {by!r}")
    rows = _rows(pred, frames)
    if by == "individual":
        xy, _ = individual_centres(pred, pcutoff=pcutoff, frames=frames)
        ok = ~np.isnan(xy).any(axis=2)
    else:
        xy = pred.xy[rows]
        with np.errstate(invalid="ignore"):
            ok = ~np.isnan(xy).any(axis=2) & (pred.likelihood[rows] >= pcutoff)
    n_frames, n_tracks = xy.shape[:2]
    # column-major order: track id outer, frame inner
    keep = ok.T.reshape(-1)
    track = np.repeat(np.arange(n_tracks, dtype=float), n_frames)[keep]
    t = np.tile(pred.frames[rows].astype(float), n_tracks)[keep]
    x = xy[..., 0].T.reshape(-1)[keep]
    y = xy[..., 1].T.reshape(-1)[keep]
    return np.column_stack([track, t, y, x])


def track_groups(
    pred: Predictions, tracks: np.ndarray, *, color_by: str = "auto", by: str = "bodypart"
) -> np.ndarray:
    """The ``group`` feature of trails (colour group of each row's track, scaled to 0..1).

    ``by`` says what the track ids are (see :func:`tracks_layer_data`): keypoint columns, or
    animals (coloured as their first column).
    """
    group, names = color_groups(
        pred.individuals, pred.bodyparts, color_by, multi_animal=pred.multi_animal
    )
    if by == "individual":
        animals = [n for n in pred.unique_individuals if n != UNIQUE]
        group = group[[pred.individuals.index(n) for n in animals]]
    return group[tracks[:, 0].astype(int)] / max(len(names) - 1, 1)


def identity_layer_data(
    pred: Predictions,
    *,
    name: str | None = None,
    pcutoff: float = 0.6,
    at: Sequence[str] = (),
    colormap: str = DEFAULT_COLORMAP,
    text_size: float = 12.0,
    offset: float | None = None,
) -> LayerData | None:
    """The animals' names, one per animal and frame, in the animal's colour (a Points layer).

    Each label is centred ``offset`` pixels above the animal's point of :func:`individual_centres`
    (the first visible body part of ``at``, else the mean of its keypoints at or above
    ``pcutoff``) and follows the time axis like the keypoints. The points themselves are
    invisible; only the text shows.

    Parameters
    ----------
    pred : Predictions
        Multi-animal predictions (single-animal ones give None).
    name : str, optional
        Base layer name; the layer is ``"<name> names"``.
    pcutoff : float
        Keypoints below it do not count.
    at : sequence of str
        Preferred body parts for the label's place.
    colormap : str
        The project's colormap (colour by individual, as the points).
    text_size : float
        Font size in points.
    offset : float, optional
        Pixels between the label and the animal's point (upwards); default half an animal's
        typical height (the median over frames and animals of the vertical spread of its
        visible keypoints) plus 6, so the name sits just above the body.

    Returns
    -------
    (data, kwargs, "points") or None
        Points ``(t, y, x)``, with the ``individual`` feature (the text) and ``likelihood``
        (NaN: the layer holds no predictions); None for single-animal predictions.
    """
    import pandas as pd

    if not pred.multi_animal:
        return None
    centres, names = individual_centres(pred, pcutoff=pcutoff, at=at)
    if not names:
        return None
    if offset is None:
        offset = _half_height(pred, names, pcutoff) + 6.0
    frame_i, animal = np.nonzero(~np.isnan(centres).any(axis=2))
    xy = centres[frame_i, animal]
    points = np.column_stack([pred.frames[frame_i].astype(float), xy[:, 1], xy[:, 0]])
    colors = group_colors(
        pred.individuals,
        pred.bodyparts,
        color_by="individual",
        multi_animal=True,
        colormap=colormap,
    )
    rgba = np.array([colors[n] for n in names], dtype=float).reshape(-1, 4)
    base = name or (pred.path.stem if pred.path is not None else pred.scorer)
    style = PointsStyle(
        name=f"{base} names",
        size=1.0,
        face_color="transparent",
        border_width=0.0,
        border_color="transparent",
        text={
            "string": "{individual}",
            "color": rgba[animal] if len(animal) else "white",
            "size": float(text_size),
            "translation": [0.0, -float(offset), 0.0],
            "anchor": "center",
        },
    )
    features = pd.DataFrame(
        {"individual": pd.Categorical.from_codes(animal.astype(np.int16), names)}
    )
    meta = {
        "dlcflow_predictions": str(pred.path) if pred.path else None,
        "dlcflow_kind": "identity",
        "individuals": names,
        "pcutoff": float(pcutoff),
        "colormap": colormap,
        "anchor_bodyparts": list(at),
    }
    return points, {**style.as_kwargs(), "features": features, "metadata": meta}, "points"


def _half_height(pred: Predictions, names: Sequence[str], pcutoff: float) -> float:
    """Half the median vertical spread of an animal's visible keypoints (0 when unknown)."""
    with np.errstate(invalid="ignore"):
        y = np.where(pred.likelihood >= pcutoff, pred.data[..., 1], np.nan)
    inds = np.asarray(pred.individuals, dtype=object)
    spreads = []
    for name in names:
        cols = y[:, inds == name]
        seen = ~np.isnan(cols).all(axis=1)
        if seen.any():
            spreads.append(np.nanmax(cols[seen], axis=1) - np.nanmin(cols[seen], axis=1))
    return float(np.median(np.concatenate(spreads))) / 2 if spreads else 0.0


def predictions_layers(
    pred: Predictions,
    skeleton: Sequence[tuple[str, str]] = (),
    *,
    name: str | None = None,
    pcutoff: float = 0.6,
    color_by: str = "auto",
    colormap: str = DEFAULT_COLORMAP,
    trails: bool = True,
    tail_length: int = 30,
    size: float = 6.0,
    symbol: str = "disc",
    skeleton_color: str = "white",
    window: tuple[int, int] | None = None,
    trails_by: str = "bodypart",
    names: bool = True,
    names_at: Sequence[str] = (),
) -> list[LayerData]:
    """napari LayerData tuples for predictions: points, skeleton vectors, trails and names.

    Parameters
    ----------
    pred : Predictions
        The predictions.
    skeleton : sequence of (str, str)
        Edges to draw per frame (none: no Vectors layer).
    name : str, optional
        Base layer name; defaults to the file's stem or the scorer.
    pcutoff : float
        Points below it are hidden (``shown`` mask); edges need both ends at or above it.
    color_by : {"auto", "bodypart", "individual"}
        Colour groups.
    colormap : str
        The project's colormap (see :mod:`.colors`).
    trails : bool
        Add a Tracks layer (one track per keypoint column).
    tail_length : int
        Frames of trail behind the current frame.
    size : float
        Point size in pixels.
    symbol : str
        Marker symbol of the points (e.g. ``"disc"`` for raw, ``"cross"`` for filtered).
    skeleton_color : str
        Colour of the skeleton segments.
    window : (int, int), optional
        Build the skeleton and trails only for frames ``start <= frame < stop``; the points
        always cover every frame. For long videos the Overlay dock moves this window with the
        current frame, which keeps opening fast and memory low.
    trails_by : {"bodypart", "individual"}
        One trail per keypoint column, or one per animal along its centre
        (:func:`tracks_layer_data`).
    names : bool
        In multi-animal files, add the animals' names (:func:`identity_layer_data`).
    names_at : sequence of str
        Preferred body parts for the names' places.

    Returns
    -------
    list of (data, kwargs, layer type)
        Skeleton (if any), trails (if asked), names (multi-animal) and points, bottom to top:
        the points come last.
        The trails carry their groups' RGBA in ``metadata["group_colors"]``: napari needs a
        colormap made of them (``plugin.predictions_reader.finish_layer_data``) to show the
        exact colours.
    """
    base = name or (pred.path.stem if pred.path is not None else pred.scorer)
    points, extra = points_layer_data(pred, pcutoff=pcutoff, color_by=color_by, colormap=colormap)
    meta = {
        "dlcflow_predictions": str(pred.path) if pred.path else None,
        "dlcflow_kind": "predictions",
        "bodyparts": list(pred.bodyparts),
        "individuals": list(pred.individuals),
        "skeleton": [list(e) for e in skeleton],
        "pcutoff": float(pcutoff),
        "colormap": colormap,
    }
    layers: list[LayerData] = []
    if skeleton:
        style = VectorsStyle(name=f"{base} skeleton", edge_width=1.5, edge_color=skeleton_color)
        layers.append(
            (
                skeleton_vectors_for(pred, skeleton, pcutoff=pcutoff, frames=window),
                {**style.as_kwargs(), "metadata": {**meta, "dlcflow_kind": "skeleton"}},
                "vectors",
            )
        )
    track_data = (
        tracks_layer_data(pred, pcutoff=pcutoff, frames=window, by=trails_by) if trails else None
    )
    # napari cannot make a Tracks layer with no vertices (nothing above the p-cutoff)
    if track_data is not None and len(track_data):
        style = TracksStyle(name=f"{base} trails", tail_length=int(tail_length), tail_width=2)
        layers.append(
            (
                track_data,
                {
                    **style.as_kwargs(),
                    "features": {
                        "group": track_groups(pred, track_data, color_by=color_by, by=trails_by)
                    },
                    "metadata": {
                        **meta,
                        "dlcflow_kind": "trails",
                        "trails_by": trails_by,
                        "group_colors": [c.tolist() for c in extra["colors"].values()],
                    },
                },
                "tracks",
            )
        )
    identity = (
        identity_layer_data(pred, name=base, pcutoff=pcutoff, at=names_at, colormap=colormap)
        if names
        else None
    )
    if identity is not None:
        layers.append(identity)
    style = PointsStyle(
        name=base,
        size=size,
        symbol=symbol,
        face_color=extra["face_color"] if len(points) else "white",
    )
    layers.append(
        (
            points,
            {
                **style.as_kwargs(),
                "features": extra["features"],
                "shown": extra["shown"],
                "metadata": meta,
            },
            "points",
        )
    )
    return layers


# ----------------------------------------------------------------------------- ground truth


def keypoint_layers(
    keypoints: npt.ArrayLike,
    bodyparts: Sequence[str],
    skeleton: Sequence[tuple[str, str]] = (),
    *,
    name: str = "keypoints",
    size: float = 8.0,
    colormap: str = DEFAULT_COLORMAP,
    individuals: Sequence[str] = (),
) -> list[LayerData]:
    """A Points layer (coloured by the one colour rule) and, with a skeleton, a Vectors layer.

    Parameters
    ----------
    keypoints : array-like of shape (T, K, 2) or (T, N, K, 2)
        ``x, y`` per frame and body part (single animal), or per frame, individual and body
        part (with ``individuals``); NaN keypoints are left out.
    bodyparts : sequence of str
        The K names; stored in the points' ``bodypart`` feature.
    skeleton : sequence of (str, str)
        Edges to draw (within each individual).
    name : str
        Layer name; the skeleton layer is ``"<name> skeleton"``.
    size : float
        Point size in pixels.
    colormap : str
        The colormap of the colour rule.
    individuals : sequence of str
        The N names of ``(T, N, K, 2)`` keypoints, stored in the ``individual`` feature;
        several individuals are coloured by individual.

    Returns
    -------
    list of (data, kwargs, layer type)
        napari LayerData tuples.
    """
    kp = np.asarray(keypoints, dtype=float)
    if individuals:
        if kp.ndim != 4 or kp.shape[1] != len(individuals):
            raise ValueError(
                f"keypoints of {len(individuals)} individuals must have shape (T, N, K, 2), "
                f"got {kp.shape}"
            )
        kp = kp.reshape(kp.shape[0], -1, 2)
        column_inds = [ind for ind in individuals for _ in bodyparts]
        column_parts = [bp for _ in individuals for bp in bodyparts]
    else:
        column_inds = [""] * len(bodyparts)
        column_parts = list(bodyparts)
    points, _, k = keypoints_to_points(kp)
    colors = keypoint_colors(column_inds, column_parts, colormap=colormap)
    layers: list[LayerData] = []
    if skeleton:
        edges = skeleton_edges(column_inds, column_parts, skeleton)
        style = VectorsStyle(name=f"{name} skeleton")
        layers.append((skeleton_segments(kp, edges), style.as_kwargs(), "vectors"))
    style = PointsStyle(name=name, size=size, face_color=colors[k] if len(k) else "white")
    features = {"bodypart": np.asarray(column_parts, dtype=object)[k]}
    metadata: dict[str, Any] = {
        "bodyparts": list(bodyparts),
        "skeleton": [list(e) for e in skeleton],
    }
    if individuals:
        features["individual"] = np.asarray(column_inds, dtype=object)[k]
        metadata["individuals"] = list(individuals)
    kwargs = {**style.as_kwargs(), "features": features, "metadata": metadata}
    layers.append((points, kwargs, "points"))
    return layers


# ---------------------------------------------------------------------------------- labels


def labels_points(
    labels: Labels, frames: npt.ArrayLike, *, colormap: str = DEFAULT_COLORMAP
) -> tuple[np.ndarray, dict[str, Any], np.ndarray]:
    """Points of a label file, placed on the image stack.

    Parameters
    ----------
    labels : Labels
        The labels (or machine labels, which have likelihoods).
    frames : array-like of int of shape (R,)
        Frame of each row in the image stack; rows with a negative frame are left out.
    colormap : str
        The project's colormap.

    Returns
    -------
    points : ndarray of shape (P, 3)
        ``(t, y, x)`` of every labeled keypoint.
    features : dict
        ``keypoint`` (column), ``individual``, ``bodypart`` and, for machine labels,
        ``likelihood``.
    face_color : ndarray of shape (P, 4)
        The colour rule's colour of each point.
    """
    frames = np.asarray(frames, dtype=int)
    keep = frames >= 0
    data, _t, k = keypoints_to_points(labels.xy[keep], frames[keep])
    individuals = [ind for ind, _ in labels.keypoints]
    bodyparts = [bp for _, bp in labels.keypoints]
    features: dict[str, Any] = {
        "keypoint": k,
        "individual": np.array([individuals[i] for i in k], dtype=object),
        "bodypart": np.array([bodyparts[i] for i in k], dtype=object),
    }
    if labels.likelihood is not None:
        lik = labels.likelihood[np.flatnonzero(keep)]
        valid = ~np.isnan(labels.xy[keep]).any(axis=-1)
        features["likelihood"] = lik[valid]
    colors = keypoint_colors(
        individuals, bodyparts, multi_animal=labels.multianimal, colormap=colormap
    )
    return data, features, colors[k].reshape(-1, 4)


def editing_points(
    xy: np.ndarray,
    keypoints: Sequence[tuple[str, str]],
    colors: np.ndarray,
    *,
    predicted: np.ndarray | None = None,
    likelihood: np.ndarray | None = None,
    pcutoff: float = 0.6,
) -> tuple[np.ndarray, pd.DataFrame, np.ndarray, np.ndarray]:
    """``(data, features, face colours, border colours)`` of the labels being edited.

    Labels are filled with their keypoint's colour (``colors``, one per keypoint column, from
    :func:`.colors.keypoint_colors`) and a black border. Predictions not accepted yet are half
    transparent with a gold border, or a red one below ``pcutoff``, and their name ends with
    ``?`` (or ``?!``).

    Parameters
    ----------
    xy : ndarray of shape (T, K, 2)
        ``x, y`` per frame and keypoint column (NaN where not labeled).
    keypoints : sequence of (individual, bodypart)
        The K columns.
    colors : ndarray of shape (K, 4)
        RGBA per column (:func:`editing_colors`).
    predicted : ndarray of bool of shape (T, K), optional
        Which points are predictions not accepted yet (none by default).
    likelihood : ndarray of shape (T, K), optional
        Their likelihood (NaN by default).
    pcutoff : float, default 0.6
        Predictions below it get the red border.
    """
    import pandas as pd

    data, t, k = keypoints_to_points(xy)
    t = t.astype(int)
    k = k.astype(int)
    shape = np.shape(xy)[:2]
    pred_all = np.zeros(shape, dtype=bool) if predicted is None else np.asarray(predicted)
    lik_all = np.full(shape, np.nan) if likelihood is None else np.asarray(likelihood)
    predicted = pred_all[t, k] if len(k) else np.zeros(0, dtype=bool)
    lik = lik_all[t, k] if len(k) else np.zeros(0)
    with np.errstate(invalid="ignore"):
        low = predicted & (lik < pcutoff)
    names = [keypoints[i][1] for i in k]
    label = [
        n + ("?!" if lo else "?" if pr else "")
        for n, pr, lo in zip(names, predicted, low, strict=True)
    ]
    feats = pd.DataFrame(
        {
            "keypoint": k,
            "individual": [keypoints[i][0] for i in k],
            "bodypart": names,
            "label": label,
            "predicted": predicted,
            "likelihood": lik,
        }
    )
    face = np.asarray(colors, dtype=float)[k].copy() if len(k) else np.zeros((0, 4))
    if len(k):
        face[predicted, 3] = 0.45
    border = np.tile(LABEL_BORDER, (len(k), 1))
    border[predicted] = PREDICTED_BORDER
    border[low] = LOW_BORDER
    return data, feats, face, border


def editing_colors(
    keypoints: Sequence[tuple[str, str]], multianimal: bool, colormap: str = DEFAULT_COLORMAP
) -> np.ndarray:
    """The colour rule's RGBA of each keypoint column ``(individual, bodypart)`` of the labels
    being edited."""
    return keypoint_colors(
        [ind for ind, _ in keypoints],
        [bp for _, bp in keypoints],
        multi_animal=multianimal,
        colormap=colormap,
    )


def editing_skeleton(
    xy: np.ndarray,
    keypoints: Sequence[tuple[str, str]],
    t: int,
    edges: Sequence[tuple[str, str]],
) -> np.ndarray:
    """Vectors ``(N, 2, 3)`` of the skeleton in frame ``t`` of the labels being edited (``xy``
    of shape (T, K, 2) over the columns ``keypoints``); an edge is drawn when both ends are
    labeled, per individual in multi-animal projects."""
    cols = skeleton_edges([ind for ind, _ in keypoints], [bp for _, bp in keypoints], edges)
    return skeleton_segments(xy[t : t + 1], cols, frames=[t])
