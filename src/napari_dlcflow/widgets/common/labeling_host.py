"""The small interface the Labeling dock offers its sections (extraction, model predictions,
label QC, keys): they talk to a :class:`LabelingHost`, never to the dock's private methods, and
none of them imports the dock."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    from napari_dlcflow.core.labels.session import LabelModel
    from napari_dlcflow.core.project.config import Project
    from napari_dlcflow.core.project.state import ProjectState


class LabelingHost(Protocol):
    """What a section of the Labeling dock may use.

    Attributes
    ----------
    viewer : napari.Viewer
        The viewer.
    state : ProjectState
        The viewer's open project and its signals.
    model : LabelModel or None
        The labels being edited (the Qt-free session).
    project : Project or None
        The project of the open folder.
    image_layer : napari layer or None
        The image stack of the open folder.
    points_layer : napari Points layer or None
        The labels of the open folder.
    status : StatusLine
        The dock's status line (``text()`` is the last message).
    """

    viewer: Any
    state: ProjectState
    model: LabelModel | None
    project: Project | None
    image_layer: Any
    points_layer: Any
    status: Any

    def open_folder(self, folder: Any) -> bool:
        """Open a labeled-data folder for labeling; False (with the reason shown) if not."""

    def go_to_frame(self, t: int) -> None:
        """Show frame ``t`` of the open folder."""

    def info(self, message: str) -> None:
        """Say something on the dock's status line."""

    def error(self, message: str) -> None:
        """Report a problem on the dock's status line."""

    def redraw(self) -> None:
        """Redraw the labels layer (and lists) from the model after the model changed."""

    def reload(self) -> None:
        """Re-read the project's labeled-data folders (after frames were added)."""

    def save(self) -> bool:
        """Save the labels; False when not saved."""

    # for the keys (widgets/labeling/keys.py): the actions of SHORTCUTS are methods too
    def owns_focus(self, obj: Any) -> bool:
        """Whether a key event on ``obj`` belongs to the labels (Ctrl+S saves them)."""

    def main_window(self) -> Any:
        """The napari main window the dock sits in."""

    def confirm_close(self) -> bool:
        """Ask about unsaved labels before the window closes; False keeps it open."""
