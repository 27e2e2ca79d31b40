"""File dialogs and yes/no questions, each in a tiny function so tests can replace them."""

from __future__ import annotations

from qtpy.QtWidgets import QFileDialog, QMessageBox, QWidget

from napari_dlcflow.core.video.reader import VIDEO_SUFFIXES

VIDEO_FILTER = f"Videos ({' '.join('*' + s for s in VIDEO_SUFFIXES)});;All files (*)"
"""The file-dialog filter of videos, from the one suffix list the readers use."""


def ask_config_file(parent: QWidget | None) -> str | None:
    """Ask for a project's ``config.yaml``; None if cancelled."""
    path, _ = QFileDialog.getOpenFileName(
        parent, "Open a DeepLabCut project", "", "DeepLabCut config (config.yaml *.yaml)"
    )
    return path or None


def ask_videos(parent: QWidget | None) -> list[str]:
    """Ask for one or more video files; empty if cancelled."""
    paths, _ = QFileDialog.getOpenFileNames(parent, "Choose videos", "", VIDEO_FILTER)
    return list(paths)


def ask_folder(parent: QWidget | None, title: str = "Choose a folder") -> str | None:
    """Ask for a folder; None if cancelled."""
    path = QFileDialog.getExistingDirectory(parent, title)
    return path or None


def ask_yes_no(parent: QWidget | None, title: str, text: str, *, default: bool) -> bool:
    """Ask a Yes/No question; True for Yes.

    Parameters
    ----------
    parent : QWidget or None
        The window the question belongs to.
    title, text : str
        The window title and the question.
    default : bool
        The answer Enter gives (the button that has the focus).
    """
    yes, no = QMessageBox.StandardButton.Yes, QMessageBox.StandardButton.No
    answer = QMessageBox.question(parent, title, text, yes | no, yes if default else no)
    return answer == yes
