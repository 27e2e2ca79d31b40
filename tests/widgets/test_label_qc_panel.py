"""The label-QC panel of the Labeling dock in a real viewer on the real openfield project:
the list, the filter, the jump, the swap fix through the normal safe save, the dismissal."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from napari_dlcflow.core.labels.collected import read_labels, write_labels
from napari_dlcflow.core.labels.qc import dismissed_keys
from napari_dlcflow.core.safe_io import list_backups

pytestmark = pytest.mark.gui


def _open(make_napari_viewer, project: Path):  # type: ignore[no-untyped-def]
    from napari_dlcflow.napari_common import state_for_viewer

    viewer = make_napari_viewer()
    _, dock = viewer.window.add_plugin_dock_widget("napari-dlcflow", "Labeling")
    state_for_viewer(viewer).open(project / "config.yaml")
    dock._open_selected()
    assert dock.model is not None, dock.status.text()
    return viewer, dock


def test_findings_list_jump_fix_and_dismiss(
    make_napari_viewer, openfield_project: Path, save_screenshot
) -> None:
    folder = openfield_project / "labeled-data" / "m4s1"
    h5 = folder / "CollectedData_Pranav.h5"
    labels = read_labels(h5)
    labels.xy[30, [1, 2]] = labels.xy[30, [2, 1]]  # ears exchanged in img0030
    write_labels(labels, folder)
    original = labels.xy.copy()
    viewer, dock = _open(make_napari_viewer, openfield_project)
    panel = dock.qc
    found = panel.run_check()
    assert {(f.kind, f.image) for f in found} == {
        ("swap", "img0030.png"),
        ("swap", "img0102.png"),
        ("misplaced", "img0097.png"),
        ("misplaced", "img0041.png"),
    }
    assert panel.table.rowCount() == 4
    assert panel.note.text() == "4 likely mistakes: swap 2, misplaced 2."
    # filter by kind
    panel.kind_combo.setCurrentText("misplaced")
    shown = [r for r in range(4) if not panel.table.isRowHidden(r)]
    assert sorted(panel.finding_at(r).image for r in shown) == ["img0041.png", "img0097.png"]
    panel.kind_combo.setCurrentText("swap")
    # sort by image: img0030 first
    panel.table.sortItems(1)
    row = next(r for r in range(4) if panel.finding_at(r).image == "img0030.png")
    assert not panel.table.isRowHidden(row)
    # the jump: frame 30, the two ears selected
    assert panel.jump(row)
    assert viewer.dims.current_step[0] == 30
    layer = dock.points_layer
    sel = sorted(layer.selected_data)
    assert [int(layer.data[i][0]) for i in sel] == [30, 30]
    assert sorted(layer.features["bodypart"][i] for i in sel) == ["leftear", "rightear"]
    assert panel.fix_button.isEnabled()
    from napari_dlcflow.widgets.common.screenshot import prepare

    prepare(viewer)  # the window at its screenshot size, then scroll the dock to the panel
    bar = dock.verticalScrollBar()
    bar.setValue(bar.maximum())
    save_screenshot(viewer, "label-qc-panel")
    # one-click fix, saved through the dock's safe save (a backup of the file is kept)
    n_backups = len(list_backups(h5))
    assert panel.fix_swap(), panel.note.text()
    after = read_labels(h5)
    np.testing.assert_array_equal(after.xy[30, 1], original[30, 2])
    np.testing.assert_array_equal(after.xy[30, 2], original[30, 1])
    same = np.delete(after.xy, 30, 0)
    np.testing.assert_array_equal(same, np.delete(original, 30, 0))
    assert len(list_backups(h5)) == n_backups + 1
    assert not dock.model.dirty
    assert "img0030.png" not in {f.image for f in panel.findings}
    # dismiss the other swap: remembered in the sidecar, gone after a new check
    panel.kind_combo.setCurrentText("all kinds")
    row = next(r for r in range(panel.table.rowCount()) if panel.finding_at(r).kind == "swap")
    panel.table.selectRow(row)
    key = panel.finding_at(row).key
    assert panel.dismiss_selected()
    assert dismissed_keys(openfield_project) == {key}
    assert {(f.kind, f.image) for f in panel.run_check()} == {
        ("misplaced", "img0097.png"),
        ("misplaced", "img0041.png"),
    }


def test_dataset_report_shows_the_findings_count(qtbot, openfield_project: Path) -> None:
    from napari_dlcflow.core.labels.validation import validate_project
    from napari_dlcflow.core.project.config import Project
    from napari_dlcflow.widgets.dataset.report import ReportView

    project = Project.open(openfield_project)
    view = ReportView()
    qtbot.addWidget(view)
    report = validate_project(project)
    view.show_report(report)
    assert not any(line.startswith("Label check") for line in view.lines())
    view.show_report(report, project)
    assert view.lines()[1] == "Label check: 3 likely mistake(s) (Labeling dock)"


def test_panel_says_views_found_from_the_positions(
    make_napari_viewer, tmp_path: Path, save_screenshot
) -> None:
    """A mirror project whose parts are numbered (nothing in the names says the views): the
    panel's note says the views found from the positions and where to confirm them."""
    from _qc_projects import numbered_views, two_view_project

    root, parts = numbered_views(two_view_project(tmp_path / "src"), tmp_path)
    _, dock = _open(make_napari_viewer, root)
    assert [f for f in dock.qc.run_check() if f.mistake] == []
    note = dock.qc.note.text().splitlines()
    assert note[1].startswith("views found from the positions: {A: [")
    assert "label_qc: views" in note[1] and parts[0] in note[1] and parts[-1] in note[1]
