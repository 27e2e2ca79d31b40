"""The multi-animal synthetic example: look-alike animals that cross, touch and hide."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from napari_dlcflow.cli import main
from napari_dlcflow.core.example.group import (
    GroupSpec,
    GroupVideo,
    individual_names,
    iter_group,
    read_group_truth,
    render_group,
    write_group_example,
)
from napari_dlcflow.core.example.synthetic import BODYPARTS, SKELETON, TRUTH_SCORER
from napari_dlcflow.core.layers.data import keypoint_layers
from napari_dlcflow.core.video.reader import VideoReader

SMALL = GroupSpec(n_animals=2, n_frames=120, height=160, width=160, seed=0)
NECK = BODYPARTS.index("neck")
SPINE = [BODYPARTS.index(b) for b in ("nose", "head", "neck", "body", "tailbase")]


@pytest.fixture(scope="module")
def default_video() -> GroupVideo:
    return render_group(GroupSpec())


@pytest.fixture(scope="module")
def small() -> GroupVideo:
    return render_group(SMALL)


def _pair_distances(kp: np.ndarray, i: int, j: int) -> tuple[np.ndarray, np.ndarray]:
    """Neck-to-neck distance and the closest spine-keypoint distance per frame (NaN-aware)."""
    neck = np.hypot(*(kp[:, i, NECK] - kp[:, j, NECK]).T)
    gaps = kp[:, i, SPINE][:, :, None] - kp[:, j, SPINE][:, None]
    spine = np.hypot(gaps[..., 0], gaps[..., 1]).reshape(len(kp), -1)
    spine = np.where(np.isnan(spine), np.inf, spine).min(axis=1)
    return neck, spine


def _episodes(mask: np.ndarray) -> int:
    return int((np.diff(np.r_[0, mask.astype(int)]) == 1).sum())


def test_shapes_names_and_hidden_keypoints(small: GroupVideo) -> None:
    assert small.frames.shape == (120, 160, 160, 3) and small.frames.dtype == np.uint8
    assert small.keypoints.shape == (120, 2, len(BODYPARTS), 2)
    assert small.keypoints.dtype == np.float64
    assert small.individuals == individual_names(2) == ("mouse1", "mouse2")
    assert small.bodyparts == BODYPARTS and small.skeleton == SKELETON
    np.testing.assert_array_equal(small.visible, ~np.isnan(small.keypoints).any(axis=-1))
    # x and y are hidden together, and what is visible lies on the floor of the arena
    assert np.array_equal(np.isnan(small.keypoints[..., 0]), np.isnan(small.keypoints[..., 1]))
    vis = small.keypoints[small.visible]
    assert np.all(np.hypot(vis[:, 0] - 79.5, vis[:, 1] - 79.5) < 0.46 * 160)
    # animals about 30 px long (nose to tailbase along the spine) at this size
    length = np.hypot(*(small.keypoints[:, :, 0] - small.keypoints[:, :, 4]).transpose(2, 0, 1))
    assert 20 < np.nanmedian(length) < 32


def test_iter_streams_the_same_and_the_seed_decides(small: GroupVideo) -> None:
    spec = GroupSpec(n_animals=2, n_frames=15, height=64, width=64, seed=4)
    a = render_group(spec)
    for t, (frame, kp) in enumerate(iter_group(spec)):
        np.testing.assert_array_equal(frame, a.frames[t])
        np.testing.assert_array_equal(kp, a.keypoints[t])
    b = render_group(spec)
    assert np.array_equal(a.frames, b.frames)
    assert np.array_equal(a.keypoints, b.keypoints, equal_nan=True)
    other = render_group(GroupSpec(n_animals=2, n_frames=15, height=64, width=64, seed=5))
    assert not np.array_equal(a.keypoints, other.keypoints, equal_nan=True)


def test_interactions_happen_at_the_default_spec(default_video: GroupVideo) -> None:
    kp = default_video.keypoints
    spec = GroupSpec()
    length = spec.body_fraction * min(spec.height, spec.width)
    crossing = np.zeros(len(kp), bool)
    touching = np.zeros(len(kp), bool)
    for i in range(spec.n_animals):
        for j in range(i + 1, spec.n_animals):
            neck, spine = _pair_distances(kp, i, j)
            crossing |= neck < length
            touching |= spine < 0.35 * length
    assert crossing.sum() >= 30 and _episodes(crossing) >= 2
    assert touching.sum() >= 20 and _episodes(touching) >= 2
    hidden = ~default_video.visible
    assert hidden.any(axis=(1, 2)).sum() >= 30  # a keypoint under the shelter
    assert hidden.all(axis=2).any(axis=1).sum() >= 3  # a whole animal under it
    # the shelter never hides every animal at once
    assert hidden.any() and not hidden.all(axis=(1, 2)).any()


def test_without_shelter_nothing_is_hidden() -> None:
    video = render_group(GroupSpec(n_animals=4, n_frames=10, height=64, width=64, shelter=False))
    assert video.visible.all()
    tiny = render_group(GroupSpec(n_animals=4, n_frames=5, height=32, width=32))
    assert tiny.keypoints.shape == (5, 4, len(BODYPARTS), 2)


def test_truth_round_trips_with_the_multi_animal_header(tmp_path: Path) -> None:
    spec = GroupSpec(n_animals=3, n_frames=40, height=96, width=96, seed=2)
    files = write_group_example(tmp_path / "ex", spec)
    assert files.video.name == "synthetic_animals.mp4"
    assert files.truth_csv.name == "synthetic_animals_truth.csv"
    assert files.spec == spec
    video = render_group(spec)
    kp, individuals, bodyparts = read_group_truth(files.truth_csv)
    assert np.array_equal(kp, video.keypoints, equal_nan=True)
    assert np.isnan(kp).any()  # something is hidden in these 40 frames, and stays NaN
    assert individuals == individual_names(3) and bodyparts == BODYPARTS
    header = files.truth_csv.read_text().splitlines()[:4]
    assert [h.split(",")[0] for h in header] == ["scorer", "individuals", "bodyparts", "coords"]
    assert header[0].split(",")[1] == TRUTH_SCORER
    with VideoReader(files.video) as reader:
        assert len(reader) == 40
        frame = reader.frame(7)
    assert np.abs(frame.astype(int) - video.frames[7]).mean() < 4
    assert sorted(p.name for p in (tmp_path / "ex").iterdir()) == [
        "synthetic_animals.mp4",
        "synthetic_animals_truth.csv",
    ]


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("", "cannot parse"),
        ("scorer,ground_truth,ground_truth\nbodyparts,a,a\ncoords,x,y\n0,1,2\n", "header"),
        (
            "scorer,other,other\nindividuals,m1,m1\nbodyparts,a,a\ncoords,x,y\n0,1,2\n",
            "scorer",
        ),
        (
            "scorer,ground_truth,ground_truth\nindividuals,m1,m1\nbodyparts,a,a\n"
            "coords,y,x\n0,1,2\n",
            "x, y pairs",
        ),
        (
            "scorer,ground_truth,ground_truth,ground_truth,ground_truth\n"
            "individuals,m1,m2,m1,m2\nbodyparts,a,a,a,a\ncoords,x,x,y,y\n0,1,2,3,4\n",
            "grouped by individual",
        ),
        (
            "scorer,ground_truth,ground_truth\nindividuals,m1,m1\nbodyparts,a,a\n"
            "coords,x,y\n3,1,2\n",
            "frame numbers",
        ),
        (
            "scorer,ground_truth,ground_truth\nindividuals,m1,m1\nbodyparts,a,a\n"
            "coords,x,y\n0,one,2\n",
            "non-numeric",
        ),
    ],
)
def test_read_group_truth_names_the_file_and_the_problem(
    tmp_path: Path, text: str, reason: str
) -> None:
    path = tmp_path / "not the truth.csv"
    path.write_text(text)
    with pytest.raises(ValueError, match=re.escape(str(path))) as err:
        read_group_truth(path)
    assert reason in str(err.value)


def test_read_group_truth_missing_file_and_single_animal_file(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match=re.escape("missing.csv")):
        read_group_truth(tmp_path / "missing.csv")
    from napari_dlcflow.core.example.synthetic import SyntheticSpec, write_synthetic_example

    single = write_synthetic_example(tmp_path, SyntheticSpec(n_frames=3, height=32, width=32))
    with pytest.raises(ValueError, match=re.escape("synthetic_animal_truth.csv")):
        read_group_truth(single.truth_csv)


@pytest.mark.parametrize(
    ("kwargs", "error"),
    [
        ({"n_animals": 1}, ValueError),
        ({"n_animals": 5}, ValueError),
        ({"n_animals": 2.0}, TypeError),
        ({"body_fraction": 0.3}, ValueError),
        ({"body_fraction": "big"}, TypeError),
        ({"shelter": 1}, TypeError),
        ({"height": 16}, ValueError),
        ({"fps": 0}, ValueError),
    ],
)
def test_invalid_group_spec_is_refused(kwargs: dict[str, object], error: type[Exception]) -> None:
    with pytest.raises(error):
        GroupSpec(**kwargs)  # type: ignore[arg-type]


def test_odd_size_cannot_be_written(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="even"):
        write_group_example(tmp_path, GroupSpec(n_frames=2, height=65, width=64))


def test_truth_points_carry_the_individual(small: GroupVideo) -> None:
    layers = keypoint_layers(
        small.keypoints[:3], BODYPARTS, SKELETON, name="truth", individuals=small.individuals
    )
    (_, _, vectors), (points, kwargs, kind) = layers
    assert vectors == "vectors" and kind == "points"
    n_visible = int(small.visible[:3].sum())
    assert points.shape == (n_visible, 3)
    inds = kwargs["features"]["individual"]
    assert set(inds) <= {"mouse1", "mouse2"} and len(inds) == n_visible
    colours = np.asarray(kwargs["face_color"])
    one = colours[inds == "mouse1"]
    two = colours[inds == "mouse2"]
    assert (one == one[0]).all() and (two == two[0]).all() and not (one[0] == two[0]).all()
    with pytest.raises(ValueError, match="individuals"):
        keypoint_layers(small.keypoints[0], BODYPARTS, individuals=small.individuals)


def test_cli_sample_writes_the_group_example(tmp_path: Path) -> None:
    out = tmp_path / "s"
    args = ["sample", "--out", str(out), "--frames", "6", "--size", "64", "--animals", "2"]
    assert main(args) == 0
    kp, individuals, _ = read_group_truth(out / "synthetic_animals_truth.csv")
    assert kp.shape == (6, 2, len(BODYPARTS), 2) and individuals == ("mouse1", "mouse2")
    assert (out / "synthetic_animals.mp4").is_file()


@pytest.mark.slow
def test_labeled_group_project_is_accepted_by_deeplabcut(tmp_path: Path) -> None:
    from napari_dlcflow.core.engine.dataset import DatasetSpec, create_datasets
    from napari_dlcflow.core.example.truth_labels import make_labeled_group_project
    from napari_dlcflow.core.labels.collected import read_labels
    from napari_dlcflow.core.labels.validation import validate_project

    spec = GroupSpec(n_animals=2, n_frames=60, height=96, width=96, seed=3)
    video = render_group(spec)
    hidden = np.flatnonzero(~video.visible.all(axis=(1, 2)))
    chosen = sorted({*range(0, 60, 7), *hidden[:2].tolist()})
    project = make_labeled_group_project(tmp_path, spec, frame_indices=chosen)
    assert project.multianimal and project.get("identity") is False
    assert project.individuals == ["mouse1", "mouse2"]
    assert project.bodyparts == list(BODYPARTS) and project.unique_bodyparts == []
    (h5,) = project.root.glob("labeled-data/synthetic_animals/CollectedData_truth.h5")
    df = pd.read_hdf(h5, key="df_with_missing")
    assert list(df.columns.names) == ["scorer", "individuals", "bodyparts", "coords"]
    frames = [int(row[2][3:-4]) for row in df.index]
    assert frames == chosen
    truth = video.keypoints[frames]
    np.testing.assert_array_equal(df.to_numpy().reshape(truth.shape), truth)
    assert np.isnan(truth).any()  # hidden keypoints stay unlabeled
    assert read_labels(h5).multianimal
    assert validate_project(project).ok
    summary = create_datasets(project.config_path, DatasetSpec(net_type="resnet_50"))
    assert [s["shuffle"] for s in summary.shuffles] == [1]
    assert Path(summary.shuffles[0]["folder"], "train", "pytorch_config.yaml").is_file()
