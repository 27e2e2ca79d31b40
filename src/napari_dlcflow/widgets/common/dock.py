"""What every dock of the plugin shares: a vertically scrolling body, and the pieces that let
a dock stay narrow (:data:`DOCK_WIDTH`) without clipping its content."""

from __future__ import annotations

from collections.abc import Sequence

from qtpy.QtCore import QEvent, QObject, QSize, Qt
from qtpy.QtGui import QResizeEvent
from qtpy.QtWidgets import (
    QComboBox,
    QFormLayout,
    QGridLayout,
    QLabel,
    QScrollArea,
    QVBoxLayout,
    QWidget,
)

DOCK_WIDTH = 360
"""Every dock is usable this wide (px): it leaves napari's canvas most of a 1280-px window."""


class _FitBodyWidth(QObject):
    """Keeps a scroll area at least as wide as its body's minimum (plus the frame and the
    vertical scroll bar), so that a body that never scrolls sideways is never clipped."""

    def __init__(self, area: QScrollArea, body: QWidget) -> None:
        super().__init__(area)
        self.area = area
        self.body = body
        body.installEventFilter(self)
        self.fit()

    def fit(self) -> None:
        a = self.area
        width = (
            self.body.minimumSizeHint().width()
            + 2 * a.frameWidth()
            + a.verticalScrollBar().sizeHint().width()
        )
        if a.minimumWidth() != width:
            a.setMinimumWidth(width)

    def eventFilter(self, obj: QObject, event: QEvent) -> bool:
        if obj is self.body and event.type() in (QEvent.Type.LayoutRequest, QEvent.Type.Show):
            self.fit()
        return False


def scroll_body(area: QScrollArea) -> QVBoxLayout:
    """Give a dock a body that scrolls vertically (never sideways); return its layout.

    The dock's minimum width follows the body's minimum, so nothing is cut off on the right;
    the body's rows are made to wrap so that this minimum stays within :data:`DOCK_WIDTH`.
    """
    area.setWidgetResizable(True)
    area.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
    body = QWidget()
    area.setWidget(body)
    layout = QVBoxLayout(body)
    _FitBodyWidth(area, body)
    return layout


def wrap_rows(form: QFormLayout) -> QFormLayout:
    """Put a form row's field below its label when both do not fit side by side."""
    form.setRowWrapPolicy(QFormLayout.RowWrapPolicy.WrapLongRows)
    return form


def narrow_combo(combo: QComboBox, chars: int = 8) -> QComboBox:
    """Let a combo box be narrower than its longest item (the open list shows it whole)."""
    combo.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
    combo.setMinimumContentsLength(chars)
    return combo


def refill_combo(combo: QComboBox, items: Sequence[str], current: str | None = None) -> None:
    """Replace the items of ``combo`` without emitting its signals (a refresh is no choice).

    Parameters
    ----------
    combo : QComboBox
        A non-editable combo box.
    items : sequence of str
        Its new items.
    current : str, optional
        The item to select (default: the one selected now); where it is not among ``items``,
        the first item is selected.
    """
    keep = combo.currentText() if current is None else current
    combo.blockSignals(True)
    try:
        combo.clear()
        combo.addItems(list(items))
        if keep in items:
            combo.setCurrentText(keep)
    finally:
        combo.blockSignals(False)


def button_grid(buttons: Sequence[QWidget], columns: int = 2) -> QGridLayout:
    """Buttons in rows of ``columns`` (instead of one row that is too wide for the dock)."""
    grid = QGridLayout()
    grid.setContentsMargins(0, 0, 0, 0)
    for i, b in enumerate(buttons):
        grid.addWidget(b, i // columns, i % columns)
    return grid


class ElidedLabel(QLabel):
    """One line of text (a path) shortened in the middle to the width it gets ("/home/…/a.h5");
    the whole text is in the tooltip, and :meth:`text` returns it.

    Parameters
    ----------
    text : str
    parent : QWidget, optional
    """

    def __init__(self, text: str = "", parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._full = ""
        self.setText(text)

    def text(self) -> str:
        """The whole text (what is shown may be shortened)."""
        return self._full

    def setText(self, text: str) -> None:
        """Show ``text``, shortened in the middle if it does not fit."""
        self._full = text
        self.setToolTip(text)
        self._elide()
        self.updateGeometry()

    def sizeHint(self) -> QSize:
        """As wide as the whole text."""
        m = self.contentsMargins()
        width = self.fontMetrics().horizontalAdvance(self._full) + m.left() + m.right()
        return QSize(width, super().sizeHint().height())

    def minimumSizeHint(self) -> QSize:
        """A few characters: the rest is elided."""
        return QSize(self.fontMetrics().horizontalAdvance("x" * 8), super().sizeHint().height())

    def resizeEvent(self, event: QResizeEvent) -> None:
        super().resizeEvent(event)
        self._elide()

    def _elide(self) -> None:
        shown = self.fontMetrics().elidedText(
            self._full, Qt.TextElideMode.ElideMiddle, max(self.width(), 1)
        )
        super().setText(shown)
