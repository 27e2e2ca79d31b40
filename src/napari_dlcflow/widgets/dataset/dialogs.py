"""File dialogs of the Dataset dock, each in a tiny function so tests can replace them."""

from __future__ import annotations

from qtpy.QtWidgets import QFileDialog, QWidget

LABEL_FILTER = (
    "Label files (*.json *.slp *.csv *.h5);;COCO (*.json);;SLEAP (*.slp);;"
    "DeepLabCut / Lightning Pose (*.csv *.h5);;All files (*)"
)


def ask_label_file(parent: QWidget | None) -> str | None:
    """Ask for a label file of another tool; None if cancelled."""
    path, _ = QFileDialog.getOpenFileName(parent, "Labels to import", "", LABEL_FILTER)
    return path or None


def ask_label_folder(parent: QWidget | None) -> str | None:
    """Ask for a folder of per-image CSV files; None if cancelled."""
    path = QFileDialog.getExistingDirectory(parent, "Folder of per-image CSV files")
    return path or None


def ask_coco_target(parent: QWidget | None) -> str | None:
    """Ask where to write the COCO JSON file; None if cancelled."""
    path, _ = QFileDialog.getSaveFileName(parent, "Export COCO keypoints", "", "JSON (*.json)")
    return path or None


def ask_project_folder(parent: QWidget | None) -> str | None:
    """Ask where to make a new project; None if cancelled."""
    path = QFileDialog.getExistingDirectory(parent, "Make the new project in")
    return path or None


def ask_new_project(parent: QWidget | None) -> tuple[str, str, str] | None:
    """Ask for the task and scorer of a new project, and where to make it; None if cancelled."""
    from qtpy.QtWidgets import QInputDialog

    task, ok = QInputDialog.getText(parent, "New project", "Task (project name):")
    if not ok or not task.strip():
        return None
    scorer, ok = QInputDialog.getText(parent, "New project", "Scorer (your name):")
    if not ok or not scorer.strip():
        return None
    folder = ask_project_folder(parent)
    return (task.strip(), scorer.strip(), folder) if folder else None
