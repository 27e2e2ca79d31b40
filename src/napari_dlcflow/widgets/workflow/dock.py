"""The workflow dock: the whole loop in one dock, each step with its live status.

A column of step buttons ("Labeling: 86 of 90 frames, 17 body parts"), the next step marked
with one sentence why, and below them the selected step's own dock. Step docks are made only
when their step is first opened, so nothing is added to the layer list until the user asks.
The status is read from disk by :func:`napari_dlcflow.core.workflow.status.workflow_status` in
a thread, on every project signal, when layers are added, and every few seconds while a
training job runs.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from qtpy.QtCore import QTimer
from qtpy.QtWidgets import (
    QHBoxLayout,
    QLabel,
    QPushButton,
    QSizePolicy,
    QStackedWidget,
    QVBoxLayout,
    QWidget,
)

from napari_dlcflow.core.workflow.status import STEPS, WorkflowStatus
from napari_dlcflow.napari_common import state_for_viewer
from napari_dlcflow.widgets.common.jobs import JobRunner, StatusLine
from napari_dlcflow.widgets.common.shortcuts import MARK_FRAME_KEY

if TYPE_CHECKING:
    import napari

#: Marks before a step's header, by state.
MARKS = {"done": "✓", "partial": "◐", "running": "▶", "todo": "○", "problem": "!"}
#: Milliseconds between refreshes while a job runs.
RUNNING_REFRESH_MS = 3000


def _project_page(viewer: napari.Viewer) -> QWidget:
    from napari_dlcflow.widgets.project.dock import ProjectDock

    return ProjectDock(viewer)


def _videos_page(viewer: napari.Viewer) -> QWidget:
    from napari_dlcflow.widgets.preprocess.dock import PreprocessDock

    return PreprocessDock(viewer)


def _labeling_page(viewer: napari.Viewer) -> QWidget:
    from napari_dlcflow.widgets.labeling.dock import LabelingDock

    return LabelingDock(viewer)


def _dataset_page(viewer: napari.Viewer) -> QWidget:
    from napari_dlcflow.widgets.dataset.dock import DatasetDock

    return DatasetDock(viewer)


def _training_page(viewer: napari.Viewer) -> QWidget:
    from napari_dlcflow.widgets.training.dock import TrainingDock

    return TrainingDock(viewer)


def _analysis_page(viewer: napari.Viewer) -> QWidget:
    from napari_dlcflow.widgets.overlay.dock import OverlayDock

    return OverlayDock(viewer)


def _plots_page(viewer: napari.Viewer) -> QWidget:
    from napari_dlcflow.widgets.plots.dock import PlotsDock

    return PlotsDock(viewer)


def _proofread_page(viewer: napari.Viewer) -> QWidget:
    from napari_dlcflow.widgets.proofread.dock import ProofreadDock

    return ProofreadDock(viewer)


def _refine_page(viewer: napari.Viewer) -> QWidget:
    from napari_dlcflow.widgets.refine.iterations import IterationsSection

    page = QWidget()
    lay = QVBoxLayout(page)
    note = QLabel(
        "Refinement: in <b>Analysis and overlay</b>, find outlier frames (or mark frames with "
        f"{MARK_FRAME_KEY} while the overlay plays) and extract them; correct the model's "
        "labels in <b>Labeling</b>; then start the next iteration here."
    )
    note.setWordWrap(True)
    lay.addWidget(note)
    status = QLabel("")
    status.setWordWrap(True)
    section = IterationsSection(
        state_for_viewer(viewer),
        lambda msg: status.setText(f"<span style='color:#e05050'>{msg}</span>"),
        status.setText,
    )
    lay.addWidget(section)
    lay.addWidget(status)
    lay.addStretch(1)
    page.iterations = section  # type: ignore[attr-defined]
    return page


#: How each step's page is made (lazily, on first use).
PAGES: dict[str, Callable[[napari.Viewer], QWidget]] = {
    "project": _project_page,
    "videos": _videos_page,
    "labeling": _labeling_page,
    "dataset": _dataset_page,
    "training": _training_page,
    "analysis": _analysis_page,
    "plots": _plots_page,
    "proofread": _proofread_page,
    "refine": _refine_page,
}


class WorkflowDock(QWidget):
    """The loop as one dock: step headers with live status, the next step, the step's dock.

    Parameters
    ----------
    napari_viewer : napari.Viewer
        The viewer whose project state this dock follows.
    """

    def __init__(self, napari_viewer: napari.Viewer) -> None:
        super().__init__()
        self.viewer = napari_viewer
        self.state = state_for_viewer(napari_viewer)
        self.status: WorkflowStatus | None = None
        self.pages: dict[str, QWidget] = {}
        self.current: str | None = None
        self._again = False

        lay = QVBoxLayout(self)
        lay.setContentsMargins(4, 4, 4, 4)
        next_row = QHBoxLayout()
        self.next_label = StatusLine("")
        self.next_button = QPushButton("Go")
        self.next_button.setToolTip("Open the step that should come next")
        self.next_button.clicked.connect(self.go_next)
        next_row.addWidget(self.next_label, 1)
        next_row.addWidget(self.next_button)
        lay.addLayout(next_row)

        self.buttons: dict[str, QPushButton] = {}
        for key, title in STEPS:
            b = QPushButton(title)
            b.setCheckable(True)
            b.setFlat(True)
            b.setStyleSheet("text-align: left; padding: 2px 6px;")
            # a long header must not widen the dock: the whole header is in the tooltip
            b.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Fixed)
            b.clicked.connect(lambda _=False, k=key: self.show_step(k))
            self.buttons[key] = b
            lay.addWidget(b)

        self.stack = QStackedWidget()
        # the step's page takes the dock's height; without an expanding child napari adds a
        # stretch below the dock's widgets, which squeezed the page into its size hint
        self.stack.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Expanding)
        self.placeholder = QLabel("Choose a step above.")
        self.stack.addWidget(self.placeholder)
        lay.addWidget(self.stack, 1)

        self.runner = JobRunner(status=self.next_label)
        self.timer = QTimer(self)
        self.timer.setInterval(RUNNING_REFRESH_MS)
        self.timer.timeout.connect(self.refresh)

        for sig in (
            self.state.opened,
            self.state.saved,
            self.state.frames_added,
            self.state.iteration_changed,
        ):
            sig.connect(self._on_project_signal)
        self.viewer.layers.events.inserted.connect(self._on_layer_added)
        self._apply(None)
        self.refresh()

    # ------------------------------------------------------------------ steps
    def show_step(self, key: str) -> QWidget:
        """Open step ``key``: make its page on first use and show it below the headers."""
        page = self.pages.get(key)
        if page is None:
            page = PAGES[key](self.viewer)
            self.pages[key] = page
            self.stack.addWidget(page)
        self.stack.setCurrentWidget(page)
        self.current = key
        for k, b in self.buttons.items():
            b.setChecked(k == key)
        return page

    def go_next(self) -> None:
        """Open the step the status names as next."""
        if self.status is not None:
            self.show_step(self.status.next_step)

    # ---------------------------------------------------------------- refresh
    def refresh(self) -> None:
        """Read the project's status from disk in a thread, then update the headers."""
        if self.runner.busy:
            self._again = True
            return
        from napari_dlcflow.core.workflow.status import workflow_status

        self.runner.start(
            workflow_status,
            self.state.project,
            error_prefix="Could not read the project",
            on_result=self._apply,
            on_finished=self._on_finished,
        )

    def _on_finished(self) -> None:
        if self._again:
            self._again = False
            self.refresh()

    def _apply(self, status: WorkflowStatus | None) -> None:
        if status is None:
            from napari_dlcflow.core.workflow.status import workflow_status

            status = workflow_status(None)
        self.status = status
        for step in status.steps:
            b = self.buttons[step.key]
            mark = "→" if step.key == status.next_step else MARKS.get(step.state, "○")
            b.setText(f"{mark}  {step.header}")
            font = b.font()
            font.setBold(step.key == status.next_step)
            b.setFont(font)
            b.setToolTip(f"{step.header} ({step.state})")
        title = dict(STEPS)[status.next_step]
        self.next_label.setText(f"<b>Next: {title}.</b> {status.reason}")
        running = any(s.state == "running" for s in status.steps)
        if running and not self.timer.isActive():
            self.timer.start()
        elif not running and self.timer.isActive():
            self.timer.stop()

    # ---------------------------------------------------------------- signals
    def _on_project_signal(self, *_: Any) -> None:
        if self.state.project is not None and self.current is None:
            self.show_step("project")
        self.refresh()

    def _on_layer_added(self, event: Any) -> None:
        layer = event.value
        meta = getattr(layer, "metadata", {}) or {}
        if "dlcflow_predictions" in meta or meta.get("dlcflow_kind"):
            self.show_step("analysis")
        elif "dlcflow_video" in meta and self.current not in ("labeling", "analysis"):
            self.show_step("videos")
        self.refresh()

    def closeEvent(self, event: Any) -> None:
        self.timer.stop()
        super().closeEvent(event)
