"""What a save changes in ``CollectedData``, counted per keypoint, before it is written.

The Labeling dock asks before a save that moves or deletes labels, the refine loop says what
merging machine labels adds, and the command line prints the same lines: all through
:func:`summarize_changes`.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from napari_dlcflow.core.labels.collected import Labels

__all__ = ["MOVE_TOLERANCE", "ChangeSummary", "summarize_changes"]

MOVE_TOLERANCE = 1e-3
"""Pixels: a keypoint that moved less than this is untouched."""


@dataclass
class ChangeSummary:
    """How a save changes ``CollectedData`` (counted per keypoint).

    Attributes
    ----------
    added, moved, deleted, untouched : int
        Keypoints labeled now but not before; labeled in both at another place; labeled
        before but not now; labeled in both at the same place.
    new_images : int
        Images that get a row for the first time.
    pending : int
        Predictions shown but not accepted (kept as machine labels, not saved as labels).
    details : list of str
        One line per added/moved/deleted keypoint (``img0042.png nose: moved 12.5 px``).
    """

    added: int = 0
    moved: int = 0
    deleted: int = 0
    untouched: int = 0
    new_images: int = 0
    pending: int = 0
    details: list[str] = field(default_factory=list)

    @property
    def changed(self) -> bool:
        """Whether the save changes anything."""
        return bool(self.added or self.moved or self.deleted)

    def format(self, max_details: int = 12) -> str:
        """A few lines for a confirmation dialog or the CLI."""
        lines = [
            f"{self.added} added, {self.moved} moved, {self.deleted} deleted, "
            f"{self.untouched} untouched keypoint(s); {self.new_images} new image(s)."
        ]
        if self.pending:
            lines.append(
                f"{self.pending} prediction(s) not accepted: kept as machine labels, not saved."
            )
        lines += self.details[:max_details]
        if len(self.details) > max_details > 0:
            lines.append(f"... and {len(self.details) - max_details} more")
        return "\n".join(lines)


def _cells(labels: Labels | None) -> dict[tuple[str, tuple[str, str]], np.ndarray]:
    out: dict[tuple[str, tuple[str, str]], np.ndarray] = {}
    if labels is None:
        return out
    for r, row in enumerate(labels.images):
        for k, kp in enumerate(labels.keypoints):
            xy = labels.xy[r, k]
            if not np.isnan(xy).any():
                out[(row[-1], kp)] = xy
    return out


def summarize_changes(before: Labels | None, after: Labels, *, pending: int = 0) -> ChangeSummary:
    """Compare the labels on disk (``before``) with what is about to be saved (``after``)."""
    old, new = _cells(before), _cells(after)
    out = ChangeSummary(pending=pending)
    old_images = {r[-1] for r in before.images} if before is not None else set()
    out.new_images = len({r[-1] for r in after.images} - old_images)

    def name(key: tuple[str, tuple[str, str]]) -> str:
        ind, bp = key[1]
        return f"{key[0]} {ind + '/' if ind else ''}{bp}"

    for key in sorted(set(old) | set(new)):
        a, b = old.get(key), new.get(key)
        if a is None and b is not None:
            out.added += 1
            out.details.append(f"{name(key)}: added")
        elif a is not None and b is None:
            out.deleted += 1
            out.details.append(f"{name(key)}: deleted")
        elif a is not None and b is not None:
            d = float(np.hypot(*(a - b)))
            if d > MOVE_TOLERANCE:
                out.moved += 1
                out.details.append(f"{name(key)}: moved {d:.1f} px")
            else:
                out.untouched += 1
    # deletions first: they are what a user must not miss
    out.details.sort(key=lambda s: (not s.endswith("deleted"), s))
    return out
