"""The multi-animal loop through the docks in a real viewer: on the shared model trained through
the CLI with default options (tests/_ma_trained.py), the Dataset dock offers the multi-animal net
types, the Training dock says where the weights come from, the Overlay dock's analysis panel
tracks the animals with its defaults on a local Dask cluster and opens the tracks by individual
(names in each animal's colour), and the tracks are scored against the truth."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import numpy as np
import pytest

pytest.importorskip("distributed", reason="the batch extra (distributed) is not installed")
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from _ma_trained import ma_trained
from napari_dlcflow.core.formats.tracks import load_tracks
from napari_dlcflow.core.predictions.tracks import compare_tracks
from napari_dlcflow.core.video.probe import read_frames
from napari_dlcflow.napari_common import state_for_viewer
from napari_dlcflow.widgets.overlay.dock import OverlayDock

pytestmark = [pytest.mark.gui, pytest.mark.slow, pytest.mark.xdist_group("multi_animal")]


def test_multi_animal_analysis_and_tracks_by_individual_through_the_docks(
    make_napari_viewer: Any,
    tmp_path_factory: pytest.TempPathFactory,
    qtbot: Any,
    save_screenshot: Any,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    run = ma_trained(tmp_path_factory)
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    viewer = make_napari_viewer()
    viewer.add_image(read_frames(run.video), rgb=True, name=run.video.stem)
    _, dock = viewer.window.add_plugin_dock_widget("napari-dlcflow", "Overlay")
    assert isinstance(dock, OverlayDock)
    state_for_viewer(viewer).open(run.config)
    panel = dock.analyze_panel
    # the Tracking group is there for a multi-animal project, with the defaults that track
    group = panel.tracking
    assert not group.isHidden()
    spec = group.spec()
    assert (spec.tracker, spec.box_slack, spec.n_tracks) == ("box", 10, None)
    panel.videos.clear()
    panel.videos.addItem(str(run.video))
    panel.device.setCurrentText("cpu")
    panel.workers.setValue(1)
    worker = panel.start()
    assert worker is not None, panel.status.text()
    qtbot.waitUntil(lambda: not panel.jobs.busy, timeout=900_000)
    assert panel.cell(0, "State") in ("done", "skipped"), panel.status.text()
    assert "box tracker" in group.note.text()

    # the tracks opened on the video, by individual, with each animal's name on it
    tracked = next(run.video.parent.glob("synthetic_animals*_bx.h5"))
    qtbot.waitUntil(
        lambda: any(lay.name.endswith("names") for lay in viewer.layers), timeout=60_000
    )
    names = next(lay for lay in viewer.layers if lay.name.endswith("names"))
    points = next(
        lay for lay in viewer.layers if lay.name == tracked.stem and hasattr(lay, "face_color")
    )
    text = set(names.text.view_text(np.arange(len(names.data))))
    assert text == {"mouse1", "mouse2"}
    faces = {
        ind: tuple(points.face_color[np.asarray(points.features["individual"]) == ind][0])
        for ind in ("mouse1", "mouse2")
    }
    assert faces["mouse1"] != faces["mouse2"]
    scores = compare_tracks(load_tracks(tracked), load_tracks(run.truth))
    assert scores.idf1 > 0.45, scores  # as in the CLI loop test
    # shown on the frame where both animals are named and their names farthest apart
    frames = names.data[:, 0].astype(int)
    apart = {
        f: float(np.ptp(names.data[frames == f, 1:], axis=0).max())
        for f in np.unique(frames)
        if (frames == f).sum() == 2
    }
    assert apart, "no frame with both animals named"
    frame = max(apart, key=apart.get)
    on_frame = np.flatnonzero(names.data[:, 0] == frame)
    assert set(names.features["individual"].iloc[on_frame]) == {"mouse1", "mouse2"}
    points.size = 5  # the layer controls' point size: 160 px frames are small
    viewer.dims.set_current_step(0, frame)
    shot = save_screenshot(viewer, "ma-overlay-tracked", canvas_only=True)
    assert shot.is_file()
    window = save_screenshot(viewer, "ma-overlay-dock")
    assert window.is_file()
