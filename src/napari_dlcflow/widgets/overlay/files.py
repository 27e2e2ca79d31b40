"""File dialogs of the Overlay and Plots docks, each a tiny function tests can replace."""

from __future__ import annotations

from qtpy.QtWidgets import QFileDialog, QWidget

from napari_dlcflow.widgets.common.dialogs import VIDEO_FILTER

ANALYSIS_FILTER = "DeepLabCut analysis (*.h5 *.csv);;All files (*)"


def ask_analysis_file(parent: QWidget | None) -> str | None:
    """Ask for a DLC analysis file (``<video>DLC_....h5``); None if cancelled."""
    path, _ = QFileDialog.getOpenFileName(
        parent, "Open DeepLabCut analysis output", "", ANALYSIS_FILTER
    )
    return path or None


def ask_save_video(parent: QWidget | None, suggested: str) -> str | None:
    """Ask where to write a labeled video; None if cancelled."""
    path, _ = QFileDialog.getSaveFileName(
        parent, "Save labeled video", suggested, "MP4 video (*.mp4)"
    )
    return path or None


def ask_video(parent: QWidget | None) -> str | None:
    """Ask for the video file that was analysed; None if cancelled."""
    path, _ = QFileDialog.getOpenFileName(parent, "Which video was analysed?", "", VIDEO_FILTER)
    return path or None


def ask_save_csv(parent: QWidget | None, suggested: str) -> str | None:
    """Ask where to export a table as CSV; None if cancelled."""
    path, _ = QFileDialog.getSaveFileName(parent, "Export table", suggested, "CSV (*.csv)")
    return path or None
