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


def place_labels(
    points: np.ndarray, sizes: np.ndarray, bounds: tuple[float, float], radius: float = 5.0
) -> np.ndarray:
    """Place one text box per point so that no two boxes overlap each other or any point.

    Each box is tried below, above, right and left of its point, then farther out, and takes
    the first place that is free and inside ``bounds``; a box with no free place keeps the
    least crowded one.

    Parameters
    ----------
    points : ndarray of shape (n, 2)
        Point centres ``x, y`` in pixels.
    sizes : ndarray of shape (n, 2)
        Width and height of each box.
    bounds : (float, float)
        Width and height of the drawing area.
    radius : float
        Radius of the drawn points.

    Returns
    -------
    ndarray of shape (n, 4)
        ``x, y, width, height`` of each box (top-left corner).
    """
    n = len(points)
    out = np.zeros((n, 4))
    placed: list[np.ndarray] = []
    dots = [np.array([x - radius, y - radius, 2 * radius, 2 * radius]) for x, y in points]

    def overlap(a: np.ndarray, b: np.ndarray) -> float:
        w = min(a[0] + a[2], b[0] + b[2]) - max(a[0], b[0])
        h = min(a[1] + a[3], b[1] + b[3]) - max(a[1], b[1])
        return max(w, 0.0) * max(h, 0.0)

    for i in range(n):
        (x, y), (w, h) = points[i], sizes[i]
        best, best_cost = None, math.inf
        for gap in (radius + 1, radius + 1 + h, radius + 1 + 2 * h):
            for dx, dy in ((-w / 2, gap), (-w / 2, -gap - h), (gap, -h / 2), (-gap - w, -h / 2)):
                box = np.array([x + dx, y + dy, w, h])
                box[0] = min(max(box[0], 0.0), max(bounds[0] - w, 0.0))
                box[1] = min(max(box[1], 0.0), max(bounds[1] - h, 0.0))
                cost = (
                    sum(overlap(box, o) for o in placed)
                    + sum(overlap(box, d) for j, d in enumerate(dots) if j != i)
                    + overlap(box, dots[i])
                )
                if cost < best_cost:
                    best, best_cost = box, cost
                if cost == 0:
                    break
            if best_cost == 0:
                break
        assert best is not None
        placed.append(best)
        out[i] = best
    return out


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
        # room for the labels: about one text line per body part beyond a handful
        self.setMinimumHeight(max(180, 22 * len(self.bodyparts)))
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
        boxes = self.label_boxes(pos, painter.fontMetrics())
        n = max(len(self.bodyparts), 1)
        for i, name in enumerate(self.bodyparts):
            p = pos[name]
            color = QColor.fromHsv(int(300 * i / n), 200, 255)
            painter.setPen(Qt.PenStyle.NoPen)
            painter.setBrush(color)
            painter.drawEllipse(p, 5, 5)
            painter.setPen(QPen(color))
            x, y, w, h = boxes[i]
            painter.drawText(QRectF(x, y, w, h), Qt.AlignmentFlag.AlignCenter, name)
        painter.end()

    def label_boxes(self, pos: dict[str, QPointF], metrics: object) -> np.ndarray:
        """Where each body part's name is drawn (:func:`place_labels`), in widget pixels."""
        points = np.array([[pos[b].x(), pos[b].y()] for b in self.bodyparts]).reshape(-1, 2)
        sizes = np.array(
            [[metrics.horizontalAdvance(b) + 4, metrics.height()] for b in self.bodyparts]  # type: ignore[attr-defined]
        ).reshape(-1, 2)
        return place_labels(points, sizes, (self.width(), self.height()))
