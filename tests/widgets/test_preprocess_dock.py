"""The Preprocess dock in a real napari viewer (virtual display), on real videos."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from napari_dlcflow.core.video.preprocess import Roi, fit_transform, read_sidecar
from napari_dlcflow.core.video.reader import FrameSource, VideoReader
from napari_dlcflow.widgets.preprocess.dock import PREVIEW_LAYER, PreprocessDock

pytestmark = pytest.mark.gui


def _dock(viewer: Any) -> PreprocessDock:
    _, widget = viewer.window.add_plugin_dock_widget("napari-dlcflow", "Preprocess")
    assert isinstance(widget, PreprocessDock)
    return widget


def _wait_preview(qtbot: Any, dock: PreprocessDock, before: int) -> None:
    # settled: a change made while an earlier preview was computing shows that stale one first
    qtbot.waitUntil(lambda: dock.preview_count > before and dock.preview_settled, timeout=20000)


def test_draw_roi_preview_apply_on_a_real_video(
    make_napari_viewer: Any, shared_data: Path, tmp_path: Path, qtbot: Any, save_screenshot: Any
) -> None:
    viewer = make_napari_viewer()
    video = shared_data / "dlc-openfield" / "videos" / "m3v1mp4.mp4"
    layers = viewer.open(str(video), plugin="napari-dlcflow")
    assert isinstance(layers[0].data, FrameSource) and layers[0].data.shape == (2330, 480, 640, 3)
    dock = _dock(viewer)
    assert dock.current_source().meta.path == video
    assert "2330 frames" in dock.video_info.text()
    viewer.dims.set_current_step(0, 1200)

    # draw a ROI as the mouse would: a rectangle appears on the ROI layer
    dock.roi_form.draw_button.click()
    roi_layer = viewer.layers["ROI"]
    assert roi_layer.mode == "add_rectangle"
    roi_layer.add_rectangles(np.array([[[250.4, 300.2], [250.4, 601], [471, 601], [471, 300.2]]]))
    assert len(roi_layer.data) == 1  # the new rectangle replaced the whole-frame one
    assert dock.roi_form.roi() == Roi(300, 250, 301, 221)
    assert "w=301 h=221" in dock.roi_form.summary.text()
    assert "300x220" in dock.roi_form.summary.text()  # H.264 needs even sizes

    dock.preview_mode.setCurrentIndex(dock.preview_mode.findData("side"))
    dock.contrast_form.set_method("none")
    n = dock.preview_count
    dock.update_preview()
    _wait_preview(qtbot, dock, n)
    plain = np.array(viewer.layers[PREVIEW_LAYER].data)
    np.testing.assert_array_equal(plain, layers[0].data[1200, 250:471, 300:601])
    save_screenshot(viewer, "preprocess-before", size=(1600, 900))

    # change contrast: the preview updates (in a worker) to the ImageJ stretch
    n = dock.preview_count
    dock.contrast_form.set_method("imagej")
    dock.contrast_form.saturated.setValue(1.0)
    _wait_preview(qtbot, dock, n)
    shown = np.array(viewer.layers[PREVIEW_LAYER].data)
    expect = fit_transform(layers[0].data, dock.spec())(layers[0].data[1200])
    np.testing.assert_array_equal(shown, expect)
    assert shown.std() > plain.std() * 1.1 and shown.min() < plain.min()  # contrast went up
    assert tuple(viewer.layers[PREVIEW_LAYER].translate) == (250, 640 + 20)
    save_screenshot(viewer, "preprocess-after", size=(1600, 900))

    # stepping to another frame re-uses the fitted stretch (it sampled the video once)
    fitted = list(dock._preview_cache.values())
    assert len(fitted) == 1
    n = dock.preview_count
    viewer.dims.set_current_step(0, 1201)
    _wait_preview(qtbot, dock, n)
    assert list(dock._preview_cache.values()) == fitted  # the same function object
    np.testing.assert_array_equal(
        viewer.layers[PREVIEW_LAYER].data, fitted[0](layers[0].data[1201])
    )

    # typing a ROI moves the rectangle, and the preview follows
    n = dock.preview_count
    dock.roi_form.x.setValue(100)
    np.testing.assert_allclose(roi_layer.data[0].min(axis=0), [250, 100])
    _wait_preview(qtbot, dock, n)
    assert viewer.layers[PREVIEW_LAYER].data.shape == (221, 301, 3)


def test_apply_opens_output_as_a_layer(
    make_napari_viewer: Any, shared_data: Path, tmp_path: Path, qtbot: Any
) -> None:
    viewer = make_napari_viewer()
    dock = _dock(viewer)
    src = tmp_path / "in put & #1.mp4"
    shutil.copy(shared_data / "sleap-tests" / "videos" / "small_robot.mp4", src)
    before = src.read_bytes()
    layer = dock.open_video(src)
    assert layer is not None and dock.video_list.count() == 1
    dock.roi_sync.set_roi(Roi(100, 40, 200, 160))
    dock.contrast_form.set_method("clahe")
    dock.output_form.folder.setText(str(tmp_path / "out"))
    worker = dock.apply_current()
    assert worker is not None
    qtbot.waitUntil(lambda: not dock.jobs.busy, timeout=60000)
    out = tmp_path / "out" / "in put & #1_pre.mp4"
    assert [r.output for r in dock.last_results] == [out]
    assert out.name in dock.status.text()
    assert viewer.layers[-1].name == "in put & #1_pre"
    assert viewer.layers[-1].data.shape == (166, 160, 200, 3)
    assert dock.video_progress.value() == dock.video_progress.maximum() == 166
    spec, _ = read_sidecar(out)
    assert spec.roi == Roi(100, 40, 200, 160) and spec.contrast.method == "clahe"
    assert src.read_bytes() == before  # the source is never modified


def test_batch_cancel_and_errors_in_the_dock(
    make_napari_viewer: Any, shared_data: Path, tmp_path: Path, qtbot: Any, monkeypatch: Any
) -> None:
    from napari_dlcflow.widgets.common import dialogs as _dialogs

    viewer = make_napari_viewer()
    dock = _dock(viewer)
    folder = tmp_path / "videos"
    folder.mkdir()
    for name in ("a.mp4", "b.mp4"):
        shutil.copy(
            shared_data / "sleap-tests" / "videos" / "centered_pair_small.mp4", folder / name
        )
    (folder / "notes.txt").write_text("not a video")
    monkeypatch.setattr(_dialogs, "ask_folder", lambda parent, title="": str(folder))
    dock.add_folder_button.click()
    assert dock.video_list.count() == 2
    dock.output_form.folder.setText(str(tmp_path / "out"))
    dock.roi_form.set_roi(Roi(0, 0, 100, 100))
    worker = dock.apply_list()
    dock.cancel_button.click()  # before the first video got far
    assert worker is not None
    qtbot.waitUntil(lambda: not dock.jobs.busy, timeout=60000)
    assert all(r.cancelled for r in dock.last_results)
    out = tmp_path / "out"
    assert not out.exists() or list(out.iterdir()) == []
    assert "cancelled" in dock.status.text()

    # a ROI outside a video: the error names the file
    dock.per_video_roi.setChecked(True)
    dock.video_list.item(1).setSelected(True)
    dock.roi_form.set_roi(Roi(300, 300, 200, 200))  # 384 x 384 video
    dock.assign_roi_button.click()
    dock.roi_form.set_roi(Roi(0, 0, 64, 64))
    dock.video_list.takeItem(0)
    worker = dock.apply_list()
    assert worker is not None
    qtbot.waitUntil(lambda: not dock.jobs.busy, timeout=60000)
    assert "b.mp4" in dock.status.text() and "outside" in dock.status.text()


def test_record_roi_as_dlc_crop(
    make_napari_viewer: Any, openfield_project: Path, shared_data: Path
) -> None:
    from napari_dlcflow.napari_common import state_for_viewer

    viewer = make_napari_viewer()
    state = state_for_viewer(viewer)
    state.open(openfield_project / "config.yaml")
    dock = _dock(viewer)
    video = shared_data / "dlc-openfield" / "videos" / "m3v1mp4.mp4"
    dock.open_video(video)
    dock.roi_form.set_roi(Roi(100, 50, 400, 300))
    dock.output_form.after.setCurrentIndex(dock.output_form.after.findData("crop"))
    dock.apply_button.click()
    assert state.project.videos[str(video)] == "100, 500, 50, 350"
    assert "save the project" in dock.status.text()
    assert VideoReader(video).meta.n_frames == 2330
    assert not (video.parent / "preprocessed").exists()
    assert dock.status.styleSheet() == ""


def test_opening_the_dock_adds_no_layer_until_asked(
    make_napari_viewer: Any, shared_data: Path, qtbot: Any
) -> None:
    viewer = make_napari_viewer()
    video = shared_data / "sleap-tests" / "videos" / "small_robot.mp4"
    layers = viewer.open(str(video), plugin="napari-dlcflow")
    dock = _dock(viewer)
    qtbot.wait(400)  # longer than the preview timer: nothing may appear on its own
    assert [ly.name for ly in viewer.layers] == [layers[0].name]
    assert viewer.layers.selection.active is layers[0]
    m = dock.current_source().meta
    assert dock.roi_form.roi() == Roi(0, 0, m.width, m.height)  # the form shows the whole frame
    # the user asks for a fixed crop: now the ROI layer appears with that rectangle
    dock.roi_form.size400_button.click()
    roi_layer = viewer.layers["ROI"]
    assert len(roi_layer.data) == 1
    assert dock.roi_form.roi().width == min(400, m.width)
    n = dock.preview_count
    dock.update_preview()
    _wait_preview(qtbot, dock, n)
    assert PREVIEW_LAYER in viewer.layers
