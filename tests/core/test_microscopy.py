"""Microscopy time-lapses as frame-exact sources: OME-TIFF, ImageJ hyperstacks and OME-Zarr
built from real video frames (16-bit, 2 channels, 20 time points, 0.65 µm, 0.5 s), their
channel/z/scene choice and its identity text, and the bad inputs of issue 25."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest
import tifffile

from _microscopy_files import (
    DT_S,
    PX_UM,
    real_tcyx,
    write_imagej,
    write_ome_tiff,
    write_ome_zarr,
)
from napari_dlcflow.core.video.microscopy import (
    Choice,
    MicroscopySource,
    describe,
    is_microscopy,
    parse_choice,
)
from napari_dlcflow.core.video.reader import TiffStackReader, VideoError, open_frames


@pytest.fixture(scope="module")
def tcyx(shared_data: Path) -> np.ndarray:
    return real_tcyx(shared_data)


@pytest.fixture(scope="module")
def files(tcyx: np.ndarray, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("microscopy")
    return {
        "ome-tiff": write_ome_tiff(folder / "cells 2ch.ome.tif", tcyx),
        "imagej-tiff": write_imagej(folder / "cells hyperstack.tif", tcyx),
        "ome-zarr": write_ome_zarr(folder / "cells.ome.zarr", tcyx),
    }


@pytest.mark.parametrize("kind", ["ome-tiff", "imagej-tiff", "ome-zarr"])
def test_two_channels_open_as_20_frames_of_the_chosen_channel(
    files: dict[str, Path], tcyx: np.ndarray, kind: str
) -> None:
    path = files[kind]
    assert is_microscopy(path)
    info = describe(path)
    assert (info.format, info.axes, info.size("T"), info.size("C")) == (kind, "TCYX", 20, 2)
    for c in (0, 1):
        with open_frames(path, channel=c) as src:
            assert isinstance(src, MicroscopySource)
            assert src.shape == (20, 48, 64) and src.dtype == np.uint16 and not src.rgb
            assert src.pixel_size_um == pytest.approx(PX_UM)
            assert src.frame_interval_s == pytest.approx(DT_S)
            assert src.meta.pixel_size_um == pytest.approx(PX_UM)
            assert src.meta.fps == pytest.approx(2.0) and src.identity == f"C{c}"
            assert src.meta.as_dict()["choice"] == f"C{c}"
            for t in (7, 0, 19, 3, 19, 8):  # random access, repeats from the cache
                np.testing.assert_array_equal(src[t], tcyx[t, c])
            np.testing.assert_array_equal(src[2:5, 10:20], tcyx[2:5, c, 10:20])
            assert not src[4].flags.writeable
    if kind == "ome-tiff":
        assert info.channel_names == ("GFP", "RFP")


def test_no_channel_mixed_into_time_anywhere(files: dict[str, Path]) -> None:
    for kind in ("ome-tiff", "imagej-tiff"):
        path = files[kind]
        with pytest.raises(VideoError, match=r"has 2 channels .*channel=k"):
            open_frames(path)  # never 40 frames alternating between channels
        with pytest.raises(VideoError, match=r"axes TCYX .*channel="):
            TiffStackReader(path)


def test_z_projection_and_plane(tcyx: np.ndarray, tmp_path: Path) -> None:
    tczyx = np.stack([tcyx, tcyx // 2 + 5, tcyx // 3], axis=2)  # 3 z-planes
    path = write_ome_tiff(tmp_path / "z.ome.tif", tczyx, "TCZYX")
    with pytest.raises(VideoError, match=r"3 z-planes: choose one with z=k .*'max'"):
        MicroscopySource(path, channel=0)
    with MicroscopySource(path, channel=1, z="max") as src:
        assert src.identity == "C1_Zmax" and src.shape == (20, 48, 64)
        np.testing.assert_array_equal(src[6], tczyx[6, 1].max(axis=0))
    with MicroscopySource(path, "C0_Zmean") as src:
        want = np.rint(tczyx[11, 0].astype(float).mean(axis=0)).astype(np.uint16)
        np.testing.assert_array_equal(src[11], want)
    with MicroscopySource(path, channel=0, z=2) as src:
        assert src.identity == "C0_Z2"
        np.testing.assert_array_equal(src[13], tczyx[13, 0, 2])
    zarr_path = write_ome_zarr(tmp_path / "z.zarr", tczyx, "tczyx")
    with MicroscopySource(zarr_path, channel=1, z="max") as src:
        np.testing.assert_array_equal(src[6], tczyx[6, 1].max(axis=0))


def test_rgb_merge_with_chosen_colours(files: dict[str, Path], tcyx: np.ndarray) -> None:
    with MicroscopySource(files["ome-zarr"], channel=(0, 1), colors=("red", "c")) as src:
        assert src.shape == (20, 48, 64, 3) and src.rgb and src.dtype == np.uint8
        assert src.identity == "C0r+C1c"
        frame = src[9]
    lims = []
    for c in (0, 1):
        sample = tcyx[[0, 10, 19], c]
        lo, hi = np.percentile(sample, [0.1, 99.9])
        lims.append(np.clip((tcyx[9, c].astype(np.float32) - lo) / (hi - lo), 0, 1))
    want = np.stack([lims[0], lims[1], lims[1]], axis=-1)  # red + cyan
    np.testing.assert_allclose(frame / 255.0, np.clip(want, 0, 1), atol=1 / 255 + 1e-6)
    with MicroscopySource(files["ome-tiff"], "C1+C0") as src:  # default colours: green, magenta
        assert src.identity == "C1+C0"
        f = src[3].astype(int)
        assert (f[..., 0] == f[..., 2]).all()  # magenta from channel 0 only: red == blue


def test_identity_text_round_trip() -> None:
    cases = {
        "C1": Choice(channels=(1,)),
        "C0+C1": Choice(channels=(0, 1)),
        "C0r+C2": Choice(channels=(0, 2), colors=("r", "m")),
        "Zmax": Choice(z="max"),
        "Z3": Choice(z=3),
        "S0": Choice(scene=0),
        "S2_C0+C1_Zmean": Choice(channels=(0, 1), z="mean", scene=2),
        "": Choice(),
    }
    for text, choice in cases.items():
        assert choice.text == text
        assert parse_choice(text) == choice
        assert parse_choice(choice.text).text == text
    assert parse_choice("C0g+C1m") == Choice(channels=(0, 1))  # the default colours
    for bad in ("C", "X1", "C0q+C1", "Zmin", "S0__C1x"):
        with pytest.raises(ValueError, match=r"choice|colour"):
            parse_choice(bad)


def test_single_channel_time_series_needs_no_choice(tcyx: np.ndarray, tmp_path: Path) -> None:
    path = write_ome_tiff(tmp_path / "one.ome.tif", tcyx[:, 0], "TYX")
    with open_frames(path) as src:
        assert isinstance(src, MicroscopySource) and src.identity == ""
        assert src.shape == (20, 48, 64) and src.pixel_size_um == pytest.approx(PX_UM)
        np.testing.assert_array_equal(src[17], tcyx[17, 0])


# --- bad input: a clear message naming the file and the problem ---------------------------
def test_ome_metadata_that_disagrees_with_the_pages(
    files: dict[str, Path], tmp_path: Path
) -> None:
    with tifffile.TiffFile(files["ome-tiff"]) as tf:
        xml = tf.ome_metadata
    for size_t, what in (("30", r"60 planes, 20 of them absent"), ("10", r"20 planes, the file")):
        bad = tmp_path / f"bad {size_t}.ome.tif"
        shutil.copy(files["ome-tiff"], bad)
        tifffile.tiffcomment(bad, comment=xml.replace('SizeT="20"', f'SizeT="{size_t}"').encode())
        with pytest.raises(
            VideoError, match=rf"bad {size_t}\.ome\.tif: its OME metadata disagrees .*{what}"
        ):
            open_frames(bad, channel=0)


def test_missing_zarr_chunk(files: dict[str, Path], tcyx: np.ndarray, tmp_path: Path) -> None:
    bad = tmp_path / "copied.ome.zarr"
    shutil.copytree(files["ome-zarr"], bad)
    (bad / "0" / "c" / "5" / "1" / "0" / "0").unlink()
    with open_frames(bad, channel=1) as src:
        np.testing.assert_array_equal(src[4], tcyx[4, 1])
        with pytest.raises(VideoError, match=r"copied\.ome\.zarr: chunk 0/c/5/1/0/0 of plane t=5"):
            src[5]  # never a blank frame
    with open_frames(bad, channel=0) as src:
        assert src[5].any()


def test_missing_tile_of_a_plane(tcyx: np.ndarray, tmp_path: Path) -> None:
    """A plane in 2 x 2 chunks with one missing: the blank tile is found, the rest of the plane
    holds data."""
    tiled = write_ome_zarr(tmp_path / "tiled.ome.zarr", tcyx[:, :, :48, :64], tile=32)
    (tiled / "0" / "c" / "3" / "0" / "1" / "1").unlink()  # time 3, channel 0, bottom right
    with open_frames(tiled, channel=0) as src:
        np.testing.assert_array_equal(src[2], tcyx[2, 0, :48, :64])
        with pytest.raises(VideoError, match=r"chunk 0/c/3/0/1/1 of plane t=3"):
            src[3]


def test_undeclared_axis_order_asks_for_axes(tcyx: np.ndarray, tmp_path: Path) -> None:
    plain = tmp_path / "plain 4d.tif"
    tifffile.imwrite(plain, tcyx)  # shape only, no OME or ImageJ axes
    assert not is_microscopy(plain)
    with pytest.raises(
        VideoError, match=r"plain 4d\.tif does not declare its axis order.*axes='TCYX'"
    ):
        open_frames(plain)
    with pytest.raises(VideoError, match=r"plain 4d\.tif does not declare its axis order.*axes="):
        MicroscopySource(plain, channel=0)
    with open_frames(plain, axes="TCYX", channel=1) as src:  # told: read as said
        assert src.info.axes_from == "axes=" and src.pixel_size_um is None
        np.testing.assert_array_equal(src[12], tcyx[12, 1])


def test_channel_scene_and_plane_past_the_end(files: dict[str, Path]) -> None:
    path = files["ome-tiff"]
    with pytest.raises(
        VideoError,
        match=r"cells 2ch\.ome\.tif: channel 2 is past the end: it has 2 channel\(s\) "
        r"\(0: GFP, 1: RFP\)",
    ):
        MicroscopySource(path, channel=2)
    with pytest.raises(VideoError, match=r"cells\.ome\.zarr: channel 5 is past the end"):
        MicroscopySource(files["ome-zarr"], channel=(0, 5))
    with pytest.raises(VideoError, match=r"scene 3 is past the end \(1 scene"):
        MicroscopySource(path, channel=0, scene=3)
    with pytest.raises(VideoError, match=r"z-plane 1 is past the end"):
        MicroscopySource(path, channel=0, z=1)


def test_3d_stack_without_time_axis(tcyx: np.ndarray, tmp_path: Path) -> None:
    zyx = tcyx[:12, 0]
    for path in (
        write_ome_tiff(tmp_path / "zstack.ome.tif", zyx, "ZYX"),
        write_imagej(tmp_path / "zstack ij.tif", zyx, "ZYX"),
        write_ome_zarr(tmp_path / "zstack.zarr", zyx, "zyx"),
    ):
        with pytest.raises(
            VideoError, match=rf"{path.name} has no time axis: its axes are ZYX.*axes='TYX'"
        ):
            open_frames(path)
    with open_frames(tmp_path / "zstack.ome.tif", axes="TYX") as src:  # the user says: time
        assert len(src) == 12
        np.testing.assert_array_equal(src[4], zyx[4])


def test_probe_counts_time_points_not_pages(files: dict[str, Path], tcyx: np.ndarray) -> None:
    from napari_dlcflow.core.video.probe import probe_video

    for kind, path in files.items():
        info = probe_video(path)
        assert (info.n_frames_header, info.width, info.height) == (20, 64, 48), kind
        assert info.fps == pytest.approx(1 / DT_S) and info.codec == kind
    plain = files["ome-tiff"].parent / "plain 3d.tif"
    tifffile.imwrite(plain, tcyx[:, 0], metadata=None)
    assert probe_video(plain).n_frames_header == 20  # pages of a plain stack are time points


@pytest.mark.filterwarnings("ignore:As of version 0.4.0:DeprecationWarning")  # bioio-ome-tiff
def test_bioio_backend_reads_the_same_planes(files: dict[str, Path], tcyx: np.ndarray) -> None:
    """The backend for ND2, CZI and LIF (no sample file of those here): bioio's dims and
    physical sizes, checked through bioio-ome-tiff on the OME-TIFF."""
    from napari_dlcflow.core.video.microscopy import _BioioPlanes

    planes = _BioioPlanes(files["ome-tiff"], 0, None)
    info = planes.info
    assert (info.size("T"), info.size("C"), info.size("Z")) == (20, 2, 1)
    assert info.axes_from == "bioio metadata" and info.pixel_size_um == pytest.approx(PX_UM)
    assert info.channel_names == ("GFP", "RFP")
    for t, c in ((0, 0), (13, 1), (19, 0)):
        np.testing.assert_array_equal(planes.plane(t, c, 0), tcyx[t, c])
    with pytest.raises(VideoError, match=r"axes= is for files that do not declare"):
        _BioioPlanes(files["ome-tiff"], 0, "TCYX")
