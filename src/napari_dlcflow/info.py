"""What ``napari-dlcflow info`` reports: versions, GPUs, where files are."""

from __future__ import annotations

import os
import sys
from importlib import metadata
from pathlib import Path

import napari_dlcflow

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


def gpu_summary() -> str:
    """GPUs that torch sees, or why none (imports torch: a few seconds)."""
    try:
        import torch
    except ImportError:
        return "torch not installed (training needs the [dlc] extra)"
    if torch.cuda.is_available():
        names = [torch.cuda.get_device_name(i) for i in range(torch.cuda.device_count())]
        return f"CUDA {torch.version.cuda}: " + ", ".join(names)
    if getattr(torch.backends, "mps", None) and torch.backends.mps.is_available():
        return "Apple MPS"
    return "none: training and analysis will run on the CPU"


def collect_info(*, gpus: bool = True) -> dict[str, str]:
    """Versions, GPUs and paths as ``{label: value}``."""
    pkg = Path(napari_dlcflow.__file__).parent
    info = {
        "napari-dlcflow": napari_dlcflow.__version__,
        "python": f"{sys.version.split()[0]} ({sys.executable})",
    }
    info.update({name: _version(name) for name in PACKAGES})
    info["GPUs (torch)"] = gpu_summary() if gpus else "not checked"
    info["package folder"] = str(pkg)
    info["napari manifest"] = str(pkg / "napari.yaml")
    info["display"] = os.environ.get("DISPLAY") or "none (headless)"
    return info
