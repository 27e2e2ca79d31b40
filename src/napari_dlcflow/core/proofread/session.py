"""The tracks being proofread, as plain arrays with undo, redo, a replayable history and a
safe save.

A :class:`TrackSession` holds one video's multi-animal tracks as DeepLabCut's table
(:attr:`TrackSession.predictions`, what the overlay draws and the save writes) and, as a view
of the same memory, one ``(T, N, K, 3)`` array per identity (:attr:`TrackSession.values`) that
the edits of :mod:`.edits` change in place. Undo keeps only the cells an edit changed (a swap,
its own inverse, keeps nothing), never a copy of the table. The history (:attr:`history`) is
the list of edits applied, in order; :meth:`TrackSession.replay` applies a recorded one.

Saving writes DeepLabCut's tracked ``.h5`` (key ``tracks`` for a tracked file name, as
DeepLabCut's stitching writes it) atomically, keeps the previous file as a backup
(:func:`~napari_dlcflow.core.safe_io.list_backups`) and appends the history to
``<file>.edits.json`` beside it (:func:`edits_path`). A file another program changed since it
was read (or saved) is never overwritten. A SLEAP ``.slp`` is saved as a DeepLabCut tracked
``.h5`` beside it (:func:`sleap_save_path`).
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import numpy as np

from napari_dlcflow.core.predictions.analysis_files import (
    Predictions,
    PredictionsError,
    read_predictions,
    untracked_animals,
    write_predictions,
)
from napari_dlcflow.core.predictions.tracks import Tracks, predictions_from_tracks
from napari_dlcflow.core.proofread.edits import (
    FILL_LIKELIHOOD,
    Edit,
    EditError,
    Patch,
    plan_edit,
)
from napari_dlcflow.core.safe_io import (
    SaveError,
    atomic_write,
    content_hash,
    list_backups,
    record_written,
)

__all__ = [
    "EDITS_SUFFIX",
    "SLEAP_SCORER",
    "TrackSession",
    "TracksChangedOnDiskError",
    "edits_path",
    "original_version",
    "read_edit_log",
    "saved_edits",
    "sleap_save_path",
]

UNDO_LIMIT = 500
"""Edits that can be undone (older ones stay in the history)."""
UNDO_MAX_BYTES = 512 * 2**20
"""Memory the undo steps may hold; beyond it the oldest can no longer be undone (the newest
one always can)."""
SLEAP_SCORER = "DLC_sleap_proofread"
"""The scorer of the table made from a SLEAP file (``DLC`` starts it, as DeepLabCut's scorers
do, so the saved file is found as the video's analysis file)."""
SLEAP_TRACK_SUFFIX = "_el"
"""The tracker suffix of the file a SLEAP file is saved as: a tracked file (key ``tracks``)."""
EDITS_SUFFIX = ".edits.json"
LOG_FORMAT = "napari-dlcflow track edits"
SAVE_SUFFIXES = (".h5", ".hdf5", ".hdf", ".csv")


class TracksChangedOnDiskError(SaveError):
    """Saving would overwrite a file that another program changed since the session read or
    saved it (or one the session never read); nothing was written."""

    def __init__(self, path: Path, problem: str) -> None:
        self.path = path
        super().__init__(f"{path}: {problem}")


def edits_path(path: str | os.PathLike) -> Path:
    """The edit history beside a tracks file: ``<file>.edits.json``."""
    p = Path(path)
    return p.with_name(p.name + EDITS_SUFFIX)


def sleap_save_path(slp: str | os.PathLike) -> Path:
    """Where a SLEAP file's proofread tracks are saved: ``<video stem>DLC_sleap_proofread_el.h5``
    beside it (``clip.slp``, ``clip.predictions.slp`` and ``clip.mp4.predictions.slp`` all give
    ``clipDLC_sleap_proofread_el.h5``): DeepLabCut's name of a tracked file of the video."""
    from napari_dlcflow.core.video.reader import VIDEO_SUFFIXES

    p = Path(slp)
    name = p.name[: -len(p.suffix)] if p.suffix.lower() == ".slp" else p.name
    name = name.removesuffix(".predictions")
    for suffix in VIDEO_SUFFIXES:
        if name.lower().endswith(suffix):
            name = name[: -len(suffix)]
            break
    return p.with_name(f"{name}{SLEAP_SCORER}{SLEAP_TRACK_SUFFIX}.h5")


def read_edit_log(path: str | os.PathLike) -> dict[str, Any]:
    """The edit log of a tracks file (or the log itself): ``{"format", "version", "file",
    "saves": [...]}``, one entry per save, oldest first; each entry has ``time``, ``source``
    and ``source_sha256`` (the file the session read), ``sha256`` (of the file saved),
    ``edits`` (the session's whole history since it read ``source``: :meth:`Edit.to_dict` plus
    ``text`` and the changed ``frames``), ``new`` and ``undone`` (what changed since the
    session's previous save, in words).

    Raises
    ------
    FileNotFoundError
        If there is no log.
    ValueError
        If it is not a track edit log; the message names the file.
    """
    p = Path(path)
    if not p.name.endswith(EDITS_SUFFIX):
        p = edits_path(p)
    text = p.read_text(encoding="utf-8")
    try:
        doc = json.loads(text)
    except ValueError as exc:
        raise ValueError(f"{p}: not JSON ({exc})") from None
    if not isinstance(doc, dict) or doc.get("format") != LOG_FORMAT:
        raise ValueError(f"{p}: not a napari-dlcflow track edit log")
    if not isinstance(doc.get("saves"), list):
        raise ValueError(f"{p}: its 'saves' is not a list")
    return doc


def saved_edits(path: str | os.PathLike, save: int = -1) -> list[Edit]:
    """The edits of one save of the log (default: the last), to :meth:`TrackSession.replay`
    on the file the session had read (the entry's ``source``, ``source_sha256``).

    Raises
    ------
    FileNotFoundError, ValueError
        As :func:`read_edit_log`; EditError (a ValueError) for a malformed edit.
    """
    saves = read_edit_log(path)["saves"]
    if not saves:
        raise ValueError(f"{edits_path(path)}: no save recorded")
    return [Edit.from_dict(d) for d in saves[save].get("edits", [])]


def original_version(path: str | os.PathLike) -> Path:
    """The tracks as they were before any proofreading recorded in ``path``'s edit log: the
    file the first save's session read (a SLEAP ``.slp`` or another file, while its content
    is unchanged), else the backup of ``path`` with that content.

    Raises
    ------
    FileNotFoundError
        If there is no log, or neither the file read nor a backup with its content is left
        (the message says which hash was looked for).
    ValueError
        As :func:`read_edit_log`.
    """
    p = Path(path)
    saves = read_edit_log(p)["saves"]
    if not saves:
        raise ValueError(f"{edits_path(p)}: no save recorded")
    first = saves[0]
    digest = str(first.get("source_sha256") or "")
    source = Path(str(first.get("source") or ""))
    if source.is_file() and source.resolve() != p.resolve() and content_hash(source) == digest:
        return source
    for backup in reversed(list_backups(p)):  # oldest first
        if content_hash(backup) == digest:
            return backup
    raise FileNotFoundError(
        f"{p}: the version read before proofreading (sha256 {digest[:12]}...) is neither at "
        f"{source} nor among its backups"
    )


@dataclass
class _Step:
    """One applied edit: what, which frames changed, and what undoes it."""

    edit: Edit
    span: tuple[int, int]
    serial: int  # names the state after it (0: the state read)
    before: Patch | None  # the cells before; None for a swap (its own inverse) or too old

    @property
    def nbytes(self) -> int:
        return self.before.nbytes if self.before is not None else 0

    def to_dict(self) -> dict[str, Any]:
        return {**self.edit.to_dict(), "text": self.edit.describe(), "frames": list(self.span)}


class TrackSession:
    """One video's multi-animal tracks being proofread.

    Parameters
    ----------
    predictions : Predictions
        A multi-animal DeepLabCut table. Its columns are put in DeepLabCut's order (identity
        by identity, each with the first identity's body parts, unique body parts last) and
        its rows at their frame numbers; the session works on its own copy unless ``copy`` is
        False (then, when the table is already in that order, on ``predictions.data`` itself).
    path : path-like, optional
        The file it was read from (default ``predictions.path``).
    save_path : path-like, optional
        Where :meth:`save` writes by default (default ``path``).
    n_frames : int, optional
        The video's frame count: rows are added (absent points) up to it.
    copy : bool, default True
        Work on a copy of ``predictions.data``.

    Attributes
    ----------
    path : Path or None
        The file read.
    save_path : Path or None
        Where :meth:`save` writes without a path: the file read (a ``.slp``:
        :func:`sleap_save_path`), after a save the file saved.
    predictions : Predictions
        The current state as a DeepLabCut table (changed in place by the edits).
    values : ndarray of shape (T, N, K, 3)
        ``x, y, likelihood`` per identity: a view of ``predictions.data``.
    filled : ndarray of bool of shape (T, N)
        Frames whose points of an identity were interpolated; read back from a file as the
        frames with a point of likelihood :data:`~.edits.FILL_LIKELIHOOD` (DeepLabCut's mark).
    individuals, bodyparts : tuple of str
        The N identities (unique body parts, individual ``single``, are not one: they are
        carried through untouched) and their K body parts.
    listeners : list of callable
        Called with the changed frame range ``(start, stop)`` after apply, undo and redo.
    notes : list of str
        What reading met.
    source_sha256 : str or None
        The content hash of the file when it was read.
    last_backup : Path or None
        The backup the last save made of the file it replaced.

    Raises
    ------
    PredictionsError
        If the table is single-animal, has no identities, identities with other body parts,
        repeated or negative frame numbers, or more frames than ``n_frames``.
    """

    def __init__(
        self,
        predictions: Predictions,
        *,
        path: str | os.PathLike | None = None,
        save_path: str | os.PathLike | None = None,
        n_frames: int | None = None,
        copy: bool = True,
    ) -> None:
        where = path or predictions.path or "the tracks"
        self.path = Path(path) if path is not None else predictions.path
        self.save_path = Path(save_path) if save_path is not None else self.path
        self.predictions = _canonical(predictions, where, n_frames, copy)
        data = self.predictions.data
        inds = self.predictions.individuals
        self.individuals = tuple(dict.fromkeys(i for i in inds if i != "single"))
        n, k = len(self.individuals), inds.count(self.individuals[0])
        self.bodyparts = tuple(self.predictions.bodyparts[:k])
        self.values = data[:, : n * k].reshape(len(data), n, k, 3)
        if not np.shares_memory(self.values, data):  # C-contiguous data: always a view
            raise AssertionError("values must be a view of the table")
        self.filled = (self.values[..., 2] == FILL_LIKELIHOOD).any(axis=2)
        self.listeners: list[Callable[[int, int], None]] = []
        self.notes = list(self.predictions.notes)
        self.source_sha256: str | None = None
        self.last_backup: Path | None = None
        self._done: list[_Step] = []  # every applied edit, oldest first (the history)
        self._redo: list[_Step] = []
        self._floor = 0  # _done[:_floor] can no longer be undone
        self._serial = 0
        self._saved_serial = 0
        self._saved_steps: dict[int, str] = {}  # the history at the last save: serial -> text
        self._known: dict[str, str] = {}  # abspath -> content hash when read or saved
        self._replaying = False

    # ------------------------------------------------------------------ in and out
    @classmethod
    def open(cls, path: str | os.PathLike, *, n_frames: int | None = None) -> TrackSession:
        """Read a DeepLabCut tracked (or multi-animal analysis) ``.h5``/``.csv`` or a SLEAP
        ``.slp`` with tracks.

        Parameters
        ----------
        path : path-like
            The file.
        n_frames : int, optional
            The video's frame count, when known: a file with fewer rows gets absent rows up to
            it; one with more frames is refused.

        Raises
        ------
        FileNotFoundError
            If it does not exist.
        ValueError
            (PredictionsError, FormatError) If it cannot be read as multi-animal tracks; the
            message names the file and the problem.
        """
        p = Path(path)
        if not p.is_file():
            raise FileNotFoundError(f"no such tracks file: {p}")
        digest = content_hash(p)  # before reading: a change while we read is then noticed
        if p.suffix.lower() == ".slp":
            from napari_dlcflow.core.formats.tracks import load_tracks

            pred = predictions_from_tracks(load_tracks(p), SLEAP_SCORER)
            session = cls(
                pred, path=p, save_path=sleap_save_path(p), n_frames=n_frames, copy=False
            )
            session.notes.append(
                "SLEAP tracks: present points get likelihood 1 (the file's scores are not read)"
            )
        else:
            pred = read_predictions(p, xy_only=True, frame_index=True)
            session = cls(pred, path=p, n_frames=n_frames, copy=False)
            if untracked_animals(pred, p):
                session.notes.append(
                    "not a tracked file: its individuals are detections in assembly order, "
                    "not identities kept over time"
                )
        session.source_sha256 = digest
        session._known[os.path.abspath(p)] = digest
        return session

    @property
    def n_frames(self) -> int:
        """T, the number of frames."""
        return int(self.values.shape[0])

    def tracks(self, *, copy: bool = False) -> Tracks:
        """The current state as :class:`Tracks` (for candidates and metrics).

        Without ``copy`` (cheap) its arrays are views of the session's: later edits show in
        them; ``copy=True`` gives a snapshot (e.g. the "before" of a comparison).
        """
        kp, lik = self.values[..., :2], self.values[..., 2]
        return Tracks(
            keypoints=kp.copy() if copy else kp,
            likelihood=lik.copy() if copy else lik,
            individuals=self.individuals,
            bodyparts=self.bodyparts,
            source=self.path,
            notes=list(self.notes),
        )

    def present(self) -> np.ndarray:
        """``(T, N)`` bool: the identity has at least one body part in the frame."""
        return ~np.isnan(self.values[..., 0]).all(axis=2)

    # ------------------------------------------------------------------ edits
    @property
    def history(self) -> list[Edit]:
        """The applied edits, in order (undo takes the last off, redo puts it back)."""
        return [s.edit for s in self._done]

    @property
    def dirty(self) -> bool:
        """Whether the state differs from the one read or last saved."""
        return self._state() != self._saved_serial

    @property
    def can_undo(self) -> bool:
        return len(self._done) > self._floor

    @property
    def can_redo(self) -> bool:
        return bool(self._redo)

    @property
    def undo_edit(self) -> Edit | None:
        """The edit :meth:`undo` would undo."""
        return self._done[-1].edit if self.can_undo else None

    @property
    def redo_edit(self) -> Edit | None:
        """The edit :meth:`redo` would apply again."""
        return self._redo[-1].edit if self._redo else None

    def _state(self) -> int:
        return self._done[-1].serial if self._done else 0

    def _write(self, edit: Edit) -> tuple[Patch, Patch | None]:
        """Apply ``edit`` to the arrays; returns its patch and what it replaced (None for a
        swap, which undoes itself)."""
        patch = plan_edit(edit, self.values, self.filled, self.individuals, self.bodyparts)
        before = None if edit.kind == "swap" else patch.current(self.values, self.filled)
        patch.write(self.values, self.filled)
        return patch, before

    def apply(self, edit: Edit) -> tuple[int, int]:
        """Apply ``edit`` as one undo step.

        Returns
        -------
        (int, int)
            The frames ``[start, stop)`` whose points changed.

        Raises
        ------
        EditError
            If it cannot apply (see :func:`~.edits.plan_edit`); nothing changed.
        """
        patch, before = self._write(edit)
        self._serial += 1
        self._done.append(_Step(edit, patch.span, self._serial, before))
        self._redo.clear()
        if not self._replaying:
            self._trim()
            self._notify(patch.span)
        return patch.span

    def _trim(self) -> None:
        """Forget the undo data of the oldest steps beyond :data:`UNDO_LIMIT` or
        :data:`UNDO_MAX_BYTES` (they stay in the history)."""
        steps = self._done[self._floor :]
        held = sum(s.nbytes for s in steps)
        while len(steps) > 1 and (len(steps) > UNDO_LIMIT or held > UNDO_MAX_BYTES):
            oldest = steps.pop(0)
            held -= oldest.nbytes
            oldest.before = None
            self._floor += 1

    def undo(self) -> tuple[int, int] | None:
        """Undo the last edit; returns the frames it changed back, None if there is none."""
        if not self.can_undo:
            return None
        step = self._done.pop()
        if step.before is None:  # a swap: swapping again restores it
            plan_edit(step.edit, self.values, self.filled, self.individuals, self.bodyparts).write(
                self.values, self.filled
            )
        else:
            step.before.write(self.values, self.filled)
            step.before = None
        self._redo.append(step)
        self._notify(step.span)
        return step.span

    def redo(self) -> tuple[int, int] | None:
        """Apply the last undone edit again; returns the frames it changed, None if none."""
        if not self._redo:
            return None
        step = self._redo.pop()
        _, step.before = self._write(step.edit)  # the state is the one it first applied to
        self._done.append(step)
        self._trim()
        self._notify(step.span)
        return step.span

    def replay(self, edits: Iterable[Edit | Mapping[str, Any]]) -> None:
        """Apply a recorded history (edits or their :meth:`~.edits.Edit.to_dict`) in order, all
        or nothing; the listeners hear once, with the frames all of them changed.

        Raises
        ------
        EditError
            If one cannot apply (the message says which); the session is then as before.
        """
        todo = [e if isinstance(e, Edit) else Edit.from_dict(e) for e in edits]
        if not todo:
            return
        n0, redo0 = len(self._done), list(self._redo)
        lo, hi = self.n_frames, 0
        self._replaying = True
        try:
            for i, edit in enumerate(todo):
                try:
                    start, stop = self.apply(edit)
                except EditError as exc:
                    raise EditError(
                        f"edit {i + 1} of {len(todo)} cannot be replayed: {exc}"
                    ) from exc
                lo, hi = min(lo, start), max(hi, stop)
        except BaseException:
            while len(self._done) > n0:
                self.undo()
            self._redo = redo0
            raise
        finally:
            self._replaying = False
        self._trim()
        self._notify((lo, hi))

    def _notify(self, span: tuple[int, int]) -> None:
        if self._replaying:
            return
        for listener in list(self.listeners):
            listener(*span)

    # ------------------------------------------------------------------ saving
    def save(self, path: str | os.PathLike | None = None, *, force: bool = False) -> list[Path]:
        """Write the tracks as DeepLabCut's table, atomically, keeping the previous file as a
        backup, and append the history to ``<file>.edits.json``.

        Parameters
        ----------
        path : path-like, optional
            Where to write (default :attr:`save_path`): ``.h5`` (key ``tracks`` for a tracked
            file name such as ``<video><scorer>_el.h5``) or ``.csv``.
        force : bool, default False
            Overwrite even a file that changed on disk since the session read or saved it, one
            it never read, or recreate one that was deleted.

        Returns
        -------
        list of Path
            The tracks file and its edit log.

        Raises
        ------
        TracksChangedOnDiskError
            If the file changed on disk since it was read or saved, was deleted meanwhile, or
            exists but was not read by this session (and ``force`` is False): nothing written.
        SaveError
            If writing failed (disk full, read-only folder): the file on disk is unchanged
            and the session keeps its edits (it is still dirty). Also when the tracks were
            saved but the edit log could not be written (the message says so).
        ValueError
            If ``path`` is not a ``.h5`` or ``.csv`` file name.
        """
        target = Path(path) if path is not None else self.save_path
        if target is None:
            raise ValueError("no file to save to: give a path")
        if target.suffix.lower() not in SAVE_SUFFIXES:
            raise ValueError(
                f"cannot save tracks as {target.name}: DeepLabCut's .h5 (or .csv) is written"
            )
        if not force:
            self._check_target(target)
        existed = target.is_file()
        write_predictions(self.predictions, target, backup=True)
        digest = content_hash(target)
        record_written(target, digest)
        self._known[os.path.abspath(target)] = digest
        self.last_backup = (list_backups(target) or [None])[0] if existed else None
        previous = self._saved_steps
        self._saved_steps = {s.serial: s.edit.describe() for s in self._done}
        self._saved_serial = self._state()
        self.save_path = target
        log = self._log(target, digest, previous)
        return [target, log]

    def _check_target(self, target: Path) -> None:
        known = self._known.get(os.path.abspath(target))
        if known is None:
            if target.exists():
                raise TracksChangedOnDiskError(
                    target,
                    "exists and is not the file this session read or saved; choose another "
                    "name, or save anyway (the old file is kept as a backup)",
                )
            return
        if not target.exists():
            raise TracksChangedOnDiskError(
                target,
                "was deleted or moved by another program after it was read; save anyway to "
                "write it there again",
            )
        if content_hash(target) != known:
            raise TracksChangedOnDiskError(
                target,
                "another program changed this file after it was read; saving would overwrite "
                "those changes. Open it again, or save under another name",
            )

    def _log(self, target: Path, digest: str, previous: dict[int, str]) -> Path:
        """Append this save to ``<target>.edits.json``; returns its path."""
        log = edits_path(target)
        entry: dict[str, Any] = {
            "time": datetime.now().astimezone().isoformat(timespec="seconds"),
            "saved": target.name,
            "sha256": digest,
            "source": os.path.abspath(self.path) if self.path is not None else None,
            "source_sha256": self.source_sha256,
            "n_frames": self.n_frames,
            "individuals": list(self.individuals),
            "edits": [s.to_dict() for s in self._done],
            "new": [s.edit.describe() for s in self._done if s.serial not in previous],
            "undone": [
                text for serial, text in previous.items() if serial not in self._saved_steps
            ],
        }
        try:
            doc = read_edit_log(log)
        except FileNotFoundError:
            doc = {"format": LOG_FORMAT, "version": 1, "file": target.name, "saves": []}
        except (OSError, ValueError) as exc:  # kept as a backup by the write below
            doc = {"format": LOG_FORMAT, "version": 1, "file": target.name, "saves": []}
            entry["note"] = f"the previous log could not be read ({exc}); it is in the backups"
        doc["saves"].append(entry)
        try:
            atomic_write(log, json.dumps(doc, indent=1) + "\n")
        except SaveError as exc:
            raise SaveError(
                f"{target} was saved, but its edit history could not be written: {exc}"
            ) from exc
        return log


def _canonical(pred: Predictions, where: object, n_frames: int | None, copy: bool) -> Predictions:
    """``pred`` with DeepLabCut's column order (identity by identity, each with the first
    identity's body parts; ``single`` last) and one row per frame ``0 .. T-1``."""
    if not pred.multi_animal:
        raise PredictionsError(f"{where}: a single-animal table has no identities to proofread")
    individuals = [i for i in pred.unique_individuals if i != "single"]
    if not individuals:
        raise PredictionsError(f"{where}: no individuals (only unique body parts)")
    cols = {key: c for c, key in enumerate(pred.keypoints)}
    bodyparts = [b for (i, b) in cols if i == individuals[0]]
    for ind in individuals[1:]:
        if sorted(b for (i, b) in cols if i == ind) != sorted(bodyparts):
            raise PredictionsError(
                f"{where}: individual {ind!r} has other body parts than {individuals[0]!r}"
            )
    order = [cols[(i, b)] for i in individuals for b in bodyparts]
    order += [c for c, (i, _) in enumerate(pred.keypoints) if i == "single"]
    frames = pred.frames
    if len(frames) and (frames.min() < 0 or len(np.unique(frames)) != len(frames)):
        raise PredictionsError(f"{where}: its frame numbers are negative or repeated")
    n_rows = int(frames.max()) + 1 if len(frames) else 0
    if n_frames is not None and n_rows > n_frames:
        raise PredictionsError(
            f"{where}: holds frames up to {n_rows - 1} but the video has {n_frames} frames; "
            "is it the tracks of another video?"
        )
    total = n_rows if n_frames is None else int(n_frames)
    if total == 0:
        raise PredictionsError(f"{where}: no rows (frames)")
    notes = list(pred.notes)
    dense = len(frames) == total and bool((frames == np.arange(total)).all())
    if dense and order == list(range(len(order))):
        data = np.array(pred.data, order="C") if copy else np.ascontiguousarray(pred.data)
    else:
        data = np.full((total, len(order), 3), np.nan)
        data[frames] = pred.data[:, order]
        if not dense:
            notes.append(f"{total - len(frames)} frames have no row in the file: no points there")
    return Predictions(
        data=data,
        bodyparts=tuple(pred.bodyparts[c] for c in order),
        individuals=tuple(pred.individuals[c] for c in order),
        scorer=pred.scorer,
        frames=np.arange(total),
        multi_animal=True,
        path=pred.path,
        meta=dict(pred.meta),
        notes=notes,
    )
