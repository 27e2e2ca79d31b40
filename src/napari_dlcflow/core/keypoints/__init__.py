"""Keypoints: the one data model of labels and predictions.

:class:`Keypoints` (:mod:`.model`) is what labels, machine labels, predictions and imported
labels share (axes, names, flags). It is the bottom of the package: it imports nothing of ours.
Reading and writing every format by content and suffix is :mod:`napari_dlcflow.core.formats.io`
(``load_file`` / ``save_file``), which sits above the formats it routes to.
Must not import Qt, napari, deeplabcut or torch; importing this package loads numpy only.
"""

from __future__ import annotations

from napari_dlcflow.core.keypoints.model import (
    HDF_KEY,
    UNIQUE_INDIVIDUAL,
    Keypoints,
    KeypointsFileError,
)

__all__ = [
    "HDF_KEY",
    "UNIQUE_INDIVIDUAL",
    "Keypoints",
    "KeypointsFileError",
]
