"""Filters reduce jitter on a noisy synthetic track with known truth; DLC's _filtered files."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from numpy.testing import assert_allclose, assert_array_equal

from napari_dlcflow.core.example.synthetic import BODYPARTS, SyntheticSpec, render_synthetic
from napari_dlcflow.core.predictions.analysis_files import (
    Predictions,
    filtered_path,
    read_predictions,
    simulate_predictions,
    write_predictions,
)
from napari_dlcflow.core.predictions.filtering import (
    arima_filter,
    filter_file,
    filter_predictions,
    interpolate_gaps,
    jitter,
    median_filter,
    savgol_filter,
)


@pytest.fixture(scope="module")
def truth() -> np.ndarray:
    return render_synthetic(SyntheticSpec(n_frames=150, height=128, width=128, seed=2)).keypoints


@pytest.fixture(scope="module")
def noisy(truth: np.ndarray) -> Predictions:
    return simulate_predictions(truth, BODYPARTS, noise_px=1.5, low_fraction=0.0, seed=7)


def _error(pred: Predictions, truth: np.ndarray) -> float:
    d = pred.xy - truth
    return float(np.nanmedian(np.hypot(d[..., 0], d[..., 1])))


@pytest.mark.parametrize(
    ("method", "params"), [("median", {"window": 5}), ("savgol", {"window": 9, "polyorder": 2})]
)
def test_smoothing_reduces_jitter_and_error(
    noisy: Predictions, truth: np.ndarray, method: str, params: dict
) -> None:
    smooth = filter_predictions(noisy, method, **params)
    true_jitter = jitter(noisy.with_data(np.concatenate([truth, noisy.data[..., 2:]], axis=2)))
    assert jitter(smooth) < 0.6 * jitter(noisy)
    assert abs(jitter(smooth) - true_jitter) < abs(jitter(noisy) - true_jitter)
    assert _error(smooth, truth) < 0.8 * _error(noisy, truth)
    assert_array_equal(smooth.likelihood, noisy.likelihood)
    assert smooth.data is not noisy.data and not np.shares_memory(smooth.data, noisy.data)


def test_median_keeps_nan_and_edges(noisy: Predictions) -> None:
    data = noisy.data.copy()
    data[10, 0, :2] = np.nan
    out = median_filter(noisy.with_data(data), window=5)
    assert np.isnan(out.data[10, 0, :2]).all()
    assert not np.isnan(out.data[9, 0, :2]).any() and not np.isnan(out.data[11, 0, :2]).any()
    # nearest-value edges: the first frame stays near the track (DLC's zero padding would not)
    assert abs(out.data[0, 0, 0] - noisy.data[0, 0, 0]) < 10
    with pytest.raises(ValueError, match="odd"):
        median_filter(noisy, window=4)
    with pytest.raises(ValueError, match="odd"):
        savgol_filter(noisy, window=4)


def test_interpolate_fills_only_short_gaps(truth: np.ndarray) -> None:
    pred = simulate_predictions(truth, BODYPARTS, noise_px=0.0, low_fraction=0.0, seed=0)
    data = pred.data.copy()
    data[20:23, 1, 2] = 0.05  # 3 low-likelihood frames
    data[20:23, 1, :2] += 40  # with wrong positions
    data[50:60, 1, 2] = 0.05  # 10 frames: too long
    data[70, 2, :2] = np.nan  # a missing frame
    data[0:2, 3, 2] = 0.0  # at the start: no left neighbour
    out = interpolate_gaps(pred.with_data(data), pcutoff=0.6, max_gap=5)
    assert_allclose(out.data[20:23, 1, :2], truth[20:23, 1], atol=1.0)
    assert_allclose(out.data[20:23, 1, 2], 0.6)
    assert_array_equal(out.data[50:60, 1], data[50:60, 1])
    assert_allclose(out.data[70, 2, :2], truth[70, 2], atol=1.0)
    assert_array_equal(out.data[0:2, 3], data[0:2, 3])
    assert_array_equal(out.data[30:40], data[30:40])


def test_arima_filter_follows_the_track(noisy: Predictions, truth: np.ndarray) -> None:
    short = Predictions(noisy.data[:80, :2], BODYPARTS[:2], ("", ""), "s", np.arange(80))
    out = arima_filter(short)
    assert np.isfinite(out.data).all()
    assert _error(out, truth[:80, :2]) < 3.0
    assert out.data[0, 0, 0] == short.data[0, 0, 0]


def test_filter_file_writes_dlc_filtered_atomically(tmp_path: Path, noisy: Predictions) -> None:
    raw = tmp_path / "vidDLC_Resnet50_tNov24shuffle1_snapshot_best-5.h5"
    write_predictions(noisy, raw)
    raw_bytes = raw.read_bytes()
    out = filter_file(raw, "savgol", csv=True, window=7, polyorder=2)
    assert out == filtered_path(raw)
    assert raw.read_bytes() == raw_bytes
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(
        [raw.name, out.name, out.with_suffix(".csv").name]
    )
    df_raw, df_f = pd.read_hdf(raw), pd.read_hdf(out, "df_with_missing")
    pd.testing.assert_index_equal(df_raw.columns, df_f.columns)
    assert_allclose(read_predictions(out).data, savgol_filter(noisy, 7, 2).data)
    with pytest.raises(ValueError, match="already a filtered"):
        filter_file(out)
    with pytest.raises(ValueError, match="unknown filter"):
        filter_file(raw, "kalman")
