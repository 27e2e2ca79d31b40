"""Command-line subcommands for tracks (identities): ``compare-tracks``, ``track-report``,
``check-tracks``.

How good are the tracks: scored against a truth (IDF1, MOTA, identity switches, keypoint errors
per individual), described on their own (missing animals, tracklets, gaps), or searched for the
places where identities are likely wrong, ranked (``check-tracks``). Each command imports what
it needs when it runs.
"""

from __future__ import annotations

import argparse
import csv
import io
import json
import math
import warnings
from pathlib import Path
from typing import Any

#: The columns of ``check-tracks``' table and CSV.
CHECK_COLUMNS = ("frame", "identities", "kind", "score", "why")


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
    options = {
        "threshold": args.threshold,
        "require_names": not args.ignore_names,
        "common_bodyparts": args.common_bodyparts,
    }
    result = compare_tracks(pred, truth, **options)
    before = None
    if args.before:
        before_path = args.before
        if before_path == "original":
            from napari_dlcflow.core.proofread import original_version

            before_path = original_version(args.predictions)
        before = compare_tracks(_load(str(before_path)), truth, **options)
    if args.json:
        doc = result.to_dict()
        if before is not None:
            doc = {"before": before.to_dict(), "after": doc, "before_file": str(before_path)}
        print(json.dumps(doc))
        return 0
    if before is not None:
        print(f"before:      {before_path}")
        print(
            f"  IDF1 {before.idf1:.4f} -> {result.idf1:.4f}, MOTA {before.mota:.4f} -> "
            f"{result.mota:.4f}, identity switches {before.switches} -> {result.switches}, "
            f"every animal found {100.0 * before.all_found:.1f}% -> "
            f"{100.0 * result.all_found:.1f}%"
        )
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


def _kinds(text: str | None) -> tuple[str, ...] | None:
    from napari_dlcflow.core.proofread.candidates import CANDIDATE_KINDS

    if not text:
        return None
    kinds = tuple(k.strip() for k in text.split(",") if k.strip())
    unknown = [k for k in kinds if k not in CANDIDATE_KINDS]
    if unknown or not kinds:
        raise ValueError(
            f"--kinds: unknown kind(s) {', '.join(unknown) or repr(text)} "
            f"(known: {', '.join(CANDIDATE_KINDS)})"
        )
    return kinds


def cmd_check_tracks(args: argparse.Namespace) -> int:
    """``check-tracks``: the frames where identities are likely wrong, ranked.

    Exits 0 when nothing was found, 1 when there are candidates (as ``check-labels``).
    """
    from napari_dlcflow.core.proofread.candidates import CANDIDATE_KINDS, find_candidates
    from napari_dlcflow.core.safe_io import atomic_write

    kinds = _kinds(args.kinds)
    for name, value in (("--top", args.top), ("--animals", args.animals)):
        if value is not None and value < 1:
            raise ValueError(f"{name} must be at least 1, not {value}")
    out = Path(args.csv) if args.csv else None
    if out is not None and not out.parent.is_dir():
        raise FileNotFoundError(f"--csv: no such folder: {out.parent}")
    tracks = _load(args.tracks)
    found = find_candidates(tracks, expected=args.animals, min_fragment=args.min_fragment)
    if kinds is not None:
        found = [c for c in found if c.kind in kinds]
    shown = found[: args.top] if args.top else found
    expected = args.animals or len(tracks.individuals)
    counts = {k: sum(c.kind == k for c in found) for k in CANDIDATE_KINDS}
    summary = ", ".join(f"{k} {n}" for k, n in counts.items() if n)
    print(
        f"{tracks.name}: {tracks.n_frames} frames, {len(tracks.individuals)} identities, "
        f"{expected} animals expected: {len(found)} candidate{'s' if len(found) != 1 else ''}"
        + (f" ({summary})" if found else "")
    )
    if shown:
        if len(shown) < len(found):
            print(f"the top {len(shown)}, best first:")
        rows = [CHECK_COLUMNS] + [
            (str(c.frame), ", ".join(c.individuals), c.kind, f"{c.score:.3f}", c.why)
            for c in shown
        ]
        widths = [max(len(r[i]) for r in rows) for i in range(len(CHECK_COLUMNS) - 1)]
        for r in rows:
            cells = [c.ljust(w) for c, w in zip(r[:-1], widths, strict=True)]
            print("  " + "  ".join([*cells, r[-1]]).rstrip())
    for note in tracks.notes:
        print(f"note: {note}")
    if out is not None:
        buf = io.StringIO()
        w = csv.writer(buf, lineterminator="\n")
        w.writerow(CHECK_COLUMNS)
        for c in shown:
            w.writerow([c.frame, "+".join(c.individuals), c.kind, f"{c.score:.3f}", c.why])
        atomic_write(out, buf.getvalue(), backup=False)
        print(f"written: {out}")
    return 1 if found else 0


def register(sub: Any) -> None:
    """Add ``compare-tracks``, ``track-report`` and ``check-tracks`` to the CLI's
    subparsers."""
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
    p.add_argument(
        "--before",
        metavar="FILE",
        help="also score an earlier version of the predictions and show before -> after; "
        "'original' is the version before proofreading (found through the edit log)",
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

    p = sub.add_parser(
        "check-tracks",
        help="find where identities are likely wrong (swaps, crossings, gaps), ranked",
        description="List the frames where identities are likely wrong, best first: jumps "
        "(the identities of two animals look exchanged), crossings, swaps after a gap, short "
        "fragments, frames with fewer animals than expected. Exits 0 when nothing was found, "
        "1 when there are candidates, 2 on bad input.",
    )
    p.add_argument("tracks", help="DeepLabCut .h5/.csv (e.g. *_el.h5) or SLEAP .slp")
    p.add_argument(
        "--animals",
        type=int,
        metavar="N",
        help="animals expected in every frame (default: the file's number of individuals)",
    )
    p.add_argument(
        "--min-fragment",
        type=int,
        default=5,
        metavar="N",
        help="a piece of track shorter than N frames is a short fragment (default: 5)",
    )
    p.add_argument(
        "--kinds",
        help="comma-separated kinds: jump, crossing, swap_after_gap, short_fragment, missing "
        "(default: all)",
    )
    p.add_argument("--top", type=int, metavar="N", help="show (and write) the N best only")
    p.add_argument(
        "--csv",
        metavar="OUT",
        help="also write the candidates to this CSV file (columns frame, identities joined "
        "with +, kind, score, why)",
    )
    p.set_defaults(func=cmd_check_tracks)
