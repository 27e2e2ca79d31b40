"""Command-line subcommands for tracks (identities): ``compare-tracks``, ``track-report``.

How good are the tracks: scored against a truth (IDF1, MOTA, identity switches, keypoint errors
per individual) or described on their own (missing animals, tracklets, gaps). Each command
imports what it needs when it runs.
"""

from __future__ import annotations

import argparse
import json
import math
import warnings
from typing import Any


def _px(value: float | None) -> str:
    return "-" if value is None or math.isnan(value) else f"{value:.2f}"


def _load(path: str) -> Any:
    from napari_dlcflow.core.formats.tracks import load_tracks

    with warnings.catch_warnings():  # the notes carry what the warnings say
        warnings.simplefilter("ignore", UserWarning)
        return load_tracks(path)


def cmd_compare_tracks(args: argparse.Namespace) -> int:
    from napari_dlcflow.core.predictions.tracks import compare_tracks

    pred, truth = _load(args.predictions), _load(args.truth)
    result = compare_tracks(
        pred,
        truth,
        threshold=args.threshold,
        require_names=not args.ignore_names,
        common_bodyparts=args.common_bodyparts,
    )
    if args.json:
        print(json.dumps(result.to_dict()))
        return 0
    print(f"predictions: {pred.name}")
    print(f"truth:       {truth.name}")
    print(f"frames compared: {result.frames}, match threshold: {result.threshold:.1f} px")
    print(f"IDF1: {result.idf1:.4f}")
    print(f"MOTA: {result.mota:.4f}")
    print(
        f"identity switches: {result.switches} ({result.switches_per_1000:.2f} per 1,000 frames)"
    )
    print(f"frames with every animal found: {100.0 * result.all_found:.1f}%")
    rows = [("individual", "predicted as", "matched", "median px", "mean px")]
    for e in result.per_individual:
        rows.append(
            (
                e.individual,
                e.predicted or "-",
                f"{e.matched_frames}/{e.present_frames}",
                _px(e.median_px),
                _px(e.mean_px),
            )
        )
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    for r in rows:
        print("  " + "  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)).rstrip())
    for note in result.notes:
        print(f"note: {note}")
    return 0


def cmd_track_report(args: argparse.Namespace) -> int:
    from napari_dlcflow.core.predictions.tracks import track_report

    tracks = _load(args.tracks)
    report = track_report(tracks, expected=args.animals)
    if args.json:
        print(json.dumps(report.to_dict()))
        return 0
    print(report.summary)
    rows = [("individual", "frames present", "tracklets", "gaps", "longest gap")]
    for p in report.per_individual:
        rows.append(
            (
                p.individual,
                str(p.frames_present),
                str(p.tracklets),
                str(p.gaps),
                str(p.longest_gap),
            )
        )
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    for r in rows:
        print("  " + "  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)).rstrip())
    for note in report.notes:
        print(f"note: {note}")
    return 0


def register(sub: Any) -> None:
    """Add ``compare-tracks`` and ``track-report`` to the CLI's subparsers."""
    p = sub.add_parser(
        "compare-tracks",
        help="score tracked predictions against a truth (IDF1, MOTA, identity switches)",
    )
    p.add_argument("predictions", help="tracks: DeepLabCut .h5/.csv (e.g. *_el.h5) or SLEAP .slp")
    p.add_argument("truth", help="the true tracks of the same video (same formats; x, y only ok)")
    p.add_argument(
        "--threshold",
        type=float,
        metavar="PX",
        help="largest distance of a match in pixels "
        "(default: half the truth's median body size, the keypoints' bounding-box diagonal)",
    )
    p.add_argument(
        "--ignore-names",
        action="store_true",
        help="compare identities whatever their names (by default the truth's individuals "
        "must exist in the predictions)",
    )
    p.add_argument(
        "--common-bodyparts",
        action="store_true",
        help="compare the body parts both files have when the truth has more",
    )
    p.add_argument("--json", action="store_true", help="print one JSON object")
    p.set_defaults(func=cmd_compare_tracks)

    p = sub.add_parser(
        "track-report", help="describe tracks without a truth: missing animals, tracklets, gaps"
    )
    p.add_argument("tracks", help="DeepLabCut .h5/.csv (e.g. *_el.h5) or SLEAP .slp")
    p.add_argument(
        "--animals",
        type=int,
        metavar="N",
        help="animals expected in every frame (default: the file's number of individuals)",
    )
    p.add_argument("--json", action="store_true", help="print one JSON object")
    p.set_defaults(func=cmd_track_report)
