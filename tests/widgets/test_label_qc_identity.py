"""The label-QC panel on a multi-animal project in a real viewer: two mice exchanged in one
labeled frame are listed as a likely mistake, fixed with one click through the Labeling dock's
safe save (a backup kept); notes are shown only when asked for."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from napari_dlcflow.core.example.group import GroupSpec
from napari_dlcflow.core.example.truth_labels import make_labeled_group_project
from napari_dlcflow.core.labels.collected import load_folder, read_labels, write_labels
from napari_dlcflow.core.safe_io import list_backups

pytestmark = pytest.mark.gui


def test_identity_swap_found_and_fixed_in_the_viewer(
    make_napari_viewer, tmp_path: Path, save_screenshot
) -> None:
    from napari_dlcflow.napari_common import state_for_viewer

    spec = GroupSpec(n_animals=2, n_frames=24, height=128, width=128, seed=3, shelter=False)
    project = make_labeled_group_project(tmp_path, spec, frame_indices=range(0, 24, 2))
    data = project.root / "labeled-data" / "synthetic_animals"
    labels = load_folder(data)
    assert labels is not None
    original = labels.xy.copy()
    m1 = [k for k, (ind, _) in enumerate(labels.keypoints) if ind == "mouse1"]
    m2 = [k for k, (ind, _) in enumerate(labels.keypoints) if ind == "mouse2"]
    # an image where both mice are fully labeled (an exchange with hidden parts moves labels
    # to NaN, and the dock's safe save then asks first, as for any deletion)
    t = next(t for t in range(3, 10) if np.isfinite(labels.xy[t]).all())
    labels.xy[t, m1 + m2] = labels.xy[t, m2 + m1]
    (h5,) = data.glob("CollectedData_*.h5")
    write_labels(labels, data)
    image = labels.image_names[t]

    viewer = make_napari_viewer()
    _, dock = viewer.window.add_plugin_dock_widget("napari-dlcflow", "Labeling")
    state_for_viewer(viewer).open(project.config_path)
    dock._open_selected()
    assert dock.model is not None, dock.status.text()
    panel = dock.qc
    found = panel.run_check()
    ident = [f for f in found if f.kind == "identity"]
    assert [(f.image, {f.individual, f.other}, f.severity) for f in ident] == [
        (image, {"mouse1", "mouse2"}, "mistake")
    ]
    # notes are hidden until asked for
    rows = range(panel.table.rowCount())
    shown = {panel.finding_at(r).severity for r in rows if not panel.table.isRowHidden(r)}
    assert shown == {"mistake"}
    if any(not f.mistake for f in found):
        panel.notes_box.setChecked(True)
        assert not any(panel.table.isRowHidden(r) for r in rows)
        panel.notes_box.setChecked(False)
    # the jump selects both animals' points in that frame and says why
    row = next(r for r in rows if panel.finding_at(r).kind == "identity")
    assert panel.jump(row)
    assert viewer.dims.current_step[0] == t
    assert "trade places" in panel.note.text() and "identities" in panel.note.text()
    layer = dock.points_layer
    both = np.isfinite(labels.xy[t, m1, 0]) & np.isfinite(labels.xy[t, m2, 0])
    assert len(ident[0].bodyparts) == both.sum()
    assert len(layer.selected_data) == 2 * both.sum()
    assert {int(layer.data[i][0]) for i in layer.selected_data} == {t}
    assert panel.fix_button.isEnabled() and panel.fix_button.text() == "Fix identity"
    from napari_dlcflow.widgets.common.screenshot import prepare

    prepare(viewer)  # the window at its screenshot size, the dock scrolled to the panel
    bar = dock.verticalScrollBar()
    bar.setValue(bar.maximum())
    save_screenshot(viewer, "label-qc-identity")
    n_backups = len(list_backups(h5))
    assert panel.fix_swap(), panel.note.text()
    np.testing.assert_array_equal(read_labels(h5).xy, original)
    assert len(list_backups(h5)) == n_backups + 1
    assert not dock.model.dirty
    assert not any(f.kind == "identity" for f in panel.run_check())
