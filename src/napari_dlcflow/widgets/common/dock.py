"""What every dock of the plugin shares: a vertically scrolling body."""

from __future__ import annotations

from qtpy.QtCore import Qt
from qtpy.QtWidgets import QScrollArea, QVBoxLayout, QWidget


def scroll_body(area: QScrollArea, min_width: int) -> QVBoxLayout:
    """Give a dock a body that scrolls vertically (never sideways); return its layout."""
    area.setWidgetResizable(True)
    area.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
    area.setMinimumWidth(min_width)
    body = QWidget()
    area.setWidget(body)
    return QVBoxLayout(body)
