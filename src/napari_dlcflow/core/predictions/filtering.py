"""Filtering predicted tracks: median, Savitzky-Golay, gap interpolation and DLC's ARIMA filter.

Every filter takes a :class:`~napari_dlcflow.core.predictions.analysis_files.Predictions`, never
changes it,
and returns new predictions with the same columns. :func:`filter_file` reads an analysis h5 and
writes DeepLabCut's ``<stem>_filtered.h5`` (and ``.csv`` on request) atomically, so that
``deeplabcut.create_labeled_video(..., filtered=True)`` and every other DLC tool read it.

Differences from ``deeplabcut.filterpredictions`` (on purpose):

- The median filter extends the edges with the nearest value (``scipy.ndimage``, ``mode=
  "nearest"``) where DLC's ``scipy.signal.medfilt`` pads with zeros, which pulls the first and
  last ``window // 2`` frames towards the image corner.
- NaN (undetected) entries are bridged by linear interpolation before median or Savitzky-Golay
  filtering and set back to NaN afterwards, so one missing frame does not spread.
- Multi-animal files are filtered column by column, so each individual's body part is smoothed
  on its own track (never with another animal's). Only tracked files (``<stem><scorer>_el.h5``)
  are filtered by default: in an untracked file an individual is a detection slot that may hold
  a different animal from frame to frame (DeepLabCut, too, filters the tracked file of a
  multi-animal project). The output is DeepLabCut's ``<stem><scorer>_el_filtered.h5``, key
  ``df_with_missing``, in the same ``scorer/individuals/bodyparts/coords`` layout.
- The ARIMA filter follows DLC's ``FitSARIMAXModel`` (statsmodels SARIMAX, order
  ``(AR, 0, MA)``, entries below ``p_bound`` treated as missing) without importing deeplabcut.
"""

from __future__ import annotations

import os
import warnings
from pathlib import Path
from typing import Any

import numpy as np

from napari_dlcflow.core.predictions.analysis_files import (
    Predictions,
    filtered_path,
    read_predictions,
    tracked_sibling,
    untracked_animals,
    write_predictions,
)

__all__ = [
    "FILTERS",
    "arima_filter",
    "filter_file",
    "filter_predictions",
    "interpolate_gaps",
    "jitter",
    "median_filter",
    "savgol_filter",
]

FILTERS = ("median", "savgol", "interpolate", "arima")


def _fill_nan_linear(col: np.ndarray) -> np.ndarray:
    """Linear interpolation over NaN (edges: nearest valid value); all-NaN stays NaN."""
    ok = ~np.isnan(col)
    if ok.all() or not ok.any():
        return col.copy()
    idx = np.arange(len(col))
    return np.interp(idx, idx[ok], col[ok])


def _apply_xy(pred: Predictions, fn: Any) -> Predictions:
    out = pred.data.copy()
    n_cols = out.shape[1]
    for c in range(n_cols):
        for d in (0, 1):
            col = pred.data[:, c, d]
            nan = np.isnan(col)
            if nan.all():
                continue
            res = fn(_fill_nan_linear(col))
            res[nan] = np.nan
            out[:, c, d] = res
    return pred.with_data(out)


def median_filter(pred: Predictions, window: int = 5) -> Predictions:
    """Running median of ``x`` and ``y`` over ``window`` frames (odd; likelihood unchanged).

    Raises
    ------
    ValueError
        If ``window`` is not a positive odd integer.
    """
    from scipy import ndimage

    if window < 1 or window % 2 == 0:
        raise ValueError(f"the median window must be a positive odd number, got {window}")
    return _apply_xy(pred, lambda c: ndimage.median_filter(c, size=window, mode="nearest"))


def savgol_filter(pred: Predictions, window: int = 7, polyorder: int = 2) -> Predictions:
    """Savitzky-Golay smoothing of ``x`` and ``y`` (likelihood unchanged).

    Parameters
    ----------
    window : int
        Window length in frames (odd, greater than ``polyorder``).
    polyorder : int
        Order of the local polynomial.
    """
    from scipy import signal

    if window % 2 == 0 or window <= polyorder:
        raise ValueError(
            f"the Savitzky-Golay window must be odd and larger than polyorder ({polyorder}), "
            f"got {window}"
        )
    if pred.n_frames < window:
        raise ValueError(f"the window ({window}) is longer than the video ({pred.n_frames})")
    return _apply_xy(pred, lambda c: signal.savgol_filter(c, window, polyorder, mode="interp"))


def interpolate_gaps(pred: Predictions, pcutoff: float = 0.6, max_gap: int = 5) -> Predictions:
    """Fill short runs of low-likelihood (or missing) predictions by linear interpolation.

    A run of at most ``max_gap`` frames whose likelihood is below ``pcutoff`` (or whose
    coordinates are NaN), with a confident prediction on both sides, gets ``x, y`` interpolated
    between those two and the likelihood ``pcutoff`` (so a filled point shows at that p-cutoff
    and can be told apart from a prediction). Longer runs and runs at the ends are unchanged.
    """
    if max_gap < 1:
        raise ValueError(f"max_gap must be at least 1, got {max_gap}")
    data = pred.data.copy()
    idx = np.arange(pred.n_frames)
    with np.errstate(invalid="ignore"):
        bad_all = (pred.likelihood < pcutoff) | np.isnan(pred.xy).any(axis=2)
        bad_all |= np.isnan(pred.likelihood)
    for c in range(data.shape[1]):
        bad = bad_all[:, c]
        if not bad.any() or bad.all():
            continue
        # runs of bad frames: start/stop indices
        edges = np.diff(np.r_[0, bad.astype(np.int8), 0])
        starts, stops = np.flatnonzero(edges == 1), np.flatnonzero(edges == -1)
        fill = np.zeros(len(bad), dtype=bool)
        for s, e in zip(starts, stops, strict=True):
            if s > 0 and e < len(bad) and e - s <= max_gap:
                fill[s:e] = True
        if not fill.any():
            continue
        good = ~bad
        for d in (0, 1):
            data[fill, c, d] = np.interp(idx[fill], idx[good], pred.data[good, c, d])
        data[fill, c, 2] = pcutoff
    return pred.with_data(data)


def arima_filter(
    pred: Predictions,
    p_bound: float = 0.001,
    ar_degree: int = 3,
    ma_degree: int = 1,
    alpha: float = 0.01,
) -> Predictions:
    """DeepLabCut's ARIMA filter: the SARIMAX model's one-step predictions replace ``x, y``.

    Entries with likelihood below ``p_bound`` are modelled as missing. A column with 10 or fewer
    usable values becomes NaN, as in DLC. Needs ``statsmodels`` (installed with deeplabcut).

    Raises
    ------
    ImportError
        If statsmodels is not installed.
    """
    try:
        import statsmodels.api as sm
    except ImportError as exc:  # pragma: no cover - statsmodels comes with deeplabcut
        raise ImportError("the ARIMA filter needs statsmodels (pip install statsmodels)") from exc
    del alpha  # DLC computes a confidence interval it then discards for filtering

    def fit(x: np.ndarray, p: np.ndarray) -> np.ndarray:
        y = x.copy()
        with np.errstate(invalid="ignore"):
            y[~(p >= p_bound)] = np.nan
        if np.sum(np.isfinite(y)) <= 10:
            return np.full(len(y), np.nan)
        kwargs: dict[str, Any] = {
            "order": (ar_degree, 0, ma_degree),
            "seasonal_order": (0, 0, 0, 0),
            "simple_differencing": True,
        }
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            try:
                res = sm.tsa.statespace.SARIMAX(y, **kwargs).fit(disp=False)
            except (ValueError, np.linalg.LinAlgError):
                res = sm.tsa.statespace.SARIMAX(
                    y,
                    **kwargs,
                    enforce_stationarity=False,
                    enforce_invertibility=False,
                    use_exact_diffuse=False,
                ).fit(disp=False)
            mean = np.asarray(res.get_prediction(end=len(y) - 1).predicted_mean, dtype=float)
        mean[0] = x[0]
        return mean

    out = pred.data.copy()
    for c in range(out.shape[1]):
        p = pred.data[:, c, 2]
        for d in (0, 1):
            out[:, c, d] = fit(pred.data[:, c, d], p)
    return pred.with_data(out)


def filter_predictions(pred: Predictions, method: str = "median", **params: Any) -> Predictions:
    """Apply one filter by name (``median``, ``savgol``, ``interpolate`` or ``arima``)."""
    funcs = {
        "median": median_filter,
        "savgol": savgol_filter,
        "interpolate": interpolate_gaps,
        "arima": arima_filter,
    }
    if method not in funcs:
        raise ValueError(f"unknown filter {method!r}; choose one of {', '.join(FILTERS)}")
    return funcs[method](pred, **params)


def filter_file(
    path: str | os.PathLike,
    method: str = "median",
    *,
    csv: bool = False,
    overwrite: bool = True,
    untracked: bool = False,
    **params: Any,
) -> Path:
    """Filter an analysis h5 and write DeepLabCut's ``<stem>_filtered.h5`` beside it.

    Parameters
    ----------
    path : path-like
        The raw analysis file (``<video stem>DLC_....h5``).
    method : str
        ``median``, ``savgol``, ``interpolate`` or ``arima``.
    csv : bool
        Also write ``<stem>_filtered.csv``.
    overwrite : bool
        Replace an existing filtered file (DLC skips it instead).
    untracked : bool
        Filter a multi-animal file that was not tracked (see the module docstring); refused
        by default.
    **params
        Passed to the filter (``window``, ``polyorder``, ``pcutoff``, ``max_gap``, ...).

    Returns
    -------
    Path
        The filtered h5, written atomically (temp file, then rename).

    Raises
    ------
    ValueError
        If ``path`` is a filtered file, or untracked multi-animal predictions without
        ``untracked`` (the message names the tracked file beside it, if there is one).
    """
    src = Path(path)
    if src.stem.endswith("_filtered"):
        raise ValueError(f"{src} is already a filtered file; filter the raw analysis file")
    out = filtered_path(src)
    if out.exists() and not overwrite:
        return out
    pred = read_predictions(src, meta=False)
    if not untracked and untracked_animals(pred, src):
        sibling = tracked_sibling(src)
        hint = (
            f"filter the tracked file {sibling.name} instead"
            if sibling is not None
            else "analyse the video with tracking first (or pass untracked=True / --untracked)"
        )
        raise ValueError(
            f"{src}: untracked multi-animal predictions (an individual there is a detection "
            f"slot, not the same animal in every frame); {hint}"
        )
    write_predictions(filter_predictions(pred, method, **params), out, csv=csv)
    return out


def jitter(pred: Predictions) -> float:
    """Median frame-to-frame displacement (px) over all columns: a simple jitter measure."""
    step = np.diff(pred.xy, axis=0)
    return float(np.nanmedian(np.hypot(step[..., 0], step[..., 1])))
