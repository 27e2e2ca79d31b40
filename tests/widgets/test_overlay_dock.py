"""The Overlay dock and the analysis-file reader in a real napari viewer (virtual display)."""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from numpy.testing import assert_array_equal
from qtpy.QtCore import Qt

from napari_dlcflow.core.example.synthetic import (
    BODYPARTS,
    SKELETON,
    SyntheticSpec,
    read_truth,
    write_synthetic_example,
)
from napari_dlcflow.core.layers.data import skeleton_vectors_for, tracks_layer_data
from napari_dlcflow.core.predictions.analysis_files import (
    Predictions,
    scorer_name,
    simulate_predictions,
    write_predictions,
)
from napari_dlcflow.core.predictions.filtering import filter_file
from napari_dlcflow.core.video.probe import read_frames
from napari_dlcflow.napari_common import state_for_viewer
from napari_dlcflow.plugin.predictions_reader import get_predictions_reader
from napari_dlcflow.widgets.overlay import files as _overlay_io
from napari_dlcflow.widgets.overlay.dock import OverlayDock

pytestmark = pytest.mark.gui

SCORER = scorer_name("resnet_50", "synthetic", "Nov24", 1, "best-20")


@pytest.fixture(scope="module")
def analysed(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, Predictions]:
    """A synthetic video with DLC-format raw and filtered analysis files beside it."""
    folder = tmp_path_factory.mktemp("overlay")
    files = write_synthetic_example(
        folder, SyntheticSpec(n_frames=60, height=256, width=256, seed=11)
    )
    truth, _ = read_truth(files.truth_csv)
    pred = simulate_predictions(truth, BODYPARTS, scorer=SCORER, noise_px=1.0, seed=3)
    h5 = folder / f"{files.video.stem}{SCORER}.h5"
    write_predictions(pred, h5)
    filter_file(h5, "median", window=5)
    return files.video, h5, pred


def _dock(viewer: Any) -> OverlayDock:
    _, widget = viewer.window.add_plugin_dock_widget("napari-dlcflow", "Overlay")
    assert isinstance(widget, OverlayDock)
    return widget


def _viewer_with_video(make_napari_viewer: Any, video: Path) -> Any:
    viewer = make_napari_viewer()
    viewer.add_image(np.zeros((60, 256, 256), np.uint8), name="another video")
    viewer.add_image(read_frames(video), rgb=True, name=video.stem)
    return viewer


def test_overlay_layers_match_the_h5(
    make_napari_viewer: Any, analysed: tuple[Path, Path, Predictions], save_screenshot: Any
) -> None:
    video, h5, _ = analysed
    viewer = _viewer_with_video(make_napari_viewer, video)
    dock = _dock(viewer)
    dock.video_layer.setCurrentText("another video")
    assert dock.load(h5, skeleton=list(SKELETON))
    # the video layer is found by name
    assert dock.video_layer.currentText() == video.stem
    raw, filt = dock.sets["raw"], dock.sets["filtered"]
    assert raw.points.name == h5.stem and filt.points.name == f"{h5.stem}_filtered"
    assert raw.vectors is not None and raw.tracks is not None and filt.tracks is None
    assert raw.points.symbol[0] != filt.points.symbol[0]
    df = pd.read_hdf(h5, "df_with_missing")
    rng = np.random.default_rng(1)
    data, feats = raw.points.data, raw.points.features
    for frame in rng.choice(60, 6, replace=False):
        sel = np.flatnonzero(data[:, 0] == frame)
        assert len(sel) == len(BODYPARTS)
        for i in sel:
            bp = feats["bodypart"].iloc[i]
            assert data[i, 2] == df.loc[frame, (SCORER, bp, "x")]
            assert data[i, 1] == df.loc[frame, (SCORER, bp, "y")]
            assert feats["likelihood"].iloc[i] == df.loc[frame, (SCORER, bp, "likelihood")]
    assert "scorer " + SCORER in dock.file_label.text().replace("\u200b", "")

    viewer.dims.set_current_step(0, 30)
    dock.tail_length.setValue(12)
    assert raw.tracks.tail_length == 12
    save_screenshot(viewer, "overlay-dock")


def test_pcutoff_slider_hides_exactly_the_points_below(
    make_napari_viewer: Any, analysed: tuple[Path, Path, Predictions], qtbot: Any
) -> None:
    video, h5, pred = analysed
    viewer = _viewer_with_video(make_napari_viewer, video)
    dock = _dock(viewer)
    dock.load(h5, skeleton=list(SKELETON))
    raw = dock.sets["raw"]
    lik = raw.points.features["likelihood"].to_numpy()
    for value in (0, 45, 60, 95):
        dock.pcutoff.setValue(value)
        assert_array_equal(raw.points.shown, lik >= value / 100)
        assert dock.pcutoff_label.text() == f"{value / 100:.2f}"
    assert 0 < raw.points.shown.sum() < len(lik)
    # skeleton and trails follow when the slider rests
    qtbot.waitUntil(
        lambda: len(raw.vectors.data) == len(skeleton_vectors_for(pred, SKELETON, pcutoff=0.95)),
        timeout=5000,
    )
    assert len(raw.tracks.data) == len(tracks_layer_data(pred, pcutoff=0.95))
    dock.show_trails.setChecked(False)
    assert not raw.tracks.visible and raw.points.visible
    dock.show_filtered.setChecked(False)
    assert "filtered" not in dock.sets
    assert f"{h5.stem}_filtered" not in viewer.layers


def test_filter_and_export_buttons(
    make_napari_viewer: Any,
    analysed: tuple[Path, Path, Predictions],
    qtbot: Any,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    video, h5, _ = analysed
    work = tmp_path / "copy #1"
    work.mkdir()
    local = work / h5.name
    local.write_bytes(h5.read_bytes())
    viewer = _viewer_with_video(make_napari_viewer, video)
    dock = _dock(viewer)
    monkeypatch.setattr(_overlay_io, "ask_analysis_file", lambda parent: str(local))
    qtbot.mouseClick(dock.open_button, Qt.MouseButton.LeftButton)
    assert "filtered" not in dock.sets
    dock.filter_method.setCurrentText("savgol")
    dock.filter_window.setValue(7)
    worker = dock.run_filter()
    with qtbot.waitSignal(worker.finished, timeout=20000):
        pass
    assert (work / f"{h5.stem}_filtered.h5").is_file()
    assert "filtered" in dock.sets
    assert "Wrote" in dock.status.text()

    out = work / "labeled & tracked.mp4"
    monkeypatch.setattr(_overlay_io, "ask_save_video", lambda parent, suggested: str(out))
    monkeypatch.setattr(_overlay_io, "ask_video", lambda parent: str(video))
    dock.export_trails.setChecked(True)
    worker = dock.export_video()
    with qtbot.waitSignal(worker.finished, timeout=60000):
        pass
    assert out.is_file(), dock.status.text()
    assert len(read_frames(out)) == 60
    assert dock.export_button.isEnabled() and not dock.progress.isVisible()
    assert str(out) in dock.status.text()


def test_bad_file_is_named_in_the_status(make_napari_viewer: Any, tmp_path: Path) -> None:
    viewer = make_napari_viewer()
    dock = _dock(viewer)
    bad = tmp_path / "videoDLC_broken.h5"
    bad.write_bytes(b"\x00" * 64)
    assert not dock.load(bad)
    assert "videoDLC_broken.h5" in dock.status.text()
    assert len(viewer.layers) == 0


def test_reader_opens_analysis_and_leaves_labels_alone(
    make_napari_viewer: Any, analysed: tuple[Path, Path, Predictions], shared_data: Path
) -> None:
    _, h5, pred = analysed
    labels = shared_data / "dlc-openfield" / "labeled-data" / "m4s1" / "CollectedData_Pranav.h5"
    assert get_predictions_reader(str(labels)) is None
    assert get_predictions_reader(str(labels.with_suffix(".csv"))) is None
    assert get_predictions_reader(str(h5.with_suffix(".txt"))) is None
    viewer = make_napari_viewer()
    layers = viewer.open(str(h5), plugin="napari-dlcflow")
    kinds = sorted(lay._type_string for lay in layers)
    assert kinds == ["points", "tracks"]  # no project config beside it: no skeleton
    points = next(lay for lay in layers if lay._type_string == "points")
    assert len(points.data) == pred.n_frames * len(BODYPARTS)
    assert_array_equal(points.shown, points.features["likelihood"].to_numpy() >= 0.6)


def test_analyze_panel_builds_the_spec_and_reports_a_refusal(
    make_napari_viewer: Any, openfield_project: Path, qtbot: Any
) -> None:
    viewer = make_napari_viewer()
    dock = _dock(viewer)
    panel = dock.analyze_panel
    assert panel.start() is None
    assert "open a project first" in panel.status.text()
    state_for_viewer(viewer).open(openfield_project / "config.yaml")
    assert panel.videos.count() == 1  # from video_sets
    panel.snapshot.setText("-1")
    panel.batch_size.setValue(4)
    panel.csv.setChecked(True)
    panel.device.setCurrentText("cpu")
    spec = panel.spec()
    assert spec.config == str(openfield_project / "config.yaml")
    assert (spec.snapshot_index, spec.batch_size, spec.save_as_csv, spec.device) == (
        -1,
        4,
        True,
        "cpu",
    )
    import torch

    if torch.cuda.is_available():
        return
    pytest.importorskip("distributed", reason="the batch extra (distributed) is not installed")
    # asking for CUDA without a GPU is refused by the child before DeepLabCut is imported; the
    # batch reports it as the video's failure (one local worker)
    panel.device.setCurrentText("cuda")
    panel.workers.setValue(1)
    worker = panel.start()
    assert not panel.run_button.isEnabled()
    with qtbot.waitSignal(worker.finished, timeout=180_000):
        pass
    assert "no CUDA GPU" in panel.status.text()
    assert panel.cell(0, "State") == "failed" and "no CUDA GPU" in panel.cell(0, "Error")
    assert panel.run_button.isEnabled() and not panel.cancel_button.isEnabled()


def test_cropped_analysis_sits_on_the_full_video(
    make_napari_viewer: Any, analysed: tuple[Path, Path, Predictions], tmp_path: Path
) -> None:
    from napari_dlcflow.core.predictions.analysis_files import write_meta

    video, h5, pred = analysed
    local = tmp_path / h5.name
    local.write_bytes(h5.read_bytes())
    crop = {"cropping": True, "cropping_parameters": [30, 200, 40, 220], "nframes": 60}
    write_meta(tmp_path / f"{h5.stem}_meta.pickle", crop)
    viewer = _viewer_with_video(make_napari_viewer, video)
    viewer.layers[video.stem].translate = (0, 5, 7)
    dock = _dock(viewer)
    assert dock.load(local, skeleton=list(SKELETON))
    points = dock.sets["raw"].points
    assert tuple(points.translate) == (0, 45, 37)
    world = points.data[0] + np.asarray(points.translate)
    assert world[2] == pred.data[0, 0, 0] + 30 + 7 and world[1] == pred.data[0, 0, 1] + 40 + 5
    assert tuple(dock.sets["raw"].tracks.translate) == (0, 45, 37)


def test_labels_and_predictions_share_colours_on_screen(
    make_napari_viewer: Any, openfield_project: Path, save_screenshot: Any
) -> None:
    """A labels file and an analysis file of one project, opened by File > Open: each body
    part has one colour in both layers (docs image ``colours-everywhere.png``)."""
    from napari_dlcflow.core.labels.collected import read_labels

    (labels_path,) = sorted((openfield_project / "labeled-data").glob("*/CollectedData_*.h5"))
    labels = read_labels(labels_path, folder_stem=labels_path.parent.name)
    bodyparts = [bp for _, bp in labels.keypoints]
    truth = np.nan_to_num(labels.xy, nan=-100.0)
    pred = simulate_predictions(truth, bodyparts, scorer=SCORER, noise_px=4.0, seed=2)
    (openfield_project / "videos").mkdir(exist_ok=True)
    h5 = openfield_project / "videos" / f"m3v1mp4{SCORER}.h5"
    write_predictions(pred, h5)

    viewer = make_napari_viewer()
    viewer.open(str(labels_path.parent), plugin="napari-dlcflow")
    viewer.open(str(h5), plugin="napari-dlcflow")
    label_layer = next(lay for lay in viewer.layers if lay.name.endswith("(labels)"))
    pred_layer = viewer.layers[h5.stem]

    def colours(layer: Any) -> dict[str, tuple[float, ...]]:
        out: dict[str, set[tuple[float, ...]]] = {}
        for bp, c in zip(layer.features["bodypart"], layer.face_color, strict=True):
            out.setdefault(str(bp), set()).add(tuple(np.round(c, 4)))
        assert all(len(v) == 1 for v in out.values()), out
        return {bp: next(iter(v)) for bp, v in out.items()}

    on_labels, on_predictions = colours(label_layer), colours(pred_layer)
    assert on_labels == on_predictions
    assert len(set(on_labels.values())) == len(set(bodyparts))
    # the labeled frame whose animal is nearest the middle, zoomed on the animal
    centre = np.array([320.0, 240.0])
    t = int(np.argmin(np.nanmean(np.linalg.norm(labels.xy - centre, axis=-1), axis=1)))
    x, y = np.nanmean(labels.xy[t], axis=0)
    viewer.dims.set_current_step(0, t)
    # the images are not a video: trails across them would mean nothing
    viewer.layers[f"{h5.stem} trails"].visible = False
    path = save_screenshot(viewer, "colours-everywhere", camera=((y, x), 3.5))
    assert path.stat().st_size > 10_000


def test_overlay_says_why_it_is_empty_below_the_pcutoff(
    make_napari_viewer: Any, analysed: tuple[Path, Path, Predictions], tmp_path: Path
) -> None:
    video, _, pred = analysed
    data = pred.data.copy()
    data[:, :, 2] = np.minimum(data[:, :, 2], 0.3)  # an early model: every point is weak
    weak = dataclasses.replace(pred, data=data, path=None)
    h5 = tmp_path / f"{video.stem}{SCORER}.h5"
    write_predictions(weak, h5)
    viewer = _viewer_with_video(make_napari_viewer, video)
    dock = _dock(viewer)
    assert dock.load(h5, skeleton=list(SKELETON))
    raw = dock.sets["raw"]
    assert not raw.points.shown.any()  # nothing is drawn ...
    n = int(np.isfinite(raw.points.features["likelihood"]).sum())
    note = dock.hidden_note.text()  # ... and the dock says why
    assert not dock.hidden_note.isHidden()
    assert f"All {n:,} points are below p-cutoff 0.6" in note and "lower it" in note
    assert "0.30" in note  # the highest likelihood, so the user knows how far to go
    dock.pcutoff.setValue(25)
    assert raw.points.shown.any() and dock.hidden_note.isHidden()


def test_overlay_adopts_predictions_opened_by_drag_and_drop(
    make_napari_viewer: Any, analysed: tuple[Path, Path, Predictions], qtbot: Any
) -> None:
    video, h5, _ = analysed
    viewer = _viewer_with_video(make_napari_viewer, video)
    # opened before the dock exists (as a drop on napari would)
    dropped = viewer.open(str(h5), plugin="napari-dlcflow")
    n_layers = len(viewer.layers)
    dock = _dock(viewer)
    assert len(viewer.layers) == n_layers  # adopted, not drawn twice
    assert dock.analysis_path == h5
    assert "No analysis file open" not in dock.file_label.text()
    assert "scorer " + SCORER in dock.file_label.text().replace("\u200b", "")
    raw = dock.sets["raw"]
    points = next(lay for lay in dropped if lay._type_string == "points")
    assert raw.points is points and raw.tracks is not None
    assert dock.video_layer.currentText() == video.stem
    # the dock now drives the dropped layers
    dock.pcutoff.setValue(95)
    assert_array_equal(points.shown, points.features["likelihood"].to_numpy() >= 0.95)
    # the filtered file dropped after the dock opened joins as the filtered set
    filtered = viewer.open(str(h5.with_name(f"{h5.stem}_filtered.h5")), plugin="napari-dlcflow")
    fpoints = next(lay for lay in filtered if lay._type_string == "points")
    assert dock.sets["filtered"].points is fpoints and dock.sets["raw"] is raw
    assert_array_equal(fpoints.shown, fpoints.features["likelihood"].to_numpy() >= 0.95)
    # deleting the points layer: the dock forgets the file
    viewer.layers.remove(points)
    assert dock.analysis_path is None and dock.sets == {}
    assert "No analysis file open" in dock.file_label.text()
