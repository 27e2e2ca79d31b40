"""napari-dlcflow: the whole DeepLabCut pose-estimation loop in napari and in plain Python.

``import napari_dlcflow as dlcflow`` offers the workflow as functions named like DeepLabCut's
where they do the same thing (``dlcflow.create_new_project``, ``dlcflow.analyze_videos``, ...),
with the command line's defaults and errors, and :func:`open_in_viewer` for scripted napari
sessions. They load on first use: importing this package never imports Qt, napari, torch or
deeplabcut.
"""

from __future__ import annotations

from typing import Any

from napari_dlcflow.core import __version__

#: Public name -> module that defines it (imported on first access).
_LAZY = {
    **dict.fromkeys(
        (
            "create_new_project",
            "extract_frames",
            "import_labels",
            "check_labels",
            "create_training_dataset",
            "train_network",
            "evaluate_network",
            "analyze_videos",
            "filterpredictions",
            "create_labeled_video",
            "extract_outlier_frames",
            "next_iteration",
        ),
        "napari_dlcflow.api",
    ),
    "open_in_viewer": "napari_dlcflow.viewer",
}

__all__ = ["__version__", *_LAZY]


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'napari_dlcflow' has no attribute {name!r}")
    import importlib

    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(__all__)
