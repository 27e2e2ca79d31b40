"""One :class:`~napari_dlcflow.core.project.state.ProjectState` per napari viewer, shared by all
docks."""

from __future__ import annotations

import weakref
from typing import TYPE_CHECKING

from napari_dlcflow.core.project.state import ProjectState

if TYPE_CHECKING:
    import napari

_STATES: weakref.WeakKeyDictionary[object, ProjectState] = weakref.WeakKeyDictionary()


def state_for_viewer(viewer: napari.Viewer) -> ProjectState:
    """Return the project state of ``viewer``, making it on first use."""
    state = _STATES.get(viewer)
    if state is None:
        state = ProjectState()
        _STATES[viewer] = state
    return state
