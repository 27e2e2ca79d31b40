"""The Plots dock: views, current-frame marker, click-to-jump and CSV export."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from numpy.testing import assert_allclose
from qtpy.QtCore import QPoint, Qt

from napari_dlcflow.core.example.synthetic import (
    BODYPARTS,
    SKELETON,
    SyntheticSpec,
    render_synthetic,
)
from napari_dlcflow.core.predictions.analysis_files import (
    Predictions,
    scorer_name,
    simulate_predictions,
    skeleton_table,
    write_predictions,
)
from napari_dlcflow.widgets.overlay import files as _overlay_io
from napari_dlcflow.widgets.plots.dock import VIEWS, PlotsDock

pytestmark = pytest.mark.gui

SCORER = scorer_name("resnet_50", "synthetic", "Nov24", 1, "best-20")


@pytest.fixture(scope="module")
def scene(tmp_path_factory: pytest.TempPathFactory) -> tuple[np.ndarray, Path, Predictions]:
    video = render_synthetic(SyntheticSpec(n_frames=80, height=192, width=192, seed=8))
    pred = simulate_predictions(video.keypoints, BODYPARTS, scorer=SCORER, seed=2)
    h5 = tmp_path_factory.mktemp("plots") / f"synthetic_animal{SCORER}.h5"
    write_predictions(pred, h5)
    return video.frames, h5, pred


def _setup(make_napari_viewer: Any, scene: Any) -> tuple[Any, PlotsDock, Predictions, Path]:
    frames, h5, pred = scene
    viewer = make_napari_viewer()
    viewer.add_image(frames, rgb=True, name="synthetic_animal")
    _, overlay = viewer.window.add_plugin_dock_widget("napari-dlcflow", "Overlay")
    overlay.load(h5, skeleton=list(SKELETON))
    _, dock = viewer.window.add_plugin_dock_widget("napari-dlcflow", "Plots")
    assert isinstance(dock, PlotsDock)
    return viewer, dock, pred, h5


def test_views_marker_and_click_to_jump(
    make_napari_viewer: Any, scene: Any, qtbot: Any, save_screenshot: Any
) -> None:
    viewer, dock, pred, h5 = _setup(make_napari_viewer, scene)
    assert dock.layer_combo.currentText() == h5.stem
    assert dock.parts.count() == len(BODYPARTS) + len(SKELETON)
    for view in VIEWS:
        dock.view_combo.setCurrentText(view)
        assert dock.canvas.figure.axes, view
    dock.view_combo.setCurrentText("likelihood")
    ax = dock.canvas.figure.axes[0]
    assert len(ax.lines) == len(BODYPARTS) + 1  # one per body part + the frame marker
    assert_allclose(ax.lines[0].get_ydata(), pred.likelihood[:, 0])
    viewer.dims.set_current_step(0, 17)
    assert dock.canvas.marker_frame == 17
    # a real mouse click at frame 52 of the plot moves the viewer there
    dock.canvas.draw()
    x_px, _ = ax.transData.transform((52, 0.5))
    _, y_px = ax.transAxes.transform((0, 0.5))
    height = dock.canvas.figure.bbox.height
    ratio = dock.canvas.devicePixelRatioF()
    pos = QPoint(round(x_px / ratio), round((height - y_px) / ratio))
    qtbot.mouseClick(dock.canvas, Qt.MouseButton.LeftButton, pos=pos)
    assert viewer.dims.current_step[0] == 52
    assert dock.canvas.marker_frame == 52
    # unchecking a body part removes its line
    dock.parts.item(0).setCheckState(Qt.CheckState.Unchecked)
    assert len(dock.canvas.figure.axes[0].lines) == len(BODYPARTS)

    dock.view_combo.setCurrentText("edge lengths")
    viewer.dims.set_current_step(0, 30)
    save_screenshot(viewer, "plots-dock")


def test_csv_export_matches_the_tables(
    make_napari_viewer: Any, scene: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _, dock, pred, _ = _setup(make_napari_viewer, scene)
    out = tmp_path / "trajectories.csv"
    monkeypatch.setattr(_overlay_io, "ask_save_csv", lambda parent, suggested: str(out))
    dock.view_combo.setCurrentText("x, y over time")
    dock.export_button.click()
    df = pd.read_csv(out, header=[0, 1, 2], index_col=0)
    assert_allclose(df.to_numpy(), pred.data.reshape(pred.n_frames, -1))
    assert list(df.columns.get_level_values(1)[::3]) == list(BODYPARTS)

    dock.view_combo.setCurrentText("edge angles")
    out2 = tmp_path / "angles.csv"
    dock.export_csv(out2)
    angles = pd.read_csv(out2, header=[0, 1], index_col=0)
    full = skeleton_table(pred, SKELETON)
    assert_allclose(angles[("nose_head", "orientation")], full[("nose_head", "orientation")])
    assert set(angles.columns.get_level_values(1)) == {"orientation", "likelihood"}
    assert len(angles) == pred.n_frames
