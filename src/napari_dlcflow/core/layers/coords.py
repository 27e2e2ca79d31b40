"""The one place where DLC's (x, y) keypoints become napari's (t, y, x) points and back.

DeepLabCut stores a keypoint as ``x`` (column) and ``y`` (row) in pixels, where an integer value
is the centre of a pixel. napari stores a point in a time-lapse image layer as
``(frame, row, col)``, with the same pixel-centre convention. The two differ only in axis order,
so the conversion is exact: no half-pixel shift is applied in either direction.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

__all__ = ["keypoints_to_points", "points_frame_xy", "points_to_keypoints"]


def keypoints_to_points(
    keypoints: npt.ArrayLike, frames: npt.ArrayLike | None = None
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Turn DLC keypoints into napari point coordinates.

    Parameters
    ----------
    keypoints : array-like of shape (T, K, 2)
        ``x, y`` of K keypoints in T frames, NaN where a keypoint is not labeled.
    frames : array-like of int of shape (T,), optional
        The frame index of each of the T rows. Defaults to ``0 .. T-1``.

    Returns
    -------
    points : ndarray of shape (N, 3)
        ``(frame, y, x)`` of every labeled keypoint, frame-major then keypoint order.
    frame_index : ndarray of int of shape (N,)
        The frame of each point (equal to ``points[:, 0]``).
    keypoint_index : ndarray of int of shape (N,)
        Which of the K keypoints each point is.
    """
    kp = np.asarray(keypoints, dtype=float)
    if kp.ndim != 3 or kp.shape[-1] != 2:
        raise ValueError(f"keypoints must have shape (T, K, 2), got {kp.shape}")
    n_frames, n_kp, _ = kp.shape
    if frames is None:
        frame_ids = np.arange(n_frames)
    else:
        frame_ids = np.asarray(frames, dtype=int)
        if frame_ids.shape != (n_frames,):
            raise ValueError(f"frames must have shape ({n_frames},), got {frame_ids.shape}")
    t = np.repeat(frame_ids, n_kp)
    k = np.tile(np.arange(n_kp), n_frames)
    flat = kp.reshape(-1, 2)
    keep = ~np.isnan(flat).any(axis=1)
    points = np.column_stack([t[keep], flat[keep, 1], flat[keep, 0]]).astype(float)
    return points, t[keep], k[keep]


def points_frame_xy(points: npt.ArrayLike) -> tuple[np.ndarray, np.ndarray]:
    """Frame and ``x, y`` of each of some napari points (the editing of single points).

    Parameters
    ----------
    points : array-like of shape (N, 3)
        ``(frame, y, x)`` of each point.

    Returns
    -------
    frames : ndarray of int of shape (N,)
        The frame of each point (rounded: napari may hold it as a float).
    xy : ndarray of shape (N, 2)
        ``x, y`` of each point.
    """
    pts = np.asarray(points, dtype=float).reshape(-1, 3)
    return np.rint(pts[:, 0]).astype(int), pts[:, [2, 1]]


def points_to_keypoints(
    points: npt.ArrayLike, keypoint_index: npt.ArrayLike, n_frames: int, n_keypoints: int
) -> np.ndarray:
    """Turn napari points back into a DLC keypoint array.

    Parameters
    ----------
    points : array-like of shape (N, 3)
        ``(frame, y, x)`` of each point.
    keypoint_index : array-like of int of shape (N,)
        Which keypoint each point is, ``0 <= k < n_keypoints``.
    n_frames, n_keypoints : int
        The shape of the result's first two axes.

    Returns
    -------
    ndarray of shape (n_frames, n_keypoints, 2)
        ``x, y`` per frame and keypoint; NaN where no point was given.

    Raises
    ------
    ValueError
        If a frame or keypoint index is out of range, or one keypoint appears twice in a frame.
    """
    pts = np.asarray(points, dtype=float).reshape(-1, 3)
    k = np.asarray(keypoint_index, dtype=int).reshape(-1)
    if len(k) != len(pts):
        raise ValueError(f"{len(pts)} points but {len(k)} keypoint indices")
    t = np.rint(pts[:, 0]).astype(int)
    if len(t) and (t.min() < 0 or t.max() >= n_frames):
        raise ValueError(f"frame index out of range 0..{n_frames - 1}")
    if len(k) and (k.min() < 0 or k.max() >= n_keypoints):
        raise ValueError(f"keypoint index out of range 0..{n_keypoints - 1}")
    flat = t * n_keypoints + k
    if len(np.unique(flat)) != len(flat):
        raise ValueError("a keypoint appears more than once in the same frame")
    out = np.full((n_frames, n_keypoints, 2), np.nan)
    out[t, k, 0] = pts[:, 2]
    out[t, k, 1] = pts[:, 1]
    return out
