"""The Dataset dock: import labels of other tools, validate the project, export DLC datasets.

Thin: every action calls :mod:`napari_dlcflow.core.formats.importing`,
:mod:`~napari_dlcflow.core.labels.validation` or :mod:`~napari_dlcflow.core.engine.dataset`;
reading,
importing and DeepLabCut run in napari thread workers (DeepLabCut itself in a child process),
and results come back to the widgets on the GUI thread.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from qtpy.QtCore import QTimer
from qtpy.QtWidgets import (
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QScrollArea,
    QVBoxLayout,
)

from napari_dlcflow.napari_common import state_for_viewer
from napari_dlcflow.widgets.common.dock import ElidedLabel, scroll_body
from napari_dlcflow.widgets.common.jobs import JobRunner, StatusLine
from napari_dlcflow.widgets.dataset import dialogs
from napari_dlcflow.widgets.dataset.export import ExportSection
from napari_dlcflow.widgets.dataset.import_panel import ImportSection
from napari_dlcflow.widgets.dataset.report import ReportView

if TYPE_CHECKING:
    import napari

    from napari_dlcflow.core.formats import ForeignLabels
    from napari_dlcflow.core.formats.importing import ImportPreview
    from napari_dlcflow.core.project.config import Project

__all__ = ["DatasetDock"]


def _read_and_preview(
    source: str, project: Project | None, options: Any
) -> tuple[ForeignLabels, ImportPreview]:
    """Worker job: read the file once, then preview the import (nothing is written)."""
    from napari_dlcflow.core.formats import read_foreign
    from napari_dlcflow.core.formats.importing import preview_import

    ropts = dict(options.read_options)
    if options.frames is not None and (options.format == "sleap" or source.endswith(".slp")):
        ropts["frames"] = list(options.frames)
    raw = read_foreign(source, options.format, **ropts)
    return raw, preview_import(raw, project, options)


class DatasetDock(QScrollArea):
    """Import labels, check the whole project, and make DeepLabCut training datasets.

    Parameters
    ----------
    napari_viewer : napari.Viewer
    """

    def __init__(self, napari_viewer: napari.Viewer) -> None:
        super().__init__()
        self.viewer = napari_viewer
        self.state = state_for_viewer(napari_viewer)
        self.raw: ForeignLabels | None = None
        self.preview: ImportPreview | None = None
        self.summary: Any = None
        self.last_import: Any = None
        self._progress = (0, 0)
        self._timer = QTimer(self)
        self._timer.setInterval(250)
        self._timer.timeout.connect(self._show_progress)

        lay = scroll_body(self)
        self.project_label = QLabel("")
        self.project_label.setWordWrap(True)
        lay.addWidget(self.project_label)
        self.project_path = ElidedLabel("")  # a path is one long word: elided, never wrapped
        lay.addWidget(self.project_path)
        self.status = StatusLine("")
        lay.addWidget(self.status)
        # one job at a time; the buttons of both panels are set by _busy/_idle
        self.jobs = JobRunner(status=self.status)

        self.importer = ImportSection()
        lay.addWidget(self.importer)

        check_box = QGroupBox("Validation report (whole project)")
        cl = QVBoxLayout(check_box)
        row = QHBoxLayout()
        self.validate_button = QPushButton("Validate")
        self.register_button = QPushButton("Register folders")
        self.register_button.setToolTip(
            "Add a video_sets entry for labeled-data folders DeepLabCut would otherwise ignore"
        )
        row.addWidget(self.validate_button)
        row.addWidget(self.register_button)
        cl.addLayout(row)
        self.report_view = ReportView()
        cl.addWidget(self.report_view)
        lay.addWidget(check_box)

        self.export = ExportSection()
        self.export.follow(self.state)
        lay.addWidget(self.export)
        lay.addStretch(1)

        self.importer.browse_file.clicked.connect(self._browse_file)
        self.importer.browse_folder.clicked.connect(self._browse_folder)
        self.importer.preview_requested.connect(self.run_preview)
        self.importer.import_requested.connect(self.run_import)
        self.importer.new_project_requested.connect(self.new_project_from_file)
        self.validate_button.clicked.connect(self.validate)
        self.register_button.clicked.connect(self.register_folders)
        self.export.create_button.clicked.connect(self.create_dataset)
        self.export.cancel_button.clicked.connect(self._cancel)
        self.export.coco_button.clicked.connect(self.export_coco)
        self.state.opened.connect(self._on_project)
        self.state.saved.connect(lambda *_: self._show_project())
        self.state.saved.connect(lambda *_: self.export.set_project(self.state.project))
        self._on_project(self.state.project)

    # ------------------------------------------------------------------ messages
    def _error(self, message: str) -> None:
        self.status.error(message)

    def _info(self, message: str) -> None:
        self.status.info(message)

    def _show_project(self) -> None:
        p = self.state.project
        if p is None:
            self.project_label.setText(
                "No project open: open one in the Project dock, or make "
                "one from a label file (New project from file…)."
            )
            self.project_path.setText("")
            self.project_path.hide()
        else:
            kind = "multi-animal" if p.multianimal else "single-animal"
            self.project_label.setText(f"Project {p.task} ({kind}, scorer {p.scorer}):")
            self.project_path.setText(str(p.config_path))
            self.project_path.show()

    def _on_project(self, project: Project | None) -> None:
        self._show_project()
        self.preview = None
        self.importer.import_button.setEnabled(False)
        self.report_view.clear()
        if project is not None:
            self.validate()

    # ------------------------------------------------------------------ import
    def _browse_file(self) -> None:
        path = dialogs.ask_label_file(self)
        if path:
            self.importer.source.setText(path)
            self.run_preview()

    def _browse_folder(self) -> None:
        path = dialogs.ask_label_folder(self)
        if path:
            self.importer.source.setText(path)
            self.run_preview()

    def _start(self, job: Any, *args: Any, done: Any, busy: str, **kwargs: Any) -> Any:
        self._busy(busy)
        return self.jobs.start(
            job,
            *args,
            on_result=done,
            on_error=lambda exc: self._error(str(exc)),
            on_finished=self._idle,
            **kwargs,
        )

    def _busy(self, message: str) -> None:
        self._info(message)
        for b in (
            self.importer.preview_button,
            self.importer.import_button,
            self.importer.new_project_button,
            self.export.create_button,
        ):
            b.setEnabled(False)
        self.export.cancel_button.setEnabled(True)

    def _idle(self) -> None:
        self.importer.preview_button.setEnabled(True)
        self.importer.new_project_button.setEnabled(True)
        self.importer.import_button.setEnabled(bool(self.preview and self.preview.ok))
        self.export.create_button.setEnabled(bool(self.export.types))
        self.export.cancel_button.setEnabled(False)

    def run_preview(self) -> Any:
        """Read the chosen file and show what importing it would do (nothing is written)."""
        source = self.importer.source.text().strip()
        if not source:
            self._error("Choose a label file or a folder of per-image CSV files first")
            return None
        try:
            options = self.importer.options()
        except ValueError as exc:
            self._error(str(exc))
            return None
        self.preview = None

        def done(result: tuple[ForeignLabels, ImportPreview]) -> None:
            self.raw, self.preview = result
            raw_parts = list(dict.fromkeys(bp for _, bp in self.raw.keypoints))
            self.importer.show_preview(self.preview, raw_parts, self.raw.points_per_bodypart())
            if self.state.project is None:
                self._info("Preview only: open a project (or make one from this file) to import")
                self.importer.import_button.setEnabled(False)
            elif self.preview.ok:
                self._info(f"Ready to import {self.preview.n_images} images")
            else:
                self._error(f"{source}: cannot import as it is; see the problems below")

        return self._start(
            _read_and_preview,
            source,
            self.state.project,
            options,
            done=done,
            busy=f"Reading {Path(source).name}…",
        )

    def run_import(self) -> Any:
        """Import what the preview showed: images, labels, video_sets entries."""
        from napari_dlcflow.core.formats.importing import import_labels

        project = self.state.project
        if project is None or self.raw is None or self.preview is None or not self.preview.ok:
            self._error("Preview first (and open a project)")
            return None
        if project.dirty:
            self._error("The project has unsaved changes: save it in the Project dock first")
            return None
        options = self.preview.options

        def done(result: Any) -> None:
            # the progress line stops before the result is shown: its timer runs until the
            # worker's `finished`, which comes after this, and would write over the result
            self._stop_progress()
            self.last_import = result
            self.preview = None
            self.importer.import_button.setEnabled(False)
            self._info(
                f"Imported {len(result.images_written)} new images and {result.points} points "
                f"into " + ", ".join(f"labeled-data/{f}" for f in result.folders)
            )
            if result.videos_added:
                self.state.set_project(project)  # observers re-read the saved config
            self.validate()
            if self.importer.open_after.isChecked() and result.folders:
                self._open_in_labeling(project.root / "labeled-data" / next(iter(result.folders)))

        self._progress = (0, self.preview.n_images)

        def progress(done_: int, total: int) -> None:  # worker thread: only store numbers
            self._progress = (done_, total)

        worker = self._start(
            import_labels,
            self.raw,
            project,
            options,
            on_progress=progress,
            done=done,
            busy="Importing…",
        )
        self._timer.start()
        worker.finished.connect(self._stop_progress)
        return worker

    def _stop_progress(self, *_: object) -> None:
        self._timer.stop()
        self._progress = (0, 0)

    def _show_progress(self) -> None:
        done_, total = self._progress
        # only over the busy line or an earlier count, never over the result or an error
        if total and self.status.text().startswith("Importing"):
            self._info(f"Importing: {done_} of {total} images written…")

    def _open_in_labeling(self, folder: Path) -> None:
        try:
            _, dock = self.viewer.window.add_plugin_dock_widget("napari-dlcflow", "Labeling")
            dock.open_folder(folder)
        except Exception as exc:  # the labeling dock reports its own errors too
            self._error(f"Imported, but the Labeling dock could not open {folder}: {exc}")

    def new_project_from_file(self) -> Any:
        """Make a project with the file's body parts, individuals and skeleton, and open it."""
        from napari_dlcflow.core.formats.importing import new_project_for

        source = self.importer.source.text().strip()
        if not source:
            self._error("Choose a label file first")
            return None
        answer = dialogs.ask_new_project(self)
        if answer is None:
            return None
        task, scorer, where = answer
        try:
            options = self.importer.options()
        except ValueError as exc:
            self._error(str(exc))
            return None

        def job() -> Any:
            raw, _ = _read_and_preview(source, None, options)
            return new_project_for(raw, task, scorer, where, rename=options.rename)

        def done(project: Project) -> None:
            self.state.set_project(project)
            self.run_preview()

        return self._start(job, done=done, busy="Making the project…")

    # ------------------------------------------------------------------ validation
    def validate(self) -> Any:
        """Check the whole project and show the report; returns it."""
        from napari_dlcflow.core.labels.validation import validate_project

        project = self.state.project
        if project is None:
            self._error("Open a project first")
            return None
        try:
            report = validate_project(project)
        except OSError as exc:
            self._error(f"{project.root}: cannot be checked ({exc})")
            return None
        self.report_view.show_report(report, project)
        return report

    def register_folders(self) -> None:
        """Add ``video_sets`` entries for labeled folders DeepLabCut would ignore; save."""
        from napari_dlcflow.core.formats.importing import register_folders

        project = self.state.project
        if project is None:
            self._error("Open a project first")
            return
        added = register_folders(project)
        if not added:
            self._info("Every labeled-data folder has a video_sets entry")
            return
        try:
            self.state.save()
        except Exception as exc:
            self._error(f"{project.config_path}: not saved ({exc})")
            return
        self._info("Added to video_sets: " + ", ".join(added))
        self.validate()

    # ------------------------------------------------------------------ export
    def _cancel(self) -> None:
        self.jobs.cancel()

    def create_dataset(self) -> Any:
        """Validate, then create the training dataset(s) with DeepLabCut in a child process."""
        from napari_dlcflow.core.engine.dataset import create_datasets

        project = self.state.project
        if project is None:
            self._error("Open a project first")
            return None
        if project.dirty:
            self._error("Save the project first: DeepLabCut reads config.yaml from disk")
            return None
        try:
            spec = self.export.spec()
        except ValueError as exc:
            self._error(str(exc))
            return None
        net = self.export.selected_net()
        if net is not None and net.multi_animal_only and not project.multianimal:
            self._error(f"{net.name} needs a multi-animal project; choose another net type")
            return None
        report = self.validate()
        if report is None or not report.ok:
            n = len(report.problems) if report is not None else 0
            self._error(f"Not exported: {n} blocking problems in the validation report")
            return None
        stop = self.jobs.stop

        def done(summary: Any) -> None:
            self.summary = summary
            self.export.summary.setPlainText(summary.format())
            self._info(f"Training dataset made: {len(summary.shuffles)} shuffles")

        return self._start(
            create_datasets,
            project.config_path,
            spec,
            check=False,
            should_stop=stop.is_set,
            done=done,
            busy="DeepLabCut is making the training dataset (20-60 s)…",
        )

    def export_coco(self) -> None:
        """Write the project's labels as one COCO keypoints JSON file."""
        from napari_dlcflow.core.formats.importing import export_coco

        project = self.state.project
        if project is None:
            self._error("Open a project first")
            return
        path = dialogs.ask_coco_target(self)
        if not path:
            return
        try:
            out = export_coco(project, path)
        except (OSError, ValueError) as exc:
            self._error(f"{path}: not written ({exc})")
            return
        self._info(f"Wrote {out}")
