"""ROI crop + contrast + encode (core/preprocess.py) and the ``preprocess`` CLI."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import av
import numpy as np
import pytest
import tifffile

from napari_dlcflow.core.video.preprocess import (
    ContrastParams,
    OutputParams,
    PreprocessCancelled,
    PreprocessError,
    PreprocessSpec,
    Roi,
    apply_contrast,
    imagej_equalize_lut,
    imagej_histogram,
    imagej_limits,
    imagej_lut,
    preprocess_batch,
    preprocess_video,
    read_sidecar,
)
from napari_dlcflow.core.video.reader import VideoReader

# --- ImageJ's stretch on a known histogram -------------------------------------------------------


def test_imagej_limits_on_a_known_histogram() -> None:
    # 10,000 pixels: 20 at 0, 15 at 1, the rest at 50..149, 30 at 255.
    h = np.zeros(256, np.int64)
    h[0], h[1], h[255] = 20, 15, 30
    h[50:150] = (10000 - 65) // 100
    h[50] += (10000 - 65) % 100
    assert h.sum() == 10000
    # saturated 0.35 % -> threshold int(10000 * 0.35 / 200) = 17 pixels per end
    # from the bottom: 20 > 17 at bin 0; from the top: 30 > 17 at bin 255 -> no stretch
    assert imagej_limits(h, 0.35) == (0, 255)
    # saturated 1 % -> threshold 50: bottom 20+15+(99+35)=... first bin where count > 50 is 50
    assert imagej_limits(h, 1.0) == (50, 149)
    # threshold 0: first and last non-empty bins
    assert imagej_limits(h, 0.0) == (0, 255)


def test_imagej_display_lut_matches_imagej_formula() -> None:
    lut = imagej_lut(50, 149)
    # ByteProcessor.setMinAndMax: int(256 * (v - min) / (max - min)), clipped
    assert lut[49] == 0 and lut[50] == 0
    assert lut[100] == int(256 * 50 / 99) == 129
    assert lut[148] == int(256 * 98 / 99) == 253
    assert lut[149] == 255 and lut[200] == 255
    # ContrastEnhancer.normalize: int((v - min) / (max - min) * 255), ends pinned
    n = imagej_lut(50, 149, normalize=True)
    assert n[50] == 0 and n[149] == 255
    assert n[100] == int(50 / 99 * 255) == 128
    # 16-bit into 8 bits: ShortProcessor.create8BitImage, int((v - min) * 256/(max-min+1) + .5)
    s = imagej_lut(1000, 3000, in_bits=16, out_bits=8)
    assert s[999] == 0 and s[1000] == 0
    assert s[2000] == int(1000 * 256 / 2001 + 0.5) == 128
    assert s[60000] == 255  # above max: 255, never wraps
    assert s.dtype == np.uint8


def test_imagej_rgb_histogram_uses_unweighted_mean() -> None:
    px = np.array([[[10, 20, 31], [255, 255, 255]]], np.uint8)
    h = imagej_histogram(px)
    assert h[20] == 1  # int(61/3 + 0.5) = int(20.83) = 20
    assert h[255] == 1 and h.sum() == 2


def test_stretch_of_a_frame_end_to_end() -> None:
    rng = np.random.default_rng(0)
    frame = rng.integers(60, 140, (100, 100), dtype=np.uint8)
    out = apply_contrast(frame, ContrastParams(method="imagej", saturated=0.35))
    lo, hi = imagej_limits(np.bincount(frame.ravel(), minlength=256), 0.35)
    np.testing.assert_array_equal(out, imagej_lut(lo, hi)[frame])
    assert out.min() == 0 and out.max() == 255


def test_equalize_matches_imagej_on_a_small_histogram() -> None:
    h = np.zeros(256, np.int64)
    h[10], h[20], h[30] = 4, 9, 1
    lut = imagej_equalize_lut(h)
    # ImageJ: weights sqrt(4)=2, sqrt(9)=3, 1 (count < 2 stays); sum = w0 + 2*sum(w1..254) + w255
    total = 2 * (2 + 3 + 1)
    scale = 255 / total

    def java_round(x: float) -> int:  # Math.round: floor(x + 0.5), not banker's rounding
        return int(np.floor(x + 0.5))

    assert lut[10] == java_round((0 + 2 * 0 + 2) * scale) == 43
    assert lut[20] == java_round((2 * 2 + 3) * scale)
    assert lut[30] == java_round((2 * 5 + 1) * scale)
    assert lut[0] == 0 and lut[255] == 255


def test_gamma_and_none_and_clahe_shapes() -> None:
    frame = np.tile(np.arange(256, dtype=np.uint8), (64, 1))
    g = apply_contrast(frame, ContrastParams(method="gamma", gamma=0.5))
    assert g[0, 64] == int(np.floor(255 * (64 / 255) ** 0.5 + 0.5))
    roi = Roi(10, 5, 40, 20)
    n = apply_contrast(frame, ContrastParams(method="none"), roi=roi)
    np.testing.assert_array_equal(n, frame[5:25, 10:50])
    c = apply_contrast(np.dstack([frame] * 3), ContrastParams(method="clahe"), roi=roi)
    assert c.shape == (20, 40, 3) and c.dtype == np.uint8


def test_16bit_to_8bit_scales_never_wraps() -> None:
    frame = np.linspace(0, 65535, 200 * 100).astype(np.uint16).reshape(200, 100)
    for method in ("imagej", "none", "equalize", "gamma"):
        out = apply_contrast(frame, ContrastParams(method=method))
        assert out.dtype == np.uint8
        # monotonic in the input: a wrap would break it
        flat = out.ravel()
        assert np.all(np.diff(flat.astype(int)) >= 0), method
    out16 = apply_contrast(frame, ContrastParams(method="imagej", normalize=True), out_bits=16)
    assert out16.dtype == np.uint16 and out16.max() == 65535


def test_roi_checks() -> None:
    with pytest.raises(PreprocessError, match=r"clip\.mp4.*outside"):
        Roi(600, 0, 100, 100).check(640, 480, "clip.mp4")
    with pytest.raises(PreprocessError, match="empty"):
        Roi(0, 0, 0, 10).check(640, 480, "clip.mp4")
    assert Roi(1, 3, 401, 399).even() == Roi(1, 3, 400, 398)
    assert Roi.parse("10, 20,400,300") == Roi(10, 20, 400, 300)
    with pytest.raises(PreprocessError, match="X,Y,WIDTH,HEIGHT"):
        Roi.parse("10,20")


# --- whole videos -------------------------------------------------------------------------------


def _video(path: Path, n: int = 24, w: int = 96, h: int = 80) -> Path:
    rng = np.random.default_rng(5)
    with av.open(str(path), "w") as c:
        s = c.add_stream("libx264", rate=25)
        s.width, s.height, s.pix_fmt = w, h, "yuv420p"
        s.options = {"crf": "10"}
        for i in range(n):
            img = rng.integers(70, 130, (h, w), dtype=np.uint8)
            img[:, : 4 + i] = 90
            f = av.VideoFrame.from_ndarray(np.dstack([img] * 3), format="rgb24")
            for p in s.encode(f):
                c.mux(p)
        for p in s.encode():
            c.mux(p)
    return path


SPEC = PreprocessSpec(
    roi=Roi(10, 6, 51, 41),
    contrast=ContrastParams(method="imagej", saturated=0.5, normalize=True, sample_frames=7),
    output=OutputParams(codec="h264", crf=12, preset="veryfast"),
)


def test_sidecar_round_trip_is_lossless(tmp_path: Path) -> None:
    src = _video(tmp_path / "in video #1 & ü.mp4")
    out = preprocess_video(src, tmp_path / "out", SPEC)
    assert out.name == "in video #1 & ü_pre.mp4"
    spec, record = read_sidecar(out)
    # the ROI was made even for H.264, everything else exactly as given
    assert spec.roi == Roi(10, 6, 50, 40)
    assert spec.contrast == SPEC.contrast and spec.output == SPEC.output
    assert PreprocessSpec.from_dict(json.loads(json.dumps(spec.to_dict()))) == spec
    assert record["source"] == str(src.resolve())
    assert record["frames"] == 24
    assert {"napari-dlcflow", "av", "numpy", "ffmpeg"} <= set(record["versions"])
    lo, hi = record["measured"]["imagej_min_max"]
    assert 60 <= lo < hi <= 140
    r = VideoReader(out)
    assert (len(r), r.meta.height, r.meta.width) == (24, 40, 50)
    # contrast really stretched: the output uses (nearly) the full range
    f = r[12]
    assert f.min() <= 10 and f.max() >= 245
    # applying the recorded spec to the same source again gives the same pixels
    again = preprocess_video(src, tmp_path / "again", spec)
    np.testing.assert_array_equal(VideoReader(again)[5], r[5])


def test_lossless_keeps_16bit_tiff(tmp_path: Path) -> None:
    rng = np.random.default_rng(3)
    data = rng.integers(1000, 40000, (6, 32, 48), dtype=np.uint16)
    src = tmp_path / "stack.tif"
    tifffile.imwrite(src, data)
    spec = PreprocessSpec(
        roi=Roi(3, 2, 21, 17),
        contrast=ContrastParams(method="none"),
        output=OutputParams(codec="lossless"),
    )
    out = preprocess_video(src, tmp_path / "o", spec)
    assert out.suffix == ".mkv"
    r = VideoReader(out)
    assert r.dtype == np.uint16 and len(r) == 6
    np.testing.assert_array_equal(r[4], data[4, 2:19, 3:24])  # odd sizes fine when lossless


def test_bad_inputs_name_the_file(tmp_path: Path) -> None:
    src = _video(tmp_path / "a.mp4")
    with pytest.raises(PreprocessError, match=r"a\.mp4.*outside"):
        preprocess_video(src, tmp_path / "o", PreprocessSpec(roi=Roi(90, 0, 20, 20)))
    junk = tmp_path / "junk.mp4"
    junk.write_text("not a video")
    from napari_dlcflow.core.video.reader import VideoError

    with pytest.raises(VideoError, match=r"junk\.mp4"):
        preprocess_video(junk, tmp_path / "o", SPEC)
    with pytest.raises(PreprocessError, match="overwrite the source"):
        preprocess_video(
            src, tmp_path, PreprocessSpec(output=OutputParams(suffix=""), roi=Roi(0, 0, 8, 8))
        )
    assert not list((tmp_path / "o").glob("*")) if (tmp_path / "o").exists() else True


def test_batch_with_cancel_leaves_no_partial_output(tmp_path: Path) -> None:
    srcs = [_video(tmp_path / f"v{i}.mp4", n=30) for i in range(3)]
    out_dir = tmp_path / "out"
    seen: list[tuple[int, int, int]] = []

    def stop() -> bool:
        # cancel in the middle of the second video
        return any(k == 1 and done >= 10 for k, done, _ in seen)

    results = preprocess_batch(
        [(s, SPEC) for s in srcs],
        out_dir,
        on_progress=lambda k, d, t: seen.append((k, d, t)),
        should_stop=stop,
    )
    assert [r.ok for r in results] == [True, False, False]
    assert [r.cancelled for r in results] == [False, True, True]
    assert sorted(p.name for p in out_dir.iterdir()) == ["v0_pre.mp4", "v0_pre.mp4.dlcflow.json"]
    assert seen[-1][0] == 1 and (0, 30, 30) in seen
    # sources untouched, readable
    assert all(len(VideoReader(s)) == 30 for s in srcs)
    # a failing video does not stop the batch
    bad = tmp_path / "bad.avi"
    bad.write_bytes(b"RIFF0000AVI junk")
    results = preprocess_batch([(bad, SPEC), (srcs[2], SPEC)], out_dir)
    assert results[0].error and "bad.avi" in results[0].error
    assert results[1].ok and results[1].output == out_dir / "v2_pre.mp4"


def test_cancel_raises_and_cleans_up(tmp_path: Path) -> None:
    src = _video(tmp_path / "c.mp4")
    calls = iter(range(100))
    with pytest.raises(PreprocessCancelled):
        preprocess_video(src, tmp_path / "o", SPEC, should_stop=lambda: next(calls) >= 5)
    assert list((tmp_path / "o").iterdir()) == []


def test_full_disk_leaves_nothing(tmp_path: Path) -> None:
    """A file-size limit makes writes fail with EFBIG mid-encode, as a full disk would."""
    src = _video(tmp_path / "d.mp4", n=40, w=320, h=240)
    out_dir = tmp_path / "o"
    out_dir.mkdir()
    code = f"""
import resource, signal, sys
signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
from napari_dlcflow.core.video.preprocess import *
spec = PreprocessSpec(contrast=ContrastParams(method="none"),
                      output=OutputParams(codec="lossless"))
resource.setrlimit(resource.RLIMIT_FSIZE, (200_000, 200_000))
try:
    preprocess_video({str(src)!r}, {str(out_dir)!r}, spec)
except PreprocessError as exc:
    print("ERROR", exc)
"""
    run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert "ERROR" in run.stdout, run.stdout + run.stderr
    assert "d.mp4" in run.stdout and "Nothing was written" in run.stdout
    assert list(out_dir.iterdir()) == []


def test_cli_preprocess(tmp_path: Path) -> None:
    src = _video(tmp_path / "my clip.mp4")
    out = tmp_path / "cli out"
    run = subprocess.run(
        [
            sys.executable,
            "-m",
            "napari_dlcflow",
            "preprocess",
            str(src),
            "--roi",
            "4,4,40,30",
            "--contrast",
            "imagej",
            "--saturated",
            "0.35",
            "--crf",
            "20",
            "--out",
            str(out),
        ],
        capture_output=True,
        text=True,
    )
    assert run.returncode == 0, run.stderr
    spec, _ = read_sidecar(out / "my clip_pre.mp4")
    assert spec.roi == Roi(4, 4, 40, 30) and spec.contrast.saturated == 0.35
    assert spec.output.crf == 20
    bad = subprocess.run(
        [sys.executable, "-m", "napari_dlcflow", "preprocess", str(src), "--roi", "90,0,40,40"],
        capture_output=True,
        text=True,
    )
    assert bad.returncode != 0 and "my clip.mp4" in bad.stderr and "outside" in bad.stderr


@pytest.mark.parametrize("codec", ["libx264", "mjpeg"])
def test_crop_before_colour_conversion_is_pixel_identical(tmp_path: Path, codec: str) -> None:
    """The fast path (cut the ROI from the YUV planes, convert only it) equals cropping the
    frames the reader converts whole."""
    from napari_dlcflow.core.video.preprocess import _cropped_frames

    src = _video(tmp_path / "v.avi", n=12)
    if codec == "mjpeg":
        with av.open(str(src)) as i, av.open(str(tmp_path / "m.avi"), "w") as o:
            s = o.add_stream("mjpeg", rate=25)
            s.width, s.height, s.pix_fmt = 96, 80, "yuvj420p"
            for f in i.decode(i.streams.video[0]):
                for p in s.encode(f.reformat(format="yuvj420p")):
                    o.mux(p)
            for p in s.encode():
                o.mux(p)
        src = tmp_path / "m.avi"
    r = VideoReader(src)
    for roi in (Roi(10, 6, 50, 40), Roi(0, 0, 96, 80), Roi(11, 7, 31, 21)):  # last: slow path
        got = list(_cropped_frames(r, roi))
        assert len(got) == 12
        for i in (0, 5, 11):
            np.testing.assert_array_equal(
                got[i], r[i][roi.y : roi.y + roi.height, roi.x : roi.x + roi.width]
            )


def test_crop_fast_path_on_a_real_yuv444_video(shared_data: Path) -> None:
    from napari_dlcflow.core.video.preprocess import _cropped_frames

    r = VideoReader(shared_data / "dlc-openfield" / "videos" / "m3v1mp4.mp4")
    roi = Roi(101, 51, 200, 150)
    for i, a in enumerate(_cropped_frames(r, roi)):
        np.testing.assert_array_equal(a, r[i][51:201, 101:301])
        if i == 20:
            break


def test_docs_examples_run(tmp_path: Path, shared_data: Path) -> None:
    import re

    docs = Path(__file__).resolve().parents[2] / "docs" / "preprocess.md"
    blocks = re.findall(r"```python\n(.*?)```", docs.read_text(), flags=re.S)
    assert len(blocks) == 2
    real = shared_data / "dlc-openfield" / "videos" / "m3v1mp4.mp4"
    exec(compile(blocks[0].replace("videos/mouse1.mp4", str(real)), "preprocess.md", "exec"), {})
    pre = tmp_path / "pre"
    first = preprocess_video(_video(tmp_path / "mouse1.mp4"), pre, SPEC)
    code = (
        blocks[1]
        .replace("videos/preprocessed/mouse1_pre.mp4", str(first))
        .replace("videos/mouse2.mp4", str(_video(tmp_path / "mouse2.mp4")))
        .replace("videos/preprocessed", str(pre))
    )
    exec(compile(code, "preprocess.md", "exec"), {})
    assert read_sidecar(pre / "mouse2_pre.mp4")[0] == read_sidecar(first)[0]


def test_one_decoder_thread_gives_the_same_output(tmp_path: Path) -> None:
    """A batch task on a one-core worker decodes in one thread (``decode_threads=False``):
    the output is the same file, byte for byte, as with the decoder's threads."""
    from napari_dlcflow.core.video.preprocess import (
        ContrastParams,
        PreprocessSpec,
        preprocess_video,
    )

    src = _video(tmp_path / "v.mp4", n=30)
    spec = PreprocessSpec(roi=Roi(10, 6, 50, 40), contrast=ContrastParams(method="imagej"))
    one = preprocess_video(src, tmp_path / "one", spec, threads=1, decode_threads=False)
    many = preprocess_video(src, tmp_path / "many", spec, threads=1, decode_threads=True)
    assert one.read_bytes() == many.read_bytes()
    assert len(VideoReader(one)) == 30
