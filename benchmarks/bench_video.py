"""Video reading and preprocessing benchmark: napari-dlcflow against the tools a user would
otherwise use (OpenCV, the ffmpeg CLI, plain PyAV).

Run from the repository root::

    python benchmarks/bench_video.py                  # makes 1500x1080 H.264 + MJPEG videos
    python benchmarks/bench_video.py --video my.mp4   # or measures your own file
    python benchmarks/bench_video.py --frames 300     # a quick run

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


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--video", type=Path, help="measure this file instead of generated ones")
    ap.add_argument("--frames", type=int, default=1800)
    ap.add_argument("--size", default="1500x1080")
    ap.add_argument("--random", type=int, default=200, help="random reads per file")
    ap.add_argument("--keep", type=Path, help="folder for generated videos (kept)")
    ap.add_argument("--turns", type=int, default=3, help="interleaved turns (medians)")
    ap.add_argument("--no-encode", action="store_true", help="skip crop + contrast + encode")
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
        if args.video:
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
    print(TABLE.markdown())
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
