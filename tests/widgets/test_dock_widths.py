"""Every dock is usable at 360 px wide, with a project, a video and predictions open (issue 13).

napari's default window is about 1280 px wide; a dock of 360 px leaves the canvas most of it.
At that width a dock's minimum width (what Qt enforces: its own minimum, or its scrolling
body's minimum plus the frame) must fit, and no visible widget may stick out past the right
edge of what the user sees (the dock, or the viewport of a dock that scrolls vertically).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from qtpy.QtCore import QPoint, Qt
from qtpy.QtWidgets import QAbstractScrollArea, QApplication, QScrollArea, QWidget

from napari_dlcflow.core.example.synthetic import BODYPARTS, SyntheticSpec, render_synthetic
from napari_dlcflow.core.example.truth_labels import make_labeled_synthetic_project
from napari_dlcflow.core.predictions.analysis_files import (
    scorer_name,
    simulate_predictions,
    write_predictions,
)
from napari_dlcflow.core.project.config import Project
from napari_dlcflow.napari_common import state_for_viewer
from napari_dlcflow.widgets.workflow.dock import PAGES

pytestmark = pytest.mark.gui

WIDTH = 360
SPEC = SyntheticSpec(n_frames=40, height=64, width=64, seed=1)
SCORER = scorer_name("resnet_50", "synthetic", "Nov24", 1, "best-20")
ARTIFACTS = Path(__file__).resolve().parents[1] / "_artifacts"  # looked at, not in the docs
DOCKS = (
    "Project",
    "Preprocess",
    "Labeling",
    "Dataset",
    "Training",
    "Overlay",
    "Plots",
    "Proofread",
)


@pytest.fixture
def project(tmp_path: Path, dlc_iteration_layout: Any) -> Project:
    """A labeled synthetic project (long paths, as in a real home folder) with an iteration
    history, so that the Project dock shows its iteration table."""
    # one long word, as paths often are: it cannot wrap, so only eliding keeps the dock narrow
    folder = tmp_path / "a_rather_long_folder_name_for_the_experiments_of_this_lab_2026"
    return dlc_iteration_layout(make_labeled_synthetic_project(folder, SPEC, n_labeled=8))


def _viewer(make_napari_viewer: Any, project: Project) -> tuple[Any, Path]:
    """A shown viewer with the project open, its video and predictions of it as layers;
    the viewer and the analysis file."""
    viewer = make_napari_viewer(show=True)
    viewer.window._qt_window.resize(1280, 900)
    state_for_viewer(viewer).open(project.config_path)
    video = Path(next(iter(project.videos)))
    viewer.open(str(video), plugin="napari-dlcflow")
    pred = simulate_predictions(render_synthetic(SPEC).keypoints, BODYPARTS, scorer=SCORER)
    h5 = video.with_name(f"{video.stem}{SCORER}.h5")
    write_predictions(pred, h5)
    viewer.open(str(h5), plugin="napari-dlcflow")
    return viewer, h5


def _open(viewer: Any, name: str) -> QWidget:
    """Open dock ``name`` and make its widget ``WIDTH`` px wide."""
    dock_widget, widget = viewer.window.add_plugin_dock_widget("napari-dlcflow", name)
    _set_width(viewer, dock_widget, widget)
    return widget


def _set_width(viewer: Any, dock_widget: Any, widget: QWidget) -> None:
    QApplication.processEvents()
    extra = dock_widget.width() - widget.width()  # the dock's own margins
    viewer.window._qt_window.resizeDocks([dock_widget], [WIDTH + extra], Qt.Orientation.Horizontal)
    for _ in range(3):
        QApplication.processEvents()


def _grab(widget: QWidget, name: str) -> None:
    """Save what the dock shows at this width, to look at (tests/_artifacts/width-NAME.png)."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    widget.grab().save(str(ARTIFACTS / f"width-{name}.png"))


def _min_width(w: QWidget) -> int:
    """The narrowest Qt lets ``w`` be without clipping its content."""
    if isinstance(w, QScrollArea) and w.widget() is not None:
        return max(w.minimumWidth(), w.widget().minimumSizeHint().width() + 2 * w.frameWidth())
    return max(w.minimumWidth(), w.minimumSizeHint().width())


def _describe(w: QWidget) -> str:
    text = ""
    for attr in ("text", "title", "currentText"):
        if hasattr(w, attr):
            text = str(getattr(w, attr)())[:40]
            break
    parent = w.parentWidget()
    return f"{type(w).__name__}({text!r}) in {type(parent).__name__ if parent else None}"


def _clipped(root: QWidget, clip: QWidget | None = None) -> list[str]:
    """Visible widgets under ``root`` whose right edge lies beyond ``clip`` (the nearest
    scrolling viewport, else ``root``); widgets inside lists, tables and text views scroll
    with them and are not looked at."""
    clip = clip or root
    problems = []
    for child in root.findChildren(QWidget, options=Qt.FindChildOption.FindDirectChildrenOnly):
        if child.isWindow() or not child.isVisible():
            continue
        right = child.mapTo(clip, QPoint(child.width(), 0)).x()
        if right > clip.width():
            problems.append(f"{_describe(child)} ends at {right} > {clip.width()}")
        if isinstance(child, QScrollArea) and child.widget() is not None:
            problems += _scroll_problems(child)
        elif not isinstance(child, QAbstractScrollArea):
            problems += _clipped(child, clip)
    return problems


def _scroll_problems(area: QScrollArea) -> list[str]:
    """What is wrong with a vertically scrolling body at its current width."""
    problems = []
    body, viewport = area.widget(), area.viewport()
    if area.horizontalScrollBar().maximum() > 0:
        problems.append(f"{type(area).__name__} scrolls sideways")
    if body.width() > viewport.width():
        problems.append(
            f"{type(area).__name__}'s body is {body.width()} px in a {viewport.width()} px view "
            f"(minimum {body.minimumSizeHint().width()})"
        )
    return problems + _clipped(body, viewport)


def _widest(root: QWidget, n: int = 6) -> list[str]:
    """The widgets that need the most room: their left edge plus their minimum width."""
    need = []
    for w in root.findChildren(QWidget):
        if w.isWindow() or not w.isVisible():
            continue
        left = w.mapTo(root, QPoint(0, 0)).x()
        need.append((left + max(w.minimumWidth(), w.minimumSizeHint().width()), _describe(w)))
    return [f"needs {x} px: {d}" for x, d in sorted(need, reverse=True)[:n]]


def _check(widget: QWidget) -> None:
    problems = []
    if _min_width(widget) > WIDTH:
        problems = [f"minimum width {_min_width(widget)}", *_widest(widget)]
    if widget.width() > WIDTH:
        problems.append(f"{widget.width()} px wide")
    if isinstance(widget, QScrollArea):
        problems += _scroll_problems(widget)
    else:
        problems += _clipped(widget)
    assert not problems, f"{type(widget).__name__} at {WIDTH} px:\n" + "\n".join(problems)


@pytest.mark.parametrize("name", DOCKS)
def test_dock_fits_360_px(make_napari_viewer: Any, project: Project, name: str) -> None:
    viewer, h5 = _viewer(make_napari_viewer, project)
    widget = _open(viewer, name)
    if name == "Project":  # its rows that depend on the project are there
        assert widget.iterations.table.rowCount() == 1
        assert widget.edit_box.isEnabled()
    if name == "Overlay":  # with its rows of a loaded analysis file
        assert widget.load(h5)
    QApplication.processEvents()
    _grab(widget, name.lower())
    _check(widget)
    if name == "Project":  # and the form of a new project
        widget._show_new_form()
        QApplication.processEvents()
        _check(widget)


def test_workflow_dock_fits_360_px_with_every_step(
    make_napari_viewer: Any, project: Project
) -> None:
    viewer, _ = _viewer(make_napari_viewer, project)
    dock_widget, widget = viewer.window.add_plugin_dock_widget("napari-dlcflow", "Workflow")
    for key in PAGES:
        page = widget.show_step(key)
        _set_width(viewer, dock_widget, widget)
        assert page.isVisible(), key
        _grab(widget, f"workflow-{key}")
        _check(widget)
