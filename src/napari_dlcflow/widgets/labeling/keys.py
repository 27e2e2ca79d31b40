"""Keyboard handling of the Labeling dock: shortcuts on the labels layer, Ctrl+S, and the
warning when the window closes with unsaved labels."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from qtpy.QtCore import QEvent, QObject, Qt

from napari_dlcflow.widgets.common.shortcuts import LABELING_SHORTCUTS

if TYPE_CHECKING:
    from napari_dlcflow.widgets.common.labeling_host import LabelingHost


def bind_layer_keys(layer: object, dock: LabelingHost) -> None:
    """Bind :data:`~napari_dlcflow.widgets.common.shortcuts.LABELING_SHORTCUTS` on the labels
    layer (active while it is the selected layer)."""
    for key, action, _ in LABELING_SHORTCUTS:
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
