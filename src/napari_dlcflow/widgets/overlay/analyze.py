"""The "Analyze videos" part of the Overlay dock: run DeepLabCut's analysis in a child process."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from qtpy.QtWidgets import (
    QCheckBox,
    QComboBox,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListWidget,
    QProgressBar,
    QPushButton,
    QSpinBox,
)

from napari_dlcflow.core.engine.analysis import AnalysisSpec, parse_progress
from napari_dlcflow.widgets.common import dialogs as _dialogs
from napari_dlcflow.widgets.common.jobs import JobRunner, RunCancelRow, StatusLine
from napari_dlcflow.widgets.common.state import state_for_viewer
from napari_dlcflow.widgets.overlay.export import child_events

if TYPE_CHECKING:
    import napari


class AnalyzePanel(QGroupBox):
    """Videos, model choice, device and batch size; progress per video and overall; cancel.

    Parameters
    ----------
    viewer : napari.Viewer
        Its open project (Project dock) gives the config and the videos.
    on_output : callable
        Called in the GUI thread with the h5 of each finished (or skipped) video.
    """

    def __init__(self, viewer: napari.Viewer, on_output: Callable[[Path], None]) -> None:
        super().__init__("Analyze videos")
        self.viewer = viewer
        self.state = state_for_viewer(viewer)
        self._on_output = on_output
        self.outputs: list[Path] = []
        form = QFormLayout(self)
        self.project_label = QLabel("")
        self.project_label.setWordWrap(True)
        form.addRow(self.project_label)
        self.videos = QListWidget()
        self.videos.setMaximumHeight(80)
        form.addRow("Videos", self.videos)
        row = QHBoxLayout()
        self.add_videos_button = QPushButton("Add…")
        self.add_videos_button.clicked.connect(self._add_videos)
        self.clear_videos_button = QPushButton("Clear")
        self.clear_videos_button.clicked.connect(self.videos.clear)
        row.addWidget(self.add_videos_button)
        row.addWidget(self.clear_videos_button)
        form.addRow(row)
        self.shuffle = QSpinBox()
        self.shuffle.setRange(1, 1000)
        form.addRow("Shuffle", self.shuffle)
        self.snapshot = QLineEdit()
        self.snapshot.setPlaceholderText("config's snapshotindex (-1 last, 'best')")
        form.addRow("Snapshot", self.snapshot)
        self.device = QComboBox()
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
        buttons = RunCancelRow("Analyze")
        self.run_button = buttons.run_button
        self.run_button.clicked.connect(self.start)
        self.cancel_button = buttons.cancel_button
        form.addRow(buttons)
        self.overall = QProgressBar()
        self.overall.setFormat("video %v of %m")
        self.frames = QProgressBar()
        self.frames.setFormat("frame %v of %m")
        form.addRow(self.overall)
        form.addRow(self.frames)
        self.status = StatusLine("")
        form.addRow(self.status)
        self.jobs = JobRunner(status=self.status, row=buttons)
        self.state.opened.connect(self._project_opened)
        self._project_opened(self.state.project)

    def _project_opened(self, project: Any) -> None:
        try:
            self.videos.clear()
        except RuntimeError:  # the Qt side was deleted (dock closed): stop listening
            self.state.opened.disconnect(self._project_opened)
            return
        if project is None:
            self.project_label.setText("Open a project (Project dock) to analyze its videos.")
            return
        self.project_label.setText(f"Project: {project.config_path}")
        for video in project.videos:
            path = Path(video)
            if not path.is_absolute():
                path = project.root / path
            self.videos.addItem(str(path))

    def _add_videos(self) -> None:
        for path in _dialogs.ask_videos(self):
            self.videos.addItem(path)

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
            videos=videos,
            shuffle=self.shuffle.value(),
            snapshot_index=snap,
            device=None if device == "auto" else device,
            batch_size=self.batch_size.value() or None,
            save_as_csv=self.csv.isChecked(),
        )

    def start(self) -> Any:
        """Start the analysis in a child process; returns the worker (None if not started)."""
        try:
            spec = self.spec()
        except ValueError as exc:
            self.status.error(f"Cannot analyze: {exc}")
            return None
        self.outputs = []
        self._n = len(spec.videos)
        self.overall.setRange(0, self._n)
        self.overall.setValue(0)
        self.frames.setValue(0)
        return self.jobs.start(
            child_events,
            ["_analyze", spec.to_json()],
            self.jobs.stop,
            logs=True,
            message="Starting DeepLabCut (importing it takes 10-20 s)…",
            on_yield=self._event,
        )

    def _event(self, e: dict[str, Any]) -> None:
        kind = e.get("event")
        name = Path(str(e.get("video", ""))).name
        if kind == "log":
            frames = parse_progress(str(e.get("line", "")))
            if frames:
                self.frames.setRange(0, max(frames[1], 1))
                self.frames.setValue(frames[0])
                self.jobs.report_progress(frames[0], frames[1])
        elif kind == "video_start":
            self.frames.setRange(0, max(int(e.get("frames", 0)), 1))
            self.frames.setValue(0)
            redo = " (partial output found: redoing it)" if e.get("redo") else ""
            self.status.info(f"Analyzing {name}{redo}…")
        elif kind in ("video_done", "video_skipped"):
            self.overall.setValue(self.overall.value() + 1)
            out = Path(str(e.get("h5")))
            self.outputs.append(out)
            done = "already complete" if kind == "video_skipped" else "done"
            self.status.info(f"{name}: {done}")
            self._on_output(out)
        elif kind in ("video_failed", "video_incomplete"):
            self.overall.setValue(self.overall.value() + 1)
            self.status.error(f"{name}: {kind.split('_')[1]}: {e.get('message')}")
        elif kind == "exit" and not e.get("ok"):
            self.status.error(f"Analysis stopped: {e.get('reason')}")
