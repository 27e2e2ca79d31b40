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
    "LayerData",
    "editing_colors",
    "editing_points",
    "editing_skeleton",
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


def tracks_layer_data(
    pred: Predictions, *, pcutoff: float = 0.0, frames: tuple[int, int] | None = None
) -> np.ndarray:
    """Trails: one napari track per keypoint column, ``(track_id, t, y, x)`` rows.

    Rows are sorted by track then frame; predictions that are NaN or below ``pcutoff`` are
    left out (the trail then joins the neighbouring points). ``frames=(start, stop)`` keeps
    only that window of frames.
    """
    rows = _rows(pred, frames)
    xy = pred.xy[rows]
    n_frames, n_cols = xy.shape[:2]
    with np.errstate(invalid="ignore"):
        ok = ~np.isnan(xy).any(axis=2) & (pred.likelihood[rows] >= pcutoff)
    # column-major order: track id outer, frame inner
    keep = ok.T.reshape(-1)
    track = np.repeat(np.arange(n_cols, dtype=float), n_frames)[keep]
    t = np.tile(pred.frames[rows].astype(float), n_cols)[keep]
    x = xy[..., 0].T.reshape(-1)[keep]
    y = xy[..., 1].T.reshape(-1)[keep]
    return np.column_stack([track, t, y, x])


def track_groups(pred: Predictions, tracks: np.ndarray, *, color_by: str = "auto") -> np.ndarray:
    """The ``group`` feature of trails (colour group of each row's track, scaled to 0..1)."""
    group, names = color_groups(
        pred.individuals, pred.bodyparts, color_by, multi_animal=pred.multi_animal
    )
    return group[tracks[:, 0].astype(int)] / max(len(names) - 1, 1)


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
) -> list[LayerData]:
    """napari LayerData tuples for predictions: points, skeleton vectors and trails.

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

    Returns
    -------
    list of (data, kwargs, layer type)
        Skeleton (if any), trails (if asked) and points, bottom to top. The trails carry their
        groups' RGBA in ``metadata["group_colors"]``: napari needs a colormap made of them
        (``plugin.predictions_reader.finish_layer_data``) to show the exact colours.
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
    track_data = tracks_layer_data(pred, pcutoff=pcutoff, frames=window) if trails else None
    # napari cannot make a Tracks layer with no vertices (nothing above the p-cutoff)
    if track_data is not None and len(track_data):
        style = TracksStyle(name=f"{base} trails", tail_length=int(tail_length), tail_width=2)
        layers.append(
            (
                track_data,
                {
                    **style.as_kwargs(),
                    "features": {"group": track_groups(pred, track_data, color_by=color_by)},
                    "metadata": {
                        **meta,
                        "dlcflow_kind": "trails",
                        "group_colors": [c.tolist() for c in extra["colors"].values()],
                    },
                },
                "tracks",
            )
        )
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
