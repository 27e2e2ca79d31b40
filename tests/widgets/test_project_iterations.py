"""The Iterations section of the Project dock in a real napari viewer (virtual display).

The iteration history is laid out on disk the way DeepLabCut does it; DeepLabCut itself does not
run here (its dataset creation is the lead's slow end-to-end test).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from qtpy.QtCore import Qt

from napari_dlcflow.core.engine import dataset, training
from napari_dlcflow.core.example.synthetic import BODYPARTS, SyntheticSpec, render_synthetic
from napari_dlcflow.core.example.truth_labels import make_labeled_synthetic_project
from napari_dlcflow.core.labels.collected import load_folder
from napari_dlcflow.core.labels.machine import predictions_to_labels, write_machine_labels
from napari_dlcflow.core.predictions.analysis_files import simulate_predictions
from napari_dlcflow.core.project.config import Project
from napari_dlcflow.core.refine.iteration import HISTORY_COLUMNS
from napari_dlcflow.core.video.extract import labeled_data_folder
from napari_dlcflow.napari_common import state_for_viewer
from napari_dlcflow.widgets.project.dock import ProjectDock
from napari_dlcflow.widgets.refine import iterations as _project_iterations

pytestmark = pytest.mark.gui

SPEC = SyntheticSpec(n_frames=40, height=64, width=64, seed=1)
NET = "DLC_Resnet50_syntheticshuffle1_snapshot_best-010"
NEW_FRAMES = [3, 7]  # not among the 8 labeled frames (0, 5, 10, ...)


def _dock(viewer: Any) -> ProjectDock:
    _, widget = viewer.window.add_plugin_dock_widget("napari-dlcflow", "Project")
    assert isinstance(widget, ProjectDock)
    return widget


def _cells(dock: ProjectDock) -> list[list[str]]:
    t = dock.iterations.table
    return [[t.item(r, c).text() for c in range(t.columnCount())] for r in range(t.rowCount())]


def _bold(dock: ProjectDock, row: int) -> bool:
    t = dock.iterations.table
    return all(t.item(row, c).font().bold() for c in range(t.columnCount()))


@pytest.fixture
def project(tmp_path: Path, dlc_iteration_layout: Any) -> Project:
    """A labeled synthetic project with an iteration-0 history as DeepLabCut leaves it."""
    return dlc_iteration_layout(make_labeled_synthetic_project(tmp_path, SPEC, n_labeled=8))


def _machine_labels(project: Project) -> Path:
    """Outlier frames without ground truth, with the model's predictions as machine labels."""
    from PIL import Image

    video = Path(next(iter(project.videos)))
    folder = labeled_data_folder(project.root, video)
    rendered = render_synthetic(SPEC)
    pred = simulate_predictions(rendered.keypoints, BODYPARTS, scorer=NET, seed=4)
    names = [f"img{f:02d}.png" for f in NEW_FRAMES]
    for f, n in zip(NEW_FRAMES, names, strict=True):
        Image.fromarray(rendered.frames[f]).save(folder / n)
    write_machine_labels(
        predictions_to_labels(pred, NEW_FRAMES, names, folder.name), folder, project.iteration
    )
    return folder


def test_table_shows_the_history_and_what_waits(
    make_napari_viewer: Any, project: Project, qtbot: Any
) -> None:
    viewer = make_napari_viewer()
    dock = _dock(viewer)
    assert not dock.iterations.isVisibleTo(dock)  # no project yet
    dock.open_project(str(project.config_path))
    section = dock.iterations
    assert section.isVisibleTo(dock)
    t = section.table
    assert [t.horizontalHeaderItem(c).text().replace("\n", " ") for c in range(7)] == list(
        HISTORY_COLUMNS
    )
    assert _cells(dock) == [["0 (current)", "8", "2", "snapshot-best-010.pt", "4.25", "1.50", "0"]]
    assert _bold(dock, 0)
    # a 360-px dock shows frames and errors; the rest is in the row's tooltip and below
    shown = [HISTORY_COLUMNS[c] for c in range(7) if not t.isColumnHidden(c)]
    assert shown == ["Iteration", "Labeled frames", "Test error (px)", "Train error (px)"]
    details = (
        "Iteration 0 (current): 2 snapshot(s), best snapshot-best-010.pt; "
        "0 machine-labeled frame(s)."
    )
    assert section.details_label.text() == details
    assert t.item(0, 0).toolTip() == details
    assert t.editTriggers() == t.EditTrigger.NoEditTriggers
    assert section.pending_label.text() == "Nothing waits for review."

    # outliers extracted elsewhere (e.g. the Overlay dock) announce their folder
    folder = _machine_labels(project)
    state_for_viewer(viewer).frames_added.emit(folder)
    assert section.pending_label.text() == (
        f"1 folder ({folder.name}) has 2 machine-labeled frames not reviewed: "
        "open it in the Labeling dock."
    )
    assert _cells(dock)[0][-1] == "2"
    assert section.details_label.text().endswith("; 2 machine-labeled frame(s).")
    # the Refresh button reads the disk again
    (folder / "machinelabels-iter0.h5").unlink()
    qtbot.mouseClick(section.refresh_button, Qt.MouseButton.LeftButton)
    assert section.pending_label.text() == "Nothing waits for review."


def test_pending_text_counts_folders_and_frames(tmp_path: Path) -> None:
    text = _project_iterations.pending_text({tmp_path / "a": 5, tmp_path / "b": 9})
    assert text == (
        "2 folders (a, b) have 14 machine-labeled frames not reviewed: "
        "open them in the Labeling dock."
    )


def test_refuses_unsaved_edits_and_unreviewed_labels_without_writing(
    make_napari_viewer: Any, project: Project, monkeypatch: pytest.MonkeyPatch
) -> None:
    folder = _machine_labels(project)
    h5 = next(folder.glob("CollectedData_*.h5"))
    config_before, labels_before = project.config_path.read_bytes(), h5.read_bytes()
    asked: list[str] = []

    def no(_parent: Any, text: str) -> bool:
        asked.append(text)
        return False

    monkeypatch.setattr(_project_iterations, "ask_accept_pending", no)
    viewer = make_napari_viewer()
    dock = _dock(viewer)
    dock.open_project(str(project.config_path))
    dock.dotsize.setValue(7)  # an unsaved edit
    assert dock.iterations.start_next() is None
    assert "Save config.yaml first" in dock.status.text() and not asked
    dock._reload()
    # another program edits config.yaml meanwhile
    project.config_path.write_bytes(config_before + b"# edited elsewhere\n")
    assert dock.iterations.start_next() is None
    assert "changed by another program: Reload it first" in dock.status.text() and not asked
    dock._reload()
    config_before = project.config_path.read_bytes()
    assert dock.iterations.start_next() is None
    assert len(asked) == 1 and "2 machine-labeled frames" in asked[0]
    assert "p-cutoff (0.6)" in asked[0]
    assert "review the machine labels in the Labeling dock" in dock.status.text()
    assert project.config_path.read_bytes() == config_before
    assert h5.read_bytes() == labels_before
    assert dock.iterations.worker is None and dock.iterations.next_button.isEnabled()


def _start(
    qtbot: Any,
    dock: ProjectDock,
    monkeypatch: pytest.MonkeyPatch,
    *,
    train: bool,
) -> tuple[list[int], list[str], list[tuple[Any, ...]]]:
    """Click "Start next iteration…", accept the machine labels, answer ``train``; wait."""
    emitted: list[int] = []
    train_questions: list[str] = []
    created: list[tuple[Any, ...]] = []

    def fake_create_datasets(config: Any, spec: Any = None, **_kw: Any) -> Any:
        created.append((Path(config), spec.first_shuffle, spec.net_type))
        return dataset.DatasetSummary(shuffles=[{"shuffle": 1, "n_train": 9, "n_test": 1}])

    def answer(_parent: Any, text: str) -> bool:
        train_questions.append(text)
        return train

    monkeypatch.setattr(dataset, "create_datasets", fake_create_datasets)
    monkeypatch.setattr(_project_iterations, "ask_accept_pending", lambda _p, _t: True)
    monkeypatch.setattr(_project_iterations, "ask_train_from", answer)
    dock.state.iteration_changed.connect(emitted.append)
    qtbot.mouseClick(dock.iterations.next_button, Qt.MouseButton.LeftButton)
    assert dock.iterations.worker is not None
    assert not dock.iterations.next_button.isEnabled()
    assert dock.iterations.progress.isVisibleTo(dock)
    assert not dock.edit_box.isEnabled() and not dock.open_button.isEnabled()
    qtbot.waitUntil(lambda: dock.iterations.worker is None, timeout=60_000)
    return emitted, train_questions, created


def test_next_iteration_merges_bumps_and_shows_the_new_row(
    make_napari_viewer: Any,
    project: Project,
    qtbot: Any,
    monkeypatch: pytest.MonkeyPatch,
    save_screenshot: Any,
) -> None:
    folder = _machine_labels(project)
    before = pd.read_hdf(next(folder.glob("CollectedData_*.h5")))
    viewer = make_napari_viewer()
    dock = _dock(viewer)
    dock.open_project(str(project.config_path))
    emitted, questions, created = _start(qtbot, dock, monkeypatch, train=False)

    assert Project.open(project.config_path).iteration == 1
    assert created == [(project.config_path.resolve(), 1, None)]
    after = pd.read_hdf(next(folder.glob("CollectedData_*.h5")))
    pd.testing.assert_frame_equal(after.loc[before.index], before)  # earlier labels unchanged
    new = {r[-1] for r in after.index} - {r[-1] for r in before.index}
    assert new == {"img03.png", "img07.png"}
    merged = load_folder(folder)
    assert not np.isnan(merged.xy).all(axis=(1, 2)).any()
    assert emitted == [1]
    state = state_for_viewer(viewer)
    assert state.project.iteration == 1 and not state.project.dirty

    rows = _cells(dock)
    assert [r[0] for r in rows] == ["0", "1 (current)"]
    assert rows[0][1:4] == ["8", "2", "snapshot-best-010.pt"]
    assert rows[0][-1] == "2"  # the outliers of iteration 0
    assert _bold(dock, 1) and not _bold(dock, 0)
    assert dock.iterations.pending_label.text() == "Nothing waits for review."
    assert dock.iterations.next_button.isEnabled() and dock.edit_box.isEnabled()

    # the offer to train from the previous best snapshot, declined: nothing starts
    assert len(questions) == 1 and "snapshot-best-010.pt" in questions[0]
    assert not list(project.root.rglob(training.JOB_FILE))
    status = dock.status.text()
    assert "Iteration 0 -> 1." in status and "9 train / 1 test" in status
    assert "Not training yet" in status
    _screenshot(viewer, dock, save_screenshot)


def _screenshot(viewer: Any, dock: ProjectDock, save: Any) -> None:
    """Widen the dock, scroll the Iterations section into view and save the screenshot."""
    from qtpy.QtWidgets import QApplication

    window = viewer.window._qt_window
    window.resize(1400, 950)
    QApplication.processEvents()
    qdock = dock.parentWidget()
    while qdock is not None and qdock.__class__.__name__ != "QtViewerDockWidget":
        qdock = qdock.parentWidget()
    if qdock is not None:
        window.resizeDocks([qdock], [800], Qt.Orientation.Horizontal)
    viewer.add_image(render_synthetic(SPEC).frames[NEW_FRAMES[0]], name="img03.png", rgb=True)
    QApplication.processEvents()
    viewer.window._qt_window.grab()  # a hidden window lays its docks out only when drawn
    QApplication.processEvents()
    dock.ensureWidgetVisible(dock.iterations.next_button)
    save(viewer, "project-iterations")


def test_training_from_the_previous_best_reports_why_it_cannot_start(
    make_napari_viewer: Any, project: Project, qtbot: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Yes to training: the real start_training is asked, and its refusal (no dataset for
    the new iteration, since DeepLabCut did not run here) lands in the status line."""
    _machine_labels(project)
    viewer = make_napari_viewer()
    dock = _dock(viewer)
    dock.open_project(str(project.config_path))
    emitted, questions, _ = _start(qtbot, dock, monkeypatch, train=True)
    assert emitted == [1] and len(questions) == 1
    status = dock.status.text()
    assert "Cannot start training" in status and "iteration-1" in status
    assert not list(project.root.rglob(training.JOB_FILE))


def test_dataset_failure_after_the_bump_is_shown_and_the_project_follows(
    make_napari_viewer: Any, project: Project, qtbot: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    def fails(*_a: Any, **_k: Any) -> dict:
        raise RuntimeError("DeepLabCut could not create the training dataset: disk full")

    monkeypatch.setattr(dataset, "create_datasets", fails)
    asked: list[str] = []
    monkeypatch.setattr(_project_iterations, "ask_train_from", lambda _p, t: asked.append(t))
    viewer = make_napari_viewer()
    dock = _dock(viewer)
    dock.open_project(str(project.config_path))
    emitted: list[int] = []
    dock.state.iteration_changed.connect(emitted.append)
    worker = dock.iterations.start_next()  # nothing pending: no question
    assert worker is not None
    qtbot.waitUntil(lambda: dock.iterations.worker is None, timeout=60_000)
    status = dock.status.text()
    assert "disk full" in status and "config.yaml is at iteration 1 now" in status
    assert "ff6b6b" in dock.status.styleSheet()  # shown as an error
    assert emitted == [1] and state_for_viewer(viewer).project.iteration == 1
    assert _cells(dock)[-1][0] == "1 (current)"
    assert not asked  # no dataset, no offer to train
