"""One CSV file per image, as several labeling tools write them.

Each CSV belongs to the image of the same stem beside it (``dog_001.csv`` -> ``dog_001.jpg``).
It starts with a header block of any number of rows (tool name, image size, column names ...),
then one row per body part: ``name, x, y[, visibility, ...]``. The number of header rows and
the columns are configurable; by default the header ends at the first row whose x and y
columns are numbers. A body part named twice in one file is refused (which one is right?).
Empty or ``nan`` coordinates, and a visibility of 0 when a visibility column is given, leave the
body part unlabeled (counted in :attr:`ForeignLabels.notes`).
"""

from __future__ import annotations

import csv
import io
import math
import os
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from napari_dlcflow.core.formats._model import ForeignLabels, FormatError, FrameRef
from napari_dlcflow.core.untrusted import quoted, shorten
from napari_dlcflow.core.video.reader import IMAGE_SUFFIXES

if TYPE_CHECKING:
    from napari_dlcflow.core.keypoints import Keypoints

__all__ = ["NAME", "read", "sniff", "write", "write_keypoints"]

NAME = "per-image-csv"


def _float(text: str) -> float | None:
    try:
        return float(text.strip())
    except (ValueError, AttributeError):
        return None


def _rows(path: Path) -> list[list[str]]:
    text = path.read_text(encoding="utf-8-sig")
    sample = text[:4096]
    try:
        dialect = csv.Sniffer().sniff(sample, delimiters=",;\t")
        delim = dialect.delimiter
    except csv.Error:
        delim = ","
    return [r for r in csv.reader(io.StringIO(text), delimiter=delim)]


def _csv_files(path: Path) -> list[Path]:
    if path.is_dir():
        return sorted(p for p in path.iterdir() if p.suffix.lower() == ".csv" and p.is_file())
    return [path]


def _looks_like_point_file(path: Path) -> bool:
    rows = _rows(path)
    if not rows or (rows[0] and rows[0][0].strip().lower() == "scorer"):
        return False
    return any(
        len(r) >= 3 and r[0].strip() and _float(r[1]) is not None and _float(r[2]) is not None
        for r in rows
    )


def sniff(path: str | os.PathLike) -> bool:
    """Whether ``path`` is a per-image CSV (or a folder of them). Never raises."""
    try:
        p = Path(path)
        files = _csv_files(p)
        if not files or (p.is_file() and p.suffix.lower() != ".csv"):
            return False
        return all(_looks_like_point_file(f) for f in files[:3])
    except Exception:
        return False


def find_image(folder: Path, stem: str) -> Path | None:
    """The image of that stem in ``folder`` (any common suffix, any case), if there is one."""
    for suffix in IMAGE_SUFFIXES:
        for cand in (folder / f"{stem}{suffix}", folder / f"{stem}{suffix.upper()}"):
            if cand.is_file():
                return cand
    return None


def read(
    path: str | os.PathLike,
    *,
    header_rows: int | None = None,
    name_column: int = 0,
    x_column: int = 1,
    y_column: int = 2,
    visibility_column: int | None = None,
    image_folder: str | os.PathLike | None = None,
    group: str | None = None,
) -> ForeignLabels:
    """Read one per-image CSV or a folder of them.

    Parameters
    ----------
    path : path-like
        A CSV file, or a folder whose ``*.csv`` files are all read.
    header_rows : int, optional
        Rows to skip at the top of each file; default: up to the first row whose x and y
        columns are numbers.
    name_column, x_column, y_column : int
        0-based columns of the body part name and the coordinates.
    visibility_column : int, optional
        A column whose value 0 means "not visible" (the point is left unlabeled).
    image_folder : path-like, optional
        Where the images are (default: beside the CSV files).
    group : str, optional
        The ``labeled-data`` folder name to suggest (default: the CSV folder's name).

    Returns
    -------
    ForeignLabels
        Single-animal labels; body parts in the order first met.

    Raises
    ------
    FormatError
        If a file has no point rows, a row has too few columns or a non-number coordinate
        after the header, or a body part is named twice in one file.
    """
    src = Path(path)
    if not src.exists():
        raise FileNotFoundError(f"{src}: no such file or folder")
    files = _csv_files(src)
    if not files:
        raise FormatError(src, "no .csv files in this folder")
    folder = src if src.is_dir() else src.parent
    img_dir = Path(image_folder) if image_folder else folder
    grp = group or folder.name
    per_file: list[dict[str, tuple[float, float]]] = []
    order: list[str] = []
    hidden = nan = 0
    cols = [name_column, x_column, y_column] + (
        [visibility_column] if visibility_column is not None else []
    )
    need = max(cols) + 1
    for f in files:
        try:
            rows = _rows(f)
        except (OSError, UnicodeDecodeError) as exc:
            raise FormatError(f, f"cannot be read as text ({shorten(exc)})") from None
        if header_rows is None:
            start = next(
                (
                    i
                    for i, r in enumerate(rows)
                    if len(r) >= need
                    and _float(r[x_column]) is not None
                    and _float(r[y_column]) is not None
                ),
                None,
            )
            if start is None:
                raise FormatError(f, "no row with numeric x and y columns (wrong columns?)")
        else:
            start = int(header_rows)
        points: dict[str, tuple[float, float]] = {}
        for lineno, r in enumerate(rows[start:], start=start + 1):
            if not r or not any(c.strip() for c in r):
                continue
            if len(r) < need:
                raise FormatError(f, f"line {lineno} has {len(r)} columns, {need} expected")
            name = r[name_column].strip()
            if not name:
                raise FormatError(f, f"line {lineno} has no body part name")
            if name in points:
                raise FormatError(f, f"line {lineno}: body part {quoted(name)} is named twice")
            xs, ys = r[x_column].strip(), r[y_column].strip()
            x = _float(xs) if xs else math.nan
            y = _float(ys) if ys else math.nan
            if x is None or y is None:
                raise FormatError(
                    f, f"line {lineno}: x or y is not a number ({quoted(xs)}, {quoted(ys)})"
                )
            hidden_point = False
            if visibility_column is not None and _float(r[visibility_column]) == 0:
                x = y = math.nan
                hidden += 1
                hidden_point = True
            if not hidden_point and (math.isnan(x) or math.isnan(y)):
                nan += 1
            points[name] = (x, y)
            if name not in order:
                order.append(name)
        if not points:
            raise FormatError(f, "no body part rows after the header")
        per_file.append(points)
    xy = np.full((len(files), len(order), 2), np.nan)
    for i, points in enumerate(per_file):
        for name, (x, y) in points.items():
            xy[i, order.index(name)] = (x, y)
    frames = [
        FrameRef(
            name=f.stem,
            group=grp,
            image=find_image(img_dir, f.stem) or img_dir / f"{f.stem}.png",
        )
        for f in files
    ]
    notes = []
    if hidden:
        notes.append(f"{hidden} points with visibility 0 left unlabeled")
    if nan:
        notes.append(f"{nan} points without coordinates left unlabeled")
    return ForeignLabels(
        format=NAME,
        source=src,
        keypoints=[("", b) for b in order],
        frames=frames,
        xy=xy,
        notes=notes,
    )


def write(
    folder: str | os.PathLike,
    frames: Sequence[tuple[str, dict[str, tuple[float, float]]]],
    *,
    header: Sequence[Sequence[str]] = (("tool", "napari-dlcflow"), ("bodypart", "x", "y")),
) -> list[Path]:
    """Write per-image CSV files (``<stem>.csv``), e.g. to hand labels to another tool.

    Each file is written atomically. Points with NaN coordinates are written with empty x, y.
    """
    from napari_dlcflow.core.safe_io import atomic_write

    out: list[Path] = []
    for stem, points in frames:
        buf = io.StringIO()
        w = csv.writer(buf, lineterminator="\n")
        for row in header:
            w.writerow(row)
        for name, (x, y) in points.items():
            w.writerow(
                [
                    name,
                    "" if math.isnan(x) else repr(float(x)),
                    "" if math.isnan(y) else repr(float(y)),
                ]
            )
        p = Path(folder) / f"{stem}.csv"
        atomic_write(p, buf.getvalue(), backup=False)
        out.append(p)
    return out


def write_keypoints(data: Keypoints, folder: str | os.PathLike) -> list[Path]:
    """Write single-animal keypoints as one CSV per row (image) into ``folder``.

    Each file is named after the stem of the row's image (``.../img0042.png`` ->
    ``img0042.csv``), with :func:`write`'s default header.

    Raises
    ------
    FormatError
        If the data is multi-animal (the format has no individuals) or two rows share a stem.
    """
    out = Path(folder)
    if data.multianimal:
        raise FormatError(out, "per-image CSV files hold one animal; the data has individuals")
    stems = [Path(n.replace("\\", "/")).stem for n in data.row_names]
    if len(set(stems)) != len(stems):
        raise FormatError(out, "two rows have images of the same name; their CSVs would clash")
    bodyparts = [bp for _, bp in data.keypoints]
    frames = [
        (stem, {bp: (float(x), float(y)) for bp, (x, y) in zip(bodyparts, row, strict=True)})
        for stem, row in zip(stems, data.xy, strict=True)
    ]
    return write(out, frames)
