"""The Project dock: create or open a DeepLabCut project and edit its ``config.yaml``."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from qtpy.QtWidgets import (
    QComboBox,
    QDoubleSpinBox,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QListWidget,
    QPushButton,
    QScrollArea,
    QSpinBox,
    QVBoxLayout,
)

from napari_dlcflow.core.layers.colors import COLORMAPS
from napari_dlcflow.core.project.config import ConfigChangedOnDiskError, ConfigError, Project
from napari_dlcflow.napari_common import state_for_viewer
from napari_dlcflow.widgets.common import dialogs as _dialogs
from napari_dlcflow.widgets.common.dock import (
    ElidedLabel,
    button_grid,
    narrow_combo,
    scroll_body,
    wrap_rows,
)
from napari_dlcflow.widgets.common.jobs import JobRunner, RunCancelRow, StatusLine
from napari_dlcflow.widgets.common.name_list import NameList
from napari_dlcflow.widgets.project.new_project_form import NewProjectForm
from napari_dlcflow.widgets.project.skeleton_view import SkeletonView
from napari_dlcflow.widgets.refine.iterations import IterationsSection

if TYPE_CHECKING:
    import napari


class ProjectDock(QScrollArea):
    """Create or open a project; edit body parts, individuals, skeleton, display and videos.

    Parameters
    ----------
    napari_viewer : napari.Viewer
        The viewer whose project state this dock shows and edits.
    """

    def __init__(self, napari_viewer: napari.Viewer) -> None:
        super().__init__()
        self.viewer = napari_viewer
        self.state = state_for_viewer(napari_viewer)
        layout = scroll_body(self)

        top = QHBoxLayout()
        self.new_button = QPushButton("New project…")
        self.new_button.clicked.connect(self._show_new_form)
        self.open_button = QPushButton("Open…")
        self.open_button.clicked.connect(self._open_dialog)
        top.addWidget(self.new_button)
        top.addWidget(self.open_button)
        layout.addLayout(top)
        self.path_label = ElidedLabel("No project open.")  # the path, shortened to fit
        layout.addWidget(self.path_label)
        self.status = StatusLine("Open a config.yaml, or drop a project folder on napari.")
        layout.addWidget(self.status)

        self.repair_box = QGroupBox("project_path does not match")
        repair_layout = QVBoxLayout(self.repair_box)
        self.repair_label = QLabel("")
        self.repair_label.setWordWrap(True)
        self.repair_button = QPushButton("Repair project_path (saved when you save)")
        self.repair_button.clicked.connect(self._repair)
        repair_layout.addWidget(self.repair_label)
        repair_layout.addWidget(self.repair_button)
        layout.addWidget(self.repair_box)

        self.new_form = NewProjectForm()
        self.new_form.create_requested.connect(self._create)
        self.new_form.cancelled.connect(lambda: self.new_form.setVisible(False))
        layout.addWidget(self.new_form)

        self.edit_box = QGroupBox("Project")
        self._build_editor(QVBoxLayout(self.edit_box))
        layout.addWidget(self.edit_box)
        self.iterations = IterationsSection(self.state, self._error, self._info)
        self.iterations.busy.connect(self._on_busy)
        layout.addWidget(self.iterations)
        layout.addStretch(1)

        self.new_form.setVisible(False)
        self.state.opened.connect(self._on_opened)
        self.state.changed.connect(self._refresh)
        self.state.saved.connect(self._refresh)
        self._on_opened(self.state.project)

    # ------------------------------------------------------------------ layout
    def _build_editor(self, layout: QVBoxLayout) -> None:
        self.info_label = QLabel("")
        self.info_label.setWordWrap(True)
        layout.addWidget(self.info_label)

        self.bodyparts = NameList("new body part")
        self.bodyparts.edited.connect(lambda names: self._apply("bodyparts", names))
        self.bodyparts.renamed.connect(self._rename)
        self.unique_box = QGroupBox("Unique body parts (once per frame)")
        self.unique = NameList("new unique body part")
        self.unique.edited.connect(lambda names: self._apply("unique_bodyparts", names))
        self.unique.renamed.connect(self._rename)
        QVBoxLayout(self.unique_box).addWidget(self.unique)
        self.individuals_box = QGroupBox("Individuals")
        self.individuals = NameList("new individual")
        self.individuals.edited.connect(lambda names: self._apply("individuals", names))
        self.individuals.renamed.connect(self._rename_individual)
        QVBoxLayout(self.individuals_box).addWidget(self.individuals)
        parts_box = QGroupBox("Body parts")
        QVBoxLayout(parts_box).addWidget(self.bodyparts)
        layout.addWidget(parts_box)
        layout.addWidget(self.unique_box)
        layout.addWidget(self.individuals_box)

        skel_box = QGroupBox("Skeleton")
        skel = QVBoxLayout(skel_box)
        pick = QHBoxLayout()
        self.edge_a = narrow_combo(QComboBox(), 5)
        self.edge_b = narrow_combo(QComboBox(), 5)
        self.add_edge_button = QPushButton("Add edge")
        self.add_edge_button.clicked.connect(self._add_edge)
        pick.addWidget(self.edge_a, 1)
        pick.addWidget(QLabel("–"))
        pick.addWidget(self.edge_b, 1)
        skel.addLayout(pick)
        self.remove_edge_button = QPushButton("Remove edge")
        self.remove_edge_button.clicked.connect(self._remove_edge)
        skel.addLayout(button_grid([self.add_edge_button, self.remove_edge_button]))
        self.edges = QListWidget()
        self.edges.setMaximumHeight(100)
        skel.addWidget(self.edges)
        self.skeleton_view = SkeletonView()
        skel.addWidget(self.skeleton_view)
        layout.addWidget(skel_box)

        display = QGroupBox("Display")
        form = wrap_rows(QFormLayout(display))
        self.colormap = narrow_combo(QComboBox())
        self.colormap.setEditable(True)
        self.colormap.addItems(COLORMAPS)
        self.colormap.activated.connect(
            lambda _i: self._apply("colormap", self.colormap.currentText())
        )
        self.pcutoff = QDoubleSpinBox()
        self.pcutoff.setRange(0.0, 1.0)
        self.pcutoff.setSingleStep(0.05)
        self.pcutoff.setDecimals(2)
        self.pcutoff.valueChanged.connect(lambda v: self._apply("pcutoff", round(v, 4)))
        self.dotsize = QSpinBox()
        self.dotsize.setRange(0, 200)
        self.dotsize.valueChanged.connect(lambda v: self._apply("dotsize", v))
        form.addRow("Colormap", self.colormap)
        form.addRow("p-cutoff", self.pcutoff)
        form.addRow("Dot size", self.dotsize)
        layout.addWidget(display)

        videos_box = QGroupBox("Videos")
        vids = QVBoxLayout(videos_box)
        self.videos = QListWidget()
        self.videos.setMaximumHeight(100)
        vids.addWidget(self.videos)
        row = QHBoxLayout()
        self.add_videos_button = QPushButton("Add videos…")
        self.add_videos_button.clicked.connect(self._add_videos)
        self.remove_video_button = QPushButton("Remove from project")
        self.remove_video_button.clicked.connect(self._remove_video)
        row.addWidget(self.add_videos_button)
        row.addWidget(self.remove_video_button)
        vids.addLayout(row)
        layout.addWidget(videos_box)

        actions = QHBoxLayout()
        self.save_button = QPushButton("Save config.yaml")
        self.save_button.clicked.connect(self.save)
        self.reload_button = QPushButton("Reload")
        self.reload_button.clicked.connect(self._reload)
        check_row = RunCancelRow("Check with DeepLabCut", cancel=False)
        self.check_button = check_row.run_button
        self.check_button.setToolTip("Ask DeepLabCut itself (in a separate process) to load it")
        self.check_button.clicked.connect(self.check_with_dlc)
        actions.addWidget(self.save_button)
        actions.addWidget(self.reload_button)
        self.jobs = JobRunner(status=self.status, row=check_row)
        layout.addLayout(actions)
        layout.addWidget(check_row)  # its own row: the dock stays narrow

    # ------------------------------------------------------------------ messages
    def _error(self, message: str) -> None:
        self.status.error(message)

    def _info(self, message: str) -> None:
        self.status.info(message)

    def _on_busy(self, busy: bool) -> None:
        # config.yaml is rewritten while an iteration starts: no edits, no other project
        for widget in (self.edit_box, self.new_button, self.open_button):
            widget.setEnabled(not busy)
        if not busy:
            self.edit_box.setEnabled(self.state.project is not None)

    # ------------------------------------------------------------------ open / create
    def open_project(self, path: str) -> Project | None:
        """Open the project at ``path``; on failure say why and keep the current one."""
        try:
            project = self.state.open(path)
        except (ConfigError, FileNotFoundError, OSError) as exc:
            self._error(f"Cannot open: {exc}")
            return None
        self._info(f"Opened {project.config_path}")
        return project

    def _open_dialog(self) -> None:
        path = _dialogs.ask_config_file(self)
        if path:
            self.open_project(path)

    def _show_new_form(self) -> None:
        self.new_form.setVisible(True)

    def _create(self, params: dict[str, Any]) -> None:
        from napari_dlcflow.core.project.create import create_project

        try:
            project = create_project(**params)
        except (ValueError, OSError) as exc:
            self._error(f"Cannot create the project: {exc}")
            return
        self.new_form.setVisible(False)
        self.state.set_project(project)
        self._info(f"Created {project.root}")

    # ------------------------------------------------------------------ showing
    def _on_opened(self, project: Project | None) -> None:
        self.edit_box.setEnabled(project is not None)
        if project is None:
            self.repair_box.setVisible(False)
            return
        self.path_label.setText(str(project.config_path))
        self._refresh()

    def _refresh(self, *_args: object) -> None:
        p = self.state.project
        if p is None:
            return
        kind = "multi-animal" if p.multianimal else "single animal"
        self.info_label.setText(
            f"Task <b>{p.task}</b> · scorer <b>{p.scorer}</b> · {p.date} · {kind} · "
            f"{len(p.all_bodyparts)} body parts"
        )
        self.bodyparts.set_names(p.bodyparts)
        self.unique.set_names(p.unique_bodyparts)
        self.individuals.set_names(p.individuals)
        self.unique_box.setVisible(p.multianimal)
        self.individuals_box.setVisible(p.multianimal)
        for combo in (self.edge_a, self.edge_b):
            current = combo.currentText()
            combo.clear()
            combo.addItems(p.all_bodyparts)
            if current in p.all_bodyparts:
                combo.setCurrentText(current)
        self.edges.clear()
        self.edges.addItems([f"{a} – {b}" for a, b in p.skeleton])
        self.skeleton_view.set_skeleton(p.all_bodyparts, p.skeleton)
        for widget, value in ((self.pcutoff, p.pcutoff), (self.dotsize, p.dotsize)):
            widget.blockSignals(True)
            widget.setValue(value)
            widget.blockSignals(False)
        self.colormap.setCurrentText(p.colormap)
        self.videos.clear()
        self.videos.addItems(list(p.videos))
        self.repair_box.setVisible(not p.project_path_ok)
        self.repair_label.setText(
            f"config.yaml says project_path is {p.project_path!r}, but the file is in "
            f"{p.root}. DeepLabCut needs them to agree."
        )
        self.save_button.setText("Save config.yaml *" if p.dirty else "Save config.yaml")

    # ------------------------------------------------------------------ editing
    def _apply(self, attribute: str, value: Any) -> None:
        p = self.state.project
        if p is None:
            return
        if getattr(p, attribute) == value:
            return
        try:
            setattr(p, attribute, value)
        except ValueError as exc:
            self._error(str(exc))
        else:
            self._info("")
        self.state.notify_changed()

    def _rename(self, old: str, new: str) -> None:
        p = self.state.project
        if p is None:
            return
        try:
            p.rename_bodypart(old, new)
        except ValueError as exc:
            self._error(str(exc))
        else:
            self._info(f"Renamed {old} to {new} (labels already saved keep the old name)")
        self.state.notify_changed()

    def _rename_individual(self, old: str, new: str) -> None:
        p = self.state.project
        if p is not None:
            self._apply("individuals", [new if i == old else i for i in p.individuals])

    def _add_edge(self) -> None:
        p = self.state.project
        if p is None:
            return
        try:
            p.add_edge(self.edge_a.currentText(), self.edge_b.currentText())
        except ValueError as exc:
            self._error(str(exc))
        self.state.notify_changed()

    def _remove_edge(self) -> None:
        p = self.state.project
        row = self.edges.currentRow()
        if p is None or not 0 <= row < len(p.skeleton):
            return
        p.remove_edge(*p.skeleton[row])
        self.state.notify_changed()

    def _add_videos(self) -> None:
        from napari_dlcflow.core.project.create import add_videos

        p = self.state.project
        paths = _dialogs.ask_videos(self)
        if p is None or not paths:
            return
        try:
            added = add_videos(p, paths)
        except (ValueError, OSError) as exc:
            self._error(f"Cannot add videos: {exc}")
            return
        self._info(f"Added {len(added)} video(s); save to keep them in config.yaml")
        self.state.notify_changed()

    def _remove_video(self) -> None:
        p = self.state.project
        item = self.videos.currentItem()
        if p is None or item is None:
            return
        p.remove_video(item.text())
        self._info("Removed from config.yaml on save; the video file itself is kept")
        self.state.notify_changed()

    def _repair(self) -> None:
        p = self.state.project
        if p is not None:
            p.repair_project_path()
            self.state.notify_changed()

    def _reload(self) -> None:
        p = self.state.project
        if p is None:
            return
        try:
            p.reload()
        except (ConfigError, OSError) as exc:
            self._error(f"Cannot reload: {exc}")
            return
        self._info("Reloaded from disk")
        self.state.notify_changed()

    def save(self, *, force: bool = False) -> bool:
        """Save ``config.yaml``; True on success, else the reason is shown."""
        if self.state.project is None:
            return False
        try:
            self.state.save(force=force)
        except ConfigChangedOnDiskError as exc:
            self._error(f"{exc}")
            return False
        except (ConfigError, OSError) as exc:
            self._error(f"Not saved: {exc}")
            return False
        self._info(f"Saved {self.state.project.config_path} (previous version backed up)")
        return True

    def check_with_dlc(self) -> Any:
        """Ask DeepLabCut, in a child process, whether it accepts the saved config."""
        from napari_dlcflow.core.engine.dlc_check import check_config_in_child

        p = self.state.project
        if p is None:
            return None
        if p.dirty:
            self._error("Save first: DeepLabCut checks the file on disk")
            return None

        def done(verdict: Any) -> None:
            (self._info if verdict.ok else self._error)(verdict.message)

        return self.jobs.start(
            check_config_in_child,
            p.config_path,
            message="Asking DeepLabCut (takes 10-30 s)…",
            error_prefix="DeepLabCut check failed",
            on_result=done,
        )
