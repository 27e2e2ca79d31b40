"""Tracks by individual in a real viewer: a tracked ``_el.h5`` of three synthetic animals on
its video, with the animals' names, trails per animal and plots per individual."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from numpy.testing import assert_allclose
from qtpy.QtCore import Qt

from _tracked import write_tracked_group
from napari_dlcflow.core.example.group import GroupSpec
from napari_dlcflow.core.example.synthetic import BODYPARTS, SKELETON
from napari_dlcflow.core.layers.data import individual_centres
from napari_dlcflow.core.predictions.analysis_files import Predictions
from napari_dlcflow.core.video.probe import read_frames
from napari_dlcflow.widgets.overlay.dock import OverlayDock
from napari_dlcflow.widgets.plots.dock import PlotsDock

pytestmark = pytest.mark.gui

ANIMALS = ("mouse1", "mouse2", "mouse3")


@pytest.fixture(scope="module")
def tracked(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, Predictions]:
    spec = GroupSpec(n_animals=3, n_frames=40, height=256, width=256, seed=3, shelter=False)
    return write_tracked_group(tmp_path_factory.mktemp("tracked"), spec)


def _open(make_napari_viewer: Any, tracked: tuple[Path, Path, Predictions]) -> Any:
    video, h5, _ = tracked
    viewer = make_napari_viewer()
    viewer.add_image(read_frames(video), rgb=True, name=video.stem)
    _, dock = viewer.window.add_plugin_dock_widget("napari-dlcflow", "Overlay")
    assert isinstance(dock, OverlayDock)
    assert dock.load(h5, skeleton=list(SKELETON))
    return viewer, dock


def _shown_labels(layer: Any) -> dict[str, np.ndarray]:
    """``{name: (y, x)}`` of the labels napari shows in the current frame."""
    idx = layer._view_indices
    text = layer._view_text
    return {str(n): layer.data[i, 1:] for n, i in zip(text, idx, strict=True)}


def test_names_follow_each_animal_in_its_colour(
    make_napari_viewer: Any, tracked: tuple[Path, Path, Predictions], save_screenshot: Any
) -> None:
    viewer, dock = _open(make_napari_viewer, tracked)
    raw = dock.sets["raw"]
    assert raw.names is not None and raw.names in viewer.layers
    # the test's own viewer gives the layers themselves (the dock holds napari's proxies)
    names, points = viewer.layers[raw.names.name], viewer.layers[raw.points.name]
    assert names.name == f"{tracked[1].stem} names"
    assert "3 individuals" in dock.file_label.text()
    # the text is the individual's name, in the colour of its points; three colours
    text = names.text.view_text(np.arange(len(names.data)))
    assert set(text) == set(ANIMALS)
    text_rgba = np.asarray(names.text.color.array)
    colour = {}
    for name in ANIMALS:
        mine = text_rgba[text == name]
        assert_allclose(mine, mine[:1].repeat(len(mine), 0))
        face = points.face_color[np.asarray(points.features["individual"]) == name]
        assert_allclose(mine[0], face[0])
        colour[name] = tuple(mine[0])
    assert len(set(colour.values())) == 3
    # stepping frames moves each label with its animal (the mean of its shown points)
    centres, order = individual_centres(raw.pred, pcutoff=raw.pcutoff)
    seen = []
    for frame in (5, 25):
        viewer.dims.set_current_step(0, frame)
        shown = _shown_labels(names)
        assert set(shown) == set(ANIMALS)
        for j, name in enumerate(order):
            assert_allclose(shown[name], centres[frame, j, ::-1])
            pts = points._view_indices
            mine = pts[np.asarray(points.features["individual"])[pts] == name]
            assert_allclose(shown[name], points.data[mine, 1:].mean(axis=0))
        seen.append(shown)
    assert all(np.hypot(*(seen[0][n] - seen[1][n])) > 2 for n in ANIMALS)
    # trails: one per body part never mixes animals; one per animal along its centre
    assert len(np.unique(raw.tracks.data[:, 0])) == 3 * len(BODYPARTS)
    dock.trails_by.setCurrentIndex(dock.trails_by.findData("individual"))
    assert len(np.unique(raw.tracks.data[:, 0])) == 3
    dock.show_names.setChecked(False)
    assert not names.visible and points.visible
    dock.show_names.setChecked(True)
    # the docs' picture: the frame where the animals are furthest apart, zoomed on the arena
    gaps = [
        min(np.hypot(*(c[a] - c[b])) for a in range(3) for b in range(a)) for c in centres[10:]
    ]
    viewer.dims.set_current_step(0, 10 + int(np.nanargmax(gaps)))
    shot = save_screenshot(
        viewer, "overlay-individuals", canvas_only=True, camera=((128, 128), 2.4)
    )
    assert shot.is_file()


def test_plots_per_individual(
    make_napari_viewer: Any, tracked: tuple[Path, Path, Predictions], tmp_path: Path
) -> None:
    viewer, _ = _open(make_napari_viewer, tracked)
    _, plots = viewer.window.add_plugin_dock_widget("napari-dlcflow", "Plots")
    assert isinstance(plots, PlotsDock)
    assert not plots.individuals.isHidden()
    assert [plots.individuals.item(i).text() for i in range(3)] == list(ANIMALS)
    assert plots.parts.count() == len(BODYPARTS) + len(SKELETON)
    plots.view_combo.setCurrentText("likelihood")
    lines = plots.canvas.figure.axes[0].get_lines()[:-1]  # the last is the frame marker
    assert len(lines) == 3 * len(BODYPARTS)
    colour: dict[str, set[tuple[float, ...]]] = {n: set() for n in ANIMALS}
    for line in lines:
        colour[line.get_label().split("/")[0]].add(tuple(np.round(line.get_color(), 4)))
    assert all(len(c) == 1 for c in colour.values())
    assert len(set.union(*colour.values())) == 3
    # one individual left out: its lines and its columns go
    plots.individuals.item(1).setCheckState(Qt.CheckState.Unchecked)
    plots.parts.item(0).setCheckState(Qt.CheckState.Unchecked)
    lines = plots.canvas.figure.axes[0].get_lines()[:-1]
    assert len(lines) == 2 * (len(BODYPARTS) - 1)
    assert {ln.get_label().split("/")[0] for ln in lines} == {"mouse1", "mouse3"}
    out = plots.export_csv(tmp_path / "likelihood.csv")
    table = pd.read_csv(out, header=[0, 1, 2, 3], index_col=0)
    assert list(table.columns.names) == ["scorer", "individuals", "bodyparts", "coords"]
    assert set(table.columns.get_level_values("individuals")) == {"mouse1", "mouse3"}
    assert BODYPARTS[0] not in set(table.columns.get_level_values("bodyparts"))
    plots.view_combo.setCurrentText("edge lengths")
    edges = plots.table()
    assert {c[0].split("/")[0] for c in edges.columns} == {"mouse1", "mouse3"}
    lines = plots.canvas.figure.axes[0].get_lines()[:-1]
    by = {ln.get_label().split("/")[0]: ln.get_color() for ln in lines}
    assert tuple(np.round(by["mouse1"], 4)) in colour["mouse1"]
