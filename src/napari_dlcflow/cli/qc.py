"""Command-line side of label quality control: ``check-labels``."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from napari_dlcflow.cli.options import add_config

__all__ = ["cmd_check_labels", "register"]


def cmd_check_labels(args: argparse.Namespace) -> int:
    """``check-labels``: print the likely labeling mistakes of a project (``--all``: and the
    notes), optionally all findings, notes included, as CSV (with a ``severity`` column).

    Exits 0 when no likely mistake was found, 1 when there are (so scripts can stop a run).
    """
    from napari_dlcflow.core.engine.evaluation import latest_frames
    from napari_dlcflow.core.labels.qc import (
        KINDS,
        check_labels,
        findings_csv,
        format_findings,
    )
    from napari_dlcflow.core.project.config import Project
    from napari_dlcflow.core.safe_io import atomic_write

    kinds = None
    if args.kinds:
        kinds = [k.strip() for k in args.kinds.split(",") if k.strip()]
        unknown = [k for k in kinds if k not in KINDS]
        if unknown:
            raise ValueError(
                f"--kinds: unknown check(s) {', '.join(unknown)} (known: {', '.join(KINDS)})"
            )
    project = Project.open(args.config)
    notes: list[str] = []  # run-level: views found from the positions
    findings = check_labels(
        project,
        kinds,
        include_dismissed=args.dismissed,
        evaluation=latest_frames(project.config_path),
        notes=notes,
    )
    shown = findings if args.all else [f for f in findings if f.mistake]
    print(format_findings(shown, hidden_notes=len(findings) - len(shown), notes=notes))
    if args.csv:
        out = Path(args.csv)
        atomic_write(out, findings_csv(findings), backup=False)
        print(f"written: {out}")
    return 1 if any(f.mistake for f in findings) else 0


def register(sub: Any) -> None:
    """Add ``check-labels`` to the CLI's subparsers (``--help`` stays light: nothing heavy is
    imported here)."""
    from napari_dlcflow.core.labels.qc_finding import KINDS

    p = sub.add_parser(
        "check-labels", help="find likely labeling mistakes (swaps, misplaced points, ...)"
    )
    add_config(p)
    p.add_argument("--csv", help="also write the findings to this CSV file")
    p.add_argument(
        "--kinds",
        help="comma-separated checks: " + ", ".join(KINDS) + " (default: all)",
    )
    p.add_argument(
        "--all",
        action="store_true",
        help="also print the notes (unlabeled parts, unusual but possible poses); the CSV "
        "always has them, with a severity column",
    )
    p.add_argument("--dismissed", action="store_true", help="include findings dismissed before")
    p.set_defaults(func=cmd_check_labels)
