"""Video analysis: our engine (core/engine/inference.py) against DeepLabCut's ``analyze_videos``.

One run prints one table. Every measurement is a fresh ``python`` process (``import
deeplabcut`` is done before the clock starts and not counted; loading the model is counted for
both), the variants take turns, and each figure is the median of ``--turns`` runs:

- **DLC**: ``deeplabcut.analyze_videos`` as a user runs it (glibc's default allocator);
- **DLC + heap settings**: the same with the allocator settings ``analyze`` gives its child
  (``HEAP_ENV``: ANALYSIS-FACTS.md's ``MALLOC_MMAP_MAX_=0`` plus a trim threshold);
- **ours fp32**: :func:`load_model` + :func:`analyze_video` (what ``analyze`` runs by default,
  in the environment ``analyze`` gives its child: on a CPU, Winograd for the wide 3x3 layers);
- **ours fp32, direct convolutions**: the same with ``winograd=False`` (what Winograd adds);
- **ours fast**: the same in bf16 autocast (forced on, even on a CPU without native bf16,
  where ``analyze --fast`` refuses it and runs fp32);

on the same snapshot and video (synthetic, 396x406 like the facts file's), and then DLC and ours
fp32 on a 1500x1080 video (seed 2's size) at a 400x400 crop and at full frame. Each variant's
h5 is compared with DLC's of the same turn: max and median distance over every frame and body
part. The machine's load (``os.getloadavg``) is recorded around every run and shown.

Run from the repository root (not part of the test suite)::

    .venv/bin/python benchmarks/bench_analysis.py                     # trains a small model first
    .venv/bin/python benchmarks/bench_analysis.py --config PROJECT/config.yaml --frames 300
    .venv/bin/python benchmarks/bench_analysis.py --wait-load 3       # start when load < 3
    .venv/bin/python benchmarks/bench_analysis.py --device cuda       # on a GPU (fast = fp16)
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

BATCH = 8

_ONE = r"""
import json, os, sys, time
import deeplabcut  # not timed
kind, config, video, dest, crop, batch, device = sys.argv[1:8]
crop = json.loads(crop)
t0 = time.perf_counter()
if kind.startswith("dlc"):
    deeplabcut.analyze_videos(config, [video], destfolder=dest, device=device,
                              batch_size=int(batch), auto_track=False, cropping=crop,
                              overwrite=True)
else:
    from napari_dlcflow.core.engine.inference import analyze_video, load_model
    model = load_model(config, device=device, batch_size=int(batch),
                       winograd=False if kind == "direct" else None)
    model.fast = kind == "fast"
    run = analyze_video(model, video, destfolder=dest, cropping=crop)
seconds = time.perf_counter() - t0
h5 = next(p for p in os.listdir(dest) if p.endswith(".h5"))
print("@bench " + json.dumps({"seconds": seconds, "h5": os.path.join(dest, h5)}))
"""


# The model's forward alone, both ways, in one process (turns interleaved); forward_ceiling keeps
# DLC's way from a process in DLC's environment and ours from one in the child's: the ceiling of
# what any loop around the same weights can gain in fp32 on this CPU.
_CEILING = r"""
import json, statistics, sys, time
import numpy as np, torch
from napari_dlcflow.core.engine.inference import _Batcher, load_model
from napari_dlcflow.core.video.reader import VideoReader
config, video, device = sys.argv[1], sys.argv[2], sys.argv[5]
batch, turns = int(sys.argv[3]), int(sys.argv[4])
sync = torch.cuda.synchronize if device.startswith("cuda") else (lambda: None)
ours = load_model(config, device=device, batch_size=batch)
direct = load_model(config, device=device, batch_size=batch, winograd=False)
dlc = load_model(config, device=device, batch_size=batch, fold_batch_norm=False, winograd=False)
dlc.net.to(memory_format=torch.contiguous_format)  # as DLC runs it: NCHW, batch norm kept
r = VideoReader(video)
frames = np.stack([r.frame(i) for i in range(batch)])
x, _ = _Batcher(ours, frames.shape[1], frames.shape[2], frames[0]).fill(
    torch.from_numpy(frames), batch)
x = x.to(device)
inputs = {"dlc": (dlc.net, x.contiguous()),
          "ours": (ours.net, x.contiguous(memory_format=torch.channels_last)),
          "direct": (direct.net, x.contiguous(memory_format=torch.channels_last))}
ms = {k: [] for k in inputs}
with torch.inference_mode():
    for net, inp in inputs.values():
        net(inp)
    for _ in range(turns):
        for k, (net, inp) in inputs.items():
            sync()
            t = time.perf_counter()
            net(inp)
            sync()
            ms[k].append((time.perf_counter() - t) * 1000 / batch)
print("@bench " + json.dumps({k: statistics.median(v) for k, v in ms.items()}))
"""


def _env(kind: str) -> dict[str, str]:
    from napari_dlcflow.core.engine.analysis import HEAP_ENV

    env = {k: v for k, v in os.environ.items() if not k.startswith("MALLOC_")}
    env.setdefault("HF_HUB_OFFLINE", "1")
    if kind != "dlc":
        env.update(HEAP_ENV)
    return env


def run_one(
    kind: str, config: Path, video: Path, dest: Path, crop: list[int] | None, device: str
) -> dict:
    dest.mkdir(parents=True, exist_ok=True)
    for p in dest.iterdir():
        p.unlink()
    load0 = os.getloadavg()[0]
    out = subprocess.run(
        [
            sys.executable,
            "-c",
            _ONE,
            kind,
            str(config),
            str(video),
            str(dest),
            json.dumps(crop),
            str(BATCH),
            device,
        ],
        capture_output=True,
        text=True,
        env=_env(kind),
    )
    if out.returncode:
        raise RuntimeError(f"{kind} on {video.name} failed:\n{out.stderr[-3000:]}")
    line = next(s for s in out.stdout.splitlines() if s.startswith("@bench "))
    res = json.loads(line[len("@bench ") :])
    res["load"] = (load0 + os.getloadavg()[0]) / 2
    return res


def forward_ceiling(
    config: Path, video: Path, turns: int = 3, device: str = "cpu"
) -> tuple[dict | None, str]:
    """The forward alone, DLC's way in DLC's environment and ours (and ours with direct
    convolutions) in the child's, processes taking turns: ``({"dlc": ms, "ours": ms, "direct":
    ms}, "")`` per frame, or ``(None, why)``."""
    ms: dict[str, list[float]] = {"dlc": [], "ours": [], "direct": []}
    for _ in range(turns):
        for kind, env in (("dlc", "dlc"), ("ours", "fp32")):
            out = subprocess.run(
                [sys.executable, "-c", _CEILING, str(config), str(video), str(BATCH), "5", device],
                capture_output=True,
                text=True,
                env=_env(env),
            )
            line = next((x for x in out.stdout.splitlines() if x.startswith("@bench ")), None)
            if line is None:
                return None, out.stderr[-500:]
            got = json.loads(line[len("@bench ") :])
            for k in ("dlc",) if kind == "dlc" else ("ours", "direct"):
                ms[k].append(got[k])
    return {k: statistics.median(v) for k, v in ms.items()}, ""


def _xy(h5: str) -> np.ndarray:
    df = pd.read_hdf(h5)
    return df.to_numpy().reshape(len(df), -1, 3)


def diff(h5: str, ref: str) -> tuple[float, float]:
    a, b = _xy(h5), _xy(ref)
    if a.shape != b.shape:
        return float("nan"), float("nan")
    d = np.hypot(*(a[..., :2] - b[..., :2]).transpose(2, 0, 1))
    return float(d.max()), float(np.median(d))


def make_model(root: Path, device: str = "cpu") -> Path:
    """A small trained model: the test fixture's recipe, fewer epochs (speed does not care)."""
    from napari_dlcflow.core.engine.dataset import DatasetSpec, create_datasets
    from napari_dlcflow.core.engine.training import TrainSpec, start_training
    from napari_dlcflow.core.example.synthetic import SyntheticSpec
    from napari_dlcflow.core.example.truth_labels import make_labeled_synthetic_project

    project = make_labeled_synthetic_project(
        root, SyntheticSpec(n_frames=80, height=128, width=128, seed=5), n_labeled=40
    )
    config = project.config_path
    create_datasets(config, DatasetSpec(net_type="resnet_50"))
    spec = TrainSpec(
        config=str(config),
        epochs=3,
        batch_size=8,
        save_epochs=3,
        eval_interval=3,
        device=device,
        weights="scratch",
        offline=True,
        backbone="resnet18",
        crop_size=128,
    )
    status = start_training(spec).wait(timeout=3600)
    if status.state != "finished":
        raise RuntimeError(f"training failed: {status}")
    return Path(config)


def make_video(folder: Path, n: int, height: int, width: int, seed: int) -> Path:
    from napari_dlcflow.core.example.synthetic import SyntheticSpec, write_synthetic_example

    folder.mkdir(parents=True, exist_ok=True)
    spec = SyntheticSpec(n_frames=n, height=height, width=width, seed=seed)
    return write_synthetic_example(folder, spec).video


def measure(
    label: str,
    kinds: list[str],
    config: Path,
    video: Path,
    work: Path,
    crop: list[int] | None,
    turns: int,
    frames: int,
    device: str = "cpu",
) -> list[list[str]]:
    runs: dict[str, list[dict]] = {k: [] for k in kinds}
    for turn in range(turns):
        for kind in kinds:
            res = run_one(kind, config, video, work / f"{kind}-{turn}", crop, device)
            runs[kind].append(res)
            print(
                f"  {label} turn {turn + 1} {kind}: {res['seconds']:.1f} s, "
                f"load {res['load']:.1f}",
                flush=True,
            )
    dlc = statistics.median(r["seconds"] for r in runs["dlc"])
    rows = []
    names = {
        "dlc": "DLC",
        "dlc-malloc": "DLC + heap settings",
        "fp32": "ours fp32",
        "direct": "ours fp32, direct convolutions",
        "fast": "ours fast (fp16)" if device.startswith("cuda") else "ours fast (bf16)",
    }
    for kind in kinds:
        secs = [r["seconds"] for r in runs[kind]]
        t = statistics.median(secs)
        diffs = [diff(r["h5"], runs["dlc"][i]["h5"]) for i, r in enumerate(runs[kind])]
        mx = max(d[0] for d in diffs)
        md = statistics.median(d[1] for d in diffs)
        load = statistics.mean(r["load"] for r in runs[kind])
        rows.append(
            [
                label,
                names[kind],
                f"{t:.1f} s",
                f"{frames / t:.1f}",
                f"{dlc / t:.2f}x",
                "-" if kind == "dlc" else f"{mx:.1e}",
                "-" if kind == "dlc" else f"{md:.1e}",
                f"{load:.1f}",
            ]
        )
    return rows


def table(rows: list[list[str]]) -> str:
    head = [
        "video",
        "variant",
        "wall",
        "frames/s",
        "vs DLC",
        "max diff px",
        "median diff px",
        "load",
    ]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    lines += ["| " + " | ".join(r) + " |" for r in rows]
    return "\n".join(lines)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--config", type=Path, help="a trained single-animal project (default: train)")
    ap.add_argument("--frames", type=int, default=300, help="frames of the 396x406 video")
    ap.add_argument("--big-frames", type=int, default=60, help="frames of the 1500x1080 video")
    ap.add_argument("--turns", type=int, default=3)
    ap.add_argument("--no-fast", action="store_true", help="skip the bf16 row")
    ap.add_argument("--no-big", action="store_true", help="skip the 1500x1080 rows")
    ap.add_argument("--wait-load", type=float, help="wait (up to 20 min) for a 1-min load below")
    ap.add_argument("--keep", type=Path, help="work folder to keep (videos reused)")
    ap.add_argument(
        "--device", default="cpu", help="cpu or cuda[:N] for both engines (the model trains on it)"
    )
    args = ap.parse_args()

    work = args.keep or Path(tempfile.mkdtemp(prefix="bench-analysis-"))
    work.mkdir(parents=True, exist_ok=True)
    config = args.config or make_model(work / "project", args.device)
    video = make_video(work / "v396", args.frames, 406, 396, 7)
    big = None if args.no_big else make_video(work / "v1500", args.big_frames, 1080, 1500, 8)
    if args.wait_load is not None:
        deadline = time.monotonic() + 1200
        while os.getloadavg()[0] >= args.wait_load and time.monotonic() < deadline:
            time.sleep(10)
    started = os.getloadavg()
    t0 = time.time()
    kinds = ["dlc", "dlc-malloc", "fp32", "direct"] + ([] if args.no_fast else ["fast"])
    rows = measure(
        f"396x406, {args.frames} fr",
        kinds,
        config,
        video,
        work / "runs",
        None,
        args.turns,
        args.frames,
        args.device,
    )
    if big is not None:
        crop = [550, 950, 340, 740]
        rows += measure(
            f"1500x1080 crop 400x400, {args.big_frames} fr",
            ["dlc", "fp32"],
            config,
            big,
            work / "runs-crop",
            crop,
            args.turns,
            args.big_frames,
            args.device,
        )
        rows += measure(
            f"1500x1080 full, {args.big_frames} fr",
            ["dlc", "fp32"],
            config,
            big,
            work / "runs-big",
            None,
            args.turns,
            args.big_frames,
            args.device,
        )
    ceiling, failed = forward_ceiling(config, video, device=args.device)
    import torch

    gpu = torch.cuda.get_device_name(args.device) if args.device.startswith("cuda") else "no GPU"
    print()
    print(
        f"{time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime(t0))}, {os.cpu_count()} CPUs, {gpu}, "
        f"torch {torch.__version__}, batch {BATCH}, medians of {args.turns} turns; "
        f"load average at start {started[0]:.1f} / {started[1]:.1f} / {started[2]:.1f}, "
        f"column 'load' = mean 1-min load during that variant's runs"
    )
    print(table(rows))
    if ceiling is None:
        print(f"\nforward-only ceiling not measured: {failed}")
    else:
        print(
            f"\nThe model's forward alone at 396x406, batch {BATCH}, medians of 3 processes "
            f"each way taking turns, 5 forwards each: as DLC runs it (NCHW, batch norm, "
            f"glibc's default heap) {ceiling['dlc']:.1f} ms/frame; ours (channels_last, batch "
            f"norm folded, heap settings) {ceiling['ours']:.1f} ms/frame "
            f"({ceiling['dlc'] / ceiling['ours']:.2f}x); with direct convolutions only "
            f"{ceiling['direct']:.1f} ms/frame ({ceiling['dlc'] / ceiling['direct']:.2f}x): the "
            f"most a loop around each of these forwards can gain in fp32 here."
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
