"""Merging machine labels into ground truth without loss, the change summary, iterations.

The regression tests name the ways labels were lost here in other tools.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

from napari_dlcflow.core.example.synthetic import BODYPARTS, SyntheticSpec, render_synthetic
from napari_dlcflow.core.example.truth_labels import make_labeled_synthetic_project
from napari_dlcflow.core.labels.changes import summarize_changes
from napari_dlcflow.core.labels.collected import (
    CorruptLabelsError,
    Labels,
    load_folder,
    read_labels,
)
from napari_dlcflow.core.labels.machine import (
    machine_labels_path,
    predictions_to_labels,
    write_machine_labels,
)
from napari_dlcflow.core.predictions.analysis_files import simulate_predictions
from napari_dlcflow.core.project.config import Project
from napari_dlcflow.core.refine.iteration import (
    MachineLabelsPendingError,
    accept_machine_labels,
    best_snapshot,
    iteration_history,
    merge_folder,
    next_iteration,
    pending_machine_labels,
)
from napari_dlcflow.core.safe_io import list_backups
from napari_dlcflow.core.video.extract import labeled_data_folder

SPEC = SyntheticSpec(n_frames=40, height=64, width=64, seed=1)
NET = "DLC_Resnet50_syntheticNov24shuffle1_snapshot_best-10"


def _labels(images: list[str], xy: np.ndarray, lik: np.ndarray | None = None) -> Labels:
    kps = [("", b) for b in ("nose", "tail")]
    return Labels(
        "me", kps, [("labeled-data", "v", n) for n in images], np.asarray(xy, float), lik
    )


def test_summary_counts_added_moved_deleted_untouched() -> None:
    before = _labels(["a.png", "b.png"], [[[1, 1], [2, 2]], [[3, 3], [np.nan, np.nan]]])
    after = _labels(
        ["a.png", "b.png", "c.png"],
        [[[1, 1], [np.nan, np.nan]], [[3, 13], [4, 4]], [[5, 5], [6, 6]]],
    )
    s = summarize_changes(before, after, pending=3)
    assert (s.added, s.moved, s.deleted, s.untouched, s.new_images) == (3, 1, 1, 1, 1)
    assert s.changed
    assert s.details[0] == "a.png tail: deleted"  # deletions first
    assert "b.png nose: moved 10.0 px" in s.details
    text = s.format()
    assert "3 added, 1 moved, 1 deleted, 1 untouched" in text
    assert "3 prediction(s) not accepted" in text
    assert not summarize_changes(before, before).changed


def test_accept_never_touches_an_image_that_has_ground_truth() -> None:
    """Regression: machine labels filled in (or overwrote) keypoints of labeled images."""
    ground = _labels(["a.png"], [[[1, 1], [np.nan, np.nan]]])  # tail deliberately empty
    machine = _labels(
        ["a.png", "b.png", "c.png"],
        [[[9, 9], [8, 8]], [[5, 5], [6, 6]], [[7, 7], [7, 7]]],
        lik=[[0.9, 0.9], [0.9, 0.2], [0.1, 0.1]],
    )
    machine.scorer = NET
    merged, low = accept_machine_labels(ground, machine, min_likelihood=0.6)
    assert merged.scorer == "me" and merged.likelihood is None
    assert [r[-1] for r in merged.images] == ["a.png", "b.png"]  # c: nothing above cutoff
    np.testing.assert_array_equal(merged.xy[0], ground.xy[0])  # untouched, NaN kept
    np.testing.assert_array_equal(merged.xy[1], [[5, 5], [np.nan, np.nan]])
    assert low == 3


@pytest.fixture
def project(tmp_path: Path) -> Project:
    return make_labeled_synthetic_project(tmp_path, SPEC, n_labeled=8)


def _machine_for(project: Project, frames: list[int], seed: int = 4) -> Path:
    video = Path(next(iter(project.videos)))
    folder = labeled_data_folder(project.root, video)
    truth = render_synthetic(SPEC).keypoints
    pred = simulate_predictions(truth, BODYPARTS, scorer=NET, low_fraction=0.2, seed=seed)
    names = [f"img{f:02d}.png" for f in frames]
    for n in names:  # the extracted images (content does not matter here)
        (folder / n).write_bytes(b"")
    labels = predictions_to_labels(pred, frames, names, folder.name)
    write_machine_labels(labels, folder, project.iteration)
    return folder


def test_merge_keeps_every_earlier_label_and_writes_clean_ground_truth(project: Project) -> None:
    """Regression: saving refined machine labels wiped earlier ground truth, or wrote
    likelihood columns / the network's scorer into CollectedData."""
    labeled = [
        r[-1]
        for r in load_folder(labeled_data_folder(project.root, next(iter(project.videos)))).images
    ]
    folder = _machine_for(project, [3, 7, 12])
    h5 = next(folder.glob("CollectedData_*.h5"))
    before = pd.read_hdf(h5)
    dry = merge_folder(project, folder, dry_run=True)
    assert dry.saved is None and pd.read_hdf(h5).equals(before)
    result = merge_folder(project, folder)
    assert result.saved == h5
    after = pd.read_hdf(h5)
    pd.testing.assert_frame_equal(after.loc[before.index], before)  # nothing earlier changed
    assert {r[-1] for r in after.index} == set(labeled) | {"img03.png", "img07.png", "img12.png"}
    assert "likelihood" not in after.columns.get_level_values(-1)
    assert set(after.columns.get_level_values(0)) == {project.scorer}
    assert list_backups(h5)  # the previous file is kept
    csv = pd.read_csv(h5.with_suffix(".csv"), header=[0, 1, 2], index_col=[0, 1, 2])
    assert len(csv) == len(after)
    assert result.summary.deleted == 0 and result.summary.moved == 0
    assert result.summary.new_images == 3
    assert result.summary.added + result.low_likelihood == 3 * len(BODYPARTS)
    # merging again changes nothing
    again = merge_folder(project, folder)
    assert not again.summary.changed and again.saved is None


def test_merge_refuses_a_corrupt_ground_truth_file(project: Project) -> None:
    folder = _machine_for(project, [5])
    h5 = next(folder.glob("CollectedData_*.h5"))
    h5.write_bytes(h5.read_bytes()[:100])  # truncated by a crash elsewhere
    with pytest.raises(CorruptLabelsError, match=h5.name):
        merge_folder(project, folder)
    assert len(h5.read_bytes()) == 100


def test_next_iteration_refuses_pending_then_merges_and_bumps(project: Project) -> None:
    folder = _machine_for(project, [3, 7])
    assert pending_machine_labels(project) == {folder: 2}
    text = project.config_path.read_text()
    with pytest.raises(MachineLabelsPendingError, match="wait for review"):
        next_iteration(project, create=False)
    assert project.config_path.read_text() == text
    done = next_iteration(project, accept_pending=True, create=False)
    assert (done.previous, done.iteration) == (0, 1)
    assert done.merged[0].summary.new_images == 2
    reread = Project.open(project.config_path)
    assert reread.iteration == 1
    # only the iteration line changed in config.yaml
    changed = [
        (a, b)
        for a, b in zip(
            text.splitlines(), reread.config_path.read_text().splitlines(), strict=True
        )
        if a != b
    ]
    assert changed == [("iteration: 0", "iteration: 1")]
    assert pending_machine_labels(reread) == {}  # iteration-0 machine labels are history now
    labels = load_folder(folder)
    assert {"img03.png", "img07.png"} <= {r[-1] for r in labels.images}


def test_iteration_history_reads_datasets_models_and_errors(
    project: Project, dlc_iteration_layout: Any
) -> None:
    snapshots = ("snapshot-005.pt", "snapshot-best-010.pt", "snapshot-015.pt")
    dlc_iteration_layout(project, snapshots=snapshots)
    name = f"{project.task}{project.date}"
    train = project.root / "dlc-models-pytorch" / "iteration-0" / f"{name}-trainset95shuffle1"
    train = train / "train"
    assert best_snapshot(train) == train / "snapshot-best-010.pt"
    _machine_for(project, [3, 7, 9])
    (hist,) = iteration_history(project)
    assert hist.current and hist.labeled_frames == 8 and hist.snapshots == 3
    assert hist.best.name == "snapshot-best-010.pt"
    assert (hist.test_error, hist.train_error) == (4.25, 1.5)
    assert hist.machine_label_frames == 3
    assert hist.row() == ["0 (current)", "8", "3", "snapshot-best-010.pt", "4.25", "1.50", "3"]
    project.iteration = 1
    project.save()
    rows = iteration_history(project)
    assert [r.iteration for r in rows] == [0, 1] and rows[1].current and not rows[0].current
    assert rows[1].labeled_frames is None and rows[1].best is None


def test_machine_labels_for_the_same_image_are_replaced_not_duplicated(project: Project) -> None:
    folder = _machine_for(project, [3, 7], seed=1)
    _machine_for(project, [7, 9], seed=2)
    got = read_labels(machine_labels_path(folder, 0))
    assert [r[-1] for r in got.images] == ["img03.png", "img07.png", "img09.png"]
