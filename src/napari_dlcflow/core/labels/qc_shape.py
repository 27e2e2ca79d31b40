"""Geometry of label QC: similarity fits, the robust shape model of a group's poses, robust
statistics. Points are complex numbers (``x + 1j * y``); NaN marks an unlabeled point."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

__all__ = ["Group", "Pose", "ShapeModel", "body_size", "fit", "loo", "mad_z", "mst", "wrap"]


def fit(src: np.ndarray, dst: np.ndarray) -> tuple[complex, complex, complex]:
    """Similarity (rotation, scale, translation; no reflection) taking complex ``src`` onto
    ``dst``: ``dst ~ z * (src - cs) + cd``. Returns ``(z, cs, cd)``."""
    cs, cd = src.mean(), dst.mean()
    a, b = src - cs, dst - cd
    den = float(np.sum(np.abs(a) ** 2))
    z = complex(np.sum(np.conj(a) * b) / den) if den > 0 else 0j
    return z, complex(cs), complex(cd)


def mad_z(values: np.ndarray) -> tuple[float, float]:
    """Median and robust spread (1.4826 MAD, floored) of finite ``values``."""
    v = values[np.isfinite(values)]
    if v.size == 0:
        return 0.0, 1.0
    med = float(np.median(v))
    mad = 1.4826 * float(np.median(np.abs(v - med)))
    spread = max(mad, 1e-3, 0.05 * abs(med))
    return med, spread


def wrap(a: np.ndarray) -> np.ndarray:
    """Angles wrapped to ``[-pi, pi)``."""
    return (a + np.pi) % (2 * np.pi) - np.pi


@dataclass
class Pose:
    """One animal (or the unique parts) in one image."""

    folder: str
    image: str
    individual: str
    xy: np.ndarray  # (K,) complex, nan where unlabeled


@dataclass
class Group:
    """Poses of one kind of animal (the individuals, or the unique body parts) in one view."""

    parts: list[str]
    poses: list[Pose] = field(default_factory=list)

    def array(self) -> np.ndarray:
        """The poses as an ``(N, K)`` complex array."""
        return np.array([p.xy for p in self.poses]).reshape(len(self.poses), len(self.parts))


class ShapeModel:
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
                z, cs, cd = fit(p[m], ref[m])
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
        return fit(self.ref[m], p[m])

    def residual(self, p: np.ndarray) -> tuple[float, float]:
        """RMS residual of the best fit as a fraction of the pose's size, and that size."""
        m = np.isfinite(p) & np.isfinite(self.ref)
        z, cs, cd = fit(self.ref[m], p[m])
        if abs(z) == 0:
            return np.inf, 0.0
        pred = z * (self.ref[m] - cs) + cd
        return float(np.sqrt(np.mean(np.abs(pred - p[m]) ** 2)) / abs(z)), abs(z)


def loo(ref: np.ndarray, p: np.ndarray, m: np.ndarray) -> np.ndarray:
    """Leave-one-out residual of each point of ``p`` in ``m``: its distance, in body sizes,
    from where the model fitted to the other points of ``m`` puts it (NaN elsewhere)."""
    e = np.full(len(p), np.nan)
    if m.sum() < 3:
        return e
    for k in np.flatnonzero(m):
        o = m.copy()
        o[k] = False
        z, cs, cd = fit(ref[o], p[o])
        if abs(z) > 0:
            e[k] = abs(z * (ref[k] - cs) + cd - p[k]) / abs(z)
    return e


def body_size(p: np.ndarray) -> float:
    """RMS distance of the labeled points from their centre, in pixels."""
    q = p[np.isfinite(p)]
    if q.size < 2:
        return 0.0
    return float(np.sqrt(np.mean(np.abs(q - q.mean()) ** 2)))


def mst(ref: np.ndarray) -> list[tuple[int, int]]:
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
