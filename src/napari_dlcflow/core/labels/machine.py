"""Machine labels: a model's predictions on the images of a labeled-data folder.

DeepLabCut keeps them in ``labeled-data/<video>/machinelabels-iter<N>.h5`` (the table of a label
file plus a ``likelihood`` coordinate, the network's scorer, ``N`` the project's iteration) and
``machinelabels.csv``. They are proposals, never ground truth: they only become labels when the
user accepts or corrects them and the result is merged into ``CollectedData`` by
:mod:`napari_dlcflow.core.refine.iteration`.

Writing merges with what is there: rows for other images are kept, a row for the same image is
replaced by the newer prediction, and the previous file goes to the backups
(:func:`~napari_dlcflow.core.safe_io.atomic_write`).
"""

from __future__ import annotations

import os
import re
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from napari_dlcflow.core.labels.collected import (
    Labels,
    LabelsError,
    _hdf_bytes,
    labels_to_dataframe,
    read_labels,
    sort_rows,
)
from napari_dlcflow.core.safe_io import atomic_write

if TYPE_CHECKING:
    from napari_dlcflow.core.predictions.analysis_files import Predictions

__all__ = [
    "MACHINE_CSV",
    "frame_index_of",
    "machine_labels_files",
    "machine_labels_path",
    "predictions_to_labels",
    "read_machine_labels",
    "write_machine_labels",
]

MACHINE_CSV = "machinelabels.csv"
_ITER_RE = re.compile(r"^machinelabels-iter(\d+)\.h5$")
_IMG_RE = re.compile(r"(\d+)\D*$")


def machine_labels_path(folder: str | os.PathLike, iteration: int) -> Path:
    """``<folder>/machinelabels-iter<iteration>.h5``."""
    return Path(folder) / f"machinelabels-iter{int(iteration)}.h5"


def machine_labels_files(folder: str | os.PathLike) -> dict[int, Path]:
    """Machine-label files of a folder by iteration (``machinelabels-iter<N>.h5``)."""
    out: dict[int, Path] = {}
    f = Path(folder)
    if not f.is_dir():
        return out
    for p in f.iterdir():
        m = _ITER_RE.match(p.name)
        if m and p.is_file():
            out[int(m.group(1))] = p
    return dict(sorted(out.items()))


def frame_index_of(image_name: str) -> int | None:
    """The video frame index in a DeepLabCut image name (``img0042.png`` -> 42), else None."""
    m = _IMG_RE.search(Path(image_name).stem)
    return int(m.group(1)) if m else None


def read_machine_labels(folder: str | os.PathLike, iteration: int | None = None) -> Labels | None:
    """The machine labels of a folder: those of ``iteration``, or of the newest iteration.

    Returns None when the folder has none.

    Raises
    ------
    LabelsError
        If the file is unreadable (it names the file).
    """
    files = machine_labels_files(folder)
    if not files:
        return None
    if iteration is None:
        path = files[max(files)]
    elif int(iteration) in files:
        path = files[int(iteration)]
    else:
        return None
    labels = read_labels(path, folder_stem=Path(folder).name)
    if labels.likelihood is None:
        labels.likelihood = np.where(np.isnan(labels.xy[..., 0]), np.nan, 1.0)
    return labels


def predictions_to_labels(
    pred: Predictions,
    frames: Sequence[int],
    image_names: Sequence[str],
    folder_stem: str,
    *,
    offset: tuple[float, float] = (0.0, 0.0),
) -> Labels:
    """Machine labels for some frames of an analysis.

    Parameters
    ----------
    pred : Predictions
        The video's analysis
        (:class:`~napari_dlcflow.core.predictions.analysis_files.Predictions`).
    frames : sequence of int
        Video frame indices (must be rows of ``pred``).
    image_names : sequence of str
        The image file of each frame (``img0042.png``).
    folder_stem : str
        The ``labeled-data`` folder name.
    offset : (float, float)
        Subtracted from ``x, y`` (the crop origin when frames were saved cropped).
    """
    row_of = {int(f): i for i, f in enumerate(pred.frames)}
    missing = [f for f in frames if int(f) not in row_of]
    if missing:
        raise LabelsError(
            pred.source,
            f"the analysis has no row for frame(s) {', '.join(map(str, missing[:5]))}",
        )
    rows = [row_of[int(f)] for f in frames]
    # the same model on both sides: only the row names change (frame numbers -> images)
    return Labels(
        scorer=str(pred.scorer),
        keypoints=pred.keypoints,
        images=[("labeled-data", folder_stem, str(n)) for n in image_names],
        xy=pred.xy[rows] - np.asarray(offset, dtype=float),
        likelihood=pred.likelihood[rows].copy(),
        multianimal=pred.multianimal,
    )


def _merge_replacing(old: Labels, new: Labels) -> Labels:
    """Rows of ``old`` not in ``new`` plus all of ``new`` (columns: the union)."""
    keypoints = list(dict.fromkeys([*old.keypoints, *new.keypoints]))
    keep_old = [i for i, r in enumerate(old.images) if r not in set(new.images)]
    images = [old.images[i] for i in keep_old] + list(new.images)
    n, k = len(images), len(keypoints)
    xy = np.full((n, k, 2), np.nan)
    lik = np.full((n, k), np.nan)
    ko = [keypoints.index(c) for c in old.keypoints]
    kn = [keypoints.index(c) for c in new.keypoints]
    m = len(keep_old)
    if m:
        xy[np.ix_(range(m), ko)] = old.xy[keep_old]
        if old.likelihood is not None:
            lik[np.ix_(range(m), ko)] = old.likelihood[keep_old]
    xy[np.ix_(range(m, n), kn)] = new.xy
    if new.likelihood is not None:
        lik[np.ix_(range(m, n), kn)] = new.likelihood
    return Labels(
        scorer=new.scorer,
        keypoints=keypoints,
        images=images,
        xy=xy,
        likelihood=lik,
        multianimal=new.multianimal,
    )


def write_machine_labels(labels: Labels, folder: str | os.PathLike, iteration: int) -> Path:
    """Write (or extend) ``machinelabels-iter<iteration>.h5`` and ``machinelabels.csv``.

    Rows already in the file for other images are kept; rows for the same images are replaced.
    Both files are written atomically; the previous ones go to the backups.

    Raises
    ------
    LabelsError
        If the existing file is unreadable (it is not overwritten) or of the other
        (single/multi-animal) kind.
    """
    path = machine_labels_path(folder, iteration)
    merged = labels
    if path.exists():
        old = read_labels(path, folder_stem=Path(folder).name)
        if old.multianimal != labels.multianimal:
            raise LabelsError(path, "holds labels of the other kind (single vs multi-animal)")
        if old.likelihood is None:
            old.likelihood = np.where(np.isnan(old.xy[..., 0]), np.nan, 1.0)
        merged = _merge_replacing(old, labels)
    merged = sort_rows(merged)
    df = labels_to_dataframe(merged, with_likelihood=True)
    Path(folder).mkdir(parents=True, exist_ok=True)
    atomic_write(path, _hdf_bytes(df))
    atomic_write(Path(folder) / MACHINE_CSV, df.to_csv())
    return path
