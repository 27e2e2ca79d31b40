"""The Labeling dock's "Model predictions" section: show a model's predictions (machine labels)
on the frames without labels, review them, and fill new frames with the model's guesses."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from qtpy.QtWidgets import QGroupBox, QLabel, QPushButton, QVBoxLayout

from napari_dlcflow.core.labels.collected import LabelsError
from napari_dlcflow.core.labels.machine import machine_labels_files, read_machine_labels
from napari_dlcflow.widgets.common.dock import button_grid
from napari_dlcflow.widgets.common.jobs import JobRunner, RunCancelRow

if TYPE_CHECKING:
    from napari_dlcflow.widgets.common.labeling_host import LabelingHost

LEGEND = (
    "Predictions: half-transparent, gold border, name ends with '?'; red border and '?!' below "
    "the p-cutoff. Move a point or press A to accept its frame; delete wrong ones. Only "
    "accepted points are saved."
)


class RefineSection(QGroupBox):
    """Review machine labels in the Labeling dock.

    Parameters
    ----------
    dock : LabelingHost
        The dock it belongs to.
    """

    def __init__(self, dock: LabelingHost) -> None:
        super().__init__("Model predictions")
        self.dock = dock
        lay = QVBoxLayout(self)
        self.status = QLabel("No predictions shown.")
        self.status.setWordWrap(True)
        lay.addWidget(self.status)
        legend = QLabel(LEGEND)
        legend.setWordWrap(True)
        legend.setStyleSheet("color: #a0a0a0;")
        lay.addWidget(legend)
        self.accept_frame_button = QPushButton("Accept frame (A)")
        self.accept_frame_button.clicked.connect(dock.accept_frame)
        self.accept_all_button = QPushButton("Accept all")
        self.accept_all_button.setToolTip("Accept every prediction shown as a label")
        self.accept_all_button.clicked.connect(dock.accept_all)
        self.next_button = QPushButton("Next to review (P)")
        self.next_button.clicked.connect(dock.next_prediction)
        lay.addLayout(
            button_grid([self.accept_frame_button, self.next_button, self.accept_all_button])
        )
        row = RunCancelRow("Predict unlabeled frames", cancel=False)
        self.predict_button = row.run_button
        self.predict_button.setToolTip(
            "Fill frames without labels with the current model's predictions: from the video's "
            "analysis file when it has those frames, else by running the model on the images"
        )
        self.predict_button.clicked.connect(self.predict)
        lay.addWidget(row)
        self.jobs = JobRunner(status=dock, row=row)

    # ------------------------------------------------------------------ loading
    def load(self) -> str:
        """Show the folder's newest machine labels in the open model; returns a note."""
        model = self.dock.model
        if model is None:
            return ""
        files = machine_labels_files(model.folder)
        if not files:
            self.refresh()
            return ""
        try:
            machine = read_machine_labels(model.folder)
        except (LabelsError, OSError) as exc:
            self.status.setText(f"Machine labels not shown: {exc}")
            return f"Machine labels not shown: {exc}."
        placed = model.load_machine(machine) if machine is not None else 0
        self.refresh()
        if not placed:
            return ""
        return (
            f"{placed} prediction(s) from {files[max(files)].name} to review in "
            f"{len(model.predicted_frames())} frame(s)."
        )

    def refresh(self) -> None:
        """Update the counts."""
        model = self.dock.model
        if model is None or not model.n_predicted:
            self.status.setText(
                "No predictions to review."
                if model is not None
                else "Open a labeled-data folder to review predictions."
            )
            return
        frames = model.predicted_frames()
        self.status.setText(
            f"{model.n_predicted} prediction(s) to review in {len(frames)} frame(s)."
        )

    # ------------------------------------------------------------------ model-assisted
    def predict(self) -> Any:
        """Write machine labels for the frames without labels, then show them."""
        dock = self.dock
        model = dock.model
        project = dock.project
        if model is None or project is None:
            dock.error("Open a labeled-data folder of a project first.")
            return None
        if model.dirty and not dock.save():
            return None
        from napari_dlcflow.core.refine.assist import predict_folder

        self.status.setText("Predicting (running the model can take a minute)…")
        return self.jobs.start(
            predict_folder, project, model.folder, on_result=self._predicted, on_error=self._failed
        )

    def _predicted(self, result: Any) -> None:
        dock = self.dock
        if dock.model is None:
            return
        note = self.load()
        dock.redraw()
        dock.info(f"{result.format()} {note}".strip())

    def _failed(self, exc: BaseException) -> None:
        self.dock.error(f"Prediction failed: {exc}")
        self.refresh()
