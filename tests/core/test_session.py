"""The label editing session without a display: undo/redo, accept, recovery, saving."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from napari_dlcflow.core.labels.collected import (
    Labels,
    LabelsError,
    folder_images,
    load_folder,
    write_labels,
)
from napari_dlcflow.core.labels.recovery import find_recovery, recovery_path
from napari_dlcflow.core.labels.session import LabelModel
from napari_dlcflow.core.project.config import Project

KEYPOINTS = [("", "nose"), ("", "tail")]


def _model(tmp_path: Path, n: int = 3) -> LabelModel:
    folder = tmp_path / "labeled-data" / "vid"
    folder.mkdir(parents=True)
    return LabelModel(folder, [f"img{i:03d}.png" for i in range(n)], "me", KEYPOINTS, False)


def _opened(project: Path) -> LabelModel:
    """The openfield labels opened the way the Labeling dock opens them."""
    (folder,) = sorted(p for p in (project / "labeled-data").iterdir() if p.is_dir())
    labels = load_folder(folder)
    assert labels is not None
    names = [p.name for p in folder_images(folder)]
    model = LabelModel(folder, names, labels.scorer, list(labels.keypoints), labels.multianimal)
    model.load(labels)
    return model


def test_undo_redo_and_one_step_per_edit(tmp_path: Path) -> None:
    m = _model(tmp_path)
    m.set_point(0, 0, 1.0, 2.0)
    m.set_many([(1, 0, 3.0, 4.0), (1, 1, 5.0, 6.0)])
    assert m.dirty and m.labeled(1).all()
    assert m.undo()  # the two points of set_many go together
    assert not m.labeled(1).any() and m.labeled(0)[0]
    assert m.redo() and m.labeled(1).all()
    m.clear_points([(1, 0), (2, 0)])  # (2, 0) was never placed: ignored
    assert not m.labeled(1)[0]
    assert m.undo() and m.labeled(1)[0]
    assert m.copy_from_previous(2) == 2  # copies frame 1 (the nearest labeled) into frame 2
    np.testing.assert_allclose(m.xy[2], m.xy[1])
    # a new edit forgets the redo history
    m.undo()
    m.set_point(0, 1, 9.0, 9.0)
    assert not m.redo()
    while m.undo():
        pass
    assert np.isnan(m.xy).all()


def test_accept_and_delete_predictions(tmp_path: Path) -> None:
    m = _model(tmp_path)
    m.set_point(0, 0, 1.0, 1.0)
    m.file_rows = ["img000.png"]
    machine = Labels(
        scorer="net",
        keypoints=list(KEYPOINTS),
        images=[("labeled-data", "vid", f"img{i:03d}.png") for i in range(3)],
        xy=np.full((3, 2, 2), 7.0),
        likelihood=np.full((3, 2), 0.9),
    )
    # images the file already has a row for are never touched
    assert m.load_machine(machine) == 4
    assert m.predicted_frames() == [1, 2] and m.n_predicted == 4
    # predictions are not labels: left out of what a save writes, and of the progress
    table = m.to_labels()
    assert [r[-1] for r in table.images] == ["img000.png"]
    assert "4 predictions to review in 2 frame(s)" in m.summary()
    # accepting a frame is one undo step
    assert m.accept([1]) == 2
    assert m.predicted_frames() == [2] and 1 in m.reviewed
    assert [r[-1] for r in m.to_labels().images] == ["img000.png", "img001.png"]
    m.undo()
    assert m.predicted_frames() == [1, 2] and 1 not in m.reviewed
    # deleting a prediction marks its frame reviewed: the image gets a (partly empty) row
    m.clear_points([(2, 0)])
    assert 2 in m.reviewed and m.predicted[2].tolist() == [False, True]
    rows = {r[-1]: i for i, r in enumerate(m.to_labels().images)}
    assert "img002.png" in rows and np.isnan(m.to_labels().xy[rows["img002.png"]]).all()
    assert m.accept() == 3  # the rest
    assert m.n_predicted == 0


def test_what_a_save_changes_and_recovery(openfield_project: Path) -> None:
    project = Project.open(openfield_project / "config.yaml")
    m = _opened(openfield_project)
    assert m.changes_on_disk(project).added == 0
    t = m.image_names.index(m.file_rows[0])
    labeled = np.flatnonzero(m.labeled(t))
    k_move, k_del = int(labeled[0]), int(labeled[1])
    x, y = m.xy[t, k_move]
    m.set_point(t, k_move, x + 5.0, y)
    m.clear_points([(t, k_del)])
    changes = m.changes_on_disk(project)
    assert (changes.moved, changes.deleted, changes.added) == (1, 1, 0)
    assert m.needs_confirmation(changes)  # a deletion is asked about
    # autosave writes the recovery file once per revision
    assert m.autosave()
    assert not m.autosave()
    recovered = find_recovery(m.folder, m.file_scorer)
    assert recovered is not None
    np.testing.assert_allclose(recovered.xy[t, k_move], [x + 5.0, y])
    # the save writes the edits, forgets the recovery, and nothing is left to change
    saved = m.save()
    assert saved.h5.is_file() and not m.dirty
    assert not recovery_path(m.folder, m.file_scorer).exists()
    after = load_folder(m.folder)
    assert after is not None
    np.testing.assert_allclose(after.xy[t, k_move], [x + 5.0, y])
    assert np.isnan(after.xy[t, k_del]).all()
    again = m.changes_on_disk(project)
    assert (again.moved, again.deleted, again.added) == (0, 0, 0)
    assert not m.needs_confirmation(again)


def test_save_refuses_a_file_changed_by_another_program(openfield_project: Path) -> None:
    m = _opened(openfield_project)
    other = load_folder(m.folder)
    assert other is not None
    write_labels(other, m.folder, file_scorer=m.file_scorer)  # someone else saved meanwhile
    m.set_point(0, 0, 1.0, 1.0)
    with pytest.raises(LabelsError):
        m.save()
    assert m.dirty  # the edits are still in the session


def test_label_modes_say_where_labeling_goes_on(tmp_path: Path) -> None:
    m = _model(tmp_path, n=2)
    assert m.next_after_placing("sequential", 0, 0) == (0, 1)
    assert m.next_after_placing("sequential", 0, 1) == (1, 0)  # after the last part: next frame
    assert m.next_after_placing("sequential", 1, 1) is None  # nothing after the last frame
    assert m.next_after_placing("loop", 0, 1) == (1, 1)
    assert m.next_after_placing("loop", 1, 0) is None
    assert m.next_after_placing("quick", 0, 0) is None
    with pytest.raises(ValueError, match="label mode"):
        m.next_after_placing("fast", 0, 0)
    m.set_point(0, 0, 1.0, 2.0)
    assert m.changed_only([(0, 0, 1.0, 2.0), (0, 1, 3.0, 3.0)]) == [(0, 1, 3.0, 3.0)]
