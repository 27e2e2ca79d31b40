"""Scrubbing a 100,000-frame video in napari with and without 4 tracked animals drawn.

The proofreading view (issue 24) must not make scrubbing slower: this steps a real napari
viewer (shown, on the display it gets: run it under ``xvfb-run -a`` on a machine without one)
through a 100,000-frame video layer, frame by frame and in long seeks (what dragging the
timeline does), with no tracks and with the tracks of 4 animals of 13 body parts drawn by the
proofreading dock's layers (:class:`~napari_dlcflow.widgets.proofread.layers.TrackOverlay`:
points coloured by animal, names, trails, skeleton). The untracked and tracked runs take turns
(``--turns``), each in a fresh process, and the table gives medians, so load from other
programs hits both alike. The Overlay dock's way (every frame's points in one layer set) is
measured once for reference.

The video is a lazy array (a few random frames repeated, 480 x 640 RGB): no 100,000-frame file
is written, and reading a frame costs a copy, so the figures are the viewer's drawing.

Run: ``xvfb-run -a python benchmarks/bench_proofread_scrub.py [--frames 100000] [--turns 3]``
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _table import Table


class RepeatingVideo:
    """A ``(T, H, W, 3)`` uint8 array-like of ``T`` frames cycling through a few random ones."""

    def __init__(self, n_frames: int, height: int = 480, width: int = 640, distinct: int = 16):
        rng = np.random.default_rng(0)
        self.base = rng.integers(0, 255, (distinct, height, width, 3), dtype=np.uint8)
        self.shape = (n_frames, height, width, 3)
        self.dtype = np.dtype(np.uint8)
        self.ndim = 4

    def __len__(self) -> int:
        return self.shape[0]

    def __getitem__(self, key: Any) -> np.ndarray:
        key = key if isinstance(key, tuple) else (key,)
        t, rest = key[0], key[1:]
        if isinstance(t, (int, np.integer)):
            return self.base[int(t) % len(self.base)][rest]
        frames = range(*t.indices(self.shape[0])) if isinstance(t, slice) else np.asarray(t)
        return np.stack([self.base[int(i) % len(self.base)] for i in frames])[(slice(None), *rest)]


def tracked_animals(n_frames: int, n_animals: int, n_bodyparts: int, seed: int = 1) -> Any:
    """Tracks of animals walking in a 640 x 480 frame (a random walk of rigid-ish bodies),
    likelihood 0.95, as a multi-animal DeepLabCut table."""
    from napari_dlcflow.core.predictions.analysis_files import Predictions

    rng = np.random.default_rng(seed)
    walk = np.cumsum(rng.normal(0, 1.5, (n_frames, n_animals, 1, 2)), axis=0)
    size = np.array([600.0, 440.0])  # bounce off the edges of a 640 x 480 frame
    centre = np.abs((walk + size / 2) % (2 * size) - size) + 20
    body = rng.normal(0, 12, (1, n_animals, n_bodyparts, 2))
    xy = centre + body
    lik = np.full((n_frames, n_animals, n_bodyparts, 1), 0.95)
    data = np.concatenate([xy, lik], axis=3).reshape(n_frames, n_animals * n_bodyparts, 3)
    individuals = tuple(f"mouse{a + 1}" for a in range(n_animals) for _ in range(n_bodyparts))
    bodyparts = tuple(f"part{k:02d}" for _ in range(n_animals) for k in range(n_bodyparts))
    scorer = "DLC_Resnet50_benchNov24shuffle1_snapshot_best-200"
    return Predictions(data, bodyparts, individuals, scorer, np.arange(n_frames), True)


def _pump() -> None:
    from qtpy.QtWidgets import QApplication

    QApplication.processEvents()


def step_rate(viewer: Any, frames: list[int]) -> float:
    """Frames per second showing ``frames`` one after the other (each drawn before the next)."""
    t0 = time.perf_counter()
    for f in frames:
        viewer.dims.set_current_step(0, f)
        _pump()
    return len(frames) / (time.perf_counter() - t0)


def gl_renderer(viewer: Any) -> str:
    try:
        from vispy.gloo import gl

        viewer.window._qt_viewer.canvas._scene_canvas.set_current()
        return str(gl.glGetParameter(gl.GL_RENDERER))
    except Exception as exc:  # informative only
        return f"unknown ({exc})"


def cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def measure(args: argparse.Namespace) -> dict[str, Any]:
    """One run in this process: a viewer with the video, with or without the tracks drawn;
    frames per second stepping and seeking (and, tracked, the cost of opening and of an edit)."""
    import napari

    from napari_dlcflow.core.proofread import Edit, TrackSession
    from napari_dlcflow.widgets.overlay.layers import OverlaySet
    from napari_dlcflow.widgets.proofread.layers import TrackOverlay

    n = args.frames
    session = TrackSession(tracked_animals(n, args.animals, args.bodyparts))
    parts = session.bodyparts
    skeleton = [(parts[k], parts[k + 1]) for k in range(len(parts) - 1)]
    viewer = napari.Viewer(show=True)
    viewer.window._qt_window.resize(1280, 900)
    video = viewer.add_image(RepeatingVideo(n), rgb=True, name="video")
    start = args.start
    viewer.dims.set_current_step(0, start)
    for _ in range(5):
        _pump()
    out: dict[str, Any] = {"renderer": gl_renderer(viewer)}
    overlay: Any = None
    if args.child in ("tracked", "whole"):
        t0 = time.perf_counter()
        if args.child == "tracked":
            overlay = TrackOverlay(
                viewer, session.predictions, skeleton, name="bench", target=video
            )
            # as the dock shows them: points, names, trails; the skeleton when asked
            overlay.set_visible(skeleton=args.skeleton)
        else:  # the Overlay dock's drawing: every frame's points in one layer set
            overlay = OverlaySet(viewer, session.predictions, skeleton, target=video)
        _pump()
        out["build"] = time.perf_counter() - t0

    def all_drawn() -> None:
        if overlay is not None:  # every animal is drawn in the frame shown
            shown = len(overlay.points._view_indices)
            expected = args.animals * args.bodyparts
            if shown != expected:
                raise AssertionError(f"{shown} points shown, expected {expected}")

    steps = [(start + i) % n for i in range(args.steps)]
    out["step"] = step_rate(viewer, steps)
    all_drawn()
    if args.seeks:
        out["seek"] = step_rate(viewer, [(start + 7 + j * STRIDE) % n for j in range(args.seeks)])
        all_drawn()
    if args.child == "tracked":
        # an edit: swap two animals from the current frame on, redrawn at once
        session.listeners.append(lambda a, b: overlay.show(session.predictions, (a, b)))
        here = int(viewer.dims.current_step[0])
        t0 = time.perf_counter()
        session.apply(Edit("swap", "mouse1", "mouse2", start=here))
        _pump()
        out["redraw"] = time.perf_counter() - t0
    return out


STRIDE = 2473
"""A long seek (frames), not a multiple of the drawing windows."""


def run_child(
    args: argparse.Namespace,
    child: str,
    start: int,
    steps: int,
    seeks: int,
    *,
    skeleton: bool = False,
) -> dict:
    """:func:`measure` in a fresh interpreter (its own viewer: nothing left from other runs)."""
    cmd = [
        sys.executable,
        __file__,
        "--child",
        child,
        "--start",
        str(start),
        "--steps",
        str(steps),
        "--seeks",
        str(seeks),
        "--frames",
        str(args.frames),
        "--animals",
        str(args.animals),
        "--bodyparts",
        str(args.bodyparts),
    ]
    if skeleton:
        cmd.append("--skeleton")
    done = subprocess.run(cmd, capture_output=True, text=True, check=False)
    lines = [ln for ln in done.stdout.splitlines() if ln.startswith("{")]
    if done.returncode != 0 or not lines:
        raise RuntimeError(f"{child} run failed ({done.returncode}):\n{done.stderr[-3000:]}")
    return json.loads(lines[-1])


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--frames", type=int, default=100_000)
    ap.add_argument("--animals", type=int, default=4)
    ap.add_argument("--bodyparts", type=int, default=13)
    ap.add_argument("--steps", type=int, default=300, help="frame-by-frame steps per turn")
    ap.add_argument("--seeks", type=int, default=40, help="long seeks per turn")
    ap.add_argument("--turns", type=int, default=3)
    ap.add_argument("--whole-steps", type=int, default=20, help="0: skip the reference run")
    ap.add_argument("--child", choices=("tracked", "untracked", "whole"), help=argparse.SUPPRESS)
    ap.add_argument("--start", type=int, default=5000, help=argparse.SUPPRESS)
    ap.add_argument("--skeleton", action="store_true", help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.child:
        print(json.dumps(measure(args)), flush=True)
        os._exit(0)  # no teardown: the figures are out (Qt/GL teardown may crash under Xvfb)

    from napari_dlcflow.widgets.proofread.layers import AHEAD, JUMP_AHEAD, LINES_AHEAD

    load0 = os.getloadavg()
    n, n_points = args.frames, args.animals * args.bodyparts
    print(
        f"{n:,} frames, {args.animals} animals x {args.bodyparts} body parts "
        f"({n * n_points:,} points); CPU: {cpu_model()}, {os.cpu_count()} cores; load "
        f"{load0[0]:.2f} {load0[1]:.2f} {load0[2]:.2f}",
        flush=True,
    )
    runs: dict[str, list[dict]] = {"tracked": [], "skeleton": [], "untracked": []}
    for turn in range(args.turns):
        start = 5_000 + turn * (n // (args.turns + 1))
        order = list(runs) if turn % 2 == 0 else list(runs)[::-1]  # alternate the order
        for config in order:
            child = "untracked" if config == "untracked" else "tracked"
            res = run_child(
                args, child, start, args.steps, args.seeks, skeleton=config == "skeleton"
            )
            runs[config].append(res)
            print(f"  turn {turn + 1} {config}: {res}", flush=True)
    whole = None
    if args.whole_steps:
        whole = run_child(args, "whole", 20_000 % n, args.whole_steps, 0)
        print(f"  whole file in one layer set: {whole}", flush=True)
    load1 = os.getloadavg()

    def med(child: str, key: str) -> float:
        return statistics.median(r[key] for r in runs[child])

    table = Table("untracked video")
    window = f"points/names {AHEAD} frames ahead, skeleton/trails {LINES_AHEAD}"
    step_t, step_u = med("tracked", "step"), med("untracked", "step")
    seek_t, seek_u = med("tracked", "seek"), med("untracked", "seek")
    table.row(
        "stepping frame by frame: points, names, trails (frames/s)",
        f"{step_t:.1f}",
        f"{step_u:.1f}",
        f"{step_t / step_u:.2f}x ({window})",
    )
    step_s = med("skeleton", "step")
    table.row(
        "stepping frame by frame, skeleton shown too (frames/s)",
        f"{step_s:.1f}",
        f"{step_u:.1f}",
        f"{step_s / step_u:.2f}x (napari rebuilds the skeleton's mesh shader every frame)",
    )
    table.row(
        f"seeking {STRIDE:,} frames at a time, as dragging the timeline (frames/s)",
        f"{seek_t:.1f}",
        f"{seek_u:.1f}",
        f"{seek_t / seek_u:.2f}x (each seek rebuilds the layers on a {JUMP_AHEAD}-frame window; "
        "the full one once the frame stays put)",
    )
    if whole is not None:
        table.row(
            "reference: every frame's points and names held, the Overlay dock's way (frames/s)",
            f"{whole['step']:.2f}",
            f"{step_u:.1f}",
            f"{whole['step'] / step_u:.2f}x ({n * n_points:,} points in one Points layer; "
            f"{whole['build']:.1f} s to draw)",
        )
    table.row(
        "drawing the tracks when opened (s)",
        f"{med('tracked', 'build'):.2f}",
        "-",
        "the window around the current frame",
    )
    table.row(
        "a swap from the current frame on, redrawn (ms)",
        f"{1000 * med('tracked', 'redraw'):.0f}",
        "-",
        "the edit, then points, names and trails (the hidden skeleton when shown)",
    )
    print(table.markdown())
    print(
        f"\nmedians of {args.turns} interleaved turns (each run in a fresh process) of "
        f"{args.steps} steps and {args.seeks} seeks; GL: {runs['tracked'][0]['renderer']}; "
        f"load (1, 5, 15 min) {load0[0]:.2f} {load0[1]:.2f} {load0[2]:.2f} at the start, "
        f"{load1[0]:.2f} {load1[1]:.2f} {load1[2]:.2f} at the end"
    )
    for config, rs in runs.items():
        steps = ", ".join(f"{r['step']:.1f}" for r in rs)
        seeks = ", ".join(f"{r['seek']:.1f}" for r in rs)
        print(f"{config} per turn (frames/s): stepping {steps}; seeking {seeks}")


if __name__ == "__main__":
    main()
