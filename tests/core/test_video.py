"""Frame-exact lazy reading of videos, TIFF stacks and image folders (core/video.py)."""

from __future__ import annotations

import hashlib
import shutil
import time
import warnings
from fractions import Fraction
from pathlib import Path

import av
import numpy as np
import pytest
import tifffile

from napari_dlcflow.core.video.reader import (
    FrameSource,
    ImageFolderReader,
    TiffStackReader,
    VariableFrameRateWarning,
    VideoError,
    VideoReader,
    count_frames,
    open_frames,
)

N = 90  # frames in the made-up test videos


def _scene(i: int, h: int = 96, w: int = 128, seed: int = 0) -> np.ndarray:
    """Smooth moving content with a frame-number stamp: encoders choose B-frames for it."""
    rng = np.random.default_rng(seed + i)
    yy, xx = np.mgrid[:h, :w]
    img = np.zeros((h, w, 3), np.uint8)
    img[..., 0] = (xx * 2 + 3 * i) % 256
    img[..., 1] = (yy * 2 + i) % 256
    img[..., 2] = 80
    cy, cx = 30 + (i % 25), 20 + (2 * i) % 80
    img[(yy - cy) ** 2 + (xx - cx) ** 2 < 90] = 250
    img[:8, : 8 + (i % 64)] = 0  # a bar whose length is the frame number
    return np.clip(img.astype(int) + rng.integers(0, 3, img.shape), 0, 255).astype(np.uint8)


def make_video(
    path: Path,
    codec: str = "libx264",
    n: int = N,
    options: dict[str, str] | None = None,
    pix_fmt: str = "yuv420p",
    rate: int = 30,
    pts_steps: list[int] | None = None,
    container_options: dict[str, str] | None = None,
) -> Path:
    """Write a test video with PyAV."""
    with av.open(str(path), "w", options=container_options or {}) as c:
        s = c.add_stream(codec, rate=rate)
        s.width, s.height, s.pix_fmt = 128, 96, pix_fmt
        s.options = options or {}
        if pts_steps is not None:
            s.time_base = Fraction(1, 1000)
            s.codec_context.time_base = Fraction(1, 1000)
        t = 0
        for i in range(n):
            f = av.VideoFrame.from_ndarray(_scene(i), format="rgb24")
            if pts_steps is not None:
                f.pts = t
                f.time_base = Fraction(1, 1000)
                t += pts_steps[i % len(pts_steps)]
            for p in s.encode(f):
                c.mux(p)
        for p in s.encode():
            c.mux(p)
    return path


def remux(src: Path, dest: Path) -> Path:
    """Copy the packets into another container (like ``ffmpeg -c copy``)."""
    from av.bitstream import BitStreamFilterContext

    with av.open(str(src)) as i, av.open(str(dest), "w") as o:
        si = i.streams.video[0]
        so = o.add_stream_from_template(si)
        bsf = BitStreamFilterContext("h264_mp4toannexb", si, so)
        for p in i.demux(si):
            for q in bsf.filter(p if p.dts is not None else None):
                o.mux(q)
    return dest


BFRAMES = {"bf": "3", "g": "30", "x264-params": "keyint=30:min-keyint=30:b-adapt=0"}
OPEN_GOP = {"bf": "3", "g": "30", "x264-params": "keyint=30:min-keyint=30:open-gop=1"}


@pytest.fixture(scope="module")
def videos(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    d = tmp_path_factory.mktemp("videos")
    out = {
        "h264-bframes.mp4": make_video(d / "b.mp4", options=BFRAMES),
        "h264-open-gop.mp4": make_video(d / "open.mp4", options=OPEN_GOP),
        "h264-open-gop.mkv": make_video(d / "open.mkv", options=OPEN_GOP),
        "mjpeg.avi": make_video(d / "mj.avi", codec="mjpeg", pix_fmt="yuvj420p"),
        "ffv1-gray16.mkv": make_video(d / "g16.mkv", codec="ffv1", pix_fmt="gray16le"),
    }
    out["h264-bframes.avi"] = remux(out["h264-bframes.mp4"], d / "b.avi")
    out["h264-open-gop.avi"] = remux(out["h264-open-gop.mp4"], d / "open.avi")
    return out


def _reference(path: Path, fmt: str, wanted: set[int]) -> dict[int, str]:
    """Hashes of frames ``wanted`` from a plain sequential decode (the truth)."""
    out: dict[int, str] = {}
    with av.open(str(path)) as c:
        for i, f in enumerate(c.decode(c.streams.video[0])):
            if i in wanted:
                out[i] = hashlib.sha1(f.to_ndarray(format=fmt).tobytes()).hexdigest()
            if len(out) == len(wanted):
                break
    return out


def _n_decoded(path: Path) -> int:
    with av.open(str(path)) as c:
        return sum(1 for _ in c.decode(c.streams.video[0]))


def _check_exact(path: Path, n_random: int, seed: int = 0) -> VideoReader:
    r = VideoReader(path)
    fmt = r._out_fmt
    rng = np.random.default_rng(seed)
    idx = [int(i) for i in rng.integers(0, len(r), n_random)] + [0, len(r) - 1]
    ref = _reference(path, fmt, set(idx))
    assert len(ref) == len(set(idx))
    wrong = [i for i in idx if hashlib.sha1(r[i].tobytes()).hexdigest() != ref[i]]
    assert not wrong, f"{path.name}: frames {wrong} differ from the sequential decode"
    return r


@pytest.mark.parametrize(
    "name",
    [
        "h264-bframes.mp4",
        "h264-bframes.avi",
        "h264-open-gop.mp4",
        "h264-open-gop.mkv",
        "h264-open-gop.avi",
        "mjpeg.avi",
        "ffv1-gray16.mkv",
    ],
)
def test_random_access_is_exact(videos: dict[str, Path], name: str) -> None:
    path = videos[name]
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", "Video .* open GOPs", UserWarning)
        r = _check_exact(path, 40)
    assert len(r) == _n_decoded(path) == N
    # every frame, backwards: each one is a seek
    ref = _reference(path, r._out_fmt, set(range(N)))
    for i in range(N - 1, -1, -7):
        assert hashlib.sha1(r.frame(i).tobytes()).hexdigest() == ref[i], (name, i)
    r.close()


def test_the_avi_case_is_the_hard_one(videos: dict[str, Path]) -> None:
    """In the AVI the decoder's timestamps are not in presentation order, so any
    timestamp-based reader would go wrong; ours counts instead."""
    with av.open(str(videos["h264-bframes.avi"])) as c:
        pts = [f.pts for f in c.decode(c.streams.video[0])]
    assert pts != sorted(pts)  # B-frames really are there
    with av.open(str(videos["h264-bframes.mp4"])) as c:
        pk = [(p.pts, p.dts) for p in c.demux(c.streams.video[0]) if p.size]
    assert any(p != d for p, d in pk)
    r = VideoReader(videos["h264-bframes.avi"])
    assert r.meta.exact_by == "count" and r.meta.n_frames == N
    assert r.meta.fps == pytest.approx(30.0)
    assert VideoReader(videos["h264-bframes.mp4"]).meta.exact_by == "pts"


def test_metadata(videos: dict[str, Path]) -> None:
    r = VideoReader(videos["h264-bframes.mp4"])
    m = r.meta
    assert (m.n_frames, m.height, m.width, m.codec, m.channels) == (N, 96, 128, "h264", 3)
    assert m.fps == pytest.approx(30.0) and not m.vfr
    assert r.shape == (N, 96, 128, 3) and r.dtype == np.uint8 and r.ndim == 4
    assert r.keyframes[:3] == [0, 30, 60]
    g = VideoReader(videos["ffv1-gray16.mkv"])
    assert g.shape == (N, 96, 128) and g.dtype == np.uint16
    assert g[5].max() > 255  # 16-bit samples, not scaled to 8 bit


def test_indexing_like_an_array(videos: dict[str, Path]) -> None:
    r = VideoReader(videos["mjpeg.avi"])
    full = np.stack([r.frame(i) for i in range(N)])
    np.testing.assert_array_equal(r[-1], full[-1])
    np.testing.assert_array_equal(r[2:9:3], full[2:9:3])
    np.testing.assert_array_equal(r[4, 10:20, 5:9], full[4, 10:20, 5:9])
    np.testing.assert_array_equal(r[[7, 1, 3], ..., 0], full[[7, 1, 3], ..., 0])
    assert r[5:5].shape == (0, 96, 128, 3)
    with pytest.raises(IndexError, match=r"mj\.avi"):
        r[N]
    assert not r[3].flags.writeable  # cached frames cannot be changed by a caller


def test_stepping_forward_continues_the_decoder(videos: dict[str, Path]) -> None:
    r = VideoReader(videos["h264-bframes.mp4"], cache_frames=8)
    r.frame(10)
    cursor = r._cursor
    for i in range(11, N):
        r.frame(i)
        assert r._cursor is cursor, f"stepping to frame {i} re-seeked"
    assert len(r._cache._d) <= 8  # memory stays bounded
    r.frame(3)  # going back seeks
    assert r._cursor is not cursor


def test_decode_ahead_fills_the_cache_with_exact_frames(videos: dict[str, Path]) -> None:
    path = videos["h264-bframes.avi"]
    r = VideoReader(path, prefetch=6)
    r.frame(20)
    r.frame(21)
    deadline = time.monotonic() + 10
    while not all(i in r._cache for i in range(22, 28)) and time.monotonic() < deadline:
        time.sleep(0.01)
    assert all(i in r._cache for i in range(22, 28))
    ref = _reference(path, "rgb24", set(range(20, 28)))
    for i in range(20, 28):
        assert hashlib.sha1(r._cache.get(i).tobytes()).hexdigest() == ref[i]
    r.close()
    assert not r._prefetch_thread.is_alive()


def test_iter_av_frames_gives_every_frame_once(videos: dict[str, Path]) -> None:
    path = videos["h264-open-gop.mp4"]
    r = VideoReader(path)
    got = [(i, f.to_ndarray(format="rgb24")) for i, f in r.iter_av_frames(37, 64)]
    assert [i for i, _ in got] == list(range(37, 64))
    ref = _reference(path, "rgb24", set(range(37, 64)))
    assert all(hashlib.sha1(a.tobytes()).hexdigest() == ref[i] for i, a in got)


def test_variable_frame_rate_is_detected(tmp_path: Path) -> None:
    cfr = make_video(tmp_path / "cfr.mp4", n=30, pts_steps=[40])
    vfr = make_video(tmp_path / "vfr.mp4", n=30, pts_steps=[40, 40, 90])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert not VideoReader(cfr).meta.vfr
    with pytest.warns(VariableFrameRateWarning, match="vfr.mp4"):
        r = VideoReader(vfr)
    assert r.meta.vfr and r.meta.n_frames == 30
    _check_exact(vfr, 10)


ODD_NAME = "my video #1 & ü.mp4"


def test_errors_name_the_file(tmp_path: Path, videos: dict[str, Path]) -> None:
    empty = tmp_path / "empty.mp4"
    empty.write_bytes(b"")
    with pytest.raises(VideoError, match=r"empty\.mp4.*empty"):
        VideoReader(empty)
    text = tmp_path / "notes.avi"
    text.write_text("this is not a video\n" * 50)
    with pytest.raises(VideoError, match=r"notes\.avi"):
        VideoReader(text)
    with pytest.raises(VideoError, match="does not exist"):
        VideoReader(tmp_path / "missing.mp4")
    # no moov atom: the MP4 index is at the end and got cut off
    src = videos["h264-bframes.mp4"]
    cut = tmp_path / "cut.mp4"
    cut.write_bytes(src.read_bytes()[: src.stat().st_size // 2])
    with pytest.raises(VideoError, match=r"cut\.mp4"):
        VideoReader(cut)
    # index at the front (faststart), data cut off
    fast = make_video(
        tmp_path / "fast.mp4", options=BFRAMES, container_options={"movflags": "faststart"}
    )
    data = fast.read_bytes()
    assert data.find(b"moov") < data.find(b"mdat")
    cut2 = tmp_path / ODD_NAME
    cut2.write_bytes(data[: int(len(data) * 0.6)])
    with pytest.raises(VideoError, match=r"my video #1 & ü\.mp4 is truncated"):
        VideoReader(cut2)
    # AVI cut short
    avi = videos["mjpeg.avi"].read_bytes()
    cut3 = tmp_path / "cut.avi"
    cut3.write_bytes(avi[: int(len(avi) * 0.6)])
    with pytest.raises(VideoError, match=r"cut\.avi.*truncated"):
        VideoReader(cut3)


def test_odd_path_characters_open(tmp_path: Path, videos: dict[str, Path]) -> None:
    p = tmp_path / "dir with space & #hash" / ODD_NAME
    p.parent.mkdir()
    shutil.copy(videos["h264-bframes.mp4"], p)
    _check_exact(p, 5)


# --- real videos from ../shared/data -------------------------------------------------------


@pytest.mark.parametrize(
    ("rel", "n_frames", "size"),
    [
        ("dlc-openfield/videos/m3v1mp4.mp4", 2330, (480, 640)),
        ("sleap-tests/videos/centered_pair_small.mp4", 1100, (384, 384)),
        ("sleap-tests/videos/small_robot.mp4", 166, (320, 560)),
        ("sleap-tests/tracks/clip.mp4", 1500, (1024, 1024)),
    ],
)
def test_real_videos_are_exact(
    shared_data: Path, rel: str, n_frames: int, size: tuple[int, int]
) -> None:
    path = shared_data / rel
    r = _check_exact(path, 25, seed=n_frames)
    assert r.meta.n_frames == n_frames
    assert (r.meta.height, r.meta.width) == size
    assert not r.meta.vfr


# --- TIFF stacks and image folders -----------------------------------------------------------


def _stack16(n: int = 12) -> np.ndarray:
    rng = np.random.default_rng(1)
    return rng.integers(0, 65535, (n, 40, 50), dtype=np.uint16)


@pytest.mark.parametrize("compression", [None, "zlib"])
def test_tiff_stack_16bit_is_kept(tmp_path: Path, compression: str | None) -> None:
    data = _stack16()
    p = tmp_path / "stack 16bit.tif"
    tifffile.imwrite(p, data, compression=compression)
    r = open_frames(p)
    assert isinstance(r, TiffStackReader)
    assert r.shape == data.shape and r.dtype == np.uint16
    assert (r._memmap is not None) == (compression is None)  # uncompressed: memory-mapped
    for i in (7, 0, 11, 3):
        np.testing.assert_array_equal(r[i], data[i])
    np.testing.assert_array_equal(r[2:5, 3:9, 1:4], data[2:5, 3:9, 1:4])
    assert r[4].max() > 255
    r.close()


def test_tiff_rgb_and_errors(tmp_path: Path) -> None:
    rgb = np.random.default_rng(2).integers(0, 255, (5, 20, 30, 3), dtype=np.uint8)
    p = tmp_path / "rgb.tif"
    tifffile.imwrite(p, rgb, photometric="rgb")
    r = TiffStackReader(p)
    assert r.shape == rgb.shape and r.rgb
    np.testing.assert_array_equal(r[3], rgb[3])
    bad = tmp_path / "bad.tif"
    bad.write_bytes(b"II*\x00garbage" * 3)
    with pytest.raises(VideoError, match=r"bad\.tif"):
        TiffStackReader(bad)
    f32 = tmp_path / "float.tif"
    tifffile.imwrite(f32, np.zeros((2, 4, 4), np.float32))
    with pytest.raises(VideoError, match="float32"):
        TiffStackReader(f32)


def test_image_folder_in_natural_order(tmp_path: Path) -> None:
    from PIL import Image

    frames = [np.full((12, 16), 10 * i, np.uint8) for i in range(12)]
    for i, a in enumerate(frames):
        Image.fromarray(a).save(tmp_path / f"img{i}.png")  # img10 sorts after img9
    (tmp_path / "notes.txt").write_text("ignored")
    r = open_frames(tmp_path)
    assert isinstance(r, ImageFolderReader)
    assert r.shape == (12, 12, 16)
    assert [int(r[i][0, 0]) for i in range(12)] == [10 * i for i in range(12)]
    Image.fromarray(np.zeros((5, 5), np.uint8)).save(tmp_path / "img99.png")
    r = ImageFolderReader(tmp_path)
    with pytest.raises(VideoError, match=r"img99\.png"):
        r[12]
    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(VideoError, match="holds no images"):
        ImageFolderReader(empty)


def test_damaged_image_in_a_folder_is_a_named_error_on_its_frame(tmp_path: Path) -> None:
    """A truncated or undecodable PNG in the middle of a labeled-data folder: the folder
    opens (in natural order), the other frames read, and that frame's error names the file
    and the problem (PIL's UnidentifiedImageError or a bare "image file is truncated" named
    none when the labeling layer read the folder itself)."""
    from PIL import Image

    frames = [np.full((12, 16, 3), 10 * i, np.uint8) for i in range(12)]
    for i, a in enumerate(frames):
        Image.fromarray(a).save(tmp_path / f"img{i}.png")
    raw = (tmp_path / "img5.png").read_bytes()
    (tmp_path / "img5.png").write_bytes(raw[: len(raw) // 2])  # a copy cut short
    (tmp_path / "img10.png").write_bytes(raw[:8] + bytes(len(raw) - 8))  # zeroed but its start
    r = ImageFolderReader(tmp_path)
    assert [f.name for f in r.files] == [f"img{i}.png" for i in range(12)]
    with pytest.raises(VideoError, match=r"img5\.png cannot be read .*truncated"):
        r[5]
    with pytest.raises(VideoError, match=r"img10\.png cannot be read \(damaged"):
        r[10]
    for i in (4, 6, 9, 11):
        np.testing.assert_array_equal(r[i], frames[i])


@pytest.mark.parametrize(
    "name", ["h264-bframes.avi", "h264-open-gop.avi", "h264-open-gop.mkv", "mjpeg.avi"]
)
def test_count_frames_is_the_decoded_count(videos: dict[str, Path], name: str) -> None:
    """One count for extraction and analysis: what a decoder returns, not the header."""
    from napari_dlcflow.core.engine.analysis import count_frames as analysis_count
    from napari_dlcflow.core.video.extract import count_frames as extract_count

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        n = count_frames(videos[name])
    assert n == _n_decoded(videos[name]) == N
    assert analysis_count is extract_count is count_frames


def test_count_frames_names_a_bad_file(tmp_path: Path) -> None:
    bad = tmp_path / "cut.mp4"
    bad.write_bytes(b"\x00\x00\x00\x18ftypmp42" + bytes(100))
    with pytest.raises(VideoError, match=r"cut\.mp4"):
        count_frames(bad)


def test_a_frame_source_must_read_frames() -> None:
    class NoFrames(FrameSource):
        pass

    with pytest.raises(TypeError, match="abstract"):
        NoFrames()  # type: ignore[abstract]
