"""``napari-dlcflow repair``: the fixes the validation report offers, for headless users.

``--project-path`` points ``project_path`` in config.yaml at the folder the config is in;
``--register-folders`` adds a ``video_sets`` entry for each labeled-data folder DeepLabCut
would ignore. The config is saved once, atomically with a backup, and the validation report is
printed after.
"""

from __future__ import annotations

import argparse
from typing import Any

from napari_dlcflow.cli.options import add_config

__all__ = ["cmd_repair", "register"]


def cmd_repair(args: argparse.Namespace) -> int:
    """Apply the chosen fixes, save config.yaml, print what changed and the new report."""
    from napari_dlcflow.core.formats.importing import register_folders
    from napari_dlcflow.core.labels.validation import validate_project
    from napari_dlcflow.core.project.config import Project

    if not (args.project_path or args.register_folders):
        print("nothing to do: choose --project-path and/or --register-folders")
        return 2
    project = Project.open(args.config)
    done: list[str] = []
    if args.project_path and not project.project_path_ok:
        old = project.project_path
        project.repair_project_path()
        done.append(f"project_path: {old!r} -> {project.project_path!r}")
    if args.register_folders:
        done += [f"added to video_sets: {key}" for key in register_folders(project)]
    if done:
        project.save()
        print("\n".join(done))
        print(f"saved {project.config_path}")
    else:
        print("nothing to repair")
    report = validate_project(project)
    print(report.format())
    return 0 if report.ok else 1


def register(sub: Any) -> None:
    """Add ``repair`` to the CLI's subparsers."""
    p = sub.add_parser("repair", help="apply the validation report's fixes to config.yaml")
    add_config(p)
    p.add_argument(
        "--project-path",
        action="store_true",
        help="point project_path at the folder config.yaml is in",
    )
    p.add_argument(
        "--register-folders",
        action="store_true",
        help="add a video_sets entry for each labeled-data folder DeepLabCut would ignore",
    )
    p.set_defaults(func=cmd_repair)
