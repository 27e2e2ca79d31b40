"""Video reading and preprocessing benchmark: napari-dlcflow against the tools a user would
otherwise use (OpenCV, the ffmpeg CLI, plain PyAV).

Run from the repository root::

    python benchmarks/bench_video.py                  # makes 1500x1080 H.264 + MJPEG videos
    python benchmarks/bench_video.py --video my.mp4   # or measures your own file
    python benchmarks/bench_video.py --frames 300     # a quick run
    python benchmarks/bench_video.py --only-microscopy  # OME-TIFF / OME-Zarr rows only

It prints one table. Comparisons whose tool is missing (``cv2``, ``ffmpeg`` on PATH) are skipped
with a note. Timings drift between runs on shared machines: read them as ratios within one run.
Not part of the test suite.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import av
import numpy as np
from _table import Table

from napari_dlcflow.core.video.preprocess import (
    ContrastParams,
    OutputParams,
    PreprocessSpec,
    Roi,
    preprocess_video,
)
from napari_dlcflow.core.video.reader import PLAYBACK_PREFETCH, VideoReader

try:
    import cv2
except ImportError:  # the comparison is skipped
    cv2 = None

TABLE = Table("other tool", "")
row = TABLE.row


def sha(a: np.ndarray) -> str:
    return hashlib.sha1(np.ascontiguousarray(a).tobytes()).hexdigest()


def make_videos(folder: Path, n: int, w: int, h: int) -> dict[str, Path]:
    """A ``testsrc2`` clip with temporal noise as H.264 (B-frames, keyframe every 100 frames) in
    MP4, the same stream copied into AVI, and MJPEG in AVI."""
    out = {"h264": folder / "bench_h264.mp4", "avi": folder / "bench_h264.avi"}
    out["mjpeg"] = folder / "bench_mjpeg.avi"
    if all(p.is_file() for p in out.values()) and len(VideoReader(out["mjpeg"])) == n:
        return out  # made by an earlier run with --keep
    if shutil.which("ffmpeg"):
        src = ["-f", "lavfi", "-i", f"testsrc2=size={w}x{h}:rate=30000/1001,noise=alls=12:allf=t"]
        base = ["ffmpeg", "-loglevel", "error", "-y", *src, "-frames:v", str(n)]
        subprocess.run(
            [*base, "-c:v", "libx264", "-preset", "veryfast", "-g", "100", "-bf", "3",
             "-pix_fmt", "yuv420p", str(out["h264"])],
            check=True,
        )  # fmt: skip
        subprocess.run(
            ["ffmpeg", "-loglevel", "error", "-y", "-i", str(out["h264"]), "-c", "copy",
             str(out["avi"])],
            check=True,
        )  # fmt: skip
        subprocess.run(
            [*base, "-c:v", "mjpeg", "-q:v", "4", "-pix_fmt", "yuvj420p", str(out["mjpeg"])],
            check=True,
        )  # fmt: skip
        return out
    rng = np.random.default_rng(0)
    yy, xx = np.mgrid[:h, :w]
    for key, codec, fmt, opts in (
        ("h264", "libx264", "yuv420p", {"preset": "veryfast", "g": "100", "bf": "3"}),
        ("mjpeg", "mjpeg", "yuvj420p", {}),
    ):
        with av.open(str(out[key]), "w") as c:
            s = c.add_stream(codec, rate=30)
            s.width, s.height, s.pix_fmt, s.options = w, h, fmt, opts
            for i in range(n):
                img = np.dstack([(xx + 4 * i) % 256, (yy + 2 * i) % 256, (xx + yy) % 256])
                img = (img + rng.integers(0, 24, img.shape)).clip(0, 255).astype(np.uint8)
                for p in s.encode(av.VideoFrame.from_ndarray(img, format="rgb24")):
                    c.mux(p)
            for p in s.encode():
                c.mux(p)
    out.pop("avi")
    return out


def timed(fn: Callable[[], object]) -> tuple[float, object]:
    t = time.perf_counter()
    res = fn()
    return time.perf_counter() - t, res


def pyav_sequential(path: Path, convert: bool, keep_hashes: bool = False) -> tuple[int, list[str]]:
    hashes: list[str] = []
    with av.open(str(path)) as c:
        s = c.streams.video[0]
        s.thread_type = "AUTO"
        from av.video.reformatter import VideoReformatter

        ref = VideoReformatter()
        n = 0
        for f in c.decode(s):
            n += 1
            if convert:
                a = ref.reformat(f, format="rgb24").to_ndarray()
                if keep_hashes:
                    hashes.append(sha(a))
    return n, hashes


def step_through(path: Path, prefetch: int) -> int:
    """Step forward through every frame as a video layer does (a new reader, each frame read
    once and dropped, as napari drops the slice it no longer shows)."""
    r = VideoReader(path, prefetch=prefetch)
    n = len(r)
    for i in range(n):
        r.frame(i)
    r.close()
    return n


def bench_sequential(path: Path, n: int, threads: int, turns: int) -> list[str]:
    print(f"\n== sequential decode: {path.name} (medians of {turns} interleaved turns)")
    variants: dict[str, Callable[[], object]] = {
        "plain": lambda: pyav_sequential(path, convert=False),
        "plain_rgb": lambda: pyav_sequential(path, convert=True),
        "ours_raw": lambda: sum(1 for _ in VideoReader(path).iter_av_frames()),
        "ours_step": lambda: step_through(path, 0),
        "ours_play": lambda: step_through(path, PLAYBACK_PREFETCH),
    }
    times: dict[str, list[float]] = {k: [] for k in variants}
    for _ in range(turns):
        for key, fn in variants.items():
            times[key].append(timed(fn)[0])
    t = {k: statistics.median(v) for k, v in times.items()}
    t_plain, t_rgb, t_ours_raw = t["plain"], t["plain_rgb"], t["ours_raw"]
    hashes = pyav_sequential(path, convert=True, keep_hashes=True)[1]  # the truth, untimed
    count = len(hashes)
    fps = count / t_plain
    row(
        "sequential decode, no colour conversion (frames/s)",
        f"{n / t_ours_raw:.0f}",
        f"plain PyAV {fps:.0f}",
        f"{(n / t_ours_raw) / fps:.2f}x plain PyAV",
    )
    if shutil.which("ffmpeg"):
        cmd = ["ffmpeg", "-v", "error", "-threads", str(threads), "-i", str(path)]
        t_ff, _ = timed(lambda: subprocess.run([*cmd, "-f", "null", "-"], check=True))
        row(
            "sequential decode vs ffmpeg -f null - (frames/s)",
            f"{n / t_ours_raw:.0f}",
            f"ffmpeg CLI {n / t_ff:.0f}",
            f"{t_ff / t_ours_raw:.2f}x (goal >= 0.9x)",
        )
    else:
        row("sequential decode vs ffmpeg CLI", "-", "skipped: ffmpeg not on PATH", "")
    row(
        "stepping forward frame by frame, RGB, no decode-ahead (frames/s)",
        f"{n / t['ours_step']:.0f}",
        f"sequential PyAV to RGB {n / t_rgb:.0f}",
        f"{t_rgb / t['ours_step']:.2f}x",
    )
    row(
        f"playing / stepping in a video layer (decode-ahead {PLAYBACK_PREFETCH}), RGB (frames/s)",
        f"{n / t['ours_play']:.0f}",
        f"sequential PyAV to RGB {n / t_rgb:.0f}",
        f"{t_rgb / t['ours_play']:.2f}x (goal >= 0.9x)",
    )
    if cv2 is not None:
        cap = cv2.VideoCapture(str(path))

        def cv_read() -> int:
            k = 0
            while cap.read()[0]:
                k += 1
            return k

        t_cv, k = timed(cv_read)
        cap.release()
        row("sequential decode, OpenCV read() (frames/s)", "", f"OpenCV {k / t_cv:.0f}", "")
        cap = cv2.VideoCapture(str(path))
        m = min(30, n)
        t_cvs, _ = timed(
            lambda: [cap.set(cv2.CAP_PROP_POS_FRAMES, i) or cap.read() for i in range(m)]
        )
        cap.release()
        row(
            "stepping with OpenCV set()+read() per frame (frames/s)",
            f"{n / t['ours_step']:.0f}",
            f"OpenCV {m / t_cvs:.1f}",
            f"ours {(n / t['ours_step']) / (m / t_cvs):.0f}x faster",
        )
    else:
        row("OpenCV comparisons", "-", "skipped: cv2 not installed", "")
    return hashes


def limit_reader(path: Path, r: VideoReader) -> Callable[[int], np.ndarray]:
    """Decode from the nearest preceding keyframe, with no bookkeeping (the lower bound)."""
    c = av.open(str(path))
    s = c.streams.video[0]
    s.thread_type = "AUTO"
    from av.video.reformatter import VideoReformatter

    ref = VideoReformatter()
    pts_of = sorted(r._pts_to_index, key=r._pts_to_index.get)

    def read(i: int) -> np.ndarray:
        k = r._key_for(i)
        c.seek(int(r._key_ts[k]), stream=s, backward=True)
        want = pts_of[i]
        for f in c.decode(s):
            if f.pts == want:
                return ref.reformat(f, format="rgb24").to_ndarray()
        raise RuntimeError(i)

    return read


def bench_random(path: Path, hashes: list[str], k: int, seed: int = 0) -> None:
    """Random reads; the readers take turns on each index so that machine drift hits all."""
    print(f"\n== random single-frame reads ({k}): {path.name}")
    n = len(hashes)
    idx = [int(i) for i in np.random.default_rng(seed).choice(n, size=min(k, n), replace=False)]
    r = VideoReader(path, cache_frames=2)
    readers: dict[str, Callable[[int], np.ndarray]] = {"ours": r.frame}
    truth: dict[str, list[str]] = {"ours": hashes}
    if r._pts_to_index:
        readers["limit"] = limit_reader(path, VideoReader(path))
        truth["limit"] = hashes
    if cv2 is not None:
        cap = cv2.VideoCapture(str(path))
        cv_hashes = []
        while True:
            ok, fr = cap.read()
            if not ok:
                break
            cv_hashes.append(sha(fr))

        def cv_seek(i: int) -> np.ndarray:
            cap.set(cv2.CAP_PROP_POS_FRAMES, i)
            ok, fr = cap.read()
            return fr if ok else np.zeros(1)

        readers["opencv"] = cv_seek
        truth["opencv"] = cv_hashes
    times: dict[str, list[float]] = {name: [] for name in readers}
    exact = dict.fromkeys(readers, 0)
    for i in idx:
        for name, fn in readers.items():
            t = time.perf_counter()
            a = fn(i)
            times[name].append(time.perf_counter() - t)
            exact[name] += i < len(truth[name]) and sha(a) == truth[name][i]

    def fmt(name: str) -> str:
        med, p90 = np.median(times[name]) * 1e3, np.percentile(times[name], 90) * 1e3
        return f"{exact[name]}/{len(idx)} exact, median {med:.1f} ms, p90 {p90:.1f} ms"

    ours_med = np.median(times["ours"])
    if "limit" in readers:
        row(
            "random read vs decode-from-keyframe limit",
            fmt("ours"),
            f"limit {fmt('limit')}",
            f"median {ours_med / np.median(times['limit']):.2f}x the limit (goal <= 1.5x)",
        )
    else:
        row("random read (no timestamps: counting mode)", fmt("ours"), "", "")
    if "opencv" in readers:
        row(
            "random read, OpenCV set()+read()",
            fmt("ours"),
            f"OpenCV {fmt('opencv')} (vs its own sequential read)",
            f"OpenCV counts {len(truth['opencv'])} frames, ours {n}",
        )


def bench_preprocess(path: Path, n: int, threads: int, out: Path) -> None:
    print(f"\n== crop 400x400 + contrast + H.264 (CRF 23, medium): {path.name}")
    r = VideoReader(path)
    w, h = r.meta.width, r.meta.height
    side = min(400, w, h) // 2 * 2
    x, y = (w - side) // 2 // 2 * 2, (h - side) // 2 // 2 * 2
    spec = PreprocessSpec(
        roi=Roi(x, y, side, side),
        contrast=ContrastParams(method="imagej", saturated=0.35),
        output=OutputParams(codec="h264", crf=23, preset="medium"),
    )
    t_ours, _ = timed(lambda: preprocess_video(path, out, spec))
    if shutil.which("ffmpeg"):
        for name, vf in (
            ("crop+normalize", f"crop={side}:{side}:{x}:{y},normalize"),
            ("crop only", f"crop={side}:{side}:{x}:{y}"),
        ):
            cmd = ["ffmpeg", "-v", "error", "-y", "-threads", str(threads), "-i", str(path)]
            cmd += ["-vf", vf, "-c:v", "libx264", "-crf", "23", "-preset", "medium"]
            t_ff, _ = timed(
                lambda cmd=cmd: subprocess.run([*cmd, str(out / "ff.mp4")], check=True)
            )
            row(
                f"crop+ImageJ stretch+encode vs ffmpeg {name} (frames/s)",
                f"{n / t_ours:.0f}",
                f"ffmpeg CLI {n / t_ff:.0f}",
                f"{t_ff / t_ours:.2f}x (goal >= 0.7x)",
            )
    else:
        row("crop+contrast+encode", f"{n / t_ours:.0f}", "skipped: ffmpeg not on PATH", "")


def make_microscopy(folder: Path, n: int, side: int = 128) -> dict[str, Path]:
    """A 16-bit, 2-channel time-lapse of ``n`` time points (TCYX, 0.65 µm, 0.5 s) as an
    OME-TIFF (tifffile) and an OME-Zarr (zarr + ome-zarr-models, one chunk per plane)."""
    import tifffile
    import zarr
    from ome_zarr_models.v05.axes import Axis
    from ome_zarr_models.v05.image import Image
    from pydantic_zarr.v3 import ArraySpec

    rng = np.random.default_rng(0)
    yy, xx = np.mgrid[:side, :side]
    base = ((xx * 37 + yy * 11) % 4096).astype(np.uint16)
    data = np.empty((n, 2, side, side), np.uint16)
    for t in range(n):
        data[t, 0] = base + rng.integers(0, 200, (side, side), dtype=np.uint16) + t % 1000
        data[t, 1] = 4095 - base + 3 * (t % 500)
    out = {"ome-tiff": folder / "bench.ome.tif", "ome-zarr": folder / "bench.ome.zarr"}
    meta = {"axes": "TCYX", "PhysicalSizeX": 0.65, "PhysicalSizeY": 0.65, "TimeIncrement": 0.5}
    tifffile.imwrite(out["ome-tiff"], data, ome=True, photometric="minisblack", metadata=meta)
    spec = ArraySpec.from_array(
        data,
        chunk_grid={"name": "regular", "configuration": {"chunk_shape": (1, 1, side, side)}},
        dimension_names=list("tcyx"),
    )
    axes = [Axis(name="t", type="time", unit="second"), Axis(name="c", type="channel")]
    axes += [Axis(name=a, type="space", unit="micrometer") for a in "yx"]
    image = Image.new(
        array_specs=[spec], paths=["0"], axes=axes, scales=[[0.5, 1, 0.65, 0.65]],
        translations=[None],
    )  # fmt: skip
    image.to_zarr(zarr.storage.LocalStore(str(out["ome-zarr"])), path="")["0"][:] = data
    return out


def bench_microscopy(folder: Path, n: int, turns: int, k: int) -> None:
    """Opening, stepping and random access on channel 1 of a 2-channel 16-bit OME-TIFF and
    OME-Zarr, against the same planes read with tifffile / zarr directly (medians of
    interleaved turns; every reader and plane checked equal)."""
    import tifffile
    import zarr

    from napari_dlcflow.core.video.microscopy import MicroscopySource

    t_make, files = timed(lambda: make_microscopy(folder, n))
    print(f"\n== microscopy: {n} time points x 2 channels, 128x128 uint16, made in {t_make:.0f} s")

    def direct(kind: str, path: Path) -> dict[str, Callable[..., object]]:
        """The other tool: opening, and reading plane (t, channel 1) of the open file."""
        if kind == "ome-tiff":

            def open_tf() -> object:
                tf = tifffile.TiffFile(str(path))
                pages = tf.series[0].pages
                return tf, pages

            def reader(opened: object) -> Callable[[int], np.ndarray]:
                pages = opened[1]  # type: ignore[index]
                return lambda t: pages[2 * t + 1].asarray()

            def close(opened: object) -> None:
                opened[0].close()  # type: ignore[index]

            return {"open": open_tf, "reader": reader, "close": close}

        def open_z() -> object:
            return zarr.open_group(str(path), mode="r")["0"]

        return {
            "open": open_z,
            "reader": lambda arr: lambda t: np.asarray(arr[t, 1]),
            "close": lambda arr: None,
        }

    idx = [int(i) for i in np.random.default_rng(1).choice(n, size=min(k, n), replace=False)]
    for kind, path in files.items():
        other = direct(kind, path)
        label = "tifffile pages" if kind == "ome-tiff" else "zarr array"
        times: dict[str, list[float]] = {}

        def add(key: str, dt: float, times: dict[str, list[float]] = times) -> None:
            times.setdefault(key, []).append(dt)

        for turn in range(max(turns, 15)):  # opening is quick: more turns, steadier medians
            if turn % 2:  # who opens first alternates (the first pays for a cold page cache)
                dt, opened = timed(other["open"])
                add("theirs_open", dt)
            dt, src = timed(lambda path=path: MicroscopySource(path, channel=1))
            add("ours_open", dt)
            if not turn % 2:
                dt, opened = timed(other["open"])
                add("theirs_open", dt)
            src.close()
            other["close"](opened)
        for _ in range(turns):
            src = MicroscopySource(path, channel=1)
            opened = other["open"]()
            read = other["reader"](opened)
            assert np.array_equal(src.frame(n - 1), read(n - 1))  # the same planes
            src.close()
            src = MicroscopySource(path, channel=1)  # a cold cache for stepping
            add("ours_step", timed(lambda src=src: [src.frame(i) for i in range(n)])[0])
            add("theirs_step", timed(lambda read=read: [read(i) for i in range(n)])[0])
            src.close()
            other["close"](opened)
        src = MicroscopySource(path, channel=1)
        opened = other["open"]()
        read = other["reader"](opened)
        same = 0
        for i in idx:
            for key, fn in (("ours_random", src.frame), ("theirs_random", read)):
                t0 = time.perf_counter()
                fn(i)
                add(key, time.perf_counter() - t0)
            same += bool(np.array_equal(src.frame(i), read(i)))
        src.close()
        other["close"](opened)
        med = {key: statistics.median(v) for key, v in times.items()}
        row(
            f"{kind}: open, channel 1 of 2 (ms)",
            f"{med['ours_open'] * 1e3:.1f}",
            f"{label} {med['theirs_open'] * 1e3:.1f}",
            f"{med['theirs_open'] / med['ours_open']:.2f}x (goal >= 0.9x)",
        )
        row(
            f"{kind}: stepping through {n} time points (frames/s)",
            f"{n / med['ours_step']:.0f}",
            f"{label} {n / med['theirs_step']:.0f}",
            f"{med['theirs_step'] / med['ours_step']:.2f}x (goal >= 0.9x)",
        )
        row(
            f"{kind}: random reads ({len(idx)}), median (ms)",
            f"{med['ours_random'] * 1e3:.3f}",
            f"{label} {med['theirs_random'] * 1e3:.3f}",
            f"{med['theirs_random'] / med['ours_random']:.2f}x (goal >= 0.9x), "
            f"{same}/{len(idx)} planes equal",
        )


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--video", type=Path, help="measure this file instead of generated ones")
    ap.add_argument("--frames", type=int, default=1800)
    ap.add_argument("--size", default="1500x1080")
    ap.add_argument("--random", type=int, default=200, help="random reads per file")
    ap.add_argument("--keep", type=Path, help="folder for generated videos (kept)")
    ap.add_argument("--turns", type=int, default=3, help="interleaved turns (medians)")
    ap.add_argument("--no-encode", action="store_true", help="skip crop + contrast + encode")
    ap.add_argument(
        "--microscopy-frames", type=int, default=2000, help="time points of the microscopy rows"
    )
    ap.add_argument("--no-microscopy", action="store_true", help="skip the microscopy rows")
    ap.add_argument(
        "--only-microscopy", action="store_true", help="only the microscopy rows (no videos)"
    )
    args = ap.parse_args(argv)
    threads = os.cpu_count() or 1
    w, h = (int(v) for v in args.size.split("x"))
    ff = "on PATH" if shutil.which("ffmpeg") else "missing"
    cv = cv2.__version__ if cv2 else "missing"
    print(f"python {sys.version.split()[0]}, PyAV {av.__version__}, OpenCV {cv}, ffmpeg {ff}")
    print(f"{threads} threads for every decoder and encoder")
    with tempfile.TemporaryDirectory() as tmp:
        folder = args.keep or Path(tmp)
        folder.mkdir(parents=True, exist_ok=True)
        print(f"load average at the start: {', '.join(f'{v:.2f}' for v in os.getloadavg())}")
        if not args.no_microscopy:
            bench_microscopy(folder, args.microscopy_frames, args.turns, args.random)
        if args.only_microscopy:
            videos = {}
        elif args.video:
            videos = {"video": args.video}
        else:
            t, videos = timed(lambda: make_videos(folder, args.frames, w, h))
            print(f"made test videos in {t:.0f} s: {', '.join(p.name for p in videos.values())}")
        for key, path in videos.items():
            n = len(VideoReader(path))
            hashes = bench_sequential(path, n, threads, args.turns) if key != "avi" else []
            if not hashes:
                hashes = pyav_sequential(path, convert=True, keep_hashes=True)[1]
            if args.random:
                bench_random(path, hashes, args.random if key != "avi" else min(60, args.random))
            if key in ("h264", "video") and not args.no_encode:
                bench_preprocess(path, n, threads, folder)
    print(f"load average at the end: {', '.join(f'{v:.2f}' for v in os.getloadavg())}")
    print(TABLE.markdown())
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
