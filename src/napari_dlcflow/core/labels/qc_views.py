"""Views of one image for label QC: a mirror (top and bottom) or tiled cameras hold one animal
several times, and each view has its own geometry (a mirror view is a reflection, another
camera another projection). Label QC checks each view apart.

Views come from the sidecar (``label_qc: {views: {top: [parts...], bot: [parts...]}}``) or
from the body-part names, when every part says its view: a suffix ``_top``, ``_bot``,
``_bottom``, ``_side``, ``_front``, ``_back``, ``_left``, ``_right``, ``_cam1``, ``_view2``
or a prefix ``cam1_``, ``camA_``, ``view2_``, ``top_``... (any of ``_ - .`` as separator).

When neither says (parts named ``p1..p17``), views are found from the positions
(:func:`views_from_positions`): groups of at least three parts that one fixed straight line (a
mirror edge, a tile border; the same in every image) separates in at least 97 % of the images,
with a clear margin. A freely moving animal turns, so no fixed line keeps its head parts apart
from its tail parts. ``label_qc: {views: {}}`` in the sidecar turns this off.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence

import numpy as np

__all__ = [
    "counterparts",
    "found_views",
    "split_views",
    "view_disagreements",
    "views_from_names",
    "views_from_positions",
    "views_note",
]

_WORD = r"top|bot|bottom|side|front|back|left|right|up|down|mirror|main"
_NUMBERED = r"cam(?:era)?[ _]?\w|view[ _]?\w"
_SUFFIX = re.compile(rf"^(?P<base>.+?)[_\-.](?P<view>{_WORD}|{_NUMBERED})$", re.IGNORECASE)
_PREFIX = re.compile(rf"^(?P<view>{_WORD}|{_NUMBERED})[_\-.](?P<base>.+)$", re.IGNORECASE)
_SAME = {"bottom": "bot"}


def _view_of(part: str) -> tuple[str, str] | None:
    """``(view, base name)`` of a part whose name says its view, else None."""
    for rx in (_SUFFIX, _PREFIX):
        m = rx.match(part)
        if m:
            view = m.group("view").lower().replace(" ", "").replace("_", "")
            return _SAME.get(view, view), m.group("base").lower()
    return None


def views_from_names(parts: Sequence[str], min_parts: int = 2) -> dict[str, list[str]]:
    """Views of ``parts`` when their names say them, else ``{}`` (one view).

    Every part must carry a view, there must be at least two views of at least ``min_parts``
    parts each, and at least two base names must occur in more than one view (``nose_top``
    and ``nose_bot``): so ``ear_left``/``ear_right`` beside ``nose`` stay one view. Views
    named only ``left`` and ``right`` need three parts each, all in both views (two pairs such
    as ``ear_left``, ``ear_right``, ``paw_left``, ``paw_right`` are sides, not views).

    Examples
    --------
    >>> views_from_names(["nose_top", "tail_top", "nose_bot", "tail_bot"])
    {'top': ['nose_top', 'tail_top'], 'bot': ['nose_bot', 'tail_bot']}
    >>> views_from_names(["nose", "ear_left", "ear_right"])
    {}
    """
    found = [_view_of(p) for p in parts]
    if not parts or any(v is None for v in found):
        return {}
    views: dict[str, list[str]] = {}
    bases: dict[str, set[str]] = {}
    for part, vb in zip(parts, found, strict=True):
        assert vb is not None
        views.setdefault(vb[0], []).append(part)
        bases.setdefault(vb[1], set()).add(vb[0])
    shared = sum(len(v) > 1 for v in bases.values())
    # left/right also name the sides of one animal (ear_left, ear_right): ask for more
    sides = set(views) <= {"left", "right"}
    need = max(min_parts, 3) if sides else min_parts
    if len(views) < 2 or min(len(v) for v in views.values()) < need or shared < need:
        return {}
    return views


def split_views(
    parts: Sequence[str], declared: Mapping[str, Sequence[str]] | None = None
) -> dict[str, list[str]]:
    """The views of ``parts``: ``declared`` ones (parts not named there form a view ``""``),
    else those found from the names, else ``{"": parts}`` (one view).

    Examples
    --------
    >>> split_views(["a", "b", "c"], {"left": ["a", "b"]})
    {'left': ['a', 'b'], '': ['c']}
    """
    if declared:
        out: dict[str, list[str]] = {}
        seen: set[str] = set()
        for view, members in declared.items():
            keep = [p for p in parts if p in set(map(str, members)) and p not in seen]
            if keep:
                out[str(view)] = keep
                seen.update(keep)
        rest = [p for p in parts if p not in seen]
        if rest:
            out[""] = rest
        return out
    return views_from_names(parts) or {"": list(parts)}


def _spacing(X: np.ndarray, groups: Sequence[Sequence[int]]) -> float:
    """Median distance from each labeled point to the nearest other labeled point of its
    group in the same image (the scale of a view)."""
    near: list[np.ndarray] = []
    for cols in groups:
        Z = X[:, list(cols)]
        D = np.abs(Z[:, :, None] - Z[:, None, :])
        k = np.arange(Z.shape[1])
        D[:, k, k] = np.inf
        m = np.min(np.where(np.isfinite(D), D, np.inf), axis=2)
        near.append(m[np.isfinite(m)])
    pooled = np.concatenate(near) if near else np.zeros(0)
    return float(np.median(pooled)) if pooled.size else float("nan")


def _best_split(
    X: np.ndarray,
    cols: Sequence[int],
    min_parts: int,
    agree: float,
    margin: float,
    angles: int,
    min_images: int,
) -> tuple[list[int], list[int], float] | None:
    """The two groups of ``cols`` best separated by one fixed line, with their margin (the
    median gap between them along the line's normal over the typical spacing of a group's
    parts), or None when no line separates two groups of ``min_parts`` in ``agree`` of the
    images (at least ``min_images``) with at least ``margin``."""
    k = len(cols)
    if k < 2 * min_parts:
        return None
    Z = X[:, list(cols)]
    theta = np.arange(angles) * np.pi / angles
    with np.errstate(invalid="ignore"):
        P = (Z[None] * np.exp(-1j * theta)[:, None, None]).real  # (angle, image, part)
        P[:, ~np.isfinite(Z)] = np.nan
    # parts along each normal, by their median place (coordinate-wise: one median, not 36)
    centre = np.nanmedian(Z.real, axis=0) + 1j * np.nanmedian(Z.imag, axis=0)
    order = np.argsort((centre[None] * np.exp(-1j * theta)[:, None]).real, axis=1)
    S = np.take_along_axis(P, order[:, None, :], axis=2)
    low = np.fmax.accumulate(S, axis=2)  # the highest point of the parts below, per image
    high = np.fmin.accumulate(S[..., ::-1], axis=2)[..., ::-1]  # the lowest above
    best: tuple[list[int], list[int], float] | None = None
    for j in range(min_parts - 1, k - min_parts):
        a, b = low[:, :, j], high[:, :, j + 1]  # (angle, image)
        both = np.isfinite(a) & np.isfinite(b)
        n = both.sum(axis=1)
        apart = (both & (a < b)).sum(axis=1)
        for t in np.flatnonzero((n >= min_images) & (apart >= agree * np.maximum(n, 1))):
            ok = both[t] & (a[t] < b[t])
            sa, sb = np.sort(a[t, ok]), np.sort(b[t, ok])
            # images the line just above each candidate separates: a <= c < b
            inside = np.searchsorted(sa, sa, "right") - np.searchsorted(sb, sa, "right")
            if inside.max() < agree * n[t]:
                continue
            c = sa[int(np.argmax(inside))]
            sep = ok & (a[t] <= c) & (b[t] > c)
            below = [cols[q] for q in order[t, : j + 1]]
            above = [cols[q] for q in order[t, j + 1 :]]
            gap = float(np.median(b[t, sep] - a[t, sep]))
            ratio = gap / max(_spacing(X, [below, above]), 1e-9)
            if ratio >= margin and (best is None or ratio > best[2]):
                best = (below, above, ratio)
    return best


def views_from_positions(
    X: np.ndarray,
    parts: Sequence[str],
    *,
    min_parts: int = 3,
    agree: float = 0.97,
    margin: float = 1.5,
    angles: int = 36,
    min_images: int = 20,
) -> dict[str, list[str]]:
    """Views found from where the parts are: groups that one fixed line separates.

    A mirror edge or the border between tiled cameras is one straight line, the same in every
    image, with one view on each side. For each of ``angles`` directions the parts are
    ordered along the line's normal; a split into two groups of at least ``min_parts`` parts
    is a view border when one fixed line has the first group on one side and the second on
    the other in at least ``agree`` of the images where both groups are labeled (at least
    ``min_images``), and the median gap between the groups across that line is at least
    ``margin`` times the typical spacing of a group's parts (median distance of a point to
    the nearest point of its group). The widest such split wins and each side is split again
    (tiled cameras). A freely moving animal turns, so no fixed line keeps some of its parts
    apart from the others.

    Parameters
    ----------
    X : ndarray of shape (poses, parts), complex
        The poses (NaN where unlabeled).
    parts : sequence of str
        The parts, in the columns of ``X``.
    min_parts, agree, margin, angles, min_images
        The rule above.

    Returns
    -------
    dict
        ``{"A": [parts...], "B": [...]}`` in the order of the split (parts labeled in fewer
        than ``min_images`` images are left out), or ``{}`` (one view).
    """
    X = np.asarray(X, dtype=complex)
    cols = [k for k in range(len(parts)) if np.isfinite(X[:, k]).sum() >= min_images]
    todo, done = [cols], []
    while todo:
        g = todo.pop(0)
        split = _best_split(X, g, min_parts, agree, margin, angles, min_images)
        if split is None:
            done.append(g)
        else:
            todo[:0] = [split[0], split[1]]
    if len(done) < 2:
        return {}
    names = [chr(ord("A") + n) if n < 26 else f"V{n + 1}" for n in range(len(done))]
    return {name: [parts[k] for k in sorted(g)] for name, g in zip(names, done, strict=True)}


def found_views(
    X: np.ndarray, parts: Sequence[str], declared: Mapping[str, Sequence[str]] | None
) -> dict[str, list[str]]:
    """Views found from the positions (:func:`views_from_positions`) when the sidecar does
    not say (``declared`` is None; an empty mapping turns the search off) and the names say
    none; else ``{}``. Found views are then used as declared ones (:func:`split_views`)."""
    if declared is not None or views_from_names(parts):
        return {}
    return views_from_positions(X, parts)


def views_note(views: Mapping[str, Sequence[str]]) -> str:
    """The line that tells the user views were found from the positions.

    Examples
    --------
    >>> views_note({"A": ["p1", "p2", "p3"], "B": ["p4", "p5", "p6"]}).split("; ")[0]
    'views found from the positions: {A: [p1, p2, p3], B: [p4, p5, p6]}'
    """
    inner = ", ".join(f"{v}: [{', '.join(map(str, ps))}]" for v, ps in views.items())
    return (
        f"views found from the positions: {{{inner}}}; "
        "confirm or set them in dlcflow.yaml label_qc: views"
    )


def counterparts(views: Mapping[str, Sequence[str]]) -> dict[str, list[str]]:
    """For each part, the same part in the other views, when the names say it
    (``nose_top`` -> ``["nose_bot"]``); parts of declared views without such names have none.

    Examples
    --------
    >>> counterparts({"top": ["nose_top", "obs_top"], "bot": ["nose_bot"]})
    {'nose_top': ['nose_bot'], 'obs_top': [], 'nose_bot': ['nose_top']}
    """
    base: dict[str, tuple[str, str] | None] = {
        p: _view_of(p) for members in views.values() for p in members
    }
    out: dict[str, list[str]] = {}
    for p, vb in base.items():
        out[p] = [
            q
            for q, wb in base.items()
            if vb and wb and q != p and wb[1] == vb[1] and wb[0] != vb[0]
        ]
    return out


def _line_fit(A: np.ndarray) -> np.ndarray:
    """Unit ``w`` minimising ``|A w|`` over the columns of ``A`` (the last right singular
    vector)."""
    return np.linalg.svd(A, full_matrices=False)[2][-1]


def view_disagreements(
    X: np.ndarray, parts: Sequence[str], views: Mapping[str, Sequence[str]], z_min: float
) -> list[tuple[int, str, str, float, float]]:
    """Poses where the two views of one part do not correspond.

    Two views of one scene (a mirror, two cameras) relate every point of one view to a line
    in the other (epipolar geometry; affine cameras: ``a x2 + b y2 + c x1 + d y1 + e = 0``).
    The relation is fitted robustly to all pairs of same-named parts of all poses; a pair far
    from it (robust z at least ``z_min``) has one of its two points misplaced.

    Parameters
    ----------
    X : ndarray of shape (poses, parts), complex
        The poses (NaN where unlabeled).
    parts : sequence of str
        The parts, in the columns of ``X``.
    views : mapping
        The views (``split_views``); counterparts come from the names.
    z_min : float
        Robust z of the distance from the relation to report.

    Returns
    -------
    list of (pose, part, counterpart, distance in px, z)
    """
    other = counterparts(views)
    names = list(views)
    out: list[tuple[int, str, str, float, float]] = []
    for u in range(len(names)):
        for v in range(u + 1, len(names)):
            pairs = [
                (parts.index(a), parts.index(b))
                for a in views[names[u]]
                for b in other.get(a, [])
                if b in views[names[v]]
            ]
            if len(pairs) < 3:
                continue
            rows, p1, p2 = [], [], []
            for i in range(X.shape[0]):
                for ka, kb in pairs:
                    if np.isfinite(X[i, ka]) and np.isfinite(X[i, kb]):
                        rows.append((i, ka, kb))
                        p1.append(X[i, ka])
                        p2.append(X[i, kb])
            if len(rows) < 12:
                continue
            a, b = np.array(p1), np.array(p2)
            centre = np.concatenate([a, b]).mean()
            scale = float(np.sqrt(np.mean(np.abs(np.concatenate([a, b]) - centre) ** 2))) or 1.0
            na, nb = (a - centre) / scale, (b - centre) / scale
            A = np.column_stack([nb.real, nb.imag, na.real, na.imag, np.ones(len(na))])
            keep = np.ones(len(A), bool)
            for _ in range(3):  # fit, drop the far pairs, fit again
                w = _line_fit(A[keep])
                r = np.abs(A @ w) / max(float(np.linalg.norm(w[:4])), 1e-12) * scale
                med = float(np.median(r[keep]))
                mad = max(1.4826 * float(np.median(np.abs(r[keep] - med))), 0.5)
                keep = r <= med + 3 * mad
            # each part has its own precision (a tail point is vaguer than a nose): z per pair
            which = np.array([pairs.index((ka, kb)) for _, ka, kb in rows])
            z = np.full(len(r), -np.inf)
            for j in range(len(pairs)):
                sel = which == j
                if sel.sum() < 5:
                    continue
                pm = float(np.median(r[sel]))
                ps = max(1.4826 * float(np.median(np.abs(r[sel] - pm))), 0.5, 0.5 * mad)
                z[sel] = (r[sel] - pm) / ps
            for n in np.flatnonzero(z >= z_min):
                i, ka, kb = rows[n]
                out.append((i, parts[ka], parts[kb], float(r[n]), float(z[n])))
    return out
