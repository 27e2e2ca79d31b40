"""Physical units downstream (issue 25 item 3) in a real viewer: predictions over a microscopy
layer scaled in s and µm land on the animal; the Plots dock draws and exports µm and s, speed
and distance travelled; units entered once are stored in the project."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from numpy.testing import assert_allclose
from qtpy.QtCore import QPoint, Qt

from _microscopy_files import DT_S, PX_UM, write_ome_tiff
from napari_dlcflow.core.example.synthetic import (
    BODYPARTS,
    SKELETON,
    SyntheticSpec,
    render_synthetic,
)
from napari_dlcflow.core.layers.data import predictions_layers
from napari_dlcflow.core.predictions.analysis_files import (
    Predictions,
    output_files,
    read_predictions,
    scorer_name,
    simulate_predictions,
    write_meta,
    write_predictions,
)
from napari_dlcflow.core.predictions.units import units_of
from napari_dlcflow.core.project.sidecar import Sidecar
from napari_dlcflow.napari_common import finish_layer_data, layer_data_for
from napari_dlcflow.widgets.plots.dock import PlotsDock

pytestmark = pytest.mark.gui

SCORER = scorer_name("resnet_50", "cells", "Dec7", 1, "best-5")


@pytest.fixture(scope="module")
def cells(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, Predictions]:
    """A 16-bit OME-TIFF time-lapse of the synthetic animal (0.65 µm, 0.5 s) and predictions
    of it whose metadata carries the file's units, as the analysis writes them."""
    video = render_synthetic(SyntheticSpec(n_frames=24, height=128, width=128, seed=3))
    folder = tmp_path_factory.mktemp("units")
    gray = (video.frames.astype(np.uint16).sum(axis=-1) * 80).astype(np.uint16)
    ome = write_ome_tiff(folder / "cells.ome.tif", gray, "TYX")
    pred = simulate_predictions(
        video.keypoints, BODYPARTS, scorer=SCORER, noise_px=0.0, low_fraction=0.0, seed=1
    )
    files = output_files(ome, SCORER)
    write_predictions(pred, files["h5"])
    source = {"path": str(ome), "choice": "", "pixel_size_um": PX_UM, "frame_interval_s": DT_S}
    write_meta(files["meta"], {"fps": 1 / DT_S, "dlcflow_source": source})
    return ome, files["h5"], pred


def _plots(viewer: Any) -> PlotsDock:
    _, dock = viewer.window.add_plugin_dock_widget("napari-dlcflow", "Plots")
    assert isinstance(dock, PlotsDock)
    return dock


def _labels(dock: PlotsDock) -> list[tuple[str, str]]:
    return [(ax.get_xlabel(), ax.get_ylabel()) for ax in dock.canvas.figure.axes]


def test_tracks_sit_on_a_scaled_microscopy_layer(
    make_napari_viewer: Any, cells: Any, save_screenshot: Any
) -> None:
    ome, h5, pred = cells
    viewer = make_napari_viewer()
    viewer.open(str(ome), plugin="napari-dlcflow")
    image = viewer.layers["cells"]
    assert_allclose(image.scale, [DT_S, PX_UM, PX_UM])
    _, overlay = viewer.window.add_plugin_dock_widget("napari-dlcflow", "Overlay")
    assert overlay.load(h5)
    points = next(
        lay for lay in viewer.layers if lay.metadata.get("dlcflow_kind") == "predictions"
    )
    trails = next(lay for lay in viewer.layers if lay.metadata.get("dlcflow_kind") == "trails")
    for layer in (points, trails):
        assert_allclose(layer.scale, image.scale)
        assert [str(u) for u in layer.units] == ["second", "micrometer", "micrometer"]
    # every point's world position is the image pixel of its keypoint (frame, row, column)
    k = 7
    rows = points.data[points.data[:, 0] == k]
    assert len(rows) == len(BODYPARTS)
    for p in rows:
        assert_allclose(image.world_to_data(points.data_to_world(p)), p, atol=1e-9)
    assert_allclose(points.data_to_world(rows[0])[0], k * DT_S)
    assert_allclose(rows[:, 1:][:, ::-1], pred.data[k, :, :2])
    # 3.5 s on the time slider is time point 7, the points shown are its keypoints
    viewer.dims.set_point(0, k * DT_S)
    assert viewer.dims.current_step[0] == k
    assert len(points._view_data) == len(BODYPARTS)
    dock = _plots(viewer)
    dock.view_combo.setCurrentText("image plane")
    centre = pred.data[k, :, :2].mean(axis=0)[::-1] * PX_UM
    assert save_screenshot(
        viewer, "microscopy-tracks-scaled", camera=((float(centre[0]), float(centre[1])), 6.0)
    ).is_file()


def test_plots_in_micrometres_and_seconds(
    make_napari_viewer: Any, cells: Any, qtbot: Any, tmp_path: Path, save_screenshot: Any
) -> None:
    ome, h5, pred = cells
    viewer = make_napari_viewer()
    viewer.open(str(ome), plugin="napari-dlcflow")
    _, overlay = viewer.window.add_plugin_dock_widget("napari-dlcflow", "Overlay")
    assert overlay.load(h5, skeleton=list(SKELETON))
    dock = _plots(viewer)
    offered = [dock.units_combo.itemText(i) for i in range(dock.units_combo.count())]
    assert offered == ["pixels, frames", "pixels, s", "µm, s"]
    assert dock.units_combo.currentText() == "µm, s"
    assert "0.65 µm (from the file)" in dock.units_label.text()
    assert not dock.units_entry.isVisibleTo(dock)  # nothing to enter: the file says
    dock.view_combo.setCurrentText("x, y over time")
    assert _labels(dock) == [("", "x (µm)"), ("time (s)", "y (µm)")]
    line = dock.canvas.figure.axes[0].lines[0]
    assert_allclose(line.get_xdata(), pred.frames * DT_S)
    assert_allclose(line.get_ydata(), pred.data[:, 0, 0] * PX_UM)
    # the time axis is in seconds: the marker follows the viewer, a click jumps
    viewer.dims.set_current_step(0, 6)
    assert dock.canvas.marker_frame == pytest.approx(6)
    ax = dock.canvas.figure.axes[1]
    dock.canvas.draw()
    x_px, _ = ax.transData.transform((5.0, 0))  # 5 s
    _, y_px = ax.transAxes.transform((0, 0.5))
    ratio = dock.canvas.devicePixelRatioF()
    pos = QPoint(round(x_px / ratio), round((dock.canvas.figure.bbox.height - y_px) / ratio))
    qtbot.mouseClick(dock.canvas, Qt.MouseButton.LeftButton, pos=pos)
    assert viewer.dims.current_step[0] == 10  # 5 s / 0.5 s
    dock.view_combo.setCurrentText("image plane")
    assert _labels(dock) == [("x (µm)", "y (µm)")]
    dock.view_combo.setCurrentText("speed")
    assert _labels(dock) == [("time (s)", "speed (µm/s)")]
    step = np.hypot(*np.diff(pred.data[:, 0, :2], axis=0).T)
    assert_allclose(dock.canvas.figure.axes[0].lines[0].get_ydata()[1:], step * PX_UM / DT_S)
    dock.view_combo.setCurrentText("distance travelled")
    assert _labels(dock) == [("time (s)", "distance travelled (µm)")]
    save_screenshot(viewer, "plots-units-distance")
    # the CSV names its units; the time beside the frame
    out = dock.export_csv(tmp_path / "distance.csv")
    df = pd.read_csv(out, header=[0, 1], index_col=[0, 1])
    assert list(df.index.names) == ["frame", "time_s"]
    assert set(df.columns.get_level_values(1)) == {"speed_um_per_s", "distance_um"}
    assert_allclose(df[(BODYPARTS[0], "distance_um")].iloc[-1], step.sum() * PX_UM)
    dock.view_combo.setCurrentText("x, y over time")
    xy = pd.read_csv(dock.export_csv(tmp_path / "xy.csv"), header=[0, 1, 2], index_col=[0, 1])
    assert list(xy.columns.get_level_values(2)[:3]) == ["x_um", "y_um", "likelihood"]
    assert_allclose(xy.iloc[:, 0], pred.data[:, 0, 0] * PX_UM)
    dock.view_combo.setCurrentText("edge lengths")
    assert _labels(dock) == [("time (s)", "length (µm)")]
    edges = pd.read_csv(dock.export_csv(tmp_path / "edges.csv"), header=[0, 1], index_col=[0, 1])
    assert set(edges.columns.get_level_values(1)) == {"length_um", "likelihood"}
    a, b = (BODYPARTS.index(n) for n in SKELETON[0])
    length = np.hypot(*(pred.data[:, b, :2] - pred.data[:, a, :2]).T) * PX_UM
    assert_allclose(edges[("_".join(SKELETON[0]), "length_um")], length)
    # pixels are always offered: DeepLabCut's own table, axis in frames
    dock.view_combo.setCurrentText("x, y over time")
    dock.units_combo.setCurrentText("pixels, frames")
    assert _labels(dock) == [("", "x (px)"), ("frame", "y (px)")]
    px = pd.read_csv(dock.export_csv(tmp_path / "px.csv"), header=[0, 1, 2], index_col=0)
    assert_allclose(px.to_numpy(), pred.data.reshape(pred.n_frames, -1))
    dock.view_combo.setCurrentText("speed")
    assert _labels(dock) == [("frame", "speed (px/frame)")]


def test_units_entered_once_are_stored_in_the_project(
    make_napari_viewer: Any, cells: Any, tmp_path: Path, save_screenshot: Any
) -> None:
    _, _, pred = cells
    root = tmp_path / "proj"
    (root / "videos").mkdir(parents=True)
    (root / "config.yaml").write_text("Task: cells\nbodyparts:\n- nose\n", encoding="utf-8")
    files = output_files(root / "videos" / "mouse.mp4", SCORER)
    write_predictions(pred, files["h5"])
    write_meta(files["meta"], {"fps": 10.0})  # a video: time from the fps, no pixel size
    viewer = make_napari_viewer()
    _, overlay = viewer.window.add_plugin_dock_widget("napari-dlcflow", "Overlay")
    assert overlay.load(files["h5"])
    dock = _plots(viewer)
    offered = [dock.units_combo.itemText(i) for i in range(dock.units_combo.count())]
    assert offered == ["pixels, frames", "pixels, s"]
    assert dock.units_combo.currentText() == "pixels, frames"
    assert dock.units_entry.isVisibleTo(dock)
    dock.units_combo.setCurrentText("pixels, s")
    dock.view_combo.setCurrentText("speed")
    assert _labels(dock) == [("time (s)", "speed (px/s)")]
    # a bad entry is refused and nothing is written
    dock.pixel_edit.setText("-3")
    dock.units_button.click()
    assert "must be a positive number" in dock.status.text()
    assert not Sidecar.path_for(root).exists()
    dock.pixel_edit.setText("0,65")  # a decimal comma is taken
    save_screenshot(viewer, "plots-units-entry")
    dock.units_button.click()
    assert Sidecar.load(root).units == {"mouse": {"pixel_size_um": 0.65, "frame_interval_s": None}}
    assert dock.units_combo.currentText() == "µm, s"
    assert _labels(dock) == [("time (s)", "speed (µm/s)")]
    assert not dock.units_entry.isVisibleTo(dock)
    # another viewer finds them in the project
    again = make_napari_viewer()
    _, overlay2 = again.window.add_plugin_dock_widget("napari-dlcflow", "Overlay")
    assert overlay2.load(files["h5"])
    dock2 = _plots(again)
    assert dock2.units_combo.currentText() == "µm, s"
    assert "stored in the project" in dock2.units_label.text()


def test_layer_data_take_the_files_units(cells: Any) -> None:
    """A microscopy file opened by the docks' reader (``layer_data_for``) and predictions
    layers made for it (``finish_layer_data``) carry the file's scale and units."""
    ome, h5, pred = cells
    _, kwargs, _ = layer_data_for(ome)
    assert kwargs["scale"] == [DT_S, PX_UM, PX_UM]
    assert kwargs["units"] == ["s", "µm", "µm"]
    px, dt = units_of(read_predictions(h5)).image_units()
    layers = finish_layer_data(
        predictions_layers(pred, list(SKELETON)), pixel_size_um=px, frame_interval_s=dt
    )
    assert {kind for _, _, kind in layers} == {"points", "vectors", "tracks"}
    for _, kw, _ in layers:
        assert kw["scale"] == [DT_S, PX_UM, PX_UM]
    # a plain video keeps napari's defaults
    assert "scale" not in finish_layer_data(predictions_layers(pred, []))[0][1]
