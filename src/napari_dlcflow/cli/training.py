"""Command-line subcommands for training and evaluation (``train``, ``train-status``,
``evaluate``). Their child processes run through the engine's one hidden entry point
(:mod:`napari_dlcflow.core.engine.tasks`).

Kept apart from :mod:`napari_dlcflow.cli` so that module stays short; nothing heavy is
imported until a command runs.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path
from typing import Any

from napari_dlcflow.cli.options import add_config, add_device, add_model_options


def register(sub: Any) -> None:
    """Add the training and evaluation subcommands to the CLI's subparsers."""
    p = sub.add_parser(
        "train",
        help="train a network in a background job (survives closing the terminal with --detach)",
    )
    add_config(p)
    add_model_options(p)
    p.add_argument("--create-dataset", action="store_true", help="create the shuffle first")
    p.add_argument("--net-type", help="DeepLabCut net type for --create-dataset")
    p.add_argument(
        "--epochs", type=int, help="total epochs (default: 200; with --resume: as before)"
    )
    p.add_argument("--batch-size", type=int, default=8)
    p.add_argument("--lr", type=float, help="learning rate (default: the net type's)")
    p.add_argument("--save-epochs", type=int, default=25, help="snapshot every N epochs")
    p.add_argument("--eval-interval", type=int, default=10, help="test metrics every N epochs")
    add_device(p)
    p.add_argument("--gpus", help="comma-separated GPU indices to train on together")
    p.add_argument(
        "--weights",
        choices=("auto", "pretrained", "scratch"),
        default="auto",
        help="auto (default): pretrained when cached or online, else from scratch",
    )
    p.add_argument("--offline", action="store_true", help="never try to download weights")
    p.add_argument("--backbone", help="swap the backbone, e.g. resnet18 (small and fast)")
    p.add_argument("--crop-size", type=int, help="training crop width and height in pixels")
    p.add_argument("--resume", action="store_true", help="continue from the latest snapshot")
    p.add_argument("--detach", action="store_true", help="start the job and return at once")
    p.set_defaults(func=cmd_train)

    p = sub.add_parser("train-status", help="state and progress of a training job")
    add_config(p)
    add_model_options(p)
    p.add_argument("--cancel", action="store_true", help="stop it after the current epoch")
    p.add_argument("--wait", action="store_true", help="follow it until it ends")
    p.set_defaults(func=cmd_train_status)

    p = sub.add_parser("evaluate", help="evaluate snapshots and explain the metrics")
    add_config(p)
    add_model_options(p)
    p.add_argument("--snapshots", help="comma-separated epochs to evaluate (default: all)")
    add_device(p)
    p.add_argument("--no-run", action="store_true", help="only show results already on disk")
    p.set_defaults(func=cmd_evaluate)


def _model(config: Any, args: argparse.Namespace) -> Any:
    """The model (:class:`~napari_dlcflow.core.engine.model_ref.ModelRef`) the options name,
    or the last dataset's: made once per command and passed along."""
    from napari_dlcflow.core.engine.dataset import resolve_model

    return resolve_model(config, args.shuffle, args.trainset_index)


def _print_epochs(job: Any, shown: int) -> int:
    from napari_dlcflow.core.engine.training import format_seconds

    prog = job.progress()
    for e in prog.epochs:
        if e["epoch"] <= shown:
            continue
        line = f"epoch {e['epoch']:>4}/{prog.last_epoch}  train loss {e['train_loss']:.5f}"
        if e.get("valid_loss") is not None:
            line += f"  valid loss {e['valid_loss']:.5f}"
        if "test.rmse" in (e.get("metrics") or {}):
            line += f"  test RMSE {e['metrics']['test.rmse']:.2f} px"
        if e.get("snapshot"):
            line += f"  saved {e['snapshot']}"
        line += f"  (left: {format_seconds(prog.seconds_left())})"
        print(line, flush=True)
        shown = int(e["epoch"])
    return shown


def _follow(job: Any) -> int:
    """Print epochs until the job ends; Ctrl-C asks it to stop after the current epoch."""
    shown = job.progress().epoch
    print(f"following {job.train_folder} (Ctrl-C stops it after the current epoch)", flush=True)
    asked = False
    while True:
        try:
            st = job.status()
            shown = _print_epochs(job, shown)
            if st.done:
                return _report_end(st)
            time.sleep(1.0)
        except KeyboardInterrupt:
            if asked:
                job.cancel(now=True)
                print("stopping now", flush=True)
            else:
                job.cancel()
                asked = True
                print("cancel asked: stopping after this epoch (Ctrl-C again: now)", flush=True)


def _report_end(st: Any) -> int:
    if st.state == "finished":
        print("training finished")
        return 0
    if st.state == "cancelled":
        print("training cancelled; resume with: napari-dlcflow train CONFIG --resume")
        return 3
    print(f"training FAILED: {st.reason}", file=sys.stderr)
    if st.hint:
        print(f"hint: {st.hint}", file=sys.stderr)
    for line in st.log_tail[-10:]:
        print(f"  | {line}", file=sys.stderr)
    return 1


def cmd_train(args: argparse.Namespace) -> int:
    """``napari-dlcflow train``."""
    from napari_dlcflow.core.engine.training import (
        TrainSpec,
        find_job,
        resume_spec,
        start_training,
    )
    from napari_dlcflow.core.project.config import find_config

    config = find_config(args.config)
    if args.create_dataset:
        from napari_dlcflow.core.engine.dataset import DatasetSpec, create_datasets

        summary = create_datasets(
            config, DatasetSpec(first_shuffle=args.shuffle or 1, net_type=args.net_type)
        )
        made = summary.shuffles[0]
        print(
            f"dataset: shuffle {made['shuffle']}, {made['n_train']} training and "
            f"{made['n_test']} test images"
        )
    model = _model(config, args)
    folder = model.find_train_folder()
    print(f"shuffle {model.shuffle}, trainset index {model.trainset_index}: {folder.parent.name}")
    if args.resume:
        old = find_job(folder)
        if old is None:
            raise ValueError(f"no earlier job in {folder} to resume")
        spec = resume_spec(old, epochs=args.epochs)
        print(f"resuming from {Path(spec.resume_from or '').name}")
    else:
        from napari_dlcflow.core.engine.weights import choose_weights_in_child

        weights, note = choose_weights_in_child(
            folder / "pytorch_config.yaml",
            args.weights,
            backbone=args.backbone,
            offline=args.offline,
        )
        if note:
            print(note, flush=True)
        spec = TrainSpec(
            config=str(config),
            shuffle=model.shuffle,
            trainset_index=model.trainset_index,
            epochs=args.epochs or 200,
            batch_size=args.batch_size,
            learning_rate=args.lr,
            save_epochs=args.save_epochs,
            eval_interval=args.eval_interval,
            device=args.device,
            gpus=[int(g) for g in args.gpus.split(",")] if args.gpus else None,
            weights=weights,
            offline=args.offline,
            backbone=args.backbone,
            crop_size=args.crop_size,
        )
    job = start_training(spec, train_folder=folder, model=model)
    print(f"job started: log {job.log_file}", flush=True)
    if args.detach:
        return 0
    return _follow(job)


def cmd_train_status(args: argparse.Namespace) -> int:
    """``napari-dlcflow train-status``."""
    from napari_dlcflow.core.engine.training import find_job, format_seconds
    from napari_dlcflow.core.project.config import find_config

    folder = _model(find_config(args.config), args).find_train_folder()
    job = find_job(folder)
    if job is None:
        print(f"no training job has run in {folder}")
        return 1
    if args.cancel:
        job.cancel()
        print("cancel asked: the job stops after its current epoch")
    if args.wait:
        return _follow(job)
    st, prog = job.poll()
    print(
        f"state: {st.state}  epoch {prog.epoch}/{prog.last_epoch}  "
        f"left: {format_seconds(prog.seconds_left()) if not st.done else '-'}"
    )
    if st.state == "failed":
        return _report_end(st)
    return 0


def cmd_evaluate(args: argparse.Namespace) -> int:
    """``napari-dlcflow evaluate``."""
    from napari_dlcflow.core.engine.evaluation import (
        evaluate,
        explain,
        format_table,
        image_width,
        read_results,
        test_count,
    )
    from napari_dlcflow.core.project.config import find_config

    model = _model(find_config(args.config), args)
    snaps = [int(s) for s in args.snapshots.split(",")] if args.snapshots else None
    if args.no_run:
        results = read_results(model)
    else:
        results = evaluate(
            model,
            epochs=snaps,
            device=args.device,
            on_log=lambda line: None,
        )
    if not results:
        from napari_dlcflow.core.engine.training import list_snapshots

        folder = model.find_train_folder()
        if not list_snapshots(folder, check=True):
            print(f"no evaluation results: no snapshot in {folder} (train first)", file=sys.stderr)
        else:
            print(f"no evaluation results in {model.evaluation_folder}", file=sys.stderr)
        return 1
    print(format_table(results))
    print()
    notes = explain(
        results,
        image_width=image_width(model),
        n_test=test_count(model),
    )
    for line in notes:
        print(f"- {line}")
    return 0
