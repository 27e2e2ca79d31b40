"""Foreign label formats: one module per format, and the registry that picks the format.

:func:`detect_format` looks at a path's suffix and content (sniffers never raise on foreign
files); :func:`read_foreign` reads it into :class:`ForeignLabels` (a
:class:`~napari_dlcflow.core.keypoints.Keypoints`), which
:mod:`napari_dlcflow.core.formats.importing` turns into a project's CollectedData. The package's
one IO facade, :func:`napari_dlcflow.core.formats.io.load_file` / ``save_file``, routes foreign
formats here and DeepLabCut's own files to ``core/labels`` and ``core/predictions``: it sits
here, above every format it routes to. The package imports only what lies below it (keypoints,
safe_io, untrusted, video, project, predictions, labels); nothing below imports it.

========================  ====================================================================
``per-image-csv``         one CSV per image (header block, then ``bodypart, x, y`` rows)
``coco``                  COCO keypoints JSON (import and export)
``sleap``                 SLEAP ``.slp`` projects (via sleap-io)
``dlc``                   DeepLabCut CollectedData/machine labels of another project or scorer
``lightning-pose``        Lightning Pose ``CollectedData.csv`` (paths relative to the CSV)
========================  ====================================================================
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

from napari_dlcflow.core.formats._model import ForeignLabels, FormatError, FrameRef
from napari_dlcflow.core.untrusted import named_errors

__all__ = [
    "FORMATS",
    "ForeignLabels",
    "FormatError",
    "FrameRef",
    "detect_format",
    "read_foreign",
]


def _per_image(path: Any, **kw: Any) -> ForeignLabels:
    from napari_dlcflow.core.formats import per_image_csv

    return per_image_csv.read(path, **kw)


def _coco(path: Any, **kw: Any) -> ForeignLabels:
    from napari_dlcflow.core.formats import coco

    return coco.read(path, **kw)


def _sleap(path: Any, **kw: Any) -> ForeignLabels:
    from napari_dlcflow.core.formats import sleap

    return sleap.read(path, **kw)


def _dlc(path: Any, **kw: Any) -> ForeignLabels:
    from napari_dlcflow.core.formats import dlc

    return dlc.read(path, **kw)


def _lp(path: Any, **kw: Any) -> ForeignLabels:
    from napari_dlcflow.core.formats import dlc

    return dlc.read_lightning_pose(path, **kw)


def _sniffers() -> list[tuple[str, Callable[[Any], bool]]]:
    from napari_dlcflow.core.formats import coco, dlc, per_image_csv, sleap

    # order matters: the most specific test first
    return [
        ("sleap", sleap.sniff),
        ("coco", coco.sniff),
        ("dlc", dlc.sniff),
        ("lightning-pose", dlc.sniff_lightning_pose),
        ("per-image-csv", per_image_csv.sniff),
    ]


FORMATS: dict[str, tuple[str, Callable[..., ForeignLabels]]] = {
    "per-image-csv": ("one CSV per image (folder of CSVs and images)", _per_image),
    "coco": ("COCO keypoints JSON", _coco),
    "sleap": ("SLEAP project (.slp)", _sleap),
    "dlc": ("DeepLabCut labels of another project or scorer", _dlc),
    "lightning-pose": ("Lightning Pose CSV", _lp),
}
"""Format name -> (description, reader)."""


def detect_format(path: str | os.PathLike) -> str | None:
    """The format of ``path`` by suffix and content, or None if no reader knows it.

    Never raises: unreadable or foreign files give None.
    """
    try:
        p = Path(path)
        if not p.exists():
            return None
    except Exception:
        return None
    for name, sniff in _sniffers():
        try:
            if sniff(p):
                return name
        except Exception:
            continue
    return None


def read_foreign(
    path: str | os.PathLike, format: str | None = None, **options: Any
) -> ForeignLabels:
    """Read labels of another tool.

    Parameters
    ----------
    path : path-like
        File (or folder, for per-image CSV files).
    format : str, optional
        One of :data:`FORMATS`; detected from the file when omitted.
    **options
        Passed to the format's reader (see each module).

    Raises
    ------
    FileNotFoundError
        If ``path`` does not exist.
    FormatError
        If no reader knows the file, or the reader refuses it (the message says why).
    """
    p = Path(path)
    if not p.exists():
        raise FileNotFoundError(f"{p}: no such file or folder")
    fmt = format or detect_format(p)
    if fmt is None:
        raise FormatError(
            p,
            "not a label format we know (per-image CSV, COCO JSON, SLEAP .slp, DeepLabCut "
            "or Lightning Pose CSV)",
        )
    if fmt not in FORMATS:
        raise FormatError(p, f"unknown format {fmt!r}; one of {', '.join(FORMATS)}")
    with named_errors(p, lambda problem: FormatError(p, problem), (FormatError,)):
        try:
            return FORMATS[fmt][1](p, **options)
        except TypeError as exc:
            if "unexpected keyword" in str(exc):
                raise FormatError(p, f"option not known to the {fmt} reader: {exc}") from None
            raise
