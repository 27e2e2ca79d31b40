"""Fixtures shared by the widget tests."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pandas as pd
import pytest

from napari_dlcflow.core.labels.collected import labels_to_dataframe, read_labels
from napari_dlcflow.core.project.config import Project


def _write_iteration_history(project: Project) -> Project:
    """Lay out an iteration-0 history on disk the way DeepLabCut leaves it: the training
    dataset (the project's labels), two snapshots and the evaluation of the best one."""
    root, name = project.root, f"{project.task}{project.date}"
    ds = root / "training-datasets" / "iteration-0" / f"UnaugmentedDataSet_{name}"
    ds.mkdir(parents=True)
    labels = read_labels(next(root.glob("labeled-data/*/CollectedData_*.h5")))
    labels_to_dataframe(labels).to_hdf(ds / f"CollectedData_{project.scorer}.h5", key="df")
    train = root / "dlc-models-pytorch" / "iteration-0" / f"{name}-trainset95shuffle1" / "train"
    train.mkdir(parents=True)
    for snap in ("snapshot-005.pt", "snapshot-best-010.pt"):
        (train / snap).write_bytes(b"weights")
    ev = root / "evaluation-results-pytorch" / "iteration-0" / f"{name}-trainset95shuffle1"
    ev.mkdir(parents=True)
    pd.DataFrame({"train rmse": [1.5], "test rmse": [4.25]}).to_csv(
        ev / f"DLC_Resnet50_{name}shuffle1_snapshot_best-010-results.csv"
    )
    return project


@pytest.fixture
def iteration_history() -> Callable[[Project], Project]:
    """Give a labeled project an iteration-0 history on disk (dataset, snapshots, evaluation);
    DeepLabCut itself does not run. Returns the project."""
    return _write_iteration_history


def set_tiny_training(form: Any, *, epochs: int, save_epochs: int) -> None:
    """Fill the Training dock's form for a tiny CPU training (resnet18 from scratch at 128 px,
    batch 8, offline, evaluated every epoch), as the shared training fixture does."""
    form.epochs.setValue(epochs)
    form.batch_size.setValue(8)
    form.save_epochs.setValue(save_epochs)
    form.eval_interval.setValue(1)
    form.backbone.setCurrentIndex(form.backbone.findData("resnet18"))
    form.crop.setValue(128)
    form.weights.setCurrentIndex(form.weights.findData("scratch"))
    form.offline.setChecked(True)
    form.device.setCurrentIndex(form.device.findData("cpu"))


@pytest.fixture
def tiny_training() -> Callable[..., None]:
    """:func:`set_tiny_training`, for the tests that start a training from the dock."""
    return set_tiny_training
