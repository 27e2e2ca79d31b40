"""The evaluation section of the Training dock: table, explanations, convergence plot, frames."""

from __future__ import annotations

import html
import math
from collections.abc import Callable
from typing import TYPE_CHECKING

import numpy as np
from qtpy.QtCore import Signal
from qtpy.QtWidgets import (
    QAbstractItemView,
    QGroupBox,
    QHeaderView,
    QLineEdit,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QTextBrowser,
    QVBoxLayout,
)

from napari_dlcflow.core.engine.evaluation import (
    EvalResult,
    evaluate,
    evaluation_frames,
    explain,
    image_width,
    per_epoch,
    read_results,
    test_count,
)
from napari_dlcflow.core.predictions.evaluated import EvalFrames
from napari_dlcflow.widgets.common.jobs import JobRunner, RunCancelRow, StatusLine
from napari_dlcflow.widgets.training.plot import EvalPlot

if TYPE_CHECKING:
    import napari

    from napari_dlcflow.core.engine.model_ref import ModelRef

COLUMNS = (
    ("snapshot", "Snapshot file"),
    ("epoch", "Epochs trained"),
    ("train px", "Train RMSE: mean distance to your labels on training images, pixels"),
    ("test px", "Test RMSE: the same on images the network never saw, pixels"),
    ("train p>", "Train RMSE of points with confidence >= p-cutoff"),
    ("test p>", "Test RMSE of points with confidence >= p-cutoff"),
    ("mAP", "Mean average precision on test images (0-100)"),
    ("mAR", "Mean average recall on test images (0-100)"),
)


def _fmt(v: float, digits: int = 2) -> str:
    return "-" if v is None or (isinstance(v, float) and math.isnan(v)) else f"{v:.{digits}f}"


class EvaluationPanel(QGroupBox):
    """Evaluate snapshots in a child process and show what the numbers mean.

    Parameters
    ----------
    viewer : napari.Viewer
        Where the evaluation frames are shown.
    model : callable
        Returns the model to evaluate
        (:class:`~napari_dlcflow.core.engine.model_ref.ModelRef`), or None without a project.
        It is asked once per action and the value passed to every call of the action.
    """

    evaluated = Signal()

    def __init__(self, viewer: napari.Viewer, model: Callable[[], ModelRef | None]) -> None:
        super().__init__("Evaluation")
        self.viewer = viewer
        self._model = model
        self.results: list[EvalResult] = []
        layout = QVBoxLayout(self)
        row = RunCancelRow("Evaluate", cancel=False)
        self.evaluate_button = row.run_button
        self.evaluate_button.setToolTip("Evaluate the snapshots of the epochs given, or all")
        self.evaluate_button.clicked.connect(self.run_evaluation)
        self.epochs_edit = QLineEdit()
        self.epochs_edit.setPlaceholderText("all snapshots (or epochs: 10, 20)")
        self.epochs_edit.setToolTip("Comma-separated epochs; empty evaluates every snapshot")
        self.frames_button = QPushButton("Show frames, worst first")
        self.frames_button.clicked.connect(self.show_frames)
        self.frames_button.setEnabled(False)
        row.add(self.epochs_edit)
        row.add(self.frames_button)
        layout.addWidget(row)
        self.status = StatusLine("")
        layout.addWidget(self.status)
        self.jobs = JobRunner(status=self.status, row=row)
        self.table = QTableWidget(0, len(COLUMNS))
        self.table.setHorizontalHeaderLabels([c for c, _ in COLUMNS])
        for i, (_, tip) in enumerate(COLUMNS):
            self.table.horizontalHeaderItem(i).setToolTip(tip)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.verticalHeader().setVisible(False)
        self.table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        self.table.setMinimumHeight(180)
        self.table.itemSelectionChanged.connect(self._on_select)
        layout.addWidget(self.table)
        self.parts = QTableWidget(0, 3)
        self.parts.setHorizontalHeaderLabels(["body part", "train px", "test px"])
        self.parts.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.parts.verticalHeader().setVisible(False)
        self.parts.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Stretch)
        self.parts.setMinimumHeight(120)
        layout.addWidget(self.parts)
        self.explanation = QTextBrowser()
        self.explanation.setMinimumHeight(230)
        self.explanation.setToolTip("What the numbers mean for this project")
        layout.addWidget(self.explanation)
        self.plot = EvalPlot()
        layout.addWidget(self.plot)

    # ----------------------------------------------------------------- results
    def load_existing(self) -> None:
        """Show the results already on disk for the current shuffle."""
        model = self._model()
        self.set_results(read_results(model) if model else [], model)

    def set_results(self, results: list[EvalResult], model: ModelRef | None = None) -> None:
        """Show ``results`` (of ``model``, default the current one)."""
        self.results = list(results)
        self.table.setRowCount(len(self.results))
        for i, r in enumerate(self.results):
            values = (
                r.snapshot,
                str(r.epoch),
                _fmt(r.train_rmse),
                _fmt(r.test_rmse),
                _fmt(r.train_rmse_pcutoff),
                _fmt(r.test_rmse_pcutoff),
                _fmt(r.test_map, 1),
                _fmt(r.test_mar, 1),
            )
            for j, v in enumerate(values):
                self.table.setItem(i, j, QTableWidgetItem(v))
        self.plot.set_results(self.results)
        self.frames_button.setEnabled(bool(self.results))
        model = model or (self._model() if self.results else None)
        if model and self.results:
            notes = explain(
                self.results,
                image_width=image_width(model),
                n_test=test_count(model),
            )
            self.explanation.setHtml(
                "<ul style='margin-left: -20px'>"
                + "".join(f"<li style='margin-bottom: 4px'>{html.escape(n)}</li>" for n in notes)
                + "</ul>"
            )
            latest = per_epoch(self.results)[-1]
            self.table.selectRow(self.results.index(latest))
        else:
            self.explanation.clear()
            self.parts.setRowCount(0)

    def selected(self) -> EvalResult | None:
        rows = {i.row() for i in self.table.selectedItems()}
        return self.results[min(rows)] if rows else None

    def _on_select(self) -> None:
        r = self.selected()
        if r is None:
            return
        names = list(r.bodypart_test or r.bodypart_train)
        self.parts.setRowCount(len(names))
        for i, name in enumerate(sorted(names, key=lambda n: -r.bodypart_test.get(n, 0.0))):
            self.parts.setItem(i, 0, QTableWidgetItem(name))
            self.parts.setItem(i, 1, QTableWidgetItem(_fmt(r.bodypart_train.get(name, math.nan))))
            self.parts.setItem(i, 2, QTableWidgetItem(_fmt(r.bodypart_test.get(name, math.nan))))

    # -------------------------------------------------------------- evaluation
    def run_evaluation(self) -> None:
        """Evaluate every snapshot of the shuffle in a child process (worker thread)."""
        model = self._model()
        if not model:
            self.status.setText("Open a project first.")
            return
        text = self.epochs_edit.text().replace(";", ",")
        try:
            epochs = [int(t) for t in text.split(",") if t.strip()] or None
        except ValueError:
            self.status.setText(f"Epochs must be whole numbers separated by commas: {text!r}")
            return
        self.jobs.start(
            evaluate,
            model,
            epochs=epochs,
            device="auto",
            message="Evaluating in a background process (DeepLabCut loads first)…",
            error_prefix="Evaluation failed",
            on_result=lambda results: self._on_evaluated(results, model),
        )

    def _on_evaluated(self, results: list[EvalResult], model: ModelRef | None = None) -> None:
        self.status.setText(f"Evaluated: {len(results)} snapshot(s).")
        self.set_results(results, model)
        self.evaluated.emit()

    # ------------------------------------------------------------------ frames
    def show_frames(self) -> None:
        """Open the labeled images with labels and predictions as Points layers, worst first."""
        model = self._model()
        r = self.selected()
        if not model or r is None:
            return
        try:
            frames = evaluation_frames(model, r)
        except (OSError, ValueError, KeyError) as exc:
            self.status.setText(f"Cannot show frames of {r.snapshot}: {exc}")
            return
        self.add_frame_layers(frames, r.snapshot)

    def add_frame_layers(self, frames: EvalFrames, name: str) -> None:
        from skimage.io import imread

        from napari_dlcflow.core.layers.coords import keypoints_to_points

        stack = np.stack([imread(p)[..., :3] for p in frames.images])
        self.viewer.add_image(stack, name=f"evaluation frames ({name})", rgb=True)
        labels = [
            f"{p.name} [{s}] {e:.1f} px"
            for p, s, e in zip(frames.images, frames.split, frames.errors, strict=True)
        ]
        for kind, data, symbol, colour in (
            ("ground truth", frames.truth, "disc", "lime"),
            ("predictions", frames.predicted, "cross", "magenta"),
        ):
            pts, t, k = keypoints_to_points(data)
            features = {
                "bodypart": [frames.bodyparts[i] for i in k],
                "image": [labels[i] for i in t],
            }
            self.viewer.add_points(
                pts,
                name=f"{kind} ({name})",
                features=features,
                symbol=symbol,
                face_color=colour,
                border_color=colour,
                size=max(3.0, stack.shape[2] / 60),
            )
        self.viewer.dims.set_current_step(0, 0)
        self.status.setText(
            f"{len(frames.images)} images, worst first: {labels[0]} … (lime: your labels, "
            "magenta: predictions)"
        )
