"""A small drawing of the skeleton: body parts placed by a spring layout, edges as lines."""

from __future__ import annotations

import math

import numpy as np
from qtpy.QtCore import QPointF, QRectF, Qt
from qtpy.QtGui import QColor, QPainter, QPen
from qtpy.QtWidgets import QSizePolicy, QWidget


def spring_layout(n: int, edges: list[tuple[int, int]], iterations: int = 300) -> np.ndarray:
    """Deterministic force-directed positions for a small graph.

    Starts from a circle; connected nodes attract, all nodes repel, so a chain of body parts
    is drawn as a chain rather than a tangle of chords.

    Returns
    -------
    ndarray of shape (n, 2)
        Positions scaled into ``[-1, 1]``.
    """
    if n == 0:
        return np.zeros((0, 2))
    angles = 2 * np.pi * np.arange(n) / n - np.pi / 2
    pos = np.column_stack([np.cos(angles), np.sin(angles)])
    if n == 1 or not edges:
        return pos
    k = 1.0 / math.sqrt(n)
    step = 0.1
    for _ in range(iterations):
        delta = pos[:, None, :] - pos[None, :, :]
        dist = np.linalg.norm(delta, axis=-1) + np.eye(n)
        disp = (delta * (k * k / dist**2)[..., None]).sum(axis=1)
        for a, b in edges:
            d = pos[a] - pos[b]
            length = max(float(np.linalg.norm(d)), 1e-6)
            pull = d * length / k
            disp[a] -= pull
            disp[b] += pull
        norm = np.linalg.norm(disp, axis=1, keepdims=True) + 1e-9
        pos = pos + disp / norm * np.minimum(norm, step)
        step *= 0.99
    pos = pos - pos.mean(axis=0)
    return pos / max(float(np.abs(pos).max()), 1e-9)


class SkeletonView(QWidget):
    """Draws ``bodyparts`` and the ``edges`` between them (spring layout)."""

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
        index = {b: i for i, b in enumerate(self.bodyparts)}
        pairs = [(index[a], index[b]) for a, b in self.edges if a in index and b in index]
        xy = spring_layout(len(self.bodyparts), pairs)
        cx, cy = self.width() / 2, self.height() / 2
        rx, ry = max(cx - 50, 10), max(cy - 22, 10)
        return {
            b: QPointF(cx + rx * float(xy[i, 0]), cy + ry * float(xy[i, 1]))
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
