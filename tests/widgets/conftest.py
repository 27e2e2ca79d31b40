"""Fixtures shared by the widget tests (the iteration-history layout is tests/conftest.py's
``dlc_iteration_layout``)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest


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
