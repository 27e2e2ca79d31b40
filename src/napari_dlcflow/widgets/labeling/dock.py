"""The Labeling dock: label keypoints of a labeled-data folder in a Points layer and save them in
DeepLabCut's format, safely."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
from qtpy.QtCore import Qt, QTimer
from qtpy.QtWidgets import (
    QCheckBox,
    QComboBox,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QScrollArea,
    QVBoxLayout,
)

from napari_dlcflow.core.labels.collected import (
    FolderMismatchError,
    Labels,
    LabelsError,
    compare_with_config,
    config_keypoints,
    conform_to_config,
    folder_images,
    load_folder,
    points_outside,
    read_into_folder,
)
from napari_dlcflow.core.labels.recovery import (
    AUTOSAVE_SECONDS,
    discard_recovery,
    find_recovery,
)
from napari_dlcflow.core.labels.session import LABEL_MODES, LabelModel
from napari_dlcflow.core.layers.colors import DEFAULT_COLORMAP
from napari_dlcflow.core.layers.coords import points_frame_xy
from napari_dlcflow.core.layers.data import editing_colors, editing_skeleton
from napari_dlcflow.core.project.config import ConfigError, Project, project_of
from napari_dlcflow.core.safe_io import SaveError
from napari_dlcflow.core.video.reader import ImageFolderReader, VideoError
from napari_dlcflow.napari_common import state_for_viewer
from napari_dlcflow.widgets.common import dialogs as _dialogs
from napari_dlcflow.widgets.common import shortcuts as _shortcuts
from napari_dlcflow.widgets.common.dock import narrow_combo, scroll_body
from napari_dlcflow.widgets.common.jobs import StatusLine
from napari_dlcflow.widgets.common.shortcuts import LABELING_SHORTCUTS
from napari_dlcflow.widgets.labeling import dialogs as _labeling_dialogs
from napari_dlcflow.widgets.labeling.extract import ExtractSection
from napari_dlcflow.widgets.labeling.keys import WindowFilter, bind_layer_keys
from napari_dlcflow.widgets.labeling.layers import add_layers, model_points
from napari_dlcflow.widgets.labeling.lists import fill_keypoints, fill_progress
from napari_dlcflow.widgets.refine.machine_labels import RefineSection

if TYPE_CHECKING:
    import napari

MODES = LABEL_MODES
MODE_HELP = {
    "sequential": "a click places the selected part, then selects the next one (next frame "
    "after the last)",
    "quick": "a click places (or moves) the selected part; nothing advances",
    "loop": "a click places the selected part, then goes to the next frame (same part)",
}


class LabelingDock(QScrollArea):
    """Label keypoints frame by frame; follows the project opened in the Project dock.

    Parameters
    ----------
    napari_viewer : napari.Viewer
        The viewer to label in.
    """

    def __init__(self, napari_viewer: napari.Viewer) -> None:
        super().__init__()
        self.viewer = napari_viewer
        self.state = state_for_viewer(napari_viewer)
        self.model: LabelModel | None = None
        self.project: Project | None = None
        self.image_layer: Any = None
        self.points_layer: Any = None
        self.skeleton_layer: Any = None
        self.current = 0
        self.mode = "sequential"
        self._colors = np.zeros((0, 4))
        self._edges: list[tuple[str, str]] = []
        self._skeleton_color = "white"
        self._syncing = False
        self._pending_remove: list[tuple[int, int]] = []
        self._sizes: tuple[int, int] = (0, 0)

        layout = scroll_body(self)

        self.status = StatusLine("Open a project in the Project dock, or a labeled-data folder.")
        self.status.setTextInteractionFlags(Qt.TextSelectableByMouse)
        layout.addWidget(self.status)

        row = QHBoxLayout()
        self.folder_combo = narrow_combo(QComboBox())
        self.folder_combo.setToolTip("labeled-data folders of the open project")
        row.addWidget(self.folder_combo, 1)
        self.open_button = QPushButton("Open")
        self.open_button.clicked.connect(self._open_selected)
        row.addWidget(self.open_button)
        self.browse_button = QPushButton("Folder…")
        self.browse_button.clicked.connect(self._browse)
        row.addWidget(self.browse_button)
        layout.addLayout(row)

        row = QHBoxLayout()
        row.addWidget(QLabel("Mode"))
        self.mode_combo = narrow_combo(QComboBox())
        self.mode_combo.addItems(MODES)
        self.mode_combo.currentTextChanged.connect(self.set_mode)
        row.addWidget(self.mode_combo, 1)
        self.names_check = QCheckBox("Names")
        self.names_check.setChecked(True)
        self.names_check.toggled.connect(self._show_names)
        row.addWidget(self.names_check)
        layout.addLayout(row)

        self.keypoint_list = QListWidget()
        self.keypoint_list.setMinimumHeight(120)
        self.keypoint_list.currentRowChanged.connect(self._on_keypoint_row)
        layout.addWidget(QLabel("Body part to place (Up/Down)"))
        layout.addWidget(self.keypoint_list, 1)

        row = QHBoxLayout()
        for text, slot, tip in (
            ("Copy prev.", self.copy_previous, "C: copy the previous labeled frame"),
            ("Not visible", self.mark_not_visible, "V: remove the selected part here"),
            ("Undo", self.undo, "Ctrl+Z"),
            ("Redo", self.redo, "Ctrl+Shift+Z"),
        ):
            b = QPushButton(text)
            b.setToolTip(tip)
            b.clicked.connect(slot)
            row.addWidget(b)
        layout.addLayout(row)

        row = QHBoxLayout()
        self.next_button = QPushButton("Next unlabeled (N)")
        self.next_button.clicked.connect(self.next_unlabeled)
        row.addWidget(self.next_button)
        self.save_button = QPushButton("Save (Ctrl+S)")
        self.save_button.clicked.connect(self.save)
        row.addWidget(self.save_button)
        layout.addLayout(row)
        self.shortcuts_button = QPushButton("Shortcuts")
        self.shortcuts_button.setToolTip("Every keyboard shortcut of DLCflow, in one table")
        self.shortcuts_button.clicked.connect(lambda: _shortcuts.show_shortcuts(self))
        layout.addWidget(self.shortcuts_button)  # its own row: the dock stays as narrow

        box = QGroupBox("Progress")
        blay = QVBoxLayout(box)
        self.summary = QLabel("")
        self.summary.setWordWrap(True)
        blay.addWidget(self.summary)
        self.progress_list = QListWidget()
        self.progress_list.setMinimumHeight(140)
        self.progress_list.itemActivated.connect(self._jump_to_item)
        self.progress_list.itemClicked.connect(self._jump_to_item)
        blay.addWidget(self.progress_list)
        layout.addWidget(box, 2)

        self.refine = RefineSection(self)
        layout.addWidget(self.refine)

        from napari_dlcflow.widgets.labeling.qc_panel import LabelQCPanel  # issue 16

        self.qc = LabelQCPanel(self)
        layout.addWidget(self.qc)

        self.extract = ExtractSection(self)
        layout.addWidget(self.extract)

        self.autosave_timer = QTimer(self)
        self.autosave_timer.setInterval(AUTOSAVE_SECONDS * 1000)
        self.autosave_timer.timeout.connect(self.autosave)
        self.autosave_timer.start()

        self._filter = WindowFilter(self)
        from qtpy.QtWidgets import QApplication

        QApplication.instance().installEventFilter(self._filter)
        self.viewer.dims.events.current_step.connect(self._on_frame)
        self.state.opened.connect(self._on_project)
        self.state.changed.connect(self._on_project_changed)
        self.state.saved.connect(self._on_project_changed)
        self.state.frames_added.connect(self._on_frames_added)
        self._on_project(self.state.project)

    # ------------------------------------------------------------------ messages
    # ------------------------------------------------------------------ the host interface
    # (what the sections use: see widgets/common/labeling_host.py)
    def error(self, message: str) -> None:
        """Report a problem on the status line."""
        self.status.error(message)

    def info(self, message: str) -> None:
        """Say something on the status line."""
        self.status.info(message)

    def reload(self) -> None:
        """Re-read the project's labeled-data folders (after frames were added)."""
        self._on_project(self.state.project)

    # ------------------------------------------------------------------ window
    def main_window(self) -> Any:
        """The napari main window this dock sits in."""
        return self.window()

    def owns_focus(self, obj: Any) -> bool:
        """Whether a key event on ``obj`` should reach this dock's shortcuts (Ctrl+S): the labels
        layer is the active layer and the event is in this viewer's window."""
        if self.model is None or self.points_layer is None:
            return False
        active = self.viewer.layers.selection.active
        if getattr(active, "unique_id", None) != self.points_layer.unique_id:
            return False
        window = getattr(obj, "window", None)
        try:
            return callable(window) and window() is self.window()
        except (RuntimeError, TypeError):
            return False

    def confirm_close(self) -> bool:
        """Ask before losing unsaved labels; True if it is fine to go on."""
        if self.model is None or not self.model.dirty:
            return True
        answer = _labeling_dialogs.ask_unsaved(self, str(self.model.folder))
        if answer == "save":
            return self.save()
        if answer == "discard":
            discard_recovery(self.model.folder, self.model.file_scorer)
            self.model.dirty = False
            return True
        return False

    # ------------------------------------------------------------------ project
    def _on_project(self, project: Project | None) -> None:
        self.project = project
        self.folder_combo.clear()
        if project is None:
            return
        base = project.root / "labeled-data"
        if base.is_dir():
            for f in sorted(p for p in base.iterdir() if p.is_dir()):
                self.folder_combo.addItem(f.name, str(f))
        if self.model is not None and self.model.folder.parent.parent == project.root:
            self._apply_project()
        elif self.model is None:
            self.info(
                f"Project {project.task}: {self.folder_combo.count()} labeled-data folder(s). "
                "Choose one and press Open."
            )

    def _on_frames_added(self, folder: object) -> None:
        """New frames were written (e.g. outliers): list the folder, say how to open it."""
        folder = Path(str(folder))
        if self.project is None or folder.parent.parent != self.project.root:
            return
        self._on_project(self.project)
        i = self.folder_combo.findData(str(folder))
        if i >= 0:
            self.folder_combo.setCurrentIndex(i)
        if self.model is not None and self.model.folder == folder:
            self.info(f"New frames in {folder.name}: save, then press Open to see them.")
        elif self.model is None:
            self.info(f"New frames in {folder.name}: press Open to review them.")

    def _on_project_changed(self, *_args: object) -> None:
        if self.state.project is not None and self.model is not None:
            self.project = self.state.project
            if self.model.folder.parent.parent == self.project.root:
                self._apply_project()

    def _apply_project(self) -> None:
        """The config changed (edited, reloaded): keep every label, follow the new columns."""
        assert self.model is not None and self.project is not None
        labels = self.model.to_labels()
        diff = compare_with_config(labels, self.project)
        conformed = conform_to_config(labels, self.project, diff.keep_all(renamed=False))
        if conformed.keypoints != self.model.keypoints:
            dirty = self.model.dirty
            model = self._new_model(self.model.folder, self.model.image_names, conformed)
            model.dirty = dirty
            model.file_scorer = self.model.file_scorer
            model.file_rows = self.model.file_rows
            self.model = model
        self._style_from_project()
        self.redraw()
        self._refresh_keypoints()
        if diff.extra:
            self.info(
                "config.yaml changed; labels kept. Columns not in config.yaml are kept: "
                + ", ".join(b for _, b in diff.extra)
            )

    def _style_from_project(self) -> None:
        assert self.model is not None
        p = self.project
        cmap = p.colormap if p is not None else DEFAULT_COLORMAP
        self._colors = editing_colors(self.model.keypoints, self.model.multianimal, cmap)
        self._edges = [tuple(e) for e in p.skeleton] if p is not None else []  # type: ignore[misc]
        if self.points_layer is not None and p is not None:
            self.points_layer.size = float(p.dotsize)
        if p is not None:
            from napari.utils.colormaps.standardize_color import transform_color

            color = str(p.get("skeleton_color") or "white")
            try:
                transform_color(color)
            except (ValueError, KeyError, AttributeError):
                color = "white"
            self._skeleton_color = color

    # ------------------------------------------------------------------ opening
    def _browse(self) -> None:
        path = _dialogs.ask_folder(self, "Choose a labeled-data folder")
        if path:
            self.open_folder(path)

    def _open_selected(self) -> None:
        path = self.folder_combo.currentData()
        if path:
            self.open_folder(path)
        else:
            self.error("No labeled-data folder to open: extract frames first, or choose one.")

    def _project_for(self, folder: Path) -> Project | None:
        """The project that owns ``folder`` (:func:`project_of`): the open one, else opened."""
        config = project_of(folder)
        if config is None:
            return None
        if self.state.project is not None and self.state.project.config_path.resolve() == config:
            return self.state.project
        return self.state.open(config)

    def _read(self, folder: Path, scorer: str | None) -> Labels | None:
        try:
            labels = load_folder(folder, scorer)
            if labels is None and scorer:
                labels = load_folder(folder)
        except FolderMismatchError as exc:
            if not _labeling_dialogs.ask_remap_folder(self, str(exc)):
                raise
            labels = read_into_folder(folder)
        return labels

    def open_folder(self, folder: str | Path) -> bool:
        """Open a labeled-data folder: images as a lazy stack, labels as a Points layer.

        Returns False (with the reason in the status line) if nothing was opened.
        """
        folder = Path(folder)
        if not self.confirm_close():
            return False
        images = folder_images(folder) if folder.is_dir() else []
        if not images:
            self.error(f"{folder}: no images (.png, .jpg, ...) in this folder")
            return False
        try:
            project = self._project_for(folder)
        except (ConfigError, OSError) as exc:
            self.error(f"Cannot open the project of {folder}: {exc}")
            return False
        self.project = project
        scorer = project.scorer if project is not None else None
        try:
            labels = self._read(folder, scorer)
        except (LabelsError, OSError) as exc:
            self.error(f"Not opened: {exc}")
            return False
        notes: list[str] = []
        if labels is not None and project is not None:
            diff = compare_with_config(labels, project)
            mapping: dict[tuple[str, str], tuple[str, str] | None] = {}
            if diff.columns_differ:
                if _labeling_dialogs.ask_config_mapping(self, diff.describe()) != "apply":
                    self.error(f"Not opened: labels in {folder} differ from config.yaml")
                    return False
                mapping = diff.keep_all(renamed=True)
            stamp = labels.stamp
            labels = conform_to_config(labels, project, mapping)
            labels.stamp = stamp
            if diff.scorer_differs:
                notes.append(
                    f"Warning: scorer {diff.scorer_file!r} in the file, {diff.scorer_config!r} "
                    "in config.yaml; DeepLabCut skips such files when it builds a dataset."
                )
        if labels is None:
            if project is None:
                self.error(f"{folder}: no labels and no config.yaml two folders up")
                return False
            kps, multi = config_keypoints(project)
            labels = Labels(project.scorer, kps, [], np.zeros((0, len(kps), 2)), multianimal=multi)
        names = [p.name for p in images]
        try:
            stack = ImageFolderReader(folder, files=images)
            stack.check_sizes()
        except VideoError as exc:
            self.error(f"Cannot read the images of {folder}: {exc}")
            return False
        self._sizes = (int(stack.shape[1]), int(stack.shape[2]))
        model = self._new_model(folder, names, labels)
        recovered = find_recovery(folder, model.file_scorer)
        if recovered is not None:
            text = (
                f"Autosaved labels newer than the saved file were found for {folder.name} "
                f"({recovered.n_labeled} labels). Use them?"
            )
            if _labeling_dialogs.ask_use_recovery(self, text):
                if project is not None:
                    diff = compare_with_config(recovered, project)
                    recovered = conform_to_config(recovered, project, {k: k for k in diff.extra})
                rec_model = self._new_model(folder, names, recovered)
                rec_model.stamp = model.stamp
                rec_model.file_rows = model.file_rows
                rec_model.file_scorer = model.file_scorer
                rec_model.dirty = True
                model = rec_model
                notes.append("Recovered autosaved labels (not saved yet).")
            else:
                discard_recovery(folder, model.file_scorer)
        self._close_layers()
        self.model = model
        self.current = 0
        machine_note = self.refine.load()
        if machine_note:
            notes.append(machine_note)
        self._style_from_project()
        dotsize = float(project.dotsize) if project is not None else 8.0
        self.image_layer, self.points_layer, self.skeleton_layer = add_layers(
            self.viewer, stack, model, self._colors, dotsize, folder.name
        )
        self._style_from_project()
        self.points_layer.events.data.connect(self._on_data)
        bind_layer_keys(self.points_layer, self)
        self.points_layer.mode = "add"
        self.viewer.dims.set_current_step(0, 0)
        self._refresh_keypoints()
        self.redraw()
        outside = points_outside(model.to_labels(), dict.fromkeys(names, self._sizes))
        if outside:
            notes.append(
                f"{len(outside)} label(s) outside the image (DeepLabCut would drop "
                f"them): {'; '.join(outside[:3])}"
            )
        if model.orphans is not None:
            notes.append(
                f"{len(model.orphans.images)} labeled row(s) name images not in this "
                "folder; they are kept in the file."
            )
        self.info(" ".join([f"Opened {folder} ({len(names)} images).", *notes]))
        return True

    def _new_model(self, folder: Path, names: list[str], labels: Labels) -> LabelModel:
        model = LabelModel(folder, names, labels.scorer, labels.keypoints, labels.multianimal)
        model.load(labels)
        return model

    def _close_layers(self) -> None:
        for layer in (self.skeleton_layer, self.points_layer, self.image_layer):
            if layer is not None and layer in self.viewer.layers:
                self.viewer.layers.remove(layer)
        self.image_layer = self.points_layer = self.skeleton_layer = None

    # ------------------------------------------------------------------ saving
    def save(self) -> bool:
        """Save to ``CollectedData_<scorer>.h5/.csv`` (previous files backed up)."""
        if self.model is None:
            self.error("Nothing to save: open a labeled-data folder first.")
            return False
        model = self.model
        try:
            changes = model.changes_on_disk(self.project)
        except (LabelsError, OSError) as exc:
            self.error(f"Not saved (your labels are still here): {exc}")
            return False
        asked = model.needs_confirmation(changes)
        if asked and not _labeling_dialogs.ask_save_changes(self, changes.format()):
            self.info("Not saved.")
            return False
        try:
            saved = model.save()
        except (LabelsError, SaveError, OSError) as exc:
            self.error(f"Not saved (your labels are still here): {exc}")
            return False
        self.info(
            f"Saved {saved.h5.name} and {saved.csv.name if saved.csv else ''} in "
            f"{model.folder} ({model.summary()}). Changes: {changes.format(0).splitlines()[0]}"
        )
        self._refresh_progress()
        return True

    def autosave(self) -> None:
        """Write the recovery file if anything changed since the last autosave."""
        if self.model is None:
            return
        try:
            self.model.autosave()
        except (SaveError, OSError) as exc:
            self.error(f"Autosave failed: {exc}")

    # ------------------------------------------------------------------ layer events
    def _frame(self) -> int:
        return int(self.viewer.dims.current_step[0])

    def _feature_keypoints(self) -> np.ndarray:
        return np.asarray(self.points_layer.features["keypoint"], dtype=float)

    def _on_data(self, event: Any) -> None:
        if self._syncing or self.model is None:
            return
        from napari.layers.base._base_constants import ActionType

        action = event.action
        layer = self.points_layer
        data = np.asarray(layer.data)
        if action == ActionType.REMOVING:
            ks = self._feature_keypoints()
            idx = [i for i in event.data_indices if not np.isnan(ks[i])]
            frames, _ = points_frame_xy(data[idx])
            self._pending_remove = [(int(t), int(ks[i])) for t, i in zip(frames, idx, strict=True)]
        elif action == ActionType.REMOVED:
            pairs, self._pending_remove = self._pending_remove, []
            self.model.clear_points(pairs)
            self._after_edit()
        elif action == ActionType.ADDED:
            idx = [i % len(data) for i in event.data_indices]
            ks = self._feature_keypoints()
            frames, xy = points_frame_xy(data[idx])
            updates = []
            for n, i in enumerate(idx):
                k = self.current if len(idx) == 1 or np.isnan(ks[i]) else int(ks[i])
                updates.append((int(frames[n]), k, float(xy[n, 0]), float(xy[n, 1])))
            self.model.set_many(updates)
            self._after_edit()
            # napari selects "the new point" by index after this event; the layer was redrawn
            # in frame/part order, so that index is another point: clear it once napari is done
            QTimer.singleShot(0, self._clear_selection)
            if len(idx) == 1:
                self._advance(updates[0][0])
        elif action == ActionType.CHANGED:
            ks = self._feature_keypoints()
            idx = [i for i in event.data_indices if 0 <= i < len(data) and not np.isnan(ks[i])]
            frames, xy = points_frame_xy(data[idx])
            updates = [
                (int(frames[n]), int(ks[i]), float(xy[n, 0]), float(xy[n, 1]))
                for n, i in enumerate(idx)
            ]
            changed = self.model.changed_only(updates)
            if changed:
                self.model.set_many(changed)
                self._after_edit(sync=False)

    def _clear_selection(self) -> None:
        if self.points_layer is not None:
            self.points_layer.selected_data = set()

    def _after_edit(self, *, sync: bool = True) -> None:
        if sync:
            self.redraw()
        else:
            self._update_skeleton()
            self._refresh_progress()
            self._refresh_keypoints()

    def _advance(self, t: int) -> None:
        assert self.model is not None
        step = self.model.next_after_placing(self.mode, t, self.current)
        if step is None:
            return
        frame, k = step
        if k != self.current:
            self.select_keypoint(k)
        if frame != t:
            self.viewer.dims.set_current_step(0, frame)

    def redraw(self) -> None:
        """Redraw the Points layer (and the skeleton and lists) from the model."""
        if self.model is None or self.points_layer is None:
            return
        pcutoff = float(self.project.pcutoff) if self.project is not None else 0.6
        data, feats, face, border = model_points(self.model, self._colors, pcutoff)
        layer = self.points_layer
        self._syncing = True
        try:
            layer.selected_data = set()
            layer.data = data
            layer.features = feats
            if len(face):
                layer.face_color = face
                layer.border_color = border
            layer.text.visible = self.names_check.isChecked()
        finally:
            self._syncing = False
        self._update_skeleton()
        self._refresh_progress()
        self._refresh_keypoints()

    def _update_skeleton(self) -> None:
        if self.model is None or self.skeleton_layer is None:
            return
        t = min(max(self._frame(), 0), len(self.model.image_names) - 1)
        self.skeleton_layer.data = editing_skeleton(
            self.model.xy, self.model.keypoints, t, self._edges
        )
        self.skeleton_layer.edge_color = self._skeleton_color

    def _on_frame(self, _event: Any = None) -> None:
        if self.model is None:
            return
        self._update_skeleton()
        self._refresh_keypoints()
        t = self._frame()
        if 0 <= t < self.progress_list.count():
            self.progress_list.blockSignals(True)
            self.progress_list.setCurrentRow(t)
            self.progress_list.blockSignals(False)

    # ------------------------------------------------------------------ lists
    def _refresh_keypoints(self) -> None:
        if self.model is None:
            self.keypoint_list.clear()
            return
        t = min(max(self._frame(), 0), len(self.model.image_names) - 1)
        fill_keypoints(self.keypoint_list, self.model, t, self._colors, self.current)

    def _refresh_progress(self) -> None:
        if self.model is None:
            return
        fill_progress(self.progress_list, self.model)
        self.summary.setText(self.model.summary() + (" — unsaved" if self.model.dirty else ""))
        self.refine.refresh()

    def _jump_to_item(self, item: QListWidgetItem) -> None:
        self.go_to_frame(self.progress_list.row(item))

    def _on_keypoint_row(self, row: int) -> None:
        if row >= 0:
            self.current = row

    def _show_names(self, on: bool) -> None:
        if self.points_layer is not None:
            self.points_layer.text.visible = on

    # ------------------------------------------------------------------ actions (keys)
    def select_keypoint(self, k: int) -> None:
        """Make keypoint ``k`` the one a click places."""
        if self.model is None or not self.model.keypoints:
            return
        self.current = int(k) % len(self.model.keypoints)
        self.keypoint_list.blockSignals(True)
        self.keypoint_list.setCurrentRow(self.current)
        self.keypoint_list.blockSignals(False)

    def next_keypoint(self) -> None:
        self.select_keypoint(self.current + 1)

    def previous_keypoint(self) -> None:
        self.select_keypoint(self.current - 1)

    def go_to_frame(self, t: int) -> None:
        if self.model is None:
            return
        t = min(max(int(t), 0), len(self.model.image_names) - 1)
        self.viewer.dims.set_current_step(0, t)

    def next_frame(self) -> None:
        self.go_to_frame(self._frame() + 1)

    def previous_frame(self) -> None:
        self.go_to_frame(self._frame() - 1)

    def next_unlabeled(self) -> None:
        if self.model is None:
            return
        t = self.model.next_unlabeled_frame(self._frame())
        if t is None:
            self.info("Every frame has all its labels.")
            return
        self.go_to_frame(t)
        missing = np.flatnonzero(~self.model.labeled(t))
        if len(missing):
            self.select_keypoint(int(missing[0]))

    def set_mode(self, mode: str) -> None:
        if mode not in MODES:
            raise ValueError(f"unknown mode {mode!r}")
        self.mode = mode
        if self.mode_combo.currentText() != mode:
            self.mode_combo.setCurrentText(mode)
        self.mode_combo.setToolTip(MODE_HELP[mode])

    def cycle_mode(self) -> None:
        self.set_mode(MODES[(MODES.index(self.mode) + 1) % len(MODES)])

    def copy_previous(self) -> None:
        if self.model is None:
            return
        n = self.model.copy_from_previous(self._frame())
        if n:
            self.redraw()
        self.info(
            f"Copied {n} label(s) from the previous labeled frame."
            if n
            else "Nothing to copy: no earlier labeled frame, or this frame is complete."
        )

    def mark_not_visible(self) -> None:
        if self.model is None:
            return
        t = self._frame()
        self.model.clear_points([(t, self.current)])
        self.redraw()
        if self.mode == "sequential":
            self._advance(t)

    def undo(self) -> None:
        if self.model is not None and self.model.undo():
            self.redraw()

    def redo(self) -> None:
        if self.model is not None and self.model.redo():
            self.redraw()

    def accept_frame(self) -> None:
        """Accept the predictions of the current frame as labels (A)."""
        if self.model is None:
            return
        n = self.model.accept([self._frame()])
        if n:
            self.redraw()
        self.info(f"Accepted {n} prediction(s)." if n else "No prediction to accept here.")

    def accept_all(self) -> None:
        """Accept every prediction shown as a label."""
        if self.model is None:
            return
        n = self.model.accept()
        if n:
            self.redraw()
        self.info(f"Accepted {n} prediction(s)." if n else "No prediction to accept.")

    def next_prediction(self) -> None:
        """Go to the next frame with predictions to review (P)."""
        if self.model is None:
            return
        frames = self.model.predicted_frames()
        if not frames:
            self.info("No predictions left to review.")
            return
        t = self._frame()
        self.go_to_frame(next((f for f in frames if f > t), frames[0]))

    def toggle_names(self) -> None:
        self.names_check.setChecked(not self.names_check.isChecked())

    @staticmethod
    def shortcuts() -> list[tuple[str, str, str]]:
        """The keyboard shortcuts (key, action, description)."""
        return list(LABELING_SHORTCUTS)


__all__ = ["MODES", "LabelingDock"]
