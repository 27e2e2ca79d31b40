"""The "Analyze videos" part of the Overlay dock: one analysis task per video on a Dask cluster.

The panel builds the tasks with :func:`~napari_dlcflow.core.batch.tasks.analysis_tasks` (the
CLI's ``analyze --cluster`` builds them the same way) and runs them through the batch layer in
its job's thread (:func:`~napari_dlcflow.widgets.common.batch.batch_events`): on a local
cluster (one worker is one video after the other), a scheduler by address, or a profile of the
project's sidecar. A table follows every video (state, frames, frames/s, worker, error) and
takes the summary at the end (mean likelihood, share below the p-cutoff, output), also written
as CSV. DeepLabCut runs in the analysis children of the workers, never in the viewer.
"""

from __future__ import annotations

import html
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from qtpy.QtCore import Qt
from qtpy.QtWidgets import (
    QAbstractItemView,
    QCheckBox,
    QComboBox,
    QDoubleSpinBox,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListWidget,
    QProgressBar,
    QPushButton,
    QSizePolicy,
    QSpinBox,
    QStackedWidget,
    QTableWidget,
    QTableWidgetItem,
)

from napari_dlcflow.core.batch.runner import FINAL
from napari_dlcflow.core.engine.analysis import AnalysisSpec
from napari_dlcflow.core.engine.tracking import TRACKERS, TrackingSpec, tracker_note
from napari_dlcflow.napari_common import state_for_viewer
from napari_dlcflow.widgets.common import dialogs as _dialogs
from napari_dlcflow.widgets.common.batch import RUN_ON, batch_events
from napari_dlcflow.widgets.common.dock import ElidedLabel, narrow_combo, wrap_rows
from napari_dlcflow.widgets.common.jobs import JobRunner, RunCancelRow, StatusLine
from napari_dlcflow.widgets.common.source_choice import ask_choice, layer_source

if TYPE_CHECKING:
    import napari

COLUMNS = (
    "Video",
    "State",
    "Frames",
    "Frames/s",
    "Worker",
    "Mean likelihood",
    "Below p-cutoff",
    "Output",
    "Error",
)
"""The columns of the videos table."""

_COL = {name: i for i, name in enumerate(COLUMNS)}


def _profile_names(project: Any) -> list[str]:
    """Names of the cluster profiles in the project's sidecar (none if it cannot be read)."""
    if project is None:
        return []
    from napari_dlcflow.core.project.sidecar import Sidecar

    try:
        return sorted(Sidecar.load(project.root).batch_clusters)
    except (OSError, ValueError):
        return []


def _spin(lo: int, hi: int, value: int, tip: str) -> QSpinBox:
    box = QSpinBox()
    box.setRange(lo, hi)
    box.setValue(value)
    box.setToolTip(tip)
    return box


class TrackingGroup(QGroupBox):
    """The tracker and its settings for a multi-animal project's analysis
    (:class:`~napari_dlcflow.core.engine.tracking.TrackingSpec`), with a line of what the
    last analysis said about its tracking."""

    def __init__(self) -> None:
        super().__init__("Tracking")
        base = TrackingSpec()
        form = wrap_rows(QFormLayout(self))
        self.tracker = narrow_combo(QComboBox())
        for i, name in enumerate(TRACKERS):
            self.tracker.addItem(name)
            self.tracker.setItemData(i, tracker_note(name), Qt.ItemDataRole.ToolTipRole)
        self.tracker.currentTextChanged.connect(lambda n: self.tracker.setToolTip(tracker_note(n)))
        self.tracker.setCurrentText(base.tracker)
        self.tracker.setToolTip(tracker_note(base.tracker))
        form.addRow("Tracker", self.tracker)
        self.iou = QDoubleSpinBox()
        self.iou.setRange(0.01, 1.0)
        self.iou.setSingleStep(0.05)
        self.iou.setValue(base.iou_threshold)
        self.iou.setToolTip(
            "Least overlap of a detection's box with a tracklet's predicted box for it to "
            "continue the tracklet (the ellipse tracker: least similarity)"
        )
        form.addRow("IoU threshold", self.iou)
        self.box_slack = _spin(
            0, 10_000, base.box_slack, "Pixels added on every side of an animal's box"
        )
        self.box_slack.setSuffix(" px")
        form.addRow("Box slack", self.box_slack)
        self.max_age = _spin(
            1, 100_000, base.max_age, "Frames a tracklet survives without a detection"
        )
        form.addRow("Max age", self.max_age)
        self.min_hits = _spin(1, 100_000, base.min_hits, "Detections before a tracklet starts")
        form.addRow("Min hits", self.min_hits)
        self.max_gap = _spin(
            0,
            1_000_000,
            0,
            "Longest gap (frames) the stitching may bridge (auto: DeepLabCut "
            "chooses it from the tracklets)",
        )
        self.max_gap.setSpecialValueText("auto")
        self.max_gap.setSuffix(" frames")
        form.addRow("Largest gap", self.max_gap)
        self.min_length = _spin(
            3, 1_000_000, base.min_length, "Shorter tracklets are added after the long ones"
        )
        form.addRow("Min tracklet length", self.min_length)
        self.n_animals = _spin(1, 10_000, 1, "Animals in the videos (the config's individuals)")
        form.addRow("Animals", self.n_animals)
        self.note = QLabel("")
        self.note.setWordWrap(True)
        form.addRow(self.note)
        self.individuals = 0

    def prefill(self, project: Any, shuffle: int) -> None:
        """The config's number of animals, and the tracker settings of the shuffle's model
        (its ``inference_cfg.yaml``) when it has been trained."""
        from napari_dlcflow.core.engine.dataset import resolve_model
        from napari_dlcflow.core.engine.tracking import TrackingError, read_tracking_settings

        self.individuals = len(project.individuals)
        self.n_animals.setValue(max(self.individuals, 1))
        try:
            model = resolve_model(project.config_path, shuffle)
            model.find_train_folder()
            saved = read_tracking_settings(model)
        except (OSError, ValueError, TrackingError):
            return  # no model yet: the defaults
        self.tracker.setCurrentText(saved.tracker)
        self.iou.setValue(saved.iou_threshold)
        self.box_slack.setValue(saved.box_slack)
        self.max_age.setValue(saved.max_age)
        self.min_hits.setValue(saved.min_hits)
        self.max_gap.setValue(saved.max_gap or 0)
        self.min_length.setValue(saved.min_length)

    def spec(self) -> TrackingSpec:
        """The settings as typed in (the number of animals None when it is the config's)."""
        n = self.n_animals.value()
        return TrackingSpec(
            tracker=self.tracker.currentText(),
            iou_threshold=round(self.iou.value(), 2),
            box_slack=self.box_slack.value(),
            max_age=self.max_age.value(),
            min_hits=self.min_hits.value(),
            max_gap=self.max_gap.value() or None,
            min_length=self.min_length.value(),
            n_tracks=None if n == self.individuals else n,
        )


def _percent(value: Any) -> str:
    return "" if value is None or value != value else f"{100 * float(value):.1f} %"


class AnalyzePanel(QGroupBox):
    """Videos, model choice, device, batch size and where to run; a table of the videos with
    live progress and the summary; cancel.

    Parameters
    ----------
    viewer : napari.Viewer
        Its open project (Project dock) gives the config, the videos and the profiles.
    on_output : callable
        Called in the GUI thread with the h5 of each finished (or skipped) video.

    Attributes
    ----------
    outputs : list of Path
        The h5 files of the last batch, as they arrived.
    summary : list of dict
        The last batch's summary rows (``SUMMARY_COLUMNS`` of the batch runner).
    summary_csv : Path or None
        Where the last batch's summary was written.
    scheduler_address : str
        The scheduler of the last batch's cluster.
    """

    def __init__(self, viewer: napari.Viewer, on_output: Callable[[Path], None]) -> None:
        from napari_dlcflow.core.batch.cluster import local_layout

        super().__init__("Analyze videos")
        self.viewer = viewer
        self.state = state_for_viewer(viewer)
        self._on_output = on_output
        self.outputs: list[Path] = []
        self.summary: list[dict[str, Any]] = []
        self.summary_csv: Path | None = None
        self.scheduler_address = ""
        self._videos_run: list[str] = []
        self._rows: list[dict[str, Any]] = []  # the last progress of each video
        form = wrap_rows(QFormLayout(self))
        self.project_label = ElidedLabel("")  # a long path must not widen the dock
        form.addRow(self.project_label)
        self.videos = QListWidget()
        self.videos.setMaximumHeight(80)
        form.addRow("Videos", self.videos)
        row = QHBoxLayout()
        self.add_videos_button = QPushButton("Add…")
        self.add_videos_button.clicked.connect(self._add_videos)
        self.add_layer_button = QPushButton("Add layer")
        self.add_layer_button.setToolTip(
            "Analyse the selected image layer: its file (and channel), or, for an array with "
            "no file, the array written to the project's videos folder as a TIFF first"
        )
        self.add_layer_button.clicked.connect(self.add_layer)
        self.clear_videos_button = QPushButton("Clear")
        self.clear_videos_button.clicked.connect(self.videos.clear)
        row.addWidget(self.add_videos_button)
        row.addWidget(self.add_layer_button)
        row.addWidget(self.clear_videos_button)
        form.addRow(row)
        self.shuffle = QSpinBox()
        self.shuffle.setRange(1, 1000)
        form.addRow("Shuffle", self.shuffle)
        self.snapshot = QLineEdit()
        self.snapshot.setPlaceholderText("config's snapshotindex (-1 last, 'best')")
        form.addRow("Snapshot", self.snapshot)
        self.device = narrow_combo(QComboBox())
        self.device.addItems(["auto", "cpu", "cuda"])
        self.device.setToolTip(
            "auto: the model's setting (DeepLabCut uses a GPU when it sees one)"
        )
        form.addRow("Device", self.device)
        self.batch_size = QSpinBox()
        self.batch_size.setRange(0, 1024)
        self.batch_size.setSpecialValueText("config's")
        form.addRow("Batch size", self.batch_size)
        self.csv = QCheckBox("Also write .csv")
        form.addRow(self.csv)
        self.tracking = TrackingGroup()  # shown for a multi-animal project only
        self.tracking.setVisible(False)
        form.addRow(self.tracking)
        self.shuffle.valueChanged.connect(lambda _v: self._prefill_tracking())

        self.run_on = QComboBox()
        for key, text in RUN_ON.items():
            self.run_on.addItem(text, key)
        self.run_on.setToolTip(
            "Each video is one task on a Dask cluster (docs/scale.md): this machine, a "
            "scheduler a lab runs, or a Slurm/PBS/SGE/LSF profile from the project's dlcflow.yaml"
        )
        form.addRow("Run on", self.run_on)
        self.where = QStackedWidget()
        self.workers = QSpinBox()
        self.workers.setRange(1, 256)
        self.workers.setValue(len(local_layout()))
        self.workers.setSuffix(" worker(s)")
        self.workers.setToolTip(
            "Videos analysed at the same time on this machine (one worker each; 1: one video "
            "after the other). With GPUs and a device other than cpu: one worker per GPU, at "
            "most this many."
        )
        self.address = QLineEdit()
        self.address.setPlaceholderText("tcp://host:8786")
        self.profile = QComboBox()
        for combo in (self.run_on, self.profile):  # never wider than a narrow dock
            combo.setSizeAdjustPolicy(
                QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon
            )
            combo.setMinimumContentsLength(14)
        for w in (self.workers, self.address, self.profile):
            self.where.addWidget(w)
        self.run_on.currentIndexChanged.connect(self.where.setCurrentIndex)
        self.where.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Maximum)
        form.addRow("", self.where)

        buttons = RunCancelRow("Analyze")
        self.run_button = buttons.run_button
        self.run_button.clicked.connect(self.start)
        self.cancel_button = buttons.cancel_button
        form.addRow(buttons)
        self.cluster_label = QLabel("")
        self.cluster_label.setWordWrap(True)
        self.cluster_label.setTextFormat(Qt.TextFormat.RichText)
        self.cluster_label.setOpenExternalLinks(True)
        self.cluster_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextBrowserInteraction)
        self.cluster_label.setVisible(False)
        form.addRow(self.cluster_label)
        self.overall = QProgressBar()
        self.overall.setFormat("%v of %m videos")
        form.addRow(self.overall)
        self.table = QTableWidget(0, len(COLUMNS))
        self.table.setHorizontalHeaderLabels(list(COLUMNS))
        self.table.verticalHeader().setVisible(False)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setHorizontalScrollMode(QAbstractItemView.ScrollMode.ScrollPerPixel)
        self.table.setWordWrap(False)
        self.table.setMinimumHeight(110)
        self.table.setMaximumHeight(220)
        # never wider than the dock: the table scrolls sideways inside itself
        self.table.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        form.addRow(self.table)
        self.status = StatusLine("")
        form.addRow(self.status)
        self.jobs = JobRunner(status=self.status, row=buttons)
        self.state.opened.connect(self._project_opened)
        self._project_opened(self.state.project)

    # ------------------------------------------------------------------------------ inputs

    def _project_opened(self, project: Any) -> None:
        try:
            self.videos.clear()
        except RuntimeError:  # the Qt side was deleted (dock closed): stop listening
            self.state.opened.disconnect(self._project_opened)
            return
        self.profile.clear()
        names = _profile_names(project)
        self.profile.addItems(names)
        self.profile.setToolTip(
            "The profiles under batch_clusters in the project's dlcflow.yaml"
            if names
            else "No profile under batch_clusters in the project's dlcflow.yaml (docs/scale.md)"
        )
        self.tracking.setVisible(bool(project is not None and project.multianimal))
        self.tracking.note.setText("")
        if project is None:
            self.project_label.setText("No project open (Project dock).")
            return
        self._prefill_tracking()
        self.project_label.setText(f"Project: {project.config_path}")
        for video in project.videos:
            path = Path(video)
            if not path.is_absolute():
                path = project.root / path
            self.videos.addItem(str(path))

    def _prefill_tracking(self) -> None:
        project = self.state.project
        if project is not None and project.multianimal:
            self.tracking.prefill(project, self.shuffle.value())

    def _add_videos(self) -> None:
        for path in _dialogs.ask_videos(self):
            try:
                key = ask_choice(self, path)  # a channel/z/scene where the file has several
            except ValueError as exc:  # VideoError: the file cannot be read
                self.status.error(f"{path}: {exc}")
                continue
            if key is not None:
                self._list(key)

    def _list(self, key: str) -> None:
        """Add ``key`` to the videos unless it is listed already."""
        if not self.videos.findItems(key, Qt.MatchFlag.MatchExactly):
            self.videos.addItem(key)

    def add_layer(self, layer: Any = None) -> str | None:
        """Add an image layer (default: the selected one) as a source: its file with the
        choice our reader recorded, or an array with no file streamed to
        ``<project>/videos/<layer name>.tif`` (a child process cannot see the viewer's
        memory; the TIFF records the layer as its origin).

        Returns
        -------
        str or None
            The key listed now. An array not written yet is written by a thread job of
            :attr:`jobs` (the viewer stays responsive; progress on the status line) and listed
            when it is done: None is returned then, as on an error (said on the status line).
        """
        from napari.layers import Image

        from napari_dlcflow.core.video.array_source import ArraySource, written_from

        layer = layer if layer is not None else self.viewer.layers.selection.active
        project = self.state.project
        if not isinstance(layer, Image) or project is None:
            self.status.error("Open a project and select an image layer with a time axis.")
            return None
        try:
            src = layer_source(layer)
            if not isinstance(src, ArraySource):
                key = src.key
            else:
                out = project.root / "videos" / f"{layer.name}.tif"
                if not out.exists():
                    self._write_layer(src, out)
                    return None
                if written_from(out) != (src.origin, tuple(src.shape)):
                    raise ValueError(f"{out} exists already and is not this layer; rename it")
                key = str(out)  # written from this layer before
        except (ValueError, OSError) as exc:
            self.status.error(f"Layer {layer.name!r}: {exc}")
            return None
        self._list(key)
        return key

    def _write_layer(self, src: Any, out: Path) -> None:
        """Write an array layer to ``out`` in a thread job, then list it."""
        from napari_dlcflow.core.video.array_source import write_array_tiff

        if self.jobs.busy:
            self.status.error(f"Wait for {self.jobs.describe()} to end, then add the layer.")
            return

        def done(path: Path) -> None:
            self._list(str(path))
            self.status.info(f"Wrote {src.origin} to {path} for the analysis.")

        self.jobs.start(
            write_array_tiff,
            src,
            out,
            message=f"Writing {src.origin} to {out} ({len(src)} frames)…",
            error_prefix=f"Writing {out} failed",
            on_result=done,
        )

    def spec(self) -> AnalysisSpec:
        """The analysis asked for in the form.

        Raises
        ------
        ValueError
            If no project is open or no video is listed.
        """
        project = self.state.project
        if project is None:
            raise ValueError("open a project first (Project dock)")
        videos = [self.videos.item(i).text() for i in range(self.videos.count())]
        if not videos:
            raise ValueError("add at least one video")
        snap: Any = self.snapshot.text().strip() or None
        if isinstance(snap, str) and snap.lstrip("-").isdigit():
            snap = int(snap)
        device = self.device.currentText()
        return AnalysisSpec(
            config=str(project.config_path),
            videos=list(dict.fromkeys(videos)),
            shuffle=self.shuffle.value(),
            snapshot_index=snap,
            device=None if device == "auto" else device,
            batch_size=self.batch_size.value() or None,
            save_as_csv=self.csv.isChecked(),
            tracking=self.tracking.spec().to_dict() if project.multianimal else None,
        )

    def cluster_target(self) -> str:
        """What ``open_cluster`` gets: ``"local"``, the address or the profile's name.

        Raises
        ------
        ValueError
            If the address or the profile is missing.
        """
        kind = self.run_on.currentData()
        if kind == "address":
            text = self.address.text().strip()
            if not text:
                raise ValueError("type the scheduler's address (tcp://host:8786)")
            return text
        if kind == "profile":
            if not self.profile.currentText():
                raise ValueError(
                    "no cluster profile: add one under batch_clusters in the project's "
                    "dlcflow.yaml (docs/scale.md)"
                )
            return self.profile.currentText()
        return "local"

    # -------------------------------------------------------------------------------- run

    def start(self) -> Any:
        """Start the batch in the dock's job thread; returns the worker (None if not started)."""
        from napari_dlcflow.core.batch.runner import default_summary_csv
        from napari_dlcflow.core.batch.tasks import analysis_tasks

        try:
            spec = self.spec()
            where = self.cluster_target()
        except ValueError as exc:
            self.status.error(f"Cannot analyze: {exc}")
            return None
        tasks = analysis_tasks(spec)
        self.outputs, self.summary = [], []
        self.summary_csv = default_summary_csv(tasks)
        self.scheduler_address = ""
        self._videos_run = [t.source for t in tasks]
        self._rows = [{"state": "queued", "frames_done": 0, "frames_total": 0} for _ in tasks]
        self._fill_table()
        self.overall.setRange(0, len(tasks))
        self.overall.setValue(0)
        self.cluster_label.setVisible(False)
        assert self.state.project is not None  # spec() checked it
        return self.jobs.start(
            batch_events,
            where,
            tasks,
            self.jobs.stop,
            project_root=self.state.project.root,
            n_workers=self.workers.value() if where == "local" else None,
            use_gpus=where == "local" and spec.device != "cpu",
            summary_csv=self.summary_csv,
            message=f"Analyzing {len(tasks)} video(s): starting the cluster…",
            error_prefix="Analysis failed",
            on_yield=self._event,
            on_finished=self._finished,
            on_cancel=lambda: self.status.info(
                "Cancelling: queued videos are dropped, running ones stop…"
            ),
            ends_on_stop=True,
        )

    def _finished(self) -> None:
        """Rows the batch never reported on (the cluster did not open) say so."""
        if self.summary:
            return
        for i, r in enumerate(self._rows):
            if r["state"] not in FINAL:
                self._set(i, "State", "not run")

    def _fill_table(self) -> None:
        self.table.setRowCount(len(self._videos_run))
        for i, video in enumerate(self._videos_run):
            self._set(i, "Video", Path(video).name, tip=video)
            self._set(i, "State", "queued")
            for name in COLUMNS[2:]:
                self._set(i, name, "")
        self.table.resizeColumnsToContents()

    def _set(self, row: int, column: str, text: str, tip: str | None = None) -> None:
        item = self.table.item(row, _COL[column])
        if item is None:
            item = QTableWidgetItem()
            self.table.setItem(row, _COL[column], item)
        if item.text() != text:
            item.setText(text)
        if tip is not None:
            item.setToolTip(tip)

    def cell(self, row: int, column: str) -> str:
        """The text of the table's cell (``column``: one of :data:`COLUMNS`)."""
        item = self.table.item(row, _COL[column])
        return item.text() if item is not None else ""

    def _event(self, e: dict[str, Any]) -> None:
        kind = e.get("event")
        if kind == "cluster":
            self.scheduler_address = str(e.get("address") or "")
            text = html.escape(str(e.get("description", "")))
            link = e.get("dashboard")
            if link:
                url = html.escape(str(link), quote=True)
                text += f' · <a href="{url}">dashboard</a>'
            self.cluster_label.setText(text)
            self.cluster_label.setToolTip(str(link or ""))
            self.cluster_label.setVisible(True)
            self.status.info("Analyzing (DeepLabCut starts in one child per video)…")
        elif kind == "progress":
            self._progress(int(e["index"]), e["row"])
        elif kind == "summary":
            self._summary(e)
        elif kind == "tracking":  # the tracker chosen, in words (once per video's child)
            self.tracking.note.setText(f"Tracking: {e.get('message', '')}")
        elif kind == "tracking_stage":
            self._tracking_stage(e)

    def _tracking_stage(self, e: dict[str, Any]) -> None:
        """A tracking stage of a video done (or already done): said on the status line."""
        said = "already done" if e.get("state") == "skipped" else "done"
        name = Path(str(e.get("video") or "")).name
        self.status.info(f"{name}: {e.get('stage')} {said}")

    def _progress(self, i: int, row: dict[str, Any]) -> None:
        self._rows[i] = row
        state = str(row["state"])
        self._set(i, "State", state + (f" ({row['attempts']})" if row["attempts"] > 1 else ""))
        total = int(row["frames_total"] or 0)
        self._set(i, "Frames", f"{row['frames_done']}/{total or '?'}")
        if row["fps"] and state in ("running", "retrying"):
            self._set(i, "Frames/s", f"{float(row['fps']):.1f}")
        self._set(i, "Worker", str(row["worker"] or ""))
        if row.get("error") and state == "failed":
            self._set(i, "Error", str(row["error"]), tip=str(row["error"]))
        if state in ("done", "skipped") and row.get("output"):
            self._output(i, Path(str(row["output"])))
        self.overall.setValue(sum(r["state"] in FINAL for r in self._rows))
        self.jobs.report_progress(
            sum(int(r["frames_done"]) for r in self._rows),
            sum(int(r["frames_total"] or 0) for r in self._rows),
        )
        self.table.resizeColumnsToContents()

    def _output(self, i: int, out: Path) -> None:
        """Show video ``i``'s h5 and open it in the overlay (once)."""
        self._set(i, "Output", out.name, tip=str(out))
        if out not in self.outputs:
            self.outputs.append(out)
            self._on_output(out)

    def _summary(self, e: dict[str, Any]) -> None:
        rows = list(e.get("rows") or [])
        self.summary = rows
        self.summary_csv = Path(e["csv"]) if e.get("csv") else None
        for i, r in enumerate(rows):
            state = str(r["state"])
            self._set(i, "State", state)
            if state in ("done", "skipped"):
                self._set(i, "Frames", f"{int(r['frames'] or 0)}/{int(r['frames'] or 0)}")
            self._set(i, "Frames/s", f"{float(r['fps']):.1f}" if r.get("fps") else "")
            if r.get("worker"):
                self._set(i, "Worker", str(r["worker"]))
            lk = r.get("mean_likelihood")
            self._set(i, "Mean likelihood", "" if lk is None else f"{float(lk):.3f}")
            self._set(i, "Below p-cutoff", _percent(r.get("below_pcutoff")))
            if r.get("output"):
                self._output(i, Path(str(r["output"])))
            else:
                self._set(i, "Output", "")
            error = str(r.get("error") or "")
            self._set(i, "Error", error, tip=error)
        self.overall.setValue(len(rows))
        self.table.resizeColumnsToContents()
        ok = [r for r in rows if r["state"] in ("done", "skipped")]
        failed = [r for r in rows if r["state"] == "failed"]
        where = f"; summary: {self.summary_csv}" if self.summary_csv else ""
        head = f"{len(ok)} of {len(rows)} video(s) complete in {float(e.get('seconds', 0)):.0f} s"
        if e.get("cancelled"):
            self.status.info(f"Cancelled: {head}{where}")
        elif failed:
            reasons = "; ".join(f"{Path(r['video']).name}: {r['error']}" for r in failed)
            self.status.error(f"{head}; failed: {reasons}{where}")
        else:
            self.status.info(f"{head}{where}")
