"""Label QC between the animals of a multi-animal project.

``identity``
    Two animals' labels exchanged from one labeled frame to the next of the same folder
    (consecutive frames of a video, from the frame numbers in the image names): exchanging the
    two makes their motion much smaller.
``overlap``
    One animal labeled on top of another: their common points (median) within a fraction of a
    body size (or ``duplicate_px`` pixels).
``crossed``
    A point of one animal far from where its own other points put it and much closer to where
    another animal's points put that part (the point was given to the wrong animal).

:func:`identity_fix` exchanges the two animals of an ``identity`` finding in its image.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from napari_dlcflow.core.labels.collected import UNIQUE_INDIVIDUAL, Labels
from napari_dlcflow.core.labels.qc_finding import Finding, QCSettings, grade
from napari_dlcflow.core.labels.qc_shape import Group, body_size, fit

__all__ = ["identity_checks", "identity_columns", "identity_fix"]


def _images(group: Group, frame_number: object) -> dict[str, list[tuple[int, str, dict]]]:
    """Per folder, in frame order: ``(frame, image, {individual: pose index})``."""
    out: dict[str, dict[str, tuple[int, str, dict]]] = {}
    for i, pose in enumerate(group.poses):
        if not pose.individual or pose.individual == UNIQUE_INDIVIDUAL:
            continue
        folder = out.setdefault(pose.folder, {})
        if pose.image not in folder:
            folder[pose.image] = (frame_number(pose.image)[0], pose.image, {})  # type: ignore[operator]
        folder[pose.image][2][pose.individual] = i
    return {f: sorted(v.values(), key=lambda t: (t[0], t[1])) for f, v in out.items()}


def _motion(X: np.ndarray, i: int, j: int) -> np.ndarray:
    d = np.abs(X[i] - X[j])
    return d[np.isfinite(d)]


def _identity(
    group: Group, X: np.ndarray, images: dict, s: QCSettings, out: list[Finding]
) -> None:
    for folder, frames in images.items():
        flagged: list[tuple[int, str, str, Finding]] = []
        for n in range(1, len(frames)):
            (f0, _, prev), (f1, image, cur) = frames[n - 1], frames[n]
            if f0 < 0 or f1 < 0 or f1 - f0 > s.identity_gap:
                continue
            inds = [a for a in cur if a in prev]
            for u in range(len(inds)):
                for v in range(u + 1, len(inds)):
                    a, b = inds[u], inds[v]
                    same = np.concatenate(
                        [_motion(X, cur[a], prev[a]), _motion(X, cur[b], prev[b])]
                    )
                    swap = np.concatenate(
                        [_motion(X, cur[a], prev[b]), _motion(X, cur[b], prev[a])]
                    )
                    if same.size < 4 or swap.size < 4:
                        continue
                    size = np.nanmean([body_size(X[cur[a]]), body_size(X[cur[b]])])
                    d0, d1 = float(np.median(same)), float(np.median(swap))
                    if not size > 0 or d0 - d1 < s.identity_min * size:
                        continue
                    ratio = d0 / max(d1, 1e-6)
                    if ratio < s.identity_ratio:
                        continue
                    common = np.isfinite(X[cur[a]]) & np.isfinite(X[cur[b]])
                    score = round(min(ratio, 100.0) / s.identity_ratio, 2)
                    f = Finding(
                        "identity",
                        folder,
                        image,
                        a,
                        tuple(group.parts[k] for k in np.flatnonzero(common)),
                        score,
                        f"{a} and {b} trade places from {frames[n - 1][1]}: exchanged, they "
                        f"move {d1:.0f} px instead of {d0:.0f} px",
                        grade("identity", score),
                        b,
                    )
                    flagged.append((n, a, b, f))
        # an image swapped alone is flagged against the one before and the one after: keep
        # the first of the two
        keep = []
        seen = {(n, a, b) for n, a, b, _ in flagged}
        for n, a, b, f in flagged:
            if (n - 1, a, b) in seen and (n - 2, a, b) not in seen:
                continue
            keep.append(f)
        out.extend(keep)


def _overlap(group: Group, X: np.ndarray, images: dict, s: QCSettings, out: list[Finding]) -> None:
    for folder, frames in images.items():
        for _, image, rows in frames:
            inds = list(rows)
            for u in range(len(inds)):
                for v in range(u + 1, len(inds)):
                    a, b = inds[u], inds[v]
                    pa, pb = X[rows[a]], X[rows[b]]
                    d = np.abs(pa - pb)
                    ok = np.isfinite(d)
                    if ok.sum() < 3:
                        continue
                    size = max(body_size(pa), body_size(pb))
                    med = float(np.median(d[ok]))
                    tol = max(s.duplicate_px, s.overlap_frac * size)
                    if not size > 0 or med >= tol:
                        continue
                    score = round(min(tol / max(med, 1e-3), 10.0), 2)
                    score = max(score, 1.0)
                    out.append(
                        Finding(
                            "overlap",
                            folder,
                            image,
                            a,
                            tuple(group.parts[k] for k in np.flatnonzero(ok)),
                            score,
                            f"{a} and {b} are labeled on top of each other (their points "
                            f"{med:.1f} px apart, median): one animal labeled twice?",
                            grade("overlap", score),
                            b,
                        )
                    )


def _predict(ref: np.ndarray, p: np.ndarray, k: int) -> tuple[complex, float]:
    """Where the other points of ``p`` put part ``k`` under the model ``ref``, and the scale."""
    m = np.isfinite(p) & np.isfinite(ref)
    m[k] = False
    if m.sum() < 2:
        return complex(np.nan, np.nan), 0.0
    z, cs, cd = fit(ref[m], p[m])
    return z * (ref[k] - cs) + cd, abs(z)


def _crossed(
    group: Group,
    X: np.ndarray,
    ref: np.ndarray,
    images: dict,
    s: QCSettings,
    busy: set[tuple[int, int]],
    out: list[Finding],
) -> None:
    for folder, frames in images.items():
        for _, image, rows in frames:
            if len(rows) < 2:
                continue
            for a, i in rows.items():
                p = X[i]
                if np.isfinite(p).sum() < 4:
                    continue
                for k in np.flatnonzero(np.isfinite(p) & np.isfinite(ref)):
                    if (i, k) in busy:
                        continue
                    own, za = _predict(ref, p, k)
                    if za == 0 or abs(p[k] - own) / za < s.crossed_min:
                        continue
                    best, who = np.inf, ""
                    for b, j in rows.items():
                        if b == a or np.isfinite(X[j]).sum() < 3:
                            continue
                        q = X[j].copy()
                        q[k] = np.nan + 0j
                        there, zb = _predict(ref, q, k)
                        if zb > 0 and abs(p[k] - there) / zb < best:
                            best, who = abs(p[k] - there) / zb, b
                    e = abs(p[k] - own) / za
                    if not who or e < s.crossed_ratio * best:
                        continue
                    busy.add((i, k))
                    ratio = e / max(best, 1e-3)
                    score = round(min(ratio, 100.0) / s.crossed_ratio, 2)
                    bp = group.parts[k]
                    out.append(
                        Finding(
                            "crossed",
                            folder,
                            image,
                            a,
                            (bp,),
                            score,
                            f"{a}/{bp} is {e:.2f} body sizes from where {a}'s other points "
                            f"put it but {best:.2f} from where {who}'s put it",
                            grade("crossed", score),
                            who,
                        )
                    )


def identity_checks(
    group: Group,
    X: np.ndarray,
    ref: np.ndarray | None,
    kinds: Sequence[str],
    s: QCSettings,
    busy: set[tuple[int, int]],
    frame_number: object,
    out: list[Finding],
) -> None:
    """Run the checks between animals of ``group`` (poses ``X``, shape model ``ref`` or None).

    ``busy`` holds ``(pose, part)`` already explained; ``crossed`` skips and extends it.
    ``frame_number`` maps an image name to ``(frame, name)``.
    """
    images = _images(group, frame_number)
    if not any(len(rows) > 1 for frames in images.values() for _, _, rows in frames):
        return
    if "identity" in kinds:
        _identity(group, X, images, s, out)
    if "overlap" in kinds:
        _overlap(group, X, images, s, out)
    if "crossed" in kinds and ref is not None:
        _crossed(group, X, ref, images, s, busy, out)


def identity_fix(labels: Labels, finding: Finding) -> Labels:
    """A copy of ``labels`` with the two animals of an ``identity`` finding exchanged (all
    their body parts) in the finding's image.

    Raises
    ------
    ValueError
        If the finding is not an identity swap, or its image or animals are not in ``labels``.
    """
    if finding.kind != "identity" or not finding.other:
        raise ValueError(f"only an identity finding can be fixed this way, not {finding.kind!r}")
    rows = [r for r, row in enumerate(labels.images) if row[-1] == finding.image]
    if not rows:
        raise ValueError(f"{labels.source}: no row for {finding.image}")
    cols = identity_columns(labels.keypoints, finding.individual, finding.other)
    if not cols:
        raise ValueError(
            f"{labels.source}: no common body parts of {finding.individual} and {finding.other}"
        )
    out = labels.copy()
    r = rows[0]
    for ka, kb in cols:
        out.xy[r, ka], out.xy[r, kb] = labels.xy[r, kb], labels.xy[r, ka]
    return out


def identity_columns(
    keypoints: Sequence[tuple[str, str]], a: str, b: str
) -> list[tuple[int, int]]:
    """Column pairs ``(a's part, b's same part)`` of two animals in ``keypoints``."""
    index = {kp: n for n, kp in enumerate(keypoints)}
    return [(n, index[(b, bp)]) for (ind, bp), n in index.items() if ind == a and (b, bp) in index]
