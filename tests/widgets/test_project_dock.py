"""The Project dock in a real napari viewer (virtual display)."""

from __future__ import annotations

import difflib
import shutil
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from qtpy.QtCore import Qt

from napari_dlcflow.core.project.config import Project
from napari_dlcflow.napari_common import state_for_viewer
from napari_dlcflow.widgets.common import dialogs as _dialogs
from napari_dlcflow.widgets.project.dock import ProjectDock

pytestmark = pytest.mark.gui


def _dock(viewer: Any) -> ProjectDock:
    _, widget = viewer.window.add_plugin_dock_widget("napari-dlcflow", "Project")
    assert isinstance(widget, ProjectDock)
    return widget


def _names(lst: Any) -> list[str]:
    return [lst.list.item(i).text() for i in range(lst.list.count())]


def test_every_manifest_widget_opens(make_napari_viewer: Any) -> None:
    import npe2

    viewer = make_napari_viewer()
    pm = npe2.PluginManifest.from_distribution("napari-dlcflow")
    for contribution in pm.contributions.widgets:
        _, widget = viewer.window.add_plugin_dock_widget(
            "napari-dlcflow", contribution.display_name
        )
        assert widget is not None


def test_open_openfield_edit_and_save_only_that(
    make_napari_viewer: Any,
    openfield_project: Path,
    qtbot: Any,
    save_screenshot: Any,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    viewer = make_napari_viewer()
    dock = _dock(viewer)
    cfg = openfield_project / "config.yaml"
    before = cfg.read_text()
    monkeypatch.setattr(_dialogs, "ask_config_file", lambda parent: str(cfg))
    qtbot.mouseClick(dock.open_button, Qt.MouseButton.LeftButton)
    assert _names(dock.bodyparts) == ["snout", "leftear", "rightear", "tailbase"]
    viewer.open(str(openfield_project / "labeled-data" / "m4s1" / "img0000.png"))
    assert dock.repair_box.isVisible() or not dock.repair_box.isHidden()
    assert "WILL BE AUTOMATICALLY UPDATED" in dock.repair_label.text()
    assert not dock.unique_box.isVisibleTo(dock) and not dock.individuals_box.isVisibleTo(dock)

    dock.pcutoff.setValue(0.35)
    dock.edge_a.setCurrentText("snout")
    dock.edge_b.setCurrentText("tailbase")
    qtbot.mouseClick(dock.add_edge_button, Qt.MouseButton.LeftButton)
    assert dock.edges.count() == 1
    assert dock.skeleton_view.edges == [("snout", "tailbase")]
    save_screenshot(viewer, "project-dock")

    assert dock.save()
    changed = [
        line
        for line in difflib.unified_diff(
            before.splitlines(), cfg.read_text().splitlines(), lineterm="", n=0
        )
        if line[:1] in "+-" and not line.startswith(("+++", "---"))
    ]
    assert sorted(changed) == sorted(
        [
            "-skeleton: []",
            "+skeleton:",
            "+- - snout",
            "+  - tailbase",
            "-pcutoff: 0.4",
            "+pcutoff: 0.35",
        ]
    )


def test_bodypart_list_edits_and_refusals(
    make_napari_viewer: Any, openfield_project: Path, qtbot: Any
) -> None:
    viewer = make_napari_viewer()
    dock = _dock(viewer)
    dock.open_project(str(openfield_project))
    dock.bodyparts.entry.setText("neck")
    qtbot.mouseClick(dock.bodyparts.add_button, Qt.MouseButton.LeftButton)
    assert _names(dock.bodyparts)[-1] == "neck"
    dock.bodyparts.entry.setText("snout")
    qtbot.mouseClick(dock.bodyparts.add_button, Qt.MouseButton.LeftButton)
    assert "Duplicate body part names: snout" in dock.status.text()
    assert _names(dock.bodyparts).count("snout") == 1  # the list shows the model, not the input
    # rename by editing the list item (double-click in the GUI)
    dock.bodyparts.list.item(0).setText("nose")
    assert state_for_viewer(viewer).project.bodyparts[0] == "nose"
    dock.bodyparts.list.setCurrentRow(4)
    qtbot.mouseClick(dock.bodyparts.up_button, Qt.MouseButton.LeftButton)
    assert _names(dock.bodyparts)[3:] == ["neck", "tailbase"]
    assert "*" in dock.save_button.text()


def test_invalid_config_shows_the_line(make_napari_viewer: Any, tmp_path: Path) -> None:
    viewer = make_napari_viewer()
    dock = _dock(viewer)
    cfg = tmp_path / "config.yaml"
    cfg.write_text("Task: t\nbodyparts:\n- a\n- a\n")
    assert dock.open_project(str(cfg)) is None
    assert "line 2" in dock.status.text() and "Duplicate" in dock.status.text()
    assert str(cfg) in dock.status.text()
    assert not dock.edit_box.isEnabled()


def test_new_project_form_creates_a_project(
    make_napari_viewer: Any,
    tmp_path: Path,
    small_video: Path,
    qtbot: Any,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    viewer = make_napari_viewer()
    dock = _dock(viewer)
    qtbot.mouseClick(dock.new_button, Qt.MouseButton.LeftButton)
    assert not dock.new_form.isHidden()
    form = dock.new_form
    form.task.setText("feeding")
    form.scorer.setText("lab")
    form.folder.setText(str(tmp_path))
    monkeypatch.setattr(_dialogs, "ask_videos", lambda parent: [str(small_video)])
    form._add_videos()
    form.multianimal.setChecked(True)
    qtbot.mouseClick(form.create_button, Qt.MouseButton.LeftButton)
    project = state_for_viewer(viewer).project
    assert project is not None and project.multianimal
    assert project.root.parent == tmp_path
    assert dock.videos.count() == 1
    assert dock.individuals_box.isVisibleTo(dock)
    # a second create with the same name is refused with a message, not a traceback
    qtbot.mouseClick(dock.new_button, Qt.MouseButton.LeftButton)
    qtbot.mouseClick(form.create_button, Qt.MouseButton.LeftButton)
    assert "exists already" in dock.status.text()


def test_repair_project_path_then_save(
    make_napari_viewer: Any, openfield_project: Path, qtbot: Any
) -> None:
    viewer = make_napari_viewer()
    dock = _dock(viewer)
    dock.open_project(str(openfield_project))
    qtbot.mouseClick(dock.repair_button, Qt.MouseButton.LeftButton)
    assert dock.save()
    assert Project.open(openfield_project).project_path_ok
    assert dock.repair_box.isHidden()


def test_dropping_a_project_folder_opens_it(
    make_napari_viewer: Any, openfield_project: Path
) -> None:
    viewer = make_napari_viewer()
    n_layers = len(viewer.layers)
    viewer.open(str(openfield_project), plugin="napari-dlcflow")
    project = state_for_viewer(viewer).project
    assert project is not None and project.task == "openfield"
    assert len(viewer.layers) == n_layers
    docks = [w for w in viewer.window.dock_widgets.values() if isinstance(w, ProjectDock)]
    assert len(docks) == 1


def test_reader_ignores_foreign_files(tmp_path: Path) -> None:
    from napari_dlcflow.plugin.project_reader import get_reader

    other = tmp_path / "config.yaml"
    other.write_text("name: not a DLC project\n")
    assert get_reader(str(other)) is None
    assert get_reader(str(tmp_path)) is None
    assert get_reader(str(tmp_path / "missing.yaml")) is None


def test_sample_data_shows_video_truth_and_skeleton(
    make_napari_viewer: Any, save_screenshot: Any
) -> None:
    viewer = make_napari_viewer()
    viewer.open_sample("napari-dlcflow", "synthetic_animal")
    names = [layer.name for layer in viewer.layers]
    assert names == ["synthetic animal", "ground truth skeleton", "ground truth"]
    image, _skeleton, points = viewer.layers
    assert image.data.shape[0] == 300 and image.rgb
    assert points.data.shape == (300 * 11, 3)
    assert len(set(points.features["bodypart"])) == 11
    viewer.dims.set_current_step(0, 50)
    shot = save_screenshot(viewer, "sample-data", canvas_only=True, size=(900, 700))
    from skimage.io import imread

    img = imread(shot)
    assert img[..., :3].std() > 10  # a real picture, not a blank canvas
    # the truth points are drawn: strongly coloured pixels exist
    rgb = img[..., :3].astype(int)
    assert (np.ptp(rgb, axis=-1) > 120).sum() > 50


def test_check_with_dlc_requires_a_saved_file(
    make_napari_viewer: Any, openfield_project: Path
) -> None:
    viewer = make_napari_viewer()
    dock = _dock(viewer)
    dock.open_project(str(openfield_project))
    dock.dotsize.setValue(3)
    assert dock.check_with_dlc() is None
    assert "Save first" in dock.status.text()


@pytest.mark.slow
def test_check_with_dlc_button_runs_deeplabcut(
    make_napari_viewer: Any, tmp_path: Path, small_video: Path, qtbot: Any
) -> None:
    from napari_dlcflow.core.project.create import create_project

    viewer = make_napari_viewer()
    dock = _dock(viewer)
    state_for_viewer(viewer).set_project(create_project("t", "s", [small_video], tmp_path))
    worker = dock.check_with_dlc()
    with qtbot.waitSignal(worker.finished, timeout=180_000):
        pass
    qtbot.waitUntil(lambda: "accepts" in dock.status.text(), timeout=5000)
    assert "DeepLabCut 3" in dock.status.text()


def test_copy_of_shared_data_is_untouched(shared_data: Path, tmp_path: Path) -> None:
    src = shared_data / "dlc-openfield" / "config.yaml"
    before = src.read_bytes()
    dest = tmp_path / "p"
    dest.mkdir()
    shutil.copy(src, dest / "config.yaml")
    Project.open(dest)
    assert src.read_bytes() == before


def test_failed_save_keeps_edits_and_file(
    make_napari_viewer: Any, openfield_project: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from napari_dlcflow.core.project import config as project_module
    from napari_dlcflow.core.safe_io import SaveError

    viewer = make_napari_viewer()
    dock = _dock(viewer)
    dock.open_project(str(openfield_project))
    cfg = openfield_project / "config.yaml"
    before = cfg.read_bytes()
    dock.dotsize.setValue(21)

    def fail(path: Any, data: Any) -> None:
        raise SaveError(
            f"Cannot save {path}: Read-only file system. The previous file is unchanged."
        )

    monkeypatch.setattr(project_module, "atomic_write", fail)
    assert not dock.save()
    assert "Not saved" in dock.status.text() and "Read-only" in dock.status.text()
    assert cfg.read_bytes() == before
    project = state_for_viewer(viewer).project
    assert project.dirty and project.dotsize == 21
