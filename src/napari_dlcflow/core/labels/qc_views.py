"""Views of one image for label QC: a mirror (top and bottom) or tiled cameras hold one animal
several times, and each view has its own geometry (a mirror view is a reflection, another
camera another projection). Label QC checks each view apart.

Views come from the sidecar (``label_qc: {views: {top: [parts...], bot: [parts...]}}``) or
from the body-part names, when every part says its view: a suffix ``_top``, ``_bot``,
``_bottom``, ``_side``, ``_front``, ``_back``, ``_left``, ``_right``, ``_cam1``, ``_view2``
or a prefix ``cam1_``, ``camA_``, ``view2_``, ``top_``... (any of ``_ - .`` as separator).
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence

import numpy as np

__all__ = ["counterparts", "split_views", "view_disagreements", "views_from_names"]

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
