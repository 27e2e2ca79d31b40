"""Label quality control: find the likely labeling mistakes in a project's CollectedData.

:func:`check_labels` reads every ``labeled-data`` folder of a project (single and multi-animal)
and returns :class:`Finding` objects, most suspicious first. Reading never writes. The checks
(details and benchmark in ``docs/label-qc.md``):

``outside``
    A point not strictly inside the image (DeepLabCut drops it); sizes from the image headers.
``duplicate``
    Two body parts of one animal at (nearly) the same spot, while that pair is normally apart;
    or the same spot given to two animals.
``leftover``
    A point identical to the one in the previous labeled image of the same folder while the
    animal's other points moved (a point that was not moved on).
``swap``
    A left/right pair (from the names: ``left``/``right``, ``L``/``R``, ``_l``/``_r`` ... or
    declared in the sidecar) whose exchange makes the pose fit the project's shape model much
    better: the pair sits on the wrong side of the body axis.
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

Scores are robust z-scores or ratios (larger is more suspicious); thresholds are in
:class:`QCSettings`, tuned on seeded injected mistakes (``benchmarks/bench_label_qc.py``).
Findings dismissed by the user are remembered in the sidecar (``label_qc: dismissed``).
"""

from __future__ import annotations

import csv
import io
import os
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from napari_dlcflow.core.labels.collected import UNIQUE_INDIVIDUAL, Labels, load_folder
from napari_dlcflow.core.untrusted import MAX_QUOTED, shorten

if TYPE_CHECKING:
    from napari_dlcflow.core.predictions.evaluated import EvalFrames
    from napari_dlcflow.core.project.config import Project

__all__ = [
    "KINDS",
    "Finding",
    "QCSettings",
    "check_labels",
    "declared_pairs",
    "dismiss",
    "dismissed_keys",
    "findings_csv",
    "format_findings",
    "swap_fix",
    "symmetric_pairs",
]

KINDS: tuple[str, ...] = (
    "outside",
    "duplicate",
    "leftover",
    "swap",
    "misplaced",
    "skeleton",
    "missing",
    "model",
)
_CSV_FIELDS = ("kind", "folder", "image", "individual", "bodyparts", "score", "reason", "key")


@dataclass(frozen=True)
class Finding:
    """One likely labeling mistake.

    Attributes
    ----------
    kind : str
        One of :data:`KINDS`.
    folder : str
        The ``labeled-data`` folder (video stem).
    image : str
        The image file name (``img0042.png``).
    individual : str
        The animal (``""`` in a single-animal project, ``"single"`` for unique body parts).
    bodyparts : tuple of str
        The body parts involved (a swap names its pair, left first).
    score : float
        How suspicious (larger is worse; comparable within a kind).
    reason : str
        One line saying what was seen.
    """

    kind: str
    folder: str
    image: str
    individual: str
    bodyparts: tuple[str, ...]
    score: float
    reason: str

    @property
    def key(self) -> str:
        """Stable identity used to remember a dismissal."""
        return "|".join(
            (self.kind, self.folder, self.image, self.individual, "+".join(self.bodyparts))
        )

    @property
    def row(self) -> tuple[str, str, str]:
        """The CollectedData row index of the image."""
        return ("labeled-data", self.folder, self.image)


@dataclass(frozen=True)
class QCSettings:
    """Thresholds of the checks (defaults tuned with ``benchmarks/bench_label_qc.py``).

    Attributes
    ----------
    outside_margin : float
        Pixels; a point must be at least this far inside the border to pass.
    duplicate_px, duplicate_frac : float
        Two points closer than ``max(duplicate_px, duplicate_frac * size)`` are a duplicate
        when the pair is normally at least ``duplicate_apart`` times that far apart.
    duplicate_apart : float
    leftover_px : float
        A point within this many pixels of the previous image's counts as identical.
    leftover_moved : float
        The other points must have moved by at least this fraction of the animal's size
        (median displacement), and by ``leftover_moved_px`` pixels.
    leftover_moved_px : float
    swap_ratio : float
        Flag a swap when, with the pair exchanged, its distance to where the other points put
        it (shape model) is at least this many times smaller...
    swap_min : float
        ...and smaller by at least this much (fraction of the animal's size).
    misplaced_z, misplaced_min : float
        Robust z-score of a point's leave-one-out residual, and the residual's minimum as a
        fraction of the animal's size.
    skeleton_z, skeleton_min : float
        Robust z-score of an edge's deviation (its vector, in the animal's frame and size,
        minus the edge's median vector), and that deviation's minimum in body sizes.
    missing_fraction : float
        A part labeled in at least this fraction of its folder's poses is expected.
    model_px, model_frac, model_likelihood : float
        A label farther than ``max(model_px, model_frac * size)`` from a prediction with at
        least this likelihood.
    min_poses : int
        Poses needed before a shape model is built (fewer: only the model-free checks run).
    """

    outside_margin: float = 0.0
    duplicate_px: float = 2.0
    duplicate_frac: float = 0.05
    duplicate_apart: float = 4.0
    leftover_px: float = 0.01
    leftover_moved: float = 0.02
    leftover_moved_px: float = 0.5
    swap_ratio: float = 1.5
    swap_min: float = 0.05
    misplaced_z: float = 6.0
    misplaced_min: float = 0.25
    skeleton_z: float = 6.0
    skeleton_min: float = 0.3
    missing_fraction: float = 0.9
    model_px: float = 10.0
    model_frac: float = 0.3
    model_likelihood: float = 0.9
    min_poses: int = 8


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


# ---------------------------------------------------------------------------------- geometry
def _fit(src: np.ndarray, dst: np.ndarray) -> tuple[complex, complex, complex]:
    """Similarity (rotation, scale, translation; no reflection) taking complex ``src`` onto
    ``dst``: ``dst ~ z * (src - cs) + cd``. Returns ``(z, cs, cd)``."""
    cs, cd = src.mean(), dst.mean()
    a, b = src - cs, dst - cd
    den = float(np.sum(np.abs(a) ** 2))
    z = complex(np.sum(np.conj(a) * b) / den) if den > 0 else 0j
    return z, complex(cs), complex(cd)


def _mad_z(values: np.ndarray) -> tuple[float, float]:
    """Median and robust spread (1.4826 MAD, floored) of finite ``values``."""
    v = values[np.isfinite(values)]
    if v.size == 0:
        return 0.0, 1.0
    med = float(np.median(v))
    mad = 1.4826 * float(np.median(np.abs(v - med)))
    spread = max(mad, 1e-3, 0.05 * abs(med))
    return med, spread


def _wrap(a: np.ndarray) -> np.ndarray:
    return (a + np.pi) % (2 * np.pi) - np.pi


@dataclass
class _Pose:
    folder: str
    image: str
    individual: str
    xy: np.ndarray  # (K,) complex, nan where unlabeled


@dataclass
class _Group:
    """Poses of one kind of animal (the individuals, or the unique body parts)."""

    parts: list[str]
    poses: list[_Pose] = field(default_factory=list)

    def array(self) -> np.ndarray:
        return np.array([p.xy for p in self.poses]).reshape(len(self.poses), len(self.parts))


class _ShapeModel:
    """Robust generalized Procrustes model of a group's poses (unit RMS radius)."""

    def __init__(self, X: np.ndarray, iterations: int = 6) -> None:
        ok = np.isfinite(X)
        use = ok.sum(axis=1) >= 3
        self.valid = bool(use.sum() >= 3)
        K = X.shape[1]
        self.ref = np.full(K, np.nan + 0j)
        if not self.valid:
            return
        Xu = X[use]
        start = int(np.argmax(np.isfinite(Xu).sum(axis=1)))
        ref = Xu[start].copy()
        for _ in range(iterations):
            aligned = np.full_like(Xu, np.nan + 0j)
            for i, p in enumerate(Xu):
                m = np.isfinite(p) & np.isfinite(ref)
                if m.sum() < 2:
                    continue
                z, cs, cd = _fit(p[m], ref[m])
                aligned[i] = z * (p - cs) + cd
            new = np.nanmedian(aligned.real, axis=0) + 1j * np.nanmedian(aligned.imag, axis=0)
            fin = np.isfinite(new)
            if fin.sum() < 2:
                self.valid = False
                return
            new = new - new[fin].mean()
            new = new / np.sqrt(np.mean(np.abs(new[fin]) ** 2))
            ref = np.where(fin, new, np.nan + 0j)
        self.ref = ref

    def fit(
        self, p: np.ndarray, mask: np.ndarray | None = None
    ) -> tuple[complex, complex, complex]:
        """Similarity from the model onto ``p`` over ``mask`` (default: all common points)."""
        m = np.isfinite(p) & np.isfinite(self.ref)
        if mask is not None:
            m &= mask
        return _fit(self.ref[m], p[m])

    def residual(self, p: np.ndarray) -> tuple[float, float]:
        """RMS residual of the best fit as a fraction of the pose's size, and that size."""
        m = np.isfinite(p) & np.isfinite(self.ref)
        z, cs, cd = _fit(self.ref[m], p[m])
        if abs(z) == 0:
            return np.inf, 0.0
        pred = z * (self.ref[m] - cs) + cd
        return float(np.sqrt(np.mean(np.abs(pred - p[m]) ** 2)) / abs(z)), abs(z)


def _loo(ref: np.ndarray, p: np.ndarray, m: np.ndarray) -> np.ndarray:
    """Leave-one-out residual of each point of ``p`` in ``m``: its distance, in body sizes,
    from where the model fitted to the other points of ``m`` puts it (NaN elsewhere)."""
    e = np.full(len(p), np.nan)
    if m.sum() < 3:
        return e
    for k in np.flatnonzero(m):
        o = m.copy()
        o[k] = False
        z, cs, cd = _fit(ref[o], p[o])
        if abs(z) > 0:
            e[k] = abs(z * (ref[k] - cs) + cd - p[k]) / abs(z)
    return e


def _size(p: np.ndarray) -> float:
    """RMS distance of the labeled points from their centre, in pixels."""
    q = p[np.isfinite(p)]
    if q.size < 2:
        return 0.0
    return float(np.sqrt(np.mean(np.abs(q - q.mean()) ** 2)))


def _mst(ref: np.ndarray) -> list[tuple[int, int]]:
    """Minimum spanning tree (Prim) over the model's points: a skeleton when none is given."""
    idx = [i for i in range(len(ref)) if np.isfinite(ref[i])]
    if len(idx) < 2:
        return []
    done, edges = {idx[0]}, []
    while len(done) < len(idx):
        best = min(
            ((abs(ref[a] - ref[b]), a, b) for a in done for b in idx if b not in done),
            key=lambda t: t[0],
        )
        edges.append((best[1], best[2]))
        done.add(best[2])
    return edges


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
                            round(float(dist), 2),
                            f"{_name(ind, bp)} at ({x:.1f}, {y:.1f}) is outside the "
                            f"{w}x{h} image (DeepLabCut drops it)",
                        )
                    )


def _duplicates(group: _Group, X: np.ndarray, s: QCSettings, out: list[Finding]) -> None:
    K = len(group.parts)
    sizes = np.array([_size(p) for p in X])
    with np.errstate(invalid="ignore"):
        typical = np.full((K, K), np.nan)
        for a in range(K):
            for b in range(a + 1, K):
                d = np.abs(X[:, a] - X[:, b]) / np.where(sizes > 0, sizes, np.nan)
                if np.isfinite(d).any():
                    typical[a, b] = typical[b, a] = np.nanmedian(d)
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
                out.append(
                    Finding(
                        "duplicate",
                        pose.folder,
                        pose.image,
                        pose.individual,
                        (group.parts[a], group.parts[b]),
                        round(float(usual / max(d, 0.1)), 2),
                        f"{group.parts[a]} and {group.parts[b]} are {d:.1f} px apart "
                        f"(usually {usual:.0f} px): one is labeled twice",
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
                            float(same.sum()),
                            f"{ia} and {ib} share {len(parts)} point(s) ({', '.join(parts)}): "
                            "one animal labeled twice?",
                        )
                    )


def _leftovers(group: _Group, X: np.ndarray, s: QCSettings, out: list[Finding]) -> None:
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
        for k in np.flatnonzero(both & (move <= s.leftover_px)):
            others = both.copy()
            others[k] = False
            if not others.any():
                continue
            moved = float(np.median(move[others]))
            if moved < max(s.leftover_moved_px, s.leftover_moved * size):
                continue
            bp = group.parts[k]
            out.append(
                Finding(
                    "leftover",
                    pose.folder,
                    pose.image,
                    pose.individual,
                    (bp,),
                    round(moved / max(size, 1e-6), 3),
                    f"{_name(pose.individual, bp)} is exactly where it was in "
                    f"{group.poses[j].image} while the other points moved {moved:.0f} px",
                )
            )


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
                        round(gain, 2),
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
                    round(float(zs[k]), 2),
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
                    round(float(zs), 2),
                    f"edge {group.parts[a]}-{group.parts[b]} is {ratio:.1f}x its usual length "
                    f"and turned {turn:.0f} degrees ({dev[i]:.2f} body sizes off)",
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
                        round(d / max(size, 1e-6), 3),
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
        By kind (in :data:`KINDS` order), then most suspicious first.

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
    for gname, group in _groups(tables).items():
        X = group.array()
        index = {(p.folder, p.image, p.individual): i for i, p in enumerate(group.poses)}
        Xo = X.copy()  # without the points outside the image
        for f in outside:
            i = index.get((f.folder, f.image, f.individual))
            if i is not None and f.bodyparts[0] in group.parts:
                Xo[i, group.parts.index(f.bodyparts[0])] = np.nan + 0j
        before = len(out)
        if "duplicate" in want:
            _duplicates(group, Xo, s, out)
        if "leftover" in want:
            _leftovers(group, Xo, s, out)
        if "missing" in want:
            _missing(group, X, s, out)
        shape_kinds = {"swap", "misplaced", "skeleton"} & set(want)
        labeled = int((np.isfinite(X).sum(axis=1) >= 3).sum())
        if not shape_kinds or labeled < s.min_poses or len(group.parts) < 3:
            continue
        # points already explained (outside, duplicate, leftover) do not feed the shape checks
        busy: set[tuple[int, int]] = set()
        Xs = X.copy()
        for f in [*outside, *out[before:]]:
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
        skeleton = list(project.skeleton) if gname == "animal" else []
        found: list[Finding] = []
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
    order = {k: n for n, k in enumerate(KINDS)}
    out.sort(key=lambda f: (order[f.kind], -f.score, f.folder, f.image))
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


def format_findings(findings: Sequence[Finding], width: int | None = None) -> str:
    """The findings as a plain-text table (one line each), with a count per kind.

    Names come from the label files, so each cell is shortened: a damaged file's 200,000-
    character image name gives a line of a few hundred characters, not a screenful.
    """
    if not findings:
        return "no findings"
    lines = [f"{'kind':<10} {'folder/image':<32} {'body parts':<24} {'score':>7}  reason"]
    for f in findings:
        who = "+".join(f.bodyparts)
        if f.individual:
            who = f"{f.individual}:{who}"
        place = shorten(f.folder + "/" + f.image, 120)
        line = (
            f"{f.kind:<10} {place:<32} {shorten(who, 80):<24} {f.score:>7.2f}  "
            f"{shorten(f.reason, 2 * MAX_QUOTED)}"
        )
        lines.append(line if width is None or len(line) <= width else line[: width - 3] + "...")
    counts: dict[str, int] = {}
    for f in findings:
        counts[f.kind] = counts.get(f.kind, 0) + 1
    lines.append(f"{len(findings)} findings: " + ", ".join(f"{k} {n}" for k, n in counts.items()))
    return "\n".join(lines)


def findings_csv(findings: Sequence[Finding]) -> str:
    """The findings as CSV text (header ``kind,folder,image,individual,bodyparts,score,reason,
    key``; body parts joined with ``+``)."""
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(_CSV_FIELDS)
    for f in findings:
        w.writerow(
            [
                f.kind,
                f.folder,
                f.image,
                f.individual,
                "+".join(f.bodyparts),
                f.score,
                f.reason,
                f.key,
            ]
        )
    return buf.getvalue()
