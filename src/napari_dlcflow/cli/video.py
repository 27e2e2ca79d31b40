"""Command-line subcommands for videos: ``extract-frames``, ``preprocess`` and ``units``."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from napari_dlcflow.cli.batch import add_batch_options, wants_batch
from napari_dlcflow.cli.options import add_choice, add_config, sources


def cmd_extract_frames(args: argparse.Namespace) -> int:
    from napari_dlcflow.core.project.config import Project
    from napari_dlcflow.core.video.extract import extract_for_project

    project = Project.open(args.config)
    videos = sources(args.videos, args.choice) if args.videos else None
    if args.choice and not args.videos:
        raise ValueError("--choice needs the videos it applies to")
    added = _list_sources(project, videos or [])
    results = extract_for_project(
        project,
        videos,
        method=args.method,
        n=args.n,
        use_crop=args.crop,
        seed=args.seed,
    )
    for key in added:
        print(f"added to video_sets: {key}")
    for r in results:
        print(
            f"{r.folder}: {len(r.written)} new frame(s) of {r.n_frames}"
            + (f", {len(r.already)} already there" if r.already else "")
            + (f", {len(r.missing)} never decoded (truncated video?)" if r.missing else "")
        )
    return 0


def _list_sources(project: Any, keys: list[str]) -> list[str]:
    """Add the sources with a channel/z/scene choice to ``video_sets`` and save; the keys
    added."""
    from napari_dlcflow.core.video.extract import list_sources
    from napari_dlcflow.core.video.source import parse_source_key

    entries = []
    for key in keys:
        ref = parse_source_key(key)
        if ref.choice and key not in project.videos:
            with ref.open() as src:
                entries.append((key, src.meta.width, src.meta.height))
    added = list_sources(project, entries)
    if added:
        project.save()
    return added


def cmd_preprocess(args: argparse.Namespace) -> int:
    from napari_dlcflow.core.video.preprocess import (
        ContrastParams,
        OutputParams,
        PreprocessSpec,
        Roi,
        preprocess_batch,
        read_sidecar,
    )
    from napari_dlcflow.core.video.source import parse_source_key

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
    for k, path in enumerate(sources(args.videos, args.choice)):
        src_file = parse_source_key(path).path
        out_dir = Path(args.out) if args.out else src_file.parent / "preprocessed"
        (res,) = preprocess_batch(
            [(path, spec)], out_dir, on_progress=lambda _k, d, t, k=k: progress(k, d, t)
        )
        if res.ok:
            print(res.output)
        else:
            failed += 1
            print(f"napari-dlcflow preprocess: error: {res.error}", file=sys.stderr)
    return 1 if failed else 0


def cmd_units(args: argparse.Namespace) -> int:
    """``napari-dlcflow units PROJECT VIDEO [--pixel-size-um X] [--frame-interval-s Y]``: show,
    or store once per video, the pixel size and frame interval the plots and exports use where
    the file does not say them."""
    from napari_dlcflow.core.predictions.units import store_units, stored_units, video_key
    from napari_dlcflow.core.project.config import find_config

    root = find_config(args.config).parent
    if args.pixel_size_um is not None or args.frame_interval_s is not None or args.clear:
        old = stored_units(root, args.video)
        store_units(
            root,
            args.video,
            pixel_size_um=None if args.clear else _or(args.pixel_size_um, old["pixel_size_um"]),
            frame_interval_s=None
            if args.clear
            else _or(args.frame_interval_s, old["frame_interval_s"]),
        )
    now = stored_units(root, args.video)
    px, dt = now["pixel_size_um"], now["frame_interval_s"]
    print(
        f"{video_key(args.video)}: pixel size "
        + (f"{px:g} µm" if px is not None else "not stored")
        + ", frame interval "
        + (f"{dt:g} s" if dt is not None else "not stored")
        + f" ({root / 'dlcflow.yaml'})"
    )
    return 0


def _or(new: float | None, old: float | None) -> float | None:
    return old if new is None else new


def register(sub: Any) -> None:
    """Add this module's subcommands to the CLI's subparsers."""
    p = sub.add_parser("extract-frames", help="extract frames to label (uniform or k-means)")
    add_config(p)
    p.add_argument("videos", nargs="*", help="videos (default: all in video_sets)")
    p.add_argument("--method", choices=("uniform", "kmeans"), default="uniform")
    p.add_argument(
        "--n", type=int, default=None, help="frames per video (default: numframes2pick)"
    )
    p.add_argument("--crop", action="store_true", help="apply the video_sets crop")
    p.add_argument("--seed", type=int, default=0, help="k-means seed (default: %(default)s)")
    add_choice(p)
    p.set_defaults(func=cmd_extract_frames)

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
    add_choice(p)
    add_batch_options(p)
    p.set_defaults(func=cmd_preprocess)

    p = sub.add_parser(
        "units",
        help="show or store a video's pixel size and frame interval (for files that lack them)",
    )
    add_config(p)
    p.add_argument("video", help="the video, microscopy file or one of its analysis files")
    p.add_argument("--pixel-size-um", type=float, help="pixel size in µm")
    p.add_argument("--frame-interval-s", type=float, help="time between frames in s")
    p.add_argument("--clear", action="store_true", help="forget the stored values")
    p.set_defaults(func=cmd_units)
