"""The Overlay dock's "Outlier frames" section in a real napari viewer (virtual display)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest
from qtpy.QtCore import Qt

from napari_dlcflow.core.example.synthetic import BODYPARTS, SyntheticSpec, render_synthetic
from napari_dlcflow.core.example.truth_labels import make_labeled_synthetic_project
from napari_dlcflow.core.labels.collected import load_folder
from napari_dlcflow.core.labels.machine import machine_labels_path, read_machine_labels
from napari_dlcflow.core.predictions.analysis_files import simulate_predictions, write_predictions
from napari_dlcflow.core.video.extract import labeled_data_folder
from napari_dlcflow.core.video.probe import read_frames
from napari_dlcflow.napari_common import state_for_viewer
from napari_dlcflow.widgets.overlay.dock import OverlayDock
from napari_dlcflow.widgets.refine.outliers import MARK_KEY

pytestmark = pytest.mark.gui

SPEC = SyntheticSpec(n_frames=60, height=96, width=96, seed=3)
SCORER = "DLC_Resnet50_syntheticNov24shuffle1_snapshot_best-10"
#: frames where the simulated model "loses" the nose by 40 px (none of them is labeled:
#: the 6 labeled frames are 0, 12, 24, 35, 47, 59)
BAD = (20, 40)


@pytest.fixture
def analysed(tmp_path: Path) -> tuple[Any, Path, Path]:
    """A labeled synthetic project whose video has an analysis h5 with known errors."""
    project = make_labeled_synthetic_project(tmp_path, SPEC, n_labeled=6)
    truth = render_synthetic(SPEC).keypoints
    pred = simulate_predictions(truth, BODYPARTS, scorer=SCORER, low_fraction=0.0, seed=2)
    data = pred.data.copy()
    for f in BAD:
        data[f, 0, :2] += 40
    video = Path(next(iter(project.videos)))
    h5 = video.parent / f"{video.stem}{SCORER}.h5"
    write_predictions(pred.with_data(data), h5)
    return project, video, h5


def _open(make_napari_viewer: Any, analysed: tuple[Any, Path, Path]) -> tuple[Any, OverlayDock]:
    project, video, h5 = analysed
    viewer = make_napari_viewer()
    viewer.add_image(read_frames(video), rgb=True, name=video.stem)
    state_for_viewer(viewer).set_project(project)
    _, dock = viewer.window.add_plugin_dock_widget("napari-dlcflow", "Overlay")
    assert isinstance(dock, OverlayDock)
    assert dock.load(h5)
    return viewer, dock


def _wait(qtbot: Any, dock: OverlayDock, worker: Any) -> None:
    assert worker is not None, dock.outliers_panel.status_text()
    qtbot.waitUntil(lambda: not dock.outliers_panel.jobs.busy, timeout=120000)


def _images(folder: Path) -> set[str]:
    return {p.name for p in folder.glob("img*.png")}


def test_jump_extraction_writes_the_frames_and_machine_labels(
    make_napari_viewer: Any, analysed: tuple[Any, Path, Path], qtbot: Any
) -> None:
    project, video, _h5 = analysed
    viewer, dock = _open(make_napari_viewer, analysed)
    panel = dock.outliers_panel
    folder = labeled_data_folder(project.root, video)
    before = _images(folder)
    ground = load_folder(folder)
    added: list[Path] = []
    state_for_viewer(viewer).frames_added.connect(added.append)
    assert panel.n_frames.value() == int(project.get("numframes2pick") or 20)

    # the form becomes the spec; only the settings the checked criteria use are enabled
    for name in ("uncertain", "fitting"):
        panel.criteria[name].setChecked(True)
    panel.p_bound.setValue(0.2)
    panel.fit.setCurrentText("arima")
    assert not panel.fit_window.isEnabled()
    panel.fit.setCurrentText("median")
    panel.fit_window.setValue(8)
    panel.use_crop.setChecked(True)
    spec = panel.spec()
    assert spec.criteria == ("jump", "uncertain", "fitting") and spec.frames == ()
    assert (spec.p_bound, spec.fit, spec.window, spec.use_crop) == (0.2, "median", 9, True)
    panel.use_crop.setChecked(False)
    for name in ("uncertain", "fitting"):
        panel.criteria[name].setChecked(False)
    panel.criteria["jump"].setChecked(True)
    panel.epsilon.setValue(25)
    panel.selection.setCurrentText("uniform")
    assert not panel.p_bound.isEnabled() and not panel.fit.isEnabled()

    # Find only lists the candidates (the nose leaves and comes back) and steps through them
    _wait(qtbot, dock, panel.find())
    assert [f for f, _ in panel.candidates] == [20, 21, 40, 41]
    assert "4 candidate frame(s) (jump 4)" in panel.candidates_label.text()
    assert _images(folder) == before
    assert panel.step_candidate(1) == 20 and viewer.dims.current_step[0] == 20
    qtbot.mouseClick(panel.next_button, Qt.MouseButton.LeftButton)
    assert viewer.dims.current_step[0] == 21
    assert "Candidate 2 of 4: frame 21 (jump)" in panel.candidates_label.text()
    qtbot.mouseClick(panel.previous_button, Qt.MouseButton.LeftButton)
    qtbot.mouseClick(panel.previous_button, Qt.MouseButton.LeftButton)
    assert viewer.dims.current_step[0] == 41  # wraps around

    qtbot.mouseClick(panel.extract_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: not panel.jobs.busy and panel.result is not None, timeout=120000)
    new = {"img20.png", "img21.png", "img40.png", "img41.png"}
    assert _images(folder) == before | new
    machine = read_machine_labels(folder)
    assert machine is not None and machine_labels_path(folder, 0).is_file()
    assert sorted(r[-1] for r in machine.images) == sorted(new)
    text = panel.status_text()
    assert text == panel.result.format()
    assert "4 outlier frame(s) (jump 4)" in text and "4 extracted" in text
    assert "machinelabels-iter0.h5" in text
    assert added == [folder]
    assert load_folder(folder).equals(ground)  # the human labels are untouched
    assert panel.extract_button.isEnabled() and not panel.cancel_button.isEnabled()
    # the progress bar followed the worker to the end (uniform: frames up to the last one)
    assert panel.progress.maximum() == 42 and panel.progress.value() == 42


def test_cancel_stops_before_any_frame_is_written(
    make_napari_viewer: Any, analysed: tuple[Any, Path, Path], qtbot: Any
) -> None:
    project, video, _h5 = analysed
    viewer, dock = _open(make_napari_viewer, analysed)
    panel = dock.outliers_panel
    folder = labeled_data_folder(project.root, video)
    before = _images(folder)
    added: list[Path] = []
    state_for_viewer(viewer).frames_added.connect(added.append)
    panel.epsilon.setValue(25)
    panel.selection.setCurrentText("kmeans")  # decodes the video once before writing anything
    worker = panel.extract()
    assert worker is not None and not panel.progress.isHidden() and panel.cancel_button.isEnabled()
    qtbot.mouseClick(panel.cancel_button, Qt.MouseButton.LeftButton)
    _wait(qtbot, dock, worker)
    assert panel.result.cancelled and panel.result.written == []
    assert panel.status_text().endswith("0 extracted (cancelled).")
    assert _images(folder) == before and read_machine_labels(folder) is None
    assert added == []
    assert panel.progress.isHidden() and not panel.cancel_button.isEnabled()


def test_marks_with_the_mark_key_extract_exactly_those_frames(
    make_napari_viewer: Any,
    analysed: tuple[Any, Path, Path],
    qtbot: Any,
    save_screenshot: Any,
) -> None:
    project, video, _h5 = analysed
    viewer, dock = _open(make_napari_viewer, analysed)
    panel = dock.outliers_panel
    folder = labeled_data_folder(project.root, video)
    before = _images(folder)
    canvas = viewer.window._qt_viewer.canvas.native
    viewer.layers.selection.active = viewer.layers[video.stem]

    def press_m() -> None:
        qtbot.keyClick(canvas, getattr(Qt.Key, f"Key_{MARK_KEY}"))

    viewer.dims.set_current_step(0, 7)
    assert panel.mark_button.text() == "Mark frame 7 (K)"
    press_m()
    assert panel.marks == {7}
    viewer.dims.set_current_step(0, 30)
    press_m()
    viewer.dims.set_current_step(0, 52)
    press_m()
    assert panel.marks == {7, 30, 52}
    assert panel.mark_button.text() == "Unmark frame 52 (K)"
    press_m()  # again on a marked frame: unmarked
    assert panel.marks == {7, 30}
    qtbot.mouseClick(panel.mark_button, Qt.MouseButton.LeftButton)  # the button does the same
    assert panel.marks == {7, 30, 52}
    qtbot.mouseClick(panel.mark_button, Qt.MouseButton.LeftButton)
    assert panel.marks == {7, 30}
    assert panel.marks_label.text() == "2 marked: 7, 30"

    # only the marks: no automatic criterion
    for name in ("jump", "uncertain", "fitting"):
        panel.criteria[name].setChecked(False)
    assert panel.spec().criteria == ("manual",)
    _wait(qtbot, dock, panel.find())
    assert panel.candidates == [(7, ["manual"]), (30, ["manual"])]
    assert panel.step_candidate(1) == 7
    assert panel.step_candidate(1) == 30
    assert "Candidate 2 of 2: frame 30 (manual)" in panel.candidates_label.text()
    dock.ensureWidgetVisible(panel.status)
    save_screenshot(viewer, "overlay-outliers")

    _wait(qtbot, dock, panel.extract())
    assert _images(folder) == before | {"img07.png", "img30.png"}
    machine = read_machine_labels(folder)
    assert [r[-1] for r in machine.images] == ["img07.png", "img30.png"]
    assert "2 outlier frame(s) (manual 2)" in panel.status_text()

    # Clear marks: with nothing checked there is nothing to extract, and it says so
    qtbot.mouseClick(panel.clear_marks_button, Qt.MouseButton.LeftButton)
    assert panel.marks == set() and "No frame marked" in panel.marks_label.text()
    assert panel.extract() is None
    assert "check a criterion" in panel.status_text()

    # the key belongs to the dock only while it exists
    keymap = viewer.keymap
    from napari.utils.key_bindings import coerce_keybinding

    assert coerce_keybinding(MARK_KEY) in keymap
    followers = len(viewer.dims.events.current_step.callbacks)
    project_followers = len(state_for_viewer(viewer).opened)
    viewer.window.remove_dock_widget(dock)
    dock.deleteLater()
    qtbot.waitUntil(lambda: coerce_keybinding(MARK_KEY) not in viewer.keymap, timeout=5000)
    # the deleted panel (whose Python wrapper lives on here) no longer follows the frames
    assert len(viewer.dims.events.current_step.callbacks) == followers - 1
    assert len(state_for_viewer(viewer).opened) == project_followers - 1


def test_errors_name_the_file_and_write_nothing(
    make_napari_viewer: Any, analysed: tuple[Any, Path, Path], qtbot: Any
) -> None:
    project, video, h5 = analysed
    viewer, dock = _open(make_napari_viewer, analysed)
    panel = dock.outliers_panel
    folder = labeled_data_folder(project.root, video)
    before = _images(folder)
    added: list[Path] = []
    state_for_viewer(viewer).frames_added.connect(added.append)
    panel.toggle_mark(3)

    h5.unlink()  # deleted after it was opened
    _wait(qtbot, dock, panel.extract())
    assert h5.name in panel.status_text() and "failed" in panel.status_text()

    h5.write_bytes(b"not an hdf5 file")  # unreadable
    _wait(qtbot, dock, panel.find())
    assert h5.name in panel.status_text()
    _wait(qtbot, dock, panel.extract())
    assert h5.name in panel.status_text()

    # a marked frame the analysis does not have
    write_predictions(
        simulate_predictions(render_synthetic(SPEC).keypoints, BODYPARTS, scorer=SCORER), h5
    )
    panel.toggle_mark(500)
    _wait(qtbot, dock, panel.extract())
    assert "500" in panel.status_text() and h5.name in panel.status_text()

    # a video that is not in the project's video_sets
    project.remove_video(next(iter(project.videos)))
    assert panel.extract() is None
    text = panel.status_text()
    assert video.name in text and "not a video of the project" in text

    assert _images(folder) == before
    assert read_machine_labels(folder) is None
    assert added == []


def test_without_an_open_project_the_config_two_folders_up_is_opened(
    make_napari_viewer: Any, analysed: tuple[Any, Path, Path], qtbot: Any
) -> None:
    project, video, h5 = analysed
    viewer = make_napari_viewer()
    viewer.add_image(read_frames(video), rgb=True, name=video.stem)
    _, dock = viewer.window.add_plugin_dock_widget("napari-dlcflow", "Overlay")
    panel = dock.outliers_panel
    assert panel.extract() is None
    assert "Open an analysis file first" in panel.status_text()
    assert dock.load(h5)
    state = state_for_viewer(viewer)
    assert state.project is None
    panel.criteria["jump"].setChecked(False)
    panel.toggle_mark(44)
    _wait(qtbot, dock, panel.extract())
    assert state.project is not None and state.project.config_path == project.config_path
    folder = labeled_data_folder(project.root, video)
    assert (folder / "img44.png").is_file()
    np.testing.assert_array_equal(sorted(panel.result.picked), [44])

    # marks belong to one video: re-opening its analysis keeps them, another video's clears them
    assert dock.load(h5) and panel.marks == {44}
    other = h5.with_name(h5.name.replace(video.stem, "another_video"))
    other.write_bytes(h5.read_bytes())
    assert dock.load(other)
    assert panel.marks == set() and "No frame marked" in panel.marks_label.text()
