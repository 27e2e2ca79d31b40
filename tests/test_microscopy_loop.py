"""Issue 25 end to end: label -> dataset -> train (tiny) -> analyze -> overlay and plots on one
channel of a 2-channel 16-bit OME-TIFF time-lapse (0.65 µm, 0.5 s) built with tifffile's OME
writer from real frames and their real labels (DeepLabCut's openfield example, downscaled 4x),
through the command line with default options and then a real viewer."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from numpy.testing import assert_allclose

from _ma_trained import cli
from _microscopy_files import DT_S, PX_UM, write_ome_tiff

pytestmark = [pytest.mark.slow, pytest.mark.gui]

N, DOWN = 40, 4
PARTS = ["snout", "leftear", "rightear", "tailbase"]


def _time_lapse(shared_data: Path, folder: Path) -> tuple[Path, np.ndarray]:
    """``mouse.ome.tif`` (40 time points, channels GFP and RFP, 120 x 160) and the authors'
    labels of its frames, (40, 4, 2) in the downscaled pixels (NaN where unlabeled)."""
    import imageio.v3 as iio

    from napari_dlcflow.core.labels.collected import read_labels

    src = shared_data / "dlc-openfield" / "labeled-data" / "m4s1"
    pngs = [src / f"img{t:04d}.png" for t in range(N)]
    gray = np.stack([iio.imread(p)[::DOWN, ::DOWN, :3].mean(axis=-1) for p in pngs])
    t = np.arange(N)[:, None, None]
    data = np.stack([gray * 200 + t, (255 - gray) * 150], axis=1).astype(np.uint16)
    ome = write_ome_tiff(folder / "mouse.ome.tif", data)
    labels = read_labels(src / "CollectedData_Pranav.h5")
    rows = {str(r[-1]): i for i, r in enumerate(labels.images)}
    xy = np.stack([labels.xy[rows[p.name]] for p in pngs]) / DOWN  # (N, K, 2)
    assert list(labels.bodyparts) == PARTS
    return ome, xy


def _write_labels(folder: Path, xy: np.ndarray, scorer: str) -> None:
    """The authors' labels of each extracted time point, written as a user's labels are."""
    from napari_dlcflow.core.labels.collected import labels_from_dataframe, write_labels

    images = sorted(folder.glob("img*.png"))
    cols = pd.MultiIndex.from_product([[scorer], PARTS, ["x", "y"]])
    index = pd.MultiIndex.from_tuples([("labeled-data", folder.name, p.name) for p in images])
    values = np.stack([xy[int(p.stem[3:])].reshape(-1) for p in images])
    write_labels(labels_from_dataframe(pd.DataFrame(values, index, cols)), folder)


def test_one_channel_of_an_ome_tiff_from_labels_to_plots_in_micrometres(
    shared_data: Path,
    tmp_path: Path,
    make_napari_viewer: Any,
    save_screenshot: Any,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    ome, xy = _time_lapse(shared_data, tmp_path)
    code, said = cli(
        "create-project", "mouse", "me", ome, "--choice", "C0", "--dir", tmp_path,
        "--bodyparts", ",".join(PARTS),
    )  # fmt: skip
    assert code == 0, said
    project = Path(said.strip().splitlines()[-1]).parent
    key = f"{project / 'videos' / 'mouse.ome.tif'}/mouse_C0.tif"
    assert key in (project / "config.yaml").read_text()

    # label: 30 of the 40 time points of channel 0, with the authors' labels
    code, said = cli("extract-frames", project, "--n", 30)
    assert code == 0, said
    folder = project / "labeled-data" / "mouse_C0"
    assert len(list(folder.glob("img*.png"))) == 30
    source = pd.read_json(folder / "dlcflow-source.json", typ="series")
    assert source["choice"] == "C0" and source["pixel_size_um"] == pytest.approx(PX_UM)
    _write_labels(folder, xy, "me")

    # dataset -> train (tiny, from scratch) -> analyze, all with default options
    code, said = cli("create-dataset", project)
    assert code == 0, said
    code, said = cli(
        "train", project, "--epochs", "8", "--backbone", "resnet18", "--batch-size", "8",
        "--eval-interval", "8",
    )  # fmt: skip
    assert code == 0, said
    linked = project / "videos" / "mouse.ome.tif"
    code, said = cli("analyze", project, linked, "--choice", "C0")
    assert code == 0, said
    (h5,) = (project / "videos").glob("mouse_C0DLC_*.h5")

    from napari_dlcflow.core.predictions.analysis_files import read_predictions

    pred = read_predictions(h5)
    assert pred.data.shape == (N, len(PARTS), 3)
    # the same channel on the batch layer (a local Dask cluster): the same predictions
    batch = tmp_path / "batch"
    code, said = cli(
        "analyze", project, linked, "--choice", "C0", "--cluster", "local", "--workers", "1",
        "--destfolder", batch, "--summary", tmp_path / "summary.csv",
    )  # fmt: skip
    assert code == 0, said
    (batch_h5,) = batch.glob("mouse_C0DLC_*.h5")
    assert_allclose(read_predictions(batch_h5).data, pred.data, atol=1e-4)
    assert pred.meta["dlcflow_source"] == {
        "path": str(linked),
        "choice": "C0",
        "pixel_size_um": pytest.approx(PX_UM),
        "frame_interval_s": pytest.approx(DT_S),
    }
    # the later steps on the same source: a labeled video and an outlier frame to refine
    code, said = cli("labeled-video", linked, "--choice", "C0")  # finds its analysis
    assert code == 0, said
    (labeled,) = (project / "videos").glob("mouse_C0DLC_*_labeled.mp4")
    from napari_dlcflow.core.video.reader import open_frames

    with open_frames(labeled) as rendered:
        assert (rendered.meta.n_frames, rendered.meta.height, rendered.meta.width) == (N, 120, 160)
        assert rendered.meta.fps == pytest.approx(1 / DT_S)
    unlabeled = sorted(set(range(N)) - {int(p.stem[3:]) for p in folder.glob("img*.png")})
    code, said = cli(
        "extract-outliers", project, linked, "--choice", "C0", "--criteria", "manual",
        "--frames", str(unlabeled[0]),
    )  # fmt: skip
    assert code == 0, said
    machine = pd.read_hdf(next(folder.glob("machinelabels-iter0.h5")))
    assert [Path(str(r[-1])).stem for r in machine.index] == [f"img{unlabeled[0]:02d}"]

    # the network saw channel 0's pixels: after 8 epochs from scratch on 38 frames it is near
    # its training labels (the tracked parts within a few pixels of 160 x 120 frames)
    err = np.linalg.norm(pred.data[:, :, :2] - xy, axis=-1)
    assert np.nanmedian(err) < 12, np.nanmedian(err)

    # overlay and plots: the points sit on the channel's layer, the plots are in µm and s
    viewer = make_napari_viewer()
    viewer.open(str(ome), plugin="napari-dlcflow")
    image = viewer.layers["mouse [GFP]"] if "mouse [GFP]" in viewer.layers else viewer.layers[0]
    assert_allclose(image.scale, [DT_S, PX_UM, PX_UM])
    _, overlay = viewer.window.add_plugin_dock_widget("napari-dlcflow", "Overlay")
    assert overlay.load(h5)
    points = next(
        lay for lay in viewer.layers if lay.metadata.get("dlcflow_kind") == "predictions"
    )
    assert_allclose(points.scale, image.scale)
    _, plots = viewer.window.add_plugin_dock_widget("napari-dlcflow", "Plots")
    assert plots.units_combo.currentText() == "µm, s"
    plots.view_combo.setCurrentText("speed")
    labels = [(ax.get_xlabel(), ax.get_ylabel()) for ax in plots.canvas.figure.axes]
    assert ("time (s)", "speed (µm/s)") in labels, labels
    viewer.dims.set_current_step(0, 12)
    shot = save_screenshot(viewer, "microscopy-loop")
    assert shot.is_file()
