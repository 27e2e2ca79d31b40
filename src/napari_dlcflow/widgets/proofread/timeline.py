"""The proofreading timeline: one row per identity, the current frame, the candidates, a range.

Each row shows, along the video, where the identity is present, missing, filled by
interpolation or present with a low likelihood. A pixel column stands for many frames on a long
video (100,000 frames in 300 pixels: over 300 frames a pixel), so the widget never draws frames:
it counts the frames of each state in each pixel column from running counts (computed once per
change by :func:`cumulative_counts`, read per column by :func:`column_counts`), colours the
columns into an image, and repaints only the cursor when the frame changes. The same widget
zoomed on a window around the cursor (``follow``) shows single frames.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from qtpy.QtCore import QLineF, QRectF, QSize, Qt, Signal
from qtpy.QtGui import QColor, QImage, QMouseEvent, QPainter, QPaintEvent, QPen, QResizeEvent
from qtpy.QtWidgets import QSizePolicy, QWidget

__all__ = [
    "FILLED",
    "LOW",
    "MISSING",
    "N_STATES",
    "PRESENT",
    "STATE_NAMES",
    "TrackTimeline",
    "column_colours",
    "column_counts",
    "cumulative_counts",
    "state_colours",
    "track_states",
]

MISSING, PRESENT, LOW, FILLED = 0, 1, 2, 3
"""The states of an identity in a frame (the values of the ``(T, N)`` state array)."""
N_STATES = 4
STATE_NAMES = ("missing", "present", "low confidence", "filled")

MISSING_RGB = np.array([58, 61, 69], dtype=float)
"""A missing identity: a little lighter than napari's dark background, so a row stays a row."""
FILLED_RGB = np.array([235, 235, 235], dtype=float)
"""Filled by interpolation: near white (no identity colour: nobody saw the animal there)."""
LOW_SHADE = 0.45
"""Low confidence: the identity's colour darkened to this share."""
PROBLEM_WEIGHT = 0.4
"""A pixel column holding any missing or filled frame shows that state with at least this
weight, so one missing frame among 300 is still visible on the overview."""
CURSOR = QColor(255, 255, 255)
CANDIDATE = QColor(255, 196, 0)
CURRENT_CANDIDATE = QColor(255, 80, 40)
MARKED = QColor(80, 160, 255, 70)
MARKED_EDGE = QColor(80, 160, 255)


def track_states(values: np.ndarray, filled: np.ndarray, pcutoff: float) -> np.ndarray:
    """The state of each identity in each frame, from its points.

    Parameters
    ----------
    values : ndarray of shape (T, N, K, 3)
        ``x, y, likelihood`` per frame, identity and body part (NaN: absent).
    filled : ndarray of bool of shape (T, N)
        Frames filled by interpolation.
    pcutoff : float
        An identity present with a mean likelihood (over its present body parts) below it is
        :data:`LOW`.

    Returns
    -------
    ndarray of uint8 of shape (T, N)
    """
    values = np.asarray(values)
    seen = ~np.isnan(values[..., 0])
    present = seen.any(axis=2)
    lik = np.where(seen, values[..., 2], 0.0)
    n = np.maximum(seen.sum(axis=2), 1)
    with np.errstate(invalid="ignore"):
        low = present & (np.nan_to_num(lik).sum(axis=2) / n < pcutoff)
    out = np.where(present, PRESENT, MISSING).astype(np.uint8)
    out[low] = LOW
    out[np.asarray(filled, dtype=bool) & present] = FILLED
    return out


def cumulative_counts(states: np.ndarray) -> np.ndarray:
    """Running frame counts per identity and state, shape ``(T + 1, N, N_STATES)``: row ``t``
    counts frames ``0 .. t - 1`` (what :func:`column_counts` reads)."""
    states = np.asarray(states)
    n_frames, n_ids = states.shape
    cum = np.zeros((n_frames + 1, n_ids, N_STATES), dtype=np.int32)
    for s in range(N_STATES):
        np.cumsum(states == s, axis=0, out=cum[1:, :, s])
    return cum


def column_counts(cum: np.ndarray, start: int, stop: int, width: int) -> np.ndarray:
    """How many frames of each state each pixel column holds, per identity.

    Parameters
    ----------
    cum : ndarray of shape (T + 1, N, N_STATES)
        From :func:`cumulative_counts` of the ``(T, N)`` states.
    start, stop : int
        The frames shown, ``[start, stop)``; frames outside ``0 .. T`` count as missing.
    width : int
        Pixel columns.

    Returns
    -------
    ndarray of int of shape (width, N, N_STATES)
        Frame counts per column, identity and state: ``O(width)`` whatever the video's length.
        Where a column is narrower than a frame (a short span) it holds the one frame under it.
    """
    n_frames = cum.shape[0] - 1
    width = max(int(width), 1)
    stop = max(int(stop), int(start) + 1)
    edges = start + (np.arange(width + 1) * (stop - start)) // width
    lo = edges[:-1]
    hi = np.maximum(edges[1:], lo + 1)  # at least the frame under the column
    a, b = np.clip(lo, 0, n_frames), np.clip(hi, 0, n_frames)
    out = (cum[b] - cum[a]).astype(np.int64)
    # frames before 0 or past the end: missing
    outside = (hi - lo) - (b - a)
    out[..., MISSING] += outside[:, None]
    return out


def state_colours(identity_rgba: np.ndarray) -> np.ndarray:
    """RGB (0..255) of each state per identity, shape ``(N, N_STATES, 3)``."""
    rgb = np.asarray(identity_rgba, dtype=float).reshape(-1, 4)[:, :3] * 255
    out = np.empty((len(rgb), N_STATES, 3))
    out[:, MISSING] = MISSING_RGB
    out[:, PRESENT] = rgb
    out[:, LOW] = rgb * LOW_SHADE
    out[:, FILLED] = FILLED_RGB
    return out


def column_colours(counts: np.ndarray, colours: np.ndarray) -> np.ndarray:
    """One RGB per pixel column and identity: the states' colours mixed by their share.

    Missing and filled frames weigh at least :data:`PROBLEM_WEIGHT` where a column holds any,
    so that a short gap stays visible on a long video.

    Parameters
    ----------
    counts : ndarray of shape (W, N, N_STATES)
        From :func:`column_counts`.
    colours : ndarray of shape (N, N_STATES, 3)
        From :func:`state_colours`.

    Returns
    -------
    ndarray of uint8 of shape (W, N, 3)
    """
    c = counts.astype(float)
    total = np.maximum(c.sum(axis=2, keepdims=True), 1.0)
    share = c / total
    for s in (MISSING, FILLED):
        share[..., s] = np.where(c[..., s] > 0, np.maximum(share[..., s], PROBLEM_WEIGHT), 0.0)
    share /= np.maximum(share.sum(axis=2, keepdims=True), 1e-12)
    rgb = np.einsum("wns,nsc->wnc", share, colours)
    return np.clip(np.rint(rgb), 0, 255).astype(np.uint8)


class TrackTimeline(QWidget):
    """One row per identity along the video (or a window of it), with cursor, candidates and a
    marked range; click or drag to seek.

    Parameters
    ----------
    follow : int, optional
        Show only ``follow`` frames centred on the current frame (a zoomed strip that moves
        with the cursor); by default the whole video.
    row_height : int
        Pixels per identity row.
    parent : QWidget, optional

    Signals
    -------
    seek(int)
        The user clicked or dragged to this frame.
    """

    seek = Signal(int)

    def __init__(
        self, *, follow: int | None = None, row_height: int = 14, parent: QWidget | None = None
    ) -> None:
        super().__init__(parent)
        self.follow = follow
        self.row_height = int(row_height)
        self.states = np.zeros((0, 0), dtype=np.uint8)
        self.names: list[str] = []
        self.colours = np.zeros((0, N_STATES, 3))
        self.frame = 0
        self.candidates = np.zeros(0, dtype=np.int64)
        self.current_candidate: int | None = None
        self.marked: tuple[int | None, int | None] = (None, None)
        self._cum = cumulative_counts(self.states)
        self._image: QImage | None = None
        self._pixels: np.ndarray | None = None  # keeps the image's buffer alive
        self._image_span: tuple[int, int] | None = None
        self.setMouseTracking(False)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)
        self.setToolTip(
            "One row per identity: its colour where present, darker where the likelihood is "
            "low, white where filled, grey where missing; ticks: candidates; blue: the marked "
            "range. Click or drag to go to a frame."
        )

    # ------------------------------------------------------------------------------ data

    def set_states(
        self, states: np.ndarray, names: Sequence[str], identity_rgba: np.ndarray
    ) -> None:
        """Show new tracks: the ``(T, N)`` states, the N names and their RGBA (0..1)."""
        self.states = np.asarray(states, dtype=np.uint8)
        self.names = [str(n) for n in names]
        self.colours = state_colours(identity_rgba)
        self._cum = cumulative_counts(self.states)
        self._image_span = None
        self.updateGeometry()
        self.update()

    def update_states(self, start: int, states: np.ndarray) -> None:
        """Replace the states of frames ``start .. start + len(states)`` (after an edit)."""
        self.states[start : start + len(states)] = states
        self._cum = cumulative_counts(self.states)
        self._image_span = None
        self.update()

    def set_frame(self, frame: int) -> None:
        """Move the cursor (and the window of a following strip)."""
        frame = int(frame)
        if frame == self.frame:
            return
        self.frame = frame
        self.update()

    def set_candidates(self, frames: Sequence[int], current: int | None = None) -> None:
        """The candidates' frames as ticks; ``current`` (a frame) is drawn in another colour."""
        self.candidates = np.unique(np.asarray(frames, dtype=np.int64))
        self.current_candidate = current
        self.update()

    def set_marked(self, start: int | None, stop: int | None) -> None:
        """The marked range ``[start, stop]`` (inclusive frames; either end may be unset)."""
        self.marked = (start, stop)
        self.update()

    # ---------------------------------------------------------------------------- geometry

    @property
    def n_frames(self) -> int:
        """Frames of the tracks shown."""
        return int(self.states.shape[0])

    def span(self) -> tuple[int, int]:
        """The frames shown, ``[start, stop)``."""
        if self.follow is None:
            return 0, max(self.n_frames, 1)
        width = min(self.follow, max(self.n_frames, 1))  # a short video: all of it
        start = min(max(self.frame - width // 2, 0), max(self.n_frames - width, 0))
        return start, start + width

    def _gutter(self) -> int:
        fm = self.fontMetrics()
        widest = max((fm.horizontalAdvance(n) for n in self.names), default=0)
        return min(widest + 6, 80)

    def _track_rect(self) -> QRectF:
        g = self._gutter()
        return QRectF(g, 0, max(self.width() - g, 1), len(self.names) * self.row_height)

    def sizeHint(self) -> QSize:
        return QSize(300, self._height())

    def minimumSizeHint(self) -> QSize:
        return QSize(120, self._height())

    def _height(self) -> int:
        return max(len(self.names), 1) * self.row_height + 6

    def frame_at(self, x: float) -> int:
        """The frame under the widget's x coordinate ``x`` (clamped to the video)."""
        rect = self._track_rect()
        start, stop = self.span()
        f = start + (x - rect.left()) / rect.width() * (stop - start)
        return int(min(max(np.floor(f), 0), max(self.n_frames - 1, 0)))

    def x_of(self, frame: float) -> float:
        """The x coordinate of the left edge of ``frame``."""
        rect = self._track_rect()
        start, stop = self.span()
        return rect.left() + (frame - start) / (stop - start) * rect.width()

    # ----------------------------------------------------------------------------- drawing

    def _rebuild_image(self) -> None:
        rect = self._track_rect()
        width, rows = int(rect.width()), len(self.names)
        span = self.span()
        if rows == 0 or width <= 0:
            self._image = None
            return
        counts = column_counts(self._cum, span[0], span[1], width)
        rgb = column_colours(counts, self.colours)  # (W, N, 3)
        h = self.row_height
        pix = np.zeros((rows * h, width, 4), dtype=np.uint8)
        pix[..., 3] = 255
        for r in range(rows):
            # one pixel of space between rows
            pix[r * h : (r + 1) * h - 1, :, :3] = rgb[:, r][None]
            pix[(r + 1) * h - 1, :, :3] = 30
        self._pixels = np.ascontiguousarray(pix)
        self._image = QImage(
            self._pixels.data, width, rows * h, width * 4, QImage.Format.Format_RGBA8888
        )
        self._image_span = span

    def resizeEvent(self, event: QResizeEvent) -> None:
        self._image_span = None
        super().resizeEvent(event)

    def paintEvent(self, event: QPaintEvent) -> None:
        if self._image_span != self.span() or self._image is None:
            self._rebuild_image()
        painter = QPainter(self)
        try:
            self._paint(painter)
        finally:
            painter.end()

    def _paint(self, painter: QPainter) -> None:
        rect = self._track_rect()
        h = self.row_height
        painter.setPen(self.palette().color(self.foregroundRole()))
        for r, name in enumerate(self.names):
            painter.drawText(
                QRectF(0, r * h, rect.left() - 4, h),
                int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter),
                name,
            )
        if self._image is None:
            return
        painter.drawImage(rect.topLeft(), self._image)
        bottom = rect.bottom()
        start, stop = self.span()
        per_px = (stop - start) / rect.width()
        # marked range
        m0, m1 = self.marked
        if m0 is not None or m1 is not None:
            a = m0 if m0 is not None else m1
            b = (m1 if m1 is not None else m0) + 1  # type: ignore[operator]
            x0, x1 = self.x_of(min(a, b - 1)), self.x_of(max(a + 1, b))  # type: ignore[type-var]
            x0, x1 = max(x0, rect.left()), min(x1, rect.right())
            if x1 >= x0:
                painter.fillRect(QRectF(x0, 0, max(x1 - x0, 1), bottom), MARKED)
                painter.setPen(QPen(MARKED_EDGE, 1))
                if m0 is not None and rect.left() <= self.x_of(m0) <= rect.right():
                    painter.drawLine(QLineF(self.x_of(m0), 0, self.x_of(m0), bottom))
                if m1 is not None and rect.left() <= self.x_of(m1 + 1) <= rect.right():
                    painter.drawLine(QLineF(self.x_of(m1 + 1), 0, self.x_of(m1 + 1), bottom))
        # candidates: ticks on the top and bottom edges
        lo, hi = np.searchsorted(self.candidates, [start, stop])
        shown = self.candidates[lo:hi]
        if len(shown):
            xs = np.unique(np.floor(self.x_of(shown + 0.5)).astype(int))  # one tick per pixel
            painter.setPen(QPen(CANDIDATE, 1))
            tick = max(3, h // 3)
            lines = [QLineF(x + 0.5, 0, x + 0.5, tick) for x in xs]
            lines += [QLineF(x + 0.5, bottom - tick, x + 0.5, bottom) for x in xs]
            painter.drawLines(lines)
        cur = self.current_candidate
        if cur is not None and start <= cur < stop:
            x = self.x_of(cur + 0.5)
            painter.setPen(QPen(CURRENT_CANDIDATE, 2))
            painter.drawLine(QLineF(x, 0, x, bottom))
        # the cursor: a frame wide where frames are wider than a pixel
        if start <= self.frame < stop:
            x0 = self.x_of(self.frame)
            w = max(1.0 / per_px, 2.0)
            painter.setPen(QPen(Qt.GlobalColor.black, 1))
            painter.setBrush(CURSOR)
            painter.drawRect(QRectF(x0 - (1 if w <= 2 else 0), 0, w, bottom + 2))

    # ------------------------------------------------------------------------------ mouse

    def mousePressEvent(self, event: QMouseEvent) -> None:
        if event.button() == Qt.MouseButton.LeftButton and self.n_frames:
            self.seek.emit(self.frame_at(event.position().x()))

    def mouseMoveEvent(self, event: QMouseEvent) -> None:
        if event.buttons() & Qt.MouseButton.LeftButton and self.n_frames:
            self.seek.emit(self.frame_at(event.position().x()))
