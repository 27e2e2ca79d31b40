"""Where to look, ranked: injected identity swaps found by ``find_candidates`` (``check-tracks``).

Proofread tracks (no identity error) get identity swaps injected, and
:func:`napari_dlcflow.core.proofread.candidates.find_candidates` must point at them:

- **clip.slp**: SLEAP's test clip (``../shared/data/sleap-tests/tracks/clip.slp``, 1,500 frames,
  two flies with 13 body parts, proofread tracks read by ``load_tracks``);
- **group**: the synthetic multi-animal example's truth
  (:func:`napari_dlcflow.core.example.group.iter_group`, ``GroupSpec(n_animals=2 + seed % 3,
  n_frames=--frames, height=128, width=128, seed=seed)``: 2 to 4 look-alike animals that cross,
  touch and hide under a shelter, so identities have gaps).

Injection (``numpy.random.default_rng(seed)``), walking forward in time: one swap per
``--every`` frames (default 100), each 12 to ``2 * every - 12`` frames after the previous event
and 10 from either end, at a frame where both animals of the pair are present in the frame
before and in the frame itself. Half the swaps last to the end ("swap from frame t onward"),
half 1 to 30 frames (the swap back is then a second injected event, place "end"). In turn they
are placed, where the data has such frames, where the two animals are far apart (centres more
than 1.5 body sizes apart; the body size is the bounding-box diagonal), close (under 1 body
size), touching (under 0.3 body sizes) and at any frame; the table says how many of each.

Each data set is scored as it is and **with noise** (prediction-like: Gaussian noise of 3 % of
a body size on each coordinate and 10 % of the keypoints dropped, before the injection):

- **found**: injected swap events with a candidate naming both animals within 2 frames
  (goal >= 90 %);
- **other candidates per 200 frames**: candidates farther than 2 frames from every injected
  event (goal <= 1), how many of them the untouched tracks do not have (same kind within 2
  frames), and the candidates of the untouched tracks themselves: real crossings, gaps and
  missing animals of the proofread tracks are events too, not errors;
- **time** of ``find_candidates`` for 1,500 frames (clip.slp, 2 animals) and 100,000 frames of
  4 animals with 13 body parts (clip.slp's two flies plus a copy of them moved 700 px and 400
  frames later, played forwards and backwards until 100,000 frames, with 0.5 px noise), as it
  is and with noise and a swap per ``--every`` frames; median of ``--repeat`` runs after one
  warm-up; the load average (``os.getloadavg``) is printed around them.

The detector's thresholds were tuned on seeds 1-4 (group examples and clip.slp injections;
``--seeds 1 2 3 4``) and are reported on seeds 5-10 (the default), not looked at while tuning.

Run from the repository root (not part of the test suite)::

    .venv/bin/python benchmarks/bench_check_tracks.py                  # ~4 min
    .venv/bin/python benchmarks/bench_check_tracks.py --cache /tmp/g   # keep the rendered truths
    .venv/bin/python benchmarks/bench_check_tracks.py --seeds 1 2 3 4  # the tuning seeds
    .venv/bin/python benchmarks/bench_check_tracks.py --quick          # 2 seeds, 1,000 frames
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
import warnings
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _table import Table

SHARED = Path(__file__).resolve().parents[2] / "shared" / "data"
CLIP = SHARED / "sleap-tests" / "tracks" / "clip.slp"
WINDOW = 2  # frames: a candidate this close to an injected event finds it
GAP = 12  # frames between injected events at least


@dataclass
class Score:
    """What one or more runs found."""

    frames: int = 0
    injected: int = 0
    found: int = 0
    by_kind: Counter = field(default_factory=Counter)
    place: Counter = field(default_factory=Counter)  # injected events: near / far / other
    place_found: Counter = field(default_factory=Counter)
    others: int = 0
    spurious: int = 0  # others that the untouched tracks do not have (same kind, animals, frame)
    untouched: int = 0
    untouched_kinds: Counter = field(default_factory=Counter)
    other_kinds: Counter = field(default_factory=Counter)
    missed: list = field(default_factory=list)
    tracks: object = None

    def add(self, other: Score) -> None:
        for name in ("frames", "injected", "found", "others", "spurious", "untouched"):
            setattr(self, name, getattr(self, name) + getattr(other, name))
        for name in ("by_kind", "place", "place_found", "untouched_kinds", "other_kinds"):
            getattr(self, name).update(getattr(other, name))
        self.missed += other.missed


def _centres(kp: np.ndarray) -> np.ndarray:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        return np.nanmean(kp, axis=2)


def _window(n_t: int, cursor: int, every: int) -> np.ndarray:
    """Where the next injected event may go: 12 to ``2 * every - 12`` frames after the
    previous one, at least 10 frames from the end."""
    window = np.zeros(n_t, dtype=bool)
    window[cursor : min(cursor + 2 * every - GAP, n_t - 10)] = True
    return window


def _range_end(t: int, n_t: int, rng: np.random.Generator, fits: np.ndarray) -> int | None:
    """Half the time, the end of a 1-30 frame range from ``t`` (where ``fits[end]``); else
    None (the event lasts to the end of the video)."""
    if rng.random() < 0.5:
        end = t + int(rng.integers(1, 31))
        if end < n_t - 10 and fits[end]:
            return end
    return None


def inject_swaps(
    kp: np.ndarray, body: float, rng: np.random.Generator, every: int = 100
) -> tuple[np.ndarray, list[tuple[int, int, int, str]]]:
    """Swap identities in a copy of ``kp`` (T, N, K, 2), walking forward in time.

    Each swap is placed 12 to ``2 * every - 12`` frames after the previous event, so the pair
    it names is the pair of columns that change there whatever was swapped before. Returns the
    swapped keypoints and the injected events ``(frame, a, b, place)``: each swap's first frame
    and, for a swap of a range, the frame it ends (the swap back, place ``"end"``).
    """
    kp = kp.copy()
    n_t, n = kp.shape[:2]
    events: list[tuple[int, int, int, str]] = []
    present = ~np.isnan(kp[..., 0]).all(axis=2)
    c = _centres(kp)
    cursor = 10
    while cursor < n_t - 10:
        a, b = sorted(rng.choice(n, size=2, replace=False).tolist())
        both = present[:, a] & present[:, b]
        ok = both.copy()
        ok[1:] &= both[:-1]
        ok[0] = False
        ok &= _window(n_t, cursor, every)
        dist = np.hypot(*(c[:, a] - c[:, b]).T)
        want = ("far", "near", "touching", "any")[len([e for e in events if e[3] != "end"]) % 4]
        limit = {"near": body, "touching": 0.3 * body}.get(want, np.inf)
        picked = ok & (dist > 1.5 * body if want == "far" else dist < limit)
        frames = np.flatnonzero(picked if want != "any" and picked.any() else ok)
        if not len(frames):
            cursor += every
            continue
        t = int(rng.choice(frames))
        stop = _range_end(t, n_t, rng, both & np.r_[False, both[:-1]])
        for array in (kp, present, c):  # the columns swapped in all three
            array[t:stop, [a, b]] = array[t:stop, [b, a]]
        place = (
            "far"
            if dist[t] > 1.5 * body
            else "touching"
            if dist[t] < 0.3 * body
            else "near"
            if dist[t] < body
            else "other"
        )
        events.append((t, a, b, place))
        if stop is not None:
            events.append((stop, a, b, "end"))
        cursor = (stop or t) + GAP
    return kp, events


def inject_part_swaps(
    truth, body: float, rng: np.random.Generator, every: int = 100
) -> tuple[np.ndarray, list[tuple[int, int, tuple[str, str]]]]:
    """Exchange a left/right pair of one animal (names as label QC pairs them) in a copy of
    ``truth``'s keypoints, one event per about ``every`` frames, from a frame on or in a range
    of 1-30 frames (its end is an event too), where both parts are shown and at least 0.1 body
    sizes apart. Returns the keypoints and the events ``(frame, animal, (left, right))``."""
    from napari_dlcflow.core.labels.qc_pairs import symmetric_pairs

    kp = truth.keypoints.copy()
    names = list(truth.bodyparts)
    pairs = [(names.index(a), names.index(b)) for a, b in symmetric_pairs(names)]
    events: list[tuple[int, int, tuple[str, str]]] = []
    n_t, n = kp.shape[:2]
    cursor = 10
    while pairs and cursor < n_t - 10:
        a = int(rng.integers(n))
        p, q = pairs[int(rng.integers(len(pairs)))]
        apart = np.hypot(*(kp[:, a, p] - kp[:, a, q]).T) > 0.1 * body
        ok = apart.copy()
        ok[1:] &= apart[:-1]
        frames = np.flatnonzero(ok & _window(n_t, cursor, every))
        if not len(frames):
            cursor += every
            continue
        t = int(rng.choice(frames))
        stop = _range_end(t, n_t, rng, ok)
        kp[t:stop, a, [p, q]] = kp[t:stop, a, [q, p]]
        events.append((t, a, (names[p], names[q])))
        if stop is not None:
            events.append((stop, a, (names[p], names[q])))
        cursor = (stop or t) + GAP
    return kp, events


def score_part_swaps(truth, body: float, seed: int, every: int, noise: bool = False) -> Score:
    """Inject left/right part swaps into ``truth`` with ``seed``; count those found as a
    ``part_swap`` of that animal and pair within :data:`WINDOW` frames."""
    from napari_dlcflow.core.predictions.tracks import Tracks
    from napari_dlcflow.core.proofread.candidates import find_candidates

    rng = np.random.default_rng(1000 + seed)
    if noise:
        truth = Tracks(add_noise(truth.keypoints, body, rng), None, truth.individuals,
                       truth.bodyparts)  # fmt: skip
    kp, events = inject_part_swaps(truth, body, rng, every)
    cands = [
        c
        for c in find_candidates(Tracks(kp, None, truth.individuals, truth.bodyparts))
        if c.kind == "part_swap"
    ]
    clean = [c for c in find_candidates(truth) if c.kind == "part_swap"]
    s = Score(frames=truth.n_frames, injected=len(events), untouched=len(clean))
    for t, a, pair in events:
        name = truth.individuals[a]
        if any(
            abs(c.frame - t) <= WINDOW and c.individuals == (name,) and c.parts == pair
            for c in cands
        ):
            s.found += 1
    s.others = sum(1 for c in cands if not any(abs(c.frame - t) <= WINDOW for t, *_ in events))
    return s


def add_noise(kp: np.ndarray, body: float, rng: np.random.Generator) -> np.ndarray:
    """Prediction-like keypoints: Gaussian noise of 3 % of a body size on each coordinate
    and 10 % of the keypoints dropped (NaN)."""
    noisy = kp + rng.normal(0.0, 0.03 * body, kp.shape)
    noisy[rng.random(kp.shape[:3]) < 0.1] = np.nan
    return noisy


def score_run(truth, body: float, seed: int, every: int, noise: bool = False, **kw) -> Score:
    """Inject swaps into ``truth`` (Tracks) with ``seed`` and score the candidates (the
    swapped tracks are kept as ``Score.tracks``)."""
    from napari_dlcflow.core.predictions.tracks import Tracks
    from napari_dlcflow.core.proofread.candidates import find_candidates

    rng = np.random.default_rng(seed)
    if noise:
        kp = add_noise(truth.keypoints, body, rng)
        truth = Tracks(kp, None, truth.individuals, truth.bodyparts)
    kp, events = inject_swaps(truth.keypoints, body, rng, every)
    swapped = Tracks(kp, None, truth.individuals, truth.bodyparts)
    cands = find_candidates(swapped, **kw)
    clean = find_candidates(truth, **kw)
    index = {name: i for i, name in enumerate(truth.individuals)}
    s = Score(frames=truth.n_frames, injected=len(events), untouched=len(clean))
    s.tracks = swapped
    s.untouched_kinds.update(c.kind for c in clean)
    ids = [frozenset(index[i] for i in c.individuals) for c in cands]
    frames = np.array([c.frame for c in cands])
    for t, a, b, place in events:
        s.place[place] += 1
        hits = [k for k, c in enumerate(cands) if abs(c.frame - t) <= WINDOW and {a, b} <= ids[k]]
        if hits:
            s.found += 1
            s.place_found[place] += 1
            s.by_kind[cands[hits[0]].kind] += 1
        else:
            s.missed.append((seed, t, truth.individuals[a], truth.individuals[b], place))
    near_any = np.zeros(len(cands), dtype=bool)
    for t, *_ in events:
        near_any |= np.abs(frames - t) <= WINDOW
    s.others = int((~near_any).sum())
    s.other_kinds.update(c.kind for c, n in zip(cands, near_any, strict=True) if not n)
    # The untouched tracks' events, by kind (names differ once identities are swapped).
    real: dict[str, np.ndarray] = {}
    for kind in {c.kind for c in clean}:
        real[kind] = np.array([c.frame for c in clean if c.kind == kind])
    s.spurious = sum(
        1
        for c, n in zip(cands, near_any, strict=True)
        if not n and not (np.abs(real.get(c.kind, np.empty(0)) - c.frame) <= WINDOW).any()
    )
    return s


def _body(tracks) -> float:
    from napari_dlcflow.core.predictions.tracks import body_sizes

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        return float(np.nanmedian(body_sizes(tracks)))


def load_clip():
    from napari_dlcflow.core.formats.tracks import load_tracks

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        return load_tracks(CLIP)


def group_truth(seed: int, n_frames: int, cache: Path | None = None):
    """The synthetic group example's truth as Tracks (rendered once, then cached)."""
    from napari_dlcflow.core.example.group import (
        BODYPARTS,
        GroupSpec,
        individual_names,
        iter_group,
    )
    from napari_dlcflow.core.predictions.tracks import Tracks

    spec = GroupSpec(n_animals=2 + seed % 3, n_frames=n_frames, height=128, width=128, seed=seed)
    path = None if cache is None else cache / f"group_{seed}_{n_frames}.npy"
    if path is not None and path.is_file():
        kp = np.load(path)
    else:
        kp = np.stack([k for _, k in iter_group(spec)])
        if path is not None:
            np.save(path, kp)
    return Tracks(kp, None, individual_names(spec.n_animals), BODYPARTS)


def long_tracks(clip, n_frames: int = 100_000, seed: int = 0):
    """4 animals x 13 body parts x ``n_frames``: clip's flies and a moved, later copy of them,
    played forwards and backwards, with 0.5 px noise."""
    from napari_dlcflow.core.predictions.tracks import Tracks

    kp = clip.keypoints
    other = np.roll(kp, 400, axis=0) + np.array([700.0, 0.0])
    four = np.concatenate([kp, other], axis=1)
    both = np.concatenate([four, four[::-1]])
    reps = -(-n_frames // len(both))
    tiled = np.tile(both, (reps, 1, 1, 1))[:n_frames]
    tiled = tiled + np.random.default_rng(seed).normal(0, 0.5, tiled.shape)
    names = (*clip.individuals, *(f"{n}2" for n in clip.individuals))
    return Tracks(tiled, None, names, clip.bodyparts)


def time_it(tracks, repeat: int) -> list[float]:
    from napari_dlcflow.core.proofread.candidates import find_candidates

    find_candidates(tracks)  # warm-up
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        find_candidates(tracks)
        times.append(time.perf_counter() - t0)
    return times


def _pct(a: int, b: int) -> str:
    return f"{100.0 * a / b:.1f}% ({a}/{b})" if b else "-"


def _per200(n: int, frames: int) -> str:
    return f"{200.0 * n / frames:.2f}" if frames else "-"


def _kinds(c: Counter) -> str:
    return ", ".join(f"{k} {v}" for k, v in c.most_common()) or "none"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seeds", type=int, nargs="+", default=[5, 6, 7, 8, 9, 10])
    parser.add_argument("--frames", type=int, default=1500, help="frames of each group example")
    parser.add_argument("--every", type=int, default=100, help="one injected swap per N frames")
    parser.add_argument("--repeat", type=int, default=5, help="timed runs (median)")
    parser.add_argument("--cache", type=Path, help="keep the rendered group truths here")
    parser.add_argument("--quick", action="store_true", help="2 seeds, 1,000 frames, 3 runs")
    parser.add_argument("--no-timing", action="store_true")
    parser.add_argument("--show-missed", action="store_true")
    args = parser.parse_args(argv)
    if args.quick:
        args.seeds, args.frames, args.repeat = args.seeds[:2], 1000, 3
    if args.cache:
        args.cache.mkdir(parents=True, exist_ok=True)
    print(f"load average (1, 5, 15 min) at the start: {os.getloadavg()}", flush=True)
    table = Table("goal")
    clip = load_clip() if CLIP.is_file() else None
    if clip is None:
        print(f"note: {CLIP} missing: clip.slp rows skipped")
    total = Score()
    sets: list[tuple[str, Score]] = []
    groups = {seed: group_truth(seed, args.frames, args.cache) for seed in args.seeds}
    for noise in (False, True):
        with_noise = ", with noise" if noise else ""
        if clip is not None:
            s = Score()
            for seed in args.seeds:
                s.add(score_run(clip, _body(clip), seed, args.every, noise))
            sets.append((f"clip.slp{with_noise}", s))
        g = Score()
        for seed, truth in groups.items():
            g.add(score_run(truth, _body(truth), seed, args.every, noise))
        sets.append((f"group example{with_noise}", g))
    for name, s in sets:
        total.add(s)
        table.row(
            f"{name}: injected swaps found within {WINDOW} frames",
            _pct(s.found, s.injected),
            ">= 90%",
            f"far apart {s.place_found['far']}/{s.place['far']}, close "
            f"{s.place_found['near']}/{s.place['near']}, touching "
            f"{s.place_found['touching']}/{s.place['touching']}, other "
            f"{s.place_found['other']}/{s.place['other']}, swap back (end of a range) "
            f"{s.place_found['end']}/{s.place['end']}; found as {_kinds(s.by_kind)}",
        )
        table.row(
            f"{name}: other candidates per 200 frames",
            _per200(s.others, s.frames),
            "<= 1",
            f"{s.others} in {s.frames} frames: {_kinds(s.other_kinds)}; "
            f"{s.spurious} of them not among the untouched tracks' candidates "
            f"({_per200(s.spurious, s.frames)} per 200 frames)",
        )
        table.row(
            f"{name}: candidates of the untouched tracks per 200 frames",
            _per200(s.untouched, s.frames),
            "",
            f"{s.untouched}: {_kinds(s.untouched_kinds)} (real events)",
        )
    for noise in (False, True):
        with_noise = ", with noise" if noise else ""
        per_seed = {"group example": groups}
        if clip is not None:
            per_seed = {"clip.slp": dict.fromkeys(args.seeds, clip), **per_seed}
        for name, truths in per_seed.items():
            ps = Score()
            for seed in args.seeds:
                truth = truths[seed]
                ps.add(score_part_swaps(truth, _body(truth), seed, args.every, noise))
            table.row(
                f"{name}{with_noise}: injected left/right part swaps found within {WINDOW} frames",
                _pct(ps.found, ps.injected),
                ">= 90%",
                f"other part-swap candidates per 200 frames {_per200(ps.others, ps.frames)}; "
                f"on the untouched tracks {ps.untouched}",
            )
    table.row(
        "all: injected swaps found within 2 frames",
        _pct(total.found, total.injected),
        ">= 90%",
        f"other candidates per 200 frames {_per200(total.others, total.frames)}, "
        f"not among the untouched tracks' {_per200(total.spurious, total.frames)}",
    )
    if not args.no_timing and clip is not None:
        from napari_dlcflow.core.proofread.candidates import find_candidates

        loads = [os.getloadavg()[0]]
        t1 = time_it(clip, args.repeat)
        big = long_tracks(clip)
        t2 = time_it(big, args.repeat)
        n_big = len(find_candidates(big))
        loads.append(os.getloadavg()[0])
        print("  injecting swaps into 100,000 frames (about 10 s)", flush=True)
        hard = score_run(big, _body(clip), 0, args.every, noise=True)
        t3 = time_it(hard.tracks, args.repeat)
        loads.append(os.getloadavg()[0])
        table.row(
            f"time, 1,500 frames x 2 animals x 13 parts (s, median of {args.repeat})",
            f"{statistics.median(t1):.3f}",
            "",
            f"min {min(t1):.3f}, max {max(t1):.3f} (clip.slp)",
        )
        table.row(
            f"time, 100,000 frames x 4 animals x 13 parts (s, median of {args.repeat})",
            f"{statistics.median(t2):.2f}",
            "a few seconds",
            f"min {min(t2):.2f}, max {max(t2):.2f}; clip.slp's flies tiled, {n_big} candidates",
        )
        table.row(
            f"time, the same with noise and {hard.injected} injected swap events "
            f"(s, median of {args.repeat})",
            f"{statistics.median(t3):.2f}",
            "a few seconds",
            f"min {min(t3):.2f}, max {max(t3):.2f}; found within {WINDOW} frames "
            f"{_pct(hard.found, hard.injected)}, other candidates per 200 frames "
            f"{_per200(hard.others, hard.frames)}",
        )
        print(f"load average (1 min) around the timing: {', '.join(f'{x:.2f}' for x in loads)}")
    if args.show_missed:
        for m in total.missed:
            print("missed:", m)
    print(table.markdown())
    print(f"\nload average (1, 5, 15 min) at the end: {os.getloadavg()}; {os.cpu_count()} CPUs")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
