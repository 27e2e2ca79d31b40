"""Command-line subcommands for projects: ``create-project``, ``check-project``, ``info``,
``sample`` and ``demo``."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from napari_dlcflow.cli.options import add_choice, add_config, sources


def cmd_demo(args: argparse.Namespace) -> int:
    if args.animals > 1:
        from napari_dlcflow.demo_animals import run_group_demo

        return run_group_demo(
            Path(args.out),
            n_animals=args.animals,
            n_frames=args.frames,
            seed=args.seed,
            epochs=args.epochs,
            n_labeled=args.labeled,
            size=args.size,
            headless=args.headless,
        )
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


def cmd_info(args: argparse.Namespace) -> int:
    from napari_dlcflow.info import collect_info

    for key, value in collect_info(gpus=not args.no_gpu).items():
        print(f"{key:<22} {value}")
    return 0


def cmd_sample(args: argparse.Namespace) -> int:
    from napari_dlcflow.core.example.group import GroupSpec, write_group_example
    from napari_dlcflow.core.example.synthetic import SyntheticSpec, write_synthetic_example

    size = {} if args.size is None else {"height": args.size, "width": args.size}
    if args.animals == 1:
        spec = SyntheticSpec(n_frames=args.frames, seed=args.seed, **size)
        files = write_synthetic_example(args.out, spec)
    else:
        group = GroupSpec(n_animals=args.animals, n_frames=args.frames, seed=args.seed, **size)
        files = write_group_example(args.out, group)
    print(f"video: {files.video}\ntruth: {files.truth_csv}")
    return 0


def cmd_create_project(args: argparse.Namespace) -> int:
    from napari_dlcflow.core.project.create import create_project

    parts = [b.strip() for b in args.bodyparts.split(",")] if args.bodyparts else None
    project = create_project(
        args.task,
        args.scorer,
        sources(args.videos, args.choice),
        args.dir,
        copy_videos=args.copy,
        multianimal=args.multi_animal,
        bodyparts=parts,
    )
    print(project.config_path)
    return 0


def cmd_check_project(args: argparse.Namespace) -> int:
    from napari_dlcflow.core.engine.dlc_check import check_config_in_child
    from napari_dlcflow.core.project.config import Project

    project = Project.open(args.config)  # our own checks first: they name the line
    if not project.project_path_ok:
        print(f"warning: project_path is {project.project_path!r}, not {project.root}")
    verdict = check_config_in_child(project.config_path)
    print(("OK: " if verdict.ok else "REJECTED: ") + verdict.message)
    return 0 if verdict.ok else 1


def register(sub: Any) -> None:
    """Add this module's subcommands to the CLI's subparsers."""
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
    p.add_argument(
        "--animals",
        type=int,
        default=1,
        choices=range(1, 5),
        metavar="N",
        help="1 (default): one animal; 2-4: the multi-animal loop (tracking, identity metrics)",
    )
    p.add_argument(
        "--size", type=int, help="several animals: frame width and height (default: 256)"
    )
    p.set_defaults(func=cmd_demo)

    p = sub.add_parser("info", help="versions, GPUs seen by torch, where files are")
    p.add_argument("--no-gpu", action="store_true", help="do not import torch to list GPUs")
    p.set_defaults(func=cmd_info)

    p = sub.add_parser("sample", help="write the synthetic example video and its truth")
    p.add_argument("--out", default="dlcflow-sample", help="folder (default: %(default)s)")
    p.add_argument("--frames", type=int, default=300)
    p.add_argument(
        "--size",
        type=int,
        default=None,
        help="frame width and height in pixels (default: 320, or 256 for several animals)",
    )
    p.add_argument("--seed", type=int, default=0)
    p.add_argument(
        "--animals",
        type=int,
        default=1,
        choices=range(1, 5),
        metavar="N",
        help="1 (default): one animal; 2-4: look-alike animals that cross, touch and hide "
        "under a shelter (synthetic_animals.mp4, multi-animal truth CSV)",
    )
    p.set_defaults(func=cmd_sample)

    p = sub.add_parser("create-project", help="create a new DeepLabCut project")
    p.add_argument("task")
    p.add_argument("scorer")
    p.add_argument("videos", nargs="+", help="video files")
    p.add_argument("--dir", default=".", help="where to create it (default: here)")
    p.add_argument("--copy", action="store_true", help="copy videos instead of linking them")
    p.add_argument("--multi-animal", action="store_true")
    p.add_argument("--bodyparts", help="comma-separated body part names")
    add_choice(p)
    p.set_defaults(func=cmd_create_project)

    p = sub.add_parser("check-project", help="ask DeepLabCut whether it accepts a config.yaml")
    add_config(p)
    p.set_defaults(func=cmd_check_project)
