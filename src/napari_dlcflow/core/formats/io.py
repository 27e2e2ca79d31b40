"""One IO facade: load and save every keypoint format by content and suffix.

:func:`load_file` and :func:`save_file` are the anchor style of sleap-io: one call that finds
the format (:func:`detect_kind`, which never raises) and routes to the one module that knows it.
Each returns or takes a :class:`~napari_dlcflow.core.keypoints.Keypoints`:

======================  ===============  ===========================================  ======
kind                    type             module                                       save
======================  ===============  ===========================================  ======
``collected-data``      Labels           ``core/labels/collected.py`` (h5 + csv)      yes
``machine-labels``      Labels           ``core/labels/machine.py``                   yes
``dlc-analysis``        Predictions      ``core/predictions/analysis_files.py``       yes
``sleap``               ForeignLabels    ``core/formats/sleap.py`` (sleap-io)         no
``coco``                ForeignLabels    ``core/formats/coco.py``                     yes
``per-image-csv``       ForeignLabels    ``core/formats/per_image_csv.py``            yes
``lightning-pose``      ForeignLabels    ``core/formats/dlc.py``                      yes
======================  ===============  ===========================================  ======

DeepLabCut label tables load as :class:`~napari_dlcflow.core.labels.collected.Labels` (the
project's own files); ``load_file(path, format="dlc")`` reads one as foreign labels to import
instead. Writing is atomic everywhere (:func:`~napari_dlcflow.core.safe_io.atomic_writer`).
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from napari_dlcflow.core.keypoints.model import Keypoints, is_hdf5

if TYPE_CHECKING:
    from napari_dlcflow.core.labels.collected import Labels

__all__ = ["KINDS", "detect_kind", "load_file", "save_file"]

KINDS: dict[str, str] = {
    "collected-data": "DeepLabCut CollectedData_<scorer>.h5/.csv (human labels)",
    "machine-labels": "DeepLabCut machinelabels-iter<N>.h5 (labels with likelihood)",
    "dlc-analysis": "DeepLabCut analysis output <video><scorer>.h5/.csv (predictions)",
    "sleap": "SLEAP project (.slp)",
    "coco": "COCO keypoints JSON",
    "per-image-csv": "one CSV per image (a folder of CSVs and images)",
    "lightning-pose": "Lightning Pose CollectedData.csv (paths relative to the CSV)",
    "dlc": "DeepLabCut labels of another project or scorer, read for import",
}
"""Format name -> description."""

_MACHINE = re.compile(r"^machinelabels-iter(\d+)\.h5$", re.IGNORECASE)
_TABLE_SUFFIXES = (".h5", ".hdf5", ".hdf", ".csv")


def _kind_by_name(p: Path) -> str | None:
    """DeepLabCut's own label files are known by their names too."""
    if _MACHINE.match(p.name):
        return "machine-labels"
    if p.name.startswith("CollectedData_") and p.suffix.lower() in (".h5", ".csv"):
        return "collected-data"
    return None


def detect_kind(path: str | os.PathLike) -> str | None:
    """The format of ``path`` (one of :data:`KINDS`) by suffix and content; None if unknown.

    Never raises: missing, unreadable or foreign files give None.
    """
    from napari_dlcflow.core.formats import detect_format
    from napari_dlcflow.core.predictions.analysis_files import is_analysis_file

    try:
        p = Path(path)
        if not p.exists():
            return None
        if p.is_file() and _MACHINE.match(p.name) and is_hdf5(p):
            return "machine-labels"
        if p.is_file() and p.suffix.lower() in _TABLE_SUFFIXES and is_analysis_file(p):
            return "dlc-analysis"
        fmt = detect_format(p)
    except Exception:
        return None
    return "collected-data" if fmt == "dlc" else fmt


def load_file(path: str | os.PathLike, format: str | None = None, **options: Any) -> Keypoints:
    """Read keypoints from any format the package knows.

    Parameters
    ----------
    path : path-like
        The file (or a folder of per-image CSV files).
    format : str, optional
        One of :data:`KINDS`; detected from suffix and content when omitted.
    **options
        Passed to the format's reader (e.g. ``predictions=True`` for SLEAP, ``group=`` for the
        foreign readers).

    Returns
    -------
    Keypoints
        :class:`~napari_dlcflow.core.labels.collected.Labels`,
        :class:`~napari_dlcflow.core.predictions.analysis_files.Predictions` or
        :class:`~napari_dlcflow.core.formats.ForeignLabels` (see the module's table).

    Raises
    ------
    FileNotFoundError
        If ``path`` does not exist.
    FormatError
        If no reader knows the file, or ``format`` is unknown.
    LabelsError, PredictionsError
        If the file is of a DeepLabCut kind but unreadable (the message names the file).
    """
    from napari_dlcflow.core.formats import FormatError, read_foreign

    p = Path(path)
    if not p.exists():
        raise FileNotFoundError(f"{p}: no such file or folder")
    # a damaged CollectedData file gets DeepLabCut's own, specific error, not "unknown format"
    kind = format or detect_kind(p) or _kind_by_name(p)
    if kind is None:
        raise FormatError(
            p,
            "not a keypoint format we know ("
            + "; ".join(KINDS[k] for k in KINDS if k != "dlc")
            + ")",
        )
    if kind not in KINDS:
        raise FormatError(p, f"unknown format {kind!r}; one of {', '.join(KINDS)}")
    if kind in ("collected-data", "machine-labels"):
        from napari_dlcflow.core.labels.collected import read_labels

        return read_labels(p, **options)
    if kind == "dlc-analysis":
        from napari_dlcflow.core.predictions.analysis_files import read_predictions

        return read_predictions(p, **options)
    return read_foreign(p, kind, **options)


def _kind_for_save(data: Keypoints, p: Path) -> str:
    from napari_dlcflow.core.formats import FormatError
    from napari_dlcflow.core.predictions.analysis_files import Predictions

    suffix = p.suffix.lower()
    by_name = _kind_by_name(p)
    if by_name is not None:
        return by_name
    if suffix == ".json":
        return "coco"
    if isinstance(data, Predictions) and suffix in _TABLE_SUFFIXES:
        return "dlc-analysis"
    if suffix == ".csv":
        return "lightning-pose"
    if p.is_dir() and not isinstance(data, Predictions):
        return "collected-data"
    raise FormatError(
        p,
        "cannot tell the format to save from the name; pass format= (one of "
        + ", ".join(k for k in KINDS if k not in ("sleap", "dlc"))
        + ")",
    )


def _need_labels(data: Keypoints, p: Path, kind: str) -> Labels:
    from napari_dlcflow.core.formats import FormatError
    from napari_dlcflow.core.labels.collected import Labels

    if not isinstance(data, Labels):
        raise FormatError(
            p,
            f"{kind} files hold a project's label tables; got {type(data).__name__} (import "
            "foreign labels into a project first, or turn predictions into machine labels "
            "with predictions_to_labels)",
        )
    return data


def _image_sizes(labels: Labels, root: Path) -> dict[tuple[str, ...], tuple[int, int]]:
    from PIL import Image

    from napari_dlcflow.core.formats import FormatError

    sizes: dict[tuple[str, ...], tuple[int, int]] = {}
    for row in labels.images:
        img = root.joinpath(*row)
        try:
            with Image.open(img) as im:
                w, h = im.size
        except (OSError, ValueError) as exc:
            raise FormatError(img, f"cannot read the image's size for COCO ({exc})") from None
        sizes[row] = (h, w)
    return sizes


def save_file(
    data: Keypoints,
    path: str | os.PathLike,
    format: str | None = None,
    **options: Any,
) -> list[Path]:
    """Write keypoints in a format chosen by ``format`` or by the name of ``path``.

    Parameters
    ----------
    data : Keypoints
        What to write. Label tables (CollectedData, machine labels, COCO) need
        :class:`~napari_dlcflow.core.labels.collected.Labels`, analysis files
        :class:`~napari_dlcflow.core.predictions.analysis_files.Predictions`; Lightning Pose
        and per-image CSV take any :class:`Keypoints` whose rows name images.
    path : path-like
        ``CollectedData_<scorer>.h5`` (or its ``labeled-data`` folder), ``machinelabels-iter<N>
        .h5``, an analysis ``.h5``/``.csv``, a COCO ``.json``, a Lightning Pose ``.csv``, or the
        folder for per-image CSV files.
    format : str, optional
        One of :data:`KINDS` (not ``sleap``: we do not write SLEAP files).
    **options
        ``collected-data``: as :func:`~napari_dlcflow.core.labels.collected.write_labels`
        (``csv_too``, ``expected_stamp``, ...); ``dlc-analysis``: ``csv=True`` adds the CSV;
        ``coco``: ``sizes`` (row -> (height, width); default read from the images under
        ``root``, default the project folder of ``data.source``), ``skeleton``, ``category``.

    Returns
    -------
    list of Path
        The files written.

    Raises
    ------
    FormatError
        If the format cannot hold ``data`` or cannot be told from the name.
    SaveError
        If writing fails; the previous files are unchanged.
    """
    from napari_dlcflow.core.formats import FormatError

    p = Path(path)
    kind = format or _kind_for_save(data, p)
    if kind == "collected-data":
        from napari_dlcflow.core.labels.collected import write_labels

        labels = _need_labels(data, p, kind)
        folder = p if p.is_dir() or not p.suffix else p.parent
        if p.name.startswith("CollectedData_"):
            options.setdefault("file_scorer", Path(p.name).stem.removeprefix("CollectedData_"))
        saved = write_labels(labels, folder, **options)
        return [saved.h5] + ([saved.csv] if saved.csv else [])
    if kind == "machine-labels":
        from napari_dlcflow.core.labels.machine import MACHINE_CSV, write_machine_labels

        labels = _need_labels(data, p, kind)
        m = _MACHINE.match(p.name)
        if m is None:
            raise FormatError(p, "machine labels are named machinelabels-iter<N>.h5")
        written = write_machine_labels(labels, p.parent, int(m.group(1)))
        return [written, p.parent / MACHINE_CSV]
    if kind == "dlc-analysis":
        from napari_dlcflow.core.predictions.analysis_files import Predictions, write_predictions

        if not isinstance(data, Predictions):
            raise FormatError(p, f"analysis files hold predictions; got {type(data).__name__}")
        return write_predictions(data, p, **options)
    if kind == "coco":
        from napari_dlcflow.core.formats import coco

        labels = _need_labels(data, p, kind)
        sizes: Mapping[tuple[str, ...], tuple[int, int]] | None = options.pop("sizes", None)
        if sizes is None:
            root = options.pop("root", None)
            if root is None:
                if labels.source is None:
                    raise FormatError(p, "give sizes= or root= (the labels were not read)")
                root = labels.source.parent.parent.parent
            sizes = _image_sizes(labels, Path(root))
        return [coco.write(p, coco.coco_document([labels], sizes, **options))]
    if kind == "lightning-pose":
        from napari_dlcflow.core.formats import dlc

        return [dlc.write_lightning_pose(data, p)]
    if kind == "per-image-csv":
        from napari_dlcflow.core.formats import per_image_csv

        return per_image_csv.write_keypoints(data, p)
    if kind in KINDS:
        raise FormatError(p, f"saving {kind} files is not supported")
    raise FormatError(p, f"unknown format {kind!r}; one of {', '.join(KINDS)}")
