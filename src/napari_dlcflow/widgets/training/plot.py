"""Matplotlib plots for the Training dock: loss and metric curves, test error per snapshot."""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

from matplotlib.backends.backend_qtagg import FigureCanvasQTAgg
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator
from qtpy.QtWidgets import QSizePolicy, QVBoxLayout, QWidget


def _finite(v: Any) -> bool:
    return isinstance(v, (int, float)) and math.isfinite(v)


class _Canvas(QWidget):
    def __init__(self, height: float, nrows: int = 1) -> None:
        super().__init__()
        self.figure = Figure(figsize=(4.2, height), dpi=90, layout="constrained")
        self.canvas = FigureCanvasQTAgg(self.figure)
        self.canvas.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)
        self.canvas.setMinimumHeight(int(height * 90))
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.canvas)
        self.axes = self.figure.subplots(nrows, 1, sharex=True, squeeze=False)[:, 0]
        for ax in self.axes:
            ax.xaxis.set_major_locator(MaxNLocator(integer=True))


class CurvePlot(_Canvas):
    """Train and validation loss (top) and test RMSE, mAP and mAR (bottom) against epoch."""

    def __init__(self) -> None:
        super().__init__(4.2, 2)
        self.n_points = 0
        self.set_epochs([])

    def set_epochs(self, epochs: Sequence[dict[str, Any]]) -> None:
        """Redraw from the job's epoch records (see :class:`~.core.training.Progress`)."""
        loss_ax, metric_ax = self.axes
        for ax in (loss_ax, metric_ax):
            ax.clear()
            ax.xaxis.set_major_locator(MaxNLocator(integer=True))
        for extra in list(self.figure.axes[2:]):
            extra.remove()
        ep = [e["epoch"] for e in epochs if _finite(e.get("train_loss"))]
        tl = [e["train_loss"] for e in epochs if _finite(e.get("train_loss"))]
        ve = [e for e in epochs if _finite(e.get("valid_loss"))]
        loss_ax.plot(ep, tl, "o-", ms=3, label="train loss", color="tab:blue")
        loss_ax.plot(
            [e["epoch"] for e in ve],
            [e["valid_loss"] for e in ve],
            "s-",
            ms=3,
            label="validation loss",
            color="tab:orange",
        )
        loss_ax.set_ylabel("loss")
        loss_ax.legend(loc="upper right", fontsize=7)
        loss_ax.set_title("Training progress", fontsize=9)
        me = [e for e in epochs if _finite((e.get("metrics") or {}).get("test.rmse"))]
        metric_ax.plot(
            [e["epoch"] for e in me],
            [e["metrics"]["test.rmse"] for e in me],
            "o-",
            ms=3,
            color="tab:red",
            label="test RMSE (px)",
        )
        metric_ax.set_ylabel("test RMSE (px)", color="tab:red")
        metric_ax.set_xlabel("epoch")
        twin = metric_ax.twinx()
        for key, colour in (("test.mAP", "tab:green"), ("test.mAR", "tab:purple")):
            pts = [e for e in epochs if _finite((e.get("metrics") or {}).get(key))]
            twin.plot(
                [e["epoch"] for e in pts],
                [e["metrics"][key] for e in pts],
                "^--",
                ms=3,
                color=colour,
                label=key.split(".")[1],
            )
        twin.set_ylabel("mAP / mAR")
        twin.set_ylim(-2, 102)
        lines = metric_ax.get_lines() + twin.get_lines()
        if lines:
            metric_ax.legend(
                lines, [ln.get_label() for ln in lines], loc="upper right", fontsize=7
            )
        self.n_points = len(ep)
        self.canvas.draw_idle()


class EvalPlot(_Canvas):
    """Train and test RMSE per evaluated snapshot, to see whether training has converged."""

    def __init__(self) -> None:
        super().__init__(2.3, 1)
        self.n_points = 0
        self.set_results([])

    def set_results(self, results: Sequence[Any]) -> None:
        ax = self.axes[0]
        ax.clear()
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
        from napari_dlcflow.core.engine.evaluation import per_epoch

        plain = per_epoch(results)
        ax.plot([r.epoch for r in plain], [r.test_rmse for r in plain], "o-", label="test RMSE")
        ax.plot([r.epoch for r in plain], [r.train_rmse for r in plain], "s--", label="train RMSE")
        ax.set_xlabel("snapshot epoch")
        ax.set_ylabel("RMSE (px)")
        ax.set_title("Error per snapshot (lower is better)", fontsize=9)
        if plain:
            ax.legend(fontsize=7)
        self.n_points = len(plain)
        self.canvas.draw_idle()
