"""Command-line subcommands for predictions: ``analyze``, ``filter``, ``labeled-video``.

Kept out of ``cli.py`` so that ``napari-dlcflow --help`` stays light: each command imports
what it needs when it runs.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from napari_dlcflow.cli.batch import add_batch_options, later_step_files, wants_batch
from napari_dlcflow.cli.options import (
    add_choice,
    add_config,
    add_device,
    add_model_options,
    sources,
)


def _print(line: str) -> None:
    print(line, flush=True)


def cmd_analyze(args: argparse.Namespace) -> int:
    from napari_dlcflow.core.engine.analysis import AnalysisSpec, analyze
    from napari_dlcflow.core.project.config import find_config

    crop = [int(v) for v in args.crop.split(",")] if args.crop else None
    if crop is not None and len(crop) != 4:
        raise ValueError("--crop needs four numbers: x1,x2,y1,y2")
    snapshot: Any = args.snapshot
    if snapshot is not None and snapshot.lstrip("-").isdigit():
        snapshot = int(snapshot)
    tracking = {
        key: value
        for key, value in (
            ("tracker", args.tracker),
            ("iou_threshold", args.iou_threshold),
            ("box_slack", args.box_slack),
            ("max_age", args.max_age),
            ("min_hits", args.min_hits),
            ("max_gap", args.max_gap),
            ("min_length", args.min_length),
            ("n_tracks", args.animals),
        )
        if value is not None
    }
    batch = wants_batch(args)
    listed = [str(Path(v)) for v in args.videos]  # with --cluster: folders, expanded there
    spec = AnalysisSpec(
        config=str(find_config(args.config) if Path(args.config).is_dir() else Path(args.config)),
        videos=listed if batch else sources(listed, args.choice),
        shuffle=args.shuffle,
        trainset_index=args.trainset_index,
        snapshot_index=snapshot,
        device=args.device,
        batch_size=args.batch_size,
        save_as_csv=args.csv,
        destfolder=args.destfolder,
        cropping=crop,
        engine=args.engine,
        fast=args.fast,
        tracking=tracking or None,
    )
    if batch:
        from napari_dlcflow.cli.batch import batch_analyze

        return batch_analyze(args, spec)

    def event(e: dict[str, Any]) -> None:
        kind = e.get("event")
        if kind == "video_start":
            redo = " (partial output found: redoing)" if e.get("redo") else ""
            head = f"[{e['index'] + 1}/{len(spec.videos)}] {e['video']}"
            _print(f"{head}: {e['frames']} frames{redo}")
        elif kind == "video_skipped":
            _print(f"[{e['index'] + 1}/{len(spec.videos)}] {e['video']}: already complete")
        elif kind == "video_done":
            _print(f"  done: {e['h5']}")
        elif kind in ("engine_fallback", "fast_report"):
            _print(f"  {e['message']}")
        elif kind == "tracking":
            _print(f"tracking: {e['message']}")
        elif kind == "tracking_stage":
            state = "already done" if e.get("state") == "skipped" else "done"
            _print(f"  {e['stage']}: {state}")
        elif kind in ("video_incomplete", "video_failed", "error"):
            _print(f"  {kind.replace('_', ' ')}: {e.get('message')}")

    result = analyze(spec, on_event=event, on_log=(lambda s: None) if not args.verbose else _print)
    if not result.ok:
        print(f"napari-dlcflow analyze: {result.message}", file=sys.stderr)
        return 1
    return 0


def cmd_filter(args: argparse.Namespace) -> int:
    from napari_dlcflow.core.predictions.filtering import filter_file

    params: dict[str, Any] = {}
    if args.method in ("median", "savgol"):
        params["window"] = args.window
    if args.method == "savgol":
        params["polyorder"] = args.polyorder
    if args.method == "interpolate":
        params["pcutoff"] = args.pcutoff
        params["max_gap"] = args.max_gap
    if args.untracked:
        params["untracked"] = True
    if wants_batch(args):
        from napari_dlcflow.cli.batch import batch_filter

        return batch_filter(args, params)
    for h5 in later_step_files(args.analysis, args.untracked):
        out = filter_file(h5, args.method, csv=args.csv, **params)
        _print(str(out))
    return 0


def cmd_labeled_video(args: argparse.Namespace) -> int:
    from napari_dlcflow.core.jobs import emit
    from napari_dlcflow.core.layers.labeled_video import render_labeled_video
    from napari_dlcflow.core.layers.style import display_settings
    from napari_dlcflow.core.predictions.analysis_files import find_analysis_files

    if wants_batch(args):
        from napari_dlcflow.cli.batch import batch_labeled

        return batch_labeled(args)
    video = Path(sources([args.video], args.choice)[0])
    analysis = Path(args.analysis) if args.analysis else None
    if analysis is None:
        found = find_analysis_files(video, filtered=args.filtered)
        if not found:
            kind = "filtered analysis" if args.filtered else "analysis"
            raise FileNotFoundError(f"no {kind} file for {video} beside it; give --analysis")
        analysis = found[0]
    shown = display_settings(args.config or analysis)
    skeleton, pcutoff = shown.skeleton, shown.pcutoff
    if args.no_skeleton:
        skeleton = []
    cutoff = args.pcutoff if args.pcutoff is not None else (pcutoff or 0.6)

    def progress(done: int, total: int) -> None:
        if args.events and (done % 10 == 0 or done == total):
            emit("progress", done=done, total=total)

    out = render_labeled_video(
        video,
        analysis,
        args.out,
        pcutoff=cutoff,
        skeleton=skeleton,
        trail_length=args.trail,
        codec=args.codec,
        crf=args.crf,
        on_progress=progress,
    )
    if args.events:
        emit("done", path=str(out))
    _print(str(out))
    return 0


def register(sub: Any) -> None:
    """Add ``analyze``, ``filter`` and ``labeled-video`` to the CLI's subparsers."""
    p = sub.add_parser("analyze", help="analyze videos with a trained model (resumable)")
    add_config(p)
    p.add_argument("videos", nargs="+")
    add_model_options(p, legacy=True)  # docs/overlay.md: --trainingsetindex
    p.add_argument("--snapshot", help="snapshot index (-1: last) or 'best'")
    add_device(p, default=None)
    p.add_argument("--batch-size", type=int)
    p.add_argument("--csv", action="store_true", help="also write the .csv")
    p.add_argument("--destfolder", help="output folder (default: beside each video)")
    p.add_argument("--crop", help="analyse only this region: x1,x2,y1,y2")
    p.add_argument(
        "--engine",
        choices=("dlcflow", "dlc"),
        default="dlcflow",
        help="dlcflow: our faster loop over DLC's model, same predictions (default); "
        "dlc: DeepLabCut's analyze_videos",
    )
    p.add_argument(
        "--fast",
        action="store_true",
        help="dlcflow engine: half precision (bf16 CPU, fp16 GPU); reports how far it moves "
        "predictions on the labeled frames first",
    )
    p.add_argument("--verbose", action="store_true", help="print DeepLabCut's output")
    t = p.add_argument_group(
        "tracking (multi-animal projects; written to the model's inference_cfg.yaml)"
    )
    t.add_argument(
        "--tracker",
        choices=("box", "ellipse"),
        help="how animals are linked from frame to frame (default: box; DeepLabCut's ellipse "
        "tracker loses tracks in DLC 3.0.2, docs/multi-animal.md)",
    )
    t.add_argument("--iou-threshold", type=float, help="least overlap to link (default 0.2)")
    t.add_argument(
        "--box-slack", type=int, help="pixels added around each animal's box (default 10)"
    )
    t.add_argument("--max-age", type=int, help="frames a lost animal is kept (default 1)")
    t.add_argument("--min-hits", type=int, help="detections before a track starts (default 1)")
    t.add_argument(
        "--max-gap", type=int, help="largest gap stitching bridges (default: from the tracklets)"
    )
    t.add_argument(
        "--min-length", type=int, help="shorter tracklets are stitched last (default 10)"
    )
    t.add_argument("--animals", type=int, help="animals in the videos (default: the config's)")
    add_choice(p)
    add_batch_options(p)
    p.set_defaults(func=cmd_analyze)

    p = sub.add_parser("filter", help="filter analysis h5 files into DLC's _filtered.h5")
    p.add_argument("analysis", nargs="+", help="raw analysis .h5 files")
    p.add_argument(
        "--method", choices=("median", "savgol", "interpolate", "arima"), default="median"
    )
    p.add_argument("--window", type=int, default=5, help="median/savgol window (odd)")
    p.add_argument("--polyorder", type=int, default=2, help="savgol polynomial order")
    p.add_argument("--pcutoff", type=float, default=0.6, help="interpolate: gap threshold")
    p.add_argument("--max-gap", type=int, default=5, help="interpolate: longest gap filled")
    p.add_argument("--csv", action="store_true", help="also write the .csv")
    p.add_argument(
        "--untracked",
        action="store_true",
        help="also filter untracked multi-animal files (their individuals are detection "
        "slots, not animals; by default only the tracked _el.h5 is filtered)",
    )
    add_batch_options(p, "*DLC*.h5")
    p.set_defaults(func=cmd_filter)

    p = sub.add_parser("labeled-video", help="render a video with the predictions drawn on")
    p.add_argument("video", help="the video (with --cluster: a folder of videos, or one)")
    add_choice(p)
    p.add_argument("--analysis", help="analysis .h5 (default: the newest beside the video)")
    p.add_argument("--filtered", action="store_true", help="use the _filtered.h5")
    p.add_argument("--config", help="config.yaml for skeleton and pcutoff")
    p.add_argument("--pcutoff", type=float, help="default: the config's, else 0.6")
    p.add_argument("--trail", type=int, default=0, help="trail length in frames")
    p.add_argument("--no-skeleton", action="store_true")
    p.add_argument("--codec", choices=("libx264", "mpeg4", "mjpeg"), default="libx264")
    p.add_argument("--crf", type=int, default=23, help="x264 CRF, or qscale for mpeg4/mjpeg")
    p.add_argument("--out", help="output file (default: <analysis>_p<cutoff>_labeled.mp4)")
    p.add_argument("--events", action="store_true", help="(internal) JSON progress events")
    add_batch_options(p)
    p.set_defaults(func=cmd_labeled_video)
