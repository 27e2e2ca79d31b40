"""The Proofread dock's list of candidates (where identities are likely wrong), and the step to
the next or previous one in time."""

from __future__ import annotations

from collections.abc import Sequence

from qtpy.QtCore import Qt, Signal
from qtpy.QtWidgets import QAbstractItemView, QHeaderView, QTableWidget, QTableWidgetItem

from napari_dlcflow.core.proofread import Candidate

__all__ = ["COLUMNS", "CandidatesTable", "step_in_time"]

COLUMNS = ("Frame", "Kind", "Identities", "Score", "Why")
"""The table's columns (sorted by score, most likely first; a click on a heading sorts by it)."""


def step_in_time(candidates: Sequence[Candidate], frame: int, direction: int) -> int | None:
    """The index of the first candidate after ``frame`` (``direction`` > 0) or the last before
    it, wrapping around at the ends; None when there are none."""
    if not candidates:
        return None
    order = sorted(range(len(candidates)), key=lambda i: (candidates[i].frame, i))
    frames = [candidates[i].frame for i in order]
    if direction > 0:
        later = [k for k, f in enumerate(frames) if f > frame]
        return order[later[0] if later else 0]
    earlier = [k for k, f in enumerate(frames) if f < frame]
    return order[earlier[-1] if earlier else -1]


class CandidatesTable(QTableWidget):
    """One row per candidate: frame, kind, identities, score, why (also the rows' tooltip).

    Signals
    -------
    chosen(int)
        The user clicked the row of this candidate (its index in the list shown).
    """

    chosen = Signal(int)

    def __init__(self) -> None:
        super().__init__(0, len(COLUMNS))
        self.setHorizontalHeaderLabels(list(COLUMNS))
        self.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.verticalHeader().setVisible(False)
        header = self.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        header.setStretchLastSection(True)
        self.setMinimumHeight(160)
        self.setSortingEnabled(True)
        self.cellClicked.connect(self._clicked)

    def show_candidates(self, found: Sequence[Candidate]) -> None:
        """Show ``found``, most likely first."""
        self.setSortingEnabled(False)
        self.setRowCount(len(found))
        for i, c in enumerate(found):
            frame = QTableWidgetItem()
            frame.setData(Qt.ItemDataRole.DisplayRole, int(c.frame))
            frame.setData(Qt.ItemDataRole.UserRole, i)
            score = QTableWidgetItem()
            score.setData(Qt.ItemDataRole.DisplayRole, round(float(c.score), 2))
            cells = [
                frame,
                QTableWidgetItem(c.kind.replace("_", " ")),
                QTableWidgetItem(", ".join(c.individuals)),
                score,
                QTableWidgetItem(c.why),
            ]
            for col, item in enumerate(cells):
                item.setToolTip(f"{c.why} (score {c.score:.2f})")
                self.setItem(i, col, item)
        self.setSortingEnabled(True)
        self.sortItems(COLUMNS.index("Score"), Qt.SortOrder.DescendingOrder)

    def select(self, index: int) -> None:
        """Select (and scroll to) the row of candidate ``index``, without emitting
        :attr:`chosen`."""
        for r in range(self.rowCount()):
            item = self.item(r, 0)
            if item is not None and item.data(Qt.ItemDataRole.UserRole) == index:
                self.blockSignals(True)
                self.selectRow(r)
                self.blockSignals(False)
                self.scrollToItem(item)
                return

    def _clicked(self, row: int, _col: int) -> None:
        item = self.item(row, 0)
        if item is not None:
            self.chosen.emit(int(item.data(Qt.ItemDataRole.UserRole)))
