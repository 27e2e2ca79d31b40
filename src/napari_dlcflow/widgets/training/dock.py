"""The Training dock: start, watch, cancel, resume and evaluate DeepLabCut training.

Training runs in a detached job (:mod:`napari_dlcflow.core.engine.training`) that this dock only
starts and watches: a timer reads the job's state and log once a second, so the viewer never
waits on it, and closing napari leaves it running. Opening the project again reattaches.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

from qtpy.QtCore import Qt, QTimer
from qtpy.QtWidgets import (
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QPlainTextEdit,
    QPushButton,
    QScrollArea,
    QVBoxLayout,
)

from napari_dlcflow.core.engine.training import (
    CANCEL_FILE,
    JobStatus,
    Progress,
    TrainingJob,
    find_job,
    format_seconds,
    resume_spec,
    start_training,
)
from napari_dlcflow.napari_common import state_for_viewer
from napari_dlcflow.widgets.common.dock import scroll_body
from napari_dlcflow.widgets.common.jobs import JobRunner, StatusLine, register_detached
from napari_dlcflow.widgets.training.evaluation import EvaluationPanel
from napari_dlcflow.widgets.training.form import TrainingForm
from napari_dlcflow.widgets.training.plot import CurvePlot

if TYPE_CHECKING:
    import napari

    from napari_dlcflow.core.engine.model_ref import ModelRef
    from napari_dlcflow.core.engine.weights import WeightsChoice

POLL_MS = 1000


class TrainingDock(QScrollArea):
    """Train a network on the open project's training dataset and evaluate it.

    Parameters
    ----------
    napari_viewer : napari.Viewer
        The viewer whose open project is trained.
    """

    def __init__(self, napari_viewer: napari.Viewer) -> None:
        super().__init__()
        self.viewer = napari_viewer
        self.state = state_for_viewer(napari_viewer)
        self.job: TrainingJob | None = None
        self.trainset_index = 0
        # the short jobs (dataset, devices); training itself is a detached process (self.job)
        self.jobs = JobRunner()
        self.device_jobs = JobRunner()
        # the weights line: what a start would train from, asked of a child (timm, torchvision)
        self.weights_jobs = JobRunner()
        self.weights_choice: WeightsChoice | None = None
        self._weights_gen = 0
        self._weights_pending = False
        self._weights_timer = QTimer(self)
        self._weights_timer.setSingleShot(True)
        self._weights_timer.setInterval(50)  # several changes at once: one check
        self._weights_timer.timeout.connect(self._check_weights)
        self._last_status: JobStatus | None = None
        register_detached(self)  # closing napari asks whether training keeps running
        layout = scroll_body(self)

        self.project_label = QLabel("")
        self.project_label.setWordWrap(True)
        layout.addWidget(self.project_label)

        settings = QGroupBox("Training")
        s_layout = QVBoxLayout(settings)
        self.form = TrainingForm()
        self.form.shuffle.valueChanged.connect(lambda _v: self._shuffle_changed())
        s_layout.addWidget(self.form)
        self.form.weights.currentIndexChanged.connect(lambda _i: self.refresh_weights())
        self.form.backbone.currentIndexChanged.connect(lambda _i: self.refresh_weights())
        self.form.offline.toggled.connect(lambda _b: self.refresh_weights())
        tools = QHBoxLayout()
        self.dataset_button = QPushButton("Create training dataset")
        self.dataset_button.clicked.connect(self.create_dataset)
        self.devices_button = QPushButton("Detect GPUs")
        self.devices_button.clicked.connect(self.detect_devices)
        tools.addWidget(self.dataset_button)
        tools.addWidget(self.devices_button)
        s_layout.addLayout(tools)
        buttons = QHBoxLayout()
        self.start_button = QPushButton("Start")
        self.start_button.clicked.connect(self.start)
        self.cancel_button = QPushButton("Cancel")
        self.cancel_button.setToolTip("Stop after the current epoch; its snapshot is kept")
        self.cancel_button.clicked.connect(self.cancel)
        self.resume_button = QPushButton("Resume")
        self.resume_button.setToolTip("Continue from the latest complete snapshot")
        self.resume_button.clicked.connect(self.resume)
        for b in (self.start_button, self.cancel_button, self.resume_button):
            buttons.addWidget(b)
        s_layout.addLayout(buttons)
        layout.addWidget(settings)

        self.status = StatusLine("")
        self.jobs.status = self.status
        self.status.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        layout.addWidget(self.status)
        self.progress_label = QLabel("")
        self.progress_label.setWordWrap(True)
        layout.addWidget(self.progress_label)
        self.log_view = QPlainTextEdit()
        self.log_view.setReadOnly(True)
        self.log_view.setMaximumHeight(110)
        self.log_view.setVisible(False)
        layout.addWidget(self.log_view)
        self.plot = CurvePlot()
        layout.addWidget(self.plot)

        self.evaluation = EvaluationPanel(napari_viewer, self.model)
        layout.addWidget(self.evaluation)
        layout.addStretch(1)

        self.timer = QTimer(self)
        self.timer.setInterval(POLL_MS)
        self.timer.timeout.connect(self.refresh)
        self.state.opened.connect(lambda _p: self.follow_last_dataset())
        self.state.iteration_changed.connect(lambda _i: self.follow_last_dataset())
        self.state.dataset_made.connect(lambda _r: self.follow_last_dataset())
        self.follow_last_dataset()

    # ------------------------------------------------------------------ helpers
    def _context(self) -> tuple[Path | None, int, int]:
        project = self.state.project
        config = project.config_path if project else None
        return config, self.form.shuffle.value(), self.trainset_index

    def model(self) -> ModelRef | None:
        """The model of the form's shuffle, made once per action and passed along (None
        without a project, or when its trainset index is not in the config).

        The config is read again from disk: a dataset made in a child process may have added
        its train fraction there."""
        from napari_dlcflow.core.engine.dataset import resolve_model

        config, shuffle, trainset_index = self._context()
        if config is None:
            return None
        try:
            return resolve_model(config, shuffle, trainset_index)
        except (OSError, ValueError):
            return None

    def follow_last_dataset(self) -> None:
        """Show the shuffle (and use the trainset index) the last dataset creation made."""
        from napari_dlcflow.core.engine.dataset import resolve_shuffle

        project = self.state.project
        if project is not None:
            try:
                shuffle, self.trainset_index = resolve_shuffle(project.config_path)
            except (OSError, ValueError):
                shuffle, self.trainset_index = 1, 0
            self.form.shuffle.blockSignals(True)
            self.form.shuffle.setValue(shuffle)
            self.form.shuffle.blockSignals(False)
        self.reattach()

    def _shuffle_changed(self) -> None:
        """Another shuffle was chosen: its trainset index, then its job."""
        from napari_dlcflow.core.engine.dataset import resolve_shuffle

        project = self.state.project
        if project is not None:
            try:
                _, self.trainset_index = resolve_shuffle(
                    project.config_path, self.form.shuffle.value()
                )
            except (OSError, ValueError):
                self.trainset_index = 0
        self.reattach()

    def train_folder(self, model: ModelRef | None = None) -> Path | None:
        """The current shuffle's train folder (of ``model`` when given), or None when there
        is no dataset yet."""
        model = model or self.model()
        if model is None:
            return None
        try:
            return model.find_train_folder()
        except FileNotFoundError:
            return None

    def _buttons(self) -> None:
        running = self.job is not None and not (self._last_status and self._last_status.done)
        has_project = self.state.project is not None
        has_dataset = self.train_folder() is not None
        self.start_button.setEnabled(
            has_project and has_dataset and not running and not self.jobs.busy
        )
        self.cancel_button.setEnabled(running)
        self.resume_button.setEnabled(
            bool(self.job)
            and not running
            and bool(self._last_status)
            and self._last_status.state in ("cancelled", "failed", "finished")
        )
        self.dataset_button.setEnabled(has_project and not running)

    def _offer_previous(self) -> None:
        """Offer the previous iteration's best snapshot as the starting weights."""
        from napari_dlcflow.core.engine.dataset import resolve_model
        from napari_dlcflow.core.refine.iteration import best_snapshot

        project = self.state.project
        best = None
        if project is not None and project.iteration > 0:
            try:
                prev = resolve_model(  # that iteration's trainset index, found on disk
                    project.config_path, self.form.shuffle.value(), iteration=project.iteration - 1
                ).find_train_folder()
            except (OSError, ValueError):
                prev = None
            best = best_snapshot(prev) if prev is not None else None
        iteration = project.iteration - 1 if project is not None else None
        self.form.set_previous(str(best) if best else None, iteration)

    # ---------------------------------------------------------------- reattach
    def reattach(self) -> None:
        """Find the job of the current shuffle (running or not) and show it."""
        project = self.state.project
        self.job = None
        self._last_status = None
        if project is None:
            self.project_label.setText("Open a project in the Project dock to train it.")
        else:
            folder = self.train_folder()
            if folder is None:
                self.project_label.setText(
                    f"{project.root.name}: shuffle {self.form.shuffle.value()} has no training "
                    "dataset yet; create it below."
                )
            else:
                self.project_label.setText(f"{project.root.name}: {folder.parent.name}")
                self.job = find_job(folder)
        self._offer_previous()
        self.plot.set_epochs([])
        self.status.setText("")
        self.progress_label.setText("")
        self.log_view.setVisible(False)
        if self.job is not None:
            self.refresh()
            if not (self._last_status and self._last_status.done):
                self.timer.start()
        try:
            self.evaluation.load_existing()
        except (OSError, ValueError) as exc:
            self.evaluation.status.setText(f"Cannot read earlier evaluations: {exc}")
        self._buttons()
        self.refresh_weights()

    # ----------------------------------------------------------------- weights
    def refresh_weights(self) -> None:
        """Check again (soon, once for several changes) what the training would start from."""
        self._weights_gen += 1  # an answer to an earlier choice is not shown
        self.weights_choice = None
        self._weights_timer.start()

    def _check_weights(self) -> None:
        """Ask a child what the weights choice resolves to and show its line under it."""
        from napari_dlcflow.core.engine.weights import weights_choice_in_child

        self._weights_gen += 1
        gen = self._weights_gen
        self.weights_choice = None
        note = self.form.weights_note
        asked = self.form.asked_weights()
        if asked == "previous":
            note.info("Starts from the previous iteration's snapshot: nothing to download.")
            return
        folder = self.train_folder()
        if folder is None:
            note.info(
                ""
                if self.state.project is None
                else "The weights are checked once this shuffle has a training dataset."
            )
            return
        if self.weights_jobs.busy:  # checked again when the running check ends
            self._weights_pending = True
            return
        note.info("Checking the weights…")
        self.weights_jobs.start(
            weights_choice_in_child,
            folder / "pytorch_config.yaml",
            asked,
            backbone=self.form.backbone.currentData(),
            offline=self.form.offline.isChecked(),
            on_result=lambda choice: self._weights_checked(gen, choice),
            on_error=lambda exc: self._weights_checked(gen, None, str(exc)),
            on_finished=self._weights_check_ended,
        )

    def _weights_checked(self, gen: int, choice: WeightsChoice | None, error: str = "") -> None:
        if gen != self._weights_gen:
            return  # the choice changed while this ran
        self.weights_choice = choice
        note = self.form.weights_note
        if choice is None:
            note.error(f"Cannot check the weights: {error}")
        elif choice.refused:
            note.error(choice.message)
        else:
            note.info(choice.message)

    def _weights_check_ended(self) -> None:
        if self._weights_pending:
            self._weights_pending = False
            self._check_weights()

    # ----------------------------------------------------------------- actions
    def create_dataset(self) -> None:
        """Create the shuffle's training dataset with DeepLabCut (child process), the same way
        the Dataset dock does (validated, seeded split)."""
        from napari_dlcflow.core.engine.dataset import DatasetSpec, create_datasets

        config, shuffle, _ = self._context()
        if config is None:
            return
        try:
            spec = DatasetSpec(first_shuffle=shuffle, net_type=self.form.net_type.currentText())
        except ValueError as exc:
            self.status.setText(f"Dataset failed: {exc}")
            return
        self.dataset_button.setEnabled(False)
        self.jobs.start(
            create_datasets,
            config,
            spec,
            message="Creating the training dataset (DeepLabCut loads first)…",
            error_prefix="Dataset failed",
            on_result=self._dataset_made,
            on_finished=self._buttons,
        )

    def _dataset_made(self, summary: Any) -> None:
        from napari_dlcflow.core.engine.dataset import last_dataset

        made = summary.shuffles[0]
        config = self._context()[0]
        try:
            record = last_dataset(config) if config is not None else None
        except (OSError, ValueError):
            record = None
        self.follow_last_dataset()
        if record is not None:
            self.state.dataset_made.emit(record)
        self.status.setText(
            f"Dataset of shuffle {made['shuffle']}: {made['n_train']} training and "
            f"{made['n_test']} test images."
        )

    def detect_devices(self) -> None:
        """Ask torch (in a child process) which GPUs there are."""
        from napari_dlcflow.core.engine.devices import list_devices

        self.devices_button.setEnabled(False)
        self.device_jobs.status = self.form.device_note
        self.device_jobs.start(
            list_devices,
            message="Asking torch for GPUs…",
            error_prefix="Could not list devices",
            on_result=self.form.set_devices,
            on_finished=lambda: self.devices_button.setEnabled(True),
        )

    def start(self) -> None:
        """Start a new training job with the form's settings.

        The weights choice is resolved first, in a child, with
        :func:`~napari_dlcflow.core.engine.weights.choose_weights` as the CLI's ``train``
        does: ``auto`` becomes pretrained or scratch, and ``pretrained`` with nothing cached
        offline is refused here, before any job starts."""
        from napari_dlcflow.core.engine.weights import weights_choice_in_child

        config, _, trainset_index = self._context()
        if config is None or self.jobs.busy:
            return
        model = self.model()
        asked = self.form.asked_weights()
        if asked == "previous":
            self._start_resolved(None, str(config), trainset_index, model)
            return
        folder = self.train_folder(model)
        if folder is None:
            self.status.error("Cannot start: this shuffle has no training dataset yet")
            return
        self.status.info("Checking the weights…")
        self.jobs.start(
            weights_choice_in_child,
            folder / "pytorch_config.yaml",
            asked,
            backbone=self.form.backbone.currentData(),
            offline=self.form.offline.isChecked(),
            error_prefix="Cannot start",
            on_result=lambda choice: self._start_resolved(
                choice, str(config), trainset_index, model
            ),
            on_finished=self._buttons,
        )
        self._buttons()

    def _start_resolved(
        self,
        choice: WeightsChoice | None,
        config: str,
        trainset_index: int,
        model: ModelRef | None,
    ) -> None:
        """Start the job with the resolved weights (``choice`` None: the previous snapshot)."""
        if choice is not None:
            self._weights_gen += 1  # this answer is the newest
            self._weights_checked(self._weights_gen, choice)
            if choice.refused:
                self.status.error(f"Cannot start: {choice.message}")
                return
        try:
            spec = self.form.spec(config, weights=choice.weights if choice else None)
            spec.trainset_index = trainset_index
            self.job = start_training(spec, model=model)
        except (OSError, RuntimeError, ValueError) as exc:
            self.status.error(f"Cannot start: {exc}")
            return
        said = f" Weights: {choice.message}." if choice is not None and choice.message else ""
        self._began(
            f"Started: {spec.epochs} epochs on {spec.device}. It keeps running if "
            f"napari closes; reopen the project to follow it.{said}"
        )

    def resume(self) -> None:
        """Continue from the latest complete snapshot up to the form's epoch count."""
        if self.job is None:
            return
        try:
            spec = resume_spec(self.job, epochs=self.form.epochs.value())
            self.job = start_training(spec)
        except (OSError, RuntimeError, ValueError) as exc:
            self.status.setText(f"Cannot resume: {exc}")
            return
        self._began(f"Resumed from {Path(spec.resume_from or '').name} up to epoch {spec.epochs}.")

    def _began(self, message: str) -> None:
        self._last_status = None
        self.status.setText(message)
        self.log_view.setVisible(False)
        self.timer.start()
        self._buttons()

    def detached_running(self) -> str | None:
        """The training job that runs in its own process, for the close question (or None)."""
        if self.job is None or (self._last_status is not None and self._last_status.done):
            return None
        return f"Training ({self.job.train_folder.name})"

    def stop_detached(self) -> None:
        """Closing napari with "stop all": the job stops after its current epoch."""
        self.cancel()

    def cancel(self) -> None:
        """Ask the job to stop after the current epoch (its snapshot is kept)."""
        if self.job is not None:
            self.job.cancel()
            self.status.setText("Cancel asked: the job stops after the current epoch.")

    # ----------------------------------------------------------------- polling
    def refresh(self) -> None:
        """Read the job's state and progress and show them (timer slot)."""
        if self.job is None:
            self.timer.stop()
            return
        try:
            st, prog = self.job.poll()
        except RuntimeError as exc:
            self.status.setText(str(exc))
            return
        if len(prog.epochs) != self.plot.n_points:
            self.plot.set_epochs(prog.epochs)
        self._show(st, prog)
        first = self._last_status is None or not self._last_status.done
        self._last_status = st
        if st.done:
            self.timer.stop()
            if first and st.state == "finished":
                self.evaluation.status.setText("Training finished: evaluate the snapshots.")
        self._buttons()

    def _show(self, st: JobStatus, prog: Progress) -> None:
        info = self.job.info() if self.job else {}
        elapsed = ""
        if prog.run_started and not st.done:
            elapsed = f"  elapsed {format_seconds(time.time() - prog.run_started)}"
        left = f"  left ~{format_seconds(prog.seconds_left())}" if not st.done else ""
        last = prog.epochs[-1] if prog.epochs else {}
        loss = f"  loss {last['train_loss']:.4f}" if last.get("train_loss") is not None else ""
        self.progress_label.setText(
            f"epoch {prog.epoch}/{prog.last_epoch or info.get('spec', {}).get('epochs', '?')}"
            f"{loss}{elapsed}{left}"
        )
        if st.state == "failed":
            text = f"Training FAILED: {st.reason}"
            if st.hint:
                text += f"\n{st.hint}"
            if st.kind == "weights_unavailable":
                text += "\nChoose 'from scratch' under Weights and start again."
                self.form.weights.setCurrentIndex(self.form.weights.findData("scratch"))
            self.status.setText(text)
            self.log_view.setPlainText("\n".join(st.log_tail))
            self.log_view.setVisible(True)
        elif st.state == "cancelled":
            self.status.setText(
                f"Cancelled after epoch {prog.epoch}; Resume continues from there."
            )
        elif st.state == "finished":
            self.status.setText(f"Finished {prog.epoch} epochs.")
        elif st.state in ("running", "starting") and not prog.epochs:
            self.status.setText("Running: DeepLabCut is loading…")
        elif self.job is not None and (self.job.train_folder / CANCEL_FILE).exists():
            self.status.setText("Cancel asked: the job stops after the current epoch.")
        elif st.state == "running":
            snap = next((e["snapshot"] for e in reversed(prog.epochs) if e.get("snapshot")), None)
            self.status.setText("Running." + (f" Last snapshot: {snap}" if snap else ""))
