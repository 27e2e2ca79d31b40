"""The ``napari-dlcflow`` command line: the same core calls the dock widgets make.

One way to add a subcommand: a module of this package named in :data:`COMMAND_MODULES` has a
``register(sub)`` function that adds its subparsers, each with ``set_defaults(func=cmd_...)``;
the shared options (the project, the model's shuffle, the device) come from
:mod:`napari_dlcflow.cli.options` so they have one name everywhere. ``--help`` stays light:
these modules import only argparse, and each command imports what it needs when it runs.
The engine's child processes (``_engine TASK JSON``) never show in ``--help``.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence

from napari_dlcflow.core import __version__

#: Modules whose ``register(sub)`` adds subcommands, in ``--help`` order.
COMMAND_MODULES = (
    "project",
    "video",
    "dataset",
    "qc",
    "training",
    "predictions",
    "tracks",
    "refine",
    "repair",
)


def build_parser() -> argparse.ArgumentParser:
    """The argument parser with every subcommand."""
    parser = argparse.ArgumentParser(
        prog="napari-dlcflow",
        description="DeepLabCut's pose-estimation loop in napari and on the command line.",
    )
    parser.add_argument("--version", action="version", version=f"napari-dlcflow {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in COMMAND_MODULES:
        importlib.import_module(f"napari_dlcflow.cli.{name}").register(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit status.

    ``_engine TASK JSON`` (the engine's child processes, :mod:`napari_dlcflow.core.engine.tasks`)
    is dispatched before the parser is built, so it never shows in ``--help``.
    """
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv and argv[0] == "_engine":
        from napari_dlcflow.core.engine.tasks import main as engine_main

        return engine_main(argv[1:])
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
