"""The physical units of a predictions file: pixel size (µm) and frame interval (s).

Where each comes from, first found wins, each on its own:

1. the analysis ``_meta.pickle``'s ``dlcflow_source`` record (written by the analysis of a
   microscopy file: ``path``, ``choice``, ``pixel_size_um``, ``frame_interval_s``);
2. the project's stored units for that video (``units`` in ``dlcflow.yaml``, entered once per
   video with :func:`store_units` or the Plots dock);
3. time only: the ``fps`` in DeepLabCut's meta (frame interval ``1 / fps``).

Otherwise the value is unknown and only pixels (and frames) are offered. A video is keyed by
the stem that names its analysis files (:func:`video_key`), so every analysis of it (any model,
raw or filtered) finds the same entry.
"""

from __future__ import annotations

import math
import os
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from napari_dlcflow.core.predictions.analysis_files import Predictions, video_stem
from napari_dlcflow.core.project.config import Project, project_of
from napari_dlcflow.core.project.sidecar import Sidecar
from napari_dlcflow.core.video.source import base_stem

if TYPE_CHECKING:
    import pandas as pd

__all__ = [
    "PIXELS_FRAMES",
    "SOURCE_KEY",
    "AxisUnits",
    "Units",
    "positions_table",
    "store_units",
    "stored_units",
    "units_of",
    "video_key",
    "with_time_index",
]

SOURCE_KEY = "dlcflow_source"
"""The key of the source record in an analysis ``_meta.pickle``'s ``data`` dict."""


@dataclass(frozen=True)
class AxisUnits:
    """The units a plot or table is drawn in.

    Attributes
    ----------
    length : {"px", "um"}
        Positions, distances and lengths.
    time : {"frame", "s"}
        The time axis and the denominator of speeds.
    """

    length: str = "px"
    time: str = "frame"

    @property
    def name(self) -> str:
        """The text of the choice: ``"µm, s"``, ``"pixels, frames"``."""
        length = "µm" if self.length == "um" else "pixels"
        time = "s" if self.time == "s" else "frames"
        return f"{length}, {time}"

    @property
    def length_label(self) -> str:
        """``µm`` or ``px`` (axis labels)."""
        return "µm" if self.length == "um" else "px"

    @property
    def time_label(self) -> str:
        """``time (s)`` or ``frame`` (the time axis)."""
        return "time (s)" if self.time == "s" else "frame"

    @property
    def speed_label(self) -> str:
        """``µm/s``, ``px/s`` or ``px/frame``."""
        return f"{self.length_label}/{self.time}"

    @property
    def speed_column(self) -> str:
        """``speed_um_per_s`` and the like (CSV column names carry the units)."""
        return f"speed_{self.length}_per_{self.time}"

    @property
    def distance_column(self) -> str:
        """``distance_um`` or ``distance_px``."""
        return f"distance_{self.length}"


PIXELS_FRAMES = AxisUnits("px", "frame")
"""Always available: DeepLabCut's own units."""


@dataclass(frozen=True)
class Units:
    """Pixel size and frame interval of one predictions file, and where each came from.

    Attributes
    ----------
    pixel_size_um : float or None
        Micrometres per pixel; None when unknown.
    frame_interval_s : float or None
        Seconds between frames; None when unknown.
    pixel_from, time_from : str
        ``"file"`` (the analysis metadata's ``dlcflow_source``), ``"project"`` (stored in
        ``dlcflow.yaml``), ``"fps"`` (time only: DeepLabCut's meta), ``"entered"`` (given for
        this session only, where there is no project to store them) or ``"unknown"``.
    video : str
        The video key (:func:`video_key`) under which the project stores units: the source
        file's when the analysis metadata names it, else the analysis file's stem. Looked up
        first under the analysis file's stem, then under this one.
    notes : tuple of str
        Values that were found but not usable (and why).
    """

    pixel_size_um: float | None = None
    frame_interval_s: float | None = None
    pixel_from: str = "unknown"
    time_from: str = "unknown"
    video: str = ""
    notes: tuple[str, ...] = ()

    @property
    def physical(self) -> bool:
        """Whether both the pixel size and the frame interval are known."""
        return self.pixel_size_um is not None and self.frame_interval_s is not None

    def choices(self) -> list[AxisUnits]:
        """The axis units this file can be drawn in; pixels and frames always first."""
        out = [PIXELS_FRAMES]
        if self.frame_interval_s is not None:
            out.append(AxisUnits("px", "s"))
        if self.pixel_size_um is not None:
            out.append(AxisUnits("um", "s" if self.frame_interval_s is not None else "frame"))
        return out

    def default(self) -> AxisUnits:
        """µm (and s when known) when the pixel size is known, else pixels and frames."""
        return self.choices()[-1] if self.pixel_size_um is not None else PIXELS_FRAMES

    def length_factor(self, axis: AxisUnits) -> float:
        """What a length in pixels is multiplied by to be in ``axis.length``."""
        if axis.length == "px":
            return 1.0
        if self.pixel_size_um is None:
            raise ValueError("the pixel size is not known: lengths are in pixels only")
        return self.pixel_size_um

    def time_factor(self, axis: AxisUnits) -> float:
        """What a number of frames is multiplied by to be in ``axis.time``."""
        if axis.time == "frame":
            return 1.0
        if self.frame_interval_s is None:
            raise ValueError("the frame interval is not known: time is in frames only")
        return self.frame_interval_s

    def image_units(self) -> tuple[float | None, float | None]:
        """``(pixel_size_um, frame_interval_s)`` of the file's own metadata (None otherwise):
        the scale the microscopy reader gave the image layer these predictions sit on (see
        :func:`napari_dlcflow.napari_common.physical_scale`)."""
        px = self.pixel_size_um if self.pixel_from == "file" else None
        dt = self.frame_interval_s if self.time_from == "file" else None
        return px, dt

    def describe(self) -> str:
        """One line: the values and their origins."""
        names = {
            "file": "from the file",
            "project": "stored in the project",
            "fps": "from the fps",
            "entered": "entered, not stored",
            "unknown": "unknown",
        }
        px = (
            f"pixel {self.pixel_size_um:g} µm ({names[self.pixel_from]})"
            if self.pixel_size_um is not None
            else "pixel size unknown"
        )
        dt = (
            f"frame interval {self.frame_interval_s:g} s ({names[self.time_from]})"
            if self.frame_interval_s is not None
            else "frame interval unknown"
        )
        return f"{px}; {dt}"


def video_key(video: str | os.PathLike) -> str:
    """The key of a video in the project's ``units``.

    An analysis file (``<stem>DLC_...h5``) gives the stem that names its outputs (``mouse``,
    ``cells_C1`` for channel 1 of ``cells.ome.tif``); a video or microscopy file (or any
    existing path) the file's stem without ``.ome``
    (:func:`~napari_dlcflow.core.video.source.base_stem`: ``cells.ome.tif`` -> ``cells``), so
    that units entered for a file serve every channel of it; any other text is the key itself.
    """
    from napari_dlcflow.core.video.reader import VIDEO_SUFFIXES

    p = Path(video)
    if "DLC" in p.stem:
        return video_stem(p)
    known = p.suffix.lower() in (*VIDEO_SUFFIXES, *_IMAGE_SUFFIXES)
    return base_stem(p) if known or p.exists() else str(video)


_IMAGE_SUFFIXES = (".tif", ".tiff", ".zarr", ".nd2", ".czi", ".lif")


def _positive(value: Any) -> float | None:
    """``value`` as a positive finite float, or None when it is not one."""
    if isinstance(value, bool):
        return None
    try:
        v = float(value)
    except (TypeError, ValueError):
        return None
    return v if math.isfinite(v) and v > 0 else None


def _project_root(project: Project | str | os.PathLike | None, pred: Predictions) -> Path | None:
    if isinstance(project, Project):
        return project.root
    if project is not None:
        p = Path(project)
        return p.parent if p.is_file() else p
    if pred.path is None:
        return None
    cfg = project_of(pred.path)
    return cfg.parent if cfg is not None else None


def stored_units(
    project_root: str | os.PathLike, video: str | os.PathLike
) -> dict[str, float | None]:
    """The units stored in a project for ``video`` (a key, a video or an analysis file).

    Returns
    -------
    dict
        ``pixel_size_um`` and ``frame_interval_s`` (None where not stored).

    Raises
    ------
    ValueError
        If the project's ``dlcflow.yaml`` is unreadable (the message names it).
    """
    entry = Sidecar.load(project_root).units.get(video_key(video), {})
    return {k: entry.get(k) for k in ("pixel_size_um", "frame_interval_s")}


def store_units(
    project_root: str | os.PathLike,
    video: str | os.PathLike,
    *,
    pixel_size_um: float | None,
    frame_interval_s: float | None,
) -> None:
    """Store a video's pixel size and frame interval in the project (``dlcflow.yaml``).

    Parameters
    ----------
    project_root : path-like
        The project folder.
    video : str or path-like
        The video, one of its analysis files, or its key (:func:`video_key`).
    pixel_size_um, frame_interval_s : float or None
        Positive numbers; None leaves that one unknown. Both None removes the entry.

    Raises
    ------
    ValueError
        If a value is not a positive finite number, or the sidecar is unreadable.
    """
    values = {"pixel_size_um": pixel_size_um, "frame_interval_s": frame_interval_s}
    for name, v in values.items():
        if v is not None and _positive(v) is None:
            raise ValueError(f"{name} must be a positive number, not {v!r}")
    side = Sidecar.load(project_root)
    key = video_key(video)
    if pixel_size_um is None and frame_interval_s is None:
        side.units.pop(key, None)
    else:
        side.units[key] = {k: None if v is None else float(v) for k, v in values.items()}
    side.save(project_root)


def units_of(pred: Predictions, project: Project | str | os.PathLike | None = None) -> Units:
    """The pixel size and frame interval of ``pred``, and where each came from.

    Parameters
    ----------
    pred : Predictions
        Read with its meta (:func:`~.analysis_files.read_predictions`).
    project : Project or path-like, optional
        The project whose stored units to use; by default the project ``pred.path`` belongs to
        (:func:`~napari_dlcflow.core.project.config.project_of`), if any.

    Returns
    -------
    Units
        A project whose ``dlcflow.yaml`` cannot be read is skipped (said in ``notes``).
    """
    meta = pred.meta or {}
    notes: list[str] = []
    keys = [video_key(pred.path)] if pred.path is not None else []
    found: dict[str, tuple[float | None, str]] = {
        "pixel_size_um": (None, "unknown"),
        "frame_interval_s": (None, "unknown"),
    }
    source = meta.get(SOURCE_KEY)
    if isinstance(source, dict):
        if source.get("path"):
            keys.append(video_key(Path(str(source["path"])).name))
        for name in found:
            raw = source.get(name)
            value = _positive(raw)
            if value is not None:
                found[name] = (value, "file")
            elif raw is not None:
                notes.append(f"the analysis metadata's {name} {raw!r} is not a positive number")
    root = _project_root(project, pred) if keys else None
    if root is not None and any(v is None for v, _ in found.values()):
        try:
            stored_all = Sidecar.load(root).units
        except ValueError as exc:
            stored_all = {}
            notes.append(str(exc))
        stored = next((stored_all[k] for k in keys if k in stored_all), {})
        for name, (value, _) in found.items():
            if value is None and stored.get(name) is not None:
                found[name] = (float(stored[name]), "project")
    if found["frame_interval_s"][0] is None:
        fps = _positive(meta.get("fps"))
        if fps is not None:
            found["frame_interval_s"] = (1.0 / fps, "fps")
    (px, px_from), (dt, dt_from) = found["pixel_size_um"], found["frame_interval_s"]
    # units are stored for the file (every channel of it) when the analysis names it
    return Units(px, dt, px_from, dt_from, keys[-1] if keys else "", tuple(notes))


def positions_table(
    pred: Predictions, chosen: Any, units: Units, axis: AxisUnits = PIXELS_FRAMES
) -> pd.DataFrame:
    """The ``x, y, likelihood`` columns of the chosen keypoints in ``axis`` units.

    In pixels and frames this is DeepLabCut's own table
    (:func:`~.analysis_files.keypoint_columns`); otherwise the coordinates are named for their
    unit (``x_um, y_um``) and a time axis in seconds adds ``time_s`` to the frame index.

    Parameters
    ----------
    pred : Predictions
    chosen : collection of str
        Display names (:attr:`Predictions.labels`).
    units : Units
    axis : AxisUnits
    """
    from napari_dlcflow.core.predictions.analysis_files import keypoint_columns

    df = keypoint_columns(pred, chosen)
    if axis == PIXELS_FRAMES:
        return df
    factor = units.length_factor(axis)
    import pandas as pd

    factor = units.length_factor(axis)
    df = df.copy()
    is_xy = [c[-1] in ("x", "y") for c in df.columns]
    df.loc[:, is_xy] = df.loc[:, is_xy] * factor
    df.columns = pd.MultiIndex.from_tuples(
        [
            (*c[:-1], f"{c[-1]}_{axis.length}" if c[-1] in ("x", "y") else c[-1])
            for c in df.columns
        ],
        names=df.columns.names,
    )
    return with_time_index(df, units, axis)


def with_time_index(df: pd.DataFrame, units: Units, axis: AxisUnits) -> pd.DataFrame:
    """``df`` (indexed by frame) with ``time_s`` beside the frame when time is in seconds."""
    import pandas as pd

    if axis.time != "s":
        return df
    frames = df.index.to_numpy()
    df = df.copy()
    df.index = pd.MultiIndex.from_arrays(
        [frames, frames * units.time_factor(axis)], names=["frame", "time_s"]
    )
    return df
