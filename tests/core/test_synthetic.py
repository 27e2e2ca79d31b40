"""The synthetic example video: geometry, determinism, appearance and the files it writes."""

from __future__ import annotations

import math
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from napari_dlcflow.core.example import synthetic
from napari_dlcflow.core.example.synthetic import (
    BODYPARTS,
    SKELETON,
    ExampleFiles,
    SyntheticSpec,
    SyntheticVideo,
    iter_synthetic,
    read_truth,
    render_synthetic,
    write_synthetic_example,
)

SMALL = SyntheticSpec(n_frames=40, seed=7)
K = {name: i for i, name in enumerate(BODYPARTS)}


@pytest.fixture(scope="module")
def small() -> SyntheticVideo:
    return render_synthetic(SMALL)


@pytest.fixture(scope="module")
def written(tmp_path_factory: pytest.TempPathFactory) -> ExampleFiles:
    return write_synthetic_example(tmp_path_factory.mktemp("example") / "new" / "dir", SMALL)


def _decode(path: Path) -> tuple[np.ndarray, list[bool], float]:
    import av

    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        frames, keys = [], []
        for frame in container.decode(stream):
            frames.append(frame.to_ndarray(format="rgb24"))
            keys.append(bool(frame.key_frame))
        rate = float(stream.average_rate)
    return np.stack(frames), keys, rate


# --- names --------------------------------------------------------------------------------------


def test_bodyparts_and_skeleton() -> None:
    assert len(BODYPARTS) == 11 == len(set(BODYPARTS))
    assert BODYPARTS[:3] == ("nose", "head", "neck")
    assert len(SKELETON) == 10 == len(set(SKELETON))
    assert {name for edge in SKELETON for name in edge} <= set(BODYPARTS)
    assert ("tailmid", "tailtip") in SKELETON


# --- rendering ----------------------------------------------------------------------------------


def test_shapes_and_dtypes(small: SyntheticVideo) -> None:
    assert small.frames.shape == (40, 320, 320, 3) and small.frames.dtype == np.uint8
    assert small.keypoints.shape == (40, 11, 2) and small.keypoints.dtype == np.float64
    assert small.bodyparts == BODYPARTS and small.skeleton == SKELETON
    assert small.fps == 30.0
    assert np.isfinite(small.keypoints).all()


def test_non_square_frames_keep_the_animal_inside() -> None:
    video = render_synthetic(SyntheticSpec(n_frames=30, height=120, width=200, seed=1))
    assert video.frames.shape == (30, 120, 200, 3)
    x, y = video.keypoints[..., 0], video.keypoints[..., 1]
    assert x.min() > 2 and x.max() < 197 and y.min() > 2 and y.max() < 117


def test_iter_streams_the_same_frames_as_render(small: SyntheticVideo) -> None:
    stream = iter_synthetic(SMALL)
    for t in range(3):
        frame, kp = next(stream)
        assert frame.shape == (320, 320, 3) and frame.dtype == np.uint8
        assert kp.shape == (11, 2) and kp.dtype == np.float64
        np.testing.assert_array_equal(frame, small.frames[t])
        np.testing.assert_array_equal(kp, small.keypoints[t])
    stream.close()
    assert sum(1 for _ in iter_synthetic(SyntheticSpec(n_frames=5, height=64, width=64))) == 5


def test_same_spec_is_bit_identical_and_seed_matters(small: SyntheticVideo) -> None:
    again = render_synthetic(SMALL)
    np.testing.assert_array_equal(again.frames, small.frames)
    np.testing.assert_array_equal(again.keypoints, small.keypoints)
    other = render_synthetic(SyntheticSpec(n_frames=40, seed=8))
    assert np.abs(other.keypoints - small.keypoints).max() > 5.0
    assert np.abs(other.frames.astype(int) - small.frames).mean() > 1.0


def test_noise_level_changes_pixels_but_not_the_motion(small: SyntheticVideo) -> None:
    clean = render_synthetic(SyntheticSpec(n_frames=40, seed=7, noise_sigma=0.0))
    np.testing.assert_array_equal(clean.keypoints, small.keypoints)
    diff = small.frames.astype(float) - clean.frames
    assert 2.5 < diff.std() < 5.5  # noise_sigma = 4 (minus clipping and rounding)
    # Luminance noise: the same in all three channels.
    assert np.abs(diff[..., 0] - diff[..., 1]).mean() < 0.5


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_keypoints_stay_in_the_arena_and_the_animal_moves(seed: int) -> None:
    size = 160
    video = render_synthetic(SyntheticSpec(n_frames=240, height=size, width=size, seed=seed))
    kp = video.keypoints
    assert kp.min() >= 4 and kp.max() <= size - 1 - 4
    # Inside the arena floor (radius 0.46 of the side, centred).
    centre = (size - 1) / 2
    assert np.hypot(kp[..., 0] - centre, kp[..., 1] - centre).max() < 0.46 * size

    body_length = size / 4
    nose_to_tailbase = np.linalg.norm(kp[:, K["nose"]] - kp[:, K["tailbase"]], axis=-1)
    assert 0.75 * body_length < nose_to_tailbase.min() <= nose_to_tailbase.max() <= body_length

    nose_path = np.linalg.norm(np.diff(kp[:, K["nose"]], axis=0), axis=-1).sum()
    assert nose_path > 2 * body_length
    # Not a rigid translation: the body turns, and head and tail bend relative to it.
    axis = kp[:, K["neck"]] - kp[:, K["tailbase"]]
    heading = np.unwrap(np.arctan2(axis[:, 1], axis[:, 0]))
    assert np.ptp(heading) > math.radians(45)
    nose_to_tip = np.linalg.norm(kp[:, K["nose"]] - kp[:, K["tailtip"]], axis=-1)
    assert np.ptp(nose_to_tip) > 0.1 * body_length


def test_motion_is_smooth() -> None:
    kp = render_synthetic(SyntheticSpec(n_frames=120, height=96, width=96, seed=4)).keypoints
    step = np.linalg.norm(np.diff(kp, axis=0), axis=-1)
    assert step.max() < 0.1 * 96  # no keypoint jumps by more than 0.4 body lengths per frame


def test_left_paws_are_on_the_animals_left(small: SyntheticVideo) -> None:
    kp = small.keypoints
    for paw, front, back in (("forepaw", "neck", "body"), ("hindpaw", "body", "tailbase")):
        forward = kp[:, K[front]] - kp[:, K[back]]
        # Seen from above with y pointing down, the animal's left of (fx, fy) is (fy, -fx).
        left = np.stack([forward[:, 1], -forward[:, 0]], axis=-1)
        for side, sign in (("left", 1), ("right", -1)):
            offset = kp[:, K[f"{side}_{paw}"]] - kp[:, K[back]]
            assert (sign * (offset * left).sum(axis=-1) > 0).all(), f"{side}_{paw}"


def test_keypoints_sit_on_the_animal(small: SyntheticVideo) -> None:
    for frame, kp in zip(small.frames, small.keypoints, strict=True):
        grey = frame.astype(float).mean(axis=-1)
        floor = np.median(grey)
        green_floor = np.median(frame[..., 1])
        for name in BODYPARTS:
            x, y = np.rint(kp[K[name]]).astype(int)
            patch = frame[y - 1 : y + 2, x - 1 : x + 2].astype(float)
            if name in ("head", "neck", "body", "tailbase"):
                assert patch.mean() < floor - 50, name
            # Fur, tail, paws and the nose tip all stand out from the floor.
            assert patch[..., 1].mean() < green_floor - 15, name


def test_animal_and_arena_look_right(small: SyntheticVideo) -> None:
    frame = small.frames[0].astype(float)
    grey = frame.mean(axis=-1)
    floor = np.median(grey[140:180, 140:180])
    assert 150 < np.median(grey) < 220  # mostly light floor
    assert grey[160, 3] < floor - 60 and grey[3, 3] < floor - 60  # dark wall and surroundings
    # Vignetting: the floor is darker near the wall than in the middle.
    ring = grey[160, 20:30]
    assert np.median(ring) < np.median(grey[150:170, 150:170]) - 10
    # Soft edges: intermediate grey levels between fur and floor around the body.
    kp = small.keypoints[0]
    x, y = np.rint(kp[K["body"]]).astype(int)
    window = grey[y - 20 : y + 21, x - 20 : x + 21]
    assert ((window > 110) & (window < 150)).any()


@pytest.mark.parametrize(
    ("kwargs", "error"),
    [
        ({"n_frames": 0}, ValueError),
        ({"height": 16}, ValueError),
        ({"fps": 0.0}, ValueError),
        ({"noise_sigma": -1.0}, ValueError),
        ({"seed": -1}, ValueError),
        ({"n_frames": 2.5}, TypeError),
        ({"fps": float("nan")}, TypeError),
    ],
)
def test_invalid_spec_is_refused(kwargs: dict[str, object], error: type[Exception]) -> None:
    with pytest.raises(error):
        SyntheticSpec(**kwargs)  # type: ignore[arg-type]


# --- files --------------------------------------------------------------------------------------


def test_written_video_decodes_to_the_rendered_frames(
    written: ExampleFiles, small: SyntheticVideo
) -> None:
    assert written.video.name == "synthetic_animal.mp4" and written.spec == SMALL
    decoded, keys, rate = _decode(written.video)
    assert decoded.shape == small.frames.shape
    assert rate == pytest.approx(30.0)
    mad = np.abs(decoded.astype(float) - small.frames).mean(axis=(1, 2, 3))
    assert mad.max() < 4.0
    assert [i for i, key in enumerate(keys) if key] == [0, 30]


def test_truth_round_trips_and_has_the_dlc_header(
    written: ExampleFiles, small: SyntheticVideo
) -> None:
    keypoints, bodyparts = read_truth(written.truth_csv)
    assert bodyparts == BODYPARTS
    np.testing.assert_allclose(keypoints, small.keypoints, rtol=0, atol=1e-9)
    lines = written.truth_csv.read_text().splitlines()
    assert lines[0].startswith("scorer,ground_truth,ground_truth")
    assert lines[1].startswith("bodyparts,nose,nose,head,head")
    assert lines[2].startswith("coords,x,y,x,y")
    assert len(lines) == 3 + 40 and lines[3].startswith("0,") and lines[-1].startswith("39,")
    df = pd.read_csv(written.truth_csv, header=[0, 1, 2], index_col=0)
    assert list(df.columns.names) == ["scorer", "bodyparts", "coords"]


def test_no_temporary_files_are_left_and_permissions_are_usual(
    written: ExampleFiles, tmp_path: Path
) -> None:
    names = sorted(p.name for p in written.video.parent.iterdir())
    assert names == ["synthetic_animal.mp4", "synthetic_animal_truth.csv"]
    usual = tmp_path / "plain.txt"
    usual.write_text("x")  # created like any file, under the process umask
    for path in (written.video, written.truth_csv):
        assert path.stat().st_mode & 0o777 == usual.stat().st_mode & 0o777


def test_other_frame_rate_and_overwrite(tmp_path: Path) -> None:
    spec = SyntheticSpec(n_frames=6, height=64, width=96, fps=15.0, seed=2)
    write_synthetic_example(tmp_path, SyntheticSpec(n_frames=3, height=64, width=64))
    files = write_synthetic_example(tmp_path, spec)
    decoded, _, rate = _decode(files.video)
    assert decoded.shape == (6, 64, 96, 3)
    assert rate == pytest.approx(15.0)
    assert read_truth(files.truth_csv)[0].shape == (6, 11, 2)
    assert len(list(tmp_path.iterdir())) == 2


def test_interrupted_write_keeps_old_files_and_leaves_no_temp(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    old = write_synthetic_example(tmp_path, SyntheticSpec(n_frames=4, height=64, width=64))
    before = {p.name: p.read_bytes() for p in tmp_path.iterdir()}

    def broken(spec: SyntheticSpec):  # type: ignore[no-untyped-def]
        for i, item in enumerate(iter_synthetic(spec)):
            if i == 3:
                raise KeyboardInterrupt
            yield item

    monkeypatch.setattr(synthetic, "iter_synthetic", broken)
    with pytest.raises(KeyboardInterrupt):
        write_synthetic_example(tmp_path, SyntheticSpec(n_frames=10, height=64, width=64))
    assert {p.name: p.read_bytes() for p in tmp_path.iterdir()} == before
    assert read_truth(old.truth_csv)[0].shape == (4, 11, 2)


def test_odd_frame_size_cannot_be_written(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="even"):
        write_synthetic_example(tmp_path, SyntheticSpec(n_frames=2, height=65, width=64))
    assert not list(tmp_path.iterdir())


@pytest.mark.parametrize(
    "text",
    [
        "",
        "hello, world\nthis is not a truth file\n",
        "scorer,ground_truth,ground_truth\nbodyparts,nose,nose\n0,1.0,2.0\n",
        "scorer,someone,someone\nbodyparts,nose,nose\ncoords,x,y\n0,1.0,2.0\n",
        "scorer,ground_truth,ground_truth\nbodyparts,nose,nose\ncoords,x,likelihood\n0,1,2\n",
        "scorer,ground_truth,ground_truth\nbodyparts,nose,nose\ncoords,x,y\n0,1.0,abc\n",
        "scorer,ground_truth,ground_truth\nbodyparts,nose,nose\ncoords,x,y\n5,1.0,2.0\n",
    ],
)
def test_read_truth_rejects_other_files_naming_them(tmp_path: Path, text: str) -> None:
    path = tmp_path / "not the truth.csv"
    path.write_text(text)
    with pytest.raises(ValueError, match=re.escape(str(tmp_path / "not the truth.csv"))):
        read_truth(path)


def test_read_truth_accepts_a_minimal_file(tmp_path: Path) -> None:
    path = tmp_path / "t.csv"
    path.write_text(
        "scorer,ground_truth,ground_truth\nbodyparts,nose,nose\ncoords,x,y\n0,1.5,2.5\n1,3,4\n"
    )
    keypoints, bodyparts = read_truth(path)
    assert bodyparts == ("nose",)
    np.testing.assert_array_equal(keypoints, [[[1.5, 2.5]], [[3.0, 4.0]]])


def test_read_truth_missing_file(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match=re.escape("missing.csv")):
        read_truth(tmp_path / "missing.csv")
