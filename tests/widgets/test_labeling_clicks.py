"""Clicks and key presses per labeled point in sequential mode, measured in a real viewer.

A Lightning Pose-style project (17 body parts, frames extracted from the synthetic video) is
labeled through the canvas as a user would: a real mouse click (press and release on the
vispy canvas) places the selected part, a real key press (V) marks it not visible. Nothing
else is sent: the dock has to select the next part and, after the last, go to the next frame
by itself. The figure is the one in docs/labeling.md.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest

from napari_dlcflow.core.example.synthetic import SyntheticSpec, write_synthetic_example
from napari_dlcflow.core.project.create import create_project
from napari_dlcflow.core.video.extract import extract_for_project
from napari_dlcflow.napari_common import state_for_viewer

pytestmark = pytest.mark.gui

#: Lightning Pose's mouse: 17 body parts.
BODYPARTS = [
    "nose", "left_ear", "right_ear", "neck", "left_shoulder", "right_shoulder", "spine1",
    "spine2", "spine3", "left_hip", "right_hip", "tailbase", "tail1", "tail2", "tailtip",
    "left_paw", "right_paw",
]  # fmt: skip
N_FRAMES = 3
#: Parts not visible, by frame (index into BODYPARTS).
HIDDEN = {0: {15}, 1: {3, 16}, 2: {16}}


@pytest.fixture(autouse=True)
def _no_modal_dialogs(monkeypatch: pytest.MonkeyPatch) -> None:
    """A failed run leaves unsaved labels: closing the viewer must not wait on a modal box."""
    from napari_dlcflow.widgets.labeling import dialogs as d

    monkeypatch.setattr(d, "ask_unsaved", lambda _parent, _text: "discard")


def _canvas_pos(viewer: Any, y: float, x: float) -> Any:
    """Where on the canvas widget the data point ``(y, x)`` is drawn (the inverse of the map
    napari applies to a mouse event)."""
    from qtpy.QtCore import QPoint

    view = viewer.window._qt_viewer.canvas.view
    cx, cy = (view.transform * view.scene.transform).map([x, y])[:2]
    return QPoint(round(float(cx)), round(float(cy)))


def test_one_click_per_visible_point_one_key_per_hidden_one(
    make_napari_viewer: Any, tmp_path: Path, qtbot: Any, save_screenshot: Any
) -> None:
    from qtpy.QtCore import Qt

    files = write_synthetic_example(
        tmp_path / "example", SyntheticSpec(n_frames=30, height=128, width=128, seed=3)
    )
    project = create_project(
        "lp", "me", [files.video], tmp_path, copy_videos=True, bodyparts=BODYPARTS
    )
    extract_for_project(project, n=N_FRAMES)
    folder = next(p for p in (project.root / "labeled-data").iterdir() if p.is_dir())

    viewer = make_napari_viewer()
    _, dock = viewer.window.add_plugin_dock_widget("napari-dlcflow", "Labeling")
    state_for_viewer(viewer).open(project.config_path)
    assert dock.open_folder(folder), dock.status.text()
    assert dock.mode == "sequential" and dock.points_layer.mode == "add"
    assert viewer.layers.selection.active.name == dock.points_layer.name
    viewer.window._qt_window.resize(1400, 950)
    viewer.reset_view()
    qtbot.wait(50)
    native = viewer.window._qt_viewer.canvas.native
    native.setFocus()

    clicks = keys = 0
    placed: dict[tuple[int, int], tuple[float, float]] = {}
    rng = np.random.default_rng(0)
    for t in range(N_FRAMES):
        for k in range(len(BODYPARTS)):
            # the dock moved on by itself: right frame, right part
            assert dock._frame() == t and dock.current == k, (t, k)
            if k in HIDDEN[t]:
                qtbot.keyClick(native, Qt.Key_V)
                keys += 1
            else:
                y, x = (float(v) for v in rng.uniform(20, 108, size=2))
                qtbot.mouseClick(native, Qt.LeftButton, pos=_canvas_pos(viewer, y, x))
                clicks += 1
                placed[(t, k)] = (x, y)
            qtbot.wait(5)

    n_points = N_FRAMES * len(BODYPARTS)
    n_hidden = sum(len(h) for h in HIDDEN.values())
    assert clicks == n_points - n_hidden and keys == n_hidden
    assert (clicks + keys) / n_points == 1.0  # the figure: one action per point, nothing else
    xy = dock.model.xy
    tol = 1.5 / viewer.scene.camera.zoom
    for t in range(N_FRAMES):
        for k in range(len(BODYPARTS)):
            if (t, k) in placed:  # a click lands where it was aimed (within a canvas pixel)
                np.testing.assert_allclose(xy[t, k], placed[(t, k)], atol=tol)
            else:
                assert np.isnan(xy[t, k]).all()
    assert int((~np.isnan(xy[..., 0])).sum()) == clicks
    assert dock.save(), dock.status.text()
    dock.go_to_frame(0)
    save_screenshot(viewer, "labeling-17-parts")
