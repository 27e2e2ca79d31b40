"""The Preprocess dock: ROI crop and contrast enhancement with a live preview, for one video
or a list of videos, in the background with progress and cancel."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
from qtpy.QtCore import Qt, QTimer
from qtpy.QtWidgets import (
    QComboBox,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QProgressBar,
    QPushButton,
    QRadioButton,
    QScrollArea,
    QVBoxLayout,
)

from napari_dlcflow.core.video.array_source import ArraySource
from napari_dlcflow.core.video.preprocess import (
    BatchResult,
    PreprocessError,
    PreprocessSpec,
    Roi,
    fit_transform,
    preprocess_batch,
    record_crop,
)
from napari_dlcflow.core.video.reader import VIDEO_SUFFIXES, FrameSource, VideoError
from napari_dlcflow.core.video.source import SourceRef, parse_source_key
from napari_dlcflow.napari_common import state_for_viewer
from napari_dlcflow.widgets.common import dialogs as _dialogs
from napari_dlcflow.widgets.common.dock import narrow_combo, refill_combo, scroll_body
from napari_dlcflow.widgets.common.jobs import JobRunner, RunCancelRow, StatusLine
from napari_dlcflow.widgets.common.source_choice import ask_choice
from napari_dlcflow.widgets.preprocess.form import ContrastForm, OutputForm, RoiForm
from napari_dlcflow.widgets.preprocess.roi import LAYER_NAME, RoiSync

if TYPE_CHECKING:
    import napari

PREVIEW_LAYER = "preview"
PREVIEW_MODES = {"off": "Off", "overlay": "Processed over the ROI", "side": "Side by side"}
_LAYER = "layer:"
"""List entries of a layer with no file: ``layer:<name>`` (its array is read at run time)."""


def _source_key(src: FrameSource) -> tuple[str, str, tuple[int, ...]]:
    """A video's identity that holds across accesses (two channels of one file differ).

    A plugin's viewer is napari's ``PublicOnlyProxy``: each ``layer.data`` is a new proxy
    object, so ``id()`` of it changes from one call to the next.
    """
    return str(src.meta.path), src.meta.choice, tuple(int(n) for n in src.shape)


def _entry(src: FrameSource) -> str:
    """The list entry of a source: its ``video_sets`` key (file and choice), or
    ``layer:<name>`` for an array with no file."""
    if isinstance(src, ArraySource):
        return _LAYER + src.name
    return SourceRef(src.meta.path, src.meta.choice).key


class PreprocessDock(QScrollArea):
    """Crop a ROI and enhance contrast; preview on the current frame; apply to many videos.

    Parameters
    ----------
    napari_viewer : napari.Viewer
    """

    def __init__(self, napari_viewer: napari.Viewer) -> None:
        super().__init__()
        self.viewer = napari_viewer
        self.state = state_for_viewer(napari_viewer)
        layout = scroll_body(self)

        row = QHBoxLayout()
        self.video_combo = narrow_combo(QComboBox())
        self.open_button = QPushButton("Open video…")
        row.addWidget(QLabel("Video"))
        row.addWidget(self.video_combo, 1)
        row.addWidget(self.open_button)
        layout.addLayout(row)
        self.video_info = QLabel("")
        self.video_info.setWordWrap(True)
        layout.addWidget(self.video_info)

        self.roi_form = RoiForm()
        layout.addWidget(self.roi_form)
        self.roi_sync = RoiSync(napari_viewer, self.roi_form)
        self.contrast_form = ContrastForm()
        layout.addWidget(self.contrast_form)

        prev = QHBoxLayout()
        prev.addWidget(QLabel("Preview"))
        self.preview_mode = narrow_combo(QComboBox())
        for key, label in PREVIEW_MODES.items():
            self.preview_mode.addItem(label, key)
        self.preview_mode.setCurrentIndex(1)
        prev.addWidget(self.preview_mode, 1)
        layout.addLayout(prev)

        self.output_form = OutputForm()
        layout.addWidget(self.output_form)

        batch = QGroupBox("Videos to process")
        bl = QVBoxLayout(batch)
        self.video_list = QListWidget()
        self.video_list.setMinimumHeight(90)
        bl.addWidget(self.video_list)
        brow = QHBoxLayout()
        self.add_files_button = QPushButton("Add files…")
        self.add_folder_button = QPushButton("Add folder…")
        self.remove_button = QPushButton("Remove")
        for b in (self.add_files_button, self.add_folder_button, self.remove_button):
            brow.addWidget(b)
        bl.addLayout(brow)
        rrow = QHBoxLayout()
        self.same_roi = QRadioButton("Same ROI for all")
        self.per_video_roi = QRadioButton("ROI per video")
        self.same_roi.setChecked(True)
        self.assign_roi_button = QPushButton("Assign ROI to selected")
        for w in (self.same_roi, self.per_video_roi):
            rrow.addWidget(w)
        bl.addLayout(rrow)
        bl.addWidget(self.assign_roi_button)  # its own row: the dock stays narrow
        layout.addWidget(batch)

        run = RunCancelRow("Apply to this video")
        self.apply_button = run.run_button
        self.apply_all_button = run.add_run("Apply to list")
        self.cancel_button = run.cancel_button
        layout.addWidget(run)
        self.video_progress = QProgressBar()
        self.video_progress.setFormat("this video %p%")
        self.overall_progress = QProgressBar()
        self.overall_progress.setFormat("overall %p%")
        layout.addWidget(self.video_progress)
        layout.addWidget(self.overall_progress)
        self.status = StatusLine("Open a video (or drop one on napari), then draw a ROI.")
        layout.addWidget(self.status)
        self.jobs = JobRunner(status=self.status, row=run)
        self.preview_jobs = JobRunner(status=self.status)
        layout.addStretch(1)

        # state
        self._preview_pending = False
        self._touched = False  # the contrast or preview form was changed by the user
        self._preview_cache: dict[Any, Any] = {}
        self.preview_count = 0  # previews applied (tests wait on it)
        self._preview_shown: Any = None  # what the shown preview was computed from
        self._progress: tuple[int, int, int, int] = (0, 0, 0, 1)  # video, done, total, n videos
        self.last_results: list[BatchResult] = []
        self._preview_timer = QTimer(self)
        self._preview_timer.setSingleShot(True)
        self._preview_timer.setInterval(120)
        self._preview_timer.timeout.connect(self.update_preview)
        self._poll = QTimer(self)
        self._poll.setInterval(100)
        self._poll.timeout.connect(self._show_progress)

        # wiring
        self.open_button.clicked.connect(self._open_dialog)
        self.video_combo.currentIndexChanged.connect(self._video_changed)
        self.roi_form.draw_button.clicked.connect(self.roi_sync.start_drawing)
        self.roi_form.full_button.clicked.connect(self._whole_frame)
        self.roi_form.size400_button.clicked.connect(self._size_400)
        self.roi_form.changed.connect(self.schedule_preview)
        self.contrast_form.changed.connect(self._touch)
        self.preview_mode.currentIndexChanged.connect(self._touch)
        self.output_form.browse_requested.connect(self._browse_folder)
        self.add_files_button.clicked.connect(self._add_files)
        self.add_folder_button.clicked.connect(self._add_folder)
        self.remove_button.clicked.connect(self._remove_selected)
        self.assign_roi_button.clicked.connect(self._assign_roi)
        self.apply_button.clicked.connect(self.apply_current)
        self.apply_all_button.clicked.connect(self.apply_list)
        self.viewer.layers.events.inserted.connect(self._refresh_videos)
        self.viewer.layers.events.removed.connect(self._refresh_videos)
        self.viewer.dims.events.current_step.connect(self.schedule_preview)
        self._refresh_videos()

    # ------------------------------------------------------------------ messages
    def _error(self, message: str) -> None:
        self.status.error(message)

    def _info(self, message: str) -> None:
        self.status.info(message)

    # ------------------------------------------------------------------ videos
    def _video_layers(self) -> list[Any]:
        """Image layers with a time axis: our readers' (a file behind them) and any array
        (a script's), but not the preview."""
        return [
            ly
            for ly in self.viewer.layers
            if ly._type_string == "image"
            and ly.name != PREVIEW_LAYER
            and (isinstance(ly.data, FrameSource) or ly.ndim >= (4 if ly.rgb else 3))
        ]

    def _refresh_videos(self, *_: object) -> None:
        current = self.video_combo.currentText()
        names = [ly.name for ly in self._video_layers()]
        refill_combo(self.video_combo, names)
        if current not in names:
            self._video_changed()

    def current_layer(self) -> Any:
        """The chosen video layer, or None."""
        name = self.video_combo.currentText()
        return self.viewer.layers[name] if name and name in self.viewer.layers else None

    def current_source(self) -> FrameSource | None:
        """The chosen video as a frame source (an array layer read lazily), or None."""
        layer = self.current_layer()
        if layer is None:
            return None
        if isinstance(layer.data, FrameSource):
            return layer.data
        try:
            return ArraySource(layer.data, str(layer.name))
        except VideoError:
            return None

    def open_video(self, path: str | Path) -> Any:
        """Open ``path`` as a lazy video layer and choose it (a microscopy file: one layer per
        channel, the first chosen); errors go to the status line."""
        from napari_dlcflow.core.video.microscopy import is_microscopy
        from napari_dlcflow.napari_common import layer_data_for

        try:
            if is_microscopy(path):  # one layer per channel, each with its choice
                layer = self.viewer.open(path, plugin="napari-dlcflow")[0]
            else:
                data, kwargs, _ = layer_data_for(path)
                layer = self.viewer.add_image(data, **kwargs)
        except (ValueError, OSError) as exc:  # VideoError; napari's ReaderPluginError
            self._error(str(exc))
            return None
        self.video_combo.setCurrentText(layer.name)
        return layer

    def _open_dialog(self) -> None:
        for path in _dialogs.ask_videos(self):
            self.open_video(path)  # a microscopy file opens one layer per channel

    def _video_changed(self, *_: object) -> None:
        src = self.current_source()
        if src is None:
            self.video_info.setText("No video layer. Open one, or drop a video on napari.")
            self.roi_sync.frame_size = None
            return
        m = src.meta
        vfr = " · variable frame rate!" if m.vfr else ""
        self.video_info.setText(
            f"{m.path.name}: {m.n_frames} frames, {m.width}x{m.height}, {m.fps:g} fps, "
            f"{m.codec}, {m.dtype}{vfr}"
        )
        self.roi_sync.frame_size = (m.height, m.width)
        self.roi_form.x.setMaximum(m.width - 2)
        self.roi_form.y.setMaximum(m.height - 2)
        self.roi_form.w.setMaximum(m.width)
        self.roi_form.h.setMaximum(m.height)
        if self.roi_sync.layer(create=False) is None:  # a default, not a request: no layer
            self.roi_sync.set_roi(Roi(0, 0, m.width, m.height), show=False)
        entry = _entry(src)
        if not any(self._item_path(i) == Path(entry) for i in range(self.video_list.count())):
            self._add_to_list(entry)
        self.schedule_preview()

    def _whole_frame(self) -> None:
        src = self.current_source()
        if src is not None:
            self.roi_sync.set_roi(Roi(0, 0, src.meta.width, src.meta.height))

    def _size_400(self) -> None:
        src = self.current_source()
        if src is None:
            return
        m = src.meta
        w, h = min(400, m.width), min(400, m.height)
        self.roi_form.fixed.setChecked(True)
        self.roi_sync.set_roi(Roi((m.width - w) // 2, (m.height - h) // 2, w, h))

    # ------------------------------------------------------------------ list
    def _item_path(self, i: int) -> Path:
        return Path(self.video_list.item(i).data(Qt.ItemDataRole.UserRole)[0])

    def _add_to_list(self, path: str | Path, roi: Roi | None = None) -> None:
        item = QListWidgetItem()
        item.setData(Qt.ItemDataRole.UserRole, (str(path), roi))
        self._label_item(item)
        self.video_list.addItem(item)

    @staticmethod
    def _label_item(item: QListWidgetItem) -> None:
        path, roi = item.data(Qt.ItemDataRole.UserRole)
        extra = "" if roi is None else f"   [ROI {roi.x},{roi.y} {roi.width}x{roi.height}]"
        ref = parse_source_key(path)
        name = str(path) if str(path).startswith(_LAYER) else ref.path.name
        item.setText(name + (f" [{ref.choice}]" if ref.choice else "") + extra)

    def add_videos(self, paths: list[str | Path]) -> None:
        """Add files to the list of videos to process (a microscopy file with several
        channels or planes asks which)."""
        have = {self._item_path(i) for i in range(self.video_list.count())}
        for p in paths:
            try:
                key = ask_choice(self, p)
            except (VideoError, OSError) as exc:
                self._error(f"{p}: {exc}")
                continue
            if key is not None and Path(key) not in have:
                self._add_to_list(key)

    def _add_files(self) -> None:
        self.add_videos(_dialogs.ask_videos(self))

    def _add_folder(self) -> None:
        folder = _dialogs.ask_folder(self, "Add every video of a folder")
        if folder:
            found = sorted(p for p in Path(folder).iterdir() if p.suffix.lower() in VIDEO_SUFFIXES)
            self.add_videos(found)
            self._info(f"Added {len(found)} videos from {folder}")

    def _remove_selected(self) -> None:
        for item in self.video_list.selectedItems():
            self.video_list.takeItem(self.video_list.row(item))

    def _assign_roi(self) -> None:
        roi = self.roi_form.roi()
        for item in self.video_list.selectedItems():
            path, _ = item.data(Qt.ItemDataRole.UserRole)
            item.setData(Qt.ItemDataRole.UserRole, (path, roi))
            self._label_item(item)
        self.per_video_roi.setChecked(True)

    def _browse_folder(self) -> None:
        folder = _dialogs.ask_folder(self, "Output folder")
        if folder:
            self.output_form.folder.setText(folder)

    # ------------------------------------------------------------------ preview
    def spec(self, roi: Roi | None = None) -> PreprocessSpec:
        """The transform the dock shows (with the form's ROI unless one is given)."""
        return PreprocessSpec(
            roi=roi or self.roi_form.roi(),
            contrast=self.contrast_form.params(),
            output=self.output_form.params(),
        )

    def schedule_preview(self, *_: object) -> None:
        """Recompute the preview shortly (coalesces bursts of changes)."""
        self._preview_timer.start()

    def _current_frame_index(self) -> int:
        return int(self.viewer.dims.current_step[0]) if self.viewer.dims.ndim >= 3 else 0

    def _asked(self) -> bool:
        """Whether the user asked for a crop or a contrast (before that no layer is added)."""
        return self._touched or LAYER_NAME in self.viewer.layers

    def _touch(self, *_: object) -> None:
        self._touched = True
        self.schedule_preview()

    def update_preview(self) -> Any:
        """Compute the preview of the current frame in a worker thread."""
        mode = self.preview_mode.currentData()
        src = self.current_source()
        if mode == "off" or src is None or not self._asked():
            if PREVIEW_LAYER in self.viewer.layers:
                self.viewer.layers[PREVIEW_LAYER].visible = False
            return None
        if self.preview_jobs.busy:
            self._preview_pending = True
            return None
        spec = self.spec()
        index = min(self._current_frame_index(), len(src) - 1)
        key = (_source_key(src), spec.roi, spec.contrast)
        cache = self._preview_cache
        shown = self._preview_key()

        def compute() -> tuple[np.ndarray, Roi, str, Any]:
            fn = cache.get(key)
            if fn is None:
                cache.clear()
                fn = fit_transform(src, spec)
                cache[key] = fn
            return fn(src.frame(index)), spec.roi, mode, shown

        return self.preview_jobs.start(
            compute,
            error_prefix="Preview",
            on_result=self._show_preview,
            on_finished=self._preview_done,
        )

    def _preview_key(self) -> Any:
        src = self.current_source()
        spec = self.spec()
        return (
            None if src is None else _source_key(src),
            spec.roi,
            spec.contrast,
            self._current_frame_index(),
            self.preview_mode.currentData(),
        )

    @property
    def preview_settled(self) -> bool:
        """Whether the shown preview is of the form's current values, with none to come.

        A change made while a preview is computing leaves that (stale) result on screen for a
        moment and schedules another; this is False until the last one is shown.
        """
        return (
            not self.preview_jobs.busy
            and not self._preview_pending
            and not self._preview_timer.isActive()
            and self._preview_shown == self._preview_key()
        )

    def _preview_done(self) -> None:
        if self._preview_pending:
            self._preview_pending = False
            self.schedule_preview()

    def _show_preview(self, result: tuple[np.ndarray, Roi, str, Any]) -> None:
        image, roi, mode, shown = result
        src = self.current_source()
        if src is None:
            return
        self._preview_shown = shown
        translate = (roi.y, src.meta.width + 20) if mode == "side" else (roi.y, roi.x)
        if PREVIEW_LAYER in self.viewer.layers:
            layer = self.viewer.layers[PREVIEW_LAYER]
            if layer.rgb != (image.ndim == 3):
                self.viewer.layers.remove(layer)
        if PREVIEW_LAYER in self.viewer.layers:
            layer = self.viewer.layers[PREVIEW_LAYER]
            layer.data = image
            layer.translate = translate
            layer.visible = True
        else:
            layer = self.viewer.add_image(
                image,
                name=PREVIEW_LAYER,
                rgb=image.ndim == 3,
                translate=translate,
                contrast_limits=[0, 255],
            )
            if LAYER_NAME in self.viewer.layers:  # keep the ROI rectangle on top and active
                roi_layer = self.viewer.layers[LAYER_NAME]
                self.viewer.layers.move(
                    self.viewer.layers.index(roi_layer), len(self.viewer.layers)
                )
                self.viewer.layers.selection.active = roi_layer
        self.preview_count += 1

    # ------------------------------------------------------------------ apply
    def _jobs(self, only_current: bool) -> list[tuple[Any, PreprocessSpec]]:
        """``(source, spec)`` pairs: a source is a ``video_sets`` key (file and choice) or the
        array source of a layer with no file."""
        if only_current:
            src = self.current_source()
            if src is None:
                return []
            return [(src if isinstance(src, ArraySource) else _entry(src), self.spec())]
        jobs: list[tuple[Any, PreprocessSpec]] = []
        for i in range(self.video_list.count()):
            path, roi = self.video_list.item(i).data(Qt.ItemDataRole.UserRole)
            use = roi if (self.per_video_roi.isChecked() and roi is not None) else None
            source: Any = path
            if str(path).startswith(_LAYER):
                name = str(path)[len(_LAYER) :]
                if name not in self.viewer.layers:
                    raise ValueError(f"layer {name!r} is no longer on the viewer")
                source = ArraySource(self.viewer.layers[name].data, name)
            jobs.append((source, self.spec(use)))
        return jobs

    def apply_current(self) -> Any:
        """Process the chosen video."""
        return self._run(self._jobs(only_current=True))

    def apply_list(self) -> Any:
        """Process every video of the list."""
        try:
            jobs = self._jobs(only_current=False)
        except (ValueError, VideoError) as exc:
            self._error(str(exc))
            return None
        return self._run(jobs)

    def _out_dir(self, source: Any) -> Path:
        """The output folder: the form's, else ``preprocessed`` beside the file (for a layer
        with no file, in the open project's videos folder, else the working folder)."""
        text = self.output_form.folder.text().strip()
        if text:
            return Path(text)
        if isinstance(source, FrameSource):
            project = self.state.project
            base = project.root / "videos" if project is not None else Path.cwd()
            return base / "preprocessed"
        return parse_source_key(source).path.parent / "preprocessed"

    def _run(self, jobs: list[tuple[Any, PreprocessSpec]]) -> Any:
        if not jobs:
            self._error("No video to process: open one or add files to the list")
            return None
        if self.jobs.busy:
            self._error("A job is already running")
            return None
        if self.output_form.after.currentData() == "crop":
            self._record_crops(jobs)
            return None
        n = len(jobs)
        stop = self.jobs.stop
        self._progress = (0, 0, 1, n)
        out_dirs = {self._out_dir(p) for p, _ in jobs}
        dests = [self._out_dir(p) for p, _ in jobs]

        def work() -> list[BatchResult]:
            results: list[BatchResult] = []
            for k, (path, spec) in enumerate(jobs):

                def progress(_k: int, done: int, total: int, k: int = k) -> None:
                    self._progress = (k, done, total, n)

                results += preprocess_batch(
                    [(path, spec)],
                    dests[k],
                    on_progress=progress,
                    should_stop=stop.is_set,
                )
            return results

        self._poll.start()
        return self.jobs.start(
            work,
            message=f"Processing {n} video(s) into {', '.join(map(str, sorted(out_dirs)))}…",
            error_prefix="Preprocessing failed",
            on_result=self._finished,
            on_finished=self._job_done,
            on_cancel=lambda: self._info("Cancelling…"),
        )

    def cancel(self) -> None:
        """Stop after the current frame; the unfinished output is removed."""
        self.jobs.cancel()

    def _show_progress(self) -> None:
        k, done, total, n = self._progress
        self.video_progress.setMaximum(max(1, total))
        self.video_progress.setValue(done)
        self.overall_progress.setMaximum(1000)
        self.overall_progress.setValue(int(1000 * (k + done / max(1, total)) / max(1, n)))
        self.jobs.report_progress(self.overall_progress.value(), 1000)

    def _job_done(self) -> None:
        self._poll.stop()
        self._show_progress()

    def _finished(self, results: list[BatchResult]) -> None:
        from napari_dlcflow.napari_common import layer_data_for

        self.last_results = results
        ok = [r for r in results if r.ok]
        failed = [r for r in results if r.error]
        cancelled = [r for r in results if r.cancelled]
        after = self.output_form.after.currentData()
        if len(ok) <= 4:
            for r in ok:
                try:
                    data, kwargs, _ = layer_data_for(r.output)  # type: ignore[arg-type]
                except VideoError as exc:
                    self._error(str(exc))
                    return
                self.viewer.add_image(data, **kwargs)
        if after == "project" and ok:
            project = self.state.project
            if project is None:
                self._error("No project is open: outputs were not added to a project")
                return
            for r in ok:
                assert r.output is not None
                project.set_video(r.output, *self._size_of(r.output))
            self.state.notify_changed()
        parts = [f"{len(ok)} done"]
        if cancelled:
            parts.append(f"{len(cancelled)} cancelled (nothing left behind)")
        if failed:
            parts.append(f"{len(failed)} failed")
        message = ", ".join(parts) + "."
        if ok:
            message += f" Output: {ok[-1].output}"
        if after == "project" and ok:
            message += " Added to the project: save it in the Project dock."
        if failed:
            self._error(message + " " + " | ".join(str(r.error) for r in failed))
        else:
            self._info(message)

    @staticmethod
    def _size_of(path: Any) -> tuple[int, int]:
        if isinstance(path, FrameSource):
            raise VideoError(f"{path.meta.path}: a layer with no file has no crop to record")
        with parse_source_key(path).open() as src:
            return src.meta.width, src.meta.height

    def _record_crops(self, jobs: list[tuple[Any, PreprocessSpec]]) -> None:
        project = self.state.project
        if project is None:
            self._error("Open a project first (Project dock) to record crops in its config")
            return
        try:
            for path, spec in jobs:
                w, h = self._size_of(path)
                assert spec.roi is not None
                record_crop(project, path, spec.roi, w, h)
        except (PreprocessError, VideoError) as exc:
            self._error(str(exc))
            return
        self.state.notify_changed()
        self._info(
            f"Recorded the ROI as crop of {len(jobs)} video(s) in video_sets; save the project "
            "to write config.yaml"
        )
