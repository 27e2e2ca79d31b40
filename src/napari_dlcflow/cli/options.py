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


def add_choice(p: argparse.ArgumentParser) -> None:
    """``--choice``: the channel/z/scene of microscopy files (one text, as in their names)."""
    p.add_argument(
        "--choice",
        metavar="TEXT",
        help="microscopy files: which channel, z-plane and scene, as in the names made from it: "
        "C1 (channel 1), C0+C1 (merged into RGB), Z3 or Zmax/Zmean (plane or projection), "
        "S2 (scene), joined by _ (S2_C0_Zmax); needed for files with several channels or planes",
    )


def sources(paths: list[str], choice: str | None) -> list[str]:
    """Each path as a source key with ``choice``
    (:func:`~napari_dlcflow.core.video.source.source_key`), checked where it is not a plain
    video: a file that needs a choice it was not given is an error naming ``--choice``.

    Raises
    ------
    ValueError
        Naming the file, the problem and the option.
    """
    from napari_dlcflow.core.video.frames import VideoError
    from napari_dlcflow.core.video.reader import VIDEO_SUFFIXES
    from napari_dlcflow.core.video.source import SourceRef, parse_source_key

    out = []
    for path in paths:
        ref = parse_source_key(path)
        if choice:
            ref = SourceRef(ref.path, choice)
        if ref.choice or ref.path.suffix.lower() not in VIDEO_SUFFIXES:
            try:
                ref.open().close()
            except VideoError as exc:
                if "choose" not in str(exc):
                    raise
                raise ValueError(
                    f"{exc} (on the command line: --choice, e.g. --choice C0 or --choice C0_Zmax)"
                ) from exc
        out.append(ref.key)
    return out
