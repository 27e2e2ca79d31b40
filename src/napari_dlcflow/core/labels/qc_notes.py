"""The label QC rules that turn likely mistakes into notes (or drop them): a leftover on a part
that often stays put and is plausible where it is, the same finding in consecutive images, a
point at the image border, a duplicate the other view shows as a real overlap, and a part
unlabeled in one view but labeled in another."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path

import numpy as np

from napari_dlcflow.core.labels.collected import Labels
from napari_dlcflow.core.labels.qc_finding import Finding, QCSettings
from napari_dlcflow.core.labels.qc_poses import frame_number, image_size
from napari_dlcflow.core.labels.qc_shape import Group as _Group
from napari_dlcflow.core.labels.qc_shape import ShapeModel as _ShapeModel
from napari_dlcflow.core.labels.qc_shape import loo as _loo
from napari_dlcflow.core.labels.qc_shape import mad_z as _mad_z
from napari_dlcflow.core.labels.qc_views import counterparts, split_views, view_disagreements

__all__ = [
    "border_notes",
    "overlap_in_one_view",
    "plausible_leftovers",
    "runs_are_notes",
    "seen_in_another_view",
]


def plausible_leftovers(
    out: list[Finding],
    start: int,
    parts: Sequence[str],
    habit: set[str],
    index: dict[tuple[str, str, str], int],
    X: np.ndarray,
    Xs: np.ndarray,
    model: _ShapeModel,
    s: QCSettings,
    decided: set[int] | frozenset[int] = frozenset(),
) -> None:
    """Leftovers of ``out[start:]`` on parts that often stay put (``habit``) whose carried
    point is plausible where it is under the shape model (a planted leg while the body
    moves) become notes. ``X`` holds the carried
    points, ``Xs`` the poses the model was built from (without them). Leftovers whose index
    is in ``decided`` (the image decided them) are left alone."""
    rows = [n for n in range(start, len(out)) if out[n].kind == "leftover" and n not in decided]
    if not rows:
        return
    ref = model.ref
    E = np.array([_loo(ref, p, np.isfinite(p) & np.isfinite(ref)) for p in Xs])
    stats = [_mad_z(E[:, k]) for k in range(E.shape[1])]
    for n in rows:
        f = out[n]
        i = index.get((f.folder, f.image, f.individual))
        if i is None or f.bodyparts[0] not in parts or f.bodyparts[0] not in habit:
            continue
        k = list(parts).index(f.bodyparts[0])
        p = Xs[i].copy()
        p[k] = X[i, k]
        e = _loo(ref, p, np.isfinite(p) & np.isfinite(ref))[k]
        z = (e - stats[k][0]) / stats[k][1]
        if not np.isfinite(z) or z >= s.leftover_z:  # implausible, or nothing to tell
            continue
        out[n] = replace(
            f,
            score=min(f.score, 0.99),
            reason=f"{f.reason}; it is plausible there (z {z:.1f})",
        )


_RUN_KINDS = ("duplicate", "leftover", "misplaced", "skeleton", "views")


def runs_are_notes(
    findings: list[Finding], tables: Sequence[tuple[Path, Labels]], s: QCSettings
) -> list[Finding]:
    """The same finding (kind, animal, parts) in ``run_length`` or more consecutive labeled
    images of a folder is a behaviour (a wing held out) or a labeling habit, not a slip: a
    note, saying so."""
    order: dict[tuple[str, str], int] = {}
    for folder, labels in tables:
        names = sorted((row[-1] for row in labels.images), key=frame_number)
        order.update({(folder.name, n): i for i, n in enumerate(names)})
    by: dict[tuple, list[int]] = {}
    for n, f in enumerate(findings):
        if f.kind in _RUN_KINDS:
            by.setdefault((f.kind, f.folder, f.individual, f.bodyparts), []).append(n)
    out = list(findings)
    for members in by.values():
        members.sort(key=lambda n: order.get((findings[n].folder, findings[n].image), -1))
        pos = [order.get((findings[n].folder, findings[n].image), -10) for n in members]
        start = 0
        for j in range(1, len(members) + 1):
            if j < len(members) and pos[j] == pos[j - 1] + 1:
                continue
            if j - start >= s.run_length:
                for n in members[start:j]:
                    f = out[n]
                    out[n] = replace(
                        f,
                        score=min(f.score, 0.99),
                        reason=f"{f.reason} (and in {j - start - 1} neighbouring images)",
                    )
            start = j
    return out


_BORDER_KINDS = ("duplicate", "leftover", "misplaced", "skeleton", "views")


def border_notes(
    findings: list[Finding], tables: Sequence[tuple[Path, Labels]], s: QCSettings
) -> list[Finding]:
    """Findings on a point at the image border (within ``border_px``: the part leaves the
    frame and is labeled where it does, a labeling convention) are notes, saying so."""
    rows = {
        (folder.name, row[-1]): (folder, labels, r)
        for folder, labels in tables
        for r, row in enumerate(labels.images)
    }
    sizes: dict[tuple[str, str], tuple[int, int] | None] = {}
    out = []
    for f in findings:
        where = rows.get((f.folder, f.image))
        if f.kind not in _BORDER_KINDS or f.score < 1.0 or where is None:
            out.append(f)
            continue
        folder, labels, r = where
        if (f.folder, f.image) not in sizes:
            sizes[(f.folder, f.image)] = image_size(folder / f.image)
        hw = sizes[(f.folder, f.image)]
        at = []
        for bp in f.bodyparts:
            key = (f.individual, bp)
            if hw is None or key not in labels.keypoints:
                continue
            x, y = labels.xy[r, labels.keypoints.index(key)]
            h, w = hw
            at.append(bool(min(x, y, w - x, h - y) <= s.border_px))
        hit = all(at) if f.kind == "duplicate" else any(at)
        if at and hit:
            f = replace(
                f,
                score=min(f.score, 0.99),
                reason=f"{f.reason} (at the image border: the part leaves the frame)",
            )
        out.append(f)
    return out


def overlap_in_one_view(
    findings: list[Finding],
    groups: dict[str, _Group],
    declared: dict[str, list[str]],
    s: QCSettings,
) -> list[Finding]:
    """A duplicate in one view whose two parts are both labeled in another view, where each
    agrees with its counterpart (no view disagreement, even at half the threshold), is a real
    overlap of that view (a hind paw behind the fore paw seen from the side): a note."""
    out = list(findings)
    for group in groups.values():
        views = split_views(group.parts, declared)
        if len(views) < 2:
            continue
        other = counterparts(views)
        X = group.array()
        doubtful = {
            (i, p)
            for i, a, b, _, _ in view_disagreements(X, group.parts, views, s.views_z / 2)
            for p in (a, b)
        }
        rows = {(q.folder, q.image, q.individual): i for i, q in enumerate(group.poses)}
        for n, f in enumerate(out):
            i = rows.get((f.folder, f.image, f.individual))
            if f.kind != "duplicate" or i is None or f.score < 1.0 or len(f.bodyparts) != 2:
                continue
            if not all(bp in group.parts and other.get(bp) for bp in f.bodyparts):
                continue
            seen = all(
                any(np.isfinite(X[i, group.parts.index(q)]) for q in other[bp])
                for bp in f.bodyparts
            )
            agree = not any((i, q) in doubtful for bp in f.bodyparts for q in [bp, *other[bp]])
            if seen and agree:
                out[n] = replace(
                    f,
                    score=min(f.score, 0.99),
                    reason=f"{f.reason}? (the other view agrees with both: a real overlap)",
                )
    return out


def seen_in_another_view(
    findings: list[Finding], groups: dict[str, _Group], declared: dict[str, list[str]]
) -> list[Finding]:
    """Drop ``missing`` findings of a part labeled in another view of the same image: hidden
    in one view and seen in the other is what mirrors and several cameras are for."""
    out = []
    lookup: dict[tuple[str, str, str], tuple[_Group, int]] = {}
    for group in groups.values():
        for i, q in enumerate(group.poses):
            lookup[(q.folder, q.image, q.individual)] = (group, i)
    other = {}
    for group in groups.values():
        other.update(counterparts(split_views(group.parts, declared)))
    for f in findings:
        if f.kind == "missing" and other.get(f.bodyparts[0]):
            group, i = lookup[(f.folder, f.image, f.individual)]
            xy = group.poses[i].xy
            seen = [q for q in other[f.bodyparts[0]] if np.isfinite(xy[group.parts.index(q)])]
            if seen:
                continue
        out.append(f)
    return out
