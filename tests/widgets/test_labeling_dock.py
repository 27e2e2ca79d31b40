"""The Labeling dock in a real viewer on the real openfield project."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from napari_dlcflow.core.labels.collected import read_labels
from napari_dlcflow.core.labels.recovery import find_recovery, recovery_path
from napari_dlcflow.core.project.config import Project

pytestmark = pytest.mark.gui

EDGES = [
    ("snout", "leftear"),
    ("snout", "rightear"),
    ("leftear", "tailbase"),
    ("rightear", "tailbase"),
]


@pytest.fixture(autouse=True)
def _no_modal_dialogs(monkeypatch: pytest.MonkeyPatch) -> dict[str, object]:
    """Answer every question of the dock without a modal box (recorded for the tests)."""
    from napari_dlcflow.widgets.labeling import dialogs as d

    answers: dict[str, object] = {
        "unsaved": "discard",
        "recovery": True,
        "mapping": "apply",
        "remap": True,
        "save_changes": True,
        "asked": [],
    }

    def rec(name: str):  # type: ignore[no-untyped-def]
        def ask(_parent: object, text: str) -> object:
            answers["asked"].append((name, text))  # type: ignore[union-attr]
            return answers[name]

        return ask

    monkeypatch.setattr(d, "ask_unsaved", rec("unsaved"))
    monkeypatch.setattr(d, "ask_use_recovery", rec("recovery"))
    monkeypatch.setattr(d, "ask_config_mapping", rec("mapping"))
    monkeypatch.setattr(d, "ask_remap_folder", rec("remap"))
    monkeypatch.setattr(d, "ask_save_changes", rec("save_changes"))
    return answers


@pytest.fixture
def project(openfield_project: Path) -> Path:
    p = Project.open(openfield_project)
    p.skeleton = EDGES
    p.save()
    return openfield_project


def _open(make_napari_viewer, project: Path):  # type: ignore[no-untyped-def]
    from napari_dlcflow.napari_common import state_for_viewer

    viewer = make_napari_viewer()
    _, dock = viewer.window.add_plugin_dock_widget("napari-dlcflow", "Labeling")
    state_for_viewer(viewer).open(project / "config.yaml")
    assert dock.folder_combo.count() == 1 and dock.folder_combo.currentText() == "m4s1"
    dock._open_selected()
    assert dock.model is not None, dock.status.text()
    return viewer, dock


def test_open_edit_save_check_h5(make_napari_viewer, project: Path, qtbot) -> None:
    folder = project / "labeled-data" / "m4s1"
    before = read_labels(folder / "CollectedData_Pranav.h5")
    _viewer, dock = _open(make_napari_viewer, project)
    layer = dock.points_layer
    assert dock.image_layer.data.shape[:3] == (116, 480, 640)
    assert len(layer.data) == before.n_labeled == 464
    assert list(layer.features["bodypart"][:4]) == ["snout", "leftear", "rightear", "tailbase"]
    np.testing.assert_array_equal(layer.data[0], [0, before.xy[0, 0, 1], before.xy[0, 0, 0]])
    # skeleton of the current frame: the 4 edges of frame 0
    assert dock.skeleton_layer.data.shape == (4, 2, 3)
    assert (dock.skeleton_layer.data[:, 0, 0] == 0).all()
    # colours from the jet colormap, one per body part
    assert not np.allclose(layer.face_color[0], layer.face_color[1])

    # delete snout in frame 3 through the layer
    idx = [
        i
        for i in range(len(layer.data))
        if layer.data[i, 0] == 3 and layer.features["bodypart"][i] == "snout"
    ]
    layer.selected_data = set(idx)
    layer.remove_selected()
    assert len(layer.data) == 463 and dock.model.dirty
    assert dock.skeleton_layer.data.shape == (4, 2, 3)  # still frame 0
    # move tailbase of frame 0 (a drag ends with a CHANGED data event)
    moved = np.array(layer.data)
    i_tail = next(
        i
        for i in range(len(moved))
        if moved[i, 0] == 0 and layer.features["bodypart"][i] == "tailbase"
    )
    moved[i_tail, 1:] = [200.5, 300.25]
    layer.data = moved
    np.testing.assert_array_equal(dock.model.xy[0, 3], [300.25, 200.5])
    # quick mode: place snout back in frame 3 with a click (layer.add is what a click does)
    dock.go_to_frame(3)
    dock.set_mode("quick")
    dock.select_keypoint(0)
    layer.add([3, 111.0, 222.0])
    np.testing.assert_array_equal(dock.model.xy[3, 0], [222.0, 111.0])
    assert len(layer.data) == 464
    assert layer.selected_data == {463}  # napari selected "the new point" by its old index
    qtbot.waitUntil(lambda: not layer.selected_data, timeout=2000)  # cleared: it was another
    # place it again: it moves, never duplicates
    layer.add([3, 112.0, 223.0])
    assert len(layer.data) == 464
    np.testing.assert_array_equal(dock.model.xy[3, 0], [223.0, 112.0])

    assert dock.save(), dock.status.text()
    df = pd.read_hdf(folder / "CollectedData_Pranav.h5", "df_with_missing")
    assert df.shape == (116, 8) and df.index.nlevels == 3
    assert df.loc[("labeled-data", "m4s1", "img0003.png"), ("Pranav", "snout", "x")] == 223.0
    assert df.loc[("labeled-data", "m4s1", "img0000.png"), ("Pranav", "tailbase", "y")] == 200.5
    after = read_labels(folder / "CollectedData_Pranav.h5")
    changed = ~np.isclose(after.xy, before.xy, equal_nan=True).all(axis=-1)
    assert sorted(zip(*np.nonzero(changed), strict=True)) == [(0, 3), (3, 0)]
    assert not dock.model.dirty


def test_sequential_and_loop_modes_copy_undo(make_napari_viewer, project: Path) -> None:
    _viewer, dock = _open(make_napari_viewer, project)
    layer = dock.points_layer
    model = dock.model
    model.clear_points([(5, k) for k in range(4)] + [(6, k) for k in range(4)])
    dock.redraw()
    dock.go_to_frame(5)
    dock.set_mode("sequential")
    dock.select_keypoint(0)
    for k in range(4):
        assert dock.current == k
        layer.add([5, 100.0 + k, 100.0 + 2 * k])
    assert dock._frame() == 6 and dock.current == 0  # advanced after the last part
    assert model.labeled(5).all()
    dock.set_mode("loop")
    dock.select_keypoint(2)
    layer.add([6, 50.0, 60.0])
    assert dock._frame() == 7 and dock.current == 2
    dock.undo()
    assert np.isnan(model.xy[6, 2]).all()
    dock.redo()
    np.testing.assert_array_equal(model.xy[6, 2], [60.0, 50.0])
    dock.go_to_frame(6)
    dock.copy_previous()  # fills the 3 missing parts of frame 6 from frame 5
    assert model.labeled(6).all()
    np.testing.assert_array_equal(model.xy[6, 0], model.xy[5, 0])
    np.testing.assert_array_equal(model.xy[6, 2], [60.0, 50.0])
    dock.select_keypoint(1)
    dock.set_mode("quick")
    dock.mark_not_visible()
    assert np.isnan(model.xy[6, 1]).all()
    # next unlabeled jumps to frame 6 (now missing leftear) and selects that part
    dock.go_to_frame(0)
    dock.next_unlabeled()
    assert dock._frame() == 6 and dock.current == 1
    assert "missing: leftear" in dock.progress_list.item(6).text()


def test_keyboard_shortcuts(make_napari_viewer, project: Path, qtbot) -> None:
    from qtpy.QtCore import Qt

    viewer, dock = _open(make_napari_viewer, project)
    layer = dock.points_layer
    # drive actions through the layer's key bindings as napari dispatches them
    from napari.utils.key_bindings import KeymapHandler

    handler = KeymapHandler()
    handler.keymap_providers = [layer]
    handler.press_key("Down")
    handler.release_key("Down")
    assert dock.current == 1
    handler.press_key("M")
    handler.release_key("M")
    assert dock.mode == "quick"
    dock.model.xy[2, 1] = np.nan
    dock.redraw()
    handler.press_key("N")
    handler.release_key("N")
    assert dock._frame() == 2
    dock.model.set_point(2, 1, 1.0, 1.0)
    handler.press_key("Control-Z")
    handler.release_key("Control-Z")
    assert np.isnan(dock.model.xy[2, 1]).all()
    handler.press_key("Control-Shift-Z")
    handler.release_key("Control-Shift-Z")
    np.testing.assert_array_equal(dock.model.xy[2, 1], [1.0, 1.0])
    assert dock.current == 1 and dock.mode == "quick"
    handler.press_key("V")  # not visible: removes leftear here, stays on it (quick mode)
    handler.release_key("V")
    assert np.isnan(dock.model.xy[2, 1]).all() and dock.current == 1
    handler.press_key("C")  # copy previous: leftear comes back from frame 1
    handler.release_key("C")
    np.testing.assert_array_equal(dock.model.xy[2, 1], dock.model.xy[1, 1])
    # Ctrl+S on the canvas saves (not napari's "Save Selected Layers" dialog)
    dock.model.set_point(2, 1, 10.0, 20.0)
    canvas = viewer.window._qt_viewer.canvas.native
    qtbot.keyClick(canvas, Qt.Key_S, Qt.ControlModifier)
    assert not dock.model.dirty, dock.status.text()
    saved = read_labels(project / "labeled-data/m4s1/CollectedData_Pranav.h5")
    np.testing.assert_array_equal(saved.xy[2, 1], [10.0, 20.0])


def test_autosave_recovery_offered_and_unsaved_close(
    make_napari_viewer, project: Path, _no_modal_dialogs: dict
) -> None:
    from napari_dlcflow.core.labels.recovery import AUTOSAVE_SECONDS

    assert AUTOSAVE_SECONDS <= 60
    folder = project / "labeled-data" / "m4s1"
    _viewer, dock = _open(make_napari_viewer, project)
    assert dock.autosave_timer.isActive() and dock.autosave_timer.interval() <= 60_000
    dock.model.set_point(1, 0, 5.0, 6.0)
    dock.autosave()  # what the timer does
    assert recovery_path(folder, "Pranav").is_file()
    assert find_recovery(folder, "Pranav") is not None
    # closing the window with unsaved labels asks; "cancel" keeps it open and the labels
    _no_modal_dialogs["unsaved"] = "cancel"
    assert not dock.confirm_close() and dock.model.dirty
    n_asked = len(_no_modal_dialogs["asked"])
    assert not dock.main_window().close()
    assert _no_modal_dialogs["asked"][n_asked][0] == "unsaved" and dock.model.dirty
    # crash: a new viewer opens the folder and gets the autosaved labels back
    dock.model.dirty = False  # the crashed session never closes cleanly
    _viewer2, dock2 = _open(make_napari_viewer, project)
    assert any(name == "recovery" for name, _ in _no_modal_dialogs["asked"])
    np.testing.assert_array_equal(dock2.model.xy[1, 0], [5.0, 6.0])
    assert dock2.model.dirty
    assert dock2.save()
    assert find_recovery(folder, "Pranav") is None
    _no_modal_dialogs["unsaved"] = "discard"


def test_reload_config_keeps_labels(make_napari_viewer, project: Path) -> None:
    from napari_dlcflow.napari_common import state_for_viewer

    viewer, dock = _open(make_napari_viewer, project)
    dock.model.set_point(0, 0, 1.5, 2.5)
    n = len(dock.model.to_labels().images)
    state_for_viewer(viewer).open(project / "config.yaml")  # reload the config
    np.testing.assert_array_equal(dock.model.xy[0, 0], [1.5, 2.5])
    assert dock.model.dirty and len(dock.model.to_labels().images) == n
    assert len(dock.points_layer.data) == 464
    # a body part added in the Project dock appears, with no label lost
    state = state_for_viewer(viewer)
    state.project.bodyparts = ["snout", "leftear", "rightear", "tailbase", "spine"]
    state.notify_changed()
    assert dock.model.keypoints[-1] == ("", "spine")
    np.testing.assert_array_equal(dock.model.xy[0, 0], [1.5, 2.5])
    assert dock.keypoint_list.count() == 5


def test_renamed_folder_and_mismatch_and_corrupt(
    make_napari_viewer, project: Path, _no_modal_dialogs: dict
) -> None:
    folder = project / "labeled-data" / "m4s1"
    renamed = folder.rename(project / "labeled-data" / "m4s1 renamed #2")
    viewer = make_napari_viewer()
    _, dock = viewer.window.add_plugin_dock_widget("napari-dlcflow", "Labeling")
    _no_modal_dialogs["remap"] = False
    assert not dock.open_folder(renamed)
    assert "renamed" in dock.status.text() and dock.model is None
    _no_modal_dialogs["remap"] = True
    assert dock.open_folder(renamed)
    before = read_labels(renamed / "CollectedData_Pranav.h5")
    # labels sit on the same image names (never shifted)
    np.testing.assert_array_equal(dock.model.xy, before.xy)
    # a zero-byte h5 is refused and never overwritten
    other = project / "labeled-data" / "empty"
    other.mkdir()
    import shutil

    shutil.copy(renamed / "img0000.png", other / "img0000.png")
    (other / "CollectedData_Pranav.h5").write_bytes(b"")
    dock.model.dirty = False
    assert not dock.open_folder(other)
    assert "empty" in dock.status.text() and "CollectedData_Pranav.h5" in dock.status.text()
    assert (other / "CollectedData_Pranav.h5").read_bytes() == b""


def test_save_failure_keeps_labels(
    make_napari_viewer, project: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import errno

    from napari_dlcflow.core import safe_io

    _viewer, dock = _open(make_napari_viewer, project)
    h5 = project / "labeled-data/m4s1/CollectedData_Pranav.h5"
    old = h5.read_bytes()
    dock.model.set_point(0, 0, 9.0, 9.0)

    def full(_fd: int) -> None:
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(safe_io.os, "fsync", full)
    assert not dock.save()
    assert "No space left" in dock.status.text() and "still here" in dock.status.text()
    assert h5.read_bytes() == old and dock.model.dirty
    monkeypatch.undo()
    assert dock.save()


def test_extract_section_then_label(
    make_napari_viewer, small_video: Path, tmp_path: Path, qtbot
) -> None:
    from napari_dlcflow.core.project.create import create_project
    from napari_dlcflow.core.video.probe import read_frames
    from napari_dlcflow.napari_common import state_for_viewer

    project = create_project(
        "t", "me", [small_video], tmp_path, copy_videos=True, bodyparts=["head", "tail"]
    )
    viewer = make_napari_viewer()
    _, dock = viewer.window.add_plugin_dock_widget("napari-dlcflow", "Labeling")
    state_for_viewer(viewer).open(project.config_path)
    ex = dock.extract
    assert ex.video_combo.count() == 1
    ex.n_spin.setValue(5)
    ex.method_combo.setCurrentText("kmeans")
    worker = ex.extract()
    with qtbot.waitSignal(worker.finished, timeout=60_000):
        pass
    folder = project.root / "labeled-data" / small_video.stem
    assert len(list(folder.glob("img*.png"))) == 5, dock.status.text()
    assert dock.folder_combo.count() == 1
    # manual: the current frame of the video layer
    frames = read_frames(small_video)
    viewer.add_image(frames, name="video", rgb=True)
    viewer.dims.set_current_step(0, 33)
    path = ex.add_current_frame()
    assert path is not None and path.name == "img33.png"
    assert ex.add_current_frame() is None and "already" in dock.status.text()
    # label the new folder and save a first CollectedData
    assert dock.open_folder(folder)
    assert dock.model.keypoints == [("", "head"), ("", "tail")]
    assert len(dock.model.image_names) == 6
    dock.points_layer.add([0, 10.0, 20.0])
    assert dock.save()
    saved = read_labels(folder / "CollectedData_me.h5")
    assert saved.n_labeled == 1 and saved.images == [
        ("labeled-data", small_video.stem, dock.model.image_names[0])
    ]


def test_multianimal_labeling(make_napari_viewer, shared_data: Path, tmp_path: Path) -> None:
    import shutil

    root = tmp_path / "ma project"
    folder = root / "labeled-data" / "video"
    shutil.copytree(shared_data / "sleap-tests/dlc/labeled-data/video", folder)
    for p in folder.iterdir():
        p.chmod(0o644)
    for p in folder.glob("*.csv"):
        if p.name != "CollectedData_LM.csv":
            p.unlink()
    cfg = (shared_data / "sleap-tests/dlc/madlc_230_config.yaml").read_text()
    cfg = cfg.replace("individual1\n- individual2\n- individual3", "Animal1\n- Animal2")
    (root / "config.yaml").write_text(cfg)
    viewer = make_napari_viewer()
    _, dock = viewer.window.add_plugin_dock_widget("napari-dlcflow", "Labeling")
    assert dock.open_folder(folder), dock.status.text()
    m = dock.model
    assert m.multianimal and m.keypoints[:3] == [
        ("Animal1", "A"),
        ("Animal1", "B"),
        ("Animal1", "C"),
    ]
    assert m.keypoints[-2:] == [("single", "D"), ("single", "E")]
    assert len(dock.points_layer.data) == 17
    # colour by individual: Animal1's parts share a colour
    assert np.allclose(dock._colors[0], dock._colors[2])
    assert not np.allclose(dock._colors[0], dock._colors[3])
    # skeleton per individual in frame 0: A-B, B-C, A-C for Animal1 and Animal2
    assert dock.skeleton_layer.data.shape == (6, 2, 3)
    dock.go_to_frame(2)
    dock.select_keypoint(7)  # Animal2 / B
    dock.set_mode("quick")
    dock.points_layer.add([2, 1.5, 2.5])
    assert dock.save()
    out = read_labels(folder / "CollectedData_LM.h5")
    assert out.multianimal and out.individuals == ["Animal1", "Animal2", "single"]
    np.testing.assert_array_equal(out.xy[2, 7], [2.5, 1.5])
    assert np.isnan(out.xy[2, :7]).all()


def _shot(viewer, name: str, center: tuple[float, float], zoom: float) -> Path:  # type: ignore[no-untyped-def]
    """Screenshot with a chosen camera (the save_screenshot fixture resets the view)."""
    import os
    import shutil

    from napari_dlcflow.widgets.common.screenshot import prepare, save_screenshot

    root = Path(__file__).resolve().parents[2]
    out = root / "tests" / "_artifacts" / f"{name}.png"
    out.parent.mkdir(parents=True, exist_ok=True)
    prepare(viewer, (1400, 950))
    camera = viewer.scene.camera if hasattr(viewer, "scene") else viewer.camera
    camera.center = center
    camera.zoom = zoom
    path = save_screenshot(viewer, out, canvas_only=False)
    if os.environ.get("DLCFLOW_DOCS_IMAGES") == "1":
        shutil.copy(path, root / "docs" / "images" / path.name)
    return path


def test_docs_screenshots_and_shortcut_table(make_napari_viewer, project: Path) -> None:
    from PIL import Image

    from napari_dlcflow.widgets.common.shortcuts import LABELING_SHORTCUTS as SHORTCUTS

    viewer, dock = _open(make_napari_viewer, project)
    centre = np.linalg.norm(np.nanmean(dock.model.xy, axis=1) - [320, 240], axis=-1)
    t = int(np.argmin(centre))
    dock.go_to_frame(t)
    dock.select_keypoint(3)
    xy = dock.model.xy[t]
    assert dock.skeleton_layer.data.shape == (4, 2, 3)
    assert (dock.skeleton_layer.data[:, 0, 0] == t).all()
    cy, cx = float(np.nanmean(xy[:, 1])), float(np.nanmean(xy[:, 0]))
    path = _shot(viewer, "labeling-openfield", (cy, cx), 2.0)
    img = np.asarray(Image.open(path).convert("RGB"))
    assert img.shape[0] > 800 and img.std() > 10
    # every shortcut is documented in docs/labeling.md
    doc = (Path(__file__).resolve().parents[2] / "docs" / "labeling.md").read_text()
    for key, _action, _ in SHORTCUTS:
        assert f"`{key}`" in doc, key
    assert "labeling-openfield.png" in doc


def test_config_mismatch_asks_and_keeps_columns(
    make_napari_viewer, project: Path, _no_modal_dialogs: dict
) -> None:
    p = Project.open(project)
    p.bodyparts = ["snout", "left_ear", "rightear", "tailbase"]
    p.save()
    folder = project / "labeled-data" / "m4s1"
    before = read_labels(folder / "CollectedData_Pranav.h5")
    viewer = make_napari_viewer()
    _, dock = viewer.window.add_plugin_dock_widget("napari-dlcflow", "Labeling")
    _no_modal_dialogs["mapping"] = "cancel"
    assert not dock.open_folder(folder) and "differ from config.yaml" in dock.status.text()
    (name, text) = _no_modal_dialogs["asked"][-1]
    assert name == "mapping" and "leftear -> left_ear" in text
    _no_modal_dialogs["mapping"] = "apply"
    assert dock.open_folder(folder)
    assert [bp for _, bp in dock.model.keypoints] == ["snout", "left_ear", "rightear", "tailbase"]
    np.testing.assert_array_equal(dock.model.xy, before.xy)  # moved under the new name
    assert dock.save()
    after = read_labels(folder / "CollectedData_Pranav.h5")
    assert after.bodyparts == ["snout", "left_ear", "rightear", "tailbase"]
    np.testing.assert_array_equal(after.xy, before.xy)


def test_500_image_folder_opens_lazily(
    make_napari_viewer, tmp_path: Path, shared_data: Path
) -> None:
    import shutil

    from PIL import Image

    from napari_dlcflow.core.video.reader import ImageFolderReader

    folder = tmp_path / "labeled-data" / "vid"
    folder.mkdir(parents=True)
    rng = np.random.default_rng(0)
    for i in range(500):
        Image.fromarray(rng.integers(0, 255, (48, 64), dtype=np.uint8)).save(
            folder / f"img{i:03d}.png"
        )
    viewer = make_napari_viewer()
    _, dock = viewer.window.add_plugin_dock_widget("napari-dlcflow", "Labeling")
    assert not dock.open_folder(folder)  # no labels and no config: nothing to label with
    assert "no labels and no config.yaml" in dock.status.text()
    shutil.copy(shared_data / "dlc-openfield/config.yaml", tmp_path / "config.yaml")
    assert dock.open_folder(folder), dock.status.text()
    stack = dock.image_layer.data
    assert isinstance(stack, ImageFolderReader) and stack.shape == (500, 48, 64)
    assert len(stack.cached_frames) <= 3  # only the shown frame was decoded
    dock.go_to_frame(250)
    np.testing.assert_array_equal(
        np.asarray(stack[250]), np.asarray(Image.open(folder / "img250.png"))
    )
    assert 250 in stack.cached_frames and len(stack.cached_frames) <= 4
    assert dock.model.keypoints[0] == ("", "snout")
    assert np.isnan(dock.model.xy).all()
