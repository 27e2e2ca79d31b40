"""DeepLabCut label files from another project or scorer, and Lightning Pose CSV files.

Both are DeepLabCut tables and are read with
:func:`napari_dlcflow.core.labels.collected.read_labels`
(every header and index variant; ``likelihood`` of machine labels is dropped).

- ``dlc``: ``CollectedData_<scorer>.h5/.csv`` (or ``machinelabels-iter<N>.h5``) of a
  ``labeled-data/<stem>/`` folder. Rows name ``labeled-data/<stem>/<image>``; the image is
  looked up in the project the file belongs to, then beside the file (files copied between
  folders keep their old row names).
- ``lightning-pose``: Lightning Pose's ``CollectedData.csv``: a DeepLabCut header (scorer,
  bodyparts, coords) with one index column of image paths relative to the CSV's folder (its
  data directory), e.g. ``labeled-data/mouse1/img0001.png``.
"""

from __future__ import annotations

import csv
import io
import os
from pathlib import Path, PurePosixPath, PureWindowsPath
from typing import TYPE_CHECKING

from napari_dlcflow.core.formats._model import ForeignLabels, FormatError, FrameRef
from napari_dlcflow.core.keypoints.model import is_hdf5
from napari_dlcflow.core.untrusted import quoted

if TYPE_CHECKING:
    from napari_dlcflow.core.keypoints import Keypoints
    from napari_dlcflow.core.labels.collected import Labels

__all__ = [
    "LP_NAME",
    "NAME",
    "read",
    "read_lightning_pose",
    "sniff",
    "sniff_lightning_pose",
    "write_lightning_pose",
]

NAME = "dlc"
LP_NAME = "lightning-pose"


def _csv_head(p: Path, n: int = 6) -> list[list[str]]:
    with open(p, encoding="utf-8-sig", errors="replace") as fh:
        text = "".join(fh.readline() for _ in range(n))
    return list(csv.reader(io.StringIO(text)))


def _index_columns(head: list[list[str]]) -> int:
    """How many index columns a DLC CSV has (from its ``coords`` header row)."""
    for row in head:
        if row and row[0].strip() == "coords":
            return next((i for i, c in enumerate(row) if c.strip() in ("x", "y")), 1)
    return 1


def _in_labeled_data(p: Path) -> bool:
    return p.parent.parent.name == "labeled-data"


def sniff(path: str | os.PathLike) -> bool:
    """Whether ``path`` is a DeepLabCut label table in a ``labeled-data`` layout. Never raises."""
    try:
        p = Path(path)
        if not p.is_file():
            return False
        if p.suffix.lower() in (".h5", ".hdf5"):
            return is_hdf5(p)
        if p.suffix.lower() != ".csv":
            return False
        head = _csv_head(p)
        if not head or not head[0] or head[0][0].strip() != "scorer":
            return False
        return not sniff_lightning_pose(p)
    except Exception:
        return False


def sniff_lightning_pose(path: str | os.PathLike) -> bool:
    """Whether ``path`` is a Lightning Pose label CSV (DLC header, one path column, not in a
    ``labeled-data/<stem>`` folder). Never raises."""
    try:
        p = Path(path)
        if not p.is_file() or p.suffix.lower() != ".csv" or _in_labeled_data(p):
            return False
        head = _csv_head(p)
        if not (head and head[0] and head[0][0].strip() == "scorer") or _index_columns(head) != 1:
            return False
        # Lightning Pose stores paths relative to the CSV's folder; a DLC file copied elsewhere
        # names images that are not there
        first = next(
            (
                r[0]
                for r in head
                if r and r[0].strip() not in ("scorer", "individuals", "bodyparts", "coords")
            ),
            None,
        )
        if first is None:
            return True
        rel = PureWindowsPath(first) if "\\" in first else PurePosixPath(first)
        return p.parent.joinpath(*rel.parts).is_file()
    except Exception:
        return False


def _read_table(p: Path) -> Labels:
    from napari_dlcflow.core.labels.collected import LabelsError, read_labels
    from napari_dlcflow.core.video.reader import IMAGE_SUFFIXES

    try:
        labels = read_labels(p, folder_stem=p.parent.name)
    except LabelsError as exc:
        raise FormatError(p, exc.problem) from None
    odd = [r[-1] for r in labels.images if not r[-1].lower().endswith(IMAGE_SUFFIXES)]
    if odd:
        raise FormatError(
            p,
            f"rows do not name images (e.g. {quoted(odd[0])}): this looks like analysis output "
            "of a video, not labels of images; open it over its video with the Overlay dock",
        )
    return labels


def _foreign(labels: Labels, fmt: str, path: Path, frames: list[FrameRef]) -> ForeignLabels:
    """A DeepLabCut table read by :func:`_read_table` as :class:`ForeignLabels`.

    Parameters
    ----------
    labels : Labels
        The table; its likelihood (machine labels) is left out, and a note says so.
    fmt : str
        The reader's name (:data:`NAME` or :data:`LP_NAME`).
    path : Path
        The file read.
    frames : list of FrameRef
        Where each row's image is, one per row of ``labels``.
    """
    notes = list(labels.notes)
    if labels.likelihood is not None:
        notes.append("machine labels: likelihood left out")
    return ForeignLabels(
        format=fmt,
        source=path,
        keypoints=list(labels.keypoints),
        frames=frames,
        xy=labels.xy.copy(),
        multianimal=labels.multianimal,
        scorer=labels.scorer,
        notes=notes,
    )


def read(path: str | os.PathLike, *, group: str | None = None) -> ForeignLabels:
    """Read a DeepLabCut label file of another project or scorer.

    Parameters
    ----------
    path : path-like
        ``CollectedData_<scorer>.h5`` or ``.csv`` (any variant), or machine labels.
    group : str, optional
        ``labeled-data`` folder to import into (default: the video stem its rows name).
    """
    p = Path(path)
    labels = _read_table(p)
    project_root = p.parent.parent.parent if _in_labeled_data(p) else None
    frames = []
    for row in labels.images:
        cands = []
        if project_root is not None:
            cands.append(project_root.joinpath(*row))
        cands.append(p.parent / row[-1])
        img = next((c for c in cands if c.is_file()), cands[0])
        # a file copied out of its labeled-data folder: its images are beside it, and the
        # folder it is in names the group better than the row it inherited
        beside = project_root is None or img != cands[0]
        frames.append(
            FrameRef(name=row[-1], group=group or (p.parent.name if beside else row[1]), image=img)
        )
    return _foreign(labels, NAME, p, frames)


def read_lightning_pose(path: str | os.PathLike, *, group: str | None = None) -> ForeignLabels:
    """Read a Lightning Pose ``CollectedData.csv``; image paths are relative to its folder.

    Parameters
    ----------
    path : path-like
        The CSV file.
    group : str, optional
        ``labeled-data`` folder to import into (default: each image's parent folder name).
    """
    p = Path(path)
    labels = _read_table(p)
    head_rows = 0
    raw: list[str] = []
    with open(p, encoding="utf-8-sig") as fh:
        for row in csv.reader(fh):
            if (
                head_rows < 3
                and row
                and row[0].strip() in ("scorer", "bodyparts", "coords", "individuals")
            ):
                continue
            head_rows = 3
            if row and any(c.strip() for c in row):
                raw.append(row[0])
    if len(raw) != len(labels.images):
        raise FormatError(p, f"{len(raw)} index entries for {len(labels.images)} rows")
    frames = []
    for name in raw:
        rel = PureWindowsPath(name) if "\\" in name else PurePosixPath(name)
        img = p.parent.joinpath(*rel.parts)
        grp = group or _lp_group(rel, p)
        frames.append(FrameRef(name=name, group=grp, image=img))
    return _foreign(labels, LP_NAME, p, frames)


#: Folder names that say only "images here": an image directly inside one of them is named
#: after the dataset (the CSV's folder) instead, e.g. Lightning Pose's ``labeled-data/img1.png``.
_GENERIC_FOLDERS = {"", ".", "labeled-data", "labeled_data", "images", "frames", "imgs"}


def _lp_group(rel: PurePosixPath | PureWindowsPath, csv_path: Path) -> str:
    """The ``labeled-data`` folder an image of a Lightning Pose CSV goes to: its own folder,
    unless that is a generic one, then the dataset's folder (the CSV's)."""
    parent = rel.parent.name
    if parent.lower() not in _GENERIC_FOLDERS:
        return parent
    return csv_path.resolve().parent.name or csv_path.stem


def write_lightning_pose(data: Keypoints, path: str | os.PathLike) -> Path:
    """Write keypoints as a Lightning Pose ``CollectedData.csv``, atomically.

    The header is DeepLabCut's (``scorer``, [``individuals``,] ``bodyparts``, ``coords``) with
    ``x, y`` only; the one index column holds each row's image path as
    :attr:`~napari_dlcflow.core.keypoints.Keypoints.row_names` gives it, which for a project's
    :class:`~napari_dlcflow.core.labels.collected.Labels` is ``labeled-data/<stem>/<image>``,
    relative to the project folder: write the CSV there for Lightning Pose to find the images.

    Returns
    -------
    Path
        The file written.
    """
    from napari_dlcflow.core.labels.collected import Labels, labels_to_dataframe
    from napari_dlcflow.core.safe_io import atomic_write

    names = data.row_names
    table = Labels(
        scorer=data.scorer or "lightning-pose",
        keypoints=list(data.keypoints),
        images=[(n,) for n in names],
        xy=data.xy,
        multianimal=data.multianimal,
    )
    df = labels_to_dataframe(table)
    df.index = names
    out = Path(path)
    atomic_write(out, df.to_csv(), keep=3)
    return out
