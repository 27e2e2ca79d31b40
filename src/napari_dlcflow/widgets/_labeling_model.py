"""The labels being edited in the Labeling dock, as plain arrays with undo and redo.

The model, not the Points layer, is the truth: layer edits are turned into model edits and the
layer is redrawn from the model. Rows are the images of the labeled-data folder in name order
(frame ``t`` of the image stack is ``images[t]``); rows of the file whose image is not in the
folder are kept aside and written back unchanged.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from napari_dlcflow.core.labels import Labels

UNDO_LIMIT = 500


@dataclass
class FrameProgress:
    """How far one frame is labeled."""

    frame: int
    name: str
    done: int
    total: int
    missing: list[str]


class LabelModel:
    """Keypoints of every image of one labeled-data folder.

    Parameters
    ----------
    folder : Path
        The ``labeled-data/<stem>`` folder.
    image_names : list of str
        Its images in name order.
    scorer : str
        Scorer to save under.
    keypoints : list of (str, str)
        ``(individual, bodypart)`` columns (individual ``""`` for single animal).
    multianimal : bool
        Whether the table has individuals.
    """

    def __init__(
        self,
        folder: Path,
        image_names: list[str],
        scorer: str,
        keypoints: list[tuple[str, str]],
        multianimal: bool,
    ) -> None:
        self.folder = Path(folder)
        self.image_names = list(image_names)
        self.scorer = scorer
        self.keypoints = list(keypoints)
        self.multianimal = multianimal
        self.xy = np.full((len(image_names), len(keypoints), 2), np.nan)
        self.file_rows: list[str] = []  # image names that were rows of the file
        self.orphans: Labels | None = None  # file rows whose image is not in the folder
        self.stamp: tuple[int, int, str] | None = None
        self.file_scorer = scorer  # the <scorer> of CollectedData_<scorer>.h5 to save to
        self.dirty = False
        self.revision = 0
        self._undo: list[np.ndarray] = []
        self._redo: list[np.ndarray] = []

    # ------------------------------------------------------------------ in and out
    def load(self, labels: Labels) -> None:
        """Fill the model from ``labels`` (already conformed to :attr:`keypoints`), matching
        rows to images by name, never by position."""
        col = [labels.keypoints.index(k) if k in labels.keypoints else -1 for k in self.keypoints]
        where = {name: t for t, name in enumerate(self.image_names)}
        orphan_rows = []
        for r, row in enumerate(labels.images):
            t = where.get(row[-1])
            if t is None:
                orphan_rows.append(r)
                continue
            for k, c in enumerate(col):
                if c >= 0:
                    self.xy[t, k] = labels.xy[r, c]
        self.file_rows = [row[-1] for row in labels.images if row[-1] in where]
        if orphan_rows:
            self.orphans = Labels(
                scorer=labels.scorer,
                keypoints=list(labels.keypoints),
                images=[labels.images[r] for r in orphan_rows],
                xy=labels.xy[orphan_rows],
                multianimal=labels.multianimal,
            )
        self.scorer = labels.scorer
        self.stamp = labels.stamp
        if labels.source is not None and labels.source.stem.startswith("CollectedData_"):
            self.file_scorer = labels.source.stem[len("CollectedData_") :]

    def to_labels(self) -> Labels:
        """The table to save: the file's rows, plus every image with a label, plus orphans."""
        stem = self.folder.name
        labeled = ~np.isnan(self.xy).any(axis=-1)
        keep = set(self.file_rows) | {
            n for t, n in enumerate(self.image_names) if labeled[t].any()
        }
        ts = [t for t, n in enumerate(self.image_names) if n in keep]
        images = [("labeled-data", stem, self.image_names[t]) for t in ts]
        xy = self.xy[ts].copy()
        if self.orphans is not None:
            o = self.orphans
            col = [o.keypoints.index(k) if k in o.keypoints else -1 for k in self.keypoints]
            extra = np.full((len(o.images), len(self.keypoints), 2), np.nan)
            for k, c in enumerate(col):
                if c >= 0:
                    extra[:, k] = o.xy[:, c]
            images += [tuple(r) for r in o.images]
            xy = np.concatenate([xy, extra])
            order = sorted(range(len(images)), key=lambda i: images[i][-1])
            images = [images[i] for i in order]
            xy = xy[order]
        return Labels(
            scorer=self.scorer,
            keypoints=list(self.keypoints),
            images=images,
            xy=xy,
            multianimal=self.multianimal,
            stamp=self.stamp,
        )

    # ------------------------------------------------------------------ edits
    def _push(self) -> None:
        self._undo.append(self.xy.copy())
        del self._undo[:-UNDO_LIMIT]
        self._redo.clear()

    def _changed(self) -> None:
        self.dirty = True
        self.revision += 1

    def set_point(self, t: int, k: int, x: float, y: float) -> None:
        """Place (or move) keypoint ``k`` in frame ``t``."""
        self._push()
        self.xy[t, k] = (x, y)
        self._changed()

    def set_many(self, updates: list[tuple[int, int, float, float]]) -> None:
        """Place several keypoints as one undo step."""
        if not updates:
            return
        self._push()
        for t, k, x, y in updates:
            self.xy[t, k] = (x, y)
        self._changed()

    def clear_points(self, pairs: list[tuple[int, int]]) -> None:
        """Remove keypoints (set them to not labeled) as one undo step."""
        pairs = [(t, k) for t, k in pairs if not np.isnan(self.xy[t, k]).any()]
        if not pairs:
            return
        self._push()
        for t, k in pairs:
            self.xy[t, k] = np.nan
        self._changed()

    def copy_from_previous(self, t: int) -> int:
        """Copy the labels of the nearest earlier labeled frame into frame ``t`` where ``t`` has
        none; returns how many were copied."""
        labeled = ~np.isnan(self.xy).any(axis=-1)
        src = next((s for s in range(t - 1, -1, -1) if labeled[s].any()), None)
        if src is None:
            return 0
        take = labeled[src] & ~labeled[t]
        if not take.any():
            return 0
        self._push()
        self.xy[t, take] = self.xy[src, take]
        self._changed()
        return int(take.sum())

    def undo(self) -> bool:
        """Undo the last edit; False if there is none."""
        if not self._undo:
            return False
        self._redo.append(self.xy.copy())
        self.xy = self._undo.pop()
        self._changed()
        return True

    def redo(self) -> bool:
        """Redo the last undone edit; False if there is none."""
        if not self._redo:
            return False
        self._undo.append(self.xy.copy())
        self.xy = self._redo.pop()
        self._changed()
        return True

    # ------------------------------------------------------------------ queries
    def labeled(self, t: int) -> np.ndarray:
        """Boolean array of shape (K,): which keypoints frame ``t`` has."""
        return ~np.isnan(self.xy[t]).any(axis=-1)

    def next_unlabeled_frame(self, t: int) -> int | None:
        """The next frame after ``t`` (wrapping) that lacks a keypoint; None if all are done."""
        n = len(self.image_names)
        missing = np.isnan(self.xy).any(axis=-1).any(axis=-1)
        for step in range(1, n + 1):
            s = (t + step) % n
            if missing[s]:
                return s
        return None

    def keypoint_name(self, k: int) -> str:
        ind, bp = self.keypoints[k]
        return f"{ind} / {bp}" if ind else bp

    def progress(self) -> list[FrameProgress]:
        """Per-frame counts and the names of the keypoints still missing."""
        lab = ~np.isnan(self.xy).any(axis=-1)
        out = []
        for t, name in enumerate(self.image_names):
            miss = [self.keypoint_name(k) for k in np.flatnonzero(~lab[t])]
            out.append(FrameProgress(t, name, int(lab[t].sum()), len(self.keypoints), miss))
        return out

    def summary(self) -> str:
        """``"n of N labels placed, f of F frames complete"``."""
        lab = ~np.isnan(self.xy).any(axis=-1)
        done_frames = int(lab.all(axis=-1).sum()) if lab.size else 0
        return (
            f"{int(lab.sum())} of {lab.size} labels placed; "
            f"{done_frames} of {len(self.image_names)} frames complete"
        )
