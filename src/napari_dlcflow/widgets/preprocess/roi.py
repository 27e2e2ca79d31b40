"""The ROI rectangle on a Shapes layer, kept in step with the ROI form.

napari Shapes hold corners as (row, col) = (y, x); the conversion lives here only.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from napari_dlcflow.core.layers.style import ShapesStyle
from napari_dlcflow.core.video.preprocess import Roi

if TYPE_CHECKING:
    import napari

    from napari_dlcflow.widgets.preprocess.form import RoiForm

LAYER_NAME = "ROI"


def roi_to_rect(roi: Roi) -> np.ndarray:
    """Corners of a napari rectangle (4 x (y, x)) for a ROI."""
    y0, x0, y1, x1 = roi.y, roi.x, roi.y + roi.height, roi.x + roi.width
    return np.array([[y0, x0], [y0, x1], [y1, x1], [y1, x0]], dtype=float)


def rect_to_roi(corners: np.ndarray) -> Roi:
    """The ROI (rounded to whole pixels) that a rectangle's corners span."""
    c = np.asarray(corners, dtype=float)[:, -2:]
    y0, x0 = np.floor(c.min(axis=0) + 0.5)
    y1, x1 = np.floor(c.max(axis=0) + 0.5)
    return Roi(int(x0), int(y0), int(x1 - x0), int(y1 - y0))


class RoiSync:
    """Keeps one rectangle on the ``ROI`` Shapes layer and the ROI form equal.

    Parameters
    ----------
    viewer : napari.Viewer
    form : RoiForm
    """

    def __init__(self, viewer: napari.Viewer, form: RoiForm) -> None:
        self.viewer = viewer
        self.form = form
        self.frame_size: tuple[int, int] | None = None  # (height, width)
        self._busy = False
        self._show = True  # False while a default ROI fills the form without adding a layer
        form.changed.connect(self._form_changed)

    def layer(self, create: bool = True) -> Any:
        """The ROI Shapes layer (made on first use)."""
        if LAYER_NAME in self.viewer.layers:
            return self.viewer.layers[LAYER_NAME]
        if not create:
            return None
        layer = self.viewer.add_shapes(ndim=2, **ShapesStyle(name=LAYER_NAME).as_kwargs())
        layer.events.data.connect(self._shapes_changed)
        layer.events.set_data.connect(self._shapes_changed)
        return layer

    def start_drawing(self) -> None:
        """Select the layer (made now, on the user's request) in rectangle mode to drag a ROI."""
        layer = self.layer()
        self.viewer.layers.selection.active = layer
        layer.mode = "add_rectangle"

    def clamp(self, roi: Roi) -> Roi:
        """``roi`` moved and shrunk to lie inside the frame."""
        if self.frame_size is None:
            return roi
        h, w = self.frame_size
        width = max(2, min(roi.width, w))
        height = max(2, min(roi.height, h))
        x = min(max(0, roi.x), w - width)
        y = min(max(0, roi.y), h - height)
        return Roi(x, y, width, height)

    def set_roi(self, roi: Roi, show: bool = True) -> None:
        """Show ``roi`` in the form and, if ``show``, as the only rectangle.

        With ``show=False`` (a default the user did not ask for, such as the whole frame of a
        newly chosen video) only the form changes; an existing ROI layer still follows, but none
        is added to the layer list.
        """
        self._show = show
        try:
            self.form.set_roi(self.clamp(roi))
        finally:
            self._show = True

    def _form_changed(self) -> None:
        if self._busy:
            return
        roi = self.form.roi()
        self._busy = True
        try:
            layer = self.layer(create=self._show)
            if layer is not None:
                layer.data = [roi_to_rect(roi)]
                layer.shape_type = ["rectangle"]
        finally:
            self._busy = False
        self._update_summary(roi)

    def _shapes_changed(self, event: Any = None) -> None:
        if self._busy:
            return
        layer = self.layer(create=False)
        if layer is None or not len(layer.data):
            return
        # keep only the newest rectangle
        corners = layer.data[-1]
        roi = rect_to_roi(corners)
        if self.form.fixed.isChecked():
            roi = Roi(roi.x, roi.y, self.form.w.value(), self.form.h.value())
        roi = self.clamp(roi)
        self._busy = True
        try:
            if len(layer.data) > 1 or not np.allclose(corners[:, -2:], roi_to_rect(roi)):
                layer.data = [roi_to_rect(roi)]
                layer.shape_type = ["rectangle"]
            self.form.set_roi(roi)
        finally:
            self._busy = False
        self._update_summary(roi)

    def _update_summary(self, roi: Roi) -> None:
        note = ""
        if roi.width % 2 or roi.height % 2:
            note = " (H.264 output uses {}x{}: even sizes)".format(*_even(roi))
        self.form.summary.setText(f"x={roi.x} y={roi.y} w={roi.width} h={roi.height}{note}")


def _even(roi: Roi) -> tuple[int, int]:
    e = roi.even()
    return e.width, e.height
