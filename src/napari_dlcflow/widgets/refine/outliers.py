"""The "Outlier frames" part of the Overlay dock: find and extract the frames where the model is
likely wrong, from the analysis open in the dock.

The criteria are :mod:`napari_dlcflow.core.refine.outliers` (DeepLabCut's
``extract_outlier_frames``).
While watching the overlay, **M** marks the current frame (again: unmarks it); marked frames
join the checked criteria as ``manual``. *Find* only lists the candidates and steps the viewer
through them; *Extract outlier frames* writes the chosen frames to ``labeled-data/<video>`` with
the model's predictions as ``machinelabels-iter<N>.h5``, in a worker thread with progress and
cancel.
"""

from __future__ import annotations

import weakref
from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any

from qtpy.QtCore import QTimer
from qtpy.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDoubleSpinBox,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QProgressBar,
    QPushButton,
    QSpinBox,
)

from napari_dlcflow.core.predictions.analysis_files import video_stem
from napari_dlcflow.core.project.config import project_of
from napari_dlcflow.core.refine.outliers import OutlierSpec
from napari_dlcflow.napari_common import state_for_viewer
from napari_dlcflow.widgets.common.dock import button_grid, narrow_combo, wrap_rows
from napari_dlcflow.widgets.common.jobs import JobRunner, StatusLine
from napari_dlcflow.widgets.common.shortcuts import MARK_FRAME_KEY

if TYPE_CHECKING:
    import napari

    from napari_dlcflow.core.project.config import Project

#: The key that marks (or unmarks) the current frame while the dock exists (see
#: widgets/common/shortcuts.py: ``M`` is the Labeling dock's).
MARK_KEY = MARK_FRAME_KEY
#: Zero-width space: a line-break opportunity in long file names.
ZWSP = "\u200b"
#: How many marked frame numbers the label lists before "…".
SHOWN_MARKS = 12

_TIPS = {
    "jump": "Flag a frame when a keypoint moves more than epsilon pixels from the previous frame.",
    "uncertain": "Flag a frame when a keypoint's likelihood is below p_bound.",
    "fitting": (
        "Flag a frame when the keypoints deviate on average more than epsilon pixels from a "
        "fitted trajectory (points below p_bound count as missing for the fit)."
    ),
    "manual": f"Add the frames marked with {MARK_FRAME_KEY} (or the Mark button) as candidates.",
    "epsilon": "Pixels: the jump size (jump) or the mean deviation from the fit (fitting).",
    "p_bound": "Likelihood below which a point is uncertain, and missing for the fit.",
    "fit": (
        "The fitted trajectory of 'fitting': a running median (seconds) or DeepLabCut's "
        "ARIMA model (SARIMAX; slow on long videos)."
    ),
    "window": "Frames of the running median (fit = median; odd).",
    "n": "How many frames to extract at most (marked frames alone: all of them).",
    "selection": (
        "How to choose among the candidates: uniformly over time, or one frame per k-means "
        "cluster of look-alike frames (DeepLabCut's default)."
    ),
    "crop": "Crop the written frames to the video's crop in video_sets, as the labeled ones.",
}


def _find_job(analysis: Path, spec: OutlierSpec) -> dict[int, list[str]]:
    from napari_dlcflow.core.predictions.analysis_files import read_predictions
    from napari_dlcflow.core.refine.outliers import find_outliers

    return find_outliers(read_predictions(analysis), spec)


def _breakable(text: str) -> str:
    """Let long DLC file names wrap after their underscores (as the dock's file label)."""
    return text.replace("_", "_" + ZWSP)


def _mark_key_handler(panel: OutliersPanel) -> Callable[[Any], None]:
    """The viewer key callback; holds the panel weakly, unbinds itself once it is gone."""
    ref = weakref.ref(panel)

    def mark_outlier_frame(viewer: Any) -> None:
        target = ref()
        try:
            if target is None:
                raise RuntimeError("panel gone")
            target.toggle_mark()
        except RuntimeError:  # the panel (or its C++ side) was deleted
            _unbind_mark_key(weakref.ref(viewer), mark_outlier_frame)

    return mark_outlier_frame


def _unbind_mark_key(viewer_ref: weakref.ref, handler: Callable[..., Any], *_: Any) -> None:
    """Unbind :data:`MARK_KEY` from the viewer if ``handler`` is still what it calls."""
    from napari.utils.key_bindings import coerce_keybinding

    viewer = viewer_ref()
    if viewer is None:
        return
    if viewer.keymap.get(coerce_keybinding(MARK_KEY)) is handler:
        viewer.bind_key(MARK_KEY, None)


def _disconnect(
    viewer_ref: weakref.ref, handler: Callable[..., Any], panel_ref: weakref.ref, *_: Any
) -> None:
    """The panel's Qt side is gone: give the key back and stop following viewer and project
    (a Python wrapper that outlives it must not be called)."""
    _unbind_mark_key(viewer_ref, handler)
    viewer, panel = viewer_ref(), panel_ref()
    if viewer is None or panel is None:
        return  # garbage collected: the weakly held callbacks are gone with it
    viewer.dims.events.current_step.disconnect(panel._frame_changed)
    panel.state.opened.disconnect(panel._project_opened)


class OutliersPanel(QGroupBox):
    """Criteria, manual marks, *Find* with stepping, and *Extract outlier frames*.

    Parameters
    ----------
    viewer : napari.Viewer
        Gives the current frame, the open project, and the M key.
    analysis : callable
        Returns the analysis file open in the dock (None if none is).
    video : callable
        Returns the analysed video file (None if unknown).
    """

    def __init__(
        self,
        viewer: napari.Viewer,
        analysis: Callable[[], Path | None],
        video: Callable[[], Path | None],
    ) -> None:
        super().__init__("Outlier frames")
        self.viewer = viewer
        self.state = state_for_viewer(viewer)
        self._analysis = analysis
        self._video = video
        self._progress: tuple[int, int] = (0, 0)
        # buttons are handled by _busy (two jobs: find, and extract which can be cancelled)
        self.jobs = JobRunner()
        self._marks_video: str | None = None
        self.marks: set[int] = set()
        self.candidates: list[tuple[int, list[str]]] = []
        self.candidate_index = -1
        self.result: Any = None

        form = wrap_rows(QFormLayout(self))
        self.criteria: dict[str, QCheckBox] = {}
        for name in ("jump", "uncertain", "fitting", "manual"):
            box = QCheckBox(f"marked ({MARK_KEY})" if name == "manual" else name)
            box.setToolTip(_TIPS[name])
            self.criteria[name] = box
        crit = button_grid(list(self.criteria.values()))
        self.criteria["jump"].setChecked(True)
        self.criteria["manual"].setChecked(True)
        form.addRow("Criteria", crit)

        self.epsilon = QDoubleSpinBox()
        self.epsilon.setRange(0.1, 100000.0)
        self.epsilon.setDecimals(1)
        self.epsilon.setValue(20.0)
        self.epsilon.setSuffix(" px")
        self.epsilon.setToolTip(_TIPS["epsilon"])
        form.addRow("Epsilon", self.epsilon)
        self.p_bound = QDoubleSpinBox()
        self.p_bound.setRange(0.0, 1.0)
        self.p_bound.setDecimals(3)
        self.p_bound.setSingleStep(0.01)
        self.p_bound.setValue(0.01)
        self.p_bound.setToolTip(_TIPS["p_bound"])
        form.addRow("p_bound", self.p_bound)
        fit_row = QHBoxLayout()
        self.fit = narrow_combo(QComboBox())
        self.fit.addItems(["median", "arima"])
        self.fit.setToolTip(_TIPS["fit"])
        self.fit.currentTextChanged.connect(self._criteria_changed)
        self.fit_window = QSpinBox()
        self.fit_window.setRange(3, 1001)
        self.fit_window.setSingleStep(2)
        self.fit_window.setValue(9)
        self.fit_window.setSuffix(" frames")
        self.fit_window.setToolTip(_TIPS["window"])
        fit_row.addWidget(self.fit)
        fit_row.addWidget(self.fit_window)
        form.addRow("Fit", fit_row)
        pick = QHBoxLayout()
        self.n_frames = QSpinBox()
        self.n_frames.setRange(1, 100000)
        self.n_frames.setValue(20)
        self.n_frames.setToolTip(_TIPS["n"])
        self.selection = narrow_combo(QComboBox())
        self.selection.addItems(["kmeans", "uniform"])
        self.selection.setToolTip(_TIPS["selection"])
        pick.addWidget(self.n_frames)
        pick.addWidget(self.selection)
        form.addRow("Frames", pick)
        self.use_crop = QCheckBox("Crop like video_sets")
        self.use_crop.setToolTip(_TIPS["crop"])
        form.addRow(self.use_crop)

        marks = QHBoxLayout()
        self.mark_button = QPushButton(f"Mark frame ({MARK_KEY})")
        self.mark_button.setToolTip(
            f"Mark the current frame as an outlier (press {MARK_KEY} while watching); "
            "again: unmark it"
        )
        self.mark_button.clicked.connect(lambda: self.toggle_mark())
        self.clear_marks_button = QPushButton("Clear marks")
        self.clear_marks_button.clicked.connect(self.clear_marks)
        marks.addWidget(self.mark_button)
        marks.addWidget(self.clear_marks_button)
        form.addRow(marks)
        self.marks_label = QLabel("")
        self.marks_label.setWordWrap(True)
        form.addRow(self.marks_label)

        find = QHBoxLayout()
        self.find_button = QPushButton("Find")
        self.find_button.setToolTip("List the candidate frames without extracting anything")
        self.find_button.clicked.connect(self.find)
        self.previous_button = QPushButton("◀")
        self.previous_button.setToolTip("Previous candidate frame")
        self.previous_button.clicked.connect(lambda: self.step_candidate(-1))
        self.next_button = QPushButton("▶")
        self.next_button.setToolTip("Next candidate frame")
        self.next_button.clicked.connect(lambda: self.step_candidate(1))
        find.addWidget(self.find_button)
        find.addWidget(self.previous_button)
        find.addWidget(self.next_button)
        form.addRow(find)
        self.candidates_label = QLabel("")
        self.candidates_label.setWordWrap(True)
        form.addRow(self.candidates_label)

        run = QHBoxLayout()
        self.extract_button = QPushButton("Extract outlier frames")
        self.extract_button.clicked.connect(self.extract)
        self.cancel_button = QPushButton("Cancel")
        self.cancel_button.setEnabled(False)
        self.cancel_button.clicked.connect(self.cancel)
        run.addWidget(self.extract_button)
        run.addWidget(self.cancel_button)
        form.addRow(run)
        self.progress = QProgressBar()
        self.progress.setFormat("frame %v of %m")
        self.progress.setVisible(False)
        form.addRow(self.progress)
        self.status = StatusLine("")
        form.addRow(self.status)

        self._poll = QTimer(self)
        self._poll.setInterval(100)
        self._poll.timeout.connect(self._show_progress)

        for box in self.criteria.values():
            box.toggled.connect(self._criteria_changed)
        self._mark_handler = _mark_key_handler(self)
        viewer.bind_key(MARK_KEY, self._mark_handler, overwrite=True)
        self.destroyed.connect(
            partial(_disconnect, weakref.ref(viewer), self._mark_handler, weakref.ref(self))
        )
        viewer.dims.events.current_step.connect(self._frame_changed)
        self.state.opened.connect(self._project_opened)
        self._project_opened(self.state.project)
        self._criteria_changed()
        self._show_marks()
        self._show_candidates()

    # ------------------------------------------------------------------------ messages

    def _error(self, message: str) -> None:
        self.status.error(_breakable(message))

    def _info(self, message: str) -> None:
        self.status.info(_breakable(message))

    def status_text(self) -> str:
        """The status line as plain text (without the break hints in long file names)."""
        return self.status.text().replace(ZWSP, "")

    # ------------------------------------------------------------------------- form

    def _project_opened(self, project: Project | None) -> None:
        if project is not None:
            self.n_frames.setValue(int(project.get("numframes2pick") or 20))

    def _criteria_changed(self, *_: Any) -> None:
        on = {name: box.isChecked() for name, box in self.criteria.items()}
        self.epsilon.setEnabled(on["jump"] or on["fitting"])
        self.p_bound.setEnabled(on["uncertain"] or on["fitting"])
        self.fit.setEnabled(on["fitting"])
        self.fit_window.setEnabled(on["fitting"] and self.fit.currentText() == "median")

    def spec(self) -> OutlierSpec:
        """The search asked for in the form.

        Raises
        ------
        ValueError
            If no criterion is checked and no frame is marked (or the values are invalid).
        """
        criteria = [c for c in ("jump", "uncertain", "fitting") if self.criteria[c].isChecked()]
        use_marks = self.criteria["manual"].isChecked() and bool(self.marks)
        if use_marks:
            criteria.append("manual")
        if not criteria:
            raise ValueError(
                "check a criterion (jump, uncertain, fitting) or mark frames with "
                f"{MARK_KEY} "
                "(and check 'marked')"
            )
        return OutlierSpec(
            criteria=tuple(criteria),
            epsilon=self.epsilon.value(),
            p_bound=self.p_bound.value(),
            fit=self.fit.currentText(),
            window=self.fit_window.value() | 1,
            frames=tuple(sorted(self.marks)) if use_marks else (),
            n=self.n_frames.value(),
            selection=self.selection.currentText(),
            use_crop=self.use_crop.isChecked(),
        )

    # -------------------------------------------------------------------------- marks

    def set_analysis(self, path: Path | None) -> None:
        """The dock opened ``path``: marks and candidates of another video are dropped."""
        stem = video_stem(path) if path is not None else None
        if stem != self._marks_video:
            self.marks.clear()
            self.candidates = []
            self.candidate_index = -1
            self._show_marks()
            self._show_candidates()
        self._marks_video = stem

    def current_frame(self) -> int | None:
        """The viewer's time step (None when the viewer has no time axis)."""
        if self.viewer.dims.ndim < 3:
            return None
        return int(self.viewer.dims.current_step[0])

    def toggle_mark(self, frame: int | None = None) -> bool | None:
        """Mark ``frame`` (default: the current one) as an outlier, or unmark a marked one.

        Returns
        -------
        bool or None
            True if the frame is marked now, False if it was unmarked, None without a time
            axis (no video open).
        """
        if frame is None:
            frame = self.current_frame()
        if frame is None:
            self._error("No video frames to mark: open the video first.")
            return None
        frame = int(frame)
        if frame in self.marks:
            self.marks.discard(frame)
            marked = False
        else:
            self.marks.add(frame)
            marked = True
            self.criteria["manual"].setChecked(True)
        self._show_marks()
        self._info(f"Frame {frame} {'marked' if marked else 'unmarked'}.")
        return marked

    def clear_marks(self) -> None:
        """Forget every marked frame."""
        self.marks.clear()
        self._show_marks()

    def _show_marks(self) -> None:
        frames = sorted(self.marks)
        if not frames:
            self.marks_label.setText(
                f"No frame marked (press {MARK_KEY} on a frame while watching)."
            )
            self.marks_label.setToolTip("")
        else:
            shown = ", ".join(map(str, frames[:SHOWN_MARKS]))
            more = f", … (+{len(frames) - SHOWN_MARKS})" if len(frames) > SHOWN_MARKS else ""
            self.marks_label.setText(f"{len(frames)} marked: {shown}{more}")
            self.marks_label.setToolTip(", ".join(map(str, frames)))
        self.clear_marks_button.setEnabled(bool(frames))
        self._frame_changed()

    def _frame_changed(self, *_: Any) -> None:
        frame = self.current_frame()
        if frame is None:
            self.mark_button.setText(f"Mark frame ({MARK_KEY})")
        else:
            verb = "Unmark" if frame in self.marks else "Mark"
            self.mark_button.setText(f"{verb} frame {frame} ({MARK_KEY})")

    # ------------------------------------------------------------------ candidates

    def _show_candidates(self) -> None:
        n = len(self.candidates)
        for b in (self.previous_button, self.next_button):
            b.setEnabled(n > 0)
        self.candidates_label.setVisible(n > 0)
        if not n:
            self.candidates_label.setText("")
            return
        if self.candidate_index < 0:
            counts: dict[str, int] = {}
            for _, rs in self.candidates:
                for r in rs:
                    counts[r] = counts.get(r, 0) + 1
            why = ", ".join(f"{k} {v}" for k, v in counts.items())
            self.candidates_label.setText(f"{n} candidate frame(s) ({why}); ▶ steps through.")
        else:
            frame, reasons = self.candidates[self.candidate_index]
            self.candidates_label.setText(
                f"Candidate {self.candidate_index + 1} of {n}: frame {frame} "
                f"({', '.join(reasons)})"
            )

    def step_candidate(self, step: int) -> int | None:
        """Move the viewer to the next (``step`` 1) or previous (-1) candidate frame.

        Returns
        -------
        int or None
            The frame shown, None if there are no candidates.
        """
        if not self.candidates:
            return None
        n = len(self.candidates)
        if self.candidate_index < 0:
            self.candidate_index = 0 if step > 0 else n - 1
        else:
            self.candidate_index = (self.candidate_index + step) % n
        frame = self.candidates[self.candidate_index][0]
        self.viewer.dims.set_current_step(0, frame)
        self._show_candidates()
        return frame

    # --------------------------------------------------------------------------- jobs

    def _busy(self, busy: bool, *, extracting: bool = False) -> None:
        self.find_button.setEnabled(not busy)
        self.extract_button.setEnabled(not busy)
        self.cancel_button.setEnabled(busy and extracting)
        self.progress.setVisible(busy and extracting)

    def _inputs(self) -> tuple[Path, OutlierSpec] | None:
        analysis = self._analysis()
        if analysis is None:
            self._error("Open an analysis file first (Open analysis file…).")
            return None
        try:
            spec = self.spec()
        except ValueError as exc:
            self._error(f"Cannot look for outliers: {exc}.")
            return None
        return Path(analysis), spec

    def find(self) -> Any:
        """Only find the candidates (no frame is written); returns the worker (or None)."""
        got = self._inputs()
        if got is None or self.jobs.busy:
            return None
        analysis, spec = got
        self._busy(True)
        self._info(f"Looking for outliers in {analysis.name}…")
        return self.jobs.start(
            _find_job,
            analysis,
            spec,
            on_result=partial(self._found, analysis),
            on_error=lambda exc: self._error(
                f"Cannot look for outliers in {analysis.name}: {exc}"
            ),
            on_finished=self._job_finished,
        )

    def _found(self, analysis: Path, found: dict[int, list[str]]) -> None:
        self.candidates = list(found.items())
        self.candidate_index = -1
        self._show_candidates()
        self._info(f"{analysis.name}: {len(self.candidates)} candidate frame(s).")

    def _project_for(self, video: Path) -> Project:
        """The open project, else the one that owns the video (:func:`project_of`, opened)."""
        if self.state.project is not None:
            return self.state.project
        config = project_of(video)
        if config is None:
            raise ValueError(
                f"no project is open and no project owns {video.name} (a config.yaml beside "
                "it or one folder up); open the project (Project dock) first"
            )
        return self.state.open(config)

    def extract(self) -> Any:
        """Find and extract the outlier frames in a worker; returns the worker (or None)."""
        from napari_dlcflow.core.refine.outliers import extract_outliers

        got = self._inputs()
        if got is None or self.jobs.busy:
            return None
        analysis, spec = got
        video = self._video()
        if video is None:
            self._error(f"No video file for {analysis.name}: choose the video that was analysed.")
            return None
        video = Path(video)
        try:
            project = self._project_for(video)
        except Exception as exc:  # a broken config.yaml is reported, never raised into Qt
            self._error(f"Cannot extract outliers of {video.name}: {exc}")
            return None
        if not any(Path(k).name == video.name for k in project.videos):
            self._error(
                f"{video.name} is not a video of the project {project.task} (video_sets of "
                f"{project.config_path}); add it in the Project dock first."
            )
            return None
        self._progress = (0, 0)
        self.progress.setRange(0, 1)
        self.progress.setValue(0)
        self._busy(True, extracting=True)
        self._info(f"Extracting outlier frames of {video.name}…")

        def progress(done: int, total: int) -> None:
            self._progress = (done, total)

        self._poll.start()
        return self.jobs.start(
            extract_outliers,
            project,
            video,
            spec,
            analysis=analysis,
            on_progress=progress,
            should_stop=self.jobs.stop.is_set,
            on_result=partial(self._extracted, video),
            on_error=lambda exc: self._error(f"Outlier extraction of {video.name} failed: {exc}"),
            on_finished=self._job_finished,
        )

    def cancel(self) -> None:
        """Stop after the frame being written; frames already written are kept."""
        self.jobs.cancel()
        self._info("Cancelling…")

    def _show_progress(self) -> None:
        done, total = self._progress
        self.progress.setMaximum(max(total, 1))
        self.progress.setValue(min(done, max(total, 1)))

    def _extracted(self, video: Path, result: Any) -> None:
        self.result = result
        self.candidates = sorted(result.reasons.items())
        self.candidate_index = -1
        self._show_candidates()
        self._info(result.format())
        if result.written:
            self.state.frames_added.emit(result.folder)

    def _job_finished(self) -> None:
        self._poll.stop()
        self._show_progress()
        self._busy(False)
