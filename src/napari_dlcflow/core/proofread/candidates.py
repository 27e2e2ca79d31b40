"""Where to look, ranked: the frames where identities are likely wrong (:func:`find_candidates`).

Tracks (:class:`~napari_dlcflow.core.predictions.tracks.Tracks`) are searched for six kinds of
event, each reported once, at its best frame, as a :class:`Candidate`. Distances between two
frames are the mean distance of the body parts both frames show (the centres' where they share
none), so the pose counts, not only the position; an animal's "last position" is that of the
last frame it was present in. The body size is the median diagonal of an animal's keypoint
bounding box; an animal's usual step is the median of its frame-to-frame distances plus four
robust spreads (1.4826 median absolute deviations).

``jump``
    The identities of two animals look exchanged from frame ``t``: the swapped assignment
    (``a``'s last position to ``b`` now, ``b``'s to ``a``) costs at most half the kept one and
    saves more than 0.15 body sizes and more than the two animals' usual steps; or one animal
    lands where another was, and that one vanishes in that frame; or one animal jumps more than
    3 usual steps and half a body size, to or from another animal (ending or starting nearer to
    it than half the jump).
``swap_after_gap``
    The same tests where one of the animals was missing for a while (the allowed jump grows
    with the square root of the gap): an animal reappears nearer where another one was last
    seen than where it was itself.
``crossing``
    Two animals' centres come closer than half a body size (bodies touch or overlap, where
    trackers swap identities) and in some frame of the encounter the motion hardly tells them
    apart: swapping them costs less than 3 times keeping them. An encounter in which their
    poses keep them clearly apart is not reported. One candidate per encounter (close frames
    fewer than 5 frames apart are one), at its most ambiguous frame; an encounter whose pair
    has a jump is reported by the jump.
``short_fragment``
    An identity is present for fewer than ``min_fragment`` frames between gaps: a piece of
    track that often belongs to another animal. Short pieces fewer than ``min_fragment`` frames
    apart (an animal flickering) are one candidate.
``missing``
    Frames with fewer animals than expected, one candidate per run of such frames (runs fewer
    than ``min_fragment`` frames apart are one run), at its first frame.
``part_swap``
    Two body parts of one animal that form a left/right pair (from the names, as label QC
    finds them: ``wingL``/``wingR``, ``left_ear``/``right_ear``) look exchanged from frame
    ``t``: each continues from where the other was (the crossed continuation costs at most half
    the kept one and saves more than 0.15 body sizes and the animal's usual step), while the
    two are at least 0.1 body sizes apart (folded wings on top of each other are left alone)
    and within 0.75 body sizes of the animal's centre, nearer it than any other animal's, in
    both frames (a part assembled from another animal is a wrong point, not an exchanged
    pair). Fixed with a ``swap_parts`` edit.

Candidates of one kind and the same animals at most one frame apart are one event, shown at
its best-scoring frame. The score is comparable across kinds, between 0 and 1, higher where an
identity error is more likely: a jump or a swap after a gap scores 0.5 to 1 (a clear exchange
of the assignment near 1), a crossing 0.1 to 0.5 (more where the animals are harder to tell
apart), a short fragment 0.2 to 0.45 (more for shorter pieces), frames with a missing animal
0.1 to 0.25 (more for longer runs), a part swap 0.3 to 0.6 (one animal's pose, not its
identity). Likelihoods are not used. Everything is numpy on whole
arrays: 100,000 frames of 4 animals with 13 body parts take about a second on one core.
"""

from __future__ import annotations

import itertools
import math
import warnings
from dataclasses import dataclass

import numpy as np

from napari_dlcflow.core.predictions.tracks import Tracks, _runs, body_sizes

__all__ = ["CANDIDATE_KINDS", "Candidate", "find_candidates"]

#: The kinds of :class:`Candidate`, in the order a user reads them.
CANDIDATE_KINDS = (
    "jump",
    "crossing",
    "swap_after_gap",
    "short_fragment",
    "missing",
    "part_swap",
)

# Assignment test: the swapped assignment must cost at most this share of the kept one ...
_RATIO = 0.5
# ... and save at least this share of a body size, and more than the animals' usual steps.
_MIN_GAIN = 0.15
_STEP_SPREADS = 4.0  # a step is unusual beyond median + this many robust spreads
# A jump alone (no swap in the assignment): this many unusual steps and this share of a body
# size at least, towards another animal (nearer to it than half the jump).
_JUMP_STEPS = 3.0
_JUMP_BODY = 0.5
# Crossing: centres closer than this share of a body size.
_CROSSING = 0.5
# ... and swapping them costs less than this many times keeping them, in some frame.
_AMBIGUOUS = 3.0
_ENCOUNTER_GAP = 5  # close runs fewer frames apart are one encounter
# Candidates of one kind and the same animals this close in frames are one event.
_MERGE_FRAMES = 2
_SIZE_SAMPLE = 5000  # frames sampled for the body size


@dataclass(frozen=True)
class Candidate:
    """A place where identities are likely wrong.

    Attributes
    ----------
    frame : int
        The frame to look at (the event's best frame).
    individuals : tuple of str
        The identities concerned, in the order of the tracks.
    kind : str
        One of :data:`CANDIDATE_KINDS`.
    score : float
        0 to 1, comparable across kinds: higher is more likely a real identity problem.
    why : str
        One sentence for the user.
    parts : tuple of str
        The two body parts of a ``part_swap`` (empty for the other kinds).
    """

    frame: int
    individuals: tuple[str, ...]
    kind: str
    score: float
    why: str
    parts: tuple[str, ...] = ()


@dataclass
class _Event:
    kind: str
    frame: int
    ids: tuple[int, ...]
    score: float
    why: str
    start: int
    stop: int  # exclusive
    parts: tuple[str, ...] = ()


class _Geometry:
    """What every test needs, computed once: presence, last-seen frames, distances."""

    def __init__(self, tracks: Tracks) -> None:
        kp = tracks.keypoints
        self.names = tracks.individuals
        self.n_t, self.n = kp.shape[0], kp.shape[1]
        shown = ~np.isnan(kp[..., 0])  # (T, N, K)
        self.present = shown.any(axis=2)
        count = shown.sum(axis=2)
        with np.errstate(invalid="ignore", divide="ignore"):
            self.centre = np.where(shown[..., None], kp, 0.0).sum(axis=2) / count[..., None]
        # The body size: the median over a sample of frames is the median (a faster one).
        every = max(1, self.n_t // _SIZE_SAMPLE)
        sample = Tracks(kp[::every], None, tracks.individuals, tracks.bodyparts)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            per_animal = np.nanmedian(body_sizes(sample), axis=0)
        body = float(np.nanmedian(per_animal)) if np.isfinite(per_animal).any() else math.nan
        if not math.isfinite(body) or body <= 0:
            body = self._size_without_parts()
        self.body = body
        # The last frame before t in which each animal was present (-1: never).
        frames = np.arange(self.n_t)[:, None]
        last = np.maximum.accumulate(np.where(self.present, frames, -1), axis=0)
        self.ref = np.full((self.n_t, self.n), -1, dtype=np.int64)
        self.ref[1:] = last[:-1]
        self.age = np.where(self.ref >= 0, frames - self.ref, 0)
        # dist[a][b][t]: from a where it was last seen before t to b in frame t (NaN: either
        # missing).
        self.dist = self._distances(kp, shown)
        # Each animal's usual step (frame to frame), robustly.
        self.step = np.empty(self.n)
        for a in range(self.n):
            steps = self.dist[a][a][(self.age[:, a] == 1) & self.present[:, a]]
            steps = steps[np.isfinite(steps)]
            if len(steps) < 10:
                self.step[a] = 0.1 * self.body
                continue
            med = float(np.median(steps))
            spread = 1.4826 * float(np.median(np.abs(steps - med)))
            self.step[a] = med + _STEP_SPREADS * spread
        self.step = np.maximum(self.step, 0.02 * self.body)

    def _size_without_parts(self) -> float:
        """A body size when no animal shows two body parts: half the median distance of two
        animals, or 1 px."""
        c = self.centre
        pairs = itertools.combinations(range(self.n), 2)
        pair = [np.hypot(*(c[:, a] - c[:, b]).T) for a, b in pairs]
        d = np.concatenate(pair) if pair else np.empty(0)
        d = d[np.isfinite(d) & (d > 0)]
        return max(0.5 * float(np.median(d)), 1.0) if len(d) else 1.0

    def _distances(self, kp: np.ndarray, shown: np.ndarray) -> list[list[np.ndarray]]:
        """``dist[a][b]``, ``(T,)``: the mean distance of the body parts shown by both ``a``
        where it was last seen and ``b`` now; the centres' distance where they share none; NaN
        where either is missing."""
        out: list[list[np.ndarray]] = []
        for a in range(self.n):
            ref = np.clip(self.ref[:, a], 0, None)
            then, then_centre, then_shown = kp[ref, a], self.centre[ref, a], shown[ref, a]
            row = []
            for b in range(self.n):
                d = then - kp[:, b]  # (T, K, 2)
                each = np.sqrt(d[..., 0] ** 2 + d[..., 1] ** 2)
                both = then_shown & shown[:, b]
                count = both.sum(axis=1)
                each[~both] = 0.0
                with np.errstate(invalid="ignore", divide="ignore"):
                    dist = each.sum(axis=1) / count
                dc = then_centre - self.centre[:, b]
                dist = np.where(count > 0, dist, np.sqrt(dc[:, 0] ** 2 + dc[:, 1] ** 2))
                dist[(self.ref[:, a] < 0) | ~self.present[:, b]] = np.nan
                row.append(dist)
            out.append(row)
        return out


def _validate(value: object, what: str) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
        raise ValueError(f"{what} must be a whole number of at least 1, not {value!r}")
    return int(value)


def find_candidates(
    tracks: Tracks, *, expected: int | None = None, min_fragment: int = 5
) -> list[Candidate]:
    """Find the frames where identities are likely wrong, ranked, best first.

    Parameters
    ----------
    tracks : Tracks
        The tracks to check (keypoints ``(T, N, K, 2)``, NaN: absent).
    expected : int, optional
        Animals expected in every frame; default the number of identities.
    min_fragment : int
        A piece of track shorter than this many frames is a ``short_fragment``.

    Returns
    -------
    list of Candidate
        One per event, by score (highest first), then by frame.

    Raises
    ------
    ValueError
        If ``expected`` or ``min_fragment`` is not a whole number of at least 1.
    """
    n_exp = len(tracks.individuals) if expected is None else _validate(expected, "expected")
    min_fragment = _validate(min_fragment, "min_fragment")
    if tracks.n_frames == 0:
        return []
    geo = _Geometry(tracks)
    events = _assignment_events(geo)
    events += _crossing_events(geo, events)
    events += _fragment_events(geo, min_fragment)
    events += _missing_events(geo, n_exp, min_fragment)
    events += _part_swap_events(geo, tracks)
    events = _merge(events)
    events.sort(key=lambda e: (-e.score, e.frame, e.kind, e.ids))
    return [
        Candidate(
            frame=e.frame,
            individuals=tuple(geo.names[i] for i in e.ids),
            kind=e.kind,
            score=round(float(e.score), 3),
            why=e.why,
            parts=e.parts,
        )
        for e in events
    ]


# ------------------------------------------------------------------------------- the tests


def _count(n: int, what: str) -> str:
    return f"{n} {what}" if n == 1 else f"{n} {what}s"


def _px(value: float) -> str:
    return f"{value:.0f} px" if value >= 10 else f"{value:.1f} px"


def _assignment_events(geo: _Geometry) -> list[_Event]:
    """``jump`` and ``swap_after_gap``: the swapped assignment is clearly cheaper."""
    events: list[_Event] = []
    names, body, dist, age = geo.names, geo.body, geo.dist, geo.age
    for a, b in itertools.combinations(range(geo.n), 2):
        kept = dist[a][a] + dist[b][b]
        swapped = dist[a][b] + dist[b][a]
        with np.errstate(invalid="ignore"):
            gain = kept - swapped
            hit = (
                (swapped < _RATIO * kept)
                & (gain > _MIN_GAIN * body)
                & (gain > geo.step[a] + geo.step[b])
            )
        for t in np.flatnonzero(hit):
            ratio = swapped[t] / kept[t]
            score = 0.5 + 0.5 * (1.0 - ratio) * min(1.0, gain[t] / body)
            gap = max(age[t, a], age[t, b])
            kind = "jump" if gap == 1 else "swap_after_gap"
            if kind == "jump":
                why = (
                    f"{names[a]} and {names[b]} look swapped from frame {t}: swapping them "
                    f"would move them {_px(swapped[t])} instead of {_px(kept[t])} since "
                    f"frame {t - 1}"
                )
            else:
                gone = a if age[t, a] >= age[t, b] else b
                why = (
                    f"{names[a]} and {names[b]} look swapped in frame {t}, after "
                    f"{names[gone]} was missing for {_count(age[t, gone] - 1, 'frame')}: swapping "
                    f"them would move them {_px(swapped[t])} instead of {_px(kept[t])}"
                )
            events.append(_Event(kind, int(t), (a, b), score, why, int(t), int(t) + 1))
    # One animal present now takes the place of another that is missing now.
    for a, b in itertools.permutations(range(geo.n), 2):
        own, other = dist[a][a], dist[b][a]
        allowed = geo.step[a] * np.sqrt(np.maximum(age[:, a], 1))
        gone_now = ~geo.present[:, b] & (geo.ref[:, b] >= 0)
        with np.errstate(invalid="ignore"):
            hit = (
                gone_now
                & (other < _RATIO * own)
                & (own - other > _MIN_GAIN * body)
                & (own > allowed)
            )
        for t in np.flatnonzero(hit):
            ratio = other[t] / own[t]
            score = 0.5 + 0.5 * (1.0 - ratio) * min(1.0, (own[t] - other[t]) / body)
            seen_b = int(geo.ref[t, b])
            pair = (min(a, b), max(a, b))
            if age[t, a] == 1 and t - seen_b == 1:
                kind = "jump"
                why = (
                    f"{names[a]} jumps {_px(own[t])} in frame {t}, onto where {names[b]} was "
                    f"in frame {t - 1} ({_px(other[t])} away), and {names[b]} vanishes"
                )
            else:
                kind = "swap_after_gap"
                what = (
                    f"reappears in frame {t} after {_count(age[t, a] - 1, 'frame')} missing"
                    if age[t, a] > 1
                    else f"jumps {_px(own[t])} in frame {t}"
                )
                why = (
                    f"{names[a]} {what} {_px(other[t])} from where {names[b]} was last seen "
                    f"(frame {seen_b}) and {_px(own[t])} from where it was itself"
                )
            events.append(_Event(kind, int(t), pair, score, why, int(t), int(t) + 1))
    # One animal jumps farther than its speed allows, to or from another animal.
    for a in range(geo.n):
        own = dist[a][a]
        allowed = np.maximum(_JUMP_STEPS * geo.step[a], _JUMP_BODY * body) * np.sqrt(
            np.maximum(age[:, a], 1)
        )
        others = [b for b in range(geo.n) if b != a]
        if not others:
            continue
        # [0, k]: from where other k was last seen to a now (landing on it); [1, k]: from
        # where a was last seen to other k now (leaving it).
        near = np.stack([[dist[b][a] for b in others], [dist[a][b] for b in others]])
        near = np.where(np.isnan(near), np.inf, near).reshape(2 * len(others), -1)
        nearest = near.argmin(axis=0)
        closest = near[nearest, np.arange(geo.n_t)]
        with np.errstate(invalid="ignore"):
            hit = (own > allowed) & (closest < 0.5 * own)
        for t in np.flatnonzero(hit):
            leaving, k = divmod(int(nearest[t]), len(others))
            b, gap = others[k], float(closest[t])
            score = 0.5 + 0.2 * min(1.0, own[t] / body) * (1.0 - gap / own[t])
            kind = "jump" if age[t, a] == 1 else "swap_after_gap"
            what = (
                f"jumps {_px(own[t])} in frame {t}"
                if age[t, a] == 1
                else f"reappears in frame {t} after {_count(age[t, a] - 1, 'frame')} missing, "
                f"{_px(own[t])} from where it was last seen"
            )
            if leaving:
                where = f"away from where {names[b]} is ({_px(gap)} from where it was)"
                doubt = f"it may have carried {names[b]}'s identity until then"
            else:
                where = f"to {_px(gap)} from where {names[b]} was in frame {geo.ref[t, b]}"
                doubt = f"it may have taken {names[b]}'s identity"
            why = f"{names[a]} {what}, {where}: {doubt}"
            pair = (min(a, b), max(a, b))
            events.append(_Event(kind, int(t), pair, score, why, int(t), int(t) + 1))
    return events


def _crossing_events(geo: _Geometry, assignment: list[_Event]) -> list[_Event]:
    """``crossing``: centres closer than half a body size while the motion hardly tells the two
    animals apart; one event per encounter, at its most ambiguous frame."""
    events: list[_Event] = []
    names, body, c, dist = geo.names, geo.body, geo.centre, geo.dist
    for a, b in itertools.combinations(range(geo.n), 2):
        d = np.hypot(*(c[:, a] - c[:, b]).T)
        with np.errstate(invalid="ignore"):
            close = d < _CROSSING * body
        runs = _join(_runs(close), _ENCOUNTER_GAP)
        if not runs:
            continue
        with np.errstate(invalid="ignore", divide="ignore"):
            ratio = (dist[a][b] + dist[b][a]) / (dist[a][a] + dist[b][b])
        swaps = np.array(sorted(e.frame for e in assignment if e.ids == (a, b)), dtype=np.int64)
        for start, stop in runs:
            lo = np.searchsorted(swaps, start - _MERGE_FRAMES)
            if lo < len(swaps) and swaps[lo] < stop + _MERGE_FRAMES:
                continue  # the jump in it is the event
            seg = np.where(close[start:stop], ratio[start:stop], np.nan)
            if not np.isfinite(seg).any() or np.nanmin(seg) >= _AMBIGUOUS:
                continue  # clearly kept apart all along
            t = start + int(np.nanargmin(seg))
            worst = float(ratio[t])
            nearest = float(np.nanmin(d[start:stop]))
            doubt = min(1.0, max(0.0, (_AMBIGUOUS - worst) / (_AMBIGUOUS - _RATIO)))
            closeness = 1.0 - nearest / (_CROSSING * body)
            score = 0.1 + 0.3 * doubt + 0.1 * closeness
            why = (
                f"{names[a]} and {names[b]} come within {_px(nearest)} of each other "
                f"({nearest / body:.2f} body sizes) in frames {start}-{stop - 1}, and in frame "
                f"{t} swapping them would cost only {worst:.1f} times as much motion as keeping "
                "them: check that they keep their identities"
            )
            events.append(_Event("crossing", t, (a, b), score, why, start, stop))
    return events


def _fragment_events(geo: _Geometry, min_fragment: int) -> list[_Event]:
    """``short_fragment``: present for fewer than ``min_fragment`` frames between gaps; short
    pieces fewer than ``min_fragment`` frames apart (an animal flickering) are one event."""
    events: list[_Event] = []
    for a in range(geo.n):
        groups: list[list[tuple[int, int]]] = []
        previous_short = False
        for start, stop in _runs(geo.present[:, a]):
            short = stop - start < min_fragment and stop - start < geo.n_t
            if short and previous_short and start - groups[-1][-1][1] < min_fragment:
                groups[-1].append((start, stop))
            elif short:
                groups.append([(start, stop)])
            previous_short = short
        for pieces in groups:
            start, stop = pieces[0][0], pieces[-1][1]
            shortest = min(e - s for s, e in pieces)
            score = 0.2 + 0.25 * (1.0 - (shortest - 1) / min_fragment)
            frames = f"frame {start}" if stop - start == 1 else f"frames {start}-{stop - 1}"
            if len(pieces) == 1:
                what = f"is present in {frames} only ({stop - start} of at least {min_fragment})"
            else:
                what = (
                    f"flickers in {frames}: {len(pieces)} pieces of track, each shorter than "
                    f"{min_fragment} frames"
                )
            why = f"{geo.names[a]} {what}: a short piece of track often belongs to another animal"
            first = pieces[0][0]
            events.append(_Event("short_fragment", first, (a,), score, why, start, stop))
    return events


def _missing_events(geo: _Geometry, expected: int, min_fragment: int) -> list[_Event]:
    """``missing``: runs of frames with fewer animals than expected, one event per run."""
    count = geo.present.sum(axis=1)
    events: list[_Event] = []
    for start, stop in _join(_runs(count < expected), min_fragment):
        gone = ~geo.present[start:stop].all(axis=0)
        ids = tuple(int(i) for i in np.flatnonzero(gone)) or tuple(range(geo.n))
        fewest = int(count[start:stop].min())
        length = stop - start
        score = 0.1 + 0.15 * min(1.0, length / 100.0)
        frames = f"frame {start}" if length == 1 else f"frames {start}-{stop - 1}"
        who = ", ".join(geo.names[i] for i in ids)
        why = (
            f"{frames} {'shows' if length == 1 else 'show'} fewer animals than the "
            f"{expected} expected (as few as {fewest}; missing: {who})"
        )
        events.append(_Event("missing", start, ids, score, why, start, stop))
    return events


def _part_swap_events(geo: _Geometry, tracks: Tracks) -> list[_Event]:
    """``part_swap``: a left/right pair of one animal exchanged from one frame to the next."""
    from napari_dlcflow.core.labels.qc_pairs import symmetric_pairs

    names = list(tracks.bodyparts)
    kp = tracks.keypoints
    events: list[_Event] = []
    if geo.n_t < 2:
        return events
    for left, right in symmetric_pairs(names):
        p, q = names.index(left), names.index(right)
        for a in range(geo.n):
            L, R = kp[:, a, p], kp[:, a, q]  # (T, 2)
            keep = np.hypot(*(L[1:] - L[:-1]).T) + np.hypot(*(R[1:] - R[:-1]).T)
            cross = np.hypot(*(L[1:] - R[:-1]).T) + np.hypot(*(R[1:] - L[:-1]).T)
            apart = np.minimum(np.hypot(*(L[:-1] - R[:-1]).T), np.hypot(*(L[1:] - R[1:]).T))
            gain = max(_MIN_GAIN * geo.body, geo.step[a])
            # both on the animal's body in both frames: a part assembled from another animal
            # is a wrong point, not an exchanged pair
            c = geo.centre[:, a]
            own = np.maximum(np.hypot(*(L - c).T), np.hypot(*(R - c).T))
            near = own <= 0.75 * geo.body
            for b in range(geo.n):  # ... and nearer its own animal than any other one
                if b != a:
                    o = geo.centre[:, b]
                    other = np.minimum(np.hypot(*(L - o).T), np.hypot(*(R - o).T))
                    near &= ~(other < own)
            with np.errstate(invalid="ignore"):
                hit = (cross <= _RATIO * keep) & (keep - cross > gain) & (apart > 0.1 * geo.body)
            hit &= near[1:] & near[:-1]
            for t in np.flatnonzero(hit) + 1:
                ratio = float(cross[t - 1] / keep[t - 1]) if keep[t - 1] > 0 else 0.0
                score = 0.3 + 0.3 * min(1.0, max(0.0, 1.0 - ratio / _RATIO))
                why = (
                    f"{geo.names[a]}'s {left} and {right} look exchanged from frame {t}: each "
                    f"continues from where the other was ({_px(float(cross[t - 1]) / 2)} "
                    f"against {_px(float(keep[t - 1]) / 2)} each)"
                )
                pair = (left, right)
                events.append(_Event("part_swap", int(t), (a,), score, why, int(t), t + 1, pair))
    return events


# ------------------------------------------------------------------------------- merging


def _join(runs: list[tuple[int, int]], gap: int) -> list[tuple[int, int]]:
    """Runs separated by fewer than ``gap`` frames joined into one."""
    out: list[tuple[int, int]] = []
    for start, stop in runs:
        if out and start - out[-1][1] < gap:
            out[-1] = (out[-1][0], stop)
        else:
            out.append((start, stop))
    return out


def _merge(events: list[_Event]) -> list[_Event]:
    """Events of one kind and the same animals within :data:`_MERGE_FRAMES` frames of each
    other are one: the best-scoring one stands for them, spanning all."""
    groups: dict[tuple[str, tuple[int, ...], tuple[str, ...]], list[_Event]] = {}
    for e in events:
        groups.setdefault((e.kind, e.ids, e.parts), []).append(e)
    out: list[_Event] = []
    for group in groups.values():
        group.sort(key=lambda e: e.start)
        current = [group[0]]
        for e in group[1:]:
            if e.start - max(x.stop for x in current) < _MERGE_FRAMES:
                current.append(e)
            else:
                out.append(_best(current))
                current = [e]
        out.append(_best(current))
    return out


def _best(events: list[_Event]) -> _Event:
    best = max(events, key=lambda e: (e.score, -e.frame))
    start, stop = min(e.start for e in events), max(e.stop for e in events)
    return _Event(best.kind, best.frame, best.ids, best.score, best.why, start, stop, best.parts)
