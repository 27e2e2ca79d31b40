"""A small drawing of the skeleton: body parts on a circle, edges as lines."""

from __future__ import annotations

import math

from qtpy.QtCore import QPointF, QRectF, Qt
from qtpy.QtGui import QColor, QPainter, QPen
from qtpy.QtWidgets import QSizePolicy, QWidget


class SkeletonView(QWidget):
    """Draws ``bodyparts`` around a circle and ``edges`` between them."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.bodyparts: list[str] = []
        self.edges: list[tuple[str, str]] = []
        self.setMinimumHeight(180)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)

    def set_skeleton(self, bodyparts: list[str], edges: list[tuple[str, str]]) -> None:
        """Show these body parts and edges."""
        self.bodyparts = list(bodyparts)
        self.edges = list(edges)
        self.update()

    def positions(self) -> dict[str, QPointF]:
        """Where each body part is drawn, in widget pixels."""
        n = max(len(self.bodyparts), 1)
        cx, cy = self.width() / 2, self.height() / 2
        r = max(min(cx, cy) - 22, 10)
        return {
            b: QPointF(
                cx + r * math.cos(2 * math.pi * i / n - math.pi / 2),
                cy + r * math.sin(2 * math.pi * i / n - math.pi / 2),
            )
            for i, b in enumerate(self.bodyparts)
        }

    def paintEvent(self, event: object) -> None:
        painter = QPainter(self)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        pos = self.positions()
        painter.setPen(QPen(QColor(200, 200, 200), 2))
        for a, b in self.edges:
            if a in pos and b in pos:
                painter.drawLine(pos[a], pos[b])
        n = max(len(self.bodyparts), 1)
        for i, name in enumerate(self.bodyparts):
            p = pos[name]
            color = QColor.fromHsv(int(300 * i / n), 200, 255)
            painter.setPen(Qt.PenStyle.NoPen)
            painter.setBrush(color)
            painter.drawEllipse(p, 5, 5)
            painter.setPen(QPen(color))
            painter.drawText(
                QRectF(p.x() - 60, p.y() + 5, 120, 16), Qt.AlignmentFlag.AlignHCenter, name
            )
        painter.end()
