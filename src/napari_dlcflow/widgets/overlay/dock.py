"""The Overlay dock: analysis, predicted tracks on a video layer, filtering, labeled videos.

Open a DeepLabCut analysis file (``<video>DLC_....h5``) and its predictions appear on the
matching video layer as points (coloured by body part, or by individual for multi-animal
projects), the skeleton per frame and trails. A ``_filtered.h5`` beside it can be shown at the
same time in another style. The p-cutoff slider hides points below it at once and redraws the
skeleton and trails when the slider rests. napari slices every layer on the same time axis, so
all of it follows playing and scrubbing. *Outlier frames* finds the frames where the model is
likely wrong (or that were marked with M) and extracts them for correction.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from qtpy.QtCore import Qt, QTimer
from qtpy.QtWidgets import (
    QCheckBox,
    QComboBox,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QProgressBar,
    QPushButton,
    QScrollArea,
    QSlider,
    QSpinBox,
)

from napari_dlcflow.core.layers.colors import DEFAULT_COLORMAP
from napari_dlcflow.core.layers.style import DisplaySettings
from napari_dlcflow.core.predictions.analysis_files import (
    PredictionsError,
    filtered_path,
    raw_path,
    read_predictions,
    video_for,
)
from napari_dlcflow.core.video.reader import VIDEO_SUFFIXES
from napari_dlcflow.widgets.analysis.panel import AnalyzePanel
from napari_dlcflow.widgets.common.dock import (
    narrow_combo,
    scroll_body,
    wrap_rows,
)
from napari_dlcflow.widgets.common.jobs import JobRunner, RunCancelRow, StatusLine
from napari_dlcflow.widgets.common.video_layer import (
    chosen_video_layer,
    refill_video_layers,
    video_layer_of,
)
from napari_dlcflow.widgets.overlay import files as _overlay_io
from napari_dlcflow.widgets.overlay.export import child_events
from napari_dlcflow.widgets.overlay.layers import OverlaySet, display_settings_for
from napari_dlcflow.widgets.refine.outliers import OutliersPanel

if TYPE_CHECKING:
    import napari


class OverlayDock(QScrollArea):
    """Show DLC analysis output over a video layer.

    Parameters
    ----------
    napari_viewer : napari.Viewer
        The viewer to draw in.
    """

    def __init__(self, napari_viewer: napari.Viewer) -> None:
        super().__init__()
        self.viewer = napari_viewer
        self.sets: dict[str, OverlaySet] = {}
        self.analysis_path: Path | None = None
        self.skeleton: list[tuple[str, str]] = []
        self.colormap = DEFAULT_COLORMAP
        self._adding = False
        layout = scroll_body(self)

        self.open_button = QPushButton("Open analysis file…")
        self.open_button.clicked.connect(self._open_dialog)
        layout.addWidget(self.open_button)
        self.file_label = QLabel("No analysis file open.")
        self.file_label.setWordWrap(True)
        layout.addWidget(self.file_label)

        form = wrap_rows(QFormLayout())
        self.video_layer = narrow_combo(QComboBox())
        self.video_layer.setToolTip("The video layer the predictions belong to")
        form.addRow("Video layer", self.video_layer)
        self.show_filtered = QCheckBox("Also show the filtered predictions")
        self.show_filtered.setToolTip(
            "Shown as rings with a cyan skeleton, when a _filtered.h5 exists"
        )
        self.show_filtered.setChecked(True)
        self.show_filtered.toggled.connect(self._toggle_filtered)
        form.addRow(self.show_filtered)
        cut = QHBoxLayout()
        self.pcutoff = QSlider(Qt.Orientation.Horizontal)
        self.pcutoff.setRange(0, 100)
        self.pcutoff.setValue(60)
        self.pcutoff_label = QLabel("0.60")
        self.pcutoff.valueChanged.connect(self._pcutoff_changed)
        cut.addWidget(self.pcutoff)
        cut.addWidget(self.pcutoff_label)
        form.addRow("p-cutoff", cut)
        self.hidden_note = QLabel("")
        self.hidden_note.setWordWrap(True)
        self.hidden_note.setVisible(False)
        form.addRow(self.hidden_note)
        self.show_skeleton = QCheckBox("Skeleton")
        self.show_skeleton.setChecked(True)
        self.show_trails = QCheckBox("Trails")
        self.show_trails.setChecked(True)
        self.show_points = QCheckBox("Points")
        self.show_points.setChecked(True)
        self.show_names = QCheckBox("Names")
        self.show_names.setChecked(True)
        self.show_names.setToolTip("Each animal's name on it (multi-animal files)")
        boxes = (self.show_points, self.show_skeleton, self.show_trails, self.show_names)
        for box in boxes:
            box.toggled.connect(self._visibility_changed)
        row = QHBoxLayout()
        for box in boxes:
            row.addWidget(box)
        form.addRow("Show", row)
        self.trails_by = narrow_combo(QComboBox())
        self.trails_by.addItem("per body part", "bodypart")
        self.trails_by.addItem("per animal (centre)", "individual")
        self.trails_by.setToolTip(
            "One trail per keypoint, or one per animal along the mean of its visible keypoints"
        )
        self.trails_by.currentIndexChanged.connect(self._trails_by_changed)
        form.addRow("Trails", self.trails_by)
        self.tail_length = QSpinBox()
        self.tail_length.setRange(1, 100000)
        self.tail_length.setValue(30)
        self.tail_length.setSuffix(" frames")
        self.tail_length.valueChanged.connect(self._tail_changed)
        form.addRow("Trail length", self.tail_length)
        layout.addLayout(form)

        self.filter_box = QGroupBox("Filter (writes DLC's _filtered.h5)")
        ff = wrap_rows(QFormLayout(self.filter_box))
        self.filter_method = narrow_combo(QComboBox())
        self.filter_method.addItems(["median", "savgol", "interpolate", "arima"])
        self.filter_method.setToolTip(
            "median / Savitzky-Golay smoothing, linear filling of short low-likelihood gaps, "
            "or DeepLabCut's ARIMA filter (slow)"
        )
        ff.addRow("Method", self.filter_method)
        self.filter_window = QSpinBox()
        self.filter_window.setRange(3, 101)
        self.filter_window.setSingleStep(2)
        self.filter_window.setValue(5)
        self.filter_window.setToolTip("median / Savitzky-Golay window; longest gap to fill")
        ff.addRow("Window / gap (frames)", self.filter_window)
        filter_row = RunCancelRow("Filter and show", cancel=False)
        self.filter_button = filter_row.run_button
        self.filter_button.clicked.connect(self.run_filter)
        ff.addRow(filter_row)
        layout.addWidget(self.filter_box)

        self.outliers_panel = OutliersPanel(
            napari_viewer, lambda: self.analysis_path, self._video_file
        )
        layout.addWidget(self.outliers_panel)

        self.export_box = QGroupBox("Labeled video")
        ef = wrap_rows(QFormLayout(self.export_box))
        self.codec = narrow_combo(QComboBox())
        self.codec.addItems(["libx264", "mpeg4", "mjpeg"])
        ef.addRow("Codec", self.codec)
        self.quality = QSpinBox()
        self.quality.setRange(0, 51)
        self.quality.setValue(23)
        self.quality.setToolTip("x264 CRF (lower is better), or qscale 2-31 for mpeg4/mjpeg")
        ef.addRow("Quality", self.quality)
        self.export_trails = QCheckBox("Draw trails")
        ef.addRow(self.export_trails)
        export_row = RunCancelRow("Export labeled video…")
        self.export_button = export_row.run_button
        self.export_button.clicked.connect(self.export_video)
        self.cancel_button = export_row.cancel_button
        ef.addRow(export_row)
        self.progress = QProgressBar()
        self.progress.setVisible(False)
        ef.addRow(self.progress)
        layout.addWidget(self.export_box)

        self.analyze_panel = AnalyzePanel(napari_viewer, self._analysis_output)
        layout.addWidget(self.analyze_panel)

        self.status = StatusLine("")
        layout.addWidget(self.status)
        self.filter_jobs = JobRunner(status=self.status, row=filter_row)
        self.export_jobs = JobRunner(status=self.status, row=export_row, progress=self.progress)
        layout.addStretch(1)

        self._rebuild_timer = QTimer(self)
        self._rebuild_timer.setSingleShot(True)
        self._rebuild_timer.setInterval(250)
        self._rebuild_timer.timeout.connect(self._rebuild)
        self.viewer.layers.events.inserted.connect(self._refresh_layers)
        self.viewer.layers.events.removed.connect(self._refresh_layers)
        self.viewer.layers.events.inserted.connect(self._layer_inserted)
        self.viewer.layers.events.removed.connect(self._layer_removed)
        self._refresh_layers()
        for lay in list(self.viewer.layers):  # predictions opened before the dock was
            self._layer_inserted(value=lay)

    # ------------------------------------------------------------------------------ loading

    def _refresh_layers(self, *_: Any) -> None:
        refill_video_layers(self.video_layer, self.viewer)

    def _layer_inserted(self, event: Any = None, *, value: Any = None) -> None:
        """Adopt a predictions Points layer that the plugin's reader added (drag and drop)."""
        layer = value if value is not None else event.value
        meta = getattr(layer, "metadata", {})
        if self._adding:
            return
        if layer._type_string != "points" or meta.get("dlcflow_kind") != "predictions":
            return
        if any(layer is s.points for s in self.sets.values()) or not meta.get(
            "dlcflow_predictions"
        ):
            return
        path = Path(meta["dlcflow_predictions"])
        raw = self.sets.get("raw")
        is_filtered = raw is not None and raw.pred.path is not None
        is_filtered = is_filtered and filtered_path(raw.pred.path) == path  # type: ignore[union-attr]
        self._adopt(layer, path, "filtered" if is_filtered else "raw")

    def _adopt(self, layer: Any, path: Path, kind: str) -> None:
        try:
            pred = read_predictions(path)
        except (PredictionsError, FileNotFoundError, OSError) as exc:
            self.status.error(f"Cannot adopt {layer.name}: {exc}")
            return
        base = layer.metadata
        siblings = {
            lay.metadata.get("dlcflow_kind"): lay
            for lay in self.viewer.layers
            if lay is not layer
            and lay.metadata.get("dlcflow_predictions") == base["dlcflow_predictions"]
            and lay.metadata.get("dlcflow_kind") in ("skeleton", "trails", "identity")
        }
        if kind == "raw":
            self._forget_sets()
            self.analysis_path = pred.path
            self.outliers_panel.set_analysis(pred.path)
            self.skeleton = [tuple(e) for e in base.get("skeleton", [])]
            self.colormap = str(base.get("colormap") or DEFAULT_COLORMAP)
            self._set_slider(float(base.get("pcutoff", 0.6)))
            self._pick_video_layer(path)
            self._describe(pred, path)
        elif "filtered" in self.sets:
            self.sets.pop("filtered").remove()
        self.sets[kind] = OverlaySet.adopt(
            self.viewer,
            pred,
            layer,
            vectors=siblings.get("skeleton"),
            tracks=siblings.get("trails"),
            names=siblings.get("identity"),
            kind=kind,
        )
        self.sets[kind].set_pcutoff(self.pcutoff.value() / 100, rebuild=True)
        self._update_hidden_note()

    def _layer_removed(self, event: Any) -> None:
        """Forget the file when its points layer is deleted from the layer list."""
        raw = self.sets.get("raw")
        if raw is not None and event.value is raw.points:
            for s in self.sets.values():  # the user's other layers stay where they are
                s.release()
            self.sets.clear()
            self.analysis_path = None
            self.outliers_panel.set_analysis(None)
            self.file_label.setText("No analysis file open.")
            self.file_label.setToolTip("")
            self._update_hidden_note()

    def _forget_sets(self) -> None:
        sets = list(self.sets.values())
        self.sets.clear()
        for s in sets:
            s.remove()

    def _set_slider(self, pcut: float) -> None:
        self.pcutoff.blockSignals(True)
        self.pcutoff.setValue(round(pcut * 100))
        self.pcutoff_label.setText(f"{pcut:.2f}")
        self.pcutoff.blockSignals(False)

    def _update_hidden_note(self) -> None:
        """Say why the overlay is empty when every point is below the p-cutoff."""
        raw = self.sets.get("raw")
        note = raw.hidden_note() if raw is not None else ""
        self.hidden_note.setText(note)
        self.hidden_note.setVisible(bool(note))

    def _describe(self, pred: Any, p: Path) -> None:
        n_cols = pred.data.shape[1]
        who = f"{len(pred.unique_individuals)} individuals, " if pred.multi_animal else ""
        name = pred.path.name if pred.path else p.name
        text = (
            f"{name}\n{pred.n_frames} frames, {who}{len(pred.unique_bodyparts)} body parts "
            f"({n_cols} tracks), scorer {pred.scorer}"
        )
        # let long DLC names wrap after their underscores
        self.file_label.setText(text.replace("_", "_\u200b"))
        self.file_label.setToolTip(str(pred.path or p))

    def _analysis_output(self, path: Path) -> None:
        """Show what an analysis just wrote (or found complete)."""
        self.load(path)

    def _open_dialog(self) -> None:
        path = _overlay_io.ask_analysis_file(self)
        if path:
            self.load(path)

    def _target_layer(self) -> Any:
        return chosen_video_layer(self.video_layer, self.viewer)

    def _pick_video_layer(self, path: Path) -> None:
        name = video_layer_of(self.viewer, path)
        if name is not None:
            self.video_layer.setCurrentText(name)

    def _settings_for(self, path: Path, bodyparts: tuple[str, ...]) -> DisplaySettings:
        return display_settings_for(self.viewer, path, bodyparts)

    def load(self, path: str | Path, *, skeleton: list[tuple[str, str]] | None = None) -> bool:
        """Open an analysis file (and its ``_filtered.h5`` if present) over the video layer.

        Parameters
        ----------
        path : path-like
            A raw or filtered analysis file.
        skeleton : list of (str, str), optional
            Edges to draw; default from the open project or the file's project config.

        Returns
        -------
        bool
            Whether it opened; on failure the status label names the file and the problem.
        """
        p = Path(path)
        raw = raw_path(p)
        try:
            pred = read_predictions(raw if raw.is_file() else p)
        except (PredictionsError, FileNotFoundError, OSError) as exc:
            self.status.error(f"Cannot open: {exc}")
            return False
        self._forget_sets()
        self.analysis_path = pred.path
        self.outliers_panel.set_analysis(pred.path)
        settings = self._settings_for(p, pred.bodyparts)
        self.colormap = settings.colormap
        if skeleton is None:
            skeleton, pcut = settings.skeleton, settings.pcutoff
            if pcut is not None:
                self._set_slider(pcut)
        self.skeleton = list(skeleton)
        self._pick_video_layer(p)
        self.sets["raw"] = self._add_set(pred, "raw")
        self._toggle_filtered(self.show_filtered.isChecked())
        self._describe(pred, p)
        self._update_hidden_note()
        self.status.info("")
        return True

    def _add_set(self, pred: Any, kind: str) -> OverlaySet:
        self._adding = True  # the new layers are ours: not to be adopted
        try:
            return self._new_set(pred, kind)
        finally:
            self._adding = False

    def _new_set(self, pred: Any, kind: str) -> OverlaySet:
        s = OverlaySet(
            self.viewer,
            pred,
            self.skeleton,
            kind=kind,
            pcutoff=self.pcutoff.value() / 100,
            tail_length=self.tail_length.value(),
            trails=kind == "raw",
            target=self._target_layer(),
            colormap=self.colormap,
            trails_by=self.trails_by.currentData(),
            names=kind == "raw",
        )
        self._show_parts(s)
        return s

    def _toggle_filtered(self, on: bool) -> None:
        if "filtered" in self.sets and not on:
            self.sets.pop("filtered").remove()
            return
        if not on or "filtered" in self.sets or self.analysis_path is None:
            return
        fpath = filtered_path(self.analysis_path)
        if not fpath.is_file():
            return
        try:
            self.sets["filtered"] = self._add_set(read_predictions(fpath), "filtered")
        except (PredictionsError, OSError) as exc:
            self.status.error(f"Cannot open the filtered file: {exc}")

    # ---------------------------------------------------------------------------- display

    def _pcutoff_changed(self, value: int) -> None:
        cutoff = value / 100
        self.pcutoff_label.setText(f"{cutoff:.2f}")
        for s in self.sets.values():
            s.set_pcutoff(cutoff, rebuild=False)
        self._update_hidden_note()
        self._rebuild_timer.start()

    def _rebuild(self) -> None:
        for s in self.sets.values():
            s.set_pcutoff(self.pcutoff.value() / 100, rebuild=True)

    def _tail_changed(self, value: int) -> None:
        for s in self.sets.values():
            s.set_tail_length(value)

    def _show_parts(self, s: OverlaySet) -> None:
        s.set_visible(
            points=self.show_points.isChecked(),
            skeleton=self.show_skeleton.isChecked(),
            trails=self.show_trails.isChecked(),
            names=self.show_names.isChecked(),
        )

    def _visibility_changed(self, *_: Any) -> None:
        for s in self.sets.values():
            self._show_parts(s)

    def _trails_by_changed(self, *_: Any) -> None:
        for s in self.sets.values():
            s.set_trails_by(self.trails_by.currentData())

    # ---------------------------------------------------------------------------- filtering

    def run_filter(self) -> Any:
        """Filter the open analysis file in a worker; show the result when it is written."""
        from napari_dlcflow.core.predictions.filtering import filter_file

        if self.analysis_path is None:
            self.status.error("Open an analysis file first.")
            return None
        method = self.filter_method.currentText()
        window = self.filter_window.value()
        params: dict[str, Any] = {}
        if method == "median":
            params["window"] = window | 1
        elif method == "savgol":
            params = {"window": max(window | 1, 5), "polyorder": 2}
        elif method == "interpolate":
            params = {"pcutoff": self.pcutoff.value() / 100, "max_gap": window}
        path = self.analysis_path
        return self.filter_jobs.start(
            filter_file,
            path,
            method,
            message=f"Filtering {path.name} ({method})…",
            error_prefix="Filtering failed",
            on_result=self._filter_done,
            **params,
        )

    def _filter_done(self, out: Path) -> None:
        if "filtered" in self.sets:
            self.sets.pop("filtered").remove()
        self.show_filtered.setChecked(True)
        self._toggle_filtered(True)
        self.status.info(f"Wrote {out}")

    # ----------------------------------------------------------------------------- export

    def _video_file(self) -> Path | None:
        layer = self._target_layer()
        source = getattr(getattr(layer, "source", None), "path", None) if layer else None
        if source and Path(source).suffix.lower() in VIDEO_SUFFIXES and Path(source).is_file():
            return Path(source)
        if self.analysis_path is not None and (beside := video_for(self.analysis_path)):
            return beside
        chosen = _overlay_io.ask_video(self)
        return Path(chosen) if chosen else None

    def export_video(self) -> Any:
        """Write a labeled video in a child process, with progress and cancel."""
        from napari_dlcflow.core.layers.labeled_video import default_output

        if self.analysis_path is None:
            self.status.error("Open an analysis file first.")
            return None
        use = self.sets.get("filtered") if self.show_filtered.isChecked() else None
        analysis = filtered_path(self.analysis_path) if use is not None else self.analysis_path
        video = self._video_file()
        if video is None:
            self.status.error("No video file: choose the video that was analysed.")
            return None
        cutoff = self.pcutoff.value() / 100
        out = _overlay_io.ask_save_video(self, str(default_output(analysis, cutoff)))
        if not out:
            return None
        args = [
            "labeled-video",
            str(video),
            "--analysis",
            str(analysis),
            "--pcutoff",
            f"{cutoff}",
            "--codec",
            self.codec.currentText(),
            "--crf",
            str(self.quality.value()),
            "--trail",
            str(self.tail_length.value() if self.export_trails.isChecked() else 0),
            "--out",
            out,
            "--events",
        ]
        if not self.show_skeleton.isChecked():
            args.append("--no-skeleton")
        self.progress.setVisible(True)
        jobs = self.export_jobs
        return jobs.start(
            child_events,
            args,
            jobs.stop,
            message=f"Writing {Path(out).name}…",
            on_yield=self._export_event,
            on_finished=lambda: self.progress.setVisible(False),
        )

    def _export_event(self, event: dict[str, Any]) -> None:
        kind = event.get("event")
        if kind == "progress":
            self.progress.setMaximum(max(int(event.get("total", 0)), 1))
            self.progress.setValue(int(event.get("done", 0)))
            self.export_jobs.report_progress(int(event.get("done", 0)), int(event.get("total", 0)))
        elif kind == "done":
            self.status.info(f"Wrote {event.get('path')}")
        elif kind == "exit" and not event.get("ok"):
            self.status.error(f"Labeled video not written: {event.get('reason')}")
