"""dlcflow.open_in_viewer: a scripted session gets the project, the video, its predictions."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest

import napari_dlcflow as dlcflow
from napari_dlcflow.core.example.synthetic import SyntheticSpec, read_truth
from napari_dlcflow.core.example.truth_labels import make_labeled_synthetic_project
from napari_dlcflow.napari_common import state_for_viewer

pytestmark = pytest.mark.gui


def test_project_video_and_predictions(make_napari_viewer: Any, tmp_path: Path) -> None:
    from napari_dlcflow.core.predictions.analysis_files import (
        simulate_predictions,
        write_predictions,
    )

    project = make_labeled_synthetic_project(
        tmp_path, SyntheticSpec(n_frames=30, height=96, width=96, seed=4), n_labeled=5
    )
    video = Path(next(iter(project.videos)))
    keypoints, bodyparts = read_truth(tmp_path / "example" / "synthetic_animal_truth.csv")
    pred = simulate_predictions(keypoints, bodyparts, seed=1)
    (h5,) = write_predictions(pred, video.with_name(video.stem + pred.scorer + ".h5"))

    viewer = make_napari_viewer()
    out = dlcflow.open_in_viewer(viewer, project.root, video=video, analysis=h5)
    assert out is viewer
    assert state_for_viewer(viewer).project.config_path == project.config_path
    kinds = [type(layer).__name__ for layer in viewer.layers]
    assert kinds[0] == "Image" and viewer.layers[0].data.shape[0] == 30
    points = [layer for layer in viewer.layers if type(layer).__name__ == "Points"]
    assert points, kinds
    n_shown = len(points[0].data)
    assert 0 < n_shown <= keypoints.shape[0] * keypoints.shape[1]
    assert np.isfinite(points[0].data).all()
    assert any("Workflow" in name for name in viewer.window.dock_widgets)


def test_bad_arguments_are_refused(make_napari_viewer: Any, tmp_path: Path) -> None:
    viewer = make_napari_viewer()
    with pytest.raises(ValueError, match="unknown dock"):
        dlcflow.open_in_viewer(viewer, docks=["nope"])
    with pytest.raises(FileNotFoundError, match=r"missing\.mp4"):
        dlcflow.open_in_viewer(viewer, video=tmp_path / "missing.mp4", docks=())
