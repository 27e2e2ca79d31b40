"""Keypoints and skeletons as napari layer data (plain tuples; no napari import)."""

from __future__ import annotations

import colorsys
from collections.abc import Sequence
from typing import Any

import numpy as np
import numpy.typing as npt

from napari_dlcflow.core.layers.coords import keypoints_to_points

__all__ = ["bodypart_colors", "keypoint_layers", "skeleton_vectors"]


def bodypart_colors(n: int) -> np.ndarray:
    """``n`` distinct RGBA colours, evenly spaced around the hue circle.

    Returns
    -------
    ndarray of shape (n, 4)
        RGBA in 0..1.
    """
    return np.array(
        [(*colorsys.hsv_to_rgb(0.83 * i / max(n - 1, 1), 0.85, 1.0), 1.0) for i in range(n)]
    )


def skeleton_vectors(
    keypoints: npt.ArrayLike, bodyparts: Sequence[str], skeleton: Sequence[tuple[str, str]]
) -> np.ndarray:
    """Skeleton edges of every frame as napari vectors.

    Parameters
    ----------
    keypoints : array-like of shape (T, K, 2)
        ``x, y`` per frame and body part (NaN: missing).
    bodyparts : sequence of str
        The K body part names.
    skeleton : sequence of (str, str)
        Edges by name.

    Returns
    -------
    ndarray of shape (M, 2, 3)
        For each drawable edge: start ``(t, y, x)`` and displacement ``(0, dy, dx)``.
    """
    kp = np.asarray(keypoints, dtype=float)
    index = {b: i for i, b in enumerate(bodyparts)}
    out = []
    t = np.arange(kp.shape[0], dtype=float)
    for a, b in skeleton:
        if a not in index or b not in index:
            continue
        pa, pb = kp[:, index[a]], kp[:, index[b]]
        ok = ~(np.isnan(pa).any(axis=1) | np.isnan(pb).any(axis=1))
        start = np.column_stack([t[ok], pa[ok, 1], pa[ok, 0]])
        step = np.column_stack([np.zeros(ok.sum()), pb[ok, 1] - pa[ok, 1], pb[ok, 0] - pa[ok, 0]])
        out.append(np.stack([start, step], axis=1))
    return np.concatenate(out) if out else np.zeros((0, 2, 3))


def keypoint_layers(
    keypoints: npt.ArrayLike,
    bodyparts: Sequence[str],
    skeleton: Sequence[tuple[str, str]] = (),
    *,
    name: str = "keypoints",
    size: float = 8.0,
) -> list[tuple[Any, dict[str, Any], str]]:
    """A Points layer (one colour per body part) and, with a skeleton, a Vectors layer.

    Parameters
    ----------
    keypoints : array-like of shape (T, K, 2)
        ``x, y`` per frame and body part.
    bodyparts : sequence of str
        The K names; stored in the points' ``bodypart`` feature.
    skeleton : sequence of (str, str)
        Edges to draw.
    name : str
        Layer name; the skeleton layer is ``"<name> skeleton"``.
    size : float
        Point size in pixels.

    Returns
    -------
    list of (data, kwargs, layer type)
        napari LayerData tuples.
    """
    points, _, k = keypoints_to_points(keypoints)
    colors = bodypart_colors(len(bodyparts))
    layers: list[tuple[Any, dict[str, Any], str]] = []
    if skeleton:
        layers.append(
            (
                skeleton_vectors(keypoints, bodyparts, skeleton),
                {
                    "name": f"{name} skeleton",
                    "edge_width": 2,
                    "edge_color": "white",
                    "vector_style": "line",
                    "opacity": 0.8,
                },
                "vectors",
            )
        )
    layers.append(
        (
            points,
            {
                "name": name,
                "size": size,
                "face_color": colors[k] if len(k) else "white",
                "border_color": "black",
                "border_width": 0.1,
                "features": {"bodypart": np.asarray(bodyparts, dtype=object)[k]},
                "metadata": {
                    "bodyparts": list(bodyparts),
                    "skeleton": [list(e) for e in skeleton],
                },
            },
            "points",
        )
    )
    return layers
