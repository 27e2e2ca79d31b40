"""Options that several subcommands share, defined once so they have one name everywhere."""

from __future__ import annotations

import argparse
from argparse import SUPPRESS


def add_config(p: argparse.ArgumentParser, *, optional: bool = False) -> None:
    """The project: ``config`` (positional), or ``--config`` when ``optional``."""
    if optional:
        p.add_argument("--config", help="config.yaml or project folder")
    else:
        p.add_argument("config", help="config.yaml or project folder")


def add_model_options(p: argparse.ArgumentParser, *, legacy: bool = False) -> None:
    """``--shuffle`` and ``--trainset-index``: by default those of the last dataset creation.

    ``legacy`` adds DeepLabCut's spelling ``--trainingsetindex`` as a hidden alias.
    """
    p.add_argument(
        "--shuffle",
        type=int,
        default=None,
        help="default: the shuffle the last create-dataset made (else 1)",
    )
    p.add_argument(
        "--trainset-index",
        type=int,
        default=None,
        help="index in TrainingFraction (default: the last create-dataset's, else 0)",
    )
    if legacy:
        p.add_argument("--trainingsetindex", dest="trainset_index", type=int, help=SUPPRESS)


def add_device(p: argparse.ArgumentParser, *, default: str | None = "auto") -> None:
    """``--device``: where DeepLabCut runs (``auto`` picks a GPU when there is one)."""
    p.add_argument(
        "--device",
        default=default,
        help="auto, cpu, cuda, cuda:1, mps"
        + (f" (default: {default})" if default else " (default: the model's setting)"),
    )
