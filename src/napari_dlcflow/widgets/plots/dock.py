"""The Plots dock: trajectories, likelihood, skeleton lengths/angles, speed and distance
travelled of predicted tracks, in pixels and frames or in µm and seconds.

It plots the predictions behind any predictions Points layer (opened by the Overlay dock or the
analysis-file reader), marks the viewer's current frame, jumps to the frame you click, and
exports the plotted table as CSV. In a multi-animal file the individuals and the body parts are
chosen apart (every one by default), the lines are coloured by individual, and the exported
columns name the individual (DeepLabCut's ``individuals`` header row, or ``individual/edge``).

Units (:mod:`napari_dlcflow.core.predictions.units`): the pixel size and frame interval come
from the analysis metadata, else from the project (entered once per video in the dock's small
form), else the time from the fps. Only units that are known are offered; pixels and frames
always are, and then the export is DeepLabCut's own table. In other units the exported columns
name their unit (``x_um``, ``length_um``, ``speed_um_per_s``, ``distance_um``) and a time axis
in seconds adds ``time_s`` beside the frame index. Speed and distance travelled
(:mod:`napari_dlcflow.core.predictions.kinematics`) skip positions below the layer's p-cutoff.
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
    QLineEdit,
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
    read_predictions,
)
from napari_dlcflow.core.predictions.kinematics import kinematics_table
from napari_dlcflow.core.predictions.units import (
    PIXELS_FRAMES,
    AxisUnits,
    Units,
    positions_table,
    store_units,
    units_of,
    with_time_index,
)
from napari_dlcflow.core.project.config import project_of
from napari_dlcflow.napari_common import state_for_viewer
from napari_dlcflow.widgets.common.dock import narrow_combo, refill_combo, wrap_rows
from napari_dlcflow.widgets.overlay import files as _overlay_io
from napari_dlcflow.widgets.plots.canvas import PlotCanvas

if TYPE_CHECKING:
    import napari
    import pandas as pd

VIEWS = (
    "x, y over time",
    "image plane",
    "likelihood",
    "speed",
    "distance travelled",
    "edge lengths",
    "edge angles",
)
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
        self.units = Units()
        self.pcutoff: float | None = None
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
        self.units_combo = narrow_combo(QComboBox())
        self.units_combo.addItem(PIXELS_FRAMES.name)
        self.units_combo.currentTextChanged.connect(lambda _: self.refresh())
        self.units_combo.setToolTip("Only units the file or the project knows are offered")
        form.addRow("Units", self.units_combo)
        layout.addLayout(form)
        layout.addWidget(self._units_form())
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

    # ------------------------------------------------------------------------------ units

    def _units_form(self) -> QWidget:
        """What the units are, and the pixel size and frame interval to enter when the file
        does not give them (:attr:`units_entry`, shown only then)."""
        self.units_box = QWidget()
        box = QVBoxLayout(self.units_box)
        box.setContentsMargins(0, 0, 0, 0)
        self.units_label = QLabel("")
        self.units_label.setWordWrap(True)
        box.addWidget(self.units_label)
        self.units_entry = QWidget()
        form = wrap_rows(QFormLayout(self.units_entry))
        form.setContentsMargins(0, 0, 0, 0)
        self.pixel_edit = QLineEdit()
        self.pixel_edit.setPlaceholderText("e.g. 0.65")
        form.addRow("Pixel size (µm)", self.pixel_edit)
        self.interval_edit = QLineEdit()
        self.interval_edit.setPlaceholderText("e.g. 0.5 (empty: from the fps)")
        form.addRow("Frame interval (s)", self.interval_edit)
        self.units_button = QPushButton("Use these units (stored in the project)")
        self.units_button.clicked.connect(self._enter_units)
        form.addRow(self.units_button)
        box.addWidget(self.units_entry)
        return self.units_box

    def _project_root(self) -> Path | None:
        """The project of the chosen predictions (where they live, else the open one)."""
        if self.pred is not None and self.pred.path is not None:
            cfg = project_of(self.pred.path)
            if cfg is not None:
                return cfg.parent
        project = state_for_viewer(self.viewer).project
        return project.root if project is not None else None

    def _set_units(self, units: Units) -> None:
        """Offer the axis units ``units`` knows; keep the current choice when still offered."""
        self.units = units
        current = self.units_combo.currentText()
        names = [a.name for a in units.choices()]
        chosen = current if current in names and current != PIXELS_FRAMES.name else None
        self.units_combo.blockSignals(True)
        refill_combo(self.units_combo, names, chosen or units.default().name)
        self.units_combo.blockSignals(False)
        text = f"Units: {units.describe()}."
        if units.notes:
            text += " " + "; ".join(units.notes)
        self.units_label.setText(text)
        self.units_box.setVisible(self.pred is not None)
        self.units_entry.setVisible(units.pixel_size_um is None)
        root = self._project_root()
        self.units_button.setText(
            "Use these units (stored in the project)"
            if root is not None
            else "Use these units (no project: not stored)"
        )

    def axis_units(self) -> AxisUnits:
        """The axis units chosen (pixels and frames when the choice is not offered)."""
        for axis in self.units.choices():
            if axis.name == self.units_combo.currentText():
                return axis
        return PIXELS_FRAMES

    def enter_units(self, pixel_size_um: float, frame_interval_s: float | None = None) -> Units:
        """Use a pixel size (and frame interval; None: from the fps) for the chosen file, and
        store them in its project (``dlcflow.yaml``) when there is one.

        Raises
        ------
        ValueError
            If a value is not a positive number, or the project's sidecar is unreadable.
        """
        if self.pred is None:
            raise RuntimeError("no predictions chosen")
        root = self._project_root()
        if root is not None:
            store_units(
                root,
                self.units.video or self.pred.path,
                pixel_size_um=pixel_size_um,
                frame_interval_s=frame_interval_s,
            )
            units = units_of(self.pred, root)
        else:
            if not (pixel_size_um > 0) or (
                frame_interval_s is not None and not frame_interval_s > 0
            ):
                raise ValueError("the pixel size and frame interval must be positive numbers")
            dt = frame_interval_s or self.units.frame_interval_s
            time_from = "entered" if frame_interval_s else self.units.time_from
            units = Units(float(pixel_size_um), dt, "entered", time_from, self.units.video)
        self._set_units(units)
        self.units_combo.setCurrentText(units.default().name)
        self.refresh()
        return units

    def _enter_units(self) -> None:
        try:
            px = float(self.pixel_edit.text().replace(",", "."))
            text = self.interval_edit.text().strip().replace(",", ".")
            dt = float(text) if text else None
            self.enter_units(px, dt)
        except (ValueError, RuntimeError, OSError) as exc:
            self.status.setText(f"Units not used: {exc}")
            return
        self.status.setText(f"Units: {self.units.describe()}")

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
            self._set_units(Units())
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
        cutoff = layer.metadata.get("pcutoff")
        self.pcutoff = float(cutoff) if cutoff is not None else None
        self._set_units(units_of(self.pred, self._project_root()))
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
        axis = self.axis_units()
        if self._is_edge_view():
            edges = [e for e in self.skeleton if f"edge {e[0]}-{e[1]}" in self._checked(True)]
            quantity = (
                "length" if self.view_combo.currentText() == "edge lengths" else "orientation"
            )
            df = edge_columns(self.pred, self.skeleton, edges, quantity)
            if self._multi():  # columns are "individual/a_b"
                who = set(self.chosen_individuals())
                df = df[[c for c in df.columns if c[0].split("/")[0] in who]]
            if axis == PIXELS_FRAMES:
                return df
            if quantity == "length" and len(df.columns):
                df = df.copy()
                lengths = [c for c in df.columns if c[1] == "length"]
                df[lengths] = df[lengths] * self.units.length_factor(axis)
                df = df.rename(columns={"length": f"length_{axis.length}"}, level=1)
            return with_time_index(df, self.units, axis)
        chosen = {self.pred.labels[i] for i in self.chosen_columns()}
        if self.view_combo.currentText() in ("speed", "distance travelled"):
            return kinematics_table(self.pred, chosen, self.units, axis, pcutoff=self.pcutoff)
        return positions_table(self.pred, chosen, self.units, axis)

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
        """Redraw the current view, in the chosen units."""
        if self.pred is None:
            return
        view = self.view_combo.currentText()
        pred = self.pred
        axis = self.axis_units()
        length = self.units.length_factor(axis)
        time = {"xlabel": axis.time_label, "time_factor": self.units.time_factor(axis)}
        group, names, colors = predictions_colors(pred, colormap=self.colormap)
        stride = max(1, int(np.ceil(pred.n_frames / MAX_POINTS)))
        t = pred.frames[::stride]
        frame = self._frame()
        if view.startswith("edge"):
            df = self.table()
            quantity = "length" if view == "edge lengths" else "orientation"
            series = [
                (c[0], t, df[c].to_numpy()[::stride], None)
                for c in df.columns
                if c[1].startswith(quantity)
            ]
            by_ind = dict(zip(names, colors, strict=True)) if self._multi() else {}
            series = [(n, t_, v, by_ind.get(n.split("/")[0])) for n, t_, v, _ in series]
            unit = axis.length_label if quantity == "length" else "degrees"
            self.canvas.plot_time(series, ylabel=f"{quantity} ({unit})", frame=frame, **time)
            return
        cols = self.chosen_columns()
        if view in ("speed", "distance travelled"):
            df = self.table()
            column = axis.speed_column if view == "speed" else axis.distance_column
            series = [
                (pred.labels[c], t, df[(pred.labels[c], column)].to_numpy()[::stride], None)
                for c in cols
            ]
            series = [
                (n, t_, v, colors[group[c]]) for c, (n, t_, v, _) in zip(cols, series, strict=True)
            ]
            ylabel = (
                f"speed ({axis.speed_label})"
                if view == "speed"
                else f"distance travelled ({axis.length_label})"
            )
            self.canvas.plot_time(series, ylabel=ylabel, frame=frame, **time)
        elif view == "image plane":
            traces = [
                (
                    pred.labels[c],
                    pred.data[::stride, c, 0] * length,
                    pred.data[::stride, c, 1] * length,
                    colors[group[c]],
                )
                for c in cols
            ]
            self.canvas.plot_plane(traces, t, frame=frame, unit=axis.length_label)
        elif view == "likelihood":
            series = [
                (pred.labels[c], t, pred.data[::stride, c, 2], colors[group[c]]) for c in cols
            ]
            self.canvas.plot_time(series, ylabel="likelihood", frame=frame, **time)
        else:
            series = []
            for c in cols:
                for i, coord in enumerate("xy"):
                    values = pred.data[::stride, c, i] * length
                    series.append((f"{pred.labels[c]} {coord}", t, values, colors[group[c]]))
            self.canvas.plot_xy_time(series, frame=frame, unit=axis.length_label, **time)

    def _length_factor(self) -> float:
        return self.units.length_factor(self.axis_units())

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
                xy = self.pred.data[rows[0], cols, :2] * self._length_factor()
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
            x, y = x / self._length_factor(), y / self._length_factor()  # the plot's units
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
