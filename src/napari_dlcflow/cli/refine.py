"""Command-line side of the refine-and-retrain loop: outliers, predictions, merge, iterations."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from napari_dlcflow.cli.options import (
    add_choice,
    add_config,
    add_device,
    add_model_options,
    sources,
)

__all__ = ["register"]


def _project(config: str) -> Any:
    from napari_dlcflow.core.project.config import Project

    return Project.open(config)


def _frames(text: str | None) -> tuple[int, ...]:
    if not text:
        return ()
    try:
        return tuple(int(v) for v in text.replace(" ", "").split(",") if v)
    except ValueError:
        raise ValueError(f"--frames must be comma-separated frame numbers, got {text!r}") from None


def cmd_extract_outliers(args: argparse.Namespace) -> int:
    """``extract-outliers``: find outlier frames of analysed videos and extract them."""
    from napari_dlcflow.core.predictions.analysis_files import PredictionsError
    from napari_dlcflow.core.refine.outliers import OutlierSpec, extract_outliers

    project = _project(args.config)
    criteria = tuple(args.criteria.split(","))
    frames = _frames(args.frames)
    if frames and "manual" not in criteria:
        criteria = (*criteria, "manual")
    spec = OutlierSpec(
        criteria=criteria,
        epsilon=args.epsilon,
        p_bound=args.p_bound,
        fit=args.fit,
        window=args.window,
        bodyparts=tuple(args.bodyparts.split(",")) if args.bodyparts else None,
        individuals=tuple(args.individuals.split(",")) if args.individuals else None,
        frames=frames,
        n=args.n if args.n is not None else int(project.get("numframes2pick") or 20),
        selection=args.selection,
        use_crop=args.crop,
        seed=args.seed,
    )
    if args.choice and not args.videos:
        raise ValueError("--choice needs the videos it applies to")
    videos = sources(args.videos, args.choice) if args.videos else list(project.videos)
    if args.analysis and len(videos) != 1:
        raise ValueError("--analysis names one file: give exactly one video with it")
    failed = 0
    for video in videos:
        try:
            result = extract_outliers(project, video, spec, analysis=args.analysis)
        except (PredictionsError, FileNotFoundError) as exc:
            print(f"{video}: {exc}", file=sys.stderr)
            failed += 1
            continue
        print(result.format())
    return 1 if failed else 0


def cmd_predict_frames(args: argparse.Namespace) -> int:
    """``predict-frames``: machine labels for the unlabeled images of labeled-data folders."""
    from napari_dlcflow.core.refine.assist import predict_folder

    project = _project(args.config)
    folders = [Path(f) for f in args.folders] or sorted(
        p for p in (project.root / "labeled-data").iterdir() if p.is_dir()
    )
    for folder in folders:
        result = predict_folder(
            project,
            folder,
            use_model=not args.analysis_only,
            shuffle=args.shuffle,
            trainset_index=args.trainset_index,
            device=args.device,
        )
        print(result.format())
    return 0


def cmd_merge_machine_labels(args: argparse.Namespace) -> int:
    """``merge-machine-labels``: accept machine labels of unlabeled images as ground truth."""
    from napari_dlcflow.core.refine.iteration import merge_folder

    project = _project(args.config)
    folders = [Path(f) for f in args.folders] or sorted(
        p for p in (project.root / "labeled-data").glob("*") if list(p.glob("machinelabels*.h5"))
    )
    if not folders:
        print("No labeled-data folder has machine labels.")
        return 0
    for folder in folders:
        result = merge_folder(
            project, folder, min_likelihood=args.min_likelihood, dry_run=args.dry_run
        )
        verb = "would change" if args.dry_run else ("saved" if result.saved else "unchanged")
        print(f"{folder.name} ({verb}): {result.summary.format()}")
        if result.low_likelihood:
            print(f"  {result.low_likelihood} prediction(s) below the cutoff left unlabeled")
    return 0


def cmd_next_iteration(args: argparse.Namespace) -> int:
    """``next-iteration``: merge, bump the iteration, create the dataset, maybe train."""
    from napari_dlcflow.core.refine.iteration import (
        MachineLabelsPendingError,
        next_iteration,
        next_train_spec,
    )

    project = _project(args.config)
    try:
        result = next_iteration(
            project,
            accept_pending=args.accept_pending,
            create=not args.no_dataset,
            shuffle=args.shuffle,
            net_type=args.net_type,
        )
    except MachineLabelsPendingError as exc:
        print(f"napari-dlcflow next-iteration: {exc} (or pass --accept-pending)", file=sys.stderr)
        return 2
    print(result.format())
    if not args.train:
        return 0
    if result.init_snapshot is None:
        print("No snapshot of the previous iteration to start from; train with `train`.")
        return 1
    from napari_dlcflow.core.engine.training import start_training

    spec = next_train_spec(project, result.init_snapshot, args.shuffle)
    if args.epochs:
        spec.epochs = args.epochs
    job = start_training(spec)
    print(f"Training started in {job.train_folder} (follow it with `train-status`).")
    if args.wait:
        status = job.wait()
        print(f"Training {status.state}.")
        return 0 if status.state == "finished" else 1
    return 0


def cmd_iterations(args: argparse.Namespace) -> int:
    """``iterations``: the project's iteration history as a table."""
    from napari_dlcflow.core.refine.iteration import (
        HISTORY_COLUMNS,
        iteration_history,
        pending_machine_labels,
    )

    project = _project(args.config)
    rows = [list(HISTORY_COLUMNS)] + [i.row() for i in iteration_history(project)]
    widths = [max(len(r[c]) for r in rows) for c in range(len(HISTORY_COLUMNS))]
    for r in rows:
        print("  ".join(cell.ljust(w) for cell, w in zip(r, widths, strict=True)).rstrip())
    pending = pending_machine_labels(project)
    for folder, n in pending.items():
        print(f"{folder.name}: {n} machine-labeled image(s) wait for review")
    return 0


def register(sub: Any) -> None:
    """Add the refine-loop subcommands to the CLI's subparsers."""
    p = sub.add_parser("extract-outliers", help="extract frames where the model is likely wrong")
    add_config(p)
    p.add_argument("videos", nargs="*", help="analysed videos (default: all in video_sets)")
    add_choice(p)
    p.add_argument(
        "--analysis",
        help="the analysis h5 (default: newest beside the video; its tracked _el.h5 if any)",
    )
    p.add_argument(
        "--criteria",
        default="jump",
        help="comma-separated: jump, uncertain, fitting, manual (default: %(default)s)",
    )
    p.add_argument("--frames", help="frames marked by hand, e.g. 120,455,980 (adds manual)")
    p.add_argument("--epsilon", type=float, default=20.0, help="pixels (default: %(default)s)")
    p.add_argument("--p-bound", type=float, default=0.01, help="likelihood (default: %(default)s)")
    p.add_argument("--fit", choices=("median", "arima"), default="median")
    p.add_argument("--window", type=int, default=9, help="median fit window (frames, odd)")
    p.add_argument("--bodyparts", help="comma-separated body parts to consider (default: all)")
    p.add_argument(
        "--individuals", help="multi-animal: comma-separated animals to consider (default: all)"
    )
    p.add_argument("--n", type=int, default=None, help="frames per video (numframes2pick)")
    p.add_argument("--selection", choices=("kmeans", "uniform"), default="kmeans")
    p.add_argument("--crop", action="store_true", help="crop frames to the video_sets crop")
    p.add_argument("--seed", type=int, default=0)
    p.set_defaults(func=cmd_extract_outliers)

    p = sub.add_parser(
        "predict-frames", help="the model's predictions on unlabeled frames, to correct"
    )
    add_config(p)
    p.add_argument("folders", nargs="*", help="labeled-data folders (default: all)")
    p.add_argument(
        "--analysis-only", action="store_true", help="only use analysis files, never run the model"
    )
    add_model_options(p)
    add_device(p, default=None)
    p.set_defaults(func=cmd_predict_frames)

    p = sub.add_parser(
        "merge-machine-labels",
        help="accept machine labels of unlabeled images into CollectedData (nothing is deleted)",
    )
    add_config(p)
    p.add_argument("folders", nargs="*", help="labeled-data folders (default: all with some)")
    p.add_argument(
        "--min-likelihood", type=float, default=None, help="default: the project's pcutoff"
    )
    p.add_argument("--dry-run", action="store_true", help="only print what would change")
    p.set_defaults(func=cmd_merge_machine_labels)

    p = sub.add_parser(
        "next-iteration", help="bump the iteration, create its dataset, optionally train"
    )
    add_config(p)
    p.add_argument(
        "--accept-pending",
        action="store_true",
        help="accept machine labels not reviewed yet (pcutoff rule) instead of stopping",
    )
    p.add_argument("--no-dataset", action="store_true", help="do not create the dataset")
    p.add_argument("--shuffle", type=int, default=1)
    p.add_argument("--net-type", default=None, help="default: the previous iteration's")
    p.add_argument(
        "--train", action="store_true", help="start training from the previous best snapshot"
    )
    p.add_argument("--epochs", type=int, default=None, help="default: the previous training's")
    p.add_argument("--wait", action="store_true", help="wait for the training to end")
    p.set_defaults(func=cmd_next_iteration)

    p = sub.add_parser("iterations", help="the iteration history: frames, snapshots, errors")
    add_config(p)
    p.set_defaults(func=cmd_iterations)
