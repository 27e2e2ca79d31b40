"""The Dataset dock in a real napari viewer (virtual display): import preview, rename, import
into the Labeling dock, validation report, COCO export and (slow) DeepLabCut dataset export."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from qtpy.QtCore import Qt

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "core"))

from test_formats import make_per_image_set

from napari_dlcflow.core.labels.collected import load_folder
from napari_dlcflow.core.project.config import Project
from napari_dlcflow.core.project.create import create_project
from napari_dlcflow.napari_common import state_for_viewer
from napari_dlcflow.widgets.dataset import dialogs as _dataset_dialogs
from napari_dlcflow.widgets.dataset.dock import DatasetDock

pytestmark = pytest.mark.gui

PARTS = ["nose", "eye-left", "eye-right", "tail"]


def _dock(viewer: Any) -> DatasetDock:
    _, widget = viewer.window.add_plugin_dock_widget("napari-dlcflow", "Dataset")
    assert isinstance(widget, DatasetDock)
    return widget


def _click(qtbot: Any, button: Any) -> None:
    assert button.isEnabled()
    qtbot.mouseClick(button, Qt.MouseButton.LeftButton)


def _shot(viewer: Any, dock: DatasetDock, target: Any, name: str, save: Any) -> None:
    """Widen the dock, scroll ``target`` into view and save the screenshot."""
    from qtpy.QtWidgets import QApplication

    window = viewer.window._qt_window
    window.resize(1400, 950)
    QApplication.processEvents()
    qdock = dock.parentWidget()
    while qdock is not None and qdock.__class__.__name__ != "QtViewerDockWidget":
        qdock = qdock.parentWidget()
    if qdock is not None:
        window.resizeDocks([qdock], [660], Qt.Orientation.Horizontal)
    QApplication.processEvents()
    dock.ensureWidgetVisible(target)
    save(viewer, name)


def _wait_idle(qtbot: Any, dock: DatasetDock, timeout: int = 30000) -> None:
    qtbot.waitUntil(lambda: dock.importer.preview_button.isEnabled(), timeout=timeout)


def test_import_preview_rename_import_and_label(
    make_napari_viewer: Any, tmp_path: Path, qtbot: Any, save_screenshot: Any
) -> None:
    names, _ = make_per_image_set(tmp_path / "dog-session", n=5)
    (tmp_path / "projects").mkdir()
    project = create_project("dogs", "ana", [], tmp_path / "projects", bodyparts=PARTS)
    viewer = make_napari_viewer()
    state_for_viewer(viewer).open(project.config_path)
    dock = _dock(viewer)
    assert "dogs" in dock.project_label.text()
    assert dock.project_path.text() == str(project.config_path)  # elided on screen, whole here
    dock.importer.source.setText(str(tmp_path / "dog-session"))
    dock.importer.visibility_column.setValue(3)
    _click(qtbot, dock.importer.preview_button)
    _wait_idle(qtbot, dock)
    t = dock.importer.rename
    assert [t.item(r, 0).text() for r in range(t.rowCount())] == names
    assert [t.item(r, 2).text() for r in range(t.rowCount())] == ["4", "5", "5", "4"]
    assert (
        "body parts not in config.yaml: eye-left-open" in dock.importer.preview_text.toPlainText()
    )
    assert not dock.importer.import_button.isEnabled()
    assert not (project.root / "labeled-data" / "dog-session").exists()
    _shot(viewer, dock, dock.importer.preview_text, "dataset-import-unknown", save_screenshot)

    t.item(1, 1).setText("eye-left")  # the rename map, in the table
    assert dock.importer.rename_map() == {"eye-left-open": "eye-left"}
    _click(qtbot, dock.importer.preview_button)
    _wait_idle(qtbot, dock)
    text = dock.importer.preview_text.toPlainText()
    assert "5 images into labeled-data/dog-session (5)" in text
    assert "18 labeled points: nose 4, eye-left 5, eye-right 5, tail 4" in text
    assert dock.importer.import_button.isEnabled()
    _shot(viewer, dock, dock.importer.preview_text, "dataset-import-preview", save_screenshot)

    _click(qtbot, dock.importer.import_button)
    qtbot.waitUntil(lambda: dock.last_import is not None, timeout=30000)
    _wait_idle(qtbot, dock)
    assert "Imported 5 new images and 18 points" in dock.status.text()
    # a progress tick late after the result (its timer ran until the worker's `finished`, and
    # once wrote "Importing: 5 of 5" over it on CI) leaves the result on screen
    dock._progress = (5, 5)
    dock._show_progress()
    assert "Imported 5 new images and 18 points" in dock.status.text()
    folder = project.root / "labeled-data" / "dog-session"
    labels = load_folder(folder, "ana")
    assert labels.image_names == [f"img{i:02d}.png" for i in range(7, 12)]
    assert labels.bodyparts == PARTS
    # the imported frames are open in the Labeling dock
    images = [layer for layer in viewer.layers if layer.__class__.__name__ == "Image"]
    points = [layer for layer in viewer.layers if layer.__class__.__name__ == "Points"]
    assert images and images[0].data.shape[0] == 5
    assert points and len(points[0].data) == 18
    # and the report says the project is ready
    assert dock.report_view.report is not None and dock.report_view.report.ok
    save_screenshot(viewer, "dataset-imported-labeling")


def test_validation_report_register_and_coco(
    make_napari_viewer: Any,
    openfield_project: Path,
    qtbot: Any,
    save_screenshot: Any,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
) -> None:
    folder = openfield_project / "labeled-data" / "m4s1"
    (folder / "img0010.png").unlink()  # a blocking problem
    viewer = make_napari_viewer()
    state_for_viewer(viewer).open(openfield_project / "config.yaml")
    dock = _dock(viewer)
    lines = dock.report_view.lines()
    assert lines[0].endswith("export blocked")
    assert "Blocking problems (3)" in lines
    assert any("project_path in config.yaml" in ln for ln in lines)
    assert any("no video_sets entry" in ln for ln in lines)
    assert any("images in the labels but not on disk: img0010.png" in ln for ln in lines)
    assert "m4s1: 640×480: 115" in lines
    # the label check's count stands beside the report (issue 16): openfield has 3 findings
    assert "Label check: 3 likely mistake(s) (Labeling dock)" in lines
    # export refused with the list
    _click(qtbot, dock.export.create_button)
    assert "Not exported: 3 blocking problems" in dock.status.text()
    assert not (openfield_project / "training-datasets").exists()
    viewer.open(str(folder / "img0000.png"))
    _shot(viewer, dock, dock.report_view, "dataset-validation", save_screenshot)

    _click(qtbot, dock.register_button)
    assert "Added to video_sets" in dock.status.text()
    assert Project.open(openfield_project).videos == {
        "WILL BE AUTOMATICALLY UPDATED BY DEMO CODE": "0, 640, 0, 480",
        str(folder.resolve()): "0, 640, 0, 480",
    }
    assert "Blocking problems (2)" in dock.report_view.lines()

    out = tmp_path / "openfield.json"
    monkeypatch.setattr(_dataset_dialogs, "ask_coco_target", lambda parent: str(out))
    _click(qtbot, dock.export.coco_button)
    doc = json.loads(out.read_text())
    assert len(doc["images"]) == 115 and len(doc["annotations"]) == 115
    assert doc["categories"][0]["keypoints"] == ["snout", "leftear", "rightear", "tailbase"]


def test_net_type_notes_and_multi_animal_only(
    make_napari_viewer: Any, openfield_project: Path, qtbot: Any
) -> None:
    viewer = make_napari_viewer()
    state_for_viewer(viewer).open(openfield_project / "config.yaml")
    dock = _dock(viewer)
    names = [dock.export.net_type.itemData(i) for i in range(dock.export.net_type.count())]
    assert "resnet_50" in names and "top_down_hrnet_w32" in names and len(names) >= 18
    assert dock.export.net_type.currentData() == "resnet_50"
    dock.export.set_net_type("rtmpose_s")
    assert "detector" in dock.export.net_note.text()
    # a single-animal project is offered no multi-animal-only type
    assert not [n for n in names if n.startswith(("dekr_", "dlcrnet_", "ctd_"))]
    assert not dock.export.ma_note.isVisible() and dock.export.ma_note.text() == ""


@pytest.mark.slow
def test_create_dataset_from_the_dock(
    make_napari_viewer: Any, openfield_project: Path, qtbot: Any, save_screenshot: Any
) -> None:
    project = Project.open(openfield_project)
    project.repair_project_path()
    project.save()
    viewer = make_napari_viewer()
    state_for_viewer(viewer).open(openfield_project / "config.yaml")
    dock = _dock(viewer)
    _click(qtbot, dock.register_button)
    dock.export.train_fraction.setValue(0.8)
    dock.export.num_shuffles.setValue(2)
    dock.export.augmentation.setCurrentIndex(dock.export.augmentation.findData("light"))
    _click(qtbot, dock.export.create_button)
    qtbot.waitUntil(
        lambda: dock.summary is not None or "could not" in dock.status.text(), timeout=240000
    )
    text = dock.export.summary.toPlainText()
    assert "shuffle 1: resnet_50, train 93 / test 23 frames (trainset 80%" in text
    assert "shuffle 2:" in text and "m4s1: train 93, test 23" in text
    for s in (1, 2):
        assert (
            openfield_project / f"dlc-models-pytorch/iteration-0/openfieldOct30-trainset80"
            f"shuffle{s}/train/pytorch_config.yaml"
        ).is_file()
    viewer.open(str(openfield_project / "labeled-data/m4s1/img0000.png"))
    _shot(viewer, dock, dock.export.summary, "dataset-export", save_screenshot)
    assert np.isfinite(dock.export.train_fraction.value())
