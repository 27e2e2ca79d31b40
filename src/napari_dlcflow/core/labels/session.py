"""The labels being edited in the Labeling dock, as plain arrays with undo and redo.

The model, not the Points layer, is the truth: layer edits are turned into model edits and the
layer is redrawn from the model. Rows are the images of the labeled-data folder in name order
(frame ``t`` of the image stack is ``images[t]``); rows of the file whose image is not in the
folder are kept aside and written back unchanged.

Machine labels (a model's predictions) can be shown for images that have no ground-truth row:
they sit in :attr:`LabelModel.xy` with :attr:`LabelModel.predicted` set and are *not* saved
until accepted (:meth:`LabelModel.accept`) or moved; deleting one marks the frame reviewed, so
the image gets a row (maybe empty) and its predictions do not come back.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from napari_dlcflow.core.labels.collected import Labels, SavedLabels

if TYPE_CHECKING:
    from napari_dlcflow.core.labels.changes import ChangeSummary
    from napari_dlcflow.core.project.config import Project

UNDO_LIMIT = 500
_State = tuple[np.ndarray, np.ndarray, frozenset[int]]
"""What one undo step restores (see ``_state``)."""
LABEL_MODES = ("sequential", "quick", "loop")
"""How a click moves on: next body part (then next frame), stay, or same body part next frame."""


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
        self.predicted = np.zeros((len(image_names), len(keypoints)), dtype=bool)
        self.likelihood = np.full((len(image_names), len(keypoints)), np.nan)
        self.reviewed: set[int] = set()  # frames whose predictions the user dealt with
        self.autosaved_revision = -1  # the revision the recovery file holds
        self._undo: list[_State] = []
        self._redo: list[_State] = []

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

    def load_machine(self, machine: Labels) -> int:
        """Show ``machine`` labels as predictions on images without a ground-truth row.

        Returns how many predictions were placed. Images the file already labels are never
        touched (their empty keypoints may be ones the labeler saw were hidden).
        """
        where = {name: t for t, name in enumerate(self.image_names)}
        have = set(self.file_rows)
        col = [
            machine.keypoints.index(k) if k in machine.keypoints else -1 for k in self.keypoints
        ]
        placed = 0
        for r, row in enumerate(machine.images):
            t = where.get(row[-1])
            if t is None or row[-1] in have or t in self.reviewed:
                continue
            for k, c in enumerate(col):
                if c < 0 or np.isnan(machine.xy[r, c]).any():
                    continue
                if not np.isnan(self.xy[t, k]).any() and not self.predicted[t, k]:
                    continue  # placed by the user meanwhile
                self.xy[t, k] = machine.xy[r, c]
                self.predicted[t, k] = True
                lik = machine.likelihood[r, c] if machine.likelihood is not None else np.nan
                self.likelihood[t, k] = lik
                placed += 1
        return placed

    @property
    def n_predicted(self) -> int:
        """Predictions shown and not accepted yet."""
        return int(self.predicted.sum())

    def predicted_frames(self) -> list[int]:
        """Frames with predictions not accepted yet."""
        return [int(t) for t in np.flatnonzero(self.predicted.any(axis=1))]

    def saved_xy(self) -> np.ndarray:
        """:attr:`xy` without the predictions that were not accepted."""
        out = self.xy.copy()
        out[self.predicted] = np.nan
        return out

    def to_labels(self) -> Labels:
        """The table to save: the file's rows, every image with a label and every reviewed
        image, plus orphans; predictions not accepted are left out."""
        stem = self.folder.name
        saved = self.saved_xy()
        labeled = ~np.isnan(saved).any(axis=-1)
        keep = (
            set(self.file_rows)
            | {n for t, n in enumerate(self.image_names) if labeled[t].any()}
            | {self.image_names[t] for t in self.reviewed}
        )
        ts = [t for t, n in enumerate(self.image_names) if n in keep]
        images = [("labeled-data", stem, self.image_names[t]) for t in ts]
        xy = saved[ts].copy()
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

    # ------------------------------------------------------------------ saving
    def changes_on_disk(self, project: Project | None = None) -> ChangeSummary:
        """What saving now would change in the ``CollectedData`` on disk.

        The file is read as the project sees it (columns conformed to ``project``'s config,
        rows of a renamed folder remapped), so only the user's edits count.

        Raises
        ------
        LabelsError, OSError
            If the file on disk cannot be read.
        """
        from napari_dlcflow.core.labels.changes import summarize_changes
        from napari_dlcflow.core.labels.collected import (
            FolderMismatchError,
            compare_with_config,
            conform_to_config,
            find_label_files,
            load_folder,
            read_labels,
            remap_folder,
        )

        try:
            before = load_folder(self.folder, self.file_scorer)
        except FolderMismatchError:  # rows of a renamed folder, remapped when opened
            files = find_label_files(self.folder)
            src = (files["collected_h5"] or files["collected_csv"])[0]
            before = remap_folder(read_labels(src), self.folder.name)
        if before is not None and project is not None:
            diff = compare_with_config(before, project)
            before = conform_to_config(before, project, {k: k for k in diff.extra})
        return summarize_changes(before, self.to_labels(), pending=self.n_predicted)

    def needs_confirmation(self, changes: ChangeSummary) -> bool:
        """Whether a save should be confirmed first: it deletes labels, or predictions were
        reviewed or are still waiting (they are not saved)."""
        return bool(changes.deleted > 0 or self.reviewed or self.n_predicted)

    def save(self) -> SavedLabels:
        """Write ``CollectedData_<scorer>.h5/.csv`` (previous files backed up) and forget the
        recovery file; predictions not accepted are not written.

        Raises
        ------
        LabelsError
            If the file changed on disk since it was read (another program saved it).
        SaveError, OSError
            If writing failed; the files on disk are then unchanged.
        """
        from napari_dlcflow.core.labels.collected import write_labels
        from napari_dlcflow.core.labels.recovery import discard_recovery

        table = self.to_labels()
        saved = write_labels(
            table, self.folder, expected_stamp=self.stamp, file_scorer=self.file_scorer
        )
        self.stamp = saved.stamp
        self.file_rows = [r[-1] for r in table.images if r[-1] in self.image_names]
        self.dirty = False
        discard_recovery(self.folder, self.file_scorer)
        return saved

    def autosave(self) -> bool:
        """Write the recovery file if anything changed since the last autosave; returns
        whether it wrote.

        Raises
        ------
        SaveError, OSError
            If the recovery file could not be written.
        """
        from napari_dlcflow.core.labels.recovery import write_recovery

        if not self.dirty or self.revision == self.autosaved_revision:
            return False
        write_recovery(self.to_labels(), self.folder, self.file_scorer)
        self.autosaved_revision = self.revision
        return True

    # ------------------------------------------------------------------ edits
    def _state(self) -> _State:
        return self.xy.copy(), self.predicted.copy(), frozenset(self.reviewed)

    def _restore(self, state: _State) -> None:
        self.xy, self.predicted, reviewed = state
        self.reviewed = set(reviewed)

    def _push(self) -> None:
        self._undo.append(self._state())
        del self._undo[:-UNDO_LIMIT]
        self._redo.clear()

    def _touch(self, t: int, k: int) -> None:
        """The user placed, moved or removed keypoint ``k`` of frame ``t``."""
        if self.predicted[t].any() or t in self.reviewed or self.predicted[t, k]:
            self.reviewed.add(int(t))
        self.predicted[t, k] = False

    def accept(self, frames: list[int] | None = None) -> int:
        """Accept the predictions of ``frames`` (default: all) as labels, as one undo step;
        returns how many were accepted."""
        ts = list(range(len(self.image_names))) if frames is None else [int(t) for t in frames]
        n = int(self.predicted[ts].sum()) if ts else 0
        if not n:
            return 0
        self._push()
        for t in ts:
            if self.predicted[t].any():
                self.predicted[t] = False
                self.reviewed.add(t)
        self._changed()
        return n

    def _changed(self) -> None:
        self.dirty = True
        self.revision += 1

    def set_point(self, t: int, k: int, x: float, y: float) -> None:
        """Place (or move) keypoint ``k`` in frame ``t``."""
        self._push()
        self.xy[t, k] = (x, y)
        self._touch(t, k)
        self._changed()

    def set_many(self, updates: list[tuple[int, int, float, float]]) -> None:
        """Place several keypoints as one undo step."""
        if not updates:
            return
        self._push()
        for t, k, x, y in updates:
            self.xy[t, k] = (x, y)
            self._touch(t, k)
        self._changed()

    def clear_points(self, pairs: list[tuple[int, int]]) -> None:
        """Remove keypoints (set them to not labeled) as one undo step."""
        pairs = [(t, k) for t, k in pairs if not np.isnan(self.xy[t, k]).any()]
        if not pairs:
            return
        self._push()
        for t, k in pairs:
            self.xy[t, k] = np.nan
            self._touch(t, k)
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
        return self._step(self._undo, self._redo)

    def redo(self) -> bool:
        """Redo the last undone edit; False if there is none."""
        return self._step(self._redo, self._undo)

    def _step(self, source: list[_State], other: list[_State]) -> bool:
        """One step through the history: restore the newest state of ``source`` and keep the
        present one on ``other`` (undo and redo are this with the stacks swapped)."""
        if not source:
            return False
        other.append(self._state())
        self._restore(source.pop())
        self._changed()
        return True

    # ------------------------------------------------------------------ queries
    def changed_only(
        self, updates: list[tuple[int, int, float, float]]
    ) -> list[tuple[int, int, float, float]]:
        """The ``(t, k, x, y)`` updates that really move a keypoint (a redraw echoes the rest)."""
        return [u for u in updates if not np.array_equal(self.xy[u[0], u[1]], [u[2], u[3]])]

    def next_after_placing(self, mode: str, t: int, k: int) -> tuple[int, int] | None:
        """Where labeling goes on after keypoint ``k`` was placed in frame ``t``.

        Parameters
        ----------
        mode : {"sequential", "quick", "loop"}
            ``sequential``: the next body part, after the last one the first of the next
            frame; ``quick``: stay; ``loop``: the same body part in the next frame.

        Returns
        -------
        (frame, keypoint) or None
            None to stay (``quick``, or nothing comes after).
        """
        if mode not in LABEL_MODES:
            raise ValueError(f"label mode must be one of {', '.join(LABEL_MODES)}, not {mode!r}")
        n_kp, n_frames = len(self.keypoints), len(self.image_names)
        if mode == "sequential":
            if k + 1 < n_kp:
                return t, k + 1
            if t + 1 < n_frames:
                return t + 1, 0
        elif mode == "loop" and t + 1 < n_frames:
            return t + 1, k
        return None

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
        """Per-frame counts and the names of the keypoints still missing (predictions not
        accepted count as missing)."""
        lab = ~np.isnan(self.saved_xy()).any(axis=-1)
        out = []
        for t, name in enumerate(self.image_names):
            miss = [self.keypoint_name(k) for k in np.flatnonzero(~lab[t])]
            out.append(FrameProgress(t, name, int(lab[t].sum()), len(self.keypoints), miss))
        return out

    def summary(self) -> str:
        """``"n of N labels placed, f of F frames complete"`` (and the predictions to review)."""
        lab = ~np.isnan(self.saved_xy()).any(axis=-1)
        done_frames = int(lab.all(axis=-1).sum()) if lab.size else 0
        text = (
            f"{int(lab.sum())} of {lab.size} labels placed; "
            f"{done_frames} of {len(self.image_names)} frames complete"
        )
        if self.n_predicted:
            text += (
                f"; {self.n_predicted} predictions to review in "
                f"{len(self.predicted_frames())} frame(s)"
            )
        return text
