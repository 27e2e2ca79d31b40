"""Scene parts for label QC: labeled points that do not move with the animal (an obstacle on a
belt, a lever, a joystick). They are taken out of the animal's shape model, skeleton and
leftover checks (a fixed object's identical label in consecutive images is expected) and
checked among themselves with a translation-only model: scene parts keep their offsets to each
other, whatever the animal does.

Scene parts come from the sidecar (``label_qc: {scene_parts: [joystick1, joystick2]}``) or
from the data: a part whose image position moves, relative to the median of the animal's other
parts, at least ``scene_ratio`` times as much as the typical part does (pooled over each
folder and animal, around their means) moves independently of the animal.
"""

from __future__ import annotations

import numpy as np

from napari_dlcflow.core.labels.qc_shape import Group, mad_z

__all__ = ["fixed_parts", "offset_residuals", "offsets", "residuals", "scene_from_motion"]


def _centred(group: Group, X: np.ndarray) -> np.ndarray:
    """Each point minus its mean over its track (folder and animal); NaN where unlabeled."""
    D = np.full_like(X, np.nan + 0j)
    tracks: dict[tuple[str, str], list[int]] = {}
    for i, q in enumerate(group.poses):
        tracks.setdefault((q.folder, q.individual), []).append(i)
    for rows in tracks.values():
        sub = X[rows]
        with np.errstate(invalid="ignore"):
            cnt = np.isfinite(sub).sum(axis=0)
            mean = np.where(cnt > 0, np.nansum(np.where(np.isfinite(sub), sub, 0), axis=0), 0)
            mean = mean / np.maximum(cnt, 1)
        D[rows] = sub - mean
    return D


def scene_from_motion(group: Group, X: np.ndarray, ratio: float, min_poses: int) -> list[str]:
    """Parts of ``group`` that move independently of the animal (``ratio`` times the typical).

    Parameters
    ----------
    group : Group
        The poses (their folders and animals define the tracks).
    X : ndarray
        ``(N, K)`` complex points, NaN where unlabeled.
    ratio : float
        Spread of a part (RMS around its track mean) over the spread of the median of the
        other parts, divided by the same for the typical (median) part, at and above which
        the part is a scene part.
    min_poses : int
        Poses in which the part and two others are labeled, needed to decide.

    Returns
    -------
    list of str
        The scene parts (none when the animal itself barely moves or fewer than three parts
        would remain).
    """
    K = len(group.parts)
    if K < 4:
        return []
    ratios = _ratios(group, X, min_poses)
    if len(ratios) < 3:
        return []
    # relative to the typical part: a part fixed in the image (a head-fixed nose) pulls the
    # other parts' median towards rest, so every ratio grows alike
    typical = float(np.median(list(ratios.values())))
    out = [group.parts[k] for k, r in ratios.items() if r >= ratio * typical]
    return out if K - len(out) >= max(3, K / 2) else []


def _ratios(group: Group, X: np.ndarray, min_poses: int) -> dict[int, float]:
    """Per part: its spread around its track mean over the spread of the other parts'
    median (both in the image), where computable."""
    K = len(group.parts)
    D = _centred(group, X)
    fin = np.isfinite(D)
    ratios: dict[int, float] = {}
    for k in range(K):
        o = fin.copy()
        o[:, k] = False
        use = fin[:, k] & (o.sum(axis=1) >= 2)
        if use.sum() < min_poses:
            continue
        with np.errstate(invalid="ignore"):
            rest = np.where(o, D, np.nan + 0j)[use]
            c = np.nanmedian(rest.real, axis=1) + 1j * np.nanmedian(rest.imag, axis=1)
        own = float(np.sqrt(np.mean(np.abs(D[use, k]) ** 2)))
        cs = float(np.sqrt(np.mean(np.abs(c) ** 2)))
        if cs > 0:
            ratios[k] = own / cs
    return ratios


def fixed_parts(group: Group, X: np.ndarray, ratio: float, min_poses: int) -> list[str]:
    """Parts of ``group`` that stay put in the image while the others move (a head-fixed
    animal's nose): their motion, relative to the median of the other parts, is at most
    ``1 / (2 * ratio)`` of the typical part's. An identical label in consecutive images is
    expected there. Arguments as in :func:`scene_from_motion`."""
    ratios = _ratios(group, X, min_poses)
    if len(ratios) < 3:
        return []
    typical = float(np.median(list(ratios.values())))
    return [group.parts[k] for k, r in ratios.items() if r * 2 * ratio <= typical]


def offsets(X: np.ndarray) -> tuple[np.ndarray, float]:
    """Median offsets ``p_k - p_j`` of the scene parts over the project, and the scene's
    extent (the median length of those offsets; 0 when unknown)."""
    S = X.shape[1]
    off = np.full((S, S), np.nan + 0j)
    with np.errstate(invalid="ignore"):
        for k in range(S):
            for j in range(S):
                d = X[:, k] - X[:, j]
                if j != k and np.isfinite(d).any():
                    off[k, j] = complex(np.nanmedian(d.real), np.nanmedian(d.imag))
    lengths = np.abs(off[np.isfinite(off)])
    return off, float(np.median(lengths)) if lengths.size else 0.0


def residuals(p: np.ndarray, off: np.ndarray, extent: float, use: np.ndarray) -> np.ndarray:
    """Distance of each point of ``p`` in ``use`` from where the other points in ``use`` put
    it (the median of ``p_j + offset(k, j)``), in scene extents; NaN elsewhere."""
    e = np.full(len(p), np.nan)
    for k in np.flatnonzero(use & np.isfinite(p)):
        pred = p + off[k]
        pred[k] = np.nan
        pred = pred[use & np.isfinite(pred)]
        if pred.size and extent > 0:
            centre = complex(np.median(pred.real), np.median(pred.imag))
            e[k] = abs(p[k] - centre) / extent
    return e


def offset_residuals(X: np.ndarray) -> tuple[np.ndarray, list[tuple[float, float]]]:
    """How far each scene point is from where the other scene points of its image put it.

    The prediction of point ``k`` is the median over the other labeled points ``j`` of
    ``p_j + offset(k, j)``, the offset being the median of ``p_k - p_j`` over the project.
    Residuals are in units of the scene's extent (the median length of those offsets): the
    animal's size says nothing about a joystick.

    Parameters
    ----------
    X : ndarray
        ``(N, S)`` complex scene points of N poses.

    Returns
    -------
    E : ndarray
        ``(N, S)`` residuals in scene extents (NaN where not computable).
    stats : list of (float, float)
        Per part: median and robust spread of its residuals.
    """
    N, S = X.shape
    if S < 2:
        return np.full((N, S), np.nan), [(0.0, 1.0)] * S
    off, extent = offsets(X)
    use = np.ones(S, bool)
    E = np.array([residuals(p, off, extent, use) for p in X]).reshape(N, S)
    return E, [mad_z(E[:, k]) for k in range(S)]
