"""The matplotlib canvas of the Plots dock: time series and image-plane trajectories.

The dock gives the values in the units it chose (pixels or µm); a time axis in seconds is
drawn as ``frame * time_factor`` and the current-frame marker and clicks are converted back, so
the dock talks in frames throughout.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
from matplotlib.backends.backend_qtagg import FigureCanvasQTAgg
from matplotlib.figure import Figure

Series = tuple[str, np.ndarray, np.ndarray, Any]


class PlotCanvas(FigureCanvasQTAgg):
    """A figure that marks the current frame and reports clicks.

    Parameters
    ----------
    on_click : callable
        ``on_click(frame, x, y)``: ``frame`` for a click on a time axis, else None with the
        image coordinates ``x, y`` of a click in the image-plane view.
    """

    def __init__(self, on_click: Callable[..., None]) -> None:
        self.figure = Figure(figsize=(5, 4), tight_layout=True)
        super().__init__(self.figure)
        self.setMinimumHeight(300)
        self._on_click = on_click
        self._mode = "empty"
        self._markers: list[Any] = []
        self._dots: Any = None
        self._time_factor = 1.0
        self.mpl_connect("button_press_event", self._clicked)
        self.clear("")

    def _style(self, ax: Any) -> None:
        ax.tick_params(labelsize=7)
        ax.grid(alpha=0.3)

    def clear(self, message: str) -> None:
        """An empty figure with a message."""
        self.figure.clear()
        self._markers, self._dots, self._mode = [], None, "empty"
        if message:
            self.figure.text(0.5, 0.5, message, ha="center", va="center", wrap=True, fontsize=9)
        self.draw_idle()

    def _legend(self, ax: Any, n: int) -> None:
        if 0 < n <= 16:
            ax.legend(fontsize=6, ncol=2 if n > 6 else 1, loc="upper right", framealpha=0.6)

    def plot_time(
        self,
        series: Sequence[Series],
        *,
        ylabel: str,
        frame: int,
        xlabel: str = "frame",
        time_factor: float = 1.0,
    ) -> None:
        """One axis: each series over frames (times ``time_factor``: seconds); a vertical line
        at ``frame``."""
        self.figure.clear()
        self._time_factor = float(time_factor)
        ax = self.figure.add_subplot(111)
        for name, t, v, color in series:
            ax.plot(t * self._time_factor, v, lw=0.8, label=name, color=color)
        ax.set_xlabel(xlabel, fontsize=8)
        ax.set_ylabel(ylabel, fontsize=8)
        self._style(ax)
        self._legend(ax, len(series))
        self._markers = [ax.axvline(frame * self._time_factor, color="red", lw=1)]
        self._mode = "time"
        self.draw_idle()

    def plot_xy_time(
        self,
        series: Sequence[Series],
        *,
        frame: int,
        unit: str = "px",
        xlabel: str = "frame",
        time_factor: float = 1.0,
    ) -> None:
        """Two axes (x and y, in ``unit``, over frames times ``time_factor``), shared time
        axis."""
        self.figure.clear()
        self._time_factor = float(time_factor)
        ax_x = self.figure.add_subplot(211)
        ax_y = self.figure.add_subplot(212, sharex=ax_x)
        for name, t, v, color in series:
            (ax_x if name.endswith(" x") else ax_y).plot(
                t * self._time_factor, v, lw=0.8, color=color, label=name[:-2]
            )
        ax_x.set_ylabel(f"x ({unit})", fontsize=8)
        ax_y.set_ylabel(f"y ({unit})", fontsize=8)
        ax_y.set_xlabel(xlabel, fontsize=8)
        ax_y.invert_yaxis()  # image rows grow downwards
        for ax in (ax_x, ax_y):
            self._style(ax)
        self._legend(ax_x, len(series) // 2)
        x = frame * self._time_factor
        self._markers = [ax.axvline(x, color="red", lw=1) for ax in (ax_x, ax_y)]
        self._mode = "time"
        self.draw_idle()

    def plot_plane(
        self, traces: Sequence[Series], t: np.ndarray, *, frame: int, unit: str = "px"
    ) -> None:
        """Trajectories in the image plane (y down, in ``unit``); the current frame's points
        as dots."""
        del t
        self.figure.clear()
        ax = self.figure.add_subplot(111)
        for name, x, y, color in traces:
            ax.plot(x, y, lw=0.6, color=color, label=name, alpha=0.8)
        ax.set_aspect("equal", adjustable="datalim")
        ax.invert_yaxis()
        ax.set_xlabel(f"x ({unit})", fontsize=8)
        ax.set_ylabel(f"y ({unit})", fontsize=8)
        self._style(ax)
        self._legend(ax, len(traces))
        self._dots = ax.scatter([], [], s=30, facecolors="none", edgecolors="red", zorder=5)
        self._markers = []
        self._mode = "plane"
        self.draw_idle()

    def mark_frame(self, frame: int, xy: np.ndarray | None = None) -> None:
        """Move the current-frame markers."""
        x = frame * self._time_factor
        for line in self._markers:
            line.set_xdata([x, x])
        if self._dots is not None:
            pts = np.zeros((0, 2)) if xy is None else np.asarray(xy, dtype=float)
            self._dots.set_offsets(pts[~np.isnan(pts).any(axis=1)] if len(pts) else pts)
        self.draw_idle()

    @property
    def marker_frame(self) -> float | None:
        """The frame the current-frame line marks (None when there is none)."""
        if not self._markers:
            return None
        return float(np.asarray(self._markers[0].get_xdata())[0]) / self._time_factor

    def _clicked(self, event: Any) -> None:
        if event.inaxes is None or event.xdata is None:
            return
        if self._mode == "time":
            self._on_click(float(event.xdata) / self._time_factor)
        elif self._mode == "plane":
            self._on_click(None, float(event.xdata), float(event.ydata))
