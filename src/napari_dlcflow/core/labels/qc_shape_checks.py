"""The label QC checks against the project's shape model: swapped left/right pairs, misplaced
points and skeleton edges out of their usual length or direction (and, for poses too sparse
to fit, edges out of their usual length)."""

from __future__ import annotations

from collections.abc import Sequence
from statistics import NormalDist

import numpy as np

from napari_dlcflow.core.labels.qc_checks import point_name
from napari_dlcflow.core.labels.qc_finding import Finding, QCSettings
from napari_dlcflow.core.labels.qc_shape import Group as _Group
from napari_dlcflow.core.labels.qc_shape import Pose as _Pose
from napari_dlcflow.core.labels.qc_shape import ShapeModel as _ShapeModel
from napari_dlcflow.core.labels.qc_shape import fit as _fit
from napari_dlcflow.core.labels.qc_shape import loo as _loo
from napari_dlcflow.core.labels.qc_shape import mad_z as _mad_z
from napari_dlcflow.core.labels.qc_shape import mst as _mst
from napari_dlcflow.core.labels.qc_shape import wrap as _wrap

__all__ = ["check_shape", "check_sparse_edges"]


def check_shape(
    group: _Group,
    X: np.ndarray,
    model: _ShapeModel,
    pairs: Sequence[tuple[str, str]],
    skeleton: Sequence[tuple[str, str]],
    s: QCSettings,
    busy: set[tuple[int, int]],
    out: list[Finding],
    weak: list[Finding] | None = None,
    weak_z: float = np.inf,
) -> None:
    """Swaps, misplaced points and skeleton outliers against the shape model.

    ``busy`` holds ``(pose, part)`` already explained by another finding; they are skipped.
    A swap found is undone in ``X`` before the other checks. Misplaced points and skeleton
    edges under their finding threshold but with a robust z of at least ``weak_z`` go to
    ``weak`` (when given): doubtful geometry, for other evidence to confirm.
    """
    K = len(group.parts)
    N = len(group.poses)
    ref = model.ref
    # swaps
    pidx = [
        (group.parts.index(a), group.parts.index(b))
        for a, b in pairs
        if a in group.parts and b in group.parts
    ]
    for i, pose in enumerate(group.poses):
        p = X[i]
        m = np.isfinite(p) & np.isfinite(ref)
        for a, b in pidx:
            if not (m[a] and m[b]) or (i, a) in busy or (i, b) in busy:
                continue
            o = m.copy()
            o[[a, b]] = False
            if o.sum() < 2:
                continue
            # where the other points put the pair, and which way round fits
            z, cs, cd = _fit(ref[o], p[o])
            if abs(z) == 0:
                continue
            pa, pb = z * (ref[a] - cs) + cd, z * (ref[b] - cs) + cd
            r0 = float(np.sqrt(abs(p[a] - pa) ** 2 + abs(p[b] - pb) ** 2)) / abs(z)
            r1 = float(np.sqrt(abs(p[a] - pb) ** 2 + abs(p[b] - pa) ** 2)) / abs(z)
            if r0 >= s.swap_ratio * max(r1, 1e-9) and r0 - r1 >= s.swap_min:
                busy.update({(i, a), (i, b)})
                gain = r0 / max(r1, 1e-9)
                X[i, a], X[i, b] = p[b], p[a]  # the later checks see the pose as fixed
                p = X[i]
                out.append(
                    Finding(
                        "swap",
                        pose.folder,
                        pose.image,
                        pose.individual,
                        (group.parts[a], group.parts[b]),
                        round(gain / s.swap_mistake, 2),
                        f"{group.parts[a]} and {group.parts[b]} look exchanged: the other "
                        f"points put them the other way round ({gain:.1f}x closer)",
                    )
                )
    # misplaced: leave-one-out residual per point, robust z per part
    E = np.full((N, K), np.nan)
    for i in range(N):
        E[i] = _loo(ref, X[i], np.isfinite(X[i]) & np.isfinite(ref))
    stats = [_mad_z(E[:, k]) for k in range(K)]

    def misplaced(pose: _Pose, k: int, z: float, err: float) -> Finding:
        bp, ind = group.parts[k], pose.individual
        return Finding(
            "misplaced",
            pose.folder,
            pose.image,
            ind,
            (bp,),
            round(float(z) / s.misplaced_mistake, 2),
            f"{point_name(ind, bp)} is {err:.2f} body sizes from where the other points put it "
            f"(usually {stats[k][0]:.2f})",
        )

    for i, pose in enumerate(group.poses):
        p = X[i].copy()
        first: tuple[np.ndarray, np.ndarray] | None = None
        for _ in range(2):  # at most two misplaced points per pose
            m = np.isfinite(p) & np.isfinite(ref)
            if m.sum() < 3:
                break
            e = _loo(ref, p, m)
            zs = np.array([(e[k] - stats[k][0]) / stats[k][1] for k in range(K)])
            zs[~np.isfinite(zs)] = -np.inf
            if first is None:
                first = (zs, e)
            if not any(zs[k] >= s.misplaced_z and e[k] >= s.misplaced_min for k in range(K)):
                break
            # the culprit: the point without which the others look most normal (a point far
            # off drags the fit, so its neighbours may stand out more than itself)
            k = int(np.argmax(zs))
            if m.sum() >= 4:
                cost = []
                cand = list(np.flatnonzero(m))
                for c in cand:
                    o = m.copy()
                    o[c] = False
                    ec = _loo(ref, p, o)
                    zc = [max((ec[j] - stats[j][0]) / stats[j][1], 0.0) for j in np.flatnonzero(o)]
                    cost.append(float(np.sum(np.square(zc))))
                k = int(cand[int(np.argmin(cost))])
            if zs[k] < s.misplaced_z or e[k] < s.misplaced_min:
                break
            p[k] = np.nan + 0j
            if (i, k) in busy:
                continue
            busy.add((i, k))
            out.append(misplaced(pose, k, zs[k], e[k]))
        if weak is not None and first is not None:
            zs, e = first
            for k in np.flatnonzero((zs >= weak_z) & (zs < s.misplaced_z)):
                if (i, k) in busy or e[k] < s.misplaced_min:
                    continue
                weak.append(misplaced(pose, k, zs[k], e[k]))
    # skeleton edges: log length and direction relative to the pose, robust z per edge
    edges = [
        (group.parts.index(a), group.parts.index(b))
        for a, b in skeleton
        if a in group.parts and b in group.parts
    ] or _mst(ref)
    if not edges:
        return
    V = np.full((N, len(edges)), np.nan + 0j)
    for i in range(N):
        p = X[i]
        m = np.isfinite(p) & np.isfinite(ref)
        if m.sum() < 3:
            continue
        z, _, _ = model.fit(p)
        if abs(z) == 0:
            continue
        for j, (a, b) in enumerate(edges):
            if m[a] and m[b]:
                V[i, j] = (p[b] - p[a]) / z  # the edge in the model's frame, body-size units
    for j, (a, b) in enumerate(edges):
        v = V[:, j]
        if not np.isfinite(v).any():
            continue
        typical = complex(np.nanmedian(v.real), np.nanmedian(v.imag))
        dev = np.abs(v - typical)
        med, spread = _mad_z(dev)
        # an edge with a heavy tail (a leg, a tail: several joints) is scaled by its tail too
        if np.isfinite(dev).sum() >= 10:
            tail = float(np.nanquantile(dev, s.skeleton_quantile))
            spread = max(spread, (tail - med) / NormalDist().inv_cdf(s.skeleton_quantile))
        for i, pose in enumerate(group.poses):
            if not np.isfinite(dev[i]) or (i, a) in busy or (i, b) in busy:
                continue
            zs = (dev[i] - med) / spread
            if dev[i] < s.skeleton_min or zs < min(s.skeleton_z, weak_z):
                continue
            if zs < s.skeleton_z and weak is None:
                continue
            ratio = abs(v[i]) / max(abs(typical), 1e-9)
            turn = np.degrees(abs(_wrap(np.angle(v[i]) - np.angle(typical))))
            (out if zs >= s.skeleton_z else weak).append(
                Finding(
                    "skeleton",
                    pose.folder,
                    pose.image,
                    pose.individual,
                    (group.parts[a], group.parts[b]),
                    round(float(zs) / s.skeleton_mistake, 2),
                    f"edge {group.parts[a]}-{group.parts[b]} is {ratio:.1f}x its usual length "
                    f"and turned {turn:.0f} degrees ({dev[i]:.2f} body sizes off)",
                )
            )


def check_sparse_edges(
    group: _Group,
    X: np.ndarray,
    skeleton: Sequence[tuple[str, str]],
    s: QCSettings,
    told: set[tuple[str, str, str, str]],
    out: list[Finding],
) -> None:
    """Skeleton edges of poses with fewer than three labeled points (no shape to fit: a hand
    and a finger): an edge far longer or shorter than that edge is anywhere in the project
    (robust z of its log length). Edges from ``skeleton``, else every pair of parts."""
    sparse = np.isfinite(X).sum(axis=1) < 3
    if not sparse.any():
        return
    K = len(group.parts)
    edges = [
        (group.parts.index(a), group.parts.index(b))
        for a, b in skeleton
        if a in group.parts and b in group.parts
    ] or [(a, b) for a in range(K) for b in range(a + 1, K)]
    for a, b in edges:
        length = np.abs(X[:, a] - X[:, b])
        if int(np.isfinite(length).sum()) < s.min_poses:
            continue
        with np.errstate(divide="ignore", invalid="ignore"):
            dev = np.abs(np.log(length / np.nanmedian(length)))
        med, spread = _mad_z(dev)
        for i in np.flatnonzero(sparse & np.isfinite(dev)):
            q = group.poses[i]
            if {(q.folder, q.image, q.individual, group.parts[c]) for c in (a, b)} & told:
                continue
            zs = (dev[i] - med) / spread
            if zs < s.skeleton_z or dev[i] < np.log1p(s.skeleton_min):
                continue
            out.append(
                Finding(
                    "skeleton",
                    q.folder,
                    q.image,
                    q.individual,
                    (group.parts[a], group.parts[b]),
                    round(float(zs) / s.skeleton_mistake, 2),
                    f"edge {group.parts[a]}-{group.parts[b]} is {np.exp(dev[i]):.1f}x longer or "
                    "shorter than usual (too few points here to say which one is off)",
                )
            )
