"""Kinematics of predicted keypoints: speed and distance travelled per keypoint column.

Both are computed between consecutive *tracked* positions of one column (finite ``x, y``,
and a likelihood at or above ``pcutoff`` when one is given):

- a step joins two tracked positions at most ``max_gap`` missing frames apart (0: adjacent
  frames only); a longer gap is not bridged, since the path across it is unknown;
- the speed at a frame is the step that ends there divided by its frames (NaN where no step
  ends: the first tracked frame, untracked frames, after an unbridged gap);
- the distance travelled is the running sum of the steps: NaN before the first tracked
  position, then held through untracked frames (so it is a lower bound across gaps).

In pixels per frame; :func:`kinematics_table` converts to the units of a
:class:`~napari_dlcflow.core.predictions.units.AxisUnits`.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from typing import TYPE_CHECKING

import numpy as np

from napari_dlcflow.core.predictions.analysis_files import Predictions
from napari_dlcflow.core.predictions.units import (
    PIXELS_FRAMES,
    AxisUnits,
    Units,
    with_time_index,
)

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["kinematics", "kinematics_table", "track_kinematics"]


def track_kinematics(
    xy: np.ndarray, frames: np.ndarray, valid: np.ndarray | None = None, *, max_gap: int = 0
) -> tuple[np.ndarray, np.ndarray]:
    """Speed (px/frame) and distance travelled (px) of one track.

    Parameters
    ----------
    xy : ndarray of shape (T, 2)
        Positions (NaN: not tracked).
    frames : ndarray of int of shape (T,)
        Frame number of each row (increasing; may skip frames).
    valid : ndarray of bool of shape (T,), optional
        Rows to use (default: finite ``xy``); combined with finiteness.
    max_gap : int
        Missing frames a step may bridge.

    Returns
    -------
    speed, distance : ndarray of shape (T,)
    """
    xy = np.asarray(xy, dtype=float)
    frames = np.asarray(frames, dtype=np.int64)
    ok = np.isfinite(xy).all(axis=1)
    if valid is not None:
        ok &= np.asarray(valid, dtype=bool)
    n = len(xy)
    speed = np.full(n, np.nan)
    distance = np.full(n, np.nan)
    idx = np.flatnonzero(ok)
    if len(idx) == 0:
        return speed, distance
    a, b = idx[:-1], idx[1:]
    span = frames[b] - frames[a]
    bridged = (span >= 1) & (span <= max_gap + 1)
    step = np.hypot(*(xy[b] - xy[a]).T)
    speed[b[bridged]] = step[bridged] / span[bridged]
    travelled = np.zeros(len(idx))
    travelled[1:] = np.cumsum(np.where(bridged, step, 0.0))
    # held through untracked rows: the index of the last tracked row at or before each row
    last = np.maximum.accumulate(np.where(ok, np.arange(n), -1))
    seen = last >= 0
    distance[seen] = travelled[np.searchsorted(idx, last[seen])]
    return speed, distance


def kinematics(
    pred: Predictions,
    columns: Sequence[int] | None = None,
    *,
    pcutoff: float | None = None,
    max_gap: int = 0,
) -> tuple[np.ndarray, np.ndarray]:
    """Speed (px/frame) and distance travelled (px) of keypoint columns of ``pred``.

    Parameters
    ----------
    pred : Predictions
    columns : sequence of int, optional
        Keypoint columns (default: all).
    pcutoff : float, optional
        Positions with a lower (or NaN) likelihood count as untracked.
    max_gap : int
        Missing frames a step may bridge (see the module's notes).

    Returns
    -------
    speed, distance : ndarray of shape (T, len(columns))
    """
    cols = list(range(pred.data.shape[1])) if columns is None else list(columns)
    speed = np.full((pred.n_frames, len(cols)), np.nan)
    distance = np.full_like(speed, np.nan)
    for j, c in enumerate(cols):
        valid = None
        if pcutoff is not None:
            with np.errstate(invalid="ignore"):
                valid = pred.data[:, c, 2] >= pcutoff
        speed[:, j], distance[:, j] = track_kinematics(
            pred.data[:, c, :2], pred.frames, valid, max_gap=max_gap
        )
    return speed, distance


def kinematics_table(
    pred: Predictions,
    chosen: Collection[str],
    units: Units,
    axis: AxisUnits = PIXELS_FRAMES,
    *,
    pcutoff: float | None = None,
    max_gap: int = 0,
) -> pd.DataFrame:
    """Speed and distance travelled of the chosen keypoints, in ``axis`` units.

    Parameters
    ----------
    pred : Predictions
    chosen : collection of str
        Display names (:attr:`Predictions.labels`: ``bodypart`` or ``individual/bodypart``);
        the columns keep the file's order.
    units : Units
        The file's units (:func:`~napari_dlcflow.core.predictions.units.units_of`).
    axis : AxisUnits
        The units to give (e.g. µm and s: ``speed_um_per_s``, ``distance_um``).
    pcutoff, max_gap
        As in :func:`kinematics`.

    Returns
    -------
    DataFrame
        Index: frame (and ``time_s`` when time is in seconds). Columns: MultiIndex
        ``(keypoint, quantity)`` with quantities ``axis.speed_column`` and
        ``axis.distance_column``.

    Raises
    ------
    ValueError
        If ``axis`` needs a unit that ``units`` does not know.
    """
    import pandas as pd

    cols = [i for i, name in enumerate(pred.labels) if name in chosen]
    length = units.length_factor(axis)
    per = units.time_factor(axis)
    speed, distance = kinematics(pred, cols, pcutoff=pcutoff, max_gap=max_gap)
    data: dict[tuple[str, str], np.ndarray] = {}
    for j, c in enumerate(cols):
        data[(pred.labels[c], axis.speed_column)] = speed[:, j] * length / per
        data[(pred.labels[c], axis.distance_column)] = distance[:, j] * length
    df = pd.DataFrame(data, index=pd.Index(pred.frames, name="frame"))
    if data:
        df.columns = pd.MultiIndex.from_tuples(list(data), names=["keypoint", "quantity"])
    return with_time_index(df, units, axis)
