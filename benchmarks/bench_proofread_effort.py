"""How much proofreading it takes to reach zero identity switches, guided by the candidates.

A simulated user with a perfect eye (the truth) proofreads tracks the way the Proofread dock
offers: press *next candidate* (:func:`napari_dlcflow.core.proofread.find_candidates`,
recomputed after every edit, as the dock does), look at the frames around it, and where the
identities changed there press *swap from here on* (:class:`~napari_dlcflow.core.proofread.
TrackSession`, a real edit). What the candidates do not lead to is then counted as found by
scrubbing. Counted:

- **switches before / after** (motmetrics, :func:`~napari_dlcflow.core.predictions.tracks.
  compare_tracks`), IDF1 before / after the candidate pass;
- **candidates visited** (one key each), **fixes** (one key each), **frames stepped** from a
  candidate's frame to the frame of its fix;
- **fixes found by scrubbing**: switches left after the candidate pass, fixed the same way at
  their frame (the user had to find them without help);
- **needed**: the fewest swaps that reach zero (every change of the frame-by-frame assignment
  to the truth), what a user who knew every frame would do;
- **range fixes**: the short runs left where an identity shows the other animal (frames the
  network assembled from parts of both), each fixed by a swap in the range where both are
  exchanged, else by deleting the fragment.

Where the identities changed: in every frame the predicted animals are matched to the true ones
(Hungarian, mean keypoint distance, farther than the comparison's threshold: no match; a match
lasting fewer than 5 matched frames is a flicker, not counted); a predicted identity whose true
animal differs from its last matched one changed there. Fixing a
change at frame ``g`` swaps the identities that changed, from ``g`` onward (a permutation of
more than two is done as several swaps, each counted).

Inputs: ``--tracks FILE --truth FILE`` (tracks a model made, e.g. the tracking benchmark's
``ours`` output, and the example's truth), or ``--inject N`` swaps (seeded) into the truth
itself (``--truth`` a proofread file such as SLEAP's ``clip.slp``). Run from the repository
root (not part of the test suite)::

    .venv/bin/python benchmarks/bench_proofread_effort.py --tracks OURS_bx.h5 --truth TRUTH.csv
    .venv/bin/python benchmarks/bench_proofread_effort.py \\
        --truth ../shared/data/sleap-tests/tracks/clip.slp --inject 10 --seed 3
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
import warnings
from pathlib import Path

import numpy as np
from scipy.optimize import linear_sum_assignment

from napari_dlcflow.core.formats.tracks import load_tracks
from napari_dlcflow.core.predictions.analysis_files import write_predictions
from napari_dlcflow.core.predictions.tracks import (
    Tracks,
    compare_tracks,
    default_threshold,
    predictions_from_tracks,
)
from napari_dlcflow.core.proofread import Edit, TrackSession, find_candidates

WINDOW = 3  # frames either side of a candidate the user looks at
MIN_RUN = 5  # a match to another animal shorter than this is a flicker, not a swap


def frame_assignment(
    pred: Tracks, truth: Tracks, threshold: float, *, flickers: bool = False
) -> np.ndarray:
    """``(T, N_pred)``: the true animal each predicted identity is in each frame (-1: none);
    short matches to another animal left out unless ``flickers``."""
    t_n = min(pred.n_frames, truth.n_frames)
    out = np.full((pred.n_frames, len(pred.individuals)), -1, dtype=int)
    p, q = pred.keypoints[:t_n], truth.keypoints[:t_n]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        # (T, Np, Nt): mean distance over the parts both show
        d = np.linalg.norm(p[:, :, None] - q[:, None, :], axis=-1)
        cost = np.nanmean(d, axis=-1)
    for t in range(t_n):
        c = cost[t]
        ok = np.isfinite(c)
        if not ok.any():
            continue
        big = np.where(ok, c, 1e9)
        rows, cols = linear_sum_assignment(big)
        for r, k in zip(rows, cols, strict=True):
            if big[r, k] <= threshold:
                out[t, r] = k
    return out if flickers else _without_flickers(out)


def _without_flickers(assign: np.ndarray) -> np.ndarray:
    """Matches that last fewer than :data:`MIN_RUN` matched frames set to -1: a frame where the
    network assembled one animal from parts of both is wrong for both, not a swap a user would
    fix from there on."""
    out = assign.copy()
    for i in range(assign.shape[1]):
        seen = np.flatnonzero(assign[:, i] >= 0)
        if not len(seen):
            continue
        labels = assign[seen, i]
        cuts = np.flatnonzero(np.diff(labels)) + 1
        for run in np.split(np.arange(len(seen)), cuts):
            if len(run) < MIN_RUN:
                out[seen[run], i] = -1
    return out


def changes(assign: np.ndarray) -> list[tuple[int, dict[int, int]]]:
    """Frames where a predicted identity's true animal changes, with the wanted relabelling
    (predicted index -> predicted index that should carry its points from there on)."""
    last = np.full(assign.shape[1], -1)
    found = []
    for t in range(assign.shape[0]):
        now = assign[t]
        moved = [i for i in range(len(now)) if now[i] >= 0 and last[i] >= 0 and now[i] != last[i]]
        if moved:
            # identity i now shows the animal that identity j showed before: j should take it
            want = {}
            for i in moved:
                j = np.flatnonzero(last == now[i])
                if len(j):
                    want[i] = int(j[0])
            if want:
                found.append((t, want))
        seen = now >= 0
        last[seen] = now[seen]
        # an animal now shown by i is no longer "last seen" under another identity
        for i in np.flatnonzero(seen):
            other = (last == now[i]) & (np.arange(len(last)) != i)
            last[other] = -1
    return found


def swaps_for(want: dict[int, int]) -> list[tuple[int, int]]:
    """The transpositions that realise a relabelling (each one swap edit)."""
    pairs, done = [], set()
    for i, j in want.items():
        if i != j and (j, i) not in done:
            pairs.append((i, j))
            done.add((i, j))
    return pairs


def fix_at(session: TrackSession, truth: Tracks, frame: int, threshold: float) -> tuple[int, int]:
    """Fix the first identity change within ``WINDOW`` of ``frame``: (fixes, frames stepped)."""
    lo, hi = max(frame - WINDOW, 0), min(frame + WINDOW + 1, session.n_frames)
    assign = frame_assignment(session.tracks(), truth, threshold)
    for t, want in changes(assign):
        if lo <= t < hi:
            n = 0
            for i, j in swaps_for(want):
                a, b = session.individuals[i], session.individuals[j]
                session.apply(Edit("swap", a, b, start=t))
                n += 1
            return n, abs(t - frame)
    return 0, 0


def fix_flickers(session: TrackSession, truth: Tracks, threshold: float) -> int:
    """Fix the short runs where an identity shows another animal (a frame assembled from
    parts of both): swap the two in the range where both are exchanged, else delete the
    fragment. The number of edits."""
    assign = frame_assignment(session.tracks(), truth, threshold, flickers=True)
    own = []
    for i in range(assign.shape[1]):
        seen = assign[:, i][assign[:, i] >= 0]
        own.append(int(np.bincount(seen).argmax()) if len(seen) else -1)
    edits = 0
    done = np.zeros_like(assign, dtype=bool)
    for i, mine in enumerate(own):
        wrong = (assign[:, i] >= 0) & (assign[:, i] != mine) & ~done[:, i]
        for lo, hi in _runs(wrong):
            j = next((j for j, o in enumerate(own) if o == assign[lo, i]), None)
            a = session.individuals[i]
            if j is not None and (assign[lo:hi, j] == mine).all():
                session.apply(Edit("swap", a, session.individuals[j], start=lo, stop=hi))
                done[lo:hi, j] = True
            else:
                session.apply(Edit("delete", a, start=lo, stop=hi))
            edits += 1
    return edits


def _runs(mask: np.ndarray) -> list[tuple[int, int]]:
    """``[start, stop)`` of the runs of True."""
    edges = np.flatnonzero(np.diff(np.concatenate([[0], mask.astype(int), [0]])))
    return list(zip(edges[::2].tolist(), edges[1::2].tolist(), strict=True))


def proofread(pred: Tracks, truth: Tracks, expected: int) -> dict[str, float]:
    """Simulate the guided pass, then the scrubbing pass; the counts."""
    threshold = default_threshold(truth)
    before = compare_tracks(pred, truth)
    needed = sum(len(swaps_for(w)) for _, w in changes(frame_assignment(pred, truth, threshold)))
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "videoDLC_proofread_bx.h5"
        write_predictions(predictions_from_tracks(pred, "DLC_proofread"), path)
        session = TrackSession.open(path)
        visited = fixes = stepped = 0
        first = len(find_candidates(session.tracks(), expected=expected))
        t_cand = []
        frame = -1
        while True:
            t0 = time.perf_counter()
            cands = find_candidates(session.tracks(), expected=expected)
            t_cand.append(time.perf_counter() - t0)
            later = sorted(c.frame for c in cands if c.frame > frame)
            if not later:
                break
            frame = later[0]
            visited += 1
            n, s = fix_at(session, truth, frame, threshold)
            fixes += n
            stepped += s
        middle = compare_tracks(session.tracks(), truth)
        scrub = 0
        for t, want in changes(frame_assignment(session.tracks(), truth, threshold)):
            for i, j in swaps_for(want):
                session.apply(
                    Edit("swap", session.individuals[i], session.individuals[j], start=t)
                )
                scrub += 1
        mid2 = compare_tracks(session.tracks(), truth)
        ranges = fix_flickers(session, truth, threshold)
        after = compare_tracks(session.tracks(), truth)
    return {
        "frames": pred.n_frames,
        "switches_before": before.switches,
        "idf1_before": before.idf1,
        "candidates": first,
        "visited": visited,
        "fixes": fixes,
        "stepped": stepped,
        "switches_mid": middle.switches,
        "idf1_mid": middle.idf1,
        "scrub": scrub,
        "switches_swapped": mid2.switches,
        "idf1_swapped": mid2.idf1,
        "ranges": ranges,
        "switches_after": after.switches,
        "idf1_after": after.idf1,
        "needed": needed,
        "candidates_s": float(np.median(t_cand)),
    }


def inject(truth: Tracks, n: int, seed: int) -> Tracks:
    """The truth with ``n`` swaps of two identities from random frames onward (seeded)."""
    rng = np.random.default_rng(seed)
    kp = truth.keypoints.copy()
    lik = None if truth.likelihood is None else truth.likelihood.copy()
    both = np.flatnonzero(truth.present().sum(axis=1) >= 2)
    for t in np.sort(rng.choice(both, size=n, replace=False)):
        a, b = rng.choice(len(truth.individuals), size=2, replace=False)
        kp[t:, [a, b]] = kp[t:, [b, a]]
        if lik is not None:
            lik[t:, [a, b]] = lik[t:, [b, a]]
    return Tracks(kp, lik, truth.individuals, truth.bodyparts, covered=truth.covered)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--truth", required=True, type=Path)
    ap.add_argument("--tracks", type=Path, help="tracks to proofread (else: --inject)")
    ap.add_argument("--inject", type=int, default=0, help="swaps injected into the truth")
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args(argv)
    truth = load_tracks(args.truth)
    if args.tracks is not None:
        pred, what = load_tracks(args.tracks), args.tracks.name
    elif args.inject:
        pred, what = inject(truth, args.inject, args.seed), f"{args.inject} swaps injected"
    else:
        ap.error("give --tracks or --inject N")
    load = os.getloadavg()[0]
    r = proofread(pred, truth, expected=len(truth.individuals))
    print(f"\n{args.truth.name}: {what} ({r['frames']} frames, load {load:.1f})\n")
    print("| measurement | value |\n|---|---|")
    rows = [
        ("identity switches before (motmetrics)", f"{r['switches_before']}"),
        ("IDF1 before", f"{r['idf1_before']:.3f}"),
        ("fewest swaps that reach zero (knowing every frame)", f"{r['needed']}"),
        ("candidates listed at the start", f"{r['candidates']}"),
        ("candidates visited (next-candidate key)", f"{r['visited']}"),
        ("fixes at candidates (swap key)", f"{r['fixes']}"),
        ("frames stepped from a candidate to its fix", f"{r['stepped']}"),
        ("switches / IDF1 after the candidate pass",
         f"{r['switches_mid']} / {r['idf1_mid']:.3f}"),
        ("fixes found by scrubbing (no candidate near)", f"{r['scrub']}"),
        ("switches / IDF1 after the swaps",
         f"{r['switches_swapped']} / {r['idf1_swapped']:.3f}"),
        ("range fixes of mis-assembled frames (swap in range / delete fragment)",
         f"{r['ranges']}"),
        ("switches / IDF1 at the end", f"{r['switches_after']} / {r['idf1_after']:.3f}"),
        ("key presses in all (visits + fixes + scrubbed + range fixes)",
         f"{r['visited'] + r['fixes'] + r['scrub'] + r['ranges']}"),
        ("candidates' time per recompute (s, median)", f"{r['candidates_s']:.3f}"),
    ]  # fmt: skip
    for what_, value in rows:
        print(f"| {what_} | {value} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
