"""A two-animal project with DeepLabCut's *tracked* analysis file beside its video, made without
training (the synthetic group's truth plus noise), for the tests of the later steps on
multi-animal data (tests/core/test_multi_animal_later.py, tests/test_cli_multi_animal_later.py).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from napari_dlcflow.core.example.group import GroupSpec, read_group_truth
from napari_dlcflow.core.example.truth_labels import make_labeled_group_project
from napari_dlcflow.core.predictions.analysis_files import (
    Predictions,
    read_predictions,
    simulate_predictions,
    write_predictions,
)
from napari_dlcflow.core.project.config import Project

SPEC = GroupSpec(n_animals=2, n_frames=60, height=96, width=96, shelter=False)
SCORER = "DLC_Resnet50_synthetic-animalsDec7shuffle1_snapshot_best-10"
JUMP_FRAME, JUMP_ANIMAL = 30, 1  # mouse2 is off by JUMP px in frame 30 only


@dataclass
class Group:
    project: Project
    video: Path
    tracked: Path
    pred: Predictions
    epsilon: float


def _shift_inside(xy: np.ndarray, size: float, by: float) -> np.ndarray:
    """Move all points of ``xy`` by ``by`` px towards the image centre along x."""
    sign = 1.0 if np.nanmean(xy[:, 0]) < size / 2 else -1.0
    out = xy.copy()
    out[:, 0] += sign * by
    return out


def make_group(folder: Path) -> Group:
    """A labeled two-animal project with a tracked analysis file (and, older, an untracked one)."""
    project = make_labeled_group_project(folder, SPEC, n_labeled=10)
    video = Path(next(iter(project.videos)))
    kp, individuals, bodyparts = read_group_truth(
        folder / "example" / "synthetic_animals_truth.csv"
    )
    pred = simulate_predictions(
        kp, bodyparts, individuals=individuals, scorer=SCORER, noise_px=0.3, low_fraction=0.0
    )
    data = pred.data.copy()
    step = np.hypot(*np.moveaxis(np.diff(data[..., :2], axis=0), -1, 0))
    epsilon = float(np.nanmax(step)) + 2.0  # above every normal step of either animal
    cols = [i for i, ind in enumerate(pred.individuals) if ind == individuals[JUMP_ANIMAL]]
    data[JUMP_FRAME, cols, :2] = _shift_inside(data[JUMP_FRAME, cols, :2], SPEC.width, epsilon + 6)
    pred = pred.with_data(data)
    untracked = video.with_name(f"{video.stem}{SCORER}.h5")
    # detection slots: the animals swap columns every other frame
    slots = data.reshape(len(data), 2, -1, 3).copy()
    slots[1::2] = slots[1::2, ::-1]
    write_predictions(pred.with_data(slots.reshape(data.shape)), untracked)
    tracked = video.with_name(f"{video.stem}{SCORER}_el.h5")
    write_predictions(pred, tracked)
    os.utime(untracked)  # newer than the tracked file: the tracked one must still come first
    return Group(project, video, tracked, read_predictions(tracked), epsilon)
