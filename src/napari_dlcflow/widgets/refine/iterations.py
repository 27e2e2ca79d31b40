"""The Iterations section of the Project dock: refinement history and "Start next iteration".

Thin: the history, the machine labels that wait for review and the next iteration itself are
:mod:`napari_dlcflow.core.refine.iteration`; starting an iteration (merging, then DeepLabCut's
dataset
creation in a child process) runs in a napari thread worker on its own copy of the project, and
the open project is reloaded from ``config.yaml`` afterwards.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from qtpy.QtCore import Signal
from qtpy.QtWidgets import (
    QAbstractItemView,
    QGroupBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QProgressBar,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from napari_dlcflow.core.labels.collected import LabelsError
from napari_dlcflow.core.project.config import ConfigError, Project
from napari_dlcflow.core.refine.iteration import (
    HISTORY_COLUMNS,
    MachineLabelsPendingError,
    NextIteration,
    iteration_history,
    next_iteration,
    next_train_spec,
    pending_machine_labels,
)
from napari_dlcflow.widgets.common.dialogs import ask_yes_no
from napari_dlcflow.widgets.common.jobs import JobRunner

if TYPE_CHECKING:
    from napari_dlcflow.core.project.state import ProjectState

__all__ = [
    "IterationsSection",
    "Outcome",
    "ask_accept_pending",
    "ask_train_from",
    "pending_text",
    "row_details",
    "run_next_iteration",
]

SHUFFLE = 1
"""The shuffle a new iteration creates and trains (DeepLabCut's default)."""

_EXPECTED = (
    MachineLabelsPendingError,
    RuntimeError,
    ConfigError,
    LabelsError,
    OSError,
    ValueError,
)


def ask_accept_pending(parent: QWidget | None, text: str) -> bool:
    """Machine labels were not reviewed: accept them as they are (pcutoff rule)?"""
    return ask_yes_no(parent, "Machine labels not reviewed", text, default=False)


def ask_train_from(parent: QWidget | None, text: str) -> bool:
    """Start training the new iteration now, from the previous best snapshot?"""
    return ask_yes_no(parent, "Train the new iteration", text, default=True)


def pending_text(pending: dict[Path, int]) -> str:
    """One line naming what waits for review (``pending_machine_labels``'s answer)."""
    if not pending:
        return "Nothing waits for review."
    n_frames = sum(pending.values())
    names = ", ".join(f.name for f in pending)
    if len(pending) == 1:
        where, them = f"1 folder ({names}) has", "it"
    else:
        where, them = f"{len(pending)} folders ({names}) have", "them"
    frames = "frame" if n_frames == 1 else "frames"
    return (
        f"{where} {n_frames} machine-labeled {frames} not reviewed: "
        f"open {them} in the Labeling dock."
    )


SHOWN_COLUMNS = ("Iteration", "Labeled frames", "Test error (px)", "Train error (px)")
"""The columns the table shows (compared down the iterations); the others of
:data:`HISTORY_COLUMNS` are in the row's tooltip and, for the current iteration, the line below
the table, so that the table fits a 360-px dock."""


def row_details(cells: list[str]) -> str:
    """The cells of one history row that the table does not show, as one sentence."""
    named = dict(zip(HISTORY_COLUMNS, cells, strict=True))
    return (
        f"Iteration {named['Iteration']}: {named['Snapshots']} snapshot(s), best "
        f"{named['Best snapshot']}; {named['Machine-labeled frames']} machine-labeled frame(s)."
    )


def _header(name: str) -> str:
    """A column name on two lines (split at its last space), so the table fits the dock."""
    head, _, tail = name.rpartition(" ")
    return f"{head}\n{tail}" if head else name


@dataclass
class Outcome:
    """What the worker job did: the project at the new iteration and the result, or why not.

    An exception is handed back inside this (never returned bare: a thread worker treats a
    returned exception as its own failure).

    Attributes
    ----------
    project : Project or None
        The project copy the worker moved to the new iteration.
    result : NextIteration or None
        :func:`~napari_dlcflow.core.refine.iteration.next_iteration`'s report.
    error : BaseException or None
        Why it stopped (then ``project`` and ``result`` are None).
    """

    project: Project | None = None
    result: NextIteration | None = None
    error: BaseException | None = None


def run_next_iteration(config: str | Path, accept_pending: bool) -> Outcome:
    """Worker job: start the next iteration on a fresh copy of the project.

    The expected failures (pending machine labels, DeepLabCut's failure, a bad file) come back
    in :attr:`Outcome.error` instead of being raised, so that they never reach Qt.
    """
    try:
        project = Project.open(config)
        result = next_iteration(
            project, accept_pending=accept_pending, create=True, shuffle=SHUFFLE
        )
    except _EXPECTED as exc:
        return Outcome(error=exc)
    return Outcome(project, result)


class IterationsSection(QGroupBox):
    """The project's refinement iterations and the action that starts the next one.

    Parameters
    ----------
    state : ProjectState
        The viewer's project state (read, reloaded after an iteration, signals emitted).
    error, info : callable
        Show a message (in red / plainly) in the dock's status line.
    parent : QWidget, optional
    """

    busy = Signal(bool)
    """True while an iteration is being started (the config must not be edited meanwhile)."""

    def __init__(
        self,
        state: ProjectState,
        error: Callable[[str], None],
        info: Callable[[str], None],
        parent: QWidget | None = None,
    ) -> None:
        super().__init__("Iterations", parent)
        self.state = state
        self._error = error
        self._info = info
        self.jobs = JobRunner()  # its button and busy bar are set by _set_busy
        lay = QVBoxLayout(self)
        self.table = QTableWidget(0, len(HISTORY_COLUMNS))
        self.table.setHorizontalHeaderLabels([_header(c) for c in HISTORY_COLUMNS])
        for i, name in enumerate(HISTORY_COLUMNS):
            self.table.horizontalHeaderItem(i).setToolTip(name)
            self.table.setColumnHidden(i, name not in SHOWN_COLUMNS)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.NoSelection)
        self.table.verticalHeader().setVisible(False)
        self.table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        self.table.setHorizontalScrollMode(QAbstractItemView.ScrollMode.ScrollPerPixel)
        self.table.setToolTip(
            "One row per refinement round: the images of its training dataset, its snapshots, "
            "the best one and DeepLabCut's evaluation of it, and the outlier frames extracted "
            "for refinement (machine labels). Bold: the current iteration. Hover over a row "
            "for its snapshots and machine labels."
        )
        lay.addWidget(self.table)
        self.details_label = QLabel("")
        self.details_label.setWordWrap(True)
        lay.addWidget(self.details_label)
        self.pending_label = QLabel("")
        self.pending_label.setWordWrap(True)
        lay.addWidget(self.pending_label)
        row = QHBoxLayout()
        self.next_button = QPushButton("Start next iteration…")
        self.next_button.setToolTip(
            "Accept reviewed machine labels into CollectedData, move config.yaml to the next "
            "iteration and create its training dataset (DeepLabCut, 20-60 s); then offer to "
            "train it from the previous best snapshot"
        )
        self.next_button.clicked.connect(self.start_next)
        self.refresh_button = QPushButton("Refresh")
        self.refresh_button.clicked.connect(self.refresh)
        row.addWidget(self.next_button)
        row.addWidget(self.refresh_button)
        lay.addLayout(row)
        self.progress = QProgressBar()
        self.progress.setRange(0, 0)  # busy indicator
        self.progress.setTextVisible(False)
        self.progress.setVisible(False)
        lay.addWidget(self.progress)

        state.opened.connect(lambda _p: self.refresh())
        state.saved.connect(lambda _p: self.refresh())
        state.iteration_changed.connect(lambda _i: self.refresh())
        state.frames_added.connect(lambda _f: self.refresh())
        self.refresh()

    # ------------------------------------------------------------------ showing
    def refresh(self) -> None:
        """Read the history and what waits for review from disk again."""
        project = self.state.project
        self.setVisible(project is not None)
        self.next_button.setEnabled(project is not None and not self.jobs.busy)
        if project is None:
            self.table.setRowCount(0)
            self.pending_label.setText("")
            self.details_label.setText("")
            return
        try:
            history = iteration_history(project)
            pending = pending_machine_labels(project)
        except (LabelsError, OSError, ValueError) as exc:
            self.pending_label.setText(f"Cannot read the iterations: {exc}")
            return
        self.table.setRowCount(len(history))
        self.details_label.setText("")
        for r, it in enumerate(history):
            cells = it.row()
            details = row_details(cells)
            if it.current:
                self.details_label.setText(details)
            for c, text in enumerate(cells):
                item = QTableWidgetItem(text)
                item.setToolTip(details)
                if it.current:
                    font = item.font()
                    font.setBold(True)
                    item.setFont(font)
                self.table.setItem(r, c, item)
        self._fit_height()
        self.pending_label.setText(pending_text(pending))

    def _fit_height(self, max_rows: int = 6) -> None:
        """As tall as its rows (up to ``max_rows``; more scroll), with room for the scroll bar."""
        t = self.table
        t.resizeRowsToContents()
        rows = sum(t.rowHeight(r) for r in range(min(t.rowCount(), max_rows)))
        rows = max(rows, t.verticalHeader().defaultSectionSize())
        t.setFixedHeight(
            t.horizontalHeader().sizeHint().height()
            + rows
            + t.horizontalScrollBar().sizeHint().height()
            + 2 * t.frameWidth()
        )

    # ------------------------------------------------------------------ next iteration
    def start_next(self) -> Any:
        """Start the next iteration (asks first when machine labels wait); returns the worker.

        Returns None when nothing was started; the reason is in the dock's status line.
        """
        project = self.state.project
        if project is None:
            self._error("Open a project first")
            return None
        if self.jobs.busy:
            return None
        if project.dirty:
            self._error(
                "Save config.yaml first: the next iteration is written into the saved file"
            )
            return None
        if project.changed_on_disk():
            self._error(f"{project.config_path} was changed by another program: Reload it first")
            return None
        try:
            pending = pending_machine_labels(project)
        except (LabelsError, OSError, ValueError) as exc:
            self._error(f"Cannot read the machine labels: {exc}")
            return None
        accept = False
        if pending:
            text = (
                f"{pending_text(pending)}\n\n"
                "Accept them as they are? Every prediction with a likelihood at or above the "
                f"p-cutoff ({project.pcutoff:g}) becomes a label of an image that has none; "
                "images that already have labels are not touched.\n\n"
                "No: review (correct) them in the Labeling dock and save first."
            )
            if not ask_accept_pending(self, text):
                self._info(
                    "Next iteration not started: review the machine labels in the Labeling "
                    "dock (open the folder, correct, save), then start it again."
                )
                return None
            accept = True
        config = project.config_path
        self._set_busy(True)
        self._info(
            f"Starting iteration {project.iteration + 1}: merging labels, then DeepLabCut "
            "creates the training dataset (20-60 s)…"
        )
        return self.jobs.start(
            run_next_iteration,
            config,
            accept,
            on_result=lambda out: self._done(config, out),
            on_error=lambda exc: self._error(f"Next iteration failed: {exc}"),
            on_finished=self._finished,
        )

    @property
    def worker(self) -> Any:
        """The running next-iteration job, if any."""
        return self.jobs.worker

    def _set_busy(self, busy: bool) -> None:
        self.progress.setVisible(busy)
        self.next_button.setEnabled(not busy and self.state.project is not None)
        self.next_button.setText("Starting next iteration…" if busy else "Start next iteration…")
        self.busy.emit(busy)

    def _finished(self) -> None:
        self._set_busy(False)
        self.refresh()

    def _done(self, config: Path, out: Outcome) -> None:
        if out.error is not None or out.project is None or out.result is None:
            self._failed(config, out.error or RuntimeError("no result"))
            return
        project, result = out.project, out.result
        message = result.format()
        if result.init_snapshot is not None:
            message += "\n" + self._offer_training(project, result)
        # reload after the training job exists, so that the Training dock finds it
        problem = self._reload(config)
        if problem:
            self._error(f"{message}\n{problem}")
        else:
            self._info(message)
        self.state.iteration_changed.emit(result.iteration)

    def _offer_training(self, project: Project, result: NextIteration) -> str:
        snap = result.init_snapshot
        assert snap is not None
        text = (
            f"Iteration {result.iteration} is ready. Start training it now from "
            f"{snap.name} (iteration {result.previous}'s best snapshot), with the previous "
            "training settings?\n\nNo: start it later in the Training dock."
        )
        if not ask_train_from(self, text):
            return "Not training yet: start it in the Training dock."
        from napari_dlcflow.core.engine import training

        try:
            spec = next_train_spec(project, snap, shuffle=SHUFFLE)
            job = training.start_training(spec)
        except (RuntimeError, FileNotFoundError, ValueError, OSError) as exc:
            return f"Cannot start training: {exc}"
        return (
            f"Training iteration {result.iteration} from {snap.name} in the background "
            f"(device: {spec.device}) in {job.train_folder}; the Training dock follows it."
        )

    def _failed(self, config: Path, exc: BaseException) -> None:
        message = f"Next iteration stopped: {exc}"
        try:
            on_disk = Project.open(config).iteration
        except (ConfigError, OSError):
            on_disk = None
        current = self.state.project
        if on_disk is not None and current is not None and on_disk != current.iteration:
            # DeepLabCut failed after config.yaml moved on: show the project as it is now
            message += (
                f"\nconfig.yaml is at iteration {on_disk} now: create its training dataset in "
                "the Training dock."
            )
            problem = self._reload(config)
            self._error(f"{message}\n{problem}" if problem else message)
            self.state.iteration_changed.emit(on_disk)
            return
        self._error(message)

    def _reload(self, config: Path) -> str | None:
        """Open ``config`` again in the state; the reason if that failed."""
        current = self.state.project
        if current is not None and current.config_path != config:
            return None  # another project was opened meanwhile: leave it open
        try:
            self.state.open(config)
        except (ConfigError, OSError) as exc:
            return f"Cannot reload {config}: {exc}"
        return None
