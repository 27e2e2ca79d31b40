"""Skeleton segments: which keypoint columns an edge joins, and the segments of every frame.

One implementation for the ground truth of the sample data, the labels being edited, the
predictions of an analysis file and the labeled video. In multi-animal data every individual
gets its own edges (never across individuals); unique body parts (individual ``single``)
connect among themselves.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import numpy.typing as npt

__all__ = ["skeleton_edges", "skeleton_segments"]


def skeleton_edges(
    individuals: Sequence[str], bodyparts: Sequence[str], skeleton: Sequence[Sequence[str]]
) -> list[tuple[int, int]]:
    """Column pairs that the skeleton joins, individual by individual, in skeleton order.

    Parameters
    ----------
    individuals, bodyparts : sequence of str
        Individual and body part of each keypoint column.
    skeleton : sequence of (str, str)
        Edges by body part name; an edge whose ends an individual lacks is skipped.

    Returns
    -------
    list of (int, int)
        ``(column of a, column of b)`` per drawable edge.
    """
    index = {(i, b): c for c, (i, b) in enumerate(zip(individuals, bodyparts, strict=True))}
    out = []
    for ind in dict.fromkeys(individuals):
        for a, b in skeleton:
            ca, cb = index.get((ind, a)), index.get((ind, b))
            if ca is not None and cb is not None:
                out.append((ca, cb))
    return out


def skeleton_segments(
    xy: npt.ArrayLike,
    edges: Sequence[tuple[int, int]],
    *,
    frames: npt.ArrayLike | None = None,
    likelihood: npt.ArrayLike | None = None,
    pcutoff: float = 0.0,
) -> np.ndarray:
    """The skeleton of every frame as napari vectors.

    Parameters
    ----------
    xy : array-like of shape (T, N, 2)
        ``x, y`` per frame and keypoint column (NaN: missing).
    edges : sequence of (int, int)
        Column pairs (see :func:`skeleton_edges`).
    frames : array-like of int of shape (T,), optional
        Frame number of each row (default ``0 .. T-1``).
    likelihood : array-like of shape (T, N), optional
        With it, an edge is drawn only where both ends are at or above ``pcutoff``.
    pcutoff : float
        The likelihood both ends need.

    Returns
    -------
    ndarray of shape (M, 2, 3)
        Start ``(t, y, x)`` and displacement ``(0, dy, dx)`` of each drawn edge, edge by edge
        (then frame by frame).
    """
    kp = np.asarray(xy, dtype=float)
    t = np.arange(kp.shape[0], dtype=float) if frames is None else np.asarray(frames, float)
    lik = None if likelihood is None else np.asarray(likelihood, dtype=float)
    out = []
    for ca, cb in edges:
        pa, pb = kp[:, ca], kp[:, cb]
        ok = ~(np.isnan(pa).any(axis=1) | np.isnan(pb).any(axis=1))
        if lik is not None:
            with np.errstate(invalid="ignore"):
                ok &= (lik[:, ca] >= pcutoff) & (lik[:, cb] >= pcutoff)
        start = np.column_stack([t[ok], pa[ok, 1], pa[ok, 0]])
        step = np.column_stack(
            [np.zeros(int(ok.sum())), pb[ok, 1] - pa[ok, 1], pb[ok, 0] - pa[ok, 0]]
        )
        out.append(np.stack([start, step], axis=1))
    return np.concatenate(out) if out else np.zeros((0, 2, 3))
