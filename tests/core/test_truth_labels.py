"""Labelling the synthetic sample from its truth goes through the one CollectedData writer."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from napari_dlcflow.core.example.synthetic import BODYPARTS, SyntheticSpec, render_synthetic
from napari_dlcflow.core.example.truth_labels import (
    label_from_truth,
    make_labeled_synthetic_project,
)
from napari_dlcflow.core.labels.collected import read_labels
from napari_dlcflow.core.safe_io import list_backups


def test_labels_from_truth_are_exact_and_saved_safely(tmp_path: Path) -> None:
    spec = SyntheticSpec(n_frames=40, height=64, width=64, seed=1)
    project = make_labeled_synthetic_project(tmp_path, spec, n_labeled=10)
    (h5,) = project.root.glob("labeled-data/synthetic_animal/CollectedData_*.h5")
    df = pd.read_hdf(h5, key="df_with_missing")
    assert df.shape == (10, 2 * len(BODYPARTS))
    assert df.index[0] == ("labeled-data", "synthetic_animal", "img00.png")
    frames = [int(row[2][3:-4]) for row in df.index]
    truth = render_synthetic(spec).keypoints
    np.testing.assert_allclose(df.to_numpy().reshape(10, -1, 2), truth[frames])
    assert read_labels(h5).n_labeled == 10 * len(BODYPARTS)
    assert h5.with_suffix(".csv").is_file()
    # labelling again keeps the previous file as a backup
    label_from_truth(project, spec, frame_indices=[1, 2])
    assert list_backups(h5)
    assert len(pd.read_hdf(h5)) == 2
