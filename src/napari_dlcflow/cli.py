"""The ``napari-dlcflow`` command line: the same core calls the dock widgets make.

``--help`` stays light: subcommands import what they need when they run.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

from napari_dlcflow import __version__


def _cmd_info(args: argparse.Namespace) -> int:
    from napari_dlcflow.info import collect_info

    for key, value in collect_info(gpus=not args.no_gpu).items():
        print(f"{key:<22} {value}")
    return 0


def _cmd_sample(args: argparse.Namespace) -> int:
    from napari_dlcflow.core.synthetic import SyntheticSpec, write_synthetic_example

    spec = SyntheticSpec(n_frames=args.frames, height=args.size, width=args.size, seed=args.seed)
    files = write_synthetic_example(args.out, spec)
    print(f"video: {files.video}\ntruth: {files.truth_csv}")
    return 0


def _cmd_create(args: argparse.Namespace) -> int:
    from napari_dlcflow.core.create import create_project

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
    from napari_dlcflow.core.dlc_check import check_config_in_child
    from napari_dlcflow.core.project import Project

    project = Project.open(args.config)  # our own checks first: they name the line
    if not project.project_path_ok:
        print(f"warning: project_path is {project.project_path!r}, not {project.root}")
    verdict = check_config_in_child(project.config_path)
    print(("OK: " if verdict.ok else "REJECTED: ") + verdict.message)
    return 0 if verdict.ok else 1


def _cmd_dlc_check(args: argparse.Namespace) -> int:
    from napari_dlcflow.core.dlc_check import check_config_here

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
    )


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
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit status."""
    from napari_dlcflow.core.project import ConfigError
    from napari_dlcflow.core.video_probe import VideoError

    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "func", None):
        parser.print_help()
        return 0
    try:
        return int(args.func(args) or 0)
    except (ConfigError, VideoError, FileNotFoundError, FileExistsError, ValueError) as exc:
        print(f"napari-dlcflow {args.command}: error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    raise SystemExit(main())
