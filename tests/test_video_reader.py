"""The npe2 video reader: lazy layers for videos and TIFF stacks, None for anything else."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import tifffile

from napari_dlcflow.core.video.reader import FrameSource, VideoError
from napari_dlcflow.napari_common import layer_data_for
from napari_dlcflow.plugin.video_reader import get_video_reader


def test_reader_returns_a_lazy_layer_for_a_real_video(shared_data: Path) -> None:
    video = shared_data / "dlc-openfield" / "videos" / "m3v1mp4.mp4"
    reader = get_video_reader(str(video))
    assert callable(reader)
    ((data, kwargs, kind),) = reader(str(video))
    assert kind == "image" and isinstance(data, FrameSource)
    assert data.shape == (2330, 480, 640, 3) and kwargs["rgb"]
    assert kwargs["name"] == "m3v1mp4" and kwargs["contrast_limits"] == [0, 255]
    meta = kwargs["metadata"]["dlcflow_video"]
    assert meta["n_frames"] == 2330 and meta["codec"] == "h264"
    # nothing but the index was read: the cache holds at most the first frame
    assert len(data._cache._d) <= 1


def test_reader_keeps_16bit_tiff_and_sets_limits(tmp_path: Path) -> None:
    data = np.random.default_rng(0).integers(1000, 5000, (4, 16, 20), dtype=np.uint16)
    p = tmp_path / "stack.tiff"
    tifffile.imwrite(p, data)
    ((src, kwargs, _),) = get_video_reader(str(p))(str(p))  # type: ignore[misc]
    assert src.dtype == np.uint16 and not kwargs["rgb"]
    lo, hi = kwargs["contrast_limits"]
    assert 1000 <= lo < hi <= 5000
    np.testing.assert_array_equal(src[2], data[2])


def test_reader_declines_other_files(tmp_path: Path, shared_data: Path) -> None:
    cfg = shared_data / "dlc-openfield" / "config.yaml"
    assert get_video_reader(str(cfg)) is None
    assert get_video_reader(str(shared_data / "dlc-openfield")) is None  # a project folder
    assert get_video_reader(str(tmp_path / "missing.mp4")) is None
    h5 = next((shared_data / "dlc-openfield" / "labeled-data" / "m4s1").glob("*.h5"))
    assert get_video_reader(str(h5)) is None
    assert get_video_reader([]) is None


def test_reader_error_names_the_file(tmp_path: Path) -> None:
    bad = tmp_path / "broken video.avi"
    bad.write_bytes(b"\x00" * 1000)
    reader = get_video_reader(str(bad))
    assert reader is not None  # by its name it is ours; reading says what is wrong
    with pytest.raises(VideoError, match=r"broken video\.avi"):
        reader(str(bad))
    with pytest.raises(VideoError, match=r"broken video\.avi"):
        layer_data_for(bad)


def test_manifest_reader_claims_videos_not_projects() -> None:
    import npe2

    pm = npe2.PluginManifest.from_distribution("napari-dlcflow")
    (video,) = [r for r in pm.contributions.readers if r.command.endswith("get_video_reader")]
    assert "*.mp4" in video.filename_patterns and "*.avi" in video.filename_patterns
    assert "*.tif" in video.filename_patterns
    assert not video.accepts_directories
    assert not any(p.endswith((".yaml", ".yml", ".h5", ".csv")) for p in video.filename_patterns)


def test_manifest_claims_microscopy_folders_and_files() -> None:
    """OME-Zarr is a folder: a reader of its own accepts directories (the video reader does
    not); ND2, CZI and LIF files go to it too."""
    import npe2

    pm = npe2.PluginManifest.from_distribution("napari-dlcflow")
    (micro,) = [r for r in pm.contributions.readers if r.command.endswith("microscopy_reader")]
    assert micro.accepts_directories
    assert {"*.zarr", "*.nd2", "*.czi", "*.lif"} <= set(micro.filename_patterns)


def test_file_dialogs_offer_every_video_suffix_the_readers_take() -> None:
    """One suffix list: the reader's. The dialogs' filter is made from it (.webm included)."""
    from napari_dlcflow.core.video.reader import VIDEO_SUFFIXES
    from napari_dlcflow.widgets.common.dialogs import VIDEO_FILTER

    offered = VIDEO_FILTER.split("(")[1].split(")")[0].split()
    assert offered == [f"*{s}" for s in VIDEO_SUFFIXES] and "*.webm" in offered
    assert get_video_reader("clip.webm") is None  # not a file: the reader checks it exists


def _lose_image_length(path: Path) -> None:
    """Damage a TIFF as a bad copy can: the first page's ImageLength tag code is overwritten,
    so the page has no height."""
    import struct

    b = bytearray(path.read_bytes())
    ifd = struct.unpack_from("<I", b, 4)[0]
    for k in range(struct.unpack_from("<H", b, ifd)[0]):
        pos = ifd + 2 + 12 * k
        if struct.unpack_from("<H", b, pos)[0] == 257:  # ImageLength
            struct.pack_into("<H", b, pos, 0x01A7)
    path.write_bytes(bytes(b))


def test_damaged_16bit_tiff_is_a_named_error(tmp_path: Path) -> None:
    data = np.random.default_rng(0).integers(1000, 5000, (5, 24, 32), dtype=np.uint16)
    p = tmp_path / "stack.tif"
    tifffile.imwrite(p, data, metadata=None)  # a plain multi-page TIFF, as microscopes write
    _lose_image_length(p)
    # was: IndexError from np.percentile over the empty contrast sample, naming no file
    with pytest.raises(VideoError, match=r"stack\.tif is damaged: its frames are 32x0 pixels"):
        layer_data_for(p)
