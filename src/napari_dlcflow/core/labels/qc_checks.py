"""The per-point label QC checks: points outside the image, duplicates, leftovers, unlabeled
parts, views that do not correspond, the scene parts among themselves, and labels a trained
model disagrees with. Each appends :class:`Finding` objects to ``out``; the shape-model checks
are in :mod:`~napari_dlcflow.core.labels.qc_shape_checks`."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from napari_dlcflow.core.labels.collected import UNIQUE_INDIVIDUAL, Labels
from napari_dlcflow.core.labels.qc_finding import Finding, QCSettings
from napari_dlcflow.core.labels.qc_poses import image_size, without_outside
from napari_dlcflow.core.labels.qc_scene import offset_residuals, offsets, residuals
from napari_dlcflow.core.labels.qc_shape import Group as _Group
from napari_dlcflow.core.labels.qc_shape import body_size as _size
from napari_dlcflow.core.labels.qc_views import split_views, view_disagreements

if TYPE_CHECKING:
    from napari_dlcflow.core.predictions.evaluated import EvalFrames

__all__ = [
    "check_duplicates",
    "check_leftovers",
    "check_missing",
    "check_model",
    "check_outside",
    "check_scene",
    "check_views",
    "point_name",
]


def point_name(ind: str, bp: str) -> str:
    """``individual/bodypart`` (the body part alone for a single animal)."""
    return f"{ind}/{bp}" if ind else bp


def check_outside(
    tables: Sequence[tuple[Path, Labels]], s: QCSettings, out: list[Finding]
) -> None:
    """Points not strictly inside their image (sizes from the image headers)."""
    for folder, labels in tables:
        sizes: dict[str, tuple[int, int] | None] = {}
        for r, row in enumerate(labels.images):
            pts = labels.xy[r]
            if not np.isfinite(pts).all(axis=-1).any():
                continue
            name = row[-1]
            if name not in sizes:
                sizes[name] = image_size(folder / name)
            hw = sizes[name]
            if hw is None:
                continue
            h, w = hw
            mg = s.outside_margin
            for k, (ind, bp) in enumerate(labels.keypoints):
                x, y = pts[k]
                if not (np.isfinite(x) and np.isfinite(y)):
                    continue
                if not (mg < x < w - mg and mg < y < h - mg):
                    dist = max(-x, x - w, -y, y - h, 0.0)
                    out.append(
                        Finding(
                            "outside",
                            folder.name,
                            name,
                            ind,
                            (bp,),
                            round(2.0 + min(float(dist), 1000.0) / 1000.0, 3),
                            f"{point_name(ind, bp)} at ({x:.1f}, {y:.1f}) is outside the "
                            f"{w}x{h} image (DeepLabCut drops it)",
                        )
                    )


def check_duplicates(group: _Group, X: np.ndarray, s: QCSettings, out: list[Finding]) -> None:
    """Two parts of one animal at (nearly) the same spot while normally apart, and the same
    spot given to two animals in one image."""
    K = len(group.parts)
    sizes = np.array([_size(p) for p in X])
    tols = np.maximum(s.duplicate_px, s.duplicate_frac * sizes)
    with np.errstate(invalid="ignore"):
        typical = np.full((K, K), np.nan)
        close = np.zeros((K, K))  # how often the pair is within 2 tolerances
        for a in range(K):
            for b in range(a + 1, K):
                dd = np.abs(X[:, a] - X[:, b])
                d = dd / np.where(sizes > 0, sizes, np.nan)
                if np.isfinite(d).any():
                    typical[a, b] = typical[b, a] = np.nanmedian(d)
                    fin = np.isfinite(dd)
                    close[a, b] = close[b, a] = float(np.mean(dd[fin] < 2 * tols[fin]))
    for i, pose in enumerate(group.poses):
        p = X[i]
        tol = max(s.duplicate_px, s.duplicate_frac * sizes[i])
        for a in range(K):
            for b in range(a + 1, K):
                d = abs(p[a] - p[b])
                if not np.isfinite(d) or d >= tol:
                    continue
                usual = typical[a, b] * sizes[i]
                if not np.isfinite(usual) or usual < s.duplicate_apart * tol:
                    continue
                score = round(float(usual / tol) / s.duplicate_mistake, 2)
                reason = (
                    f"{group.parts[a]} and {group.parts[b]} are {d:.1f} px apart "
                    f"(usually {usual:.0f} px): one is labeled twice"
                )
                if close[a, b] >= s.duplicate_close and d >= s.duplicate_same_px:
                    score = min(score, 0.99)
                    reason += f"? (they are this close in {close[a, b]:.0%} of the images)"
                out.append(
                    Finding(
                        "duplicate",
                        pose.folder,
                        pose.image,
                        pose.individual,
                        (group.parts[a], group.parts[b]),
                        score,
                        reason,
                    )
                )
    # the same spot given to two animals in one image
    by_image: dict[tuple[str, str], list[int]] = {}
    for i, pose in enumerate(group.poses):
        if pose.individual and pose.individual != UNIQUE_INDIVIDUAL:
            by_image.setdefault((pose.folder, pose.image), []).append(i)
    for (folder, image), rows in by_image.items():
        for u in range(len(rows)):
            for v in range(u + 1, len(rows)):
                pu, pv = X[rows[u]], X[rows[v]]
                same = np.isfinite(pu) & np.isfinite(pv) & (np.abs(pu - pv) < 0.5)
                if same.sum() >= 1:
                    ia, ib = group.poses[rows[u]].individual, group.poses[rows[v]].individual
                    parts = tuple(group.parts[k] for k in np.flatnonzero(same))
                    out.append(
                        Finding(
                            "duplicate",
                            folder,
                            image,
                            ia,
                            parts,
                            2.0 + float(same.sum()),
                            f"{ia} and {ib} share {len(parts)} point(s) ({', '.join(parts)}): "
                            "one animal labeled twice?",
                        )
                    )


def check_leftovers(
    group: _Group,
    X: np.ndarray,
    s: QCSettings,
    out: list[Finding],
    fixed: Sequence[str] = (),
) -> set[str]:
    """Leftover points; returns the parts that stay put in at least ``leftover_habit`` of the
    project's pairs of consecutive images where the animal moved (planted legs, a labeling
    habit): their leftovers must also be implausible to be likely mistakes. Leftovers of
    ``fixed`` parts (that stay put in the image while the others move) are notes."""
    pairs = np.zeros(len(group.parts))
    still = np.zeros(len(group.parts))
    last: dict[tuple[str, str], int] = {}
    for i, pose in enumerate(group.poses):
        key = (pose.folder, pose.individual)
        j = last.get(key)
        last[key] = i
        if j is None:
            continue
        p, q = X[i], X[j]
        both = np.isfinite(p) & np.isfinite(q)
        if both.sum() < 2:
            continue
        move = np.abs(p - q)
        size = _size(p)
        if float(np.median(move[both])) >= max(s.leftover_moved_px, s.leftover_moved * size):
            pairs += both
            still += both & (move <= s.leftover_px)
        for k in np.flatnonzero(both & (move <= s.leftover_px)):
            others = both.copy()
            others[k] = False
            if not others.any():
                continue
            moved = float(np.median(move[others]))
            if moved < max(s.leftover_moved_px, s.leftover_moved * size):
                continue
            bp = group.parts[k]
            score = round(moved / max(size, 1e-6) / s.leftover_mistake, 2)
            reason = (
                f"{point_name(pose.individual, bp)} is exactly where it was in "
                f"{group.poses[j].image} while the other points moved {moved:.0f} px"
            )
            if bp in fixed:
                score = min(score, 0.99)
                reason += "; this part stays put in the image across the project"
            out.append(
                Finding("leftover", pose.folder, pose.image, pose.individual, (bp,), score, reason)
            )
    with np.errstate(invalid="ignore", divide="ignore"):
        rate = still / pairs
    return {
        bp
        for bp, r, n in zip(group.parts, rate, still, strict=True)
        if r >= s.leftover_habit and n >= s.leftover_habit_n
    }


def check_missing(group: _Group, X: np.ndarray, s: QCSettings, out: list[Finding]) -> None:
    """A part unlabeled in one image though its neighbouring images in the folder label it and
    it is labeled almost everywhere else."""
    K = len(group.parts)
    by_track: dict[tuple[str, str], list[int]] = {}
    for i, pose in enumerate(group.poses):
        if np.isfinite(X[i]).sum() >= 1:
            by_track.setdefault((pose.folder, pose.individual), []).append(i)
    for rows in by_track.values():
        if len(rows) < 5:
            continue
        have = np.isfinite(X[rows])
        frac = have.mean(axis=0)
        for n, i in enumerate(rows):
            if have[n].sum() < max(2, K // 2):
                continue
            for k in np.flatnonzero(~have[n]):
                if frac[k] < s.missing_fraction:
                    continue
                if not (0 < n < len(rows) - 1 and have[n - 1, k] and have[n + 1, k]):
                    continue
                pose = group.poses[i]
                bp = group.parts[k]
                out.append(
                    Finding(
                        "missing",
                        pose.folder,
                        pose.image,
                        pose.individual,
                        (bp,),
                        round(float(frac[k]), 3),
                        f"{point_name(pose.individual, bp)} is not labeled here but in "
                        f"{frac[k]:.0%} of this folder's images, the neighbours included",
                    )
                )


def check_views(
    groups: dict[str, _Group], declared: dict[str, list[str]], s: QCSettings, out: list[Finding]
) -> None:
    """Pairs of one part in two views that do not correspond (one of the two is misplaced)."""
    told = {
        (f.folder, f.image, f.individual, bp)
        for f in out
        if f.kind in ("outside", "duplicate", "leftover", "swap")
        for bp in f.bodyparts
    }
    for group in groups.values():
        views = split_views(group.parts, declared)
        if len(views) < 2:
            continue
        X = group.array()
        for i, a, b, r, z in view_disagreements(X, group.parts, views, s.views_z):
            q = group.poses[i]
            if {(q.folder, q.image, q.individual, bp) for bp in (a, b)} & told:
                continue
            out.append(
                Finding(
                    "views",
                    q.folder,
                    q.image,
                    q.individual,
                    (a, b),
                    round(z / s.views_mistake, 2),
                    f"{point_name(q.individual, a)} and {b} do not show the same point: "
                    f"{r:.0f} px off the relation the other pairs of views follow",
                )
            )


def check_scene(
    scene: _Group,
    outside: Sequence[Finding],
    want: Sequence[str],
    s: QCSettings,
    out: list[Finding],
) -> None:
    """Leftovers, unlabeled parts and misplaced points among the scene parts. A leftover is a
    scene point left where it was while the other scene points moved (a fixed object, whose
    points all stay put, gives none). Scene parts keep their offsets to each other: a point
    far from where the others put it is misplaced (two scene parts: their edge is off)."""
    X = without_outside(scene, outside)
    if "leftover" in want:  # a fixed object never moves, so only a moving one can be left
        check_leftovers(scene, X, s, out)
    if "missing" in want:
        check_missing(scene, scene.array(), s, out)
    if len(scene.parts) < 2 or int(np.isfinite(X).all(axis=1).sum()) < s.min_poses:
        return
    E, stats = offset_residuals(X)
    pair = len(scene.parts) == 2
    kind = "skeleton" if pair else "misplaced"
    if kind not in want:
        return
    lim, least = (s.skeleton_z if pair else s.misplaced_z), s.misplaced_min
    top = s.skeleton_mistake if pair else s.misplaced_mistake
    for i, pose in enumerate(scene.poses):
        zs = np.array([(E[i, k] - m) / sd for k, (m, sd) in enumerate(stats)])
        zs[~np.isfinite(zs)] = -np.inf
        k = int(np.argmax(zs))
        if zs[k] < lim or E[i, k] < least:
            continue
        if not pair and np.isfinite(X[i]).sum() >= 3:
            # the culprit: the point without which the others agree best (a point far off
            # drags the others' predictions, so they may stand out more than itself)
            off, extent = offsets(X)
            cost = {}
            for c in np.flatnonzero(np.isfinite(X[i])):
                o = np.isfinite(X[i])
                o[c] = False
                ec = residuals(X[i], off, extent, o)
                zc = [max((ec[j] - stats[j][0]) / stats[j][1], 0.0) for j in np.flatnonzero(o)]
                cost[int(c)] = float(np.sum(np.square(zc)))
            k = min(cost, key=cost.__getitem__)
            if zs[k] < lim or E[i, k] < least:
                continue
        parts = tuple(scene.parts) if pair else (scene.parts[k],)
        out.append(
            Finding(
                kind,
                pose.folder,
                pose.image,
                pose.individual,
                parts,
                round(float(zs[k]) / top, 2),
                f"{point_name(pose.individual, scene.parts[k])} is {E[i, k]:.2f} scene extents "
                f"from where the other scene points put it (usually {stats[k][0]:.2f})"
                + ("; one of the two is off" if pair else ""),
            )
        )


def check_model(frames: EvalFrames, s: QCSettings, out: list[Finding]) -> None:
    """Labels the evaluated snapshot of ``frames`` confidently disagrees with."""
    for n, img in enumerate(frames.images):
        t, p, lk = frames.truth[n], frames.predicted[n], frames.likelihood[n]
        tc = t[:, 0] + 1j * t[:, 1]
        size = _size(tc)
        tol = max(s.model_px, s.model_frac * size)
        for k, bp in enumerate(frames.bodyparts):
            if not (np.isfinite(t[k]).all() and np.isfinite(p[k]).all()):
                continue
            d = float(np.linalg.norm(p[k] - t[k]))
            if lk[k] >= s.model_likelihood and d > tol:
                out.append(
                    Finding(
                        "model",
                        img.parent.name,
                        img.name,
                        "",
                        (bp,),
                        round(d / max(tol, 1e-6), 2),
                        f"{bp}: the model ({frames.snapshot or 'evaluated snapshot'}) puts it "
                        f"{d:.0f} px away "
                        f"with likelihood {lk[k]:.2f} ({frames.split[n]} image)",
                    )
                )
