"""Tracking several animals: our defaults against DeepLabCut's ``analyze_videos(auto_track=True)``.

On the same trained multi-animal model and the same video, with a truth to score against:

- **ours**: ``napari-dlcflow analyze`` (:func:`napari_dlcflow.core.engine.analysis.analyze`) with
  its default tracking (DeepLabCut's detections and assemblies, DeepLabCut's box tracker with a
  10 px slack and IoU 0.2, DeepLabCut's stitching), writing ``<stem><scorer>_bx.h5``;
- **DLC**: ``deeplabcut.analyze_videos(config, [video], auto_track=True)`` with DeepLabCut's
  defaults (its ``default_track_method``, ``ellipse`` unless the config says otherwise, and
  ``inference_cfg.yaml``'s settings as DeepLabCut makes them), writing ``<stem><scorer>_el.h5``;
- **DLC box**: the same call with ``default_track_method: box`` in ``config.yaml``, DeepLabCut's
  box tracker with its template's settings (IoU 0.6, no slack): what a DeepLabCut user whose
  ellipse tracker fails would try next, and the same tracker as ours with other settings.

Before each DeepLabCut run the model's ``test/inference_cfg.yaml`` gets DeepLabCut's template
values back for the four tracker keys (ours writes its own settings there) and ``config.yaml``
its ``default_track_method``; both files as they were are put back at the end.

Each run starts from nothing (outputs of the previous run removed, each in its own folder), the
two take turns, and the time is the median of ``--turns`` runs of the whole call (detection,
assembly, tracking, stitching; ``import deeplabcut`` not counted for DLC, our child's start is
counted for ours). The tracks are scored with ``compare-tracks``
(:func:`napari_dlcflow.core.predictions.tracks.compare_tracks`, motmetrics): IDF1, identity
switches per 1,000 frames, the share of frames with every animal found, and the median keypoint
error of the matched animals (how good the model is, whatever the tracker). The load average
(``os.getloadavg``) is recorded around every run.

Run from the repository root (not part of the test suite)::

    .venv/bin/python benchmarks/bench_tracking.py --config PROJECT/config.yaml \\
        --video VIDEO --truth TRUTH.csv --turns 3

A last line gives the **ceiling**: the same scores for the best any tracker could do with ours'
detections and assemblies (each frame's assemblies given the identities of the true animals they
are nearest to: a Hungarian assignment on the mean keypoint distance). A tracker cannot beat it;
a network that finds or assembles the animals better can. ``--ceiling-of FOLDER --truth T``
prints it for an analysis folder already made (its ``*_assemblies.pickle``).

``--example N`` instead writes the synthetic group example (``GroupSpec(n_animals=2,
n_frames=N, height=160, width=160, seed=SEED)``, ``--seed``, default 1) and scores against its
truth (the model given by ``--config`` must be trained on that example's kind of animals, e.g.
by ``demo --animals 2 --size 160 --seed 2``; the example's first frames are the same for any
length, so ``--seed 2 --example 1000`` continues the 300-frame video that model labeled).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import warnings
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _table import Table

_DLC = r"""
import json, sys, time
import deeplabcut  # not timed
config, video, dest, snapshot = sys.argv[1:5]
t0 = time.perf_counter()
scorer = deeplabcut.analyze_videos(config, [video], destfolder=dest, auto_track=True,
                                   overwrite=True, snapshot_index=int(snapshot))
print("@bench " + json.dumps({"seconds": time.perf_counter() - t0, "scorer": scorer}))
"""


def _load() -> float:
    return round(os.getloadavg()[0], 2)


def _score(tracks: Path | None, truth: Path) -> dict:
    from napari_dlcflow.core.formats.tracks import load_tracks
    from napari_dlcflow.core.predictions.tracks import compare_tracks

    if tracks is None or not tracks.is_file():
        return {"failed": True}
    result = compare_tracks(load_tracks(tracks), load_tracks(truth), require_names=False)
    errors = [e.median_px for e in result.per_individual if e.median_px == e.median_px]
    return {
        "failed": False,
        "idf1": result.idf1,
        "switches_per_1000": result.switches_per_1000,
        "all_found": result.all_found,
        "median_px": statistics.median(errors) if errors else float("nan"),
    }


def ceiling(folder: Path, truth: Path) -> dict:
    """The scores of the best identities any tracker could give the assemblies in ``folder``
    (``*_assemblies.pickle``, DeepLabCut's): per frame, each assembly takes the identity of
    the true animal it is nearest to (mean keypoint distance, one to one)."""
    import pickle

    import numpy as np
    from scipy.optimize import linear_sum_assignment

    from napari_dlcflow.core.formats.tracks import load_tracks
    from napari_dlcflow.core.predictions.tracks import Tracks, compare_tracks

    (path,) = folder.glob("*_assemblies.pickle")
    with path.open("rb") as fh:
        assemblies = pickle.load(fh)
    true = load_tracks(truth)
    T, N, K, _ = true.keypoints.shape
    best = np.full((T, N, K, 2), np.nan)
    for t in range(T):
        found = assemblies.get(t)
        if found is None or len(found) == 0:
            continue
        xy = np.asarray(found, dtype=float)[..., :2]
        with np.errstate(invalid="ignore"), warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)  # an animal with no common part
            cost = np.nanmean(
                np.linalg.norm(xy[:, None] - true.keypoints[t][None], axis=-1), axis=-1
            )
        cost = np.where(np.isfinite(cost), cost, 1e9)
        for i, j in zip(*linear_sum_assignment(cost), strict=True):
            if cost[i, j] < 1e9:
                best[t, j] = xy[i]
    tracks = Tracks(best, None, true.individuals, true.bodyparts)
    result = compare_tracks(tracks, true)
    return {
        "idf1": result.idf1,
        "switches_per_1000": result.switches_per_1000,
        "all_found": result.all_found,
    }


def _ceiling_line(folder: Path, truth: Path) -> str:
    c = ceiling(folder, truth)
    return (
        f"ceiling with ours' assemblies (identities from the truth): IDF1 {c['idf1']:.3f}, "
        f"{c['switches_per_1000']:.1f} switches per 1,000 frames, every animal found in "
        f"{c['all_found']:.1%} of the frames"
    )


def run_ours(config: str, video: Path, dest: Path, snapshot: int) -> tuple[float, Path | None]:
    from napari_dlcflow.core.engine.analysis import AnalysisSpec, analyze

    t0 = time.perf_counter()
    spec = AnalysisSpec(config=config, videos=[str(video)], destfolder=str(dest))
    spec.snapshot_index = snapshot
    result = analyze(spec)
    seconds = time.perf_counter() - t0
    out = result.outputs.get(str(video))
    return seconds, Path(out) if result.ok and out else None


TRACKER_KEYS = ("boundingboxslack", "iou_threshold", "max_age", "min_hits")


def dlc_template_settings() -> dict:
    """DeepLabCut's template values of the tracker keys (its package's ``inference_cfg.yaml``)."""
    import importlib.util

    import yaml

    origin = importlib.util.find_spec("deeplabcut").origin  # not imported: slow
    template = yaml.safe_load((Path(origin).parent / "inference_cfg.yaml").read_text())
    return {k: template[k] for k in TRACKER_KEYS}


class DLCSettings:
    """Puts DeepLabCut's template tracker settings into the model's ``inference_cfg.yaml`` and
    the tracker to use into ``config.yaml`` before each DeepLabCut run, and both files as they
    were back at the end."""

    def __init__(self, config: str) -> None:
        from napari_dlcflow.core.engine.dataset import resolve_model
        from napari_dlcflow.core.engine.tracking import inference_cfg_path

        self.config = Path(config)
        self.config_bytes = self.config.read_bytes()
        self.path = inference_cfg_path(resolve_model(config))
        self.original = self.path.read_bytes() if self.path.is_file() else None
        self.template = dlc_template_settings()

    def apply(self, method: str) -> None:
        """``method``: ``"default"`` (the config as it was) or a DeepLabCut tracker name."""
        import yaml

        data = yaml.safe_load(self.original) if self.original else {}
        data.update(self.template)
        data.pop("dlcflow_tracking", None)
        self.path.write_text(yaml.safe_dump(data, sort_keys=False))
        lines = self.config_bytes.decode().splitlines()
        if method != "default":
            lines = [x for x in lines if not x.startswith("default_track_method:")]
            lines.append(f"default_track_method: {method}")
        self.config.write_text("\n".join(lines) + "\n")

    def restore(self) -> None:
        self.config.write_bytes(self.config_bytes)
        if self.original is not None:
            self.path.write_bytes(self.original)


def run_dlc(config: str, video: Path, dest: Path, snapshot: int) -> tuple[float, Path | None]:
    proc = subprocess.run(
        [sys.executable, "-c", _DLC, config, str(video), str(dest), str(snapshot)],
        capture_output=True,
        text=True,
        env=dict(os.environ, HF_HUB_OFFLINE="1"),
        check=False,
    )
    lines = [x for x in proc.stdout.splitlines() if x.startswith("@bench ")]
    if not lines:
        tail = (proc.stderr or proc.stdout).strip().splitlines()[-1:]
        print(f"    DLC failed: {tail[0] if tail else proc.returncode}", flush=True)
        seconds = float("nan")
        return seconds, None
    data = json.loads(lines[-1][len("@bench ") :])
    found = sorted(dest.glob(f"{video.stem}{data['scorer']}_*.h5"))
    return float(data["seconds"]), found[0] if found else None


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--config", help="a trained multi-animal project")
    parser.add_argument("--ceiling-of", help="only the ceiling of this analysis folder")
    parser.add_argument("--video")
    parser.add_argument("--truth", help="DLC tracked .h5/.csv or SLEAP .slp with tracks")
    parser.add_argument("--example", type=int, help="write the 2-animal example of N frames")
    parser.add_argument("--seed", type=int, default=1, help="the example's seed (default 1)")
    parser.add_argument("--snapshot", type=int, default=-1)
    parser.add_argument("--turns", type=int, default=3)
    args = parser.parse_args(argv)
    if args.ceiling_of:
        if not args.truth:
            parser.error("--ceiling-of needs --truth")
        print(_ceiling_line(Path(args.ceiling_of), Path(args.truth)))
        return 0
    if not args.config:
        parser.error("--config is required")

    work = Path(tempfile.mkdtemp(prefix="bench-tracking-"))
    if args.example:
        from napari_dlcflow.core.example.group import GroupSpec, write_group_example

        spec = GroupSpec(n_animals=2, n_frames=args.example, height=160, width=160, seed=args.seed)
        files = write_group_example(work / "example", spec)
        video, truth = files.video, files.truth_csv
    else:
        video, truth = Path(args.video), Path(args.truth)
    from napari_dlcflow.core.video.reader import count_frames

    n_frames = count_frames(video)
    print(f"video {video} ({n_frames} frames), truth {truth}, model {args.config}", flush=True)
    settings = DLCSettings(args.config)
    print(f"DeepLabCut's template tracker settings: {settings.template}", flush=True)
    runners = {"ours": run_ours, "dlc": run_dlc, "dlc_box": run_dlc}
    methods = {"dlc": "default", "dlc_box": "box"}
    runs: dict[str, list[dict]] = {name: [] for name in runners}
    try:
        for turn in range(args.turns):
            for name, fn in runners.items():
                dest = work / f"{name}-{turn}"
                shutil.rmtree(dest, ignore_errors=True)
                dest.mkdir()
                if name in methods:
                    settings.apply(methods[name])
                else:
                    settings.restore()  # ours from the files as the user had them
                before = _load()
                seconds, tracks = fn(args.config, video, dest, args.snapshot)
                score = _score(tracks, truth)
                score.update(seconds=seconds, load=(before, _load()), file=str(tracks))
                runs[name].append(score)
                print(f"  turn {turn + 1} {name}: {json.dumps(score)}", flush=True)
    finally:
        settings.restore()

    table = Table(
        "DLC 3 auto_track, its defaults", "", "DLC 3 auto_track, box tracker, its settings"
    )

    def med(name: str, key: str) -> float:
        values = [r[key] for r in runs[name] if not r.get("failed") and key in r]
        return statistics.median(values) if values else float("nan")

    def fmt(name: str, key: str, spec: str) -> str:
        failed = sum(r.get("failed", False) for r in runs[name])
        if failed == len(runs[name]):
            return "no tracks (failed)"
        return format(med(name, key), spec)

    def row(label: str, key: str, spec: str, note: str) -> None:
        table.row(label, *(fmt(name, key, spec) for name in runners), note)

    row("IDF1", "idf1", ".3f", "higher is better")
    row("identity switches per 1,000 frames", "switches_per_1000", ".1f", "lower is better")
    row("frames with every animal found", "all_found", ".1%", "")
    row("median keypoint error of matched animals (px)", "median_px", ".2f", "the model's")
    ours_s = med("ours", "seconds")
    ratios = ", ".join(
        f"{name} / ours = {med(name, 'seconds') / ours_s:.2f}" for name in ("dlc", "dlc_box")
    )
    table.row(
        f"time, whole analysis of {n_frames} frames (s, median of {args.turns})",
        *(f"{med(name, 'seconds'):.1f}" for name in runners),
        ratios,
    )
    loads = [x for name in runners for r in runs[name] for x in r["load"]]
    print(table.markdown())
    print("\n" + _ceiling_line(work / "ours-0", truth))
    print(f"\nload average (1 min) around the runs: {min(loads):.1f} to {max(loads):.1f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
