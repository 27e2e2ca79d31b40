"""The "Extract frames" section of the Labeling dock: uniform, k-means or the current frame.

Sources: the project's videos (``video_sets``; a microscopy file with several channels or
planes asks which, once) and any image layer on the viewer: a layer with a file behind it is
that file with the choice our reader recorded; a layer with no file (an array from a script)
is read frame by frame and its frames go to ``labeled-data/<layer name>`` with a record saying
so. A source new to the project is added to ``video_sets`` (DeepLabCut's dataset creation finds
labeled-data folders through it); an array's key is the TIFF that analysis will stream it to
(``videos/<layer name>.tif``).
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
from qtpy.QtWidgets import (
    QCheckBox,
    QComboBox,
    QFormLayout,
    QGroupBox,
    QProgressBar,
    QPushButton,
    QSpinBox,
)

from napari_dlcflow.core.video.array_source import ArraySource
from napari_dlcflow.core.video.extract import (
    iter_extract_frames,
    labeled_data_folder,
    list_sources,
    project_video_crop,
    save_frame,
)
from napari_dlcflow.core.video.frames import VideoError
from napari_dlcflow.core.video.source import SourceRef, parse_source_key
from napari_dlcflow.widgets.common.dock import narrow_combo, wrap_rows
from napari_dlcflow.widgets.common.jobs import JobRunner, RunCancelRow
from napari_dlcflow.widgets.common.source_choice import ask_choice, layer_source

if TYPE_CHECKING:
    from napari_dlcflow.widgets.common.labeling_host import LabelingHost


class ExtractSection(QGroupBox):
    """Pick frames of a project video into ``labeled-data/<stem>``, never overwriting."""

    def __init__(self, dock: LabelingHost) -> None:
        super().__init__("Extract frames")
        self.dock = dock
        form = wrap_rows(QFormLayout(self))
        self.video_combo = narrow_combo(QComboBox())
        form.addRow("Video", self.video_combo)
        self.method_combo = narrow_combo(QComboBox())
        self.method_combo.addItems(["uniform", "kmeans"])
        self.method_combo.setToolTip(
            "uniform: evenly spread over time; kmeans: one frame per cluster of look-alike "
            "frames (DeepLabCut's idea)"
        )
        form.addRow("Method", self.method_combo)
        self.n_spin = QSpinBox()
        self.n_spin.setRange(1, 10000)
        self.n_spin.setValue(20)
        form.addRow("Frames", self.n_spin)
        self.crop_check = QCheckBox("apply the video's crop from config.yaml")
        form.addRow(self.crop_check)
        row = RunCancelRow("Extract")
        self.extract_button = row.run_button
        self.extract_button.clicked.connect(self.extract)
        self.cancel_button = row.cancel_button
        self.manual_button = QPushButton("Add current frame")
        self.manual_button.setToolTip(
            "manual: save the frame shown in the video's image layer as img<index>.png"
        )
        self.manual_button.clicked.connect(self.add_current_frame)
        row.add(self.manual_button)
        form.addRow(row)
        self.progress = QProgressBar()
        self.progress.setRange(0, 1)
        self.progress.setValue(0)
        form.addRow(self.progress)
        self.jobs = JobRunner(status=dock, row=row, progress=self.progress)
        dock.state.opened.connect(self.refresh)
        dock.state.changed.connect(self.refresh)
        layers = dock.viewer.layers.events
        for event in (layers.inserted, layers.removed):
            event.connect(self.refresh)
        self.refresh()

    def refresh(self, *_args: object) -> None:
        """Fill the source list (the project's videos, then the viewer's image layers) and
        the defaults from the open project."""
        from napari.layers import Image

        p = self.dock.state.project
        current = self.video_combo.currentData()
        self.video_combo.clear()
        if p is None:
            return
        for v in p.videos:
            ref = parse_source_key(v)
            self.video_combo.addItem(ref.path.name + (f" [{ref.choice}]" if ref.choice else ""), v)
        own = getattr(self.dock.image_layer, "name", None)
        for lay in self.dock.viewer.layers:
            if isinstance(lay, Image) and lay.ndim >= 3 and lay.name != own:
                self.video_combo.addItem(f"layer: {lay.name}", f"layer:{lay.name}")
        if current:
            i = self.video_combo.findData(current)
            if i >= 0:
                self.video_combo.setCurrentIndex(i)
        self.n_spin.setValue(int(p.get("numframes2pick") or 20))

    def _video(self) -> tuple[Any, Any, Path, str] | None:
        """The project, the source (a ``video_sets`` key or an array source), its folder and
        its ``video_sets`` key;
        None (with the reason shown) when there is none or the user cancelled the choice."""
        p = self.dock.state.project
        video = self.video_combo.currentData()
        if p is None or not video:
            self.dock.error("Open a project with a video first (Project dock).")
            return None
        try:
            if str(video).startswith("layer:"):
                layer = self.dock.viewer.layers[str(video)[len("layer:") :]]
                src = layer_source(layer)
                if isinstance(src, ArraySource):
                    key = str(p.root / "videos" / f"{layer.name}.tif")
                    self._list(p, key, src.meta.width, src.meta.height)
                    return p, src, labeled_data_folder(p.root, key), key
                video = src.key
            ref = parse_source_key(video)
            if not ref.path.is_absolute():
                ref = SourceRef(p.root / ref.path, ref.choice)
            key = ask_choice(self, ref.key)
            if key is None:
                return None
            ref = parse_source_key(key)
            if ref.choice:
                with ref.open() as frames:
                    self._list(p, key, frames.meta.width, frames.meta.height)
        except (VideoError, KeyError, ValueError, OSError) as exc:
            self.dock.error(f"{video}: {exc}")
            return None
        return p, key, labeled_data_folder(p.root, key), key

    def _list(self, project: Any, key: str, width: int, height: int) -> None:
        """Add a new source to ``video_sets`` and save the project."""
        if list_sources(project, [(key, width, height)]):
            self.dock.state.save()
            self.dock.state.notify_changed()

    def extract(self) -> Any:
        """Start extraction in a worker thread; returns the worker."""
        method, n = self.method_combo.currentText(), self.n_spin.value()
        got = self._video()  # may list a new source in config.yaml (refresh)
        if got is None:
            return None
        p, video, folder, key = got
        name = video.origin if isinstance(video, ArraySource) else parse_source_key(video).stem
        try:
            crop = project_video_crop(p, key) if self.crop_check.isChecked() else None
        except (KeyError, ValueError) as exc:
            self.dock.error(f"Crop of {name}: {exc}")
            return None
        start = float(p.get("start") or 0.0)
        stop = float(p.get("stop") if p.get("stop") is not None else 1.0)
        return self.jobs.start(
            iter_extract_frames,
            video,
            folder,
            method=method,
            n=n,
            start=start,
            stop=stop,
            crop=crop,
            message=f"Extracting frames of {name}…",
            error_prefix=f"Extraction of {name}",
            on_result=self._on_done,
            on_cancel=lambda: self.dock.info(
                "Extraction cancelled; frames already written are kept."
            ),
            quit_on_cancel=True,
        )

    @property
    def worker(self) -> Any:
        """The running extraction, if any."""
        return self.jobs.worker

    def cancel(self) -> None:
        """Stop the extraction after the frame being written."""
        self.jobs.cancel()

    def _on_done(self, result: Any) -> None:
        extra = f"; {len(result.already)} were already there" if result.already else ""
        miss = f"; {len(result.missing)} never decoded" if result.missing else ""
        self.dock.info(f"Wrote {len(result.written)} frame(s) to {result.folder}{extra}{miss}.")
        self.dock.reload()

    def add_current_frame(self) -> Path | None:
        """Manual extraction: save the current plane of the video's image layer."""
        from napari.layers import Image

        got = self._video()
        if got is None:
            return None
        p, _source, folder, key = got
        viewer = self.dock.viewer
        active = viewer.layers.selection.active
        own = {getattr(self.dock.image_layer, "name", None)}
        layers = [active] if isinstance(active, Image) and active.name not in own else []
        layers += [
            lay
            for lay in viewer.layers
            if isinstance(lay, Image) and lay.ndim >= 3 and lay.name not in own
        ]
        if not layers:
            self.dock.error("No video image layer: open the video in napari first.")
            return None
        layer = layers[0]
        t = int(viewer.dims.current_step[0])
        n_frames = int(layer.data.shape[0])
        frame = np.asarray(layer.data[t])
        try:
            crop = project_video_crop(p, key) if self.crop_check.isChecked() else None
            path = save_frame(frame, folder, t, n_frames, crop=crop)
        except (OSError, ValueError, KeyError) as exc:
            self.dock.error(f"Frame {t} not saved: {exc}")
            return None
        if path is None:
            self.dock.info(f"Frame {t} is already in {folder}; nothing was overwritten.")
            return None
        self.dock.info(f"Saved frame {t} of {layer.name} as {path}.")
        return path
