"""Proofread frames into the labeled data (the refine loop for several animals), on a real
two-animal project whose tracked file has a swap injected: the corrected frames are extracted
from the video and their machine labels hold every animal under its true name."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from _tracked_group import make_group
from napari_dlcflow.core.labels.collected import read_labels
from napari_dlcflow.core.predictions.analysis_files import write_predictions
from napari_dlcflow.core.proofread import Edit, TrackSession
from napari_dlcflow.core.proofread.to_labels import corrected_frames, send_to_labels

SWAP = 40


def test_corrected_frames_are_where_each_edit_starts_and_a_range_ends() -> None:
    history = [
        Edit("swap", "a", "b", start=40),
        Edit("delete", "a", start=10, stop=13),
        Edit("swap", "a", "b", start=40, stop=41),
    ]
    assert corrected_frames(history, 60) == [10, 12, 40]


def test_send_the_corrected_frame_to_labels(tmp_path: Path) -> None:
    group = make_group(tmp_path)
    truth = group.pred.data.copy()
    swapped = truth.reshape(len(truth), 2, -1, 3).copy()
    swapped[SWAP:] = swapped[SWAP:, ::-1]
    write_predictions(group.pred.with_data(swapped.reshape(truth.shape)), group.tracked)
    session = TrackSession.open(group.tracked)
    mouse1, mouse2 = session.individuals
    session.apply(Edit("swap", mouse1, mouse2, start=SWAP))
    with pytest.raises(ValueError, match="save the proofread tracks"):
        send_to_labels(group.project, group.video, session)
    session.save()
    result = send_to_labels(group.project, group.video, session)
    assert result.picked == [SWAP]
    (image,) = result.written
    labels = read_labels(result.machine_labels)
    row = labels.xy[labels.image_names.index(image.name)]
    # every animal under its true name: the corrected tracks, not the swapped ones
    expect = truth[SWAP, :, :2]
    cols = [
        labels.keypoints.index((ind, bp))
        for ind, bp in zip(group.pred.individuals, group.pred.bodyparts, strict=True)
    ]
    np.testing.assert_allclose(row[cols], expect, atol=1e-6)


def test_refused_when_identities_are_not_the_projects(tmp_path: Path) -> None:
    group = make_group(tmp_path)
    session = TrackSession.open(group.tracked)
    session.apply(Edit("delete", session.individuals[0], start=5, stop=6))
    session.save()
    group.project.individuals = ["ann", "bob"]  # in memory only
    with pytest.raises(ValueError, match="not the project's individuals"):
        send_to_labels(group.project, group.video, session)
    with pytest.raises(ValueError, match="outside the video"):
        send_to_labels(group.project, group.video, session, frames=[500])


def test_workflow_status_counts_the_proofread_videos(tmp_path: Path) -> None:
    from napari_dlcflow.core.workflow.status import workflow_status

    group = make_group(tmp_path)
    step = workflow_status(group.project).step("proofread")
    assert (step.state, step.summary) == ("todo", "0 of 1 tracked video proofread")
    session = TrackSession.open(group.tracked)
    session.apply(Edit("delete", session.individuals[0], start=5, stop=6))
    session.save()  # the edit log beside the tracked file marks it proofread
    step = workflow_status(group.project).step("proofread")
    assert (step.state, step.summary) == ("done", "1 of 1 tracked video proofread")
