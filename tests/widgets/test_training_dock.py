"""The Training dock in a real napari viewer: a real job, its live curve, cancel, evaluation."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from napari_dlcflow.core.engine.training import JOB_FILE, LOG_FILE, find_job, list_snapshots
from napari_dlcflow.core.example.synthetic import SyntheticSpec, render_synthetic
from napari_dlcflow.core.example.truth_labels import make_labeled_synthetic_project
from napari_dlcflow.core.project.config import Project
from napari_dlcflow.napari_common import state_for_viewer
from napari_dlcflow.widgets.dataset.dock import DatasetDock
from napari_dlcflow.widgets.training.dock import TrainingDock

pytestmark = pytest.mark.gui


def _dock(viewer: Any) -> TrainingDock:
    _, widget = viewer.window.add_plugin_dock_widget("napari-dlcflow", "Training")
    assert isinstance(widget, TrainingDock)
    return widget


def _small_project(tmp_path: Path, n_labeled: int = 24) -> Path:
    project = make_labeled_synthetic_project(
        tmp_path, SyntheticSpec(n_frames=60, height=128, width=128, seed=2), n_labeled=n_labeled
    )
    return project.config_path


def test_failed_job_shows_reason_hint_and_log(make_napari_viewer: Any, tmp_path: Path) -> None:
    config = _small_project(tmp_path, n_labeled=4)
    folder = config.parent / "dlc-models-pytorch/iteration-0"
    p = Project.open(config)  # DeepLabCut's layout: <Task><date>-trainset95shuffle1/train
    train = folder / f"{p.task}{p.date}-trainset95shuffle1" / "train"
    train.mkdir(parents=True)
    (train / "pytorch_config.yaml").write_text("net_type: resnet_50\n", encoding="utf-8")
    (train / JOB_FILE).write_text(
        json.dumps(
            {
                "state": "failed",
                "kind": "weights_unavailable",
                "reason": "pretrained resnet50_gn weights are not cached here",
                "hint": "Choose weights: from scratch.",
                "log_tail": ["huggingface_hub.errors.LocalEntryNotFoundError: offline"],
                "spec": {"config": str(config), "epochs": 5},
            }
        ),
        encoding="utf-8",
    )
    (train / LOG_FILE).write_text("", encoding="utf-8")
    viewer = make_napari_viewer()
    dock = _dock(viewer)
    assert not dock.start_button.isEnabled()  # no project yet
    state_for_viewer(viewer).open(config)
    assert "FAILED" in dock.status.text() and "not cached" in dock.status.text()
    assert "from scratch" in dock.status.text()
    assert dock.form.weights.currentData() == "scratch"
    assert "LocalEntryNotFoundError" in dock.log_view.toPlainText()
    assert dock.start_button.isEnabled() and not dock.cancel_button.isEnabled()


@pytest.mark.slow
def test_train_watch_cancel_reattach_and_evaluate(
    make_napari_viewer: Any,
    tiny_training: Any,
    qtbot: Any,
    tmp_path: Path,
    save_screenshot: Any,
    request: pytest.FixtureRequest,
) -> None:
    config = _small_project(tmp_path)
    viewer = make_napari_viewer()
    video = render_synthetic(SyntheticSpec(n_frames=60, height=128, width=128, seed=2))
    viewer.add_image(video.frames, rgb=True, name="synthetic_animal")
    dock = _dock(viewer)
    state_for_viewer(viewer).open(config)
    assert "no training dataset" in dock.project_label.text()
    dock.form.net_type.setCurrentText("resnet_50")
    dock.dataset_button.click()
    qtbot.waitUntil(lambda: dock.train_folder() is not None, timeout=180_000)
    qtbot.waitUntil(lambda: dock.start_button.isEnabled(), timeout=10_000)
    # the one dataset path's seeded split: round(0.95 * 24) = 23 training images (DeepLabCut's
    # own split, used here before, floored to 22); DeepLabCut names it trainset96
    assert "23 training and 1 test images" in dock.status.text()
    assert dock.train_folder().parent.name.endswith("trainset96shuffle1")

    f = dock.form
    tiny_training(f, epochs=40, save_epochs=2)
    dock.start_button.click()  # the weights are resolved first (a child), then the job starts
    qtbot.waitUntil(lambda: dock.job is not None, timeout=60_000)
    job = dock.job
    assert job is not None and dock.cancel_button.isEnabled()
    request.addfinalizer(lambda: job.status().done or job.cancel(now=True))
    assert not dock.start_button.isEnabled()
    qtbot.waitUntil(lambda: dock.plot.n_points >= 6, timeout=300_000)
    assert "epoch" in dock.progress_label.text() and "left ~" in dock.progress_label.text()
    dock.ensureWidgetVisible(dock.plot)
    save_screenshot(viewer, "training-dock", size=(1600, 1000))
    dock.cancel_button.click()
    qtbot.waitUntil(lambda: "Cancelled" in dock.status.text(), timeout=120_000)
    stopped = dock.plot.n_points
    assert 6 <= stopped < 40
    assert dock.resume_button.isEnabled() and dock.start_button.isEnabled()
    assert max(s.epoch for s in list_snapshots(dock.train_folder(), check=True)) == stopped

    # "reopen napari": a new viewer finds the job and its curve again
    viewer2 = make_napari_viewer()
    dock2 = _dock(viewer2)
    state_for_viewer(viewer2).open(config)
    assert dock2.job is not None and dock2.plot.n_points == stopped
    assert "Cancelled" in dock2.status.text()
    job = find_job(dock2.train_folder())
    assert job is not None and job.status().state == "cancelled"

    dock.evaluation.evaluate_button.click()
    qtbot.waitUntil(lambda: dock.evaluation.table.rowCount() > 0, timeout=300_000)
    panel = dock.evaluation
    epochs = [int(panel.table.item(i, 1).text()) for i in range(panel.table.rowCount())]
    assert stopped in epochs
    notes = panel.explanation.toPlainText()
    assert "Test RMSE" in notes and "mAP" in notes and "Hardest body part" in notes
    assert panel.parts.rowCount() == 11
    assert panel.plot.n_points >= 1
    panel.frames_button.click()
    names = [layer.name for layer in viewer.layers]
    assert any(n.startswith("ground truth") for n in names)
    assert any(n.startswith("predictions") for n in names)
    image = next(layer for layer in viewer.layers if layer.name.startswith("evaluation frames"))
    assert image.data.shape[:3] == (24, 128, 128)
    assert viewer.dims.current_step[0] == 0  # the worst image is shown first
    viewer.layers["synthetic_animal"].visible = False
    dock.verticalScrollBar().setValue(panel.y())
    save_screenshot(viewer, "training-evaluation", size=(1600, 1000))


def test_refined_iteration_offers_the_previous_best_snapshot(
    make_napari_viewer: Any, tmp_path: Path
) -> None:
    config = _small_project(tmp_path, n_labeled=4)
    project = Project.open(config)
    name = f"{project.task}{project.date}-trainset95shuffle1"
    prev = project.root / "dlc-models-pytorch" / "iteration-0" / name / "train"
    prev.mkdir(parents=True)
    for s in ("snapshot-005.pt", "snapshot-best-010.pt"):
        (prev / s).write_bytes(b"x")
    viewer = make_napari_viewer()
    dock = _dock(viewer)
    state = state_for_viewer(viewer)
    state.open(config)
    assert dock.form.weights.findData("previous") < 0  # iteration 0: nothing before it
    project = state.project
    project.iteration = 1
    state.save()
    state.iteration_changed.emit(1)
    assert dock.form.weights.currentData() == "previous"
    assert "iteration 0's snapshot-best-010.pt" in dock.form.weights.currentText()
    spec = dock.form.spec(str(config))
    assert spec.init_from == str(prev / "snapshot-best-010.pt") and spec.resume_from is None
    dock.form.weights.setCurrentIndex(dock.form.weights.findData("pretrained"))
    assert dock.form.spec(str(config)).init_from is None


@pytest.mark.slow
def test_dataset_and_training_docks_agree_on_the_shuffle_the_cli_made(
    make_napari_viewer: Any, qtbot: Any, tmp_path: Path
) -> None:
    """``create-dataset`` on the command line, then the project opened in napari: both docks
    show the shuffle it made, and the Training dock finds its dataset (trainset index 1)."""
    import subprocess
    import sys

    config = _small_project(tmp_path)
    out = subprocess.run(
        [
            sys.executable,
            "-m",
            "napari_dlcflow",
            "create-dataset",
            str(config),
            "--first-shuffle",
            "2",
            "--net-type",
            "resnet_50",
        ],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert out.returncode == 0, out.stdout + out.stderr
    assert "shuffle 2: resnet_50, train 23 / test 1 frames (trainset 96%" in out.stdout
    viewer = make_napari_viewer()
    _, dataset = viewer.window.add_plugin_dock_widget("napari-dlcflow", "Dataset")
    assert isinstance(dataset, DatasetDock)
    training = _dock(viewer)
    state_for_viewer(viewer).open(config)
    assert dataset.export.first_shuffle.value() == 2
    assert training.form.shuffle.value() == 2
    assert dataset.export.shuffle_in_use == (2, training.trainset_index) == (2, 1)
    assert "shuffle 2, trainset index 1 (96%)" in dataset.export.last_note.text()
    folder = training.train_folder()
    assert folder is not None and folder.parent.name.endswith("trainset96shuffle2")
    assert "no training dataset" not in training.project_label.text()
    assert training.start_button.isEnabled()
    # choosing a shuffle that was not made says so, and going back finds the dataset again
    training.form.shuffle.setValue(1)
    assert training.train_folder() is None and "no training dataset" in (
        training.project_label.text()
    )
    training.form.shuffle.setValue(2)
    assert training.train_folder() == folder
    # a dataset made in the Dataset dock: the Training dock follows it at once
    dataset.export.first_shuffle.setValue(3)
    assert dataset.create_dataset() is not None
    qtbot.waitUntil(lambda: training.form.shuffle.value() == 3, timeout=300_000)
    assert training.train_folder().parent.name.endswith("trainset96shuffle3")
    assert dataset.export.first_shuffle.value() == 3 and training.start_button.isEnabled()
