"""The import section of the Dataset dock: source, options, rename table, preview, import."""

from __future__ import annotations

import re
from typing import Any

from qtpy.QtCore import Qt, Signal
from qtpy.QtGui import QColor
from qtpy.QtWidgets import (
    QCheckBox,
    QComboBox,
    QFormLayout,
    QGridLayout,
    QGroupBox,
    QHBoxLayout,
    QLineEdit,
    QPlainTextEdit,
    QPushButton,
    QSpinBox,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from napari_dlcflow.core.formats import FORMATS
from napari_dlcflow.core.formats.importing import ImportOptions, ImportPreview
from napari_dlcflow.widgets.common.dock import narrow_combo, wrap_rows

__all__ = ["ImportSection", "parse_frames"]


def parse_frames(text: str) -> list[int] | None:
    """``"0, 5, 10-20, 100-1500:100"`` -> frame indices (``a-b:step`` includes ``b``);
    empty text -> None (all frames)."""
    text = text.strip()
    if not text:
        return None
    out: list[int] = []
    for part in re.split(r"[,\s]+", text):
        if not part:
            continue
        m = re.fullmatch(r"(\d+)(?:-(\d+)(?::(\d+))?)?", part)
        if not m:
            raise ValueError(f"frames: cannot read {part!r} (use 0, 5, 10-20 or 0-1000:50)")
        a = int(m.group(1))
        b = int(m.group(2)) if m.group(2) else a
        step = int(m.group(3)) if m.group(3) else 1
        out += list(range(a, b + 1, max(step, 1)))
    return sorted(set(out))


class ImportSection(QGroupBox):
    """Choose a foreign label file, preview what importing it does, then import.

    Signals
    -------
    preview_requested()
    import_requested()
    """

    preview_requested = Signal()
    import_requested = Signal()
    new_project_requested = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__("Import labels from another tool", parent)
        lay = QVBoxLayout(self)
        row = QHBoxLayout()
        self.source = QLineEdit()
        self.source.setPlaceholderText("COCO .json, SLEAP .slp, DLC/Lightning Pose .csv/.h5 …")
        self.browse_file = QPushButton("File…")
        self.browse_folder = QPushButton("CSV folder…")
        row.addWidget(self.source, 1)
        row.addWidget(self.browse_file)
        row.addWidget(self.browse_folder)
        lay.addLayout(row)

        form = wrap_rows(QFormLayout())
        self.format = narrow_combo(QComboBox())
        self.format.addItem("detect from the file", None)
        for name, (desc, _) in FORMATS.items():
            self.format.addItem(f"{name}: {desc}", name)
        form.addRow("Format", self.format)
        self.header_rows = QSpinBox()
        self.header_rows.setRange(-1, 1000)
        self.header_rows.setSpecialValueText("auto")
        self.header_rows.setValue(-1)
        self.visibility_column = QSpinBox()
        self.visibility_column.setRange(-1, 100)
        self.visibility_column.setSpecialValueText("none")
        self.visibility_column.setValue(-1)
        csv_row = QHBoxLayout()
        csv_row.addWidget(self.header_rows)
        csv_row.addWidget(self.visibility_column)
        form.addRow("CSV header rows, visib. col.", csv_row)
        self.csv_columns = QLineEdit("0, 1, 2")
        self.csv_columns.setToolTip("0-based columns of the body part name, x and y")
        form.addRow("CSV name, x, y columns", self.csv_columns)
        self.frames = QLineEdit()
        self.frames.setPlaceholderText("all (or e.g. 0-1499:100)")
        form.addRow("Video frames", self.frames)
        self.folder = QLineEdit()
        self.folder.setPlaceholderText("as the file says (video stem / image folder)")
        form.addRow("labeled-data folder", self.folder)
        lay.addLayout(form)

        self.rename = QTableWidget(0, 3)
        self.rename.setHorizontalHeaderLabels(["in the file", "in the project", "points"])
        self.rename.horizontalHeader().setStretchLastSection(True)
        self.rename.setMaximumHeight(170)
        self.rename.setToolTip("Edit the middle column to rename a body part on import")
        lay.addWidget(self.rename)

        opts = QGridLayout()
        self.drop_unknown = QCheckBox("leave out unknown parts")
        self.skip_missing = QCheckBox("skip missing images")
        self.overwrite = QCheckBox("imported labels win")
        self.predictions = QCheckBox("SLEAP predictions")
        self.open_after = QCheckBox("then label")
        self.open_after.setToolTip("Open the imported frames in the Labeling dock")
        self.open_after.setChecked(True)
        for i, box in enumerate(
            (
                self.drop_unknown,
                self.skip_missing,
                self.overwrite,
                self.predictions,
                self.open_after,
            )
        ):
            opts.addWidget(box, i, 0)  # one a row: two side by side are too wide
        lay.addLayout(opts)

        buttons = QHBoxLayout()
        self.preview_button = QPushButton("Preview")
        self.import_button = QPushButton("Import")
        self.import_button.setEnabled(False)
        self.new_project_button = QPushButton("New project…")
        self.new_project_button.setToolTip("Make a new project from the file's skeleton")
        buttons.addWidget(self.preview_button)
        buttons.addWidget(self.import_button)
        buttons.addWidget(self.new_project_button)
        lay.addLayout(buttons)
        self.preview_text = QPlainTextEdit()
        self.preview_text.setReadOnly(True)
        self.preview_text.setMinimumHeight(130)
        lay.addWidget(self.preview_text)

        self.preview_button.clicked.connect(self.preview_requested.emit)
        self.import_button.clicked.connect(self.import_requested.emit)
        self.new_project_button.clicked.connect(self.new_project_requested.emit)
        for w in (self.source, self.frames, self.folder):
            w.textEdited.connect(self._stale)
        for c in (self.drop_unknown, self.skip_missing, self.overwrite, self.predictions):
            c.toggled.connect(self._stale)
        self.rename.itemChanged.connect(self._stale)

    def _stale(self, *_args: Any) -> None:
        """Inputs changed: the preview no longer holds, so import needs a new one."""
        self.import_button.setEnabled(False)

    def rename_map(self) -> dict[str, str]:
        """``{file name: project name}`` for the rows the user changed."""
        out = {}
        for r in range(self.rename.rowCount()):
            a = self.rename.item(r, 0)
            b = self.rename.item(r, 1)
            if a and b and b.text().strip() and b.text().strip() != a.text():
                out[a.text()] = b.text().strip()
        return out

    def options(self) -> ImportOptions:
        """The options as set (raises ValueError for an unreadable frame list)."""
        ropts: dict[str, Any] = {}
        fmt = self.format.currentData()
        if self.header_rows.value() >= 0:
            ropts["header_rows"] = self.header_rows.value()
        if self.visibility_column.value() >= 0:
            ropts["visibility_column"] = self.visibility_column.value()
        if self.predictions.isChecked():
            ropts["predictions"] = True
        cols = [c for c in re.split(r"[,\s]+", self.csv_columns.text().strip()) if c]
        if cols != ["0", "1", "2"]:
            if len(cols) != 3 or not all(c.isdigit() for c in cols):
                raise ValueError("CSV columns: give three column numbers, e.g. 0, 1, 2")
            ropts["name_column"], ropts["x_column"], ropts["y_column"] = map(int, cols)
        return ImportOptions(
            format=fmt,
            read_options=ropts,
            rename=self.rename_map(),
            folder=self.folder.text().strip() or None,
            frames=parse_frames(self.frames.text()),
            drop_unknown=self.drop_unknown.isChecked(),
            skip_missing=self.skip_missing.isChecked(),
            overwrite=self.overwrite.isChecked(),
        )

    def show_preview(
        self, preview: ImportPreview, raw_bodyparts: list[str], raw_points: dict[str, int]
    ) -> None:
        """Fill the rename table (file body parts, red when unknown) and the summary."""
        current = self.rename_map()
        unknown = set(preview.unknown_bodyparts)
        self.rename.blockSignals(True)
        self.rename.setRowCount(len(raw_bodyparts))
        for r, bp in enumerate(raw_bodyparts):
            a = QTableWidgetItem(bp)
            a.setFlags(a.flags() & ~Qt.ItemFlag.ItemIsEditable)
            b = QTableWidgetItem(current.get(bp, bp))
            n = QTableWidgetItem(str(raw_points.get(bp, 0)))
            n.setFlags(n.flags() & ~Qt.ItemFlag.ItemIsEditable)
            if current.get(bp, bp) in unknown:
                for item in (a, b):
                    item.setBackground(QColor(150, 40, 40))
            self.rename.setItem(r, 0, a)
            self.rename.setItem(r, 1, b)
            self.rename.setItem(r, 2, n)
        self.rename.resizeColumnsToContents()
        self.rename.blockSignals(False)
        self.preview_text.setPlainText(preview.summary())
        self.import_button.setEnabled(preview.ok)
