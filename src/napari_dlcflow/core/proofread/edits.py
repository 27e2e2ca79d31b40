"""Identity edits of multi-animal tracks: swap, give, delete, fill, merge, swap two body parts.

An :class:`Edit` names what to do (its kind, one or two identities, a frame range); it is small
and JSON-able, so a session's history can be saved beside the tracks and replayed. The edits
work on two arrays, the state of a proofreading session (:mod:`.session`):

- ``values`` of shape ``(T, N, K, 3)``: ``x, y, likelihood`` of body part ``k`` of identity
  ``n`` in frame ``t`` (NaN: absent), as in DeepLabCut's tracked files;
- ``filled`` of shape ``(T, N)``, bool: the frame's points of that identity were interpolated.

An identity is *present* in a frame when at least one of its body parts has an ``x`` (as
:meth:`~napari_dlcflow.core.predictions.tracks.Tracks.present`).

:func:`plan_edit` is pure: it reads the arrays and returns a :class:`Patch`, the new content of
the cells the edit changes (only those rows and identities, never a copy of the whole table),
or raises :class:`EditError` saying why the edit cannot apply. :func:`apply_edit` returns
edited copies. All work is vectorised numpy: an edit of a 100,000-frame, 4-animal, 13-part
table takes a few tens of milliseconds.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from numbers import Integral
from typing import Any

import numpy as np

__all__ = [
    "EDIT_KINDS",
    "FILL_LIKELIHOOD",
    "Edit",
    "EditError",
    "Patch",
    "apply_edit",
    "edit_range",
    "plan_edit",
]

EDIT_KINDS = ("swap", "give", "delete", "fill", "merge", "swap_parts")
"""What an edit can do (see :class:`Edit`)."""

FILL_LIKELIHOOD = 0.01
"""The likelihood of an interpolated point: the value DeepLabCut's ``refine_tracklets``
(``TrackletManager``) gives the points it fills in, so DeepLabCut and its pcutoff treat them as
uncertain, and a filled frame is recognised again when the file is read back."""

_TWO = ("swap", "give", "merge")  # kinds that need a second identity


class EditError(ValueError):
    """An edit that cannot apply; the message says why and names identities and frames."""


def _frames_text(start: int, stop: int | None) -> str:
    """``"from frame 120 to the end"``, ``"in frame 7"``, ``"in frames 10 to 19"``."""
    if stop is None:
        return f"from frame {start} to the end"
    if stop - start == 1:
        return f"in frame {start}"
    return f"in frames {start} to {stop - 1}"


def _frame_list(frames: np.ndarray, limit: int = 5) -> str:
    """``"12, 13, 15 and 4 more"``."""
    shown = ", ".join(str(int(f)) for f in frames[:limit])
    more = len(frames) - limit
    return f"{shown} and {more} more" if more > 0 else shown


@dataclass(frozen=True)
class Edit:
    """One identity edit.

    Attributes
    ----------
    kind : str
        One of :data:`EDIT_KINDS`:

        - ``swap``: exchange ``a``'s and ``b``'s points (likelihoods and filled marks too);
        - ``give``: move ``a``'s points to ``b`` (refused where ``b`` is present already);
        - ``delete``: remove ``a``'s points;
        - ``fill``: interpolate ``a``'s missing body parts linearly between the nearest
          frames before and after where they are known; the points get the likelihood
          :data:`FILL_LIKELIHOOD` and their frames are marked filled;
        - ``merge``: ``b``'s points go to ``a`` (``b`` is merged *into* ``a``; refused where
          both are present), ``b`` is left empty;
        - ``swap_parts``: exchange two body parts of ``a`` (``parts``: a left/right pair
          the tracking took the wrong way round), likelihoods too.
    a : str
        The identity edited.
    b : str or None
        The other identity (swap; give: the receiver; merge: the one merged into ``a``);
        None for delete and fill.
    start : int
        First frame, inclusive.
    stop : int or None
        End frame, exclusive; None: to the end of the video ("from ``start`` onward").
    parts : tuple of (str, str) or None
        The two body parts of a ``swap_parts`` edit; None for the other kinds.

    Raises
    ------
    EditError
        If the edit is malformed: unknown kind, a missing or extra second identity, the same
        identity twice, a negative start or an empty range.
    """

    kind: str
    a: str
    b: str | None = None
    start: int = 0
    stop: int | None = None
    parts: tuple[str, str] | None = None

    def __post_init__(self) -> None:
        if self.kind not in EDIT_KINDS:
            raise EditError(f"unknown edit {self.kind!r}: one of {', '.join(EDIT_KINDS)}")
        if not isinstance(self.a, str) or not self.a:
            raise EditError(f"a {self.kind} edit needs the identity it edits (a)")
        if self.kind == "swap_parts":
            parts = self.parts
            if (
                not isinstance(parts, (tuple, list))
                or len(parts) != 2
                or not all(isinstance(p, str) and p for p in parts)
                or parts[0] == parts[1]
            ):
                raise EditError(f"a swap_parts edit needs two different body parts, not {parts!r}")
            object.__setattr__(self, "parts", (str(parts[0]), str(parts[1])))
        elif self.parts is not None:
            raise EditError(f"a {self.kind} edit changes whole animals; parts must be None")
        if self.kind in _TWO:
            if not isinstance(self.b, str) or not self.b:
                raise EditError(f"a {self.kind} edit needs a second identity (b)")
            if self.b == self.a:
                raise EditError(f"a {self.kind} edit needs two identities, got {self.a!r} twice")
        elif self.b is not None:
            raise EditError(f"a {self.kind} edit changes one identity; b must be None")
        for name in ("start", "stop"):
            value = getattr(self, name)
            if value is None and name == "stop":
                continue
            if isinstance(value, bool) or not isinstance(value, Integral):
                raise EditError(f"{name} must be a frame number, not {value!r}")
            object.__setattr__(self, name, int(value))
        if self.start < 0:
            raise EditError(f"frame range starts at {self.start}: frames start at 0")
        if self.stop is not None and self.stop <= self.start:
            raise EditError(
                f"empty frame range {self.start} to {self.stop}: stop is exclusive and must be "
                "after start"
            )

    @property
    def frames(self) -> str:
        """The range in words: ``"from frame 120 to the end"``, ``"in frames 10 to 19"``."""
        return _frames_text(self.start, self.stop)

    def describe(self) -> str:
        """One line for a user, e.g. ``"swap female and male from frame 120 to the end"``."""
        if self.kind == "swap":
            return f"swap {self.a} and {self.b} {self.frames}"
        if self.kind == "give":
            return f"give {self.a}'s points {self.frames} to {self.b}"
        if self.kind == "delete":
            return f"delete {self.a}'s points {self.frames}"
        if self.kind == "fill":
            return f"fill {self.a}'s gaps {self.frames}"
        if self.kind == "swap_parts":
            assert self.parts is not None
            return f"swap {self.a}'s {self.parts[0]} and {self.parts[1]} {self.frames}"
        whole = self.start == 0 and self.stop is None
        return f"merge {self.b} into {self.a}" + ("" if whole else f" {self.frames}")

    def to_dict(self) -> dict[str, Any]:
        """``{"kind", "a", "b", "start", "stop"}`` (and ``"parts"`` for ``swap_parts``),
        JSON-able."""
        out: dict[str, Any] = {
            "kind": self.kind,
            "a": self.a,
            "b": self.b,
            "start": self.start,
            "stop": self.stop,
        }
        if self.parts is not None:
            out["parts"] = list(self.parts)
        return out

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> Edit:
        """The edit of :meth:`to_dict` (other keys, such as a saved description, are ignored).

        Raises
        ------
        EditError
            If ``d`` is not such a mapping or describes a malformed edit.
        """
        if not isinstance(d, Mapping) or "kind" not in d or "a" not in d:
            raise EditError(f"not an edit (needs at least 'kind' and 'a'): {str(d)[:200]}")
        parts = d.get("parts")
        return cls(
            kind=d["kind"],
            a=d["a"],
            b=d.get("b"),
            start=d.get("start", 0),
            stop=d.get("stop"),
            parts=tuple(parts) if isinstance(parts, (list, tuple)) else parts,
        )


@dataclass(frozen=True, eq=False)
class Patch:
    """The content of some rows (frames) of some identities: what an edit writes, or what was
    there before (kept to undo it).

    Attributes
    ----------
    frames : ndarray of int of shape (F,)
        The frames, increasing.
    ids : tuple of int
        The identities (indices into the individuals).
    values : ndarray of shape (F, len(ids), K, 3)
        ``x, y, likelihood`` of those cells.
    filled : ndarray of bool of shape (F, len(ids))
        Their filled marks.
    """

    frames: np.ndarray
    ids: tuple[int, ...]
    values: np.ndarray
    filled: np.ndarray

    @property
    def span(self) -> tuple[int, int]:
        """The frame range ``[start, stop)`` it covers."""
        return int(self.frames[0]), int(self.frames[-1]) + 1

    @property
    def nbytes(self) -> int:
        """Memory held."""
        return int(self.frames.nbytes + self.values.nbytes + self.filled.nbytes)

    @classmethod
    def read(
        cls, values: np.ndarray, filled: np.ndarray, frames: np.ndarray, ids: Sequence[int]
    ) -> Patch:
        """The current content of ``frames`` x ``ids`` (a copy)."""
        frames = np.asarray(frames, dtype=np.intp)
        rows, cols = _rows(frames), list(ids)
        return cls(frames, tuple(ids), values[rows, cols], filled[rows, cols])

    def current(self, values: np.ndarray, filled: np.ndarray) -> Patch:
        """What ``values`` and ``filled`` hold now in this patch's cells (a copy)."""
        return Patch.read(values, filled, self.frames, self.ids)

    def write(self, values: np.ndarray, filled: np.ndarray) -> None:
        """Write the patch into ``values`` and ``filled`` (in place)."""
        rows, cols = _rows(self.frames), list(self.ids)
        values[rows, cols] = self.values
        filled[rows, cols] = self.filled


def _rows(frames: np.ndarray) -> slice | np.ndarray:
    """Index of the rows ``frames``: a slice for a run of frames (cheaper than a gather)."""
    lo, hi = int(frames[0]), int(frames[-1]) + 1
    return slice(lo, hi) if hi - lo == len(frames) else frames[:, None]


# ------------------------------------------------------------------------------- checks


def edit_range(edit: Edit, n_frames: int) -> tuple[int, int]:
    """The frames ``[start, stop)`` of ``edit`` in a video of ``n_frames`` frames.

    Raises
    ------
    EditError
        If the range reaches outside frames ``0 .. n_frames - 1``.
    """
    stop = n_frames if edit.stop is None else edit.stop
    if edit.start >= n_frames or stop > n_frames:
        last = f"frame {edit.stop - 1}" if edit.stop is not None else "the end"
        raise EditError(
            f"cannot {edit.describe()}: frames {edit.start} to {last} are outside the video "
            f"(frames 0 to {n_frames - 1})"
        )
    return edit.start, stop


def _index(name: str, individuals: Sequence[str]) -> int:
    try:
        return list(individuals).index(name)
    except ValueError:
        raise EditError(
            f"unknown identity {name!r}: the identities are {', '.join(individuals)}"
        ) from None


def _check_arrays(values: np.ndarray, filled: np.ndarray, individuals: Sequence[str]) -> None:
    if values.ndim != 4 or values.shape[3] != 3:
        raise ValueError(f"values must have shape (T, N, K, 3), not {values.shape}")
    if filled.shape != values.shape[:2]:
        raise ValueError(f"filled must have shape {values.shape[:2]}, not {filled.shape}")
    if len(individuals) != values.shape[1]:
        raise ValueError(f"{len(individuals)} individuals for {values.shape[1]} identities")


def _present(v: np.ndarray) -> np.ndarray:
    """``(F,)`` bool of ``(F, K, 3)`` values: at least one body part has an x."""
    return ~np.isnan(v[..., 0]).all(axis=1)


def _holds(v: np.ndarray, f: np.ndarray) -> np.ndarray:
    """``(F,)`` bool: any value at all (a stray likelihood too) or a filled mark."""
    return ~np.isnan(v).all(axis=(1, 2)) | f


# --------------------------------------------------------------------------------- edits


def plan_edit(
    edit: Edit,
    values: np.ndarray,
    filled: np.ndarray,
    individuals: Sequence[str],
    bodyparts: Sequence[str] | None = None,
) -> Patch:
    """What ``edit`` changes in ``values`` and ``filled`` (neither is modified).

    Parameters
    ----------
    edit : Edit
        The edit.
    values : ndarray of shape (T, N, K, 3)
        ``x, y, likelihood`` of every identity in every frame (NaN: absent).
    filled : ndarray of bool of shape (T, N)
        Which frames of which identity hold interpolated points.
    individuals : sequence of str
        The N identities' names.
    bodyparts : sequence of str, optional
        The K body parts' names (needed by ``swap_parts``).

    Returns
    -------
    Patch
        The new content of the cells that change.

    Raises
    ------
    EditError
        Unknown identity, a range outside the video, a conflict (give: the receiver is present
        where the giver is; merge: both are present), fill without a present frame on one side
        of a gap, or an edit that changes nothing.
    """
    _check_arrays(values, filled, individuals)
    lo, hi = edit_range(edit, values.shape[0])
    a = _index(edit.a, individuals)
    b = _index(edit.b, individuals) if edit.b is not None else -1
    if edit.kind == "swap":
        return _swap(edit, values, filled, a, b, lo, hi)
    if edit.kind == "give":
        return _move(edit, values, filled, a, b, lo, hi)
    if edit.kind == "merge":
        return _move(edit, values, filled, b, a, lo, hi)
    if edit.kind == "delete":
        return _delete(edit, values, filled, a, lo, hi)
    if edit.kind == "swap_parts":
        return _swap_parts(edit, values, filled, a, lo, hi, bodyparts)
    return _fill(edit, values, filled, a, lo, hi)


def apply_edit(
    edit: Edit,
    values: np.ndarray,
    filled: np.ndarray,
    individuals: Sequence[str],
    bodyparts: Sequence[str] | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """``values`` and ``filled`` after ``edit``, as new arrays (the inputs are not modified).

    See :func:`plan_edit` for the parameters and errors.
    """
    patch = plan_edit(edit, values, filled, individuals, bodyparts)
    out_values, out_filled = values.copy(), filled.copy()
    patch.write(out_values, out_filled)
    return out_values, out_filled


def _swap(
    edit: Edit, values: np.ndarray, filled: np.ndarray, a: int, b: int, lo: int, hi: int
) -> Patch:
    held = _holds(values[lo:hi, a], filled[lo:hi, a]) | _holds(values[lo:hi, b], filled[lo:hi, b])
    rows = lo + np.flatnonzero(held)
    if not rows.size:
        raise EditError(f"cannot {edit.describe()}: neither has points there, nothing to swap")
    rows = np.arange(rows[0], rows[-1] + 1)  # a run (a slice, cheaper); empty rows swap to same
    other = Patch.read(values, filled, rows, (b, a))
    return Patch(rows, (a, b), other.values, other.filled)


def _move(
    edit: Edit,
    values: np.ndarray,
    filled: np.ndarray,
    src: int,
    dst: int,
    lo: int,
    hi: int,
) -> Patch:
    """Give (``a`` -> ``b``) or merge (``b`` -> ``a``): ``src``'s points go to ``dst``."""
    moving = _present(values[lo:hi, src])
    clash = np.flatnonzero(moving & _present(values[lo:hi, dst])) + lo
    giver, taker = (edit.a, edit.b) if edit.kind == "give" else (edit.b, edit.a)
    if clash.size:
        if edit.kind == "give":
            why = (
                f"{taker} is already present in frame(s) {_frame_list(clash)} where {giver} is; "
                f"delete {taker}'s points there first, or swap instead"
            )
        else:
            why = (
                f"both are present in frame(s) {_frame_list(clash)} (one animal per identity "
                "and frame); delete or give one of them there first"
            )
        raise EditError(f"cannot {edit.describe()}: {why}")
    rows = lo + np.flatnonzero(moving)
    if not rows.size:
        raise EditError(
            f"cannot {edit.describe()}: {giver} has no points {_frames_text(lo, hi)}, "
            f"nothing to {edit.kind}"
        )
    now = Patch.read(values, filled, rows, (src, dst))
    new_values = np.full_like(now.values, np.nan)
    new_values[:, 1] = now.values[:, 0]
    new_filled = np.zeros_like(now.filled)
    new_filled[:, 1] = now.filled[:, 0]
    return Patch(rows, (src, dst), new_values, new_filled)


def _swap_parts(
    edit: Edit,
    values: np.ndarray,
    filled: np.ndarray,
    a: int,
    lo: int,
    hi: int,
    bodyparts: Sequence[str] | None,
) -> Patch:
    assert edit.parts is not None
    if bodyparts is None:
        raise EditError(f"cannot {edit.describe()}: the body parts' names are not known")
    names = list(bodyparts)
    missing = [p for p in edit.parts if p not in names]
    if missing:
        raise EditError(
            f"cannot {edit.describe()}: unknown body part {missing[0]!r} (the body parts are "
            f"{', '.join(names)})"
        )
    p, q = names.index(edit.parts[0]), names.index(edit.parts[1])
    va = values[lo:hi, a]
    held = ~np.isnan(va[:, [p, q], :2]).all(axis=(1, 2))
    rows = lo + np.flatnonzero(held)
    if not rows.size:
        raise EditError(f"cannot {edit.describe()}: neither part has a point there")
    now = Patch.read(values, filled, rows, (a,))
    new = now.values.copy()
    new[:, 0, [p, q]] = now.values[:, 0, [q, p]]
    return Patch(rows, (a,), new, now.filled)


def _delete(edit: Edit, values: np.ndarray, filled: np.ndarray, a: int, lo: int, hi: int) -> Patch:
    rows = lo + np.flatnonzero(_holds(values[lo:hi, a], filled[lo:hi, a]))
    if not rows.size:
        raise EditError(f"cannot {edit.describe()}: {edit.a} has no points there")
    k = values.shape[2]
    return Patch(
        rows, (a,), np.full((len(rows), 1, k, 3), np.nan), np.zeros((len(rows), 1), dtype=bool)
    )


def _fill(edit: Edit, values: np.ndarray, filled: np.ndarray, a: int, lo: int, hi: int) -> Patch:
    va = values[:, a]  # (T, K, 3), a view
    name, where = edit.a, _frames_text(lo, hi)
    present = _present(va)
    if not present.any():
        raise EditError(
            f"cannot fill {name}'s gaps: {name} has no points in any frame, so there is "
            "nothing to interpolate from"
        )
    gaps = lo + np.flatnonzero(~present[lo:hi])
    if gaps.size:
        first, last = int(gaps[0]), int(gaps[-1])
        if not present[:first].any():
            raise EditError(
                f"cannot fill {name}'s gaps {where}: {name} is missing in frame {first} and "
                "present in no frame before it; a gap is filled between two frames where the "
                f"animal is present (fill from frame {int(np.argmax(present))})"
            )
        if not present[last + 1 :].any():
            end = len(present) - int(np.argmax(present[::-1]))
            raise EditError(
                f"cannot fill {name}'s gaps {where}: {name} is missing in frame {last} and "
                "present in no frame after it; a gap is filled between two frames where the "
                f"animal is present (fill up to frame {end - 1})"
            )
    known = ~np.isnan(va[..., :2]).any(axis=-1)  # (T, K)
    new = va[lo:hi].copy()
    done = np.zeros((hi - lo, va.shape[1]), dtype=bool)
    for k in range(va.shape[1]):
        at = np.flatnonzero(known[:, k])
        todo = lo + np.flatnonzero(~known[lo:hi, k])
        if at.size < 2 or not todo.size:
            continue
        pos = np.searchsorted(at, todo)  # at[pos - 1] < t < at[pos]
        inside = (pos > 0) & (pos < at.size)
        t, pos = todo[inside], pos[inside]
        t0, t1 = at[pos - 1], at[pos]
        w = ((t - t0) / (t1 - t0))[:, None]
        p0, p1 = va[t0, k, :2], va[t1, k, :2]
        new[t - lo, k, :2] = p0 + w * (p1 - p0)
        new[t - lo, k, 2] = FILL_LIKELIHOOD
        done[t - lo, k] = True
    rows = np.flatnonzero(done.any(axis=1))
    if not rows.size:
        raise EditError(
            f"cannot fill {name}'s gaps {where}: no missing body part of {name} there has a "
            "known position before and after it"
        )
    return Patch(lo + rows, (a,), new[rows][:, None], np.ones((len(rows), 1), dtype=bool))
