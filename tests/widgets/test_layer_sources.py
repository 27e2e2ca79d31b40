"""Any image layer as a source of the Labeling dock's frame extraction (issue 25, item 4), in a
real viewer: an array with no file, and a channel layer opened by our reader (its choice in
its metadata, so nothing is asked); the dialog that asks for a file's channel."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import tifffile

from _microscopy_files import real_tcyx, write_ome_tiff
from napari_dlcflow.core.project.config import Project
from napari_dlcflow.core.video.extract import SOURCE_RECORD
from napari_dlcflow.core.video.microscopy import describe
from napari_dlcflow.core.video.source import SourceRef, source_key

pytestmark = pytest.mark.gui


def _extract(ex, qtbot, data: str, n: int) -> None:  # type: ignore[no-untyped-def]
    i = ex.video_combo.findData(data)
    assert i >= 0, [ex.video_combo.itemData(k) for k in range(ex.video_combo.count())]
    ex.video_combo.setCurrentIndex(i)
    ex.n_spin.setValue(n)
    worker = ex.extract()
    assert worker is not None, ex.dock.status.text()
    with qtbot.waitSignal(worker.finished, timeout=60_000):
        pass


def test_extract_from_an_array_layer_and_a_channel_layer(
    make_napari_viewer, small_video: Path, shared_data: Path, tmp_path: Path, qtbot
) -> None:
    from napari_dlcflow.core.project.create import create_project
    from napari_dlcflow.napari_common import state_for_viewer
    from napari_dlcflow.widgets.common.source_choice import layer_source

    tcyx = real_tcyx(shared_data)
    ome = write_ome_tiff(tmp_path / "cells.ome.tif", tcyx)
    project = create_project(
        "t", "me", [small_video], tmp_path, copy_videos=True, bodyparts=["head", "tail"]
    )
    viewer = make_napari_viewer()
    _, dock = viewer.window.add_plugin_dock_widget("napari-dlcflow", "Labeling")
    state_for_viewer(viewer).open(project.config_path)
    ex = dock.extract
    # an array from a script: no file behind it
    viewer.add_image(tcyx[:, 0], name="script cells")
    _extract(ex, qtbot, "layer:script cells", 3)
    folder = project.root / "labeled-data" / "script cells"
    assert len(list(folder.glob("img*.png"))) == 3, dock.status.text()
    record = json.loads((folder / SOURCE_RECORD).read_text(encoding="utf-8"))
    assert record["origin"] == "napari layer 'script cells' (no file)"
    # a channel layer of our reader: the file and the choice from its metadata, nothing asked
    layers = viewer.open(ome, plugin="napari-dlcflow")
    assert len(layers) == 2
    assert layer_source(layers[1]) == SourceRef(ome, "C1")
    # the Overlay finds the channel layer an analysis file was made from by its stem
    from napari_dlcflow.widgets.common.video_layer import video_layer_of

    assert video_layer_of(viewer, tmp_path / "cells_C1DLC_Resnet50_x.h5") == layers[1].name
    _extract(ex, qtbot, f"layer:{layers[1].name}", 2)
    folder = project.root / "labeled-data" / "cells_C1"
    assert len(list(folder.glob("img*.png"))) == 2, dock.status.text()
    keys = Project.open(project.config_path).videos
    assert source_key(ome, "C1") in keys
    assert str(project.root / "videos" / "script cells.tif") in keys


def test_choice_dialog_gives_the_choice_text(
    qtbot, shared_data: Path, tmp_path: Path, save_screenshot
) -> None:
    from napari_dlcflow.widgets.common.source_choice import ChoiceDialog, needs_choice

    ome = write_ome_tiff(tmp_path / "cells.ome.tif", real_tcyx(shared_data))
    assert needs_choice(ome) == describe(ome)
    dialog = ChoiceDialog(describe(ome))
    qtbot.addWidget(dialog)
    assert dialog.channel.itemText(1) == "1: RFP"
    dialog.channel.setCurrentIndex(1)
    assert dialog.choice() == "C1"
    assert save_screenshot(dialog, "microscopy-choice-dialog").is_file()
    dialog.channel.setCurrentIndex(2)
    assert dialog.choice() == "C0+C1"


def test_preprocess_a_channel_layer_and_an_array_layer(
    make_napari_viewer, shared_data: Path, tmp_path: Path, qtbot
) -> None:
    from napari_dlcflow.core.video.preprocess import read_sidecar
    from napari_dlcflow.core.video.reader import open_frames

    tcyx = real_tcyx(shared_data)
    ome = write_ome_tiff(tmp_path / "cells.ome.tif", tcyx)
    viewer = make_napari_viewer()
    _, dock = viewer.window.add_plugin_dock_widget("napari-dlcflow", "Preprocess")
    assert dock.open_video(ome) is not None
    dock.video_combo.setCurrentText("cells [RFP]")
    viewer.add_image(tcyx[:, 0], name="script cells")
    dock.contrast_form.set_method("none")
    dock.output_form.codec.setCurrentIndex(dock.output_form.codec.findData("lossless"))
    dock.output_form.folder.setText(str(tmp_path / "out"))
    for layer, name, source, choice in (
        ("cells [RFP]", "cells_C1_pre.mkv", str(ome.resolve()), "C1"),
        ("script cells", "script cells_pre.mkv", "napari layer 'script cells' (no file)", ""),
    ):
        dock.video_combo.setCurrentText(layer)
        assert dock.apply_current() is not None, dock.status.text()
        qtbot.waitUntil(lambda: not dock.jobs.busy, timeout=60_000)
        out = tmp_path / "out" / name
        assert [r.output for r in dock.last_results] == [out], dock.status.text()
        _, record = read_sidecar(out)
        assert (record["source"], record["choice"]) == (source, choice)
        with open_frames(out) as pre:
            np.testing.assert_array_equal(pre[4], tcyx[4, 1 if choice else 0])
    entries = [dock.video_list.item(i).text() for i in range(dock.video_list.count())]
    assert entries[:2] == ["cells.ome.tif [C0]", "cells.ome.tif [C1]"]
    assert "layer:script cells" in entries


def test_analysis_panel_adds_layers_as_sources(
    make_napari_viewer,
    small_video: Path,
    shared_data: Path,
    tmp_path: Path,
    save_screenshot,
    qtbot,
) -> None:
    from napari_dlcflow.core.project.create import create_project
    from napari_dlcflow.core.video.reader import open_frames
    from napari_dlcflow.napari_common import state_for_viewer
    from napari_dlcflow.widgets.analysis.panel import AnalyzePanel

    tcyx = real_tcyx(shared_data)
    ome = write_ome_tiff(tmp_path / "cells.ome.tif", tcyx)
    project = create_project("t", "me", [small_video], tmp_path, bodyparts=["head", "tail"])
    viewer = make_napari_viewer()
    state_for_viewer(viewer).open(project.config_path)
    _, dock = viewer.window.add_plugin_dock_widget("napari-dlcflow", "Overlay")
    panel = dock.analyze_panel
    assert isinstance(panel, AnalyzePanel)
    panel.videos.clear()  # the project's video: only the added layers are looked at here
    layers = viewer.open(ome, plugin="napari-dlcflow")
    assert panel.add_layer(layers[1]) == source_key(ome, "C1")
    array = viewer.add_image(tcyx[:, 0], name="script cells")
    tif = project.root / "videos" / "script cells.tif"
    assert panel.add_layer(array) is None  # written in a thread job, listed when written
    qtbot.waitUntil(lambda: not panel.jobs.busy, timeout=60_000)
    assert panel.videos.item(panel.videos.count() - 1).text() == str(tif), panel.status.text()
    with open_frames(tif) as back:
        np.testing.assert_array_equal(np.asarray(back), tcyx[:, 0])
    assert panel.add_layer(array) == str(tif)  # written from this layer before: reused
    assert panel.videos.count() == 2  # ... and listed once
    tifffile.imwrite(project.root / "videos" / "clash.tif", tcyx[:5, 1])  # someone else's
    before = (project.root / "videos" / "clash.tif").read_bytes()
    assert panel.add_layer(viewer.add_image(tcyx[:, 1], name="clash")) is None
    assert "is not this layer" in panel.status.text()
    assert (project.root / "videos" / "clash.tif").read_bytes() == before
    assert panel.spec().videos[-2:] == [source_key(ome, "C1"), str(tif)]
    viewer.layers.remove("clash")
    from napari_dlcflow.widgets.common.screenshot import prepare

    prepare(viewer)  # the dock laid out; then the analysis panel alone, as drawn
    assert save_screenshot(panel, "microscopy-add-layer").is_file()
