"""The workflow dock in a real napari viewer: live step headers, the next step, lazy pages."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from napari_dlcflow.core.example.synthetic import SyntheticSpec
from napari_dlcflow.core.example.truth_labels import make_labeled_synthetic_project
from napari_dlcflow.napari_common import state_for_viewer
from napari_dlcflow.widgets.workflow.dock import WorkflowDock

pytestmark = pytest.mark.gui


def _dock(viewer: Any) -> WorkflowDock:
    _, widget = viewer.window.add_plugin_dock_widget("napari-dlcflow", "Workflow")
    assert isinstance(widget, WorkflowDock)
    return widget


def test_workflow_is_the_first_widget_the_plugin_offers() -> None:
    import npe2

    pm = npe2.PluginManifest.from_distribution("napari-dlcflow")
    assert pm.contributions.widgets[0].display_name == "Workflow"


def test_empty_viewer_then_a_labeled_project(
    make_napari_viewer: Any, tmp_path: Path, qtbot: Any, save_screenshot: Any
) -> None:
    viewer = make_napari_viewer()
    dock = _dock(viewer)
    assert dock.status is not None and dock.status.next_step == "project"
    assert "Next: Project." in dock.next_label.text()
    assert len(viewer.layers) == 0  # opening the dock adds nothing
    assert dock.pages == {}  # no step dock made before it is asked for

    project = make_labeled_synthetic_project(
        tmp_path, SyntheticSpec(n_frames=40, height=96, width=96, seed=2), n_labeled=8
    )
    state_for_viewer(viewer).open(project.config_path)
    n = len(project.all_bodyparts)
    qtbot.waitUntil(lambda: "Dataset" in dock.next_label.text(), timeout=20000)
    assert dock.buttons["labeling"].text() == f"✓  Labeling: 8 of 8 frames, {n} body parts"
    assert dock.buttons["dataset"].text().startswith("→  Dataset: none for iteration 0")
    assert dock.buttons["dataset"].font().bold()
    assert dock.current == "project"  # opening a project shows its step
    assert len(viewer.layers) == 0

    dock.go_next()
    assert dock.current == "dataset"
    assert set(dock.pages) == {"project", "dataset"}
    save_screenshot(viewer, "workflow-dataset-next", size=(1500, 1000))


def test_a_step_page_uses_the_dock_height(
    make_napari_viewer: Any, tmp_path: Path, qtbot: Any, save_screenshot: Any
) -> None:
    """At a real window size the step's page fills the dock below the headers. A page that
    scrolls (Labeling's) was squeezed into about 150 px in the walkthrough: napari adds a
    stretch below a dock whose widgets do not ask for height, with a factor that grows with
    every dock added in the session, and the page kept little more than its size hint."""
    viewer = make_napari_viewer()
    dock = _dock(viewer)
    project = make_labeled_synthetic_project(
        tmp_path, SyntheticSpec(n_frames=20, height=64, width=64, seed=2), n_labeled=4
    )
    state_for_viewer(viewer).open(project.config_path)
    qtbot.waitUntil(lambda: dock.status is not None and dock.current == "project", timeout=20000)
    dock.show_step("labeling")
    save_screenshot(viewer, "workflow-labeling-height", size=(1500, 1000))
    below_headers = dock.height() - dock.buttons["refine"].geometry().bottom()
    assert dock.stack.height() >= below_headers - 40, (dock.stack.height(), below_headers)
    # the squeeze grew with every dock added before (napari's stretch factor counts up): here
    # it may not show, so check its cause, that napari put no stretch below the page
    lay = dock.layout()
    assert all(lay.itemAt(i).spacerItem() is None for i in range(lay.count()))
