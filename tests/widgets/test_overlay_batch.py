"""The Overlay dock's analysis on the batch layer: a real napari viewer, a real tiny trained
DeepLabCut model, a real local Dask cluster started by the dock (issue 15)."""

from __future__ import annotations

import itertools
import shutil
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from qtpy.QtCore import Qt, QTimer

pytest.importorskip("distributed", reason="the batch extra (distributed) is not installed")

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "core"))

from _dlcflow_trained import trained

from napari_dlcflow.core.example.synthetic import (
    SyntheticSpec,
    read_truth,
    write_synthetic_example,
)
from napari_dlcflow.core.predictions.analysis_files import read_predictions
from napari_dlcflow.core.video.probe import read_frames
from napari_dlcflow.napari_common import state_for_viewer
from napari_dlcflow.widgets.overlay.dock import OverlayDock

pytestmark = [pytest.mark.gui, pytest.mark.slow, pytest.mark.xdist_group("trained")]

GOOD = ("done", "skipped")


@pytest.fixture(scope="module")
def model(tmp_path_factory: pytest.TempPathFactory) -> Any:
    """The shared tiny model (trained once per session) and its training video's truth."""
    run = trained(tmp_path_factory)
    config = Path(run.config)
    video = next((config.parent / "videos").glob("synthetic_animal.mp4"))
    truth = next(config.parent.parent.glob("example/synthetic_animal_truth.csv"))
    return config, video, truth


@pytest.fixture(scope="module")
def long_video(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """600 frames at the model's size: long enough that a cancel finds its analysis running."""
    folder = tmp_path_factory.mktemp("long")
    return write_synthetic_example(
        folder, SyntheticSpec(n_frames=600, height=128, width=128, seed=9)
    ).video


def _panel(make_napari_viewer: Any, config: Path, videos: list[Path], workers: int) -> Any:
    viewer = make_napari_viewer()
    _, dock = viewer.window.add_plugin_dock_widget("napari-dlcflow", "Overlay")
    assert isinstance(dock, OverlayDock)
    state_for_viewer(viewer).open(config)
    panel = dock.analyze_panel
    panel.videos.clear()
    for v in videos:
        panel.videos.addItem(str(v))
    panel.device.setCurrentText("cpu")
    panel.batch_size.setValue(8)
    assert panel.run_on.currentData() == "local"  # the default: this machine
    panel.workers.setValue(workers)
    return viewer, dock, panel


def _running_with_frames(panel: Any) -> bool:
    return any(
        panel.cell(i, "State") == "running"
        and panel.cell(i, "Frames").split("/")[0] not in ("", "0")
        for i in range(panel.table.rowCount())
    )


def test_dock_runs_the_analysis_as_a_batch_with_a_live_table(
    make_napari_viewer: Any, model: Any, tmp_path: Path, qtbot: Any, save_screenshot: Any
) -> None:
    config, source, truth_csv = model
    folder = tmp_path / "videos"
    folder.mkdir()
    good = [Path(shutil.copy(source, folder / f"mouse{i}.mp4")) for i in range(2)]
    broken = folder / "broken.mp4"
    broken.write_bytes(b"not a video at all" * 100)
    viewer, dock, panel = _panel(make_napari_viewer, config, [good[0], broken, good[1]], 2)
    viewer.add_image(read_frames(source), rgb=True, name="the video")  # under the overlay
    assert panel.minimumSizeHint().width() <= 360  # the table scrolls inside a narrow dock

    # the GUI thread keeps turning while the cluster starts and the videos are analysed
    ticks: list[float] = []
    timer = QTimer()
    timer.timeout.connect(lambda: ticks.append(time.monotonic()))
    timer.start(50)
    # opening an h5 in the overlay is the overlay's own work in the GUI thread (its reader
    # starts a fresh interpreter, 1-3 s): those moments are left out of the measure
    loads: list[tuple[float, float]] = []
    open_in_overlay = panel._on_output

    def timed_open(path: Path) -> None:
        t0 = time.monotonic()
        open_in_overlay(path)
        loads.append((t0, time.monotonic()))

    panel._on_output = timed_open
    worker = panel.start()
    assert worker is not None, panel.status.text()
    assert [panel.cell(i, "State") for i in range(3)] == ["queued"] * 3
    qtbot.waitUntil(lambda: _running_with_frames(panel) or not panel.jobs.busy, timeout=600_000)
    live = _running_with_frames(panel)
    live_worker = {panel.cell(i, "Worker") for i in range(3)} - {""}
    qtbot.waitUntil(lambda: not panel.jobs.busy, timeout=900_000)
    timer.stop()
    assert live, "no live frame count while a video was running"
    assert live_worker <= {"cpu0", "cpu1"} and live_worker, live_worker
    gaps = [
        b - a
        for a, b in itertools.pairwise(ticks)
        if not any(a < end and b > start for start, end in loads)
    ]
    assert len(loads) == 2 and len(gaps) > 100
    assert max(gaps) < 1.5, f"the viewer froze for {max(gaps):.1f} s"
    assert not panel.cluster_label.isHidden()  # (the test viewer itself is hidden)
    assert "local cluster: 2 CPU worker(s)" in panel.cluster_label.text()

    # rows: the good videos done with frames and worker; the broken one failed with a reason
    states = [panel.cell(i, "State") for i in range(3)]
    assert states == ["done", "failed", "done"], (states, panel.status.text())
    n = len(read_truth(truth_csv)[0])
    for i in (0, 2):
        assert panel.cell(i, "Frames") == f"{n}/{n}"
        assert panel.cell(i, "Worker") in ("cpu0", "cpu1")
        assert float(panel.cell(i, "Frames/s")) > 0
        assert 0 < float(panel.cell(i, "Mean likelihood")) <= 1
        assert panel.cell(i, "Below p-cutoff").endswith("%")
        assert panel.cell(i, "Output").startswith(f"mouse{i // 2}DLC")
    assert panel.cell(1, "Error") and panel.cell(1, "Output") == ""
    assert "broken.mp4" in panel.status.text()

    # the summary CSV beside the outputs, one row per video
    assert panel.summary_csv == folder / "batch-summary.csv"
    table = pd.read_csv(panel.summary_csv)
    assert list(table["video"]) == [str(good[0]), str(broken), str(good[1])]
    assert list(table["state"]) == ["done", "failed", "done"]

    # the predictions are those of the model: close to the truth
    outs = [Path(r["output"]) for r in panel.summary if r["state"] in GOOD]
    for v, h5 in zip(good, outs, strict=True):
        assert h5.parent == folder and h5.name.startswith(v.stem)
        pred = read_predictions(h5)
        truth, _ = read_truth(truth_csv)
        assert pred.n_frames == n
        err = float(np.nanmedian(np.hypot(*(pred.xy - truth).transpose(2, 0, 1))))
        assert err < 6.0, f"{v.name}: median error {err:.2f} px"
    # each finished video's h5 went to the overlay, which shows the last
    assert sorted(panel.outputs) == sorted(outs)
    assert dock.analysis_path in outs
    assert dock.analysis_path.stem in viewer.layers

    from qtpy.QtWidgets import QApplication

    from napari_dlcflow.widgets.common.screenshot import prepare

    prepare(viewer)
    bar = dock.verticalScrollBar()  # the panel is the dock's last section: scroll to it
    bar.setValue(bar.maximum())
    QApplication.processEvents()
    assert bar.value() > 0
    save_screenshot(viewer, "overlay-batch-table")

    # the real cluster had a dashboard (bokeh is in the batch extra): a clickable link to it
    import re

    text = panel.cluster_label.text()
    assert re.search(r'<a href="http://127\.0\.0\.1:\d+/status">dashboard</a>', text), text
    assert panel.cluster_label.openExternalLinks()


def test_cancel_stops_queued_and_running_videos(
    make_napari_viewer: Any, model: Any, long_video: Path, tmp_path: Path, qtbot: Any
) -> None:
    config = model[0]
    folder = tmp_path / "videos"
    folder.mkdir()
    vids = [Path(shutil.copy(long_video, folder / f"long{i}.mp4")) for i in range(3)]
    _, _, panel = _panel(make_napari_viewer, config, vids, 2)
    assert panel.start() is not None
    qtbot.waitUntil(lambda: _running_with_frames(panel), timeout=600_000)
    qtbot.mouseClick(panel.cancel_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: not panel.jobs.busy, timeout=120_000)
    assert [panel.cell(i, "State") for i in range(3)] == ["cancelled"] * 3
    assert [r["attempts"] for r in panel.summary] == [1, 1, 0]  # two running, one queued
    assert panel.status.text().startswith("Cancelled: 0 of 3")
    assert panel.run_button.isEnabled() and not panel.cancel_button.isEnabled()
    # nothing that looks complete: no analysis file, no completion marker
    written = [p.name for p in folder.iterdir() if not p.name.startswith(".")]
    assert not [n for n in written if n.endswith((".h5", ".json", ".pickle"))], written
    assert panel.outputs == []
    assert list(pd.read_csv(panel.summary_csv)["state"]) == ["cancelled"] * 3


def test_closing_napari_while_a_batch_runs_cancels_it_and_closes_the_cluster(
    make_napari_viewer: Any, model: Any, long_video: Path, tmp_path: Path, qtbot: Any
) -> None:
    from distributed import Client

    config = model[0]
    video = Path(shutil.copy(long_video, tmp_path / "long.mp4"))
    viewer, _, panel = _panel(make_napari_viewer, config, [video], 1)
    assert panel.start() is not None
    qtbot.waitUntil(lambda: _running_with_frames(panel), timeout=600_000)
    address = panel.scheduler_address
    assert address.startswith("tcp://127.0.0.1:")
    t0 = time.monotonic()
    viewer.window._qt_window.close()  # the close guard answers "stop all" (conftest)
    print(f"closing with the batch running took {time.monotonic() - t0:.1f} s")
    assert not panel.jobs.busy, "the batch was still running when the window closed"
    assert [r["state"] for r in panel.summary] == ["cancelled"]
    with pytest.raises((OSError, TimeoutError)):  # the dock's cluster is gone with it
        Client(address, timeout=3)
    assert not list(tmp_path.glob("*.h5"))
