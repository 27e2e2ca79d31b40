"""The form that creates a new DeepLabCut project."""

from __future__ import annotations

from pathlib import Path

from qtpy.QtCore import Signal
from qtpy.QtWidgets import (
    QCheckBox,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QLineEdit,
    QListWidget,
    QPushButton,
    QWidget,
)

from napari_dlcflow.widgets.common import dialogs as _dialogs
from napari_dlcflow.widgets.common.dock import wrap_rows


class NewProjectForm(QGroupBox):
    """Task, scorer, folder, videos and options; emits ``create_requested(dict)``."""

    create_requested = Signal(dict)
    cancelled = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__("New project", parent)
        self.task = QLineEdit()
        self.task.setPlaceholderText("e.g. jellyfish-feeding")
        self.scorer = QLineEdit()
        self.scorer.setPlaceholderText("your name")
        self.folder = QLineEdit(str(Path.cwd()))
        browse = QPushButton("Browse…")
        browse.clicked.connect(self._browse)
        folder_row = QHBoxLayout()
        folder_row.addWidget(self.folder, 1)
        folder_row.addWidget(browse)
        self.videos = QListWidget()
        self.videos.setMaximumHeight(90)
        add = QPushButton("Add videos…")
        add.clicked.connect(self._add_videos)
        remove = QPushButton("Remove")
        remove.clicked.connect(self._remove_video)
        video_row = QHBoxLayout()
        video_row.addWidget(add)
        video_row.addWidget(remove)
        self.copy_videos = QCheckBox("Copy videos (else link them)")
        self.copy_videos.setToolTip("Copy the videos into the project's videos/ folder")
        self.multianimal = QCheckBox("Multi-animal project")
        self.create_button = QPushButton("Create project")
        self.create_button.clicked.connect(self._create)
        cancel = QPushButton("Cancel")
        cancel.clicked.connect(self.cancelled.emit)
        buttons = QHBoxLayout()
        buttons.addWidget(self.create_button)
        buttons.addWidget(cancel)
        form = wrap_rows(QFormLayout(self))
        form.addRow("Task", self.task)
        form.addRow("Scorer", self.scorer)
        form.addRow("In folder", folder_row)
        form.addRow("Videos", self.videos)
        form.addRow("", video_row)
        form.addRow(self.copy_videos)
        form.addRow(self.multianimal)
        form.addRow(buttons)

    def video_paths(self) -> list[str]:
        """The videos chosen so far."""
        return [self.videos.item(i).text() for i in range(self.videos.count())]

    def add_video_paths(self, paths: list[str]) -> None:
        """Add videos to the list (no duplicates)."""
        have = set(self.video_paths())
        for p in paths:
            if p not in have:
                self.videos.addItem(p)

    def _browse(self) -> None:
        path = _dialogs.ask_folder(self, "Folder in which to create the project")
        if path:
            self.folder.setText(path)

    def _add_videos(self) -> None:
        self.add_video_paths(_dialogs.ask_videos(self))

    def _remove_video(self) -> None:
        row = self.videos.currentRow()
        if row >= 0:
            self.videos.takeItem(row)

    def _create(self) -> None:
        self.create_requested.emit(
            {
                "task": self.task.text(),
                "scorer": self.scorer.text(),
                "working_directory": self.folder.text(),
                "videos": self.video_paths(),
                "copy_videos": self.copy_videos.isChecked(),
                "multianimal": self.multianimal.isChecked(),
            }
        )
