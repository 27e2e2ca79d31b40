"""Left/right pairs for label QC: found from the body-part names (or declared), and the fix
of a ``swap`` finding (the pair exchanged in its image)."""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence

from napari_dlcflow.core.labels.collected import Labels
from napari_dlcflow.core.labels.qc_finding import Finding

__all__ = ["swap_fix", "symmetric_pairs"]


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
