"""Command-line subcommands of the Dataset dock: ``import-labels``, ``validate``,
``create-dataset`` and ``export-coco``."""

from __future__ import annotations

import argparse
import json
from typing import Any

from napari_dlcflow.cli.options import add_config

__all__ = ["register"]


def _parse_rename(items: list[str] | None) -> dict[str, str]:
    out: dict[str, str] = {}
    for item in items or []:
        old, sep, new = item.partition("=")
        if not sep or not old.strip() or not new.strip():
            raise ValueError(f"--rename takes OLD=NEW, got {item!r}")
        out[old.strip()] = new.strip()
    return out


def cmd_import(args: argparse.Namespace) -> int:
    from napari_dlcflow.core.formats import read_foreign
    from napari_dlcflow.core.formats.importing import (
        ImportOptions,
        import_labels,
        new_project_for,
        preview_import,
    )
    from napari_dlcflow.core.project.config import Project

    ropts: dict[str, Any] = {}
    if args.header_rows is not None:
        ropts["header_rows"] = args.header_rows
    if args.csv_columns:
        cols = [int(c) for c in args.csv_columns.split(",")]
        if len(cols) != 3:
            raise ValueError("--csv-columns takes three numbers: NAME,X,Y")
        ropts["name_column"], ropts["x_column"], ropts["y_column"] = cols
    if args.visibility_column is not None:
        ropts["visibility_column"] = args.visibility_column
    if args.predictions:
        ropts["predictions"] = True
    if args.skeleton is not None:
        ropts["skeleton"] = int(args.skeleton) if args.skeleton.isdigit() else args.skeleton
    frames = [int(f) for f in args.frames.split(",")] if args.frames else None
    opts = ImportOptions(
        format=args.format,
        read_options=ropts,
        rename=_parse_rename(args.rename),
        folder=args.folder,
        frames=frames,
        drop_unknown=args.drop_unknown,
        skip_missing=args.skip_missing,
        overwrite=args.overwrite,
    )
    if args.new_project:
        task, scorer, where = args.new_project
        kw = dict(ropts)
        if frames is not None and (args.format == "sleap" or args.source.endswith(".slp")):
            kw["frames"] = frames
        foreign = read_foreign(args.source, args.format, **kw)
        project = new_project_for(foreign, task, scorer, where, rename=opts.rename)
        print(f"created {project.config_path}")
    elif args.project:
        project = Project.open(args.project)
    else:
        raise ValueError("give --project CONFIG, or --new-project TASK SCORER DIR")
    preview = preview_import(args.source, project, opts)
    print(preview.summary())
    if args.dry_run:
        return 0 if preview.ok else 1
    if not preview.ok:
        print("nothing imported")
        return 1
    try:
        result = import_labels(args.source, project, opts)
    except OSError as exc:  # SaveError and friends: everything written was put back
        print(f"napari-dlcflow import-labels: error: {exc}; nothing was imported")
        return 1
    print(
        f"imported {len(result.images_written)} new images and {result.points} points into "
        + ", ".join(f"labeled-data/{f}" for f in result.folders)
    )
    for v in result.videos_added:
        print(f"added to video_sets: {v}")
    return 0


def cmd_validate(args: argparse.Namespace) -> int:
    from napari_dlcflow.core.labels.validation import validate_project
    from napari_dlcflow.core.project.config import Project

    report = validate_project(Project.open(args.config))
    print(report.format())
    return 0 if report.ok else 1


def cmd_create_dataset(args: argparse.Namespace) -> int:
    from napari_dlcflow.core.engine.dataset import (
        DatasetBlockedError,
        DatasetSpec,
        create_datasets,
    )

    spec = DatasetSpec(
        train_fraction=args.train_fraction,
        num_shuffles=args.shuffles,
        first_shuffle=args.first_shuffle,
        net_type=args.net_type,
        augmentation=args.augmentation,
        seed=args.seed,
    )
    try:
        summary = create_datasets(args.config, spec)
    except DatasetBlockedError as exc:
        print(exc.report.format())
        print("no dataset made: fix the blocking problems first")
        return 1
    except RuntimeError as exc:
        print(f"napari-dlcflow create-dataset: error: {exc}")
        return 1
    print(summary.format())
    return 0


def cmd_export_coco(args: argparse.Namespace) -> int:
    from napari_dlcflow.core.formats.importing import export_coco
    from napari_dlcflow.core.project.config import Project

    out = export_coco(Project.open(args.config), args.out)
    doc = json.loads(out.read_text(encoding="utf-8"))
    print(f"{out}: {len(doc['images'])} images, {len(doc['annotations'])} annotations")
    return 0


def register(sub: Any) -> None:
    """Add the import, validation and dataset subcommands to the CLI's subparsers."""
    p = sub.add_parser("import-labels", help="import labels of another tool into a project")
    p.add_argument(
        "source",
        help="COCO .json, SLEAP .slp, DLC/Lightning Pose CSV/h5, or a folder of per-image CSVs",
    )
    p.add_argument("--project", help="config.yaml (or folder) of the project to import into")
    p.add_argument(
        "--new-project",
        nargs=3,
        metavar=("TASK", "SCORER", "DIR"),
        help="make a new project from the file's skeleton",
    )
    p.add_argument("--format", help="per-image-csv, coco, sleap, dlc or lightning-pose")
    p.add_argument("--rename", action="append", metavar="OLD=NEW", help="rename a body part")
    p.add_argument("--folder", help="labeled-data folder name for every frame")
    p.add_argument("--frames", help="comma-separated frame indices (SLEAP/video frames)")
    p.add_argument("--header-rows", type=int, help="per-image CSV: header rows to skip")
    p.add_argument(
        "--csv-columns",
        metavar="NAME,X,Y",
        help="per-image CSV: 0-based columns of body part, x, y (default 0,1,2)",
    )
    p.add_argument(
        "--visibility-column",
        type=int,
        help="per-image CSV: 0-based column whose 0 means not visible",
    )
    p.add_argument("--predictions", action="store_true", help="SLEAP: also predicted instances")
    p.add_argument("--skeleton", help="SLEAP: skeleton name or index when there are several")
    p.add_argument(
        "--drop-unknown",
        action="store_true",
        help="leave out body parts not in config.yaml (default: refuse)",
    )
    p.add_argument(
        "--skip-missing",
        action="store_true",
        help="leave out frames without a readable image (default: refuse)",
    )
    p.add_argument(
        "--overwrite",
        action="store_true",
        help="imported labels replace the project's where both exist",
    )
    p.add_argument("--dry-run", action="store_true", help="only show the preview")
    p.set_defaults(func=cmd_import)

    p = sub.add_parser("validate", help="check all labels before making a training dataset")
    add_config(p)
    p.set_defaults(func=cmd_validate)

    p = sub.add_parser("create-dataset", help="validate, then create DeepLabCut training data")
    add_config(p)
    p.add_argument("--train-fraction", type=float, default=0.95)
    p.add_argument("--shuffles", type=int, default=1, help="number of shuffles")
    p.add_argument("--first-shuffle", type=int, default=1)
    p.add_argument("--net-type", help="DeepLabCut 3 net type (default: the config's)")
    p.add_argument(
        "--augmentation", default="default", choices=["default", "light", "strong", "none"]
    )
    p.add_argument("--seed", type=int, default=42)
    p.set_defaults(func=cmd_create_dataset)

    p = sub.add_parser("export-coco", help="write the project's labels as COCO keypoints JSON")
    add_config(p)
    p.add_argument("out", help="the .json file to write")
    p.set_defaults(func=cmd_export_coco)
