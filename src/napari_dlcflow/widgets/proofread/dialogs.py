"""The Proofread dock's file dialogs and questions, each a tiny function tests can replace."""

from __future__ import annotations

from qtpy.QtWidgets import QFileDialog, QMessageBox, QWidget

TRACKS_FILTER = (
    "Tracked animals (*.h5 *.csv *.slp);;DeepLabCut tracks (*.h5 *.csv);;SLEAP (*.slp);;"
    "All files (*)"
)


def ask_tracks_file(parent: QWidget | None) -> str | None:
    """Ask for a tracked file (DeepLabCut ``_el/_bx/_sk.h5``, SLEAP ``.slp``); None if
    cancelled."""
    path, _ = QFileDialog.getOpenFileName(parent, "Open tracks to proofread", "", TRACKS_FILTER)
    return path or None


def ask_save_tracks(parent: QWidget | None, suggested: str) -> str | None:
    """Ask where to save the proofread tracks; None if cancelled."""
    path, _ = QFileDialog.getSaveFileName(
        parent, "Save the tracks as", suggested, "DeepLabCut tracks (*.h5)"
    )
    return path or None


def ask_unsaved(parent: QWidget | None, what: str) -> str:
    """Unsaved track edits: return ``"save"``, ``"discard"`` or ``"cancel"``."""
    box = QMessageBox(parent)
    box.setIcon(QMessageBox.Icon.Warning)
    box.setWindowTitle("Unsaved track edits")
    box.setText(f"The tracks of {what} have edits that are not saved.")
    buttons = QMessageBox.StandardButton
    box.setStandardButtons(buttons.Save | buttons.Discard | buttons.Cancel)
    box.setDefaultButton(buttons.Save)
    answer = box.exec()
    return {buttons.Save: "save", buttons.Discard: "discard"}.get(answer, "cancel")
