"""Tracks: reading DeepLabCut and SLEAP tracks, scoring them against a truth, describing them.

The truth is a deterministic synthetic trajectory (three animals on circles, 300 frames); the
predictions are made from it with known noise, swaps and gaps, so each metric has a value
computed by hand.
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from _tracks_data import BPS, CLIP, INDS, SCORER, T, truth_xy, write_dlc
from napari_dlcflow.core.formats.tracks import load_tracks
from napari_dlcflow.core.predictions.analysis_files import Predictions, write_predictions
from napari_dlcflow.core.predictions.tracks import (
    SINGLE_ANIMAL,
    Tracks,
    compare_tracks,
    default_threshold,
    track_report,
)


@pytest.fixture
def truth_file(tmp_path: Path) -> Path:
    return write_dlc(tmp_path / "truth.csv", truth_xy(), likelihood=False)


def tracks_of(xy: np.ndarray, individuals: tuple[str, ...] = INDS) -> Tracks:
    return Tracks(keypoints=xy, likelihood=None, individuals=individuals, bodyparts=BPS)


# ------------------------------------------------------------------------------ reading


def test_reads_tracked_h5_and_truth_csv(tmp_path: Path, truth_file: Path) -> None:
    xy = truth_xy()
    h5 = write_dlc(tmp_path / f"videoA{SCORER}_el.h5", xy)
    pred = load_tracks(h5)
    assert pred.keypoints.shape == (T, 3, 4, 2)
    assert pred.individuals == INDS and pred.bodyparts == BPS
    np.testing.assert_allclose(pred.keypoints, xy)
    assert pred.likelihood is not None and np.allclose(pred.likelihood, 0.9)
    truth = load_tracks(truth_file)
    assert truth.likelihood is None
    np.testing.assert_allclose(truth.keypoints, xy)
    assert truth.covered.all()


def test_single_animal_and_unique_bodyparts(tmp_path: Path) -> None:
    xy = truth_xy()[:, 0]
    pred = Predictions(
        data=np.concatenate([xy, np.full((T, 4, 1), 0.8)], axis=2),
        bodyparts=BPS,
        individuals=("",) * 4,
        scorer=SCORER,
        frames=np.arange(T),
    )
    single = load_tracks(write_predictions(pred, tmp_path / "one.h5")[0])
    assert single.individuals == (SINGLE_ANIMAL,)
    assert single.keypoints.shape == (T, 1, 4, 2)
    # a multi-animal file with a unique body part: left out of the identities, said so
    full = truth_xy()
    data = np.concatenate([full.reshape(T, 12, 2), full[:, 0, :1]], axis=1)
    multi = Predictions(
        data=np.concatenate([data, np.full((T, 13, 1), 0.9)], axis=2),
        bodyparts=BPS * 3 + ("box",),
        individuals=(*(i for i in INDS for _ in BPS), "single"),
        scorer=SCORER,
        frames=np.arange(T),
        multi_animal=True,
    )
    tracks = load_tracks(write_predictions(multi, tmp_path / "multi.h5")[0])
    assert tracks.individuals == INDS and tracks.bodyparts == BPS
    assert any("box" in n and "left out" in n for n in tracks.notes)


def test_not_a_tracks_file(tmp_path: Path) -> None:
    txt = tmp_path / "notes.txt"
    txt.write_text("hello")
    with pytest.raises(ValueError, match=r"notes\.txt.*not a tracks file"):
        load_tracks(txt)
    csv = tmp_path / "table.csv"
    csv.write_text("a,b\n1,2\n")
    with pytest.raises(ValueError, match=r"table\.csv"):
        load_tracks(csv)
    h5 = tmp_path / "broken.h5"
    h5.write_bytes(b"\x89HDF\r\n\x1a\n" + b"\0" * 64)
    with pytest.raises(ValueError, match=r"broken\.h5"):
        load_tracks(h5)
    with pytest.raises(FileNotFoundError, match=r"absent\.h5"):
        load_tracks(tmp_path / "absent.h5")


def test_labels_indexed_by_image_are_refused(tmp_path: Path) -> None:
    cols = pd.MultiIndex.from_tuples(
        [("me", "mouse1", "snout", c) for c in ("x", "y")],
        names=["scorer", "individuals", "bodyparts", "coords"],
    )
    path = tmp_path / "CollectedData_me.csv"
    pd.DataFrame([[1.0, 2.0]], columns=cols, index=["labeled-data/v/img001.png"]).to_csv(path)
    with pytest.raises(ValueError, match=r"CollectedData_me\.csv.*not frame numbers"):
        load_tracks(path)


# ------------------------------------------------------------------------- with a truth


def test_noise_only_is_perfect_and_errors_equal_the_noise(
    tmp_path: Path, truth_file: Path
) -> None:
    pytest.importorskip("motmetrics")
    truth = load_tracks(truth_file)
    shifted = load_tracks(write_dlc(tmp_path / "shift.h5", truth_xy() + np.array([3.0, 4.0])))
    res = compare_tracks(shifted, truth)
    assert res.idf1 == 1.0 and res.mota == 1.0 and res.switches == 0
    assert res.all_found == 1.0 and res.frames == T
    assert res.mapping == {i: i for i in INDS}
    for e in res.per_individual:
        assert e.matched_frames == T and e.predicted == e.individual
        assert e.median_px == pytest.approx(5.0) and e.mean_px == pytest.approx(5.0)
    # Gaussian noise of sigma per coordinate: the mean distance is sigma * sqrt(pi / 2)
    sigma = 2.0
    noisy = truth_xy() + np.random.default_rng(0).normal(0, sigma, (T, 3, 4, 2))
    res = compare_tracks(tracks_of(noisy), truth)
    assert res.idf1 == 1.0 and res.switches == 0
    for e in res.per_individual:
        assert e.mean_px == pytest.approx(sigma * math.sqrt(math.pi / 2), rel=0.08)


def test_default_threshold_is_half_the_median_body_size() -> None:
    # the body is 16 x 40 px: diagonal sqrt(16^2 + 40^2)
    assert default_threshold(tracks_of(truth_xy())) == pytest.approx(0.5 * math.hypot(16, 40))


def test_swap_from_frame_t() -> None:
    pytest.importorskip("motmetrics")
    truth = tracks_of(truth_xy())
    t0 = 100
    swapped = truth_xy()
    swapped[t0:, [0, 1]] = swapped[t0:, [1, 0]]
    res = compare_tracks(tracks_of(swapped), truth)
    # motmetrics counts a switch per truth animal whose matched identity changes: a swapped
    # pair is 2; IDF1 = (300 + 200 + 200) / 900 by hand (the best fixed pairing keeps the
    # longer part of each swapped animal)
    assert res.switches == 2
    assert res.switches_per_1000 == pytest.approx(2000 / T)
    assert res.idf1 == pytest.approx(700 / 900)
    assert res.mota == pytest.approx(1 - 2 / 900)
    assert res.all_found == 1.0
    # the majority: after the swap, 200 of 300 frames
    assert res.mapping == {"mouse1": "mouse2", "mouse2": "mouse1", "mouse3": "mouse3"}


def test_one_identity_relabelled_is_one_switch() -> None:
    pytest.importorskip("motmetrics")
    truth = tracks_of(truth_xy())
    t0 = 200
    xy = np.concatenate([truth_xy(), np.full((T, 1, 4, 2), np.nan)], axis=1)
    xy[t0:, 3] = xy[t0:, 2]  # mouse3 continues as a new identity from frame 200
    xy[t0:, 2] = np.nan
    res = compare_tracks(tracks_of(xy, (*INDS, "new")), truth)
    assert res.switches == 1
    assert res.idf1 == pytest.approx(2 * 800 / (900 + 900))
    assert res.mapping == {
        "mouse1": "mouse1",
        "mouse2": "mouse2",
        "mouse3": "mouse3",
        "new": "mouse3",
    }


def test_missing_animal_lowers_found_share_by_k_over_t() -> None:
    pytest.importorskip("motmetrics")
    truth = tracks_of(truth_xy())
    k = 30
    xy = truth_xy()
    xy[50 : 50 + k, 2] = np.nan
    res = compare_tracks(tracks_of(xy), truth)
    assert res.all_found == pytest.approx(1 - k / T)
    assert res.switches == 0
    e = res.per_individual[2]
    assert e.matched_frames == T - k and e.present_frames == T


def test_refuses_what_cannot_be_compared(tmp_path: Path, truth_file: Path) -> None:
    pytest.importorskip("motmetrics")
    truth = load_tracks(truth_file)
    other = load_tracks(write_dlc(tmp_path / "ind.h5", truth_xy(), ("mouse1", "mouse2", "rat")))
    with pytest.raises(ValueError, match=r"ind\.h5 lacks individuals.*mouse3"):
        compare_tracks(other, truth)
    assert compare_tracks(other, truth, require_names=False).idf1 == 1.0
    fewer = load_tracks(write_dlc(tmp_path / "bp.h5", truth_xy()[:, :, :3], bodyparts=BPS[:3]))
    with pytest.raises(ValueError, match=r"bp\.h5 lacks body parts.*tailbase"):
        compare_tracks(fewer, truth)
    res = compare_tracks(fewer, truth, common_bodyparts=True)
    assert res.bodyparts == BPS[:3] and res.idf1 == 1.0
    short = load_tracks(write_dlc(tmp_path / "short.h5", truth_xy(T - 10)))
    with pytest.raises(ValueError, match=r"short\.h5 is shorter: it ends at frame 289"):
        compare_tracks(short, truth)
    with pytest.raises(ValueError, match=r"short\.h5 is shorter"):
        compare_tracks(truth, short)
    with pytest.raises(ValueError, match="positive"):
        compare_tracks(truth, truth, threshold=-1)


# --------------------------------------------------------------------------- no truth


def test_track_report_counts_tracklets_and_gaps() -> None:
    xy = truth_xy()
    xy[50:80, 2] = np.nan  # one gap of 30 frames
    xy[100:105, 2] = np.nan  # and one of 5
    xy[290:, 1] = np.nan  # mouse2 ends early: not a gap
    rep = track_report(tracks_of(xy))
    assert rep.expected == 3 and rep.frames == T
    assert rep.frames_missing_animals == 30 + 5 + 10
    m1, m2, m3 = rep.per_individual
    assert (m1.frames_present, m1.tracklets, m1.gaps, m1.longest_gap) == (T, 1, 0, 0)
    assert (m2.frames_present, m2.tracklets, m2.gaps) == (290, 1, 0)
    assert (m3.frames_present, m3.tracklets, m3.gaps, m3.longest_gap) == (265, 3, 2, 30)
    assert "45 frames" in rep.summary and "'mouse3' (3 tracklets" in rep.summary
    assert track_report(tracks_of(xy), expected=2).frames_missing_animals == 0
    assert track_report(tracks_of(xy), expected=4).frames_missing_animals == T
    with pytest.raises(ValueError, match="at least 1"):
        track_report(tracks_of(xy), expected=0)


# ------------------------------------------------------------------------------- SLEAP


@pytest.mark.skipif(not (CLIP / "clip.slp").is_file(), reason="shared SLEAP clip.slp absent")
def test_sleap_clip_against_itself() -> None:
    pytest.importorskip("motmetrics")
    tracks = load_tracks(CLIP / "clip.slp")
    assert tracks.individuals == ("female", "male")
    assert tracks.keypoints.shape == (1500, 2, 13, 2)
    res = compare_tracks(tracks, tracks)
    assert res.idf1 == 1.0 and res.switches == 0 and res.all_found == 1.0
    rep = track_report(tracks)
    assert rep.frames_missing_animals == 0
    assert [p.tracklets for p in rep.per_individual] == [1, 1]
    # SLEAP's own predictions (2 nodes) against the proofread clip
    pred = load_tracks(CLIP / "clip.predictions.slp")
    with pytest.raises(ValueError, match=r"clip\.predictions\.slp lacks body parts"):
        compare_tracks(pred, tracks)
    res = compare_tracks(pred, tracks, common_bodyparts=True)
    assert res.bodyparts == ("head", "thorax")
    assert 0.5 < res.idf1 < 1.0 and res.mapping == {"female": "female", "male": "male"}


def test_sleap_without_tracks_is_refused(tmp_path: Path) -> None:
    sio = pytest.importorskip("sleap_io")
    skel = sio.Skeleton(["a", "b"])
    video = sio.Video(filename=str(tmp_path / "v.mp4"), open_backend=False)
    inst = sio.Instance.from_numpy(np.array([[1.0, 2.0], [3.0, 4.0]]), skeleton=skel)
    labels = sio.Labels(
        labeled_frames=[sio.LabeledFrame(video=video, frame_idx=0, instances=[inst])],
        skeletons=[skel],
        videos=[video],
    )
    path = tmp_path / "untracked.slp"
    sio.save_slp(labels, str(path))
    with pytest.raises(ValueError, match=r"untracked\.slp.*no tracks"):
        load_tracks(path)
