"""Where to look, ranked: ``find_candidates`` on tracks with known identity events.

The clean tracks are the tracks tests' synthetic truth (three animals on their own circles,
300 frames, 4 body parts) or constructed straight walks; each test puts one event of a kind at a
known frame and checks that it is found there, once, and that the clean tracks give nothing.
"""

from __future__ import annotations

import warnings

import numpy as np
import pytest

from _tracks_data import BPS, CLIP, INDS, truth_xy
from napari_dlcflow.core.predictions.tracks import Tracks
from napari_dlcflow.core.proofread.candidates import (
    CANDIDATE_KINDS,
    Candidate,
    find_candidates,
)


def tracks(xy: np.ndarray, individuals: tuple[str, ...] = INDS) -> Tracks:
    return Tracks(xy, None, individuals, BPS[: xy.shape[2]])


def walkers(n_frames: int = 100, meet: int = 50, dy: float = 4.0, *, overtake: bool = True):
    """Two animals walking along x, 4 px apart across, level at frame ``meet``: one overtaking
    the other (3 and 1 px a frame, the same way, the same pose) or head-on (2 px a frame each,
    facing each other)."""
    t = np.arange(n_frames)[:, None] - meet
    shape = np.array([[20.0, 0.0], [10.0, -8.0], [10.0, 8.0], [-20.0, 0.0]])
    speeds, facing = ((3.0, 1.0), (1.0, 1.0)) if overtake else ((2.0, -2.0), (1.0, -1.0))
    xy = np.empty((n_frames, 2, 4, 2))
    for n, (speed, face) in enumerate(zip(speeds, facing, strict=True)):
        centre = np.hstack([200.0 + speed * t, np.full_like(t, 100.0 + n * dy, dtype=float)])
        xy[:, n] = centre[:, None] + face * shape
    return xy


def only(found: list[Candidate], kind: str) -> list[Candidate]:
    return [c for c in found if c.kind == kind]


def test_clean_tracks_give_nothing() -> None:
    assert find_candidates(tracks(truth_xy())) == []
    far = walkers(dy=100.0)  # the same walk, never close
    assert find_candidates(tracks(far, INDS[:2])) == []


def test_swap_from_a_frame_on_is_one_jump_at_that_frame() -> None:
    xy = truth_xy()
    xy[100:, [0, 1]] = xy[100:, [1, 0]]
    found = find_candidates(tracks(xy))
    assert len(found) == 1
    (c,) = found
    assert (c.frame, c.individuals, c.kind) == (100, ("mouse1", "mouse2"), "jump")
    assert 0.9 < c.score <= 1.0
    assert "mouse1 and mouse2" in c.why and "frame 100" in c.why


def test_swap_of_a_range_is_found_at_both_ends_and_short_ones_merge() -> None:
    xy = truth_xy()
    xy[100:110, [1, 2]] = xy[100:110, [2, 1]]
    found = find_candidates(tracks(xy))
    assert sorted(c.frame for c in found) == [100, 110]
    assert {c.individuals for c in found} == {("mouse2", "mouse3")}
    # a swap of one frame: two changes one frame apart are one event
    xy = truth_xy()
    xy[200, [0, 2]] = xy[200, [2, 0]]
    (c,) = find_candidates(tracks(xy))
    assert c.frame in (200, 201) and c.kind == "jump"


def test_jump_onto_another_animal() -> None:
    # mouse1 takes mouse2's place in frame 150 while mouse2 vanishes
    xy = truth_xy()
    xy[150:, 0] = xy[150:, 1]
    xy[150:, 1] = np.nan
    jumps = only(find_candidates(tracks(xy)), "jump")
    assert [(c.frame, c.individuals) for c in jumps] == [(150, ("mouse1", "mouse2"))]
    assert "vanishes" in jumps[0].why
    # mouse1 jumps onto mouse3 (a duplicate: both present) for 20 frames
    xy = truth_xy()
    xy[150:170, 0] = xy[150:170, 2] + 3.0
    jumps = only(find_candidates(tracks(xy)), "jump")
    assert {(c.frame, c.individuals) for c in jumps} == {
        (150, ("mouse1", "mouse3")),
        (170, ("mouse1", "mouse3")),
    }
    assert all(0.5 <= c.score <= 1.0 for c in jumps)


def test_swap_after_a_gap() -> None:
    # both lost for 20 frames, back with their identities exchanged
    xy = truth_xy()
    xy[100:120, [0, 1]] = np.nan
    xy[120:, [0, 1]] = xy[120:, [1, 0]]
    found = find_candidates(tracks(xy))
    (c,) = only(found, "swap_after_gap")
    assert (c.frame, c.individuals) == (120, ("mouse1", "mouse2"))
    assert "missing for 20 frames" in c.why
    # the same gap without the swap: only the missing animals
    xy = truth_xy()
    xy[100:120, [0, 1]] = np.nan
    assert [c.kind for c in find_candidates(tracks(xy))] == ["missing"]
    # mouse2 lost, and when it is back it carries on where mouse1 was; mouse1 vanishes
    xy = truth_xy()
    xy[80:100, 1] = np.nan
    xy[100:, 1] = xy[100:, 0]
    xy[100:, 0] = np.nan
    (c,) = only(find_candidates(tracks(xy)), "swap_after_gap")
    assert (c.frame, c.individuals) == (100, ("mouse1", "mouse2"))
    assert "mouse2 reappears in frame 100" in c.why


def test_crossing() -> None:
    # one animal overtakes the other, both in the same pose: a crossing at frame 50, no jump
    found = find_candidates(tracks(walkers(), INDS[:2]))
    assert [c.kind for c in found] == ["crossing"]
    (c,) = found
    assert abs(c.frame - 50) <= 2 and c.individuals == ("mouse1", "mouse2")
    assert 0.1 <= c.score < 0.5
    assert "come within 4.0 px" in c.why
    # head-on, facing each other: the poses tell them apart all along, nothing to check
    assert find_candidates(tracks(walkers(overtake=False), INDS[:2])) == []
    # the overtaking animal takes the other's identity as they meet: a jump, not a crossing
    xy = walkers()
    xy[54:, [0, 1]] = xy[54:, [1, 0]]
    found = find_candidates(tracks(xy, INDS[:2]))
    assert [(c.kind, c.frame) for c in found] == [("jump", 54)]


def test_short_fragment() -> None:
    xy = truth_xy()
    xy[150:260, 2] = np.nan
    xy[200:203, 2] = truth_xy()[200:203, 2]  # back for 3 frames only
    found = find_candidates(tracks(xy))
    (c,) = only(found, "short_fragment")
    assert (c.frame, c.individuals) == (200, ("mouse3",))
    assert "frames 200-202" in c.why
    assert not only(find_candidates(tracks(xy), min_fragment=3), "short_fragment")
    # two pieces a few frames apart: one event
    xy[206:208, 2] = truth_xy()[206:208, 2]
    (c,) = only(find_candidates(tracks(xy)), "short_fragment")
    assert c.frame == 200 and "2 pieces" in c.why


def test_missing_runs_once_per_run() -> None:
    xy = truth_xy()
    xy[20:50, 2] = np.nan
    found = find_candidates(tracks(xy))
    (c,) = found
    assert (c.frame, c.individuals, c.kind) == (20, ("mouse3",), "missing")
    assert "frames 20-49" in c.why and 0.0 < c.score <= 0.25
    assert find_candidates(tracks(xy), expected=2) == []
    (c,) = find_candidates(tracks(truth_xy()), expected=4)
    assert (c.frame, c.kind) == (0, "missing") and "frames 0-299" in c.why


def test_ranking_puts_swaps_first() -> None:
    xy = truth_xy()
    xy[30:60, 2] = np.nan  # missing
    xy[150:260, 2] = np.nan
    xy[200:202, 2] = truth_xy()[200:202, 2]  # short fragment
    xy[100:, [0, 1]] = xy[100:, [1, 0]]  # swap
    found = find_candidates(tracks(xy))
    assert found[0].kind == "jump" and found[0].frame == 100
    assert {c.kind for c in found} == {"jump", "short_fragment", "missing"}
    scores = [c.score for c in found]
    assert scores == sorted(scores, reverse=True)
    assert all(c.kind in CANDIDATE_KINDS and 0.0 <= c.score <= 1.0 for c in found)
    assert len(only(found, "missing")) == 2  # 30-59 and 150-259 (around the fragment)


@pytest.fixture(scope="module")
def clip() -> Tracks:
    if not (CLIP / "clip.slp").is_file():
        pytest.skip("../shared/data (SLEAP's test clip) is not here")
    from napari_dlcflow.core.formats.tracks import load_tracks

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        full = load_tracks(CLIP / "clip.slp")
    return Tracks(full.keypoints[:400], None, full.individuals, full.bodyparts)


def test_injected_swaps_in_real_tracks(clip: Tracks) -> None:
    """SLEAP's proofread clip (two flies, 13 body parts, always close): clean, then swaps."""
    assert find_candidates(clip) == []
    kp = clip.keypoints.copy()
    kp[100:, [0, 1]] = kp[100:, [1, 0]]
    kp[200:215, [0, 1]] = kp[200:215, [1, 0]]
    kp[330:, [0, 1]] = kp[330:, [1, 0]]
    found = find_candidates(Tracks(kp, None, clip.individuals, clip.bodyparts))
    assert sorted(c.frame for c in found) == [100, 200, 215, 330]
    assert all(c.kind == "jump" and c.individuals == ("female", "male") for c in found)


def test_degenerate_tracks_and_bad_arguments() -> None:
    xy = truth_xy(50)
    xy[:, 1] = np.nan  # an identity that is never there
    found = find_candidates(tracks(xy))
    assert [(c.kind, c.frame, c.individuals) for c in found] == [("missing", 0, ("mouse2",))]
    one = tracks(truth_xy(50)[:, :1, :1], INDS[:1])  # one animal, one body part
    assert find_candidates(one) == []
    assert find_candidates(tracks(np.empty((0, 3, 4, 2)))) == []
    for bad in (0, -1, 1.5, True):
        with pytest.raises(ValueError, match="expected must be"):
            find_candidates(tracks(truth_xy(20)), expected=bad)
        with pytest.raises(ValueError, match="min_fragment must be"):
            find_candidates(tracks(truth_xy(20)), min_fragment=bad)


def test_left_right_parts_exchanged_in_real_tracks(clip: Tracks) -> None:
    """A left/right pair of one fly exchanged (the tracking took its legs the wrong way round)
    is one ``part_swap`` at each end, naming the fly and the pair; the clean clip has none."""
    kp = clip.keypoints.copy()
    names = list(clip.bodyparts)
    p, q = names.index("forelegL4"), names.index("forelegR4")
    kp[150:230, 1, [p, q]] = kp[150:230, 1, [q, p]]  # the male's forelegs, frames 150-229
    found = only(find_candidates(Tracks(kp, None, clip.individuals, clip.bodyparts)), "part_swap")
    assert sorted(c.frame for c in found) == [150, 230], found
    assert all(c.individuals == ("male",) for c in found)
    assert all(c.parts == ("forelegL4", "forelegR4") for c in found)
    assert "male's forelegL4 and forelegR4 look exchanged from frame 150" in found[0].why
