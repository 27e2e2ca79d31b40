"""The docks on a multi-animal project (issue 23), in a real napari viewer: the Dataset dock's
net types, the Training dock's weights choice and its line, the analysis panel's tracking
settings. No training: a labeled multi-animal project and, where a model is needed, its train
folder as DeepLabCut lays it out."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from qtpy.QtCore import Qt

from napari_dlcflow.core.engine.tracking import TrackingSpec, write_tracking_settings
from napari_dlcflow.core.example.group import GroupSpec
from napari_dlcflow.core.example.truth_labels import make_labeled_group_project
from napari_dlcflow.core.project.config import Project
from napari_dlcflow.core.project.create import create_project
from napari_dlcflow.napari_common import state_for_viewer
from napari_dlcflow.widgets.dataset.dock import DatasetDock
from napari_dlcflow.widgets.overlay.dock import OverlayDock
from napari_dlcflow.widgets.training.dock import TrainingDock

pytestmark = pytest.mark.gui

# what DeepLabCut 3 writes for resnet_50 on a multi-animal project (the part that matters here)
PYTORCH_CONFIG = """\
net_type: resnet_50
model:
  backbone:
    type: ResNet
    model_name: resnet50_gn
"""


@pytest.fixture
def group_project(tmp_path: Path) -> Project:
    return make_labeled_group_project(
        tmp_path / "group", GroupSpec(n_animals=2, n_frames=40, height=96, width=96), n_labeled=10
    )


def _train_folder(project: Project, shuffle: int = 1) -> Path:
    """Shuffle ``shuffle``'s train folder in DeepLabCut's layout, with its pytorch_config."""
    name = f"{project.task}{project.date}-trainset95shuffle{shuffle}"
    train = project.root / "dlc-models-pytorch" / "iteration-0" / name / "train"
    train.mkdir(parents=True)
    (train / "pytorch_config.yaml").write_text(PYTORCH_CONFIG, encoding="utf-8")
    return train


def _add(viewer: Any, name: str) -> Any:
    _, widget = viewer.window.add_plugin_dock_widget("napari-dlcflow", name)
    return widget


def _shot(viewer: Any, dock: Any, target: Any, name: str, save: Any) -> None:
    """Widen the dock, scroll ``target`` into view and save the screenshot."""
    from qtpy.QtWidgets import QApplication

    from napari_dlcflow.widgets.common.screenshot import prepare

    window = viewer.window._qt_window
    window.resize(1400, 950)
    QApplication.processEvents()
    qdock = dock.parentWidget()
    while qdock is not None and qdock.__class__.__name__ != "QtViewerDockWidget":
        qdock = qdock.parentWidget()
    if qdock is not None:
        window.resizeDocks([qdock], [560], Qt.Orientation.Horizontal)
    prepare(viewer)  # as the screenshot fixture does, so that the layout is final
    for _ in range(3):
        QApplication.processEvents()
    window.grab()  # a hidden window lays its widgets out when drawn
    # the target's place in the dock's body, through its parents (laid out by now)
    top, w = 0, target
    while w is not None and w is not dock.widget():
        top, w = top + w.y(), w.parentWidget()
    dock.verticalScrollBar().setValue(max(top - 40, 0))
    save(viewer, name)


def _single(tmp_path: Path) -> Project:
    (tmp_path / "single").mkdir()
    return create_project("one", "ana", [], tmp_path / "single", bodyparts=["nose", "tail"])


def _names(combo: Any) -> list[str]:
    return [combo.itemData(i) for i in range(combo.count())]


def test_dataset_dock_offers_the_project_s_net_types(
    make_napari_viewer: Any, group_project: Project, tmp_path: Path
) -> None:
    single = _single(tmp_path)
    viewer = make_napari_viewer()
    dock = _add(viewer, "Dataset")
    assert isinstance(dock, DatasetDock)
    state = state_for_viewer(viewer)

    state.open(group_project.config_path)
    names = _names(dock.export.net_type)
    assert "dlcrnet_stride32_ms5" in names and "dekr_w32" in names and "resnet_50" in names
    assert not [n for n in names if n.startswith("ctd_")]  # conditions are not set up here
    assert dock.export.net_type.currentData() == "resnet_50"
    i = dock.export.net_type.findData("dlcrnet_stride32_ms5")
    assert "part affinity" in dock.export.net_type.itemData(i, Qt.ItemDataRole.ToolTipRole)
    line = dock.export.ma_note.text()
    assert line.startswith("Multi-animal dataset: 2 animals (")
    assert "part-affinity fields" in line and "identity head" not in line
    dock.export.set_net_type("dlcrnet_stride32_ms5")
    assert "DLCRNet" in dock.export.net_note.text()

    # identity: true and unique body parts are said in the same line
    project = state.project
    project.unique_bodyparts = ["corner"]
    state.save()
    config = group_project.config_path
    text = config.read_text(encoding="utf-8")
    assert "identity: false" in text
    config.write_text(text.replace("identity: false", "identity: true"), encoding="utf-8")
    state.open(config)
    line = dock.export.ma_note.text()
    assert "identity head" in line and "unique body parts: corner" in line

    state.open(single.config_path)
    names = _names(dock.export.net_type)
    assert "resnet_50" in names and not [n for n in names if n.startswith(("dlcrnet", "dekr"))]
    assert dock.export.net_type.currentData() == "resnet_50"  # dlcrnet is gone: the default
    assert dock.export.ma_note.text() == "" and dock.export.ma_note.isHidden()


def test_training_dock_weights_auto_and_the_offline_line(
    make_napari_viewer: Any,
    group_project: Project,
    tmp_path: Path,
    qtbot: Any,
    monkeypatch: pytest.MonkeyPatch,
    save_screenshot: Any,
) -> None:
    empty = tmp_path / "hf"
    empty.mkdir()
    monkeypatch.setenv("HF_HOME", str(empty))
    monkeypatch.delenv("HF_HUB_CACHE", raising=False)
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    _train_folder(group_project)
    viewer = make_napari_viewer()
    dock = _add(viewer, "Training")
    assert isinstance(dock, TrainingDock)
    form = dock.form
    assert form.asked_weights() == "auto"
    assert _names(form.weights)[:3] == ["auto", "pretrained", "scratch"]
    state_for_viewer(viewer).open(group_project.config_path)
    note = form.weights_note
    qtbot.waitUntil(lambda: "will train from scratch" in note.text(), timeout=60_000)
    assert note.text() == "resnet50_gn weights are not available offline: will train from scratch"
    assert dock.weights_choice is not None and dock.weights_choice.weights == "scratch"
    _shot(viewer, dock, note, "ma-training-weights", save_screenshot)
    with pytest.raises(ValueError, match="auto"):
        form.spec(str(group_project.config_path))  # nothing unresolved reaches TrainSpec
    assert form.spec(str(group_project.config_path), weights="scratch").weights == "scratch"

    # pretrained, explicitly: refused in the line, and at Start before any job
    form.weights.setCurrentIndex(form.weights.findData("pretrained"))
    qtbot.waitUntil(lambda: dock.weights_choice is not None, timeout=60_000)
    assert dock.weights_choice.refused
    assert note.text().startswith("resnet50_gn weights are not available offline (not in ")
    assert str(empty) in note.text()
    assert dock.start_button.isEnabled()
    dock.start_button.click()
    qtbot.waitUntil(lambda: "Cannot start" in dock.status.text(), timeout=60_000)
    assert "resnet50_gn weights are not available offline" in dock.status.text()
    assert dock.job is None and not list(
        (group_project.root / "dlc-models-pytorch").rglob("dlcflow-job*")
    )


def test_analysis_panel_tracking_group(
    make_napari_viewer: Any, group_project: Project, tmp_path: Path, save_screenshot: Any
) -> None:
    train = _train_folder(group_project)
    test = train.parent / "test"
    test.mkdir()
    (test / "inference_cfg.yaml").write_text("variant: 0\n", encoding="utf-8")
    used = TrackingSpec(iou_threshold=0.35, box_slack=6, max_age=4, min_hits=2)
    write_tracking_settings(test / "inference_cfg.yaml", used)  # as an earlier analysis did
    single = _single(tmp_path)
    viewer = make_napari_viewer()
    dock = _add(viewer, "Overlay")
    assert isinstance(dock, OverlayDock)
    panel = dock.analyze_panel
    state = state_for_viewer(viewer)

    state.open(single.config_path)
    assert panel.tracking.isHidden()
    panel.videos.addItem(str(tmp_path / "a.mp4"))
    assert panel.spec().tracking is None

    state.open(group_project.config_path)
    group = panel.tracking
    assert not group.isHidden()
    # DeepLabCut's skeleton tracker fails with a shape error: not offered
    assert [group.tracker.itemText(i) for i in range(group.tracker.count())] == ["box", "ellipse"]
    assert "bounding box" in group.tracker.toolTip()
    # prefilled from what the last analysis used (the model's inference_cfg.yaml); the
    # animals from the config
    assert (group.iou.value(), group.max_age.value(), group.min_hits.value()) == (0.35, 4, 2)
    assert group.n_animals.value() == 2 and group.max_gap.text() == "auto"
    assert panel.spec().tracking == used.to_dict()

    group.tracker.setCurrentText("ellipse")
    assert "ellipse" in group.tracker.toolTip()
    group.tracker.setCurrentText("box")
    group.iou.setValue(0.5)
    group.max_age.setValue(7)
    group.min_hits.setValue(3)
    group.max_gap.setValue(12)
    group.min_length.setValue(5)
    group.n_animals.setValue(3)
    spec = panel.spec()
    assert spec.tracking == {
        "tracker": "box",
        "iou_threshold": 0.5,
        "box_slack": 6,
        "max_age": 7,
        "min_hits": 3,
        "max_gap": 12,
        "min_length": 5,
        "n_tracks": 3,
        "identity_only": None,
    }
    assert spec.config == str(group_project.config_path)

    # what the analysis child says about its tracking reaches the panel (batch_events yields
    # the relayed engine events as they are, with their video)
    video = str(group_project.root / "videos" / "group.mp4")
    message = TrackingSpec.from_dict(spec.tracking).describe(2)
    panel._event({"event": "tracking", "message": message, "video": video})
    assert group.note.text() == f"Tracking: {message}"
    panel._event(
        {"event": "tracking_stage", "stage": "detections", "state": "skipped", "video": video}
    )
    assert panel.status.text() == "group.mp4: detections already done"
    panel._event(
        {"event": "tracking_stage", "stage": "tracklets", "state": "done", "video": video}
    )
    assert panel.status.text() == "group.mp4: tracklets done"
    _shot(viewer, dock, group, "ma-analysis-tracking", save_screenshot)

    state.open(single.config_path)
    assert panel.tracking.isHidden()
