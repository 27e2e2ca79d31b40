"""The steps after analysis on DeepLabCut's multi-animal *tracked* files (``<stem><scorer>_el.h5``,
HDF key ``tracks``): filtering, labeled videos, outlier frames and the next iteration.

The tracked file is made without training: the synthetic group's truth plus noise, written in
DeepLabCut's layout beside the project's video, with an injected jump of one animal.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from _tracked_group import JUMP_FRAME, SCORER, Group, make_group
from napari_dlcflow.core.predictions.analysis_files import (
    Predictions,
    find_analysis_files,
    prefer_tracked,
    read_predictions,
    tracked_sibling,
    tracker_of,
    write_predictions,
)
from napari_dlcflow.core.project.config import Project


@pytest.fixture
def group(tmp_path: Path) -> Group:
    return make_group(tmp_path)


def test_the_tracked_file_is_dlc_layout_and_comes_first(group: Group) -> None:
    with pd.HDFStore(group.tracked, "r") as store:
        assert store.keys() == ["/tracks"]  # as DeepLabCut's stitching writes it
    df = pd.read_hdf(group.tracked)
    assert list(df.columns.names) == ["scorer", "individuals", "bodyparts", "coords"]
    assert tracker_of(group.tracked) == "ellipse" and group.pred.multi_animal
    untracked = group.video.with_name(f"{group.video.stem}{SCORER}.h5")
    assert tracker_of(untracked) is None and tracked_sibling(untracked) == group.tracked
    skeleton = group.video.with_name(f"{group.video.stem}{SCORER}_skeleton.h5")
    skeleton.write_bytes(b"")  # DeepLabCut's skeleton analysis is never an analysis file
    assert find_analysis_files(group.video) == [group.tracked, untracked]
    assert prefer_tracked([untracked, group.tracked, skeleton]) == [group.tracked]
    assert prefer_tracked([untracked]) == [untracked]  # alone it is what there is


@pytest.mark.parametrize(
    ("method", "params"),
    [("median", {"window": 5}), ("savgol", {"window": 7}), ("interpolate", {"max_gap": 3})],
)
def test_filter_keeps_individuals_apart(group: Group, method: str, params: dict) -> None:
    from napari_dlcflow.core.predictions.filtering import filter_file, filter_predictions

    # a unique body part (individual "single") as DeepLabCut adds it after the animals
    pred = group.pred
    single = np.full((pred.n_frames, 1, 3), 0.9)
    single[:, 0, 0], single[:, 0, 1] = 48 + np.sin(np.arange(pred.n_frames)), 10
    data = np.concatenate([pred.data, single], axis=1)
    data[20:22, 3, 2] = 0.1  # a short low-likelihood gap in one of mouse1's keypoints
    with_single = Predictions(
        data,
        (*pred.bodyparts, "landmark"),
        (*pred.individuals, "single"),
        pred.scorer,
        pred.frames,
        multi_animal=True,
    )
    write_predictions(with_single, group.tracked)
    out = filter_file(group.tracked, method, **params)
    assert out.name == group.tracked.name.replace("_el.h5", "_el_filtered.h5")
    with pd.HDFStore(out, "r") as store:
        assert store.keys() == ["/df_with_missing"]  # DeepLabCut's filterpredictions' key
    raw, filtered = pd.read_hdf(group.tracked), pd.read_hdf(out)
    assert filtered.columns.equals(raw.columns) and filtered.index.equals(raw.index)
    got = read_predictions(out)
    # each individual filtered alone gives the same values: no animal leaks into another
    for ind in ("mouse1", "mouse2", "single"):
        cols = [i for i, name in enumerate(with_single.individuals) if name == ind]
        alone = Predictions(
            data[:, cols],
            tuple(with_single.bodyparts[i] for i in cols),
            (ind,) * len(cols),
            SCORER,
            pred.frames,
            multi_animal=True,
        )
        np.testing.assert_allclose(
            got.data[:, cols], filter_predictions(alone, method, **params).data, equal_nan=True
        )
    if method == "median":  # the jump is smoothed away in mouse2, mouse1 is untouched by it
        cols2 = [i for i, name in enumerate(pred.individuals) if name == "mouse2"]
        jump = np.abs(got.data[JUMP_FRAME, cols2, 0] - data[JUMP_FRAME, cols2, 0])
        assert (jump > group.epsilon).all()


def test_filter_refuses_untracked_animals(group: Group) -> None:
    from napari_dlcflow.core.predictions.filtering import filter_file

    untracked = group.video.with_name(f"{group.video.stem}{SCORER}.h5")
    with pytest.raises(ValueError, match="untracked multi-animal") as info:
        filter_file(untracked)
    assert str(untracked) in str(info.value) and group.tracked.name in str(info.value)
    assert not untracked.with_name(untracked.stem + "_filtered.h5").exists()
    assert filter_file(untracked, untracked=True).is_file()  # asked for: done


def test_labeled_video_colours_each_animal(group: Group) -> None:
    from napari_dlcflow.core.layers.labeled_video import render_labeled_video, video_colors
    from napari_dlcflow.core.layers.skeleton import skeleton_edges
    from napari_dlcflow.core.layers.style import display_settings
    from napari_dlcflow.core.video.reader import open_frames

    pred = group.pred
    shown = display_settings(group.tracked)
    edges = skeleton_edges(pred.individuals, pred.bodyparts, shown.skeleton)
    assert len(edges) == 2 * len(shown.skeleton)
    assert all(pred.individuals[a] == pred.individuals[b] for a, b in edges)  # never across
    colors = video_colors(pred).astype(int)
    first = {ind: colors[pred.individuals.index(ind)] for ind in ("mouse1", "mouse2")}
    assert np.abs(first["mouse1"] - first["mouse2"]).sum() > 200  # two clearly other colours
    for ind, c in zip(pred.individuals, colors, strict=True):
        np.testing.assert_array_equal(c, first[ind])  # one colour per animal
    out = render_labeled_video(
        group.video, group.tracked, skeleton=shown.skeleton, radius=3, codec="libx264", crf=0
    )
    assert out is not None and out.name.endswith("_el_p60_labeled.mp4")
    frame = 10
    with open_frames(out) as frames:
        img = np.asarray(frames.frame(frame)).astype(int)
    xy = pred.xy[frame]
    checked = 0
    for c, ind in enumerate(pred.individuals):
        others = xy[np.asarray(pred.individuals) != ind]
        if np.isnan(xy[c]).any() or np.nanmin(np.hypot(*(others - xy[c]).T)) < 8:
            continue  # too close to the other animal to tell (its own dots: same colour)
        x, y = np.rint(xy[c]).astype(int)
        pixel = img[y, x]
        other = "mouse2" if ind == "mouse1" else "mouse1"
        assert np.abs(pixel - first[ind]).sum() < np.abs(pixel - first[other]).sum(), (ind, c)
        checked += 1
    assert checked >= 6


def test_outliers_find_the_jump_and_label_every_animal(group: Group) -> None:
    from napari_dlcflow.core.labels.machine import read_machine_labels
    from napari_dlcflow.core.refine.outliers import OutlierSpec, extract_outliers

    spec = OutlierSpec(criteria=("jump",), epsilon=group.epsilon, n=5, selection="uniform")
    result = extract_outliers(group.project, group.video, spec)
    assert result.analysis == group.tracked  # not the newer untracked file
    assert result.candidates == [JUMP_FRAME, JUMP_FRAME + 1]  # the jump out and back
    assert result.individuals == {JUMP_FRAME: ["mouse2"], JUMP_FRAME + 1: ["mouse2"]}
    assert "By individual: mouse2 2" in result.format() and not result.notes
    assert result.picked == [JUMP_FRAME, JUMP_FRAME + 1]
    machine = read_machine_labels(result.folder)
    assert machine is not None and machine.multianimal
    assert {i for i, _ in machine.keypoints} == {"mouse1", "mouse2"}
    names = [r[-1] for r in machine.images]
    assert names == [f"img{JUMP_FRAME}.png", f"img{JUMP_FRAME + 1}.png"]
    cols = [machine.keypoints.index(k) for k in group.pred.keypoints]
    np.testing.assert_allclose(
        machine.xy[:, cols], group.pred.xy[[JUMP_FRAME, JUMP_FRAME + 1]], equal_nan=True
    )
    # restricted to mouse1: nothing to find
    only1 = OutlierSpec(criteria=("jump",), epsilon=group.epsilon, individuals=("mouse1",))
    assert extract_outliers(group.project, group.video, only1).candidates == []
    with pytest.raises(ValueError, match="no individual"):
        extract_outliers(group.project, group.video, OutlierSpec(individuals=("mouse9",)))


def test_outliers_per_individual_likelihood_and_fit(group: Group) -> None:
    from napari_dlcflow.core.refine.outliers import OutlierSpec, find_outliers, flagged_individuals

    data = group.pred.data.copy()
    data[12, 0, 2] = 0.001  # mouse1's nose is uncertain in frame 12
    pred = group.pred.with_data(data)
    spec = OutlierSpec(criteria=("uncertain", "fitting"), epsilon=group.epsilon, p_bound=0.01)
    found = find_outliers(pred, spec)
    assert found[12] == ["uncertain"] and found[JUMP_FRAME] == ["fitting"]
    who = flagged_individuals(pred, spec)
    assert who[12] == ["mouse1"] and who[JUMP_FRAME] == ["mouse2"]


def test_outliers_on_an_untracked_file_say_so(group: Group) -> None:
    from napari_dlcflow.core.refine.outliers import OutlierSpec, extract_outliers

    untracked = group.video.with_name(f"{group.video.stem}{SCORER}.h5")
    spec = OutlierSpec(criteria=("jump",), epsilon=group.epsilon, n=1)
    result = extract_outliers(group.project, group.video, spec, analysis=untracked)
    assert len(result.candidates) > 10  # the slots swap animals every other frame
    assert "is not tracked" in result.format()


@pytest.mark.slow
def test_next_iteration_makes_a_multi_animal_dataset(group: Group) -> None:
    from napari_dlcflow.core.labels.collected import load_folder
    from napari_dlcflow.core.refine.iteration import next_iteration
    from napari_dlcflow.core.refine.outliers import OutlierSpec, extract_outliers

    folder = group.project.root / "labeled-data" / group.video.stem
    before = load_folder(folder)
    spec = OutlierSpec(criteria=("jump",), epsilon=group.epsilon, n=5, selection="uniform")
    extract_outliers(group.project, group.video, spec)
    result = next_iteration(group.project, accept_pending=True)
    assert result.iteration == 1 and result.dataset is not None
    assert Path(result.dataset["folder"], "train", "pytorch_config.yaml").is_file()
    after = load_folder(folder)
    assert after.multianimal and len(after.images) == len(before.images) + 2
    row = [r[-1] for r in after.images].index(f"img{JUMP_FRAME}.png")
    cols = [after.keypoints.index(k) for k in group.pred.keypoints]
    np.testing.assert_allclose(after.xy[row, cols], group.pred.xy[JUMP_FRAME], equal_nan=True)
    assert Project.open(group.project.config_path).iteration == 1
