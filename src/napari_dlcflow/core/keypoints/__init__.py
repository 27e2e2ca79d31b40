"""Keypoints: the one data model of labels and predictions, and the one IO facade.

:class:`Keypoints` (:mod:`.model`) is what labels, machine labels, predictions and imported
labels share (axes, names, flags); :func:`load_file` / :func:`save_file` (:mod:`.io`) read and
write every format by content and suffix, routing to one module per format
(:mod:`napari_dlcflow.core.formats`, ``core/labels/collected.py``,
``core/predictions/analysis_files.py``).
Must not import Qt, napari, deeplabcut or torch; importing this package loads numpy only.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from napari_dlcflow.core.keypoints.model import (
    HDF_KEY,
    UNIQUE_INDIVIDUAL,
    Keypoints,
    KeypointsFileError,
)

if TYPE_CHECKING:
    from napari_dlcflow.core.keypoints.io import KINDS, detect_kind, load_file, save_file

__all__ = [
    "HDF_KEY",
    "KINDS",
    "UNIQUE_INDIVIDUAL",
    "Keypoints",
    "KeypointsFileError",
    "detect_kind",
    "load_file",
    "save_file",
]


def __getattr__(name: str) -> Any:
    if name in ("KINDS", "detect_kind", "load_file", "save_file"):
        from napari_dlcflow.core.keypoints import io

        return getattr(io, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
