"""An editable, ordered list of names (body parts, individuals) with add/rename/remove/move."""

from __future__ import annotations

from qtpy.QtCore import Qt, Signal
from qtpy.QtWidgets import (
    QHBoxLayout,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QVBoxLayout,
    QWidget,
)


class NameList(QWidget):
    """List of names. Emits ``edited(list)`` for add/remove/reorder and ``renamed(old, new)``.

    The owner applies the change to its model and calls :meth:`set_names` with the result (or
    the old names, if the model refused the change), so the list never shows a state the model
    does not have.
    """

    edited = Signal(list)
    renamed = Signal(str, str)

    def __init__(self, placeholder: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._names: list[str] = []
        self.list = QListWidget()
        self.list.setMaximumHeight(130)
        self.list.itemChanged.connect(self._on_item_changed)
        self.entry = QLineEdit()
        self.entry.setPlaceholderText(placeholder)
        self.entry.returnPressed.connect(self._add)
        self.add_button = QPushButton("Add")
        self.add_button.clicked.connect(self._add)
        self.remove_button = QPushButton("Remove")
        self.remove_button.clicked.connect(self._remove)
        self.up_button = QPushButton("Up")
        self.up_button.clicked.connect(lambda: self._move(-1))
        self.down_button = QPushButton("Down")
        self.down_button.clicked.connect(lambda: self._move(1))
        row = QHBoxLayout()
        row.addWidget(self.entry, 1)
        row.addWidget(self.add_button)
        buttons = QHBoxLayout()
        for b in (self.remove_button, self.up_button, self.down_button):
            buttons.addWidget(b)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.list)
        layout.addLayout(row)
        layout.addLayout(buttons)

    def names(self) -> list[str]:
        """The names shown."""
        return list(self._names)

    def set_names(self, names: list[str]) -> None:
        """Show ``names`` (double-click an entry to rename it)."""
        current = self.list.currentRow()
        self._names = list(names)
        self.list.blockSignals(True)
        self.list.clear()
        for n in self._names:
            item = QListWidgetItem(n)
            item.setFlags(item.flags() | Qt.ItemFlag.ItemIsEditable)
            self.list.addItem(item)
        self.list.blockSignals(False)
        if 0 <= current < len(self._names):
            self.list.setCurrentRow(current)

    def _add(self) -> None:
        name = self.entry.text().strip()
        if not name:
            return
        self.entry.clear()
        self.edited.emit([*self._names, name])

    def _remove(self) -> None:
        row = self.list.currentRow()
        if 0 <= row < len(self._names):
            self.edited.emit(self._names[:row] + self._names[row + 1 :])

    def _move(self, step: int) -> None:
        row = self.list.currentRow()
        dest = row + step
        if 0 <= row < len(self._names) and 0 <= dest < len(self._names):
            names = list(self._names)
            names[row], names[dest] = names[dest], names[row]
            self.list.setCurrentRow(dest)
            self.edited.emit(names)
            self.list.setCurrentRow(dest)

    def _on_item_changed(self, item: QListWidgetItem) -> None:
        row = self.list.row(item)
        new = item.text().strip()
        if 0 <= row < len(self._names) and new != self._names[row]:
            self.renamed.emit(self._names[row], new)
