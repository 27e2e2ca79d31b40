"""The open project as a small evented object that several dock widgets observe."""

from __future__ import annotations

import os

from psygnal import Signal

from napari_dlcflow.core.project.config import Project

__all__ = ["ProjectState"]


class ProjectState:
    """Which project is open, with signals for the widgets that show it.

    Signals
    -------
    opened(Project | None)
        A project was opened (or closed, with None).
    changed()
        The open project was edited in memory.
    saved(Project)
        The open project was written to disk.
    frames_added(Path)
        New frames (and maybe machine labels) were written to a labeled-data folder, e.g. by
        outlier extraction; the Labeling dock offers to open it.
    iteration_changed(int)
        The project moved to another refinement iteration (``config.yaml`` saved).
    dataset_made(dict)
        A training dataset was made (the sidecar's ``last_dataset`` record): the docks that
        show a shuffle follow it.
    """

    opened = Signal(object)
    changed = Signal()
    saved = Signal(object)
    frames_added = Signal(object)
    iteration_changed = Signal(int)
    dataset_made = Signal(object)

    def __init__(self) -> None:
        self.project: Project | None = None

    def open(self, path: str | os.PathLike) -> Project:
        """Open the project at ``path`` (config or folder) and make it the current one."""
        project = Project.open(path)
        self.set_project(project)
        return project

    def set_project(self, project: Project | None) -> None:
        """Make ``project`` the current one and tell the observers."""
        self.project = project
        self.opened.emit(project)

    def notify_changed(self) -> None:
        """Tell the observers that the current project was edited."""
        self.changed.emit()

    def save(self, *, force: bool = False) -> None:
        """Save the current project and tell the observers."""
        if self.project is None:
            raise RuntimeError("No project is open")
        self.project.save(force=force)
        self.saved.emit(self.project)
