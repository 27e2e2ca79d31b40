"""The Labeling dock's label-QC panel: the likely labeling mistakes of the project, as a table.

Likely mistakes are listed, notes (an unlabeled part, an unusual but possible pose) when
*show notes* is ticked. Sortable by any column (the score is comparable across kinds) and
filtered by kind; a click opens the finding's folder if needed, jumps to its image, selects its
points in the Points layer and says why the finding is there; a left/right swap or an identity
swap between two animals is fixed with one click (and saved through the dock's normal safe
save); a dismissed finding is remembered in the sidecar. The checks are
:func:`napari_dlcflow.core.labels.qc.check_labels`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np
from qtpy.QtCore import Qt
from qtpy.QtWidgets import (
    QAbstractItemView,
    QCheckBox,
    QComboBox,
    QGroupBox,
    QLabel,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
)

from napari_dlcflow.core.engine.evaluation import latest_frames
from napari_dlcflow.core.labels.collected import LabelsError
from napari_dlcflow.core.labels.qc import NOTE, Finding, check_labels, dismiss, summary
from napari_dlcflow.core.labels.qc_finding import KINDS
from napari_dlcflow.core.labels.qc_identity import identity_columns
from napari_dlcflow.widgets.common.dock import button_grid, narrow_combo

if TYPE_CHECKING:
    from napari_dlcflow.widgets.common.labeling_host import LabelingHost

__all__ = ["LabelQCPanel"]

_COLUMNS = ("kind", "image", "animal", "body parts", "score", "severity", "reason")
_FIXABLE = ("swap", "identity")


class _Score(QTableWidgetItem):
    """A cell that sorts by number."""

    def __lt__(self, other: Any) -> bool:
        try:
            return float(self.text()) < float(other.text())
        except ValueError:
            return super().__lt__(other)


class LabelQCPanel(QGroupBox):
    """Findings of the label check, for the Labeling dock ``dock``."""

    def __init__(self, dock: LabelingHost) -> None:
        super().__init__("Label check (likely mistakes)")
        self.dock = dock
        self.findings: list[Finding] = []
        lay = QVBoxLayout(self)
        self.check_button = QPushButton("Check labels")
        self.check_button.clicked.connect(self.run_check)
        self.kind_combo = narrow_combo(QComboBox())
        self.kind_combo.addItems(["all kinds", *KINDS])
        self.kind_combo.currentTextChanged.connect(self._apply_filter)
        self.notes_box = QCheckBox("show notes")
        self.notes_box.setToolTip(
            "Also list notes: unlabeled parts and unusual but possible poses (worth a look)"
        )
        self.notes_box.toggled.connect(self._apply_filter)
        self.fix_button = QPushButton("Fix swap")
        self.fix_button.setToolTip(
            "Exchange the swapped pair (or the two animals) in this image and save"
        )
        self.fix_button.clicked.connect(self.fix_swap)
        self.dismiss_button = QPushButton("Dismiss")
        self.dismiss_button.clicked.connect(self.dismiss_selected)
        lay.addLayout(
            button_grid(
                [
                    self.check_button,
                    self.kind_combo,
                    self.notes_box,
                    self.fix_button,
                    self.dismiss_button,
                ]
            )
        )
        self.table = QTableWidget(0, len(_COLUMNS))
        self.table.setHorizontalHeaderLabels(list(_COLUMNS))
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setSortingEnabled(True)
        self.table.horizontalHeader().setStretchLastSection(True)
        self.table.setMinimumHeight(140)
        self.table.cellClicked.connect(lambda r, _c: self.jump(r))
        lay.addWidget(self.table)
        self.note = QLabel("")
        self.note.setWordWrap(True)
        lay.addWidget(self.note)
        self._update_buttons()

    # ------------------------------------------------------------------ findings
    def run_check(self) -> list[Finding]:
        """Check the dock's project and fill the table (nothing is written)."""
        project = self.dock.project
        if project is None:
            self.note.setText("Open a project first: the check looks at all its labels.")
            return []
        notes: list[str] = []  # run-level: views found from the positions
        try:
            self.findings = check_labels(
                project, evaluation=latest_frames(project.config_path), notes=notes
            )
        except (LabelsError, OSError, ValueError) as exc:
            self.note.setText(f"Check failed: {exc}")
            return []
        self._fill()
        self.note.setText("\n".join([summary(self.findings) + ".", *notes]))
        return self.findings

    def _fill(self) -> None:
        self.table.setSortingEnabled(False)
        self.table.setRowCount(len(self.findings))
        for r, f in enumerate(self.findings):
            cells = [
                f.kind,
                f"{f.folder}/{f.image}",
                f"{f.individual}+{f.other}" if f.other else f.individual,
                "+".join(f.bodyparts),
                f"{f.score:g}",
                f.severity,
                f.reason,
            ]
            for c, text in enumerate(cells):
                item = _Score(text) if c == 4 else QTableWidgetItem(text)
                item.setData(Qt.ItemDataRole.UserRole, f.key)
                item.setToolTip(f"{f.reason}\n{f.why}")
                self.table.setItem(r, c, item)
        self.table.setSortingEnabled(True)
        self._apply_filter()

    def _apply_filter(self, *_args: object) -> None:
        kind = self.kind_combo.currentText()
        notes = self.notes_box.isChecked()
        for r in range(self.table.rowCount()):
            item = self.table.item(r, 0)
            sev = self.table.item(r, 5)
            hide = kind != "all kinds" and item is not None and item.text() != kind
            hide |= not notes and sev is not None and sev.text() == NOTE
            self.table.setRowHidden(r, hide)
        self._update_buttons()

    def finding_at(self, row: int) -> Finding | None:
        """The finding shown in table row ``row`` (rows follow the current sort)."""
        item = self.table.item(row, 0)
        if item is None:
            return None
        key = item.data(Qt.ItemDataRole.UserRole)
        return next((f for f in self.findings if f.key == key), None)

    def selected(self) -> Finding | None:
        """The finding of the selected row."""
        rows = {i.row() for i in self.table.selectedItems()}
        return self.finding_at(min(rows)) if rows else None

    def _update_buttons(self) -> None:
        f = self.selected()
        self.fix_button.setEnabled(f is not None and f.kind in _FIXABLE)
        self.fix_button.setText(
            "Fix identity" if f is not None and f.kind == "identity" else "Fix swap"
        )
        self.dismiss_button.setEnabled(f is not None)

    # ------------------------------------------------------------------ actions
    def jump(self, row: int) -> bool:
        """Show the image of the finding in ``row`` with its points selected."""
        self.table.selectRow(row)
        self._update_buttons()
        f = self.finding_at(row)
        dock = self.dock
        if f is None or dock.project is None:
            return False
        folder = dock.project.root / "labeled-data" / f.folder
        if (dock.model is None or dock.model.folder != folder) and not dock.open_folder(folder):
            return False
        model = dock.model
        if model is None or f.image not in model.image_names:
            return False
        t = model.image_names.index(f.image)
        dock.go_to_frame(t)
        who = [f.individual, f.other] if f.kind == "identity" else [f.individual]
        wanted = {
            model.keypoints.index((ind, bp))
            for ind in who
            for bp in f.bodyparts
            if (ind, bp) in model.keypoints
        }
        layer = dock.points_layer
        if layer is not None and len(layer.data):
            kps = layer.features["keypoint"].to_numpy()
            frames = np.asarray(layer.data)[:, 0].astype(int)
            layer.selected_data = {
                i for i in range(len(frames)) if frames[i] == t and kps[i] in wanted
            }
        self.note.setText(f"{f.reason}. {f.why}")
        return True

    def fix_swap(self) -> bool:
        """Exchange the pair of the selected swap, or the two animals of the selected identity
        swap, in the dock and save (the normal safe save: backup, stamp check)."""
        f = self.selected()
        if f is None or f.kind not in _FIXABLE or not self.jump(self.table.currentRow()):
            return False
        model = self.dock.model
        assert model is not None
        t = model.image_names.index(f.image)
        if f.kind == "identity":
            cols = identity_columns(model.keypoints, f.individual, f.other)
            what = f"{f.individual} and {f.other}"
        else:
            a, b = (model.keypoints.index((f.individual, bp)) for bp in f.bodyparts)
            cols = [(a, b)]
            what = "/".join(f.bodyparts)
        changes = []
        for a, b in cols:
            (xa, ya), (xb, yb) = model.xy[t, a].tolist(), model.xy[t, b].tolist()
            changes += [(t, a, xb, yb), (t, b, xa, ya)]
        model.set_many(changes)
        self.dock.redraw()
        if not self.dock.save():
            self.note.setText(f"Swapped, not saved: {self.dock.status.text()}")
            return False
        self._remove(f)
        self.note.setText(f"Fixed and saved: {what} exchanged in {f.image}.")
        return True

    def dismiss_selected(self) -> bool:
        """Forget the selected finding for good (remembered in the project's sidecar)."""
        f = self.selected()
        project = self.dock.project
        if f is None or project is None:
            return False
        try:
            dismiss(project.root, [f])
        except (OSError, ValueError) as exc:
            self.note.setText(f"Not dismissed: {exc}")
            return False
        self._remove(f)
        self.note.setText(f"Dismissed (kept in {project.root.name}/dlcflow.yaml).")
        return True

    def _remove(self, finding: Finding) -> None:
        self.findings = [f for f in self.findings if f.key != finding.key]
        self._fill()
