"""What ``napari-dlcflow info`` reports: versions, GPUs, where files are.

The GPUs come from the engine (:func:`napari_dlcflow.core.engine.devices.gpu_summary`, which
asks torch in a child process); nothing here imports torch.
"""

from __future__ import annotations

import os
import sys
from importlib import metadata
from pathlib import Path

from napari_dlcflow.core import __version__
from napari_dlcflow.core.engine.devices import gpu_summary

__all__ = ["PACKAGES", "collect_info", "gpu_summary"]

PACKAGES = (
    "napari",
    "qtpy",
    "PyQt5",
    "PySide6",
    "PyQt6",
    "deeplabcut",
    "torch",
    "torchvision",
    "av",
    "numpy",
    "pandas",
    "tables",
    "scikit-image",
)


def _version(dist: str) -> str:
    try:
        return metadata.version(dist)
    except metadata.PackageNotFoundError:
        return "not installed"


def collect_info(*, gpus: bool = True) -> dict[str, str]:
    """Versions, GPUs and paths as ``{label: value}``."""
    pkg = Path(__file__).parent
    info = {
        "napari-dlcflow": __version__,
        "python": f"{sys.version.split()[0]} ({sys.executable})",
    }
    info.update({name: _version(name) for name in PACKAGES})
    info["GPUs (torch)"] = gpu_summary() if gpus else "not checked"
    info["package folder"] = str(pkg)
    info["napari manifest"] = str(pkg / "napari.yaml")
    info["display"] = os.environ.get("DISPLAY") or "none (headless)"
    return info
