"""Tracks by individual: the animals' names layer, per-animal centres and trails, read from a
tracked ``_el.h5`` (HDF key ``tracks``) made from the synthetic group's truth."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from numpy.testing import assert_allclose, assert_array_equal

from _tracked import tracked_from_truth, write_tracked_group
from napari_dlcflow.core.example.group import GroupSpec
from napari_dlcflow.core.layers.data import (
    identity_layer_data,
    individual_centres,
    predictions_layers,
    track_groups,
    tracks_layer_data,
)
from napari_dlcflow.core.layers.labeled_video import draw_frame, render_labeled_video
from napari_dlcflow.core.predictions.analysis_files import (
    Predictions,
    read_predictions,
    simulate_predictions,
)

SPEC = GroupSpec(n_animals=3, n_frames=24, height=160, width=160, seed=5)


@pytest.fixture(scope="module")
def tracked(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, Predictions]:
    return write_tracked_group(tmp_path_factory.mktemp("tracked"), SPEC)


def _small() -> Predictions:
    """Two animals, two body parts, three frames; mouse2's nose hidden in frame 1."""
    kp = np.array(
        [
            [[[10, 20], [14, 24]], [[50, 60], [54, 64]]],
            [[[11, 21], [15, 25]], [[np.nan, np.nan], [56, 66]]],
            [[[12, 22], [16, 26]], [[52, 62], [58, 68]]],
        ],
        dtype=float,
    )
    return tracked_from_truth(kp, ("mouse1", "mouse2"), ("nose", "tail"))


def test_a_tracked_file_is_read_by_individual(tracked: tuple[Path, Path, Predictions]) -> None:
    _, h5, truth = tracked
    assert h5.name.endswith("_el.h5")
    pred = read_predictions(h5)  # HDF key "tracks", not "df_with_missing"
    assert pred.multi_animal and pred.unique_individuals == ("mouse1", "mouse2", "mouse3")
    assert_array_equal(pred.data, truth.data)


def test_names_sit_at_each_animals_mean_in_its_colour(
    tracked: tuple[Path, Path, Predictions],
) -> None:
    pred = read_predictions(tracked[1])
    layers = predictions_layers(pred, name="t")
    assert [k["metadata"]["dlcflow_kind"] for _, k, _ in layers] == [
        "trails",
        "identity",
        "predictions",
    ]
    points, kwargs, kind = layers[1]
    assert kind == "points" and kwargs["name"] == "t names"
    assert kwargs["text"]["string"] == "{individual}"
    who = np.asarray(kwargs["features"]["individual"], dtype=str)
    n = pred.data.shape[0]
    # one label per visible animal and frame, at the mean of its visible keypoints
    kp = pred.xy.reshape(n, 3, -1, 2)
    for t, ind in [(0, 0), (n // 2, 1), (n - 1, 2)]:
        name = f"mouse{ind + 1}"
        rows = np.flatnonzero((points[:, 0] == t) & (who == name))
        if np.isnan(kp[t, ind]).all():
            assert not len(rows)
            continue
        (row,) = rows
        assert_allclose(points[row, [2, 1]], np.nanmean(kp[t, ind], axis=0))
    # the text colour of each animal is its points' colour, and the three differ
    face = layers[-1][1]["face_color"]
    pts_who = np.asarray(layers[-1][1]["features"]["individual"], dtype=str)
    text = np.asarray(kwargs["text"]["color"])
    per = {}
    for name in ("mouse1", "mouse2", "mouse3"):
        assert_allclose(
            text[who == name], face[pts_who == name][:1].repeat((who == name).sum(), 0)
        )
        per[name] = tuple(text[who == name][0])
    assert len(set(per.values())) == 3


def test_preferred_body_part_and_pcutoff_place_the_name() -> None:
    pred = _small()
    centres, names = individual_centres(pred, at=("nose",))
    assert names == ["mouse1", "mouse2"]
    assert_array_equal(centres[:, 0], [[10, 20], [11, 21], [12, 22]])  # the nose
    assert_array_equal(centres[1, 1], [56, 66])  # nose hidden: the mean of the rest
    data = pred.data.copy()
    data[2, 2:, 2] = 0.1  # mouse2 below the p-cutoff in frame 2
    low = pred.with_data(data)
    points, kwargs, _ = identity_layer_data(low, pcutoff=0.5)
    assert_array_equal(points[:, 0], [0, 0, 1, 1, 2])
    assert list(kwargs["features"]["individual"]) == ["mouse1", "mouse2"] * 2 + ["mouse1"]
    assert_allclose(points[1, 1:], [62, 52])  # (y, x) of the mean of mouse2 in frame 0


def test_no_names_for_one_animal_nor_for_unique_bodyparts() -> None:
    single = simulate_predictions(np.zeros((3, 2, 2)) + 5, ("a", "b"))
    assert identity_layer_data(single) is None
    assert [k["metadata"]["dlcflow_kind"] for _, k, _ in predictions_layers(single)] == [
        "trails",
        "predictions",
    ]
    pred = _small()
    unique = Predictions(
        data=np.concatenate([pred.data, pred.data[:, :1]], axis=1),
        bodyparts=(*pred.bodyparts, "led"),
        individuals=(*pred.individuals, "single"),
        scorer=pred.scorer,
        frames=pred.frames,
        multi_animal=True,
    )
    _, kwargs, _ = identity_layer_data(unique)
    assert set(kwargs["features"]["individual"]) == {"mouse1", "mouse2"}


def test_trails_never_join_two_animals(tracked: tuple[Path, Path, Predictions]) -> None:
    pred = read_predictions(tracked[1])
    tracks = tracks_layer_data(pred)
    for track in np.unique(tracks[:, 0]).astype(int):
        rows = tracks[tracks[:, 0] == track]
        # every vertex of a trail is its own column's prediction in that frame
        assert_array_equal(rows[:, [3, 2]], pred.xy[rows[:, 1].astype(int), track])
    # one trail per animal, along its centre, coloured as the animal
    by_animal = tracks_layer_data(pred, by="individual")
    centres, names = individual_centres(pred)
    assert_array_equal(np.unique(by_animal[:, 0]), [0, 1, 2])
    for j in range(len(names)):
        rows = by_animal[by_animal[:, 0] == j]
        assert_allclose(rows[:, [3, 2]], centres[rows[:, 1].astype(int), j])
    groups = track_groups(pred, by_animal, by="individual")
    assert_allclose(np.unique(groups), [0.0, 0.5, 1.0])
    assert_allclose(groups, by_animal[:, 0] / 2)
    with pytest.raises(ValueError, match="by must be"):
        tracks_layer_data(pred, by="animal")


def test_the_labeled_video_writes_the_names(
    tracked: tuple[Path, Path, Predictions], tmp_path: Path
) -> None:
    img = np.zeros((100, 100, 3), np.uint8)
    colors = np.array([[255, 0, 0], [0, 255, 0]], np.uint8)
    nothing = np.full((2, 3), np.nan)
    names = [("mouse1", 30.0, 40.0, colors[0]), ("mouse2", 60.0, 90.0, colors[1])]
    named = draw_frame(img, nothing, colors, pcutoff=0.5, names=names)
    r, g = named[..., 0].astype(int), named[..., 1].astype(int)
    red = np.argwhere((r > 160) & (g < 40))
    green = np.argwhere((g > 160) & (r < 40))
    # each name in its animal's colour, centred above its point
    assert len(red) > 10 and len(green) > 10
    assert red[:, 0].max() <= 40 and abs(red[:, 1].mean() - 30) < 5
    assert green[:, 0].max() <= 90 and green[:, 0].min() > 40 and abs(green[:, 1].mean() - 60) < 5
    video, h5, _ = tracked
    with_names = render_labeled_video(video, h5, tmp_path / "a.mp4", codec="mjpeg", crf=2)
    without = render_labeled_video(
        video, h5, tmp_path / "b.mp4", codec="mjpeg", crf=2, names=False
    )
    assert with_names is not None and without is not None
    assert with_names.stat().st_size != without.stat().st_size
