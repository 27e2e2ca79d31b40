"""Keyboard handling of the Labeling dock: shortcuts on the labels layer, Ctrl+S, and the
warning when the window closes with unsaved labels."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from qtpy.QtCore import QEvent, QObject, Qt

if TYPE_CHECKING:
    from napari_dlcflow.widgets.labeling.host import LabelingHost

#: (key, action, what it does) -- the table in docs/labeling.md is checked against this.
SHORTCUTS: list[tuple[str, str, str]] = [
    ("Down", "next_keypoint", "next body part"),
    ("Up", "previous_keypoint", "previous body part"),
    ("Right", "next_frame", "next frame"),
    ("Left", "previous_frame", "previous frame"),
    ("N", "next_unlabeled", "next frame with a missing label"),
    ("M", "cycle_mode", "label mode: sequential -> quick -> loop"),
    ("C", "copy_previous", "copy the labels of the previous labeled frame (missing ones only)"),
    ("V", "mark_not_visible", "mark the selected body part not visible here (removes its point)"),
    ("T", "toggle_names", "show or hide body-part names"),
    ("A", "accept_frame", "accept the model's predictions in this frame as labels"),
    ("P", "next_prediction", "next frame with predictions to review"),
    ("Control-Z", "undo", "undo"),
    ("Control-Shift-Z", "redo", "redo"),
    ("Control-Y", "redo", "redo"),
]


def bind_layer_keys(layer: object, dock: LabelingHost) -> None:
    """Bind :data:`SHORTCUTS` on the labels layer (active while it is the selected layer)."""
    for key, action, _ in SHORTCUTS:
        func: Callable[[], object] = getattr(dock, action)

        def handler(_layer: object, func: Callable[[], object] = func) -> None:
            func()

        layer.bind_key(key, handler, overwrite=True)  # type: ignore[attr-defined]


class WindowFilter(QObject):
    """Ctrl+S saves the labels while the labels layer is active (taking it from napari's
    "Save Selected Layers"); closing the window with unsaved labels asks first."""

    def __init__(self, dock: LabelingHost) -> None:
        super().__init__(dock)
        self._dock = dock

    def _is_ctrl_s(self, event: QEvent) -> bool:
        mods = event.modifiers() & ~Qt.KeypadModifier  # type: ignore[attr-defined]
        return event.key() == Qt.Key_S and mods == Qt.ControlModifier  # type: ignore[attr-defined]

    def eventFilter(self, obj: QObject, event: QEvent) -> bool:
        try:
            return self._filter(obj, event)
        except RuntimeError:  # the dock was deleted while the window still sends events
            return False

    def _filter(self, obj: QObject, event: QEvent) -> bool:
        dock = self._dock
        etype = event.type()
        if etype in (QEvent.ShortcutOverride, QEvent.KeyPress):
            if self._is_ctrl_s(event) and dock.owns_focus(obj):
                if etype == QEvent.KeyPress:
                    dock.save()
                event.accept()
                return True
            return False
        if etype == QEvent.Close and obj is dock.main_window() and not dock.confirm_close():
            event.ignore()
            return True
        return False
