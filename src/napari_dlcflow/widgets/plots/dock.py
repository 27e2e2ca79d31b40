"""The Plots dock: trajectories, likelihood and skeleton lengths/angles of predicted tracks.

It plots the predictions behind any predictions Points layer (opened by the Overlay dock or the
analysis-file reader), marks the viewer's current frame, jumps to the frame you click, and
exports the plotted table as CSV. In a multi-animal file the individuals and the body parts are
chosen apart (every one by default), the lines are coloured by individual, and the exported
columns name the individual (DeepLabCut's ``individuals`` header row, or ``individual/edge``).
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
from qtpy.QtCore import Qt
from qtpy.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from napari_dlcflow.core.layers.colors import DEFAULT_COLORMAP
from napari_dlcflow.core.layers.data import predictions_colors
from napari_dlcflow.core.predictions.analysis_files import (
    Predictions,
    PredictionsError,
    edge_columns,
    keypoint_columns,
    read_predictions,
)
from napari_dlcflow.widgets.common.dock import narrow_combo, refill_combo, wrap_rows
from napari_dlcflow.widgets.overlay import files as _overlay_io
from napari_dlcflow.widgets.plots.canvas import PlotCanvas

if TYPE_CHECKING:
    import napari
    import pandas as pd

VIEWS = ("x, y over time", "image plane", "likelihood", "edge lengths", "edge angles")
MAX_POINTS = 20000  # per line; longer series are drawn with a stride (the tables stay full)


class PlotsDock(QWidget):
    """Plots of the predictions behind a Points layer.

    Parameters
    ----------
    napari_viewer : napari.Viewer
        The viewer whose predictions layers and current frame are used.
    """

    def __init__(self, napari_viewer: napari.Viewer) -> None:
        super().__init__()
        self.viewer = napari_viewer
        self.pred: Predictions | None = None
        self.skeleton: list[tuple[str, str]] = []
        self.colormap = DEFAULT_COLORMAP
        self._cache: dict[tuple[str, int], Predictions] = {}
        layout = QVBoxLayout(self)
        form = wrap_rows(QFormLayout())
        self.layer_combo = narrow_combo(QComboBox())
        self.layer_combo.currentTextChanged.connect(self._layer_chosen)
        form.addRow("Layer", self.layer_combo)
        self.view_combo = narrow_combo(QComboBox())
        self.view_combo.addItems(VIEWS)
        self.view_combo.currentTextChanged.connect(lambda _: self.refresh())
        form.addRow("Plot", self.view_combo)
        layout.addLayout(form)
        self.parts = QListWidget()
        self.parts.setSelectionMode(QAbstractItemView.SelectionMode.NoSelection)
        self.parts.setMaximumHeight(110)
        self.parts.itemChanged.connect(lambda _: self.refresh())
        self.individuals = QListWidget()
        self.individuals.setSelectionMode(QAbstractItemView.SelectionMode.NoSelection)
        self.individuals.setMaximumHeight(80)
        self.individuals.itemChanged.connect(lambda _: self.refresh())
        self.individuals_label = QLabel("Individuals")
        for w in (self.individuals_label, self.individuals):
            w.setVisible(False)
            layout.addWidget(w)
        layout.addWidget(QLabel("Body parts / edges"))
        layout.addWidget(self.parts)
        self.canvas = PlotCanvas(self._jump_to)
        layout.addWidget(self.canvas, 1)
        row = QHBoxLayout()
        self.export_button = QPushButton("Export table as CSV…")
        self.export_button.clicked.connect(self._export_dialog)
        row.addWidget(self.export_button)
        layout.addLayout(row)
        self.status = QLabel("")
        self.status.setWordWrap(True)
        layout.addWidget(self.status)
        self.viewer.layers.events.inserted.connect(self._refresh_layers)
        self.viewer.layers.events.removed.connect(self._refresh_layers)
        self.viewer.dims.events.current_step.connect(self._frame_changed)
        self._refresh_layers()

    # ------------------------------------------------------------------------------ inputs

    def _prediction_layers(self) -> list[Any]:
        return [
            lay
            for lay in self.viewer.layers
            if lay._type_string == "points" and lay.metadata.get("dlcflow_kind") == "predictions"
        ]

    def _refresh_layers(self, *_: Any) -> None:
        current = self.layer_combo.currentText()
        refill_combo(self.layer_combo, [lay.name for lay in self._prediction_layers()])
        if self.layer_combo.currentText() != current or self.pred is None:
            self._layer_chosen(self.layer_combo.currentText())

    def _layer_chosen(self, name: str) -> None:
        if not name or name not in self.viewer.layers:
            self.pred = None
            self._fill_parts()
            self.canvas.clear("Open predictions (Overlay dock or File > Open) to plot them.")
            return
        layer = self.viewer.layers[name]
        path = layer.metadata.get("dlcflow_predictions")
        if not path:
            self.status.setText(f"Layer {name} has no analysis file behind it.")
            return
        try:
            key = (str(path), Path(path).stat().st_mtime_ns)
            if key not in self._cache:
                self._cache = {key: read_predictions(path)}
            self.pred = self._cache[key]
        except (PredictionsError, OSError) as exc:
            self.status.setText(f"Cannot plot {name}: {exc}")
            self.pred = None
            return
        self.skeleton = [tuple(e) for e in layer.metadata.get("skeleton", [])]
        # the layer's colours: the same rule and colormap as the points
        self.colormap = str(layer.metadata.get("colormap") or DEFAULT_COLORMAP)
        self.status.setText("")
        self._fill_parts()
        self.refresh()

    def _is_edge_view(self) -> bool:
        return self.view_combo.currentText().startswith("edge")

    def _multi(self) -> bool:
        return self.pred is not None and self.pred.multi_animal

    def _fill_parts(self) -> None:
        names: list[str] = []
        individuals: list[str] = []
        if self.pred is not None:
            if self._multi():
                names = list(self.pred.unique_bodyparts)
                individuals = list(self.pred.unique_individuals)
            else:
                names = list(self.pred.labels)
            names += [f"edge {a}-{b}" for a, b in self.skeleton]
        _fill_checkable(self.parts, names)
        _fill_checkable(self.individuals, individuals)
        for w in (self.individuals_label, self.individuals):
            w.setVisible(bool(individuals))

    def _checked(self, prefix_edge: bool) -> list[str]:
        return [n for n in _checked_items(self.parts) if n.startswith("edge ") == prefix_edge]

    def chosen_individuals(self) -> list[str]:
        """The individuals checked (multi-animal files; empty otherwise)."""
        return _checked_items(self.individuals) if self._multi() else []

    def chosen_columns(self) -> list[int]:
        """Keypoint columns to plot: checked body parts (of the checked individuals)."""
        if self.pred is None:
            return []
        parts = set(self._checked(False))
        if not self._multi():
            return [i for i, lab in enumerate(self.pred.labels) if lab in parts]
        who = set(self.chosen_individuals())
        pairs = zip(self.pred.individuals, self.pred.bodyparts, strict=True)
        return [i for i, (ind, bp) in enumerate(pairs) if ind in who and bp in parts]

    # ------------------------------------------------------------------------------ tables

    def table(self) -> pd.DataFrame:
        """The table behind the current plot (full resolution, checked items only)."""
        if self.pred is None:
            raise RuntimeError("no predictions chosen")
        if self._is_edge_view():
            edges = [e for e in self.skeleton if f"edge {e[0]}-{e[1]}" in self._checked(True)]
            quantity = (
                "length" if self.view_combo.currentText() == "edge lengths" else "orientation"
            )
            df = edge_columns(self.pred, self.skeleton, edges, quantity)
            if self._multi():  # columns are "individual/a_b"
                who = set(self.chosen_individuals())
                df = df[[c for c in df.columns if c[0].split("/")[0] in who]]
            return df
        return keypoint_columns(self.pred, {self.pred.labels[i] for i in self.chosen_columns()})

    def export_csv(self, path: str | Path) -> Path:
        """Write :meth:`table` as CSV, atomically."""
        from napari_dlcflow.core.safe_io import atomic_write

        out = Path(path)
        atomic_write(out, self.table().to_csv(), backup=False)
        return out

    def _export_dialog(self) -> None:
        if self.pred is None:
            self.status.setText("Nothing to export: choose a predictions layer.")
            return
        view = self.view_combo.currentText().replace(", ", "_").replace(" ", "_")
        base = (
            self.pred.path.with_name(f"{self.pred.path.stem}_{view}.csv")
            if self.pred.path
            else Path(f"{view}.csv")
        )
        path = _overlay_io.ask_save_csv(self, str(base))
        if not path:
            return
        try:
            self.status.setText(f"Wrote {self.export_csv(path)}")
        except OSError as exc:
            self.status.setText(f"Export failed: {exc}")

    # ------------------------------------------------------------------------------ plotting

    def refresh(self) -> None:
        """Redraw the current view."""
        if self.pred is None:
            return
        view = self.view_combo.currentText()
        pred = self.pred
        group, names, colors = predictions_colors(pred, colormap=self.colormap)
        stride = max(1, int(np.ceil(pred.n_frames / MAX_POINTS)))
        t = pred.frames[::stride]
        if view.startswith("edge"):
            df = self.table()
            quantity = "length" if view == "edge lengths" else "orientation"
            series = [
                (c[0], t, df[c].to_numpy()[::stride], None) for c in df.columns if c[1] == quantity
            ]
            by_ind = dict(zip(names, colors, strict=True)) if self._multi() else {}
            series = [(n, t_, v, by_ind.get(n.split("/")[0])) for n, t_, v, _ in series]
            unit = "px" if quantity == "length" else "degrees"
            self.canvas.plot_time(series, ylabel=f"{quantity} ({unit})", frame=self._frame())
            return
        cols = self.chosen_columns()
        if view == "image plane":
            traces = [
                (
                    pred.labels[c],
                    pred.data[::stride, c, 0],
                    pred.data[::stride, c, 1],
                    colors[group[c]],
                )
                for c in cols
            ]
            self.canvas.plot_plane(traces, t, frame=self._frame())
        elif view == "likelihood":
            series = [
                (pred.labels[c], t, pred.data[::stride, c, 2], colors[group[c]]) for c in cols
            ]
            self.canvas.plot_time(series, ylabel="likelihood", frame=self._frame())
        else:
            series = []
            for c in cols:
                series.append(
                    (f"{pred.labels[c]} x", t, pred.data[::stride, c, 0], colors[group[c]])
                )
                series.append(
                    (f"{pred.labels[c]} y", t, pred.data[::stride, c, 1], colors[group[c]])
                )
            self.canvas.plot_xy_time(series, frame=self._frame())

    def _frame(self) -> int:
        return int(self.viewer.dims.current_step[0]) if self.viewer.dims.ndim else 0

    def _frame_changed(self, *_: Any) -> None:
        if self.pred is None:
            return
        frame = self._frame()
        xy = None
        if self.view_combo.currentText() == "image plane":
            rows = np.flatnonzero(self.pred.frames == frame)
            cols = self.chosen_columns()
            if len(rows):
                xy = self.pred.data[rows[0], cols, :2]
        self.canvas.mark_frame(frame, xy)

    def _jump_to(
        self, frame: float | None, x: float | None = None, y: float | None = None
    ) -> None:
        """Move the viewer to a clicked frame (or, in the image plane, the nearest point's)."""
        if self.pred is None:
            return
        if frame is None and x is not None and y is not None:
            cols = self.chosen_columns()
            if not cols:
                return
            d = np.hypot(self.pred.data[:, cols, 0] - x, self.pred.data[:, cols, 1] - y)
            if np.isnan(d).all():
                return
            row = int(np.nanargmin(d) // len(cols))
            frame = float(self.pred.frames[row])
        if frame is None:
            return
        step = list(self.viewer.dims.current_step)
        if not step:
            return
        hi = int(self.viewer.dims.nsteps[0]) - 1
        step[0] = int(np.clip(round(frame), 0, max(hi, 0)))
        self.viewer.dims.current_step = tuple(step)


def _fill_checkable(widget: QListWidget, names: list[str]) -> None:
    """Fill a list with checked items, without signalling each one."""
    widget.blockSignals(True)
    widget.clear()
    for n in names:
        item = QListWidgetItem(n)
        item.setCheckState(Qt.CheckState.Checked)
        widget.addItem(item)
    widget.blockSignals(False)


def _checked_items(widget: QListWidget) -> list[str]:
    """The texts of the checked items, in order."""
    items = (widget.item(i) for i in range(widget.count()))
    return [it.text() for it in items if it.checkState() == Qt.CheckState.Checked]
