"""A synthetic truth for the tracks tests: three animals on circles, written as DLC tables."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from napari_dlcflow.core.predictions.analysis_files import Predictions, write_predictions

ROOT = Path(__file__).resolve().parents[1]
CLIP = ROOT.parent / "shared" / "data" / "sleap-tests" / "tracks"
T = 300
INDS = ("mouse1", "mouse2", "mouse3")
BPS = ("snout", "leftear", "rightear", "tailbase")
SCORER = "DLC_Resnet50_tracksNov24shuffle1_snapshot_best-10"


def truth_xy(n_frames: int = T) -> np.ndarray:
    """(T, 3, 4, 2): three animals, far apart, each moving on its own circle."""
    t = np.arange(n_frames)[:, None]
    centres = np.array([[100.0, 100.0], [400.0, 120.0], [250.0, 380.0]])
    shape = np.array([[0.0, -20.0], [-8.0, -10.0], [8.0, -10.0], [0.0, 20.0]])
    xy = np.empty((n_frames, 3, 4, 2))
    for n in range(3):
        angle = 2 * np.pi * t / 150.0 + n
        body = centres[n] + 40.0 * np.hstack([np.cos(angle), np.sin(angle)])
        xy[:, n] = body[:, None, :] + shape[None]
    return xy


def write_dlc(
    path: Path,
    xy: np.ndarray,
    individuals: tuple[str, ...] = INDS,
    bodyparts: tuple[str, ...] = BPS,
    *,
    likelihood: bool = True,
) -> Path:
    """A multi-animal DeepLabCut table: the project's writer, or x, y only with pandas."""
    n_t, n, k, _ = xy.shape
    if likelihood:
        lik = np.where(np.isnan(xy[..., :1]), np.nan, 0.9)
        pred = Predictions(
            data=np.concatenate([xy, lik], axis=3).reshape(n_t, n * k, 3),
            bodyparts=bodyparts * n,
            individuals=tuple(i for i in individuals for _ in bodyparts),
            scorer=SCORER,
            frames=np.arange(n_t),
            multi_animal=True,
        )
        write_predictions(pred, path)
        return path
    cols = pd.MultiIndex.from_tuples(
        [("truth", i, b, c) for i in individuals for b in bodyparts for c in ("x", "y")],
        names=["scorer", "individuals", "bodyparts", "coords"],
    )
    pd.DataFrame(xy.reshape(n_t, -1), columns=cols).to_csv(path)
    return path
