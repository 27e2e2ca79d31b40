"""Screenshots that work on a hidden viewer and on a virtual display (Xvfb + Mesa).

``viewer.screenshot(canvas_only=True)`` renders into an off-screen buffer that comes back black
under Xvfb with a hidden window; grabbing the Qt widgets draws what a user would see.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import napari


def prepare(viewer: napari.Viewer, size: tuple[int, int] = (1400, 950)) -> None:
    """Give a (possibly hidden) viewer window its size and let it draw once."""
    from qtpy.QtWidgets import QApplication

    viewer.window._qt_window.resize(*size)
    for _ in range(3):
        QApplication.processEvents()
    viewer.reset_view()
    QApplication.processEvents()


def save_screenshot(viewer: napari.Viewer, path: str | os.PathLike, *, canvas_only: bool) -> Path:
    """Save the canvas (image and layers) or the whole window with its docks as a PNG."""
    from qtpy.QtWidgets import QApplication

    QApplication.processEvents()
    widget = viewer.window._qt_viewer.canvas.native if canvas_only else viewer.window._qt_window
    out = Path(path)
    if not widget.grab().save(str(out)):
        raise OSError(f"Could not write the screenshot {out}")
    return out
