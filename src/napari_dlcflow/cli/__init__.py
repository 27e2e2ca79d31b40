"""The ``napari-dlcflow`` command line: the same core calls the dock widgets make.

``--help`` stays light: subcommands import what they need when they run.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Sequence
from pathlib import Path

from napari_dlcflow import __version__
from napari_dlcflow.cli.batch import add_batch_options, wants_batch


def _cmd_info(args: argparse.Namespace) -> int:
    from napari_dlcflow.info import collect_info

    for key, value in collect_info(gpus=not args.no_gpu).items():
        print(f"{key:<22} {value}")
    return 0


def _cmd_sample(args: argparse.Namespace) -> int:
    from napari_dlcflow.core.example.synthetic import SyntheticSpec, write_synthetic_example

    spec = SyntheticSpec(n_frames=args.frames, height=args.size, width=args.size, seed=args.seed)
    files = write_synthetic_example(args.out, spec)
    print(f"video: {files.video}\ntruth: {files.truth_csv}")
    return 0


def _cmd_create(args: argparse.Namespace) -> int:
    from napari_dlcflow.core.project.create import create_project

    parts = [b.strip() for b in args.bodyparts.split(",")] if args.bodyparts else None
    project = create_project(
        args.task,
        args.scorer,
        args.videos,
        args.dir,
        copy_videos=args.copy,
        multianimal=args.multi_animal,
        bodyparts=parts,
    )
    print(project.config_path)
    return 0


def _cmd_check(args: argparse.Namespace) -> int:
    from napari_dlcflow.core.engine.dlc_check import check_config_in_child
    from napari_dlcflow.core.project.config import Project

    project = Project.open(args.config)  # our own checks first: they name the line
    if not project.project_path_ok:
        print(f"warning: project_path is {project.project_path!r}, not {project.root}")
    verdict = check_config_in_child(project.config_path)
    print(("OK: " if verdict.ok else "REJECTED: ") + verdict.message)
    return 0 if verdict.ok else 1


def _cmd_dlc_check(args: argparse.Namespace) -> int:
    from napari_dlcflow.core.engine.dlc_check import check_config_here

    check_config_here(args.config)
    return 0


def _cmd_demo(args: argparse.Namespace) -> int:
    from napari_dlcflow.demo import run_demo

    return run_demo(
        Path(args.out),
        n_frames=args.frames,
        seed=args.seed,
        dlc_check=not args.no_dlc_check,
        headless=args.headless,
        epochs=args.epochs,
        n_labeled=args.labeled,
        refine_epochs=args.refine_epochs,
    )


def _cmd_train(args: argparse.Namespace) -> int:
    from napari_dlcflow.cli.training import cmd_train

    return cmd_train(args)


def _cmd_train_status(args: argparse.Namespace) -> int:
    from napari_dlcflow.cli.training import cmd_train_status

    return cmd_train_status(args)


def _cmd_evaluate(args: argparse.Namespace) -> int:
    from napari_dlcflow.cli.training import cmd_evaluate

    return cmd_evaluate(args)


def _cmd_training_internal(args: argparse.Namespace) -> int:
    from napari_dlcflow.cli.training import cmd_internal

    return cmd_internal(args)


def _cmd_predictions(name: str) -> Callable[[argparse.Namespace], int]:
    def run(args: argparse.Namespace) -> int:
        from napari_dlcflow.cli import predictions as cli_predictions
        return getattr(cli_predictions, f"cmd_{name}")(args)

    return run


def _cmd_dataset(name: str) -> Callable[[argparse.Namespace], int]:
    def run(args: argparse.Namespace) -> int:
        from napari_dlcflow.cli import dataset as cli_dataset
        return getattr(cli_dataset, f"cmd_{name}")(args)

    return run


def _cmd_preprocess(args: argparse.Namespace) -> int:
    from napari_dlcflow.core.video.preprocess import (
        ContrastParams,
        OutputParams,
        PreprocessSpec,
        Roi,
        preprocess_batch,
        read_sidecar,
    )

    if args.like:
        spec, _ = read_sidecar(args.like)
    else:
        spec = PreprocessSpec(
            roi=Roi.parse(args.roi) if args.roi else None,
            contrast=ContrastParams(
                method=args.contrast,
                saturated=args.saturated,
                scope=args.scope,
                normalize=args.normalize,
                clahe_tiles=args.clahe_tiles,
                clahe_clip=args.clahe_clip,
                gamma=args.gamma,
            ),
            output=OutputParams(
                codec="lossless" if args.lossless else "h264", crf=args.crf, preset=args.preset
            ),
        )
    spec.check()
    if wants_batch(args):
        from napari_dlcflow.cli.batch import batch_preprocess

        return batch_preprocess(args, spec)

    def progress(k: int, done: int, total: int) -> None:
        if done == total or done % 200 == 0:
            print(f"  {args.videos[k]}: {done}/{total}", file=sys.stderr, flush=True)

    failed = 0
    for k, path in enumerate(args.videos):
        out_dir = Path(args.out) if args.out else Path(path).parent / "preprocessed"
        (res,) = preprocess_batch(
            [(path, spec)], out_dir, on_progress=lambda _k, d, t, k=k: progress(k, d, t)
        )
        if res.ok:
            print(res.output)
        else:
            failed += 1
            print(f"napari-dlcflow preprocess: error: {res.error}", file=sys.stderr)
    return 1 if failed else 0


def _cmd_extract_frames(args: argparse.Namespace) -> int:
    from napari_dlcflow.core.project.config import Project
    from napari_dlcflow.core.video.extract import extract_for_project

    project = Project.open(args.config)
    results = extract_for_project(
        project,
        args.videos or None,
        method=args.method,
        n=args.n,
        use_crop=args.crop,
        seed=args.seed,
    )
    for r in results:
        print(
            f"{r.folder}: {len(r.written)} new frame(s) of {r.n_frames}"
            + (f", {len(r.already)} already there" if r.already else "")
            + (f", {len(r.missing)} never decoded (truncated video?)" if r.missing else "")
        )
    return 0


def build_parser() -> argparse.ArgumentParser:
    """The argument parser with every subcommand."""
    parser = argparse.ArgumentParser(
        prog="napari-dlcflow",
        description="DeepLabCut's pose-estimation loop in napari and on the command line.",
    )
    parser.add_argument("--version", action="version", version=f"napari-dlcflow {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    p = sub.add_parser("demo", help="run the workflow on the built-in synthetic example")
    p.add_argument("--out", default="dlcflow-demo", help="output folder (default: %(default)s)")
    p.add_argument("--frames", type=int, default=300, help="video length (default: %(default)s)")
    p.add_argument("--seed", type=int, default=0, help="random seed (default: %(default)s)")
    p.add_argument("--no-dlc-check", action="store_true", help="skip asking DeepLabCut")
    p.add_argument("--headless", action="store_true", help="never open a window")
    p.add_argument(
        "--epochs",
        type=int,
        default=20,
        help="epochs of the tiny training (default: %(default)s; 0: no training or analysis)",
    )
    p.add_argument(
        "--labeled", type=int, default=60, help="frames labeled from the truth (default: 60)"
    )
    p.add_argument(
        "--refine-epochs",
        type=int,
        default=10,
        help="epochs of the refined iteration (default: %(default)s; 0: no refinement)",
    )
    p.set_defaults(func=_cmd_demo)

    p = sub.add_parser("info", help="versions, GPUs seen by torch, where files are")
    p.add_argument("--no-gpu", action="store_true", help="do not import torch to list GPUs")
    p.set_defaults(func=_cmd_info)

    p = sub.add_parser("sample", help="write the synthetic example video and its truth")
    p.add_argument("--out", default="dlcflow-sample", help="folder (default: %(default)s)")
    p.add_argument("--frames", type=int, default=300)
    p.add_argument("--size", type=int, default=320, help="frame width and height in pixels")
    p.add_argument("--seed", type=int, default=0)
    p.set_defaults(func=_cmd_sample)

    p = sub.add_parser("create-project", help="create a new DeepLabCut project")
    p.add_argument("task")
    p.add_argument("scorer")
    p.add_argument("videos", nargs="+", help="video files")
    p.add_argument("--dir", default=".", help="where to create it (default: here)")
    p.add_argument("--copy", action="store_true", help="copy videos instead of linking them")
    p.add_argument("--multi-animal", action="store_true")
    p.add_argument("--bodyparts", help="comma-separated body part names")
    p.set_defaults(func=_cmd_create)

    p = sub.add_parser("check-project", help="ask DeepLabCut whether it accepts a config.yaml")
    p.add_argument("config", help="config.yaml or project folder")
    p.set_defaults(func=_cmd_check)

    p = sub.add_parser("dlc-check", help="(internal) the child process of check-project")
    p.add_argument("config")
    p.set_defaults(func=_cmd_dlc_check)

    p = sub.add_parser("extract-frames", help="extract frames to label (uniform or k-means)")
    p.add_argument("config", help="config.yaml or project folder")
    p.add_argument("videos", nargs="*", help="videos (default: all in video_sets)")
    p.add_argument("--method", choices=("uniform", "kmeans"), default="uniform")
    p.add_argument(
        "--n", type=int, default=None, help="frames per video (default: numframes2pick)"
    )
    p.add_argument("--crop", action="store_true", help="apply the video_sets crop")
    p.add_argument("--seed", type=int, default=0, help="k-means seed (default: %(default)s)")
    p.set_defaults(func=_cmd_extract_frames)

    p = sub.add_parser("preprocess", help="crop a ROI and enhance contrast of videos")
    p.add_argument("videos", nargs="+", help="video files, TIFF stacks or image folders")
    p.add_argument("--roi", help="X,Y,WIDTH,HEIGHT in pixels (default: whole frame)")
    p.add_argument(
        "--contrast",
        choices=["imagej", "equalize", "clahe", "gamma", "none"],
        default="imagej",
        help="contrast method (default: %(default)s)",
    )
    p.add_argument("--saturated", type=float, default=0.35, help="imagej: %% saturated pixels")
    p.add_argument("--scope", choices=["video", "frame"], default="video")
    p.add_argument("--normalize", action="store_true", help="imagej: ImageJ's Normalize")
    p.add_argument("--clahe-tiles", type=int, default=8)
    p.add_argument("--clahe-clip", type=float, default=2.0)
    p.add_argument("--gamma", type=float, default=1.0)
    p.add_argument("--crf", type=int, default=18, help="H.264 quality (default: %(default)s)")
    p.add_argument("--preset", default="medium", help="libx264 preset (default: %(default)s)")
    p.add_argument("--lossless", action="store_true", help="FFV1 in MKV instead of H.264")
    p.add_argument("--like", help="re-use the settings recorded in an output's sidecar")
    p.add_argument("--out", help="output folder (default: <video folder>/preprocessed)")
    add_batch_options(p)
    p.set_defaults(func=_cmd_preprocess)

    from napari_dlcflow.cli.training import add_training_commands

    add_training_commands(
        sub,
        train=_cmd_train,
        status=_cmd_train_status,
        evaluate=_cmd_evaluate,
        internal=_cmd_training_internal,
    )

    from napari_dlcflow.cli.predictions import add_prediction_commands

    add_prediction_commands(
        sub,
        **{
            n: _cmd_predictions(n) for n in ("analyze", "analyze_child", "filter", "labeled_video")
        },
    )

    from napari_dlcflow.cli.dataset import add_dataset_commands

    add_dataset_commands(sub, _cmd_dataset)

    from napari_dlcflow.cli.refine import add_refine_commands

    add_refine_commands(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit status."""
    from napari_dlcflow.core.project.config import ConfigError
    from napari_dlcflow.core.video.probe import VideoError

    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "func", None):
        parser.print_help()
        return 0
    try:
        return int(args.func(args) or 0)
    except (
        ConfigError,
        VideoError,
        FileNotFoundError,
        FileExistsError,
        ValueError,
        RuntimeError,
    ) as exc:
        print(f"napari-dlcflow {args.command}: error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    raise SystemExit(main())
