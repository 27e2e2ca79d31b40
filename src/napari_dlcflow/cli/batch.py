"""``--cluster``: ``preprocess``, ``analyze``, ``filter`` and ``labeled-video`` on a Dask cluster.

Each of those commands takes the shared options of :func:`add_batch_options`: many inputs or
folders (expanded with ``--glob``) and ``--cluster local|ADDRESS|PROFILE``. With ``--cluster``
the command builds one :class:`~napari_dlcflow.core.batch.tasks.VideoTask` per input and runs
them with :func:`~napari_dlcflow.core.batch.runner.run_batch`: a live progress line per change
of a video (state, frames, frames/s, worker), an overall line every few seconds, the summary
table at the end, also saved as CSV. Ctrl-C cancels the batch (a second one aborts).
"""

from __future__ import annotations

import argparse
import signal
import sys
import time
from pathlib import Path
from typing import Any

__all__ = [
    "add_batch_options",
    "batch_analyze",
    "batch_filter",
    "batch_labeled",
    "batch_preprocess",
    "expand_inputs",
    "run_cli_batch",
    "wants_batch",
]

_SHOWN = ("video", "state", "frames", "fps", "mean_likelihood", "below_pcutoff", "worker")


def add_batch_options(p: argparse.ArgumentParser, glob_default: str = "*.mp4") -> None:
    """Add ``--cluster``, ``--glob``, ``--workers``, ``--gpus``, ``--retries``, ``--summary``
    and ``--project`` to a subcommand."""
    g = p.add_argument_group("many videos on a Dask cluster (issue 15; docs/scale.md)")
    g.add_argument(
        "--cluster",
        help="run one task per video on a Dask cluster: 'local' (this machine, one worker per "
        "core, or per GPU for analysis), a scheduler address (tcp://host:8786), or a cluster "
        "profile (a name in the project's dlcflow.yaml, or a .yaml file)",
    )
    g.add_argument(
        "--glob",
        default=glob_default,
        help="files taken from a folder given as input (default: %(default)s)",
    )
    g.add_argument("--workers", type=int, help="local cluster: workers (default: cores/GPUs)")
    g.add_argument("--gpus", help="local cluster: GPU indices to use, e.g. 0,1 (analysis)")
    g.add_argument(
        "--retries",
        type=int,
        default=2,
        help="times a video's task may lose its worker before it is failed (default: 2)",
    )
    g.add_argument("--summary", help="summary CSV (default: batch-summary.csv in the output)")
    g.add_argument("--project", help="project folder whose dlcflow.yaml holds the profile")


def wants_batch(args: argparse.Namespace) -> bool:
    """Whether the command line asked for a batch (``--cluster``)."""
    return bool(getattr(args, "cluster", None))


def expand_inputs(
    paths: list[str],
    pattern: str,
    *,
    exclude_suffix: str = "",
    keep_unmatched_folders: bool = False,
) -> list[str]:
    """Files as given, folders replaced by their files matching ``pattern`` (sorted).

    ``keep_unmatched_folders``: a folder without a match is itself an input (an image folder
    for preprocessing).

    Raises
    ------
    FileNotFoundError
        If an input does not exist or a folder has no matching file (naming it).
    """
    from napari_dlcflow.core.video.source import parse_source_key

    out: list[str] = []
    for text in paths:
        p = Path(text)
        if p.is_dir():
            found = sorted(
                str(f)
                for f in p.glob(pattern)
                if f.is_file()
                and not f.name.startswith(".")
                and not (exclude_suffix and f.stem.endswith(exclude_suffix))
            )
            if not found and keep_unmatched_folders:
                found = [str(p)]
            if not found:
                raise FileNotFoundError(f"no file matching {pattern!r} in folder {p}")
            out += found
        elif p.exists() or parse_source_key(p).path.exists():  # a channel's key: its file
            out.append(str(p))
        else:
            raise FileNotFoundError(f"input {p} does not exist")
    return list(dict.fromkeys(out))


def later_step_files(files: list[str], untracked: bool) -> list[str]:
    """``files`` without DeepLabCut's skeleton analyses and, unless ``untracked``, without the
    untracked files whose tracked file is among them (each one left out said on stderr)."""
    from napari_dlcflow.core.predictions.analysis_files import prefer_tracked

    kept = {Path(p) for p in prefer_tracked(files)}
    out = []
    for f in files:
        if Path(f) in kept or (untracked and not Path(f).stem.endswith("_skeleton")):
            out.append(f)
        else:
            print(
                f"{f}: skipped (its tracked file is among the inputs, or it is a skeleton "
                "analysis)",
                file=sys.stderr,
            )
    return out


class _Printer:
    """Plain-text live progress: a line per state change, frames every few seconds."""

    def __init__(self, every: float = 5.0) -> None:
        self.every = every
        self.last_state: dict[str, str] = {}
        self.last_line: dict[str, float] = {}
        self.last_overall = time.monotonic()

    def __call__(self, table: Any, row: Any) -> None:
        now = time.monotonic()
        name = Path(row.video).name
        changed = self.last_state.get(row.video) != row.state
        if changed or now - self.last_line.get(row.video, 0) >= self.every:
            self.last_state[row.video] = row.state
            self.last_line[row.video] = now
            frames = f"{row.frames_done}/{row.frames_total or '?'}"
            rate = f" {row.fps:.1f} f/s" if row.fps and row.state == "running" else ""
            tail = f"  {row.error}" if row.error and row.state == "failed" else ""
            retry = f" (attempt {row.attempts})" if row.attempts > 1 else ""
            print(
                f"  {name:<32} {row.state:<9} {frames:>11}{rate} {row.worker}{retry}{tail}",
                flush=True,
            )
        if now - self.last_overall >= self.every:
            self.last_overall = now
            print(
                f"[{table.finished}/{len(table.videos)} videos] {table.frames_done} frames, "
                f"{table.fps:.1f} frames/s overall",
                flush=True,
            )


def run_cli_batch(args: argparse.Namespace, tasks: list[Any]) -> int:
    """Run ``tasks`` on ``--cluster`` with live progress; print and save the summary
    (``--summary``, else :func:`~napari_dlcflow.core.batch.runner.default_summary_csv`).

    Returns
    -------
    int
        0 when every video is done or skipped, 1 otherwise.
    """
    from napari_dlcflow.core.batch.cluster import open_cluster
    from napari_dlcflow.core.batch.runner import (
        default_summary_csv,
        run_batch,
        write_summary_csv,
    )

    if not tasks:
        raise ValueError("no input to work on")
    kind = tasks[0].kind
    device = str(getattr(args, "device", "") or "")
    gpus = [g.strip() for g in args.gpus.split(",")] if args.gpus else None
    project = args.project or getattr(args, "config", None)
    stop = {"asked": False}

    def interrupt(_sig: int, _frame: Any) -> None:
        if stop["asked"]:
            raise KeyboardInterrupt
        stop["asked"] = True
        print("cancelling the batch (Ctrl-C again to abort)...", file=sys.stderr, flush=True)

    previous = signal.signal(signal.SIGINT, interrupt)
    try:
        with open_cluster(
            args.cluster,
            project_root=project,
            n_workers=args.workers,
            gpus=gpus,
            use_gpus=kind == "analyze" and device != "cpu",
            allowed_failures=args.retries,
        ) as opened:
            print(opened.description, flush=True)
            if opened.dashboard:
                print(f"dashboard: {opened.dashboard}", flush=True)
            for t in tasks:
                t.threads = opened.threads_per_task
            result = run_batch(
                tasks, opened.client, on_progress=_Printer(), should_stop=lambda: stop["asked"]
            )
    finally:
        signal.signal(signal.SIGINT, previous)
    summary = Path(args.summary) if args.summary else default_summary_csv(tasks)
    write_summary_csv(result, summary)
    table = result.table()
    table["video"] = [Path(v).name for v in table["video"]]
    print(table[list(_SHOWN)].to_string(index=False, na_rep="-"))
    n_ok = sum(r["state"] in ("done", "skipped") for r in result.rows)
    print(f"{n_ok}/{len(result.rows)} videos complete in {result.seconds:.1f} s")
    print(f"summary: {summary}")
    for r in result.failed():
        print(f"failed: {r['video']}: {r['error']}", file=sys.stderr)
    return 0 if result.ok else 1


# ------------------------------------------------------------- the commands' batch variants


def batch_preprocess(args: argparse.Namespace, spec: Any) -> int:
    """``preprocess ... --cluster``: one task per video (image folders stay one input)."""
    from napari_dlcflow.core.batch.tasks import VideoTask
    from napari_dlcflow.core.video.source import parse_source_key

    inputs = expand_inputs(args.videos, args.glob, keep_unmatched_folders=True)
    if getattr(args, "choice", None):  # the same channel/z/scene of every file
        from napari_dlcflow.cli.options import sources

        inputs = sources(inputs, args.choice)
    tasks = []
    for path in inputs:
        here = parse_source_key(path).path.parent  # beside the file, also for a key
        out_dir = Path(args.out) if args.out else here / "preprocessed"
        tasks.append(VideoTask("preprocess", path, str(out_dir), spec.to_dict()))
    return run_cli_batch(args, tasks)


def batch_analyze(args: argparse.Namespace, spec: Any) -> int:
    """``analyze ... --cluster``: one analysis child per video, on the worker that runs it."""
    from dataclasses import replace

    from napari_dlcflow.core.batch.tasks import analysis_tasks

    videos = expand_inputs(spec.videos, args.glob)
    if getattr(args, "choice", None):  # the same channel/z/scene of every file
        from napari_dlcflow.cli.options import sources

        videos = sources(videos, args.choice)
    spec = replace(spec, videos=videos)
    return run_cli_batch(args, analysis_tasks(spec))


def batch_filter(args: argparse.Namespace, params: dict[str, Any]) -> int:
    """``filter ... --cluster``: one task per raw analysis file."""
    from napari_dlcflow.core.batch.tasks import VideoTask

    files = expand_inputs(args.analysis, args.glob, exclude_suffix="_filtered")
    files = later_step_files(files, args.untracked)
    p = {"method": args.method, "csv": args.csv, **params}
    tasks = [VideoTask("filter", f, None, dict(p)) for f in files]
    return run_cli_batch(args, tasks)


def batch_labeled(args: argparse.Namespace) -> int:
    """``labeled-video VIDEO_OR_FOLDER --cluster``: one task per video."""
    from napari_dlcflow.core.batch.tasks import VideoTask

    if args.analysis:
        raise ValueError("--analysis names one file; with --cluster each video's is found")
    params: dict[str, Any] = {
        "filtered": args.filtered,
        "config": args.config,
        "pcutoff": args.pcutoff,
        "trail_length": args.trail,
        "codec": args.codec,
        "crf": args.crf,
    }
    if args.no_skeleton:
        params["skeleton"] = []
    videos = expand_inputs([args.video], args.glob)
    tasks = [VideoTask("labeled", v, args.out, params) for v in videos]
    return run_cli_batch(args, tasks)
