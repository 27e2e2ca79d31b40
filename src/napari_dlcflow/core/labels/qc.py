"""Label quality control: find the likely labeling mistakes in a project's CollectedData.

:func:`check_labels` reads every ``labeled-data`` folder of a project (single and multi-animal)
and returns :class:`Finding` objects, most suspicious first. Reading never writes. The checks
(details and benchmark in ``docs/label-qc.md``):

``outside``
    A point not strictly inside the image (DeepLabCut drops it); sizes from the image headers.
``duplicate``
    Two body parts of one animal at (nearly) the same spot, while that pair is normally apart;
    or the same spot given to two animals.
``overlap``
    Two animals labeled on top of each other (multi-animal).
``identity``
    Two animals' labels exchanged from one labeled frame to the next (multi-animal; fixed with
    :func:`identity_fix`).
``leftover``
    A point identical to the one in the previous labeled image of the same folder while the
    animal's other points moved (a point that was not moved on). A note when the part stays
    put in the image across the project (a head-fixed nose), or when the part often stays put
    (planted legs: ``leftover_habit``) and the carried point is plausible where it is.
``swap``
    A left/right pair (from the names: ``left``/``right``, ``L``/``R``, ``_l``/``_r`` ... or
    declared in the sidecar) whose exchange makes the pose fit the project's shape model much
    better: the pair sits on the wrong side of the body axis.
``crossed``
    A point of one animal that belongs to another animal's body (multi-animal).
``views``
    The same part in two views of one image (``nose_top``, ``nose_bot``) at places that do not
    correspond (robust fit of the views' epipolar relation): one of the two is misplaced.
``misplaced``
    A point far from where the other points of the pose put it under the project's robust
    shape model (generalized Procrustes: similarity-aligned median pose, rotation without
    reflection, leave-one-out prediction).
``skeleton``
    A skeleton edge (``config.yaml``'s, else the minimum spanning tree of the mean pose) whose
    length or direction, relative to the animal's size and orientation in that image, is far
    from that edge's distribution over the project.
``missing``
    One body part unlabeled in one image although the neighbouring images of its folder label
    it and it is labeled almost everywhere else (an accidental NaN).
``model``
    A label a trained model confidently disagrees with (when evaluation predictions exist).

Each finding is a *likely mistake* or a *note* (``Finding.severity``; ``missing`` and
findings below a kind's mistake threshold are notes) and says why in one sentence
(``Finding.why``). Scores are comparable across kinds: the evidence over the kind's threshold
of a likely mistake (1.0 at the threshold). Thresholds are in :class:`QCSettings`, tuned on
seeded injected mistakes (``benchmarks/bench_label_qc.py``).

Scene parts (an obstacle, a joystick: points that do not move with the animal; from the
sidecar, ``label_qc: scene_parts``, else found from the motion by
:mod:`~napari_dlcflow.core.labels.qc_scene`) are taken out of the animal's shape model,
skeleton and leftover checks and checked among themselves (their offsets to each other).
Findings on a point within ``border_px`` of the image border (a part leaving the frame) are
notes. A duplicate in one view that the other view confirms (both parts labeled there,
each agreeing with its counterpart) is a real overlap: a note.

Images that hold several views (a mirror, tiled cameras) are checked per view: views from the
sidecar (``label_qc: views``) or from the body-part names (``nose_top``/``nose_bot``,
``cam1_nose``...; :mod:`napari_dlcflow.core.labels.qc_views`). Findings dismissed by the user
are remembered in the sidecar (``label_qc: dismissed``).
"""

from __future__ import annotations

import csv
import io
import os
import re
from collections.abc import Iterable, Sequence
from dataclasses import replace
from pathlib import Path
from statistics import NormalDist
from typing import TYPE_CHECKING

import numpy as np

from napari_dlcflow.core.labels.collected import UNIQUE_INDIVIDUAL, Labels, load_folder
from napari_dlcflow.core.labels.qc_finding import (
    KINDS,
    MISTAKE,
    NOTE,
    SEVERITIES,
    Finding,
    QCSettings,
    grade,
)
from napari_dlcflow.core.labels.qc_identity import identity_checks, identity_fix
from napari_dlcflow.core.labels.qc_scene import (
    fixed_parts,
    offset_residuals,
    offsets,
    residuals,
    scene_from_motion,
)
from napari_dlcflow.core.labels.qc_shape import Group as _Group
from napari_dlcflow.core.labels.qc_shape import Pose as _Pose
from napari_dlcflow.core.labels.qc_shape import ShapeModel as _ShapeModel
from napari_dlcflow.core.labels.qc_shape import body_size as _size
from napari_dlcflow.core.labels.qc_shape import fit as _fit
from napari_dlcflow.core.labels.qc_shape import loo as _loo
from napari_dlcflow.core.labels.qc_shape import mad_z as _mad_z
from napari_dlcflow.core.labels.qc_shape import mst as _mst
from napari_dlcflow.core.labels.qc_shape import wrap as _wrap
from napari_dlcflow.core.labels.qc_views import counterparts, split_views, view_disagreements
from napari_dlcflow.core.untrusted import MAX_QUOTED, shorten

if TYPE_CHECKING:
    from napari_dlcflow.core.predictions.evaluated import EvalFrames
    from napari_dlcflow.core.project.config import Project

__all__ = [
    "KINDS",
    "MISTAKE",
    "NOTE",
    "SEVERITIES",
    "Finding",
    "QCSettings",
    "check_labels",
    "declared_pairs",
    "declared_scene_parts",
    "declared_views",
    "dismiss",
    "dismissed_keys",
    "findings_csv",
    "format_findings",
    "identity_fix",
    "summary",
    "swap_fix",
    "symmetric_pairs",
]

_CSV_FIELDS = (
    "severity",
    "kind",
    "folder",
    "image",
    "individual",
    "other",
    "bodyparts",
    "score",
    "reason",
    "why",
    "key",
)

# ---------------------------------------------------------------------------------- pairs
_WORDS = (("left", "right"), ("lft", "rgt"))


def _single_letter_pair(a: str, b: str) -> bool:
    """``a`` and ``b`` differ in one letter, L in ``a`` and R in ``b``, standing as a token."""
    if len(a) != len(b):
        return False
    diff = [i for i, (x, y) in enumerate(zip(a, b, strict=True)) if x != y]
    if len(diff) != 1:
        return False
    i = diff[0]
    x, y = a[i], b[i]
    if (x, y) not in (("l", "r"), ("L", "R")):
        return False
    before = i == 0 or not a[i - 1].isalpha() or (x.isupper() and a[i - 1].islower())
    nxt = a[i + 1] if i + 1 < len(a) else ""
    after = not nxt or not nxt.isalpha() or (x.isupper() and nxt.isupper())
    return before and after


def _word_pair(a: str, b: str) -> bool:
    la, lb = a.lower(), b.lower()
    return any(left in la and re.sub(left, right, la) == lb for left, right in _WORDS)


def symmetric_pairs(
    bodyparts: Sequence[str], declared: Iterable[Sequence[str]] = ()
) -> list[tuple[str, str]]:
    """Left/right pairs among ``bodyparts``: ``declared`` ones, then those found from names.

    Names pair when they differ by ``left``/``right`` (any case: ``leftear``/``rightear``,
    ``LeftPaw``/``RightPaw``), or by one ``L``/``R`` (``l``/``r``) letter standing as a token
    (``eyeL``/``eyeR``, ``forelegL4``/``forelegR4``, ``paw_l``/``paw_r``, ``L_ear``/``R_ear``).
    Each body part is in at most one pair.

    Examples
    --------
    >>> symmetric_pairs(["snout", "leftear", "rightear", "tailbase"])
    [('leftear', 'rightear')]
    >>> symmetric_pairs(["wingL", "wingR", "hindlegL4", "hindlegR4", "lear"])
    [('wingL', 'wingR'), ('hindlegL4', 'hindlegR4')]
    """
    parts = list(bodyparts)
    used: set[str] = set()
    out: list[tuple[str, str]] = []
    for pair in declared:
        a, b = str(pair[0]), str(pair[1])
        if a in parts and b in parts and a != b and not {a, b} & used:
            out.append((a, b))
            used |= {a, b}
    for a in parts:
        for b in parts:
            if a == b or {a, b} & used:
                continue
            if _word_pair(a, b) or _single_letter_pair(a, b):
                out.append((a, b))
                used |= {a, b}
    return out


# ---------------------------------------------------------------------------------- sidecar
def _qc_settings(project_root: str | os.PathLike) -> dict:
    from napari_dlcflow.core.project.sidecar import Sidecar

    value = Sidecar.load(project_root).label_qc
    return value if isinstance(value, dict) else {}


def declared_pairs(project_root: str | os.PathLike) -> list[tuple[str, str]]:
    """Left/right pairs the user declared in the sidecar (``label_qc: pairs``)."""
    pairs = _qc_settings(project_root).get("pairs") or []
    return [(str(p[0]), str(p[1])) for p in pairs if isinstance(p, list | tuple) and len(p) == 2]


def declared_views(project_root: str | os.PathLike) -> dict[str, list[str]]:
    """Views the user declared in the sidecar (``label_qc: views: {name: [parts...]}``)."""
    views = _qc_settings(project_root).get("views") or {}
    if not isinstance(views, dict):
        return {}
    return {str(k): [str(p) for p in v] for k, v in views.items() if isinstance(v, list | tuple)}


def declared_scene_parts(project_root: str | os.PathLike) -> list[str] | None:
    """Parts the user declared as scene parts (``label_qc: scene_parts: [...]``): points that
    do not move with the animal. None when the sidecar does not say (found from the data)."""
    parts = _qc_settings(project_root).get("scene_parts")
    return None if parts is None else [str(p) for p in parts]


def dismissed_keys(project_root: str | os.PathLike) -> set[str]:
    """:attr:`Finding.key` of the findings the user dismissed (``label_qc: dismissed``)."""
    return {str(k) for k in _qc_settings(project_root).get("dismissed") or []}


def dismiss(project_root: str | os.PathLike, findings: Iterable[Finding]) -> set[str]:
    """Remember ``findings`` as dismissed in the sidecar (saved atomically); returns all keys."""
    from napari_dlcflow.core.project.sidecar import Sidecar

    side = Sidecar.load(project_root)
    qc = dict(side.label_qc) if isinstance(side.label_qc, dict) else {}
    keys = list(dict.fromkeys([*(qc.get("dismissed") or []), *(f.key for f in findings)]))
    qc["dismissed"] = keys
    side.label_qc = qc
    side.save(project_root)
    return set(keys)


# ---------------------------------------------------------------------------------- reading
def _image_size(path: Path) -> tuple[int, int] | None:
    """``(height, width)`` from the image header, or None if it cannot be read."""
    from PIL import Image, UnidentifiedImageError

    try:
        with Image.open(path) as im:
            w, h = im.size
    except (OSError, UnidentifiedImageError):
        return None
    return int(h), int(w)


def _project_labels(project: Project) -> list[tuple[Path, Labels]]:
    out: list[tuple[Path, Labels]] = []
    base = project.root / "labeled-data"
    if not base.is_dir():
        return out
    for folder in sorted(p for p in base.iterdir() if p.is_dir()):
        labels = load_folder(folder, project.scorer) or load_folder(folder)
        if labels is not None and labels.images:
            out.append((folder, labels))
    return out


def _frame_number(name: str) -> tuple[int, str]:
    m = re.search(r"(\d+)(?=\.[^.]+$)", name)
    return (int(m.group(1)) if m else -1, name)


def _groups(tables: Sequence[tuple[Path, Labels]]) -> dict[str, _Group]:
    groups: dict[str, _Group] = {}
    for folder, labels in tables:
        names = [row[-1] for row in labels.images]
        order = sorted(range(len(names)), key=lambda r: _frame_number(names[r]))
        inds = list(dict.fromkeys(i for i, _ in labels.keypoints))
        for ind in inds:
            gname = "unique" if ind == UNIQUE_INDIVIDUAL else "animal"
            cols = [k for k, (i, _) in enumerate(labels.keypoints) if i == ind]
            parts = [labels.keypoints[k][1] for k in cols]
            group = groups.setdefault(gname, _Group(parts=[]))
            for bp in parts:
                if bp not in group.parts:
                    group.parts.append(bp)
        for r in order:
            image = labels.images[r][-1]
            for ind in inds:
                gname = "unique" if ind == UNIQUE_INDIVIDUAL else "animal"
                group = groups[gname]
                xy = np.full(len(group.parts), np.nan + 0j)
                for k, (i, bp) in enumerate(labels.keypoints):
                    if i == ind:
                        x, y = labels.xy[r, k]
                        if np.isfinite(x) and np.isfinite(y):
                            xy[group.parts.index(bp)] = complex(x, y)
                group.poses.append(_Pose(folder.name, image, ind, xy))
    for group in groups.values():  # parts added after early poses were made
        for pose in group.poses:
            if len(pose.xy) < len(group.parts):
                pose.xy = np.concatenate(
                    [pose.xy, np.full(len(group.parts) - len(pose.xy), np.nan + 0j)]
                )
    return groups


def _by_view(
    groups: dict[str, _Group], declared: dict[str, list[str]] | None = None
) -> dict[str, _Group]:
    """Each group split into its views (``animal@top``, ``animal@bot``; one view: as it is)."""
    out: dict[str, _Group] = {}
    for gname, group in groups.items():
        views = split_views(group.parts, declared)
        if len(views) == 1:
            out[gname] = group
            continue
        for view, parts in views.items():
            idx = [group.parts.index(p) for p in parts]
            sub = _Group(parts=list(parts))
            sub.poses = [_Pose(q.folder, q.image, q.individual, q.xy[idx]) for q in group.poses]
            out[f"{gname}@{view}" if view else gname] = sub
    return out


# ---------------------------------------------------------------------------------- checks
def _name(ind: str, bp: str) -> str:
    return f"{ind}/{bp}" if ind else bp


def _outside(tables: Sequence[tuple[Path, Labels]], s: QCSettings, out: list[Finding]) -> None:
    for folder, labels in tables:
        sizes: dict[str, tuple[int, int] | None] = {}
        for r, row in enumerate(labels.images):
            pts = labels.xy[r]
            if not np.isfinite(pts).all(axis=-1).any():
                continue
            name = row[-1]
            if name not in sizes:
                sizes[name] = _image_size(folder / name)
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
                            f"{_name(ind, bp)} at ({x:.1f}, {y:.1f}) is outside the "
                            f"{w}x{h} image (DeepLabCut drops it)",
                        )
                    )


def _duplicates(group: _Group, X: np.ndarray, s: QCSettings, out: list[Finding]) -> None:
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


def _leftovers(
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
                f"{_name(pose.individual, bp)} is exactly where it was in "
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


def _missing(group: _Group, X: np.ndarray, s: QCSettings, out: list[Finding]) -> None:
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
                        f"{_name(pose.individual, bp)} is not labeled here but in "
                        f"{frac[k]:.0%} of this folder's images, the neighbours included",
                    )
                )


def _shape_checks(
    group: _Group,
    X: np.ndarray,
    model: _ShapeModel,
    pairs: Sequence[tuple[str, str]],
    skeleton: Sequence[tuple[str, str]],
    s: QCSettings,
    busy: set[tuple[int, int]],
    out: list[Finding],
) -> None:
    """Swaps, misplaced points and skeleton outliers against the shape model.

    ``busy`` holds ``(pose, part)`` already explained by another finding; they are skipped.
    A swap found is undone in ``X`` before the other checks.
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
    for i, pose in enumerate(group.poses):
        p = X[i].copy()
        for _ in range(2):  # at most two misplaced points per pose
            m = np.isfinite(p) & np.isfinite(ref)
            if m.sum() < 3:
                break
            e = _loo(ref, p, m)
            zs = np.array([(e[k] - stats[k][0]) / stats[k][1] for k in range(K)])
            zs[~np.isfinite(zs)] = -np.inf
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
            bp = group.parts[k]
            out.append(
                Finding(
                    "misplaced",
                    pose.folder,
                    pose.image,
                    pose.individual,
                    (bp,),
                    round(float(zs[k]) / s.misplaced_mistake, 2),
                    f"{_name(pose.individual, bp)} is {e[k]:.2f} body sizes from where the "
                    f"other points put it (usually {stats[k][0]:.2f})",
                )
            )
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
            if zs < s.skeleton_z or dev[i] < s.skeleton_min:
                continue
            ratio = abs(v[i]) / max(abs(typical), 1e-9)
            turn = np.degrees(abs(_wrap(np.angle(v[i]) - np.angle(typical))))
            out.append(
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


def _sparse_edges(
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


def _model_findings(frames: EvalFrames, s: QCSettings, out: list[Finding]) -> None:
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


# ---------------------------------------------------------------------------------- main
def check_labels(
    project: Project,
    kinds: Iterable[str] | None = None,
    *,
    settings: QCSettings | None = None,
    pairs: Iterable[Sequence[str]] | None = None,
    include_dismissed: bool = False,
    evaluation: EvalFrames | None = None,
) -> list[Finding]:
    """Look for likely labeling mistakes in every ``labeled-data`` folder of ``project``.

    Parameters
    ----------
    project : Project
        The open project (its CollectedData files are read, nothing is written).
    kinds : iterable of str, optional
        Checks to run (default: all of :data:`KINDS`).
    settings : QCSettings, optional
        Thresholds.
    pairs : iterable of (str, str), optional
        Left/right pairs to use in addition to the sidecar's and those found from the names.
    include_dismissed : bool, default False
        Also return findings the user dismissed.
    evaluation : EvalFrames, optional
        A trained model's predictions on the labeled images (the engine's
        ``latest_frames(config)``); the ``model`` check runs only when it is given.

    Returns
    -------
    list of Finding
        Likely mistakes first, then notes; each most suspicious (highest score) first.

    Raises
    ------
    ValueError
        If ``kinds`` names an unknown check.
    LabelsError
        If a CollectedData file cannot be read (the message names the file).
    """
    s = settings or QCSettings()
    want = list(KINDS if kinds is None else kinds)
    unknown = [k for k in want if k not in KINDS]
    if unknown:
        raise ValueError(f"unknown check(s): {', '.join(unknown)} (known: {', '.join(KINDS)})")
    tables = _project_labels(project)
    out: list[Finding] = []
    if "outside" in want:
        _outside(tables, s, out)
    outside = list(out)
    declared = [*declared_pairs(project.root), *(pairs or [])]
    between = [k for k in ("identity", "overlap") if k in want]
    groups = _groups(tables)
    views = declared_views(project.root)
    bodies, scenes = _split_scene(groups, declared_scene_parts(project.root), views, s)
    for scene in scenes.values():
        _scene_checks(scene, outside, want, s, out)
    views_of_all = _by_view(groups, views)
    for gname, group in _by_view(bodies, views).items():
        X = group.array()
        index = {(p.folder, p.image, p.individual): i for i, p in enumerate(group.poses)}
        Xo = X.copy()  # without the points outside the image
        for f in outside:
            i = index.get((f.folder, f.image, f.individual))
            if i is not None and f.bodyparts[0] in group.parts:
                Xo[i, group.parts.index(f.bodyparts[0])] = np.nan + 0j
        before = len(out)
        if "duplicate" in want:  # on all parts, the scene's too (a hand on the joystick)
            full = views_of_all.get(gname)
            if full is not None:
                _duplicates(full, _without(full, outside), s, out)
        habit: set[str] = set()
        if "leftover" in want:
            fixed = fixed_parts(group, Xo, s.scene_ratio, s.min_poses)
            habit = _leftovers(group, Xo, s, out, fixed)
        if "missing" in want:
            _missing(group, X, s, out)
        if between and gname.startswith("animal"):
            identity_checks(group, Xo, None, between, s, set(), _frame_number, out)
        shape_kinds = {"swap", "misplaced", "skeleton", "crossed"} & set(want)
        if "skeleton" in want and gname.startswith("animal"):
            told = {
                (f.folder, f.image, f.individual, bp)
                for f in [*outside, *out[before:]]
                for bp in f.bodyparts
            }
            _sparse_edges(group, Xo, list(project.skeleton), s, told, out)
        labeled = int((np.isfinite(X).sum(axis=1) >= 3).sum())
        if not shape_kinds or labeled < s.min_poses or len(group.parts) < 3:
            continue
        # points already explained (outside, duplicate, leftover) do not feed the shape checks
        busy: set[tuple[int, int]] = set()
        Xs = X.copy()
        for f in [*outside, *out[before:]]:
            if f.kind == "duplicate" and not set(f.bodyparts) <= set(group.parts):
                continue
            i = index.get((f.folder, f.image, f.individual))
            if i is None or f.kind not in ("outside", "duplicate", "leftover"):
                continue
            for bp in f.bodyparts:
                if bp not in group.parts:
                    continue
                k = group.parts.index(bp)
                busy.add((i, k))
                Xs[i, k] = np.nan + 0j
        model = _ShapeModel(Xs)
        if not model.valid:
            continue
        _plausible_leftovers(out, before, group.parts, habit, index, Xo, Xs, model, s)
        skeleton = list(project.skeleton) if gname.startswith("animal") else []
        found: list[Finding] = []
        if "crossed" in want and gname.startswith("animal"):
            identity_checks(group, Xs, model.ref, ["crossed"], s, busy, _frame_number, found)
        _shape_checks(
            group,
            Xs,
            model,
            symmetric_pairs(group.parts, declared),
            skeleton,
            s,
            busy,
            found,
        )
        out.extend(f for f in found if f.kind in shape_kinds)
    if "model" in want and evaluation is not None:
        _model_findings(evaluation, s, out)
    if not include_dismissed:
        gone = dismissed_keys(project.root)
        out = [f for f in out if f.key not in gone]
    if "views" in want:
        _views(groups, views, s, out)
    out = _seen_in_another_view(out, groups, views)
    out = _overlap_in_one_view(out, groups, views, s)
    out = _runs_are_notes(out, tables, s)
    out = _border_notes(out, tables, s)
    out = [replace(f, severity=grade(f.kind, f.score)) for f in out]
    order = {k: n for n, k in enumerate(KINDS)}
    out.sort(
        key=lambda f: (SEVERITIES.index(f.severity), -f.score, order[f.kind], f.folder, f.image)
    )
    return out


def _without(group: _Group, outside: Sequence[Finding]) -> np.ndarray:
    """The group's poses without the points outside the image."""
    X = group.array()
    index = {(p.folder, p.image, p.individual): i for i, p in enumerate(group.poses)}
    for f in outside:
        i = index.get((f.folder, f.image, f.individual))
        if i is not None and f.bodyparts[0] in group.parts:
            X[i, group.parts.index(f.bodyparts[0])] = np.nan + 0j
    return X


def _subgroup(group: _Group, parts: Sequence[str]) -> _Group:
    idx = [group.parts.index(p) for p in parts]
    sub = _Group(parts=list(parts))
    sub.poses = [_Pose(q.folder, q.image, q.individual, q.xy[idx]) for q in group.poses]
    return sub


def _split_scene(
    groups: dict[str, _Group],
    declared: list[str] | None,
    views: dict[str, list[str]],
    s: QCSettings,
) -> tuple[dict[str, _Group], dict[str, _Group]]:
    """Each group without its scene parts (declared, else found from the motion), and the
    scene parts of each group that has some (same name, same poses)."""
    bodies: dict[str, _Group] = {}
    scenes: dict[str, _Group] = {}
    for gname, group in groups.items():
        if declared is not None:
            scene = [p for p in group.parts if p in declared]
        else:  # per view: a mirror view moves the other way, centroids across views cancel
            found = {
                p
                for view in _by_view({gname: group}, views).values()
                for p in scene_from_motion(view, view.array(), s.scene_ratio, s.min_poses)
            }
            scene = [p for p in group.parts if p in found]
        rest = [p for p in group.parts if p not in scene]
        if not scene or not rest:
            bodies[gname] = group
            continue
        bodies[gname] = _subgroup(group, rest)
        scenes[gname] = _subgroup(group, scene)
    return bodies, scenes


def _scene_checks(
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
    X = _without(scene, outside)
    if "leftover" in want:  # a fixed object never moves, so only a moving one can be left
        _leftovers(scene, X, s, out)
    if "missing" in want:
        _missing(scene, scene.array(), s, out)
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
                f"{_name(pose.individual, scene.parts[k])} is {E[i, k]:.2f} scene extents "
                f"from where the other scene points put it (usually {stats[k][0]:.2f})"
                + ("; one of the two is off" if pair else ""),
            )
        )


def _plausible_leftovers(
    out: list[Finding],
    start: int,
    parts: Sequence[str],
    habit: set[str],
    index: dict[tuple[str, str, str], int],
    X: np.ndarray,
    Xs: np.ndarray,
    model: _ShapeModel,
    s: QCSettings,
) -> None:
    """Leftovers of ``out[start:]`` on parts that often stay put (``habit``) whose carried
    point is plausible where it is under the shape model (a planted leg while the body
    moves) become notes. ``X`` holds the carried
    points, ``Xs`` the poses the model was built from (without them)."""
    rows = [n for n in range(start, len(out)) if out[n].kind == "leftover"]
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


def _views(
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
                    f"{_name(q.individual, a)} and {b} do not show the same point: {r:.0f} px "
                    "off the relation the other pairs of views follow",
                )
            )


_RUN_KINDS = ("duplicate", "leftover", "misplaced", "skeleton", "views")


def _runs_are_notes(
    findings: list[Finding], tables: Sequence[tuple[Path, Labels]], s: QCSettings
) -> list[Finding]:
    """The same finding (kind, animal, parts) in ``run_length`` or more consecutive labeled
    images of a folder is a behaviour (a wing held out) or a labeling habit, not a slip: a
    note, saying so."""
    order: dict[tuple[str, str], int] = {}
    for folder, labels in tables:
        names = sorted((row[-1] for row in labels.images), key=_frame_number)
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


def _border_notes(
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
            sizes[(f.folder, f.image)] = _image_size(folder / f.image)
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


def _overlap_in_one_view(
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


def _seen_in_another_view(
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


def swap_fix(labels: Labels, finding: Finding) -> Labels:
    """A copy of ``labels`` with the pair of a ``swap`` finding exchanged in its image.

    Raises
    ------
    ValueError
        If the finding is not a swap, or its image or body parts are not in ``labels``.
    """
    if finding.kind != "swap" or len(finding.bodyparts) != 2:
        raise ValueError(f"only a swap finding can be fixed this way, not {finding.kind!r}")
    rows = [r for r, row in enumerate(labels.images) if row[-1] == finding.image]
    if not rows:
        raise ValueError(f"{labels.source}: no row for {finding.image}")
    a, b = ((finding.individual, bp) for bp in finding.bodyparts)
    if a not in labels.keypoints or b not in labels.keypoints:
        raise ValueError(f"{labels.source}: no columns {a} and {b}")
    out = labels.copy()
    ka, kb = labels.keypoints.index(a), labels.keypoints.index(b)
    r = rows[0]
    out.xy[r, ka], out.xy[r, kb] = labels.xy[r, kb], labels.xy[r, ka]
    return out


def _counts(findings: Sequence[Finding]) -> str:
    counts: dict[str, int] = {}
    for f in findings:
        counts[f.kind] = counts.get(f.kind, 0) + 1
    return ", ".join(f"{k} {n}" for k, n in counts.items())


def summary(findings: Sequence[Finding], hidden_notes: int = 0) -> str:
    """One line: likely mistakes and notes, counted per kind.

    Examples
    --------
    >>> summary([Finding("swap", "v", "a.png", "", ("l", "r"), 2.0, "")], hidden_notes=3)
    '1 likely mistake: swap 1; 3 notes not shown'
    """
    mistakes = [f for f in findings if f.mistake]
    notes = [f for f in findings if not f.mistake]
    n = len(mistakes)
    line = f"{n} likely mistake{'' if n == 1 else 's'}" + (f": {_counts(mistakes)}" if n else "")
    if notes:
        line += f"; {len(notes)} note{'' if len(notes) == 1 else 's'}: {_counts(notes)}"
    if hidden_notes:
        line += f"; {hidden_notes} note{'' if hidden_notes == 1 else 's'} not shown"
    return line


def format_findings(
    findings: Sequence[Finding], width: int | None = None, hidden_notes: int = 0
) -> str:
    """The findings as a plain-text table (one line each), the count per severity and kind,
    and why each kind shown matters (one sentence per kind and severity).

    Names come from the label files, so each cell is shortened: a damaged file's 200,000-
    character image name gives a line of a few hundred characters, not a screenful.
    ``hidden_notes`` is the number of notes left out (said in the count line).
    """
    if not findings:
        return "no likely mistakes" + (
            f" ({hidden_notes} notes not shown)" if hidden_notes else ""
        )
    head = f"{'severity':<8} {'kind':<10} {'folder/image':<32} {'body parts':<24}"
    lines = [f"{head} {'score':>7}  reason"]
    for f in findings:
        who = "+".join(f.bodyparts)
        if f.individual:
            who = f"{f.individual}:{who}"
        if f.other:
            who = f"{who} ({f.other})"
        place = shorten(f.folder + "/" + f.image, 120)
        line = (
            f"{f.severity:<8} {f.kind:<10} {place:<32} {shorten(who, 80):<24} {f.score:>7.2f}  "
            f"{shorten(f.reason, 2 * MAX_QUOTED)}"
        )
        lines.append(line if width is None or len(line) <= width else line[: width - 3] + "...")
    lines.append(summary(findings, hidden_notes))
    seen: dict[tuple[str, str], str] = {}
    for f in findings:
        seen.setdefault((f.kind, f.severity), f.why)
    lines.extend(f"why {kind} ({sev}): {why}" for (kind, sev), why in seen.items())
    return "\n".join(lines)


def findings_csv(findings: Sequence[Finding]) -> str:
    """The findings as CSV text (header ``severity,kind,folder,image,individual,other,
    bodyparts,score,reason,why,key``; body parts joined with ``+``)."""
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(_CSV_FIELDS)
    for f in findings:
        w.writerow(
            [
                f.severity,
                f.kind,
                f.folder,
                f.image,
                f.individual,
                f.other,
                "+".join(f.bodyparts),
                f.score,
                f.reason,
                f.why,
                f.key,
            ]
        )
    return buf.getvalue()
