"""Questions the Labeling dock asks, each in a tiny function so tests can replace them."""

from __future__ import annotations

from qtpy.QtWidgets import QMessageBox, QWidget

from napari_dlcflow.widgets.common.dialogs import ask_yes_no


def ask_unsaved(parent: QWidget | None, what: str) -> str:
    """Unsaved labels: return ``"save"``, ``"discard"`` or ``"cancel"``."""
    box = QMessageBox(parent)
    box.setIcon(QMessageBox.Warning)
    box.setWindowTitle("Unsaved labels")
    box.setText(f"{what} has unsaved labels.")
    box.setStandardButtons(QMessageBox.Save | QMessageBox.Discard | QMessageBox.Cancel)
    box.setDefaultButton(QMessageBox.Save)
    answer = box.exec_()
    return {QMessageBox.Save: "save", QMessageBox.Discard: "discard"}.get(answer, "cancel")


def ask_use_recovery(parent: QWidget | None, text: str) -> bool:
    """Offer the autosaved labels found after a crash."""
    return ask_yes_no(parent, "Recover labels", text, default=True)


def ask_config_mapping(parent: QWidget | None, text: str) -> str:
    """The labels differ from config.yaml: ``"apply"`` (suggested renames, keep the other extra
    columns), or ``"cancel"``."""
    box = QMessageBox(parent)
    box.setIcon(QMessageBox.Question)
    box.setWindowTitle("Labels differ from config.yaml")
    box.setText("The label file and config.yaml name different body parts.")
    box.setInformativeText(
        text + "\n\nApply: rename as suggested, keep any other columns of the file as they are "
        "(nothing is dropped). Cancel: open nothing."
    )
    apply = box.addButton("Apply", QMessageBox.AcceptRole)
    box.addButton(QMessageBox.Cancel)
    box.exec_()
    return "apply" if box.clickedButton() is apply else "cancel"


def ask_remap_folder(parent: QWidget | None, text: str) -> bool:
    """A renamed labeled-data folder: remap the rows to this folder by image name?"""
    return ask_yes_no(
        parent,
        "Renamed folder",
        text + "\n\nRemap the labels to this folder by image name?",
        default=False,
    )


def ask_save_changes(parent: QWidget | None, text: str) -> bool:
    """Show what a save changes in CollectedData (added, moved, deleted) and ask to go on."""
    box = QMessageBox(parent)
    box.setIcon(QMessageBox.Question)
    box.setWindowTitle("Save labels")
    box.setText("Saving changes the ground truth like this:")
    box.setInformativeText(text)
    box.setStandardButtons(QMessageBox.Save | QMessageBox.Cancel)
    box.setDefaultButton(QMessageBox.Save)
    return box.exec_() == QMessageBox.Save
