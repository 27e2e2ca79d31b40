"""The README's first command: the demo on the built-in example, end to end."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from skimage.io import imread

from napari_dlcflow.core.project.config import Project

pytestmark = pytest.mark.slow


def test_demo_end_to_end_and_again(tmp_path: Path) -> None:
    out = tmp_path / "demo out"
    env = dict(os.environ)
    cmd = [
        sys.executable,
        "-m",
        "napari_dlcflow",
        "demo",
        "--out",
        str(out),
        "--frames",
        "60",
        "--labeled",  # not 60: the dataset then adds its training fraction to config.yaml
        "30",
        "--epochs",
        "2",
        "--refine-epochs",
        "1",
        "--headless",
    ]
    first = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=600)
    assert first.returncode == 0, first.stdout + first.stderr
    assert "OK: DeepLabCut 3" in first.stdout
    shot = out / "demo-screenshot.png"
    assert f"Screenshot: {shot}" in first.stdout
    img = imread(shot)[..., :3].astype(int)
    assert img.shape[0] > 300 and img.shape[1] > 300
    assert img.std() > 20  # the video is drawn
    assert (np.ptp(img, axis=-1) > 120).sum() > 30  # coloured truth points are drawn
    window = imread(out / "demo-window.png")
    assert window.shape[1] > img.shape[1]  # window includes the docks
    (project_cfg,) = out.glob("synthetic-animal-dlcflow-*/config.yaml")
    project = Project.open(project_cfg)
    assert len(project.bodyparts) == 11 and len(project.skeleton) == 10
    assert project.project_path_ok
    # the loop ran: labels from the truth, a snapshot, and an analysis of every frame
    assert list(project.root.glob("labeled-data/synthetic_animal/CollectedData_*.h5"))
    assert list(project.root.glob("dlc-models-pytorch/**/snapshot-*.pt"))
    from napari_dlcflow.core.predictions.analysis_files import (
        find_analysis_files,
        read_predictions,
    )

    analyses = find_analysis_files(project.root / "videos" / "synthetic_animal.mp4")
    assert analyses and all(len(read_predictions(a).frames) == 60 for a in analyses)
    assert "median error against the truth" in first.stdout
    # ... and one refine iteration: outliers, corrected labels, iteration 1 trained from 0's best
    assert "outlier frame(s)" in first.stdout
    assert "Iteration 0 -> 1." in first.stdout
    assert "(iteration 0) -> " in first.stdout
    assert Project.open(project_cfg).iteration == 1
    assert list(project.root.glob("dlc-models-pytorch/iteration-1/**/snapshot-*.pt"))
    assert list(project.root.glob("labeled-data/synthetic_animal/machinelabels-iter0.h5"))
    # idempotent: a second run re-uses the project
    second = subprocess.run(
        [*cmd, "--no-dlc-check"], capture_output=True, text=True, env=env, timeout=600
    )
    assert second.returncode == 0, second.stdout + second.stderr
    assert "re-using" in second.stdout
    assert "re-using the trained snapshot" in second.stdout
    assert "Refine: re-using iteration 1" in second.stdout
    assert len(list(out.glob("synthetic-animal-dlcflow-*"))) == 1
