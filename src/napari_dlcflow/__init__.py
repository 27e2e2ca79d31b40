"""napari-dlcflow: the whole DeepLabCut pose-estimation loop in napari and in plain Python.

Importing this package is cheap: it never imports Qt, napari, torch or deeplabcut. The headless
API lives in :mod:`napari_dlcflow.core`; the napari parts load only when napari asks for them.
"""

from __future__ import annotations

__version__ = "0.1.0"

__all__ = ["__version__"]
