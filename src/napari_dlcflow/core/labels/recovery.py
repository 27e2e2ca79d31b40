"""Autosave of labels to a recovery file, offered on the next open after a crash.

The recovery copy lives in ``<labeled-data folder>/.dlcflow-recovery/`` (DeepLabCut looks only
for ``CollectedData_*`` files in the folder itself, so it never sees it). It is written
atomically, holds exactly what :func:`~napari_dlcflow.core.labels.collected.write_labels` would
save, and
is removed after a successful save. It is offered when it is newer than the saved file and
differs from it.
"""

from __future__ import annotations

import contextlib
import os
from pathlib import Path

from napari_dlcflow.core.labels.collected import (
    Labels,
    LabelsError,
    _hdf_bytes,
    collected_data_path,
    labels_to_dataframe,
    read_labels,
)
from napari_dlcflow.core.safe_io import atomic_write

__all__ = [
    "AUTOSAVE_SECONDS",
    "RECOVERY_DIRNAME",
    "discard_recovery",
    "find_recovery",
    "recovery_path",
    "write_recovery",
]

RECOVERY_DIRNAME = ".dlcflow-recovery"
#: How often the Labeling dock autosaves (at most a minute of work is lost on a crash).
AUTOSAVE_SECONDS = 30


def recovery_path(folder: str | os.PathLike, scorer: str) -> Path:
    """``<folder>/.dlcflow-recovery/CollectedData_<scorer>.h5``."""
    return Path(folder) / RECOVERY_DIRNAME / f"CollectedData_{scorer}.h5"


def write_recovery(
    labels: Labels, folder: str | os.PathLike, file_scorer: str | None = None
) -> Path:
    """Write ``labels`` (without likelihood) to the recovery file of ``folder``; returns it.

    ``file_scorer`` names the CollectedData file it recovers (default: ``labels.scorer``).
    """
    path = recovery_path(folder, file_scorer or labels.scorer)
    path.parent.mkdir(exist_ok=True)
    atomic_write(path, _hdf_bytes(labels_to_dataframe(labels)), backup=False)
    return path


def find_recovery(folder: str | os.PathLike, scorer: str) -> Labels | None:
    """The recovered labels to offer, or None.

    A recovery file is offered when it can be read, is newer than the saved
    ``CollectedData_<scorer>.h5`` (or there is none), and holds different labels.
    """
    path = recovery_path(folder, scorer)
    if not path.is_file():
        return None
    try:
        recovered = read_labels(path, folder_stem=Path(folder).name)
    except (LabelsError, OSError):
        return None
    saved_path = collected_data_path(folder, scorer)
    if saved_path.is_file():
        if saved_path.stat().st_mtime_ns > path.stat().st_mtime_ns:
            return None
        try:
            saved = read_labels(saved_path, folder_stem=Path(folder).name)
        except (LabelsError, OSError):
            return recovered
        if saved.equals(recovered):
            return None
    return recovered


def discard_recovery(folder: str | os.PathLike, scorer: str) -> None:
    """Remove the recovery file of ``folder`` (after a save, or when the user declines it)."""
    path = recovery_path(folder, scorer)
    with contextlib.suppress(OSError):
        path.unlink()
    with contextlib.suppress(OSError):
        path.parent.rmdir()
