"""The whole loop in a real viewer, driven through the workflow dock, with a tiny training.

From an empty viewer: make the project, label it from the synthetic truth, make the dataset in
the Dataset step, train 2 epochs in the Training step (a detached job), evaluate, analyse the
video in the Analysis step, then open Plots and Refinement. Every step header is checked
against the project on disk and every step is saved as a screenshot (walkthrough-01 ... 09,
the images of docs/walkthrough.md with ``DLCFLOW_DOCS_IMAGES=1``).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest

from napari_dlcflow.core.example.synthetic import (
    BODYPARTS,
    SKELETON,
    SyntheticSpec,
    write_synthetic_example,
)
from napari_dlcflow.core.example.truth_labels import label_from_truth
from napari_dlcflow.core.labels.collected import read_labels
from napari_dlcflow.core.project.create import create_project
from napari_dlcflow.napari_common import state_for_viewer
from napari_dlcflow.widgets.workflow.dock import WorkflowDock

pytestmark = [pytest.mark.gui, pytest.mark.slow]

SPEC = SyntheticSpec(n_frames=60, height=128, width=128, seed=4)
N_LABELED = 16
SIZE = (1500, 1000)


def _header(qtbot: Any, dock: WorkflowDock, key: str, text: str, timeout: int = 30_000) -> None:
    """Re-read the status from disk and wait until step ``key``'s header holds ``text``."""
    dock.refresh()
    qtbot.waitUntil(lambda: text in dock.buttons[key].text(), timeout=timeout)


def test_the_whole_loop_through_the_workflow_dock(
    make_napari_viewer: Any,
    tiny_training: Any,
    tmp_path: Path,
    qtbot: Any,
    save_screenshot: Any,
    request: pytest.FixtureRequest,
) -> None:
    viewer = make_napari_viewer()
    _, dock = viewer.window.add_plugin_dock_widget("napari-dlcflow", "Workflow")
    assert isinstance(dock, WorkflowDock)
    assert "Next: Project." in dock.next_label.text()
    save_screenshot(viewer, "walkthrough-01-empty", size=SIZE)

    # 1. the project, opened through the project state (as the Project dock does)
    files = write_synthetic_example(tmp_path / "example", SPEC)
    project = create_project(
        "walk", "me", [files.video], tmp_path, copy_videos=True,
        bodyparts=list(BODYPARTS), skeleton=list(SKELETON),
    )  # fmt: skip
    state_for_viewer(viewer).open(project.config_path)
    n_parts = len(BODYPARTS)
    _header(qtbot, dock, "project", f"walk, {n_parts} body parts")
    _header(qtbot, dock, "videos", "1 video")
    assert "Next: Labeling." in dock.next_label.text()
    dock.show_step("project")
    save_screenshot(viewer, "walkthrough-02-project", size=SIZE)

    # 2. labeling: frames and labels from the truth, counted back from CollectedData
    h5 = label_from_truth(project, SPEC, video_stem=files.video.stem, n_labeled=N_LABELED)
    folder = h5.parent
    state = state_for_viewer(viewer)
    state.frames_added.emit(folder)
    xy = read_labels(h5).xy
    n_on_disk = int((~np.isnan(xy).all(axis=(1, 2))).sum())
    assert n_on_disk == N_LABELED
    _header(qtbot, dock, "labeling", f"{n_on_disk} of {n_on_disk} frames, {n_parts} body parts")
    assert "Next: Dataset." in dock.next_label.text()
    labeling = dock.show_step("labeling")
    assert labeling.open_folder(folder), labeling.status.text()
    save_screenshot(viewer, "walkthrough-03-labeling", size=SIZE)

    # 3. the dataset, made in the Dataset step's dock
    dock.go_next()
    assert dock.current == "dataset"
    ds = dock.pages["dataset"]
    ds.export.create_button.click()
    qtbot.waitUntil(
        lambda: ds.summary is not None or "could not" in ds.status.text(), timeout=240_000
    )
    assert ds.summary is not None, ds.status.text()
    _header(qtbot, dock, "dataset", f"{N_LABELED} frames")
    assert "Next: Training and evaluation." in dock.next_label.text()
    save_screenshot(viewer, "walkthrough-04-dataset", size=SIZE)

    # 4. a tiny training: a detached job, followed by the step header
    dock.go_next()
    tr = dock.pages["training"]
    f = tr.form
    tiny_training(f, epochs=2, save_epochs=1)
    qtbot.waitUntil(lambda: tr.start_button.isEnabled(), timeout=30_000)
    tr.start_button.click()  # the weights are resolved first (a child), then the job starts
    qtbot.waitUntil(lambda: tr.job is not None, timeout=60_000)
    job = tr.job
    request.addfinalizer(lambda: job.status().done or job.cancel(now=True))
    qtbot.waitUntil(lambda: job.status().done, timeout=300_000)
    assert job.status().state == "finished", job.status()
    _header(qtbot, dock, "training", "snapshot")
    assert "Next: Training and evaluation." in dock.next_label.text()  # evaluate next
    save_screenshot(viewer, "walkthrough-05-training", size=SIZE)

    # 5. evaluation, in the Training step
    tr.evaluation.evaluate_button.click()
    qtbot.waitUntil(lambda: tr.evaluation.table.rowCount() > 0, timeout=300_000)
    _header(qtbot, dock, "training", "test ", timeout=60_000)
    assert "Next: Analysis and overlay." in dock.next_label.text()
    tr.ensureWidgetVisible(tr.evaluation)
    save_screenshot(viewer, "walkthrough-06-evaluation", size=SIZE)

    # 6. analysis of the video in the Analysis step's dock
    dock.go_next()
    an = dock.pages["analysis"]
    panel = an.analyze_panel
    panel.device.setCurrentText("cpu")
    worker = panel.start()
    assert worker is not None, panel.status.text()
    with qtbot.waitSignal(worker.finished, timeout=300_000):
        pass
    h5s = sorted((project.root / "videos").glob("*DLC*.h5"))
    assert h5s, panel.status.text()
    _header(qtbot, dock, "analysis", "1 of 1 video")
    assert "Next: Refinement." in dock.next_label.text()
    save_screenshot(viewer, "walkthrough-07-analysis", size=SIZE)

    # 7. plots and 8. refinement
    _header(qtbot, dock, "plots", "1 analysed video to plot")
    dock.show_step("plots")
    save_screenshot(viewer, "walkthrough-08-plots", size=SIZE)
    _header(qtbot, dock, "refine", f"iteration {project.iteration}")
    dock.go_next()
    assert dock.current == "refine"
    save_screenshot(viewer, "walkthrough-09-refine", size=SIZE)
