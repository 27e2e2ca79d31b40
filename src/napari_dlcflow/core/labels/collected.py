"""DeepLabCut label files: ``CollectedData_<scorer>.h5/.csv`` and ``machinelabels-iter<N>.h5``.

Reading accepts every form seen in the wild: single animal, multi-animal and multi-animal with
unique body parts; the row index as ``("labeled-data", stem, "img0042.png")`` tuples, as one
string (``labeled-data/m4s1/img0000.png``) or with Windows backslashes; the HDF key
``df_with_missing`` or the older ``keypoints``; CSV files with one or three index columns and
short header rows. Writing always produces the canonical DeepLabCut 3 form: a 3-level row
index, key ``df_with_missing``, pandas fixed format, and the same table as CSV.

Data safety:

- Loading never writes. A zero-byte, truncated or otherwise unreadable file raises
  :class:`CorruptLabelsError` and :func:`write_labels` refuses to overwrite it.
- :func:`write_labels` builds both files in memory first and puts each in place with
  :func:`~napari_dlcflow.core.safe_io.atomic_write` (backup generation, temp file in the same
  folder, fsync, replace). If the CSV fails after the h5 succeeded, the h5 is put back.
- ``likelihood`` (machine labels) is kept apart in :attr:`Labels.likelihood` and never written
  to CollectedData.
- Differences between a file and ``config.yaml`` are reported by :func:`compare_with_config`
  and only resolved by an explicit mapping in :func:`conform_to_config`.
"""

from __future__ import annotations

import csv
import hashlib
import io
import os
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from napari_dlcflow.core.keypoints.model import (
    HDF5_SIGNATURE,
    HDF_KEY,
    UNIQUE_INDIVIDUAL,
    Keypoints,
    KeypointsFileError,
)
from napari_dlcflow.core.safe_io import SaveError, atomic_write, changed_outside, record_written
from napari_dlcflow.core.untrusted import (
    check_csv_text,
    check_values,
    named_errors,
    quoted,
    read_hdf_table,
    restore_pair,
    shorten,
)
from napari_dlcflow.core.video.reader import image_files

if TYPE_CHECKING:
    import pandas as pd

    from napari_dlcflow.core.project.config import Project

__all__ = [
    "HDF_KEY",
    "LEGACY_HDF_KEYS",
    "UNIQUE_INDIVIDUAL",
    "ConfigDiff",
    "CorruptLabelsError",
    "DuplicateNamesError",
    "FolderMismatchError",
    "Labels",
    "LabelsChangedOnDiskError",
    "LabelsError",
    "SavedLabels",
    "collected_data_path",
    "compare_with_config",
    "config_keypoints",
    "conform_to_config",
    "empty_labels",
    "file_stamp",
    "find_label_files",
    "folder_images",
    "labels_from_dataframe",
    "labels_to_dataframe",
    "load_folder",
    "merge_labels",
    "points_outside",
    "read_into_folder",
    "read_labels",
    "remap_folder",
    "sort_rows",
    "write_labels",
]

LEGACY_HDF_KEYS = ("keypoints",)
_HEADER_NAMES = ("scorer", "individuals", "bodyparts", "coords")


# ---------------------------------------------------------------------------------- errors
class LabelsError(KeypointsFileError):
    """A label file cannot be used as it is; the message names the file and the problem."""


class CorruptLabelsError(LabelsError):
    """The file is empty, truncated or not a label table; it is never overwritten."""


class DuplicateNamesError(LabelsError):
    """The file names a body part, individual or image twice."""


class FolderMismatchError(LabelsError):
    """The rows of the file name another labeled-data folder than the one it is in."""


class LabelsChangedOnDiskError(LabelsError):
    """Another program changed the label file since it was read."""


# ---------------------------------------------------------------------------------- model
@dataclass
class Labels(Keypoints):
    """A label table: keypoints of every image, as DeepLabCut stores them; a
    :class:`~napari_dlcflow.core.keypoints.Keypoints`.

    Attributes
    ----------
    scorer : str
        The scorer (the labeler's name, or the network's for machine labels).
    keypoints : list of (str, str)
        ``(individual, bodypart)`` of each column pair, in file order. ``individual`` is ``""``
        in a single-animal table and ``"single"`` for unique body parts.
    images : list of tuple of str
        Row index, canonical ``("labeled-data", <video stem>, <image name>)``.
    xy : ndarray of shape (images, keypoints, 2)
        ``x, y`` in pixels; NaN where a keypoint is not labeled.
    likelihood : ndarray of shape (images, keypoints) or None
        Network confidence (machine labels only); never written to CollectedData.
    multianimal : bool
        Whether the table has an ``individuals`` column level.
    source : Path or None
        The file it was read from.
    stamp : tuple or None
        :func:`file_stamp` of ``source`` when read, to detect changes by other programs.
    notes : list of str
        Legacy forms met while reading (saved in the canonical form).
    """

    scorer: str
    keypoints: list[tuple[str, str]]
    images: list[tuple[str, ...]]
    xy: np.ndarray
    likelihood: np.ndarray | None = None
    multianimal: bool = False
    source: Path | None = None
    stamp: tuple[int, int, str] | None = None
    notes: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        self._check_shapes()

    @property
    def n_rows(self) -> int:
        """Number of images."""
        return len(self.images)

    @property
    def row_names(self) -> list[str]:
        """Each image as ``labeled-data/<stem>/<image>``."""
        return ["/".join(row) for row in self.images]

    @property
    def bodyparts(self) -> list[str]:
        """Body parts in column order (each once, unique ones included):
        :attr:`~Keypoints.bodypart_names`."""
        return self.bodypart_names

    @property
    def individuals(self) -> list[str]:
        """Individuals in column order (each once), ``"single"`` included; empty if single
        animal: :attr:`~Keypoints.individual_names`."""
        return self.individual_names

    @property
    def image_names(self) -> list[str]:
        """The last part of each row (the image file name)."""
        return [row[-1] for row in self.images]

    def copy(self) -> Labels:
        """A deep copy (arrays copied)."""
        return replace(
            self,
            keypoints=list(self.keypoints),
            images=list(self.images),
            xy=self.xy.copy(),
            likelihood=None if self.likelihood is None else self.likelihood.copy(),
            notes=list(self.notes),
        )

    def equals(self, other: Labels) -> bool:
        """Same scorer, columns, rows (in order) and values, NaN equal to NaN."""
        return (
            self.scorer == other.scorer
            and self.keypoints == other.keypoints
            and self.images == other.images
            and self.multianimal == other.multianimal
            and np.array_equal(self.xy, other.xy, equal_nan=True)
        )


@dataclass(frozen=True)
class SavedLabels:
    """What :func:`write_labels` wrote."""

    h5: Path
    csv: Path | None
    backups: tuple[Path, ...]
    stamp: tuple[int, int, str]


def empty_labels(
    scorer: str,
    keypoints: Sequence[tuple[str, str]],
    images: Sequence[tuple[str, ...]],
    *,
    multianimal: bool = False,
) -> Labels:
    """A table with the given columns and rows and nothing labeled."""
    return Labels(
        scorer=scorer,
        keypoints=list(keypoints),
        images=[tuple(r) for r in images],
        xy=np.full((len(images), len(keypoints), 2), np.nan),
        multianimal=multianimal,
    )


# ---------------------------------------------------------------------------------- helpers
def file_stamp(path: str | os.PathLike) -> tuple[int, int, str]:
    """``(size, mtime_ns, sha256)`` of a file, to notice changes made by other programs."""
    p = Path(path)
    data = p.read_bytes()
    st = p.stat()
    return (st.st_size, st.st_mtime_ns, hashlib.sha256(data).hexdigest())


def _split_row(value: Any, folder_stem: str | None) -> tuple[tuple[str, ...], bool]:
    """Canonical row tuple of one index entry, and whether it was a legacy form."""
    if isinstance(value, tuple):
        parts = tuple("" if v is None else str(v) for v in value)
        if len(parts) == 3:
            return parts, False
        text = "/".join(p for p in parts if p)
    else:
        text = str(value)
    parts = tuple(p for p in re.split(r"[\\/]+", text) if p)
    if len(parts) >= 3:
        return parts[-3:], True
    if len(parts) == 2:
        return ("labeled-data", *parts), True
    if len(parts) == 1 and folder_stem:
        return ("labeled-data", folder_stem, parts[0]), True
    raise ValueError(f"row {quoted(value)} does not name an image")


def _assemble(
    path: Path | None,
    columns: Sequence[tuple[str, ...]],
    values: np.ndarray,
    rows: Sequence[Any],
    folder_stem: str | None,
) -> Labels:
    """Build :class:`Labels` from column tuples ``(scorer, [individual,] bodypart, coord)``."""
    if not columns:
        raise CorruptLabelsError(path, "the table has no columns")
    nlev = len(columns[0])
    if nlev not in (3, 4) or any(len(c) != nlev for c in columns):
        raise CorruptLabelsError(
            path, "columns are not scorer/bodyparts/coords or scorer/individuals/bodyparts/coords"
        )
    multi = nlev == 4
    scorers = list(dict.fromkeys(c[0] for c in columns))
    if len(scorers) != 1:
        raise LabelsError(
            path, f"more than one scorer in the columns: {shorten(', '.join(scorers))}"
        )
    seen: set[tuple[str, ...]] = set()
    dups: list[str] = []
    keypoints: list[tuple[str, str]] = []
    where: dict[tuple[str, str], dict[str, int]] = {}
    for j, col in enumerate(columns):
        if col in seen:
            dups.append("/".join(col[1:]))
        seen.add(col)
        ind, bp, coord = (col[1], col[2], col[3]) if multi else ("", col[1], col[2])
        key = (ind, bp)
        if key not in where:
            where[key] = {}
            keypoints.append(key)
        where[key][coord] = j
    if dups:
        raise DuplicateNamesError(path, f"duplicate columns: {shorten(', '.join(dups))}")
    unknown = {c for d in where.values() for c in d} - {"x", "y", "likelihood"}
    if unknown:
        raise CorruptLabelsError(
            path, f"unknown coordinate names: {shorten(', '.join(sorted(unknown)))}"
        )
    lacking = [
        f"{i}/{b}" if i else b for (i, b), d in where.items() if "x" not in d or "y" not in d
    ]
    if lacking:
        raise CorruptLabelsError(path, f"x or y missing for: {shorten(', '.join(lacking))}")
    if multi:
        for ind in dict.fromkeys(i for i, _ in keypoints):
            parts = [b for i, b in keypoints if i == ind]
            if len(set(parts)) != len(parts):
                raise DuplicateNamesError(path, f"individual {quoted(ind)} has a body part twice")
    has_lik = any("likelihood" in d for d in where.values())
    n = len(rows)
    xy = np.empty((n, len(keypoints), 2))
    lik = np.full((n, len(keypoints)), np.nan) if has_lik else None
    for k, key in enumerate(keypoints):
        d = where[key]
        xy[:, k, 0] = values[:, d["x"]]
        xy[:, k, 1] = values[:, d["y"]]
        if lik is not None and "likelihood" in d:
            lik[:, k] = values[:, d["likelihood"]]
    notes: list[str] = []
    images: list[tuple[str, ...]] = []
    for r in rows:
        try:
            row, legacy = _split_row(r, folder_stem)
        except ValueError as exc:
            raise CorruptLabelsError(path, str(exc)) from None
        if legacy and "legacy row index" not in notes:
            notes.append("legacy row index")
        images.append(row)
    if len(set(images)) != len(images):
        counts: dict[tuple[str, ...], int] = {}
        for r in images:
            counts[r] = counts.get(r, 0) + 1
        twice = [r[-1] for r, c in counts.items() if c > 1]
        raise DuplicateNamesError(path, f"images listed twice: {shorten(', '.join(twice[:5]))}")
    return Labels(
        scorer=scorers[0],
        keypoints=keypoints,
        images=images,
        xy=xy,
        likelihood=lik,
        multianimal=multi,
        source=path,
        notes=notes,
    )


# ---------------------------------------------------------------------------------- reading
def labels_from_dataframe(
    df: pd.DataFrame, *, source: Path | None = None, folder_stem: str | None = None
) -> Labels:
    """Turn a DLC label DataFrame (any of its forms) into :class:`Labels`."""
    cols = [tuple(str(v) for v in c) for c in df.columns.to_flat_index()]
    try:
        values = df.to_numpy(dtype=float)
    except (TypeError, ValueError) as exc:
        raise CorruptLabelsError(
            source, f"non-numeric values in the table ({shorten(exc)})"
        ) from None
    return _assemble(source, cols, values, list(df.index), folder_stem)


def _check_hdf(path: Path) -> None:
    size = path.stat().st_size
    if size == 0:
        raise CorruptLabelsError(path, "the file is empty (0 bytes); it will not be overwritten")
    with open(path, "rb") as fh:
        head = fh.read(8)
    if head != HDF5_SIGNATURE:
        raise CorruptLabelsError(
            path, "not an HDF5 file (bad signature); it will not be overwritten"
        )


def _read_h5(path: Path, folder_stem: str | None) -> Labels:
    _check_hdf(path)
    df, key = read_hdf_table(  # in a child process unless we wrote this very file
        path,
        prefer=(HDF_KEY, *LEGACY_HDF_KEYS),
        error=lambda problem: CorruptLabelsError(path, f"{problem}; it will not be overwritten"),
    )
    labels = labels_from_dataframe(df, source=path, folder_stem=folder_stem)
    if key != HDF_KEY:
        labels.notes.append(f"legacy HDF key {key!r}")
    return labels


def _read_csv(path: Path, folder_stem: str | None) -> Labels:
    try:
        text = path.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError as exc:
        raise CorruptLabelsError(path, f"not UTF-8 text ({exc.reason})") from None
    if not text.strip():
        raise CorruptLabelsError(path, "the file is empty")
    check_csv_text(path, text, lambda problem: CorruptLabelsError(path, problem))
    table = list(csv.reader(io.StringIO(text)))
    headers: dict[str, list[str]] = {}
    i = 0
    while i < len(table) and table[i] and table[i][0].strip() in _HEADER_NAMES:
        headers[table[i][0].strip()] = table[i]
        i += 1
    if not {"scorer", "bodyparts", "coords"} <= headers.keys():
        raise CorruptLabelsError(path, "no scorer/bodyparts/coords header rows: not a DLC table")
    coords_row = headers["coords"]
    n_index = 1
    while n_index < len(coords_row) and coords_row[n_index].strip() == "":
        n_index += 1
    width = len(coords_row) - n_index
    while width and coords_row[n_index + width - 1].strip() == "":
        width -= 1
    levels = [h for h in _HEADER_NAMES if h in headers]
    cols_by_level: list[list[str]] = []
    for name in levels:
        cells = [c.strip() for c in headers[name][n_index:]]
        extra = [c for c in cells[width:] if c]
        if extra:
            raise CorruptLabelsError(path, f"header row {name!r} is longer than the coords row")
        cells = cells[:width]
        # short header rows (a merged header written by some tools): carry the last name on
        last = cells[-1] if cells else ""
        cells += [last] * (width - len(cells))
        for j in range(1, width):
            if cells[j] == "":
                cells[j] = cells[j - 1]
        cols_by_level.append(cells)
    columns = [tuple(level[j] for level in cols_by_level) for j in range(width)]
    rows: list[Any] = []
    values = np.full((len(table) - i, width), np.nan)
    r = 0
    for line in table[i:]:
        if not line or not any(c.strip() for c in line):
            continue
        idx = [c.strip() for c in line[:n_index]]
        rows.append(tuple(idx) if n_index > 1 else idx[0])
        cells = line[n_index:]
        if any(c.strip() for c in cells[width:]):
            raise CorruptLabelsError(path, f"row {quoted(idx[-1])} has more values than columns")
        for j, c in enumerate(cells[:width]):
            c = c.strip()
            if c:
                try:
                    values[r, j] = float(c)
                except ValueError:
                    raise CorruptLabelsError(
                        path, f"row {quoted(idx[-1])}: {quoted(c)} is not a number"
                    ) from None
        r += 1
    labels = _assemble(path, columns, values[:r], rows, folder_stem)
    if n_index == 1 and "legacy row index" not in labels.notes:
        labels.notes.append("legacy row index")
    return labels


def read_labels(path: str | os.PathLike, *, folder_stem: str | None = None) -> Labels:
    """Read a label file (``.h5`` or ``.csv``). Never writes anything.

    Parameters
    ----------
    path : path-like
        ``CollectedData_<scorer>.h5/.csv``, ``machinelabels-iter<N>.h5`` or any DLC table.
    folder_stem : str, optional
        The video stem to use for rows that name only an image.

    Returns
    -------
    Labels
        With :attr:`Labels.stamp` of the file as read.

    Raises
    ------
    FileNotFoundError
        If the file does not exist.
    CorruptLabelsError
        If it is empty, truncated or not a label table.
    DuplicateNamesError
        If a body part, individual or image appears twice.
    """
    p = Path(path)
    if not p.is_file():
        raise FileNotFoundError(f"{p}: no such label file")
    suffix = p.suffix.lower()
    stamp = file_stamp(p)
    with named_errors(p, lambda problem: CorruptLabelsError(p, problem), (LabelsError,)):
        if suffix in (".h5", ".hdf5", ".hdf"):
            labels = _read_h5(p, folder_stem)
        elif suffix == ".csv":
            labels = _read_csv(p, folder_stem)
        else:
            raise LabelsError(p, "not a label file (expected .h5 or .csv)")
    check_values(labels.xy, labels.likelihood, lambda problem: CorruptLabelsError(p, problem))
    labels.stamp = stamp
    return labels


# ---------------------------------------------------------------------------------- writing
def labels_to_dataframe(labels: Labels, *, with_likelihood: bool = False) -> pd.DataFrame:
    """The canonical DLC 3 DataFrame of ``labels``.

    Parameters
    ----------
    labels : Labels
        The table.
    with_likelihood : bool, default False
        Add ``likelihood`` columns (machine-label files only; never CollectedData).
    """
    import pandas as pd

    coords = ["x", "y"]
    lik = labels.likelihood if with_likelihood else None
    if lik is not None:
        coords.append("likelihood")
    n, k = len(labels.images), len(labels.keypoints)
    stack = [labels.xy[..., 0], labels.xy[..., 1]]
    if lik is not None:
        stack.append(lik)
    values = np.stack(stack, axis=-1).reshape(n, k * len(coords))
    if labels.multianimal:
        names = ["scorer", "individuals", "bodyparts", "coords"]
        tuples = [(labels.scorer, i, b, c) for i, b in labels.keypoints for c in coords]
    else:
        names = ["scorer", "bodyparts", "coords"]
        tuples = [(labels.scorer, b, c) for _, b in labels.keypoints for c in coords]
    columns = pd.MultiIndex.from_tuples(tuples, names=names)
    index = pd.MultiIndex.from_tuples([tuple(r) for r in labels.images]) if n else None
    return pd.DataFrame(values, index=index, columns=columns)


def _hdf_bytes(df: pd.DataFrame) -> bytes:
    """The bytes of an HDF5 file holding ``df`` under :data:`HDF_KEY` (fixed format), made in
    memory so nothing touches the disk before :func:`atomic_write`."""
    import pandas as pd

    with pd.HDFStore(
        f"dlcflow-in-memory-{os.getpid()}-{id(df)}.h5",
        mode="w",
        driver="H5FD_CORE",
        driver_core_backing_store=0,
    ) as store:
        store.put(HDF_KEY, df, format="fixed")
        store._handle.flush()
        return bytes(store._handle.get_file_image())


def collected_data_path(folder: str | os.PathLike, scorer: str) -> Path:
    """``<folder>/CollectedData_<scorer>.h5``."""
    return Path(folder) / f"CollectedData_{scorer}.h5"


def write_labels(
    labels: Labels,
    folder: str | os.PathLike,
    *,
    scorer: str | None = None,
    csv_too: bool = True,
    expected_stamp: tuple[int, int, str] | None = None,
    keep: int = 5,
    file_scorer: str | None = None,
) -> SavedLabels:
    """Save ``labels`` as ``CollectedData_<scorer>.h5`` (+ ``.csv``) in ``folder``.

    ``likelihood`` is never written. The previous files are kept as backups; a failure leaves
    them byte-identical.

    Parameters
    ----------
    labels : Labels
        The table to save (it is not modified).
    folder : path-like
        The ``labeled-data/<video stem>`` folder.
    scorer : str, optional
        Scorer to write under (default: ``labels.scorer``).
    csv_too : bool, default True
        Also write the CSV, as DeepLabCut does.
    expected_stamp : tuple, optional
        :func:`file_stamp` of the h5 when it was read; if the file changed since,
        :class:`LabelsChangedOnDiskError` is raised.
    keep : int, default 5
        Backup generations to keep.
    file_scorer : str, optional
        Scorer in the file name when it differs from the scorer inside the table (a file
        whose scorer does not match its name is saved back under its own name).

    Raises
    ------
    CorruptLabelsError
        If the h5 on disk cannot be read: it is never overwritten.
    LabelsChangedOnDiskError
        If the h5 changed on disk since ``expected_stamp``.
    SaveError
        If writing fails (read-only folder, disk full, ...): old files unchanged.
    """
    scorer = scorer or labels.scorer
    out = labels if scorer == labels.scorer else replace(labels, scorer=scorer)
    h5 = collected_data_path(folder, file_scorer or scorer)
    csv_path = h5.with_suffix(".csv")
    if h5.exists():
        current = file_stamp(h5)
        # size and content, not the modification time: a plain `touch` is not a change
        if expected_stamp is not None and current[::2] != expected_stamp[::2]:
            raise LabelsChangedOnDiskError(
                h5, "another program changed this file after it was read; reload or merge first"
            )
        if expected_stamp is not None and csv_too and changed_outside(csv_path):
            raise LabelsChangedOnDiskError(
                csv_path,
                "another program changed the CSV (not the h5, which DeepLabCut reads) after it "
                "was saved; move it away or import it to keep those edits, or save anyway",
            )
        if expected_stamp is None:  # not known to be the file we read: check it is readable
            try:
                _read_h5(h5, None)
            except LabelsError as exc:
                raise CorruptLabelsError(
                    h5,
                    f"the file on disk is unreadable ({exc.problem}); it is not overwritten. "
                    "Move it away to save here.",
                ) from None
    df = labels_to_dataframe(out, with_likelihood=False)
    payload = _hdf_bytes(df)
    csv_text = df.to_csv() if csv_too else None
    old_h5 = h5.read_bytes() if h5.exists() else None
    backups: list[Path] = []
    made = atomic_write(h5, payload, keep=keep)
    if made:
        backups.append(made)
    if csv_text is not None:
        try:
            made_csv = atomic_write(csv_path, csv_text, keep=keep)
        except SaveError as exc:
            raise restore_pair(h5, old_h5, made, exc) from exc
        if made_csv:
            backups.append(made_csv)
        record_written(csv_path)
    record_written(h5)
    return SavedLabels(h5, csv_path if csv_too else None, tuple(backups), file_stamp(h5))


# ---------------------------------------------------------------------------------- folders
def folder_images(folder: str | os.PathLike) -> list[Path]:
    """Image files of a labeled-data folder in natural order (the frames of its image layer:
    :func:`napari_dlcflow.core.video.reader.image_files`)."""
    return image_files(folder)


def find_label_files(folder: str | os.PathLike) -> dict[str, list[Path]]:
    """CollectedData and machine-label files of a folder.

    Returns
    -------
    dict
        ``{"collected_h5": [...], "collected_csv": [...], "machine": [...]}``.
    """
    f = Path(folder)
    return {
        "collected_h5": sorted(f.glob("CollectedData_*.h5")),
        "collected_csv": sorted(f.glob("CollectedData_*.csv")),
        "machine": sorted(f.glob("machinelabels*.h5")),
    }


def load_folder(folder: str | os.PathLike, scorer: str | None = None) -> Labels | None:
    """Read the CollectedData of a labeled-data folder (h5, else the CSV); None if there is none.

    Raises
    ------
    FolderMismatchError
        If the rows name another folder (a renamed folder); use :func:`remap_folder`
        explicitly after showing it to the user.
    """
    f = Path(folder)
    found = find_label_files(f)
    pick: Path | None = None
    for kind in ("collected_h5", "collected_csv"):
        cands = found[kind]
        if scorer:
            cands = [p for p in cands if p.stem == f"CollectedData_{scorer}"]
        if cands:
            pick = cands[0]
            break
    if pick is None:
        return None
    labels = read_labels(pick, folder_stem=f.name)
    stems = sorted({r[1] for r in labels.images})
    if stems and stems != [f.name]:
        raise FolderMismatchError(
            pick,
            f"the labels name the folder {shorten(', '.join(stems))} but the file is in "
            f"{f.name!r} (renamed folder?). Nothing was loaded; remap explicitly to use them "
            "here.",
        )
    return labels


def remap_folder(labels: Labels, stem: str) -> Labels:
    """The same labels with every row moved to ``labeled-data/<stem>`` (image names kept, so
    no label moves to another image)."""
    out = labels.copy()
    out.images = [("labeled-data", stem, r[-1]) for r in labels.images]
    if len(set(out.images)) != len(out.images):
        raise DuplicateNamesError(labels.source, "remapping would merge two rows into one")
    return out


def read_into_folder(folder: str | os.PathLike) -> Labels:
    """The labels of a renamed ``labeled-data`` folder, every row moved to the folder's name.

    What the user accepts after :class:`FolderMismatchError`: the project scorer's h5 (else
    its csv) is read and remapped with :func:`remap_folder`; the file's stamp is kept, so a
    save still refuses a file another program changed since.

    Raises
    ------
    FileNotFoundError
        If the folder holds no CollectedData file.
    LabelsError
        If the file cannot be read, or remapping would merge two rows.
    """
    f = Path(folder)
    files = find_label_files(f)
    found = files["collected_h5"] or files["collected_csv"]
    if not found:
        raise FileNotFoundError(f"{f}: no CollectedData file to remap")
    labels = read_labels(found[0])
    moved = remap_folder(labels, f.name)
    moved.stamp = labels.stamp
    return moved


# ---------------------------------------------------------------------------------- config
@dataclass(frozen=True)
class ConfigDiff:
    """How a label table differs from ``config.yaml``.

    Attributes
    ----------
    missing : list of (str, str)
        Keypoints the config has and the file lacks (they get empty columns).
    extra : list of (str, str)
        Keypoints the file has and the config lacks (never dropped silently).
    renames : dict
        Suggested mapping extra -> missing when they sit at the same position.
    scorer_file, scorer_config : str
        The two scorers.
    order_differs : bool
        Same keypoints in another order.
    """

    missing: list[tuple[str, str]]
    extra: list[tuple[str, str]]
    renames: dict[tuple[str, str], tuple[str, str]]
    scorer_file: str
    scorer_config: str
    order_differs: bool

    @property
    def scorer_differs(self) -> bool:
        return self.scorer_file != self.scorer_config

    @property
    def columns_differ(self) -> bool:
        return bool(self.missing or self.extra)

    @property
    def ok(self) -> bool:
        """Nothing to ask the user about."""
        return not (self.columns_differ or self.scorer_differs)

    def keep_all(self, *, renamed: bool = True) -> dict[tuple[str, str], tuple[str, str]]:
        """A :func:`conform_to_config` mapping that keeps every extra column of the file.

        Each goes under its suggested new name (:attr:`renames`) when ``renamed``, else under
        its own name (what the Labeling dock does when the config changes under open labels:
        no label is ever dropped).
        """
        return {k: (self.renames.get(k, k) if renamed else k) for k in self.extra}

    def describe(self) -> str:
        """The difference in words, one line per item."""

        def name(k: tuple[str, str]) -> str:
            return shorten(f"{k[0]}/{k[1]}" if k[0] else k[1], 80)

        lines = []
        if self.missing:
            lines.append(
                "in config.yaml, not in the file: " + shorten(", ".join(map(name, self.missing)))
            )
        if self.extra:
            lines.append(
                "in the file, not in config.yaml: " + shorten(", ".join(map(name, self.extra)))
            )
        for a, b in self.renames.items():
            lines.append(f"renamed? {name(a)} -> {name(b)}")
        if self.scorer_differs:
            lines.append(
                f"scorer {quoted(self.scorer_file)} in the file, {quoted(self.scorer_config)} in "
                "config.yaml (DeepLabCut skips such files when exporting)"
            )
        return "\n".join(lines) or "the file matches config.yaml"


def config_keypoints(project: Project) -> tuple[list[tuple[str, str]], bool]:
    """Keypoint columns that ``project``'s config defines, and whether it is multi-animal."""
    if project.multianimal:
        kps = [(i, b) for i in project.individuals for b in project.bodyparts]
        kps += [(UNIQUE_INDIVIDUAL, b) for b in project.unique_bodyparts]
        return kps, True
    return [("", b) for b in project.bodyparts], False


def compare_with_config(labels: Labels, project: Project) -> ConfigDiff:
    """Report how ``labels`` differ from ``project``'s body parts, individuals and scorer."""
    want, _ = config_keypoints(project)
    have = labels.keypoints
    missing = [k for k in want if k not in have]
    extra = [k for k in have if k not in want]
    renames: dict[tuple[str, str], tuple[str, str]] = {}
    for e in extra:
        pos = have.index(e)
        if pos < len(want) and want[pos] in missing and want[pos][0] == e[0]:
            renames[e] = want[pos]
    common_have = [k for k in have if k in want]
    common_want = [k for k in want if k in have]
    return ConfigDiff(
        missing, extra, renames, labels.scorer, project.scorer, common_have != common_want
    )


def conform_to_config(
    labels: Labels,
    project: Project,
    mapping: Mapping[tuple[str, str], tuple[str, str] | None] | None = None,
) -> Labels:
    """Reorder ``labels`` to the config's columns, with an explicit choice for every extra one.

    Parameters
    ----------
    labels : Labels
        As read.
    project : Project
        The config to follow.
    mapping : dict, optional
        For each keypoint of the file the config lacks: the config keypoint to move its labels
        to, itself to keep it as an extra column (after the config's), or None to drop it
        (an explicit choice). Every extra keypoint must appear.

    Raises
    ------
    LabelsError
        If an extra keypoint has no entry in ``mapping`` (it would be lost), or two columns are
        mapped to the same keypoint.
    """
    want, multi = config_keypoints(project)
    mapping = dict(mapping or {})
    diff = compare_with_config(labels, project)
    unresolved = [k for k in diff.extra if k not in mapping]
    if unresolved:
        names = ", ".join(f"{i}/{b}" if i else b for i, b in unresolved)
        raise LabelsError(
            labels.source, f"no choice made for columns not in config.yaml: {shorten(names)}"
        )
    want = list(want) + [k for k in diff.extra if mapping.get(k) == k]
    xy = np.full((len(labels.images), len(want), 2), np.nan)
    lik = None if labels.likelihood is None else np.full((len(labels.images), len(want)), np.nan)
    filled: set[int] = set()
    for k, key in enumerate(labels.keypoints):
        target = mapping.get(key, key) if key in diff.extra else key
        if target is None:
            continue
        if target not in want:
            raise LabelsError(
                labels.source, f"mapping target {quoted(target)} is not in config.yaml"
            )
        t = want.index(target)
        if t in filled:
            raise LabelsError(labels.source, f"two columns map to {quoted(target)}")
        filled.add(t)
        xy[:, t] = labels.xy[:, k]
        if lik is not None and labels.likelihood is not None:
            lik[:, t] = labels.likelihood[:, k]
    out = labels.copy()
    out.keypoints, out.xy, out.likelihood, out.multianimal = list(want), xy, lik, multi
    return out


# ---------------------------------------------------------------------------------- content
def points_outside(labels: Labels, sizes: Mapping[str, tuple[int, int]]) -> list[str]:
    """Labels DeepLabCut would drop: not strictly inside ``0 < x < width``, ``0 < y < height``.

    Parameters
    ----------
    labels : Labels
        The table.
    sizes : dict
        Image name -> ``(height, width)``.

    Returns
    -------
    list of str
        ``"<image> <keypoint> (x, y)"`` for each such label.
    """
    out: list[str] = []
    for r, row in enumerate(labels.images):
        hw = sizes.get(row[-1])
        if hw is None:
            continue
        h, w = hw
        for k, (ind, bp) in enumerate(labels.keypoints):
            x, y = labels.xy[r, k]
            if np.isnan(x) or np.isnan(y):
                continue
            if not (0 < x < w and 0 < y < h):
                name = f"{ind}/{bp}" if ind else bp
                out.append(f"{row[-1]} {name} ({x:g}, {y:g})")
    return out


def merge_labels(base: Labels, incoming: Labels, *, overwrite: bool = False) -> Labels:
    """Add ``incoming`` rows and columns to ``base`` without deleting anything in ``base``.

    Used to promote (refined) machine labels to ground truth: an empty cell of ``incoming``
    never removes a label of ``base``; likelihood is dropped.

    Parameters
    ----------
    base, incoming : Labels
        Ground truth and the labels to add (same multi-animal kind).
    overwrite : bool, default False
        Replace values ``base`` already has with ``incoming``'s (only where ``incoming`` has
        one).
    """
    if base.multianimal != incoming.multianimal:
        raise LabelsError(incoming.source, "cannot merge single- and multi-animal labels")
    keypoints = list(dict.fromkeys([*base.keypoints, *incoming.keypoints]))
    images = list(dict.fromkeys([*base.images, *incoming.images]))
    xy = np.full((len(images), len(keypoints), 2), np.nan)
    ki = [keypoints.index(k) for k in base.keypoints]
    ri = [images.index(r) for r in base.images]
    xy[np.ix_(ri, ki)] = base.xy
    ki2 = [keypoints.index(k) for k in incoming.keypoints]
    ri2 = [images.index(r) for r in incoming.images]
    cur = xy[np.ix_(ri2, ki2)]
    new = incoming.xy
    has_new = ~np.isnan(new).any(axis=-1)
    has_cur = ~np.isnan(cur).any(axis=-1)
    take = has_new & (overwrite | ~has_cur)
    cur[take] = new[take]
    xy[np.ix_(ri2, ki2)] = cur
    return Labels(
        scorer=base.scorer,
        keypoints=keypoints,
        images=images,
        xy=xy,
        multianimal=base.multianimal,
        source=base.source,
        stamp=base.stamp,
    )


def sort_rows(labels: Labels, order: Iterable[tuple[str, ...]] | None = None) -> Labels:
    """Rows sorted by image name (or in ``order``), as DeepLabCut sorts them before saving."""
    rows = list(order) if order is not None else sorted(labels.images, key=lambda r: r[-1])
    idx = [labels.images.index(r) for r in rows]
    out = labels.copy()
    out.images = rows
    out.xy = labels.xy[idx]
    if labels.likelihood is not None:
        out.likelihood = labels.likelihood[idx]
    return out
