"""The workflow status model reads where a project stands from disk (no display, no DLC)."""

from __future__ import annotations

from pathlib import Path

import pytest

from napari_dlcflow.core.example.synthetic import SyntheticSpec
from napari_dlcflow.core.example.truth_labels import make_labeled_synthetic_project
from napari_dlcflow.core.workflow.status import STEPS, workflow_status


def test_no_project_points_at_the_project_step() -> None:
    st = workflow_status(None)
    assert st.next_step == "project"
    assert [s.key for s in st.steps] == [k for k, _ in STEPS]
    assert all(s.state == "todo" for s in st.steps)


@pytest.fixture
def labeled(tmp_path: Path):
    spec = SyntheticSpec(n_frames=40, height=96, width=96, seed=2)
    return make_labeled_synthetic_project(tmp_path, spec, n_labeled=8)


def test_labeled_project_asks_for_the_dataset(labeled) -> None:
    st = workflow_status(labeled.config_path)
    n_parts = len(labeled.all_bodyparts)
    assert st.step("project").header == f"Project: synthetic, {n_parts} body parts"
    assert st.step("videos").summary == "1 video"
    assert st.step("labeling").summary == f"8 of 8 frames, {n_parts} body parts"
    assert st.step("labeling").state == "done"
    assert st.step("dataset").state == "todo"
    assert st.step("training").summary == "no model yet"
    assert st.step("analysis").summary == "0 of 1 video"
    assert st.next_step == "dataset"
    assert "training dataset" in st.reason


def test_unlabeled_frames_send_the_user_back_to_labeling(labeled) -> None:
    from napari_dlcflow.core.video.extract import extract_for_project

    (res,) = extract_for_project(labeled, None, method="uniform", n=5, seed=1)
    new = len(res.written)
    assert new > 0
    st = workflow_status(labeled)
    assert st.step("labeling").summary.startswith(f"8 of {8 + new} frames")
    assert st.step("labeling").state == "partial"
    assert st.next_step == "labeling"
    assert st.reason.startswith(f"{new} of {8 + new} extracted frames have no labels")


def test_a_missing_video_is_a_problem(labeled) -> None:
    video = Path(next(iter(labeled.videos)))
    video.rename(video.with_suffix(".moved"))
    st = workflow_status(labeled)
    assert st.step("videos").state == "problem"
    assert st.step("videos").summary == "1 video, 1 not found"


@pytest.mark.slow
@pytest.mark.xdist_group("trained")
def test_trained_and_evaluated_project_asks_for_analysis(
    tmp_path_factory: pytest.TempPathFactory,
) -> None:
    from _dlcflow_trained import trained

    run = trained(tmp_path_factory)
    st = workflow_status(run.config)
    training = st.step("training")
    assert training.state == "done"
    best = min(r.test_rmse for r in run.results)
    assert f"test {best:.1f} px" in training.summary
    assert st.step("dataset").state == "done"
    assert st.next_step == "analysis"
    assert st.reason == "1 of 1 video are not analysed yet."
