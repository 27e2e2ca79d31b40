"""The Proofread dock's keys on the viewer (held weakly, given back when the dock goes) and the
question about unsaved edits when the window closes."""

from __future__ import annotations

import contextlib
import weakref
from collections.abc import Callable
from typing import Any

from qtpy.QtCore import QEvent, QObject

from napari_dlcflow.widgets.common.shortcuts import PROOFREAD_SHORTCUTS

__all__ = ["ACTIONS", "KEY_LABELS", "CloseGuard", "disconnect_dock", "key_handler"]

ACTIONS = {key: action for key, action, _ in PROOFREAD_SHORTCUTS}
"""The dock method each key calls."""
KEY_LABELS = {action: key.replace("Control", "Ctrl") for key, action, _ in PROOFREAD_SHORTCUTS}
"""How each action's key is written on the dock's buttons."""


def key_handler(dock: Any, action: str) -> Callable[[Any], None]:
    """A viewer key callback that holds the dock weakly (and does nothing once it is gone)."""
    ref = weakref.ref(dock)

    def handler(_viewer: Any) -> None:
        target = ref()
        if target is None:
            return
        with contextlib.suppress(RuntimeError):  # the dock's Qt side was deleted
            getattr(target, action)()

    handler.__name__ = f"proofread_{action}"
    return handler


def disconnect_dock(
    viewer_ref: weakref.ref,
    handlers: dict[str, Callable[..., Any]],
    dock_ref: weakref.ref,
    *_: Any,
) -> None:
    """The dock's Qt side is gone: give the keys back (those still bound to its handlers), stop
    following the viewer (a Python wrapper that outlives the widget must not be called); the
    layers stay."""
    from napari.utils.key_bindings import coerce_keybinding

    viewer, dock = viewer_ref(), dock_ref()
    if viewer is None:
        return
    for key, handler in handlers.items():
        if viewer.keymap.get(coerce_keybinding(key)) is handler:
            viewer.bind_key(key, None)
    if dock is None:
        return  # garbage collected: its weakly held callbacks are gone with it
    viewer.dims.events.current_step.disconnect(dock._frame_changed)
    for event in (viewer.layers.events.inserted, viewer.layers.events.removed):
        event.disconnect(dock._refresh_layers)
    viewer.layers.events.removed.disconnect(dock._layer_removed)
    if dock.overlay is not None:
        dock.overlay.release()


class CloseGuard(QObject):
    """Asks about unsaved edits before the napari window (the object it filters) closes."""

    def __init__(self, dock: Any) -> None:
        super().__init__(dock)
        self._dock = weakref.ref(dock)

    def eventFilter(self, obj: QObject, event: QEvent) -> bool:
        dock = self._dock()
        if dock is None or event.type() != QEvent.Type.Close:
            return False
        try:
            if not dock.confirm_discard():
                event.ignore()
                return True
        except RuntimeError:  # the dock was deleted while the window still sends events
            return False
        return False
