"""Keypoints: the one data model of labels and predictions, and the one IO facade.

:class:`Keypoints` (:mod:`.model`) is what labels, machine labels, predictions and imported
labels share (axes, names, flags); :func:`load_file` / :func:`save_file` (:mod:`.io`) read and
write every format by content and suffix, routing to one module per format
(:mod:`napari_dlcflow.core.formats`, ``core/labels/collected.py``,
``core/predictions/analysis_files.py``), which are imported only when a file is read.
Must not import Qt, napari, deeplabcut or torch; importing this package loads numpy only.
"""

from __future__ import annotations

from napari_dlcflow.core.keypoints.io import KINDS, detect_kind, load_file, save_file
from napari_dlcflow.core.keypoints.model import (
    HDF_KEY,
    UNIQUE_INDIVIDUAL,
    Keypoints,
    KeypointsFileError,
)

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
