"""Image evidence for label QC: what the pixels under a label say.

Geometry cannot tell a planted leg from a point left behind, nor a tail base moved along the
body from a long mouse; the image can:

- :func:`leftover_evidence`: a leftover (a point identical to the previous labeled image's) is
  decided by the patch under it. Changed between the two images as much as the patches the
  animal's other parts moved away from: the part moved away (a likely mistake); unchanged as
  much as the patches that followed their part: the part stayed (a note).
- :func:`appearance_scores`: a rotation-invariant descriptor of the patch at each labeled point
  (mean and spread of the intensity in four rings out to twice the patch radius, which is
  scaled to the part spacing; normalised by the image's level and contrast) and, per body
  part, how atypical a point's descriptor is among that part's over the project (distance to
  its third nearest, over the median distance; in units of the group's 90th percentile).
- :func:`weigh_shape`: that appearance combined with the geometric score of ``misplaced`` and
  ``skeleton`` findings (a doubtful point that does not look like its part becomes a likely
  mistake).
- :func:`scene_appearance`: scene points (a joystick, an obstacle: objects that look the same
  in every image) that do not look like themselves are ``misplaced`` on the image alone.

Images are read once each (grayscale, 8 bit) into a small cache shared by the checks and kept
between runs (keyed by path, modification time and size); an image that cannot be read gives
no evidence (the geometry decides alone).
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import replace
from functools import lru_cache
from pathlib import Path

import numpy as np

from napari_dlcflow.core.labels.qc_checks import point_name
from napari_dlcflow.core.labels.qc_finding import Finding, QCSettings
from napari_dlcflow.core.labels.qc_shape import Group as _Group

__all__ = [
    "Images",
    "appearance_scores",
    "leftover_evidence",
    "part_radius",
    "scene_appearance",
    "weigh_shape",
]

_CACHE_BYTES = 256 * 2**20
_cache: OrderedDict[tuple[str, int, int], tuple[np.ndarray, float, float]] = OrderedDict()
_cache_bytes = 0  # the images' bytes held in _cache
_DESCRIBED_MAX = 500_000
_described: dict[tuple, np.ndarray] = {}


def _key(path: Path) -> tuple[str, int, int] | None:
    try:
        st = path.stat()
    except OSError:
        return None
    return (str(path.resolve()), st.st_mtime_ns, st.st_size)


def _read(key: tuple[str, int, int]) -> tuple[np.ndarray, float, float] | None:
    """The image ``key`` names in 8-bit grayscale, its median and robust contrast (cached)."""
    from PIL import Image, UnidentifiedImageError

    hit = _cache.get(key)
    if hit is not None:
        _cache.move_to_end(key)
        return hit
    try:
        with Image.open(key[0]) as im:
            arr = np.asarray(im.convert("L"))
    except (OSError, UnidentifiedImageError, ValueError):
        return None
    sample = arr[::4, ::4].astype(np.float32)
    med = float(np.median(sample))
    q25, q75 = np.percentile(sample, [25, 75])
    scale = max(float(q75 - q25) / 1.349, float(sample.std()) * 0.25, 1.0)
    global _cache_bytes
    _cache[key] = (arr, med, scale)
    _cache_bytes += arr.nbytes
    while _cache_bytes > _CACHE_BYTES and len(_cache) > 1:  # the least recently used go
        _cache_bytes -= _cache.popitem(last=False)[1][0].nbytes
    return _cache[key]


class Images:
    """The images of a project's labeled folders, read on demand.

    Parameters
    ----------
    folders : sequence of Path
        The ``labeled-data`` folders (images are ``folder / image``).
    """

    def __init__(self, folders: Sequence[Path]) -> None:
        self.folders = {f.name: f for f in folders}

    def key(self, folder: str, image: str) -> tuple[str, int, int] | None:
        """The image's path, modification time and size (None if it is not there)."""
        base = self.folders.get(folder)
        return None if base is None else _key(base / image)

    def get(self, folder: str, image: str) -> tuple[np.ndarray, float, float] | None:
        """``(gray, level, contrast)`` of one image, or None if it cannot be read."""
        key = self.key(folder, image)
        return None if key is None else _read(key)

    def describe(self, folder: str, image: str, p: np.ndarray) -> np.ndarray | None:
        """Ring descriptors ``(K, 2 * rings)`` of the points ``p`` (complex, nan: none) of one
        pose in one image (cached: a check run again after an edit reuses them), or None if
        the image cannot be read."""
        key = self.key(folder, image)
        if key is None:
            return None
        R = round(part_radius(p), 2)
        out = np.full((len(p), 2 * _RINGS), np.nan)
        img = None
        for k in np.flatnonzero(np.isfinite(p)):
            c = complex(p[k])
            dkey = (key, round(c.real, 2), round(c.imag, 2), R)
            d = _described.get(dkey)
            if d is None:
                img = img or _read(key)
                if img is None:
                    return None
                d = _describe(img, c, R)
                if len(_described) >= _DESCRIBED_MAX:
                    _described.clear()
                _described[dkey] = d
            out[k] = d
        return out


def part_radius(p: np.ndarray) -> float:
    """Patch radius for a pose ``p`` (complex, nan where unlabeled): half the median distance
    from each labeled point to its nearest neighbour, between 3 and 30 px."""
    q = p[np.isfinite(p)]
    if q.size < 2:
        return 3.0
    d = np.abs(q[:, None] - q[None, :])
    d[np.diag_indices_from(d)] = np.inf
    nn = d.min(axis=1)
    nn = nn[nn > 0.5]
    if nn.size == 0:
        return 3.0
    return float(np.clip(0.5 * np.median(nn), 3.0, 30.0))


def _patch(img: np.ndarray, c: complex, r: int) -> np.ndarray:
    """The ``(2r+1)^2`` patch of ``img`` centred on ``c`` (float, nan outside the image)."""
    h, w = img.shape
    x, y = round(c.real), round(c.imag)
    out = np.full((2 * r + 1, 2 * r + 1), np.nan, dtype=np.float32)
    x0, x1, y0, y1 = max(x - r, 0), min(x + r + 1, w), max(y - r, 0), min(y + r + 1, h)
    if x0 >= x1 or y0 >= y1:
        return out
    out[y0 - (y - r) : y1 - (y - r), x0 - (x - r) : x1 - (x - r)] = img[y0:y1, x0:x1]
    return out


@lru_cache(maxsize=128)
def _ring_labels(r: int, rings: int) -> np.ndarray:
    """Ring number (0 at the centre) of each pixel of a ``(2r+1)^2`` patch, -1 outside."""
    yy, xx = np.mgrid[-r : r + 1, -r : r + 1]
    d = np.hypot(xx, yy).ravel()
    lab = np.minimum((d / (r + 0.5) * rings).astype(int), rings)
    lab[lab >= rings] = -1
    return lab


_RINGS = 4  # rings of the descriptor, out to _REACH patch radii
_REACH = 2.0
_KNN = 3  # a descriptor is compared with its _KNN-th nearest of the same part


def _describe(img: tuple[np.ndarray, float, float], c: complex, R: float) -> np.ndarray:
    """Mean and spread of each ring around ``c`` (normalised by the image's level, contrast)."""
    arr, med, scale = img
    r = max(round(_REACH * R), 3)
    patch = ((_patch(arr, c, r) - med) / scale).ravel()
    lab = _ring_labels(r, _RINGS)
    ok = np.isfinite(patch) & (lab >= 0)
    n = np.bincount(lab[ok], minlength=_RINGS).astype(float)
    s1 = np.bincount(lab[ok], patch[ok], minlength=_RINGS)
    s2 = np.bincount(lab[ok], np.square(patch[ok]), minlength=_RINGS)
    with np.errstate(invalid="ignore", divide="ignore"):
        mean = s1 / n
        std = np.sqrt(np.maximum(s2 / n - np.square(mean), 0.0))
    out = np.concatenate([mean, std])
    out[np.concatenate([n, n]) < 3] = np.nan
    return out


_BLOCK = 256  # rows of the distance matrix computed at a time (memory: _BLOCK x N floats)
_SAMPLE = 512  # at most this many rows give the median distance between two descriptors


def _atypical(F: np.ndarray) -> np.ndarray:
    """Per row of ``F`` (descriptors of one part, leave-one-out): the distance to its
    ``_KNN``-th nearest other row (features in robust z units), over the median distance
    between two rows.

    The distances are computed :data:`_BLOCK` rows at a time (a project of 4,000 animals is
    4,000 x 4,000 distances, never 4,000 x 4,000 x features); the median comes from every
    row up to :data:`_SAMPLE` rows, else from evenly spaced rows.
    """
    med = np.median(F, axis=0)
    mad = 1.4826 * np.median(np.abs(F - med), axis=0)
    spread = np.maximum(mad, 0.05 + 0.05 * np.abs(med))
    Z = np.clip((F - med) / spread, -10.0, 10.0)
    n, n_features = Z.shape
    k = min(_KNN, n - 1)
    sq = np.square(Z).sum(axis=1)
    step = max(1, -(-n // _SAMPLE))
    dk = np.empty(n)
    sample: list[np.ndarray] = []
    for lo in range(0, n, _BLOCK):
        rows = np.arange(lo, min(lo + _BLOCK, n))
        d2 = sq[rows, None] + sq[None, :] - 2.0 * (Z[rows] @ Z.T)
        d = np.sqrt(np.maximum(d2, 0.0) / n_features)
        d[np.arange(len(rows)), rows] = np.inf
        dk[rows] = np.partition(d, k - 1, axis=1)[:, k - 1]
        sample.append(d[rows % step == 0].ravel())
    pairs = np.concatenate(sample)
    # over the median distance between two descriptors of the part (not the median of dk:
    # a project with repeated images has many identical descriptors)
    return dk / max(float(np.median(pairs[np.isfinite(pairs)])), 1e-6)


def appearance_scores(group: _Group, X: np.ndarray, images: Images) -> np.ndarray:
    """How atypical the image under each point is for its body part.

    Parameters
    ----------
    group : Group
        The poses (their folders and images).
    X : ndarray
        ``(N, K)`` complex points (nan: unlabeled or not to be used).
    images : Images
        Where to read the images.

    Returns
    -------
    ndarray
        ``(N, K)``: the point's ring descriptor's distance to its nearest descriptors of the
        same part over the project, over the typical such distance (nan where there is no
        image, no point, or fewer than 8 points of that part).
    """
    N, K = X.shape
    D = np.full((N, K, 2 * _RINGS), np.nan)
    for i, pose in enumerate(group.poses):
        p = X[i]
        if not np.isfinite(p).any():
            continue
        d = images.describe(pose.folder, pose.image, p)
        if d is not None:
            D[i] = d
    out = np.full((N, K), np.nan)
    for k in range(K):
        F = D[:, k]
        ok = np.isfinite(F).all(axis=1)
        if ok.sum() < 8:
            continue
        out[ok, k] = _atypical(F[ok])
    if np.isfinite(out).sum() >= 8:  # in units of the group's 90th percentile
        out /= max(float(np.nanquantile(out, 0.9)), 1e-6)
    return out


def _change(
    a: tuple[np.ndarray, float, float],
    b: tuple[np.ndarray, float, float],
    pa: complex,
    pb: complex,
    r: int,
) -> float:
    """Mean absolute difference of the patch at ``pa`` in ``a`` and at ``pb`` in ``b``, in
    units of the images' contrast."""
    u = (_patch(a[0], pa, r) - a[1]) / a[2]
    v = (_patch(b[0], pb, r) - b[1]) / b[2]
    d = np.abs(u - v)
    d = d[np.isfinite(d)]
    return float(d.mean()) if d.size >= 5 else float("nan")


def leftover_evidence(
    out: list[Finding],
    start: int,
    group: _Group,
    X: np.ndarray,
    images: Images,
    s: QCSettings,
) -> set[int]:
    """Decide the leftovers of ``out[start:]`` (of ``group``'s parts) from the image.

    The patch under the carried point is compared between the previous labeled image and
    this one, against the patches of the animal's other points that moved more than the patch
    radius: at the same spot (what a part moving away does to a patch) and following their
    part (what stays the same). Nearer the first: a likely mistake; nearer the second: a note.

    Returns
    -------
    set of int
        The indices into ``out`` that the image decided (the shape-plausibility rule leaves
        them alone).
    """
    rows = [n for n in range(start, len(out)) if out[n].kind == "leftover"]
    if not rows:
        return set()
    index = {(p.folder, p.image, p.individual): i for i, p in enumerate(group.poses)}
    prev: dict[int, int] = {}
    last: dict[tuple[str, str], int] = {}
    for i, pose in enumerate(group.poses):
        key = (pose.folder, pose.individual)
        if key in last:
            prev[i] = last[key]
        last[key] = i
    decided: set[int] = set()
    for n in rows:
        f = out[n]
        i = index.get((f.folder, f.image, f.individual))
        if i is None or i not in prev or f.bodyparts[0] not in group.parts:
            continue
        if "stays put in the image" in f.reason:  # a fixed part: the geometry said so
            continue
        j = prev[i]
        k = group.parts.index(f.bodyparts[0])
        a = images.get(group.poses[j].folder, group.poses[j].image)
        b = images.get(f.folder, f.image)
        if a is None or b is None:
            continue
        p, q = X[i], X[j]
        R = part_radius(q)
        r = max(round(R * s.leftover_radius), 3)
        both = np.isfinite(p) & np.isfinite(q)
        both[k] = False
        moved = both & (np.abs(p - q) > R)
        if moved.sum() < 2:
            continue
        away = np.nanmedian([_change(a, b, q[o], q[o], r) for o in np.flatnonzero(moved)])
        same = np.nanmedian([_change(a, b, q[o], p[o], r) for o in np.flatnonzero(moved)])
        here = _change(a, b, q[k], p[k], r)
        if not np.isfinite([away, same, here]).all() or away < s.leftover_contrast * same:
            continue  # the parts' patches do not change when they move: nothing to tell
        u = (here - same) / (away - same)
        if u >= s.leftover_changed and here >= s.leftover_contrast * same:
            decided.add(n)
            out[n] = replace(
                f,
                score=max(f.score, 1.0),
                reason=f"{f.reason}, and the image under it changed: the part moved away",
            )
        elif here <= s.leftover_still * same:
            decided.add(n)
            out[n] = replace(
                f,
                score=min(f.score, 0.99),
                reason=f"{f.reason}, but the image under it is unchanged: the part stayed",
            )
    return decided


def weigh_shape(
    strong: list[Finding],
    weak: list[Finding],
    group: _Group,
    A: np.ndarray,
    s: QCSettings,
) -> list[Finding]:
    """Combine the geometry of ``misplaced`` and ``skeleton`` findings with the appearance.

    Parameters
    ----------
    strong : list of Finding
        Shape findings at the usual thresholds.
    weak : list of Finding
        Shape findings at the lower thresholds (``appearance_geo``); those on a point that a
        finding of ``strong`` names are left out.
    group : Group
        The poses.
    A : ndarray
        ``(N, K)`` appearance scores (:func:`appearance_scores`).
    s : QCSettings
        Thresholds.

    Returns
    -------
    list of Finding
        ``strong`` (a weak geometric outlier whose image looks typical is a note) and the weak
        findings whose point does not look like its part in other images (likely mistakes).
    """
    index = {(p.folder, p.image, p.individual): i for i, p in enumerate(group.poses)}

    def look(f: Finding) -> tuple[float, str]:
        i = index.get((f.folder, f.image, f.individual))
        if i is None:
            return float("nan"), ""
        vals = [(A[i, group.parts.index(bp)], bp) for bp in f.bodyparts if bp in group.parts]
        vals = [(v, bp) for v, bp in vals if np.isfinite(v)]
        if not vals:
            return float("nan"), ""
        return max(vals)

    out: list[Finding] = []
    doubtful: list[Finding] = []
    for f in strong:
        a, bp = look(f)
        if f.kind in ("misplaced", "skeleton") and f.score < 1.0:
            doubtful.append(f)
            continue
        if (
            f.kind in ("misplaced", "skeleton")
            and np.isfinite(a)
            and a < s.appearance_typical
            and f.score < s.appearance_keep
        ):
            f = replace(
                f,
                score=min(f.score, 0.99),
                reason=f"{f.reason}; the image under it looks like {bp} in other images",
            )
        out.append(f)
    told = {(f.folder, f.image, f.individual, bp) for f in strong for bp in f.bodyparts}
    weak = [
        f
        for f in weak
        if not any((f.folder, f.image, f.individual, bp) in told for bp in f.bodyparts)
    ]
    weak.sort(key=lambda f: f.kind != "misplaced")  # a point before an edge that has it
    for f in [*doubtful, *weak]:
        if f not in doubtful and any(
            (f.folder, f.image, f.individual, bp) in told for bp in f.bodyparts
        ):
            continue  # a point already promoted (by its misplaced finding)
        a, bp = look(f)
        if f.kind not in ("misplaced", "skeleton") or not np.isfinite(a):
            if f in doubtful:
                out.append(f)
            continue
        evidence = a / s.appearance_atypical
        if evidence < 1.0:
            if f in doubtful:
                out.append(f)
            continue
        told.update((f.folder, f.image, f.individual, b) for b in f.bodyparts)
        out.append(
            replace(
                f,
                score=round(float(evidence), 2),
                reason=f"{f.reason}, and the image under it does not look like {bp} in "
                "other images",
            )
        )
    return out


def scene_appearance(
    scene: _Group, X: np.ndarray, images: Images, s: QCSettings, out: list[Finding]
) -> None:
    """Scene points (an obstacle, a joystick: objects that look the same in every image)
    whose image does not look like that part elsewhere (appearance over
    ``appearance_scene``): ``misplaced``, unless a finding already names the point."""
    if not scene.poses:
        return
    A = appearance_scores(scene, X, images)
    told = {(f.folder, f.image, f.individual, bp) for f in out for bp in f.bodyparts}
    for i, pose in enumerate(scene.poses):
        for k in np.flatnonzero(np.isfinite(A[i]) & (A[i] >= s.appearance_scene)):
            bp = scene.parts[k]
            if (pose.folder, pose.image, pose.individual, bp) in told:
                continue
            name = point_name(pose.individual, bp)
            out.append(
                Finding(
                    "misplaced",
                    pose.folder,
                    pose.image,
                    pose.individual,
                    (bp,),
                    round(float(A[i, k]) / s.appearance_scene, 2),
                    f"the image under {name} does not look like {bp} in other images "
                    f"({A[i, k]:.1f} times the usual difference)",
                )
            )
