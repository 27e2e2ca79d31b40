"""Microscopy time-lapses (OME-TIFF, ImageJ hyperstacks, OME-Zarr, ND2, CZI, LIF) as frame-exact
sources.

A :class:`MicroscopySource` is a :class:`~napari_dlcflow.core.video.reader.FrameSource` like the
video readers: frame ``i`` is time point ``i``, read lazily plane by plane (random access, a
small LRU cache, never the whole file), in the file's own sample type (16-bit stays 16-bit).
What each axis means comes from the file's metadata (OME-XML, ImageJ's description, OME-Zarr's
``multiscales`` axes, bioio's dims), never from the shape; a file that does not say is refused
with the option to pass (``axes="TCYX"``).

The user picks a channel (or several merged into RGB with chosen colours), a z-plane or a
projection and a scene; that :class:`Choice` is part of the source's identity, as a short stable
text (``C1``, ``C0+C1``, ``S2_C0_Zmax``) that :func:`parse_choice` reads back.

Backends: TIFF through tifffile (memory-mapped where the file allows, else page by page),
OME-Zarr through zarr, everything else through bioio and its reader plugins (the ``microscopy``
extra).
"""

from __future__ import annotations

import contextlib
import itertools
import os
import re
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np

from napari_dlcflow.core.untrusted import shorten
from napari_dlcflow.core.video.frames import (
    _LRU,
    TIFF_SUFFIXES,
    FrameSource,
    VideoError,
    VideoMeta,
)

__all__ = [
    "BIOIO_SUFFIXES",
    "COLORS",
    "Choice",
    "MicroscopyInfo",
    "MicroscopySource",
    "describe",
    "is_microscopy",
    "parse_choice",
]

BIOIO_SUFFIXES = (".nd2", ".czi", ".lif")
"""Suffixes read through bioio's reader plugins (the ``microscopy`` extra)."""

COLORS: dict[str, tuple[float, float, float]] = {
    "g": (0.0, 1.0, 0.0),
    "m": (1.0, 0.0, 1.0),
    "c": (0.0, 1.0, 1.0),
    "y": (1.0, 1.0, 0.0),
    "r": (1.0, 0.0, 0.0),
    "b": (0.0, 0.0, 1.0),
    "w": (1.0, 1.0, 1.0),
}
"""Colours of a channel merge by their letter; a merge without colours takes them in this
order (green, magenta, cyan, yellow, red, blue, white)."""

_DEFAULT_COLORS = tuple(COLORS)
_COLOR_NAMES = {
    "green": "g",
    "magenta": "m",
    "cyan": "c",
    "yellow": "y",
    "red": "r",
    "blue": "b",
    "white": "w",
    "gray": "w",
    "grey": "w",
}
_AXES = "TCZYXS"
_OPTION_HINT = "the letters T (time), C (channel), Z (depth) for each leading axis, then YX"
_PLANE_CACHE = 64
"""Frames a microscopy source keeps decoded (bounded to 256 MiB as well)."""


# --- the choice: channel(s), z, scene -------------------------------------------------------
@dataclass(frozen=True)
class Choice:
    """Which pixels of a multi-dimensional file make the frames.

    Attributes
    ----------
    channels : tuple of int
        One channel, or several merged into RGB; empty for a file with one channel.
    colors : tuple of str
        Colour letters (:data:`COLORS`) of a merge, one per channel; empty for the defaults.
    z : int, "max", "mean" or None
        A z-plane, a projection over z, or None for a file with one plane.
    scene : int or None
        The scene (position, series); None for a file with one scene.
    """

    channels: tuple[int, ...] = ()
    colors: tuple[str, ...] = ()
    z: int | str | None = None
    scene: int | None = None

    @property
    def text(self) -> str:
        """The short stable text of this choice (``S1_C0+C1_Zmax``; ``""`` when nothing is
        chosen), safe in folder and file names; :func:`parse_choice` reads it back."""
        parts = []
        if self.scene is not None:
            parts.append(f"S{self.scene}")
        if self.channels:
            cols = self.merge_colors() if len(self.channels) > 1 else ()
            bits = []
            for k, ch in enumerate(self.channels):
                letter = cols[k] if cols and cols[k] != _DEFAULT_COLORS[k % 7] else ""
                bits.append(f"C{ch}{letter}")
            parts.append("+".join(bits))
        if self.z is not None:
            parts.append(f"Z{self.z}")
        return "_".join(parts)

    def merge_colors(self) -> tuple[str, ...]:
        """The colour letter of each merged channel (the defaults where none were given)."""
        if self.colors:
            return self.colors
        return tuple(_DEFAULT_COLORS[k % len(_DEFAULT_COLORS)] for k in range(len(self.channels)))

    def __str__(self) -> str:
        return self.text


_PART = re.compile(r"^(?:S(\d+)|Z(\d+|max|mean)|(C\d+[a-z]?(?:\+C\d+[a-z]?)*))$")


def parse_choice(text: str) -> Choice:
    """Read back :attr:`Choice.text` (``"C1"``, ``"C0+C1"``, ``"C0g+C2m"``, ``"Zmax"``,
    ``"S0"``, ``"S1_C0_Z3"``; ``""`` for no choice).

    Raises
    ------
    ValueError
        If the text is not such a choice (the message quotes it).
    """
    ch: tuple[int, ...] = ()
    cols: tuple[str, ...] = ()
    z: int | str | None = None
    scene: int | None = None
    for part in [p for p in str(text).strip().split("_") if p]:
        m = _PART.match(part)
        if m is None:
            raise ValueError(
                f"{text!r} is not a channel/z/scene choice (expected e.g. 'C1', 'C0+C1', "
                "'C0g+C1m', 'Z3', 'Zmax', 'Zmean', 'S0', joined by '_')"
            )
        if m.group(1) is not None:
            scene = int(m.group(1))
        elif m.group(2) is not None:
            z = m.group(2) if m.group(2) in ("max", "mean") else int(m.group(2))
        else:
            bits = [re.match(r"C(\d+)([a-z]?)", b) for b in part.split("+")]
            ch = tuple(int(b.group(1)) for b in bits if b)
            letters = [b.group(2) for b in bits if b]
            for letter in letters:
                if letter and letter not in COLORS:
                    raise ValueError(
                        f"{text!r}: colour {letter!r} is not one of {''.join(COLORS)}"
                    )
            if len(ch) > 1:
                cols = tuple(
                    letter or _DEFAULT_COLORS[k % len(_DEFAULT_COLORS)]
                    for k, letter in enumerate(letters)
                )
                if cols == tuple(_DEFAULT_COLORS[k % 7] for k in range(len(ch))):
                    cols = ()
    return Choice(channels=ch, colors=cols, z=z, scene=scene)


def _color_letter(color: str) -> str:
    c = str(color).strip().lower()
    if c in COLORS:
        return c
    if c in _COLOR_NAMES:
        return _COLOR_NAMES[c]
    raise ValueError(f"colour {color!r} is not one of {', '.join(_COLOR_NAMES)}")


# --- what the file says ---------------------------------------------------------------------
@dataclass(frozen=True)
class MicroscopyInfo:
    """What a microscopy file declares, for one scene.

    Attributes
    ----------
    path : Path
        The file (or ``.zarr`` folder).
    format : str
        ``ome-tiff``, ``imagej-tiff``, ``tiff``, ``ome-zarr`` or the bioio reader's name.
    axes : str
        The axes in storage order, letters of ``TCZYXS`` (``S``: RGB samples).
    sizes : dict
        Length of each axis.
    axes_from : str
        Where the axes came from (``OME metadata``, ``ImageJ metadata``, ``axes=``, ...).
    dtype : str
        Sample type.
    n_scenes : int
        Number of scenes (positions, series).
    channel_names : tuple of str
        One name per channel (empty when the file names none).
    pixel_size_um : float or None
        Physical size of a pixel in µm (x; y is the same for every format we read).
    frame_interval_s : float or None
        Time between time points in seconds.
    channel_colors : tuple
        An RGB colour per channel where the file states one (else empty).
    """

    path: Path
    format: str
    axes: str
    sizes: dict[str, int]
    axes_from: str
    dtype: str
    n_scenes: int = 1
    channel_names: tuple[str, ...] = ()
    pixel_size_um: float | None = None
    frame_interval_s: float | None = None
    channel_colors: tuple[tuple[float, float, float], ...] = field(default=())

    def size(self, axis: str) -> int:
        """Length of ``axis`` (1 when the file has no such axis)."""
        return int(self.sizes.get(axis, 1))


_LENGTH_UM = {
    "µm": 1.0,
    "um": 1.0,
    "micron": 1.0,
    "microns": 1.0,
    "micrometer": 1.0,
    "\\u00b5m": 1.0,
    "nm": 1e-3,
    "nanometer": 1e-3,
    "mm": 1e3,
    "millimeter": 1e3,
    "cm": 1e4,
    "m": 1e6,
    "meter": 1e6,
    "å": 1e-4,
    "angstrom": 1e-4,
}
_TIME_S = {
    "s": 1.0,
    "sec": 1.0,
    "second": 1.0,
    "seconds": 1.0,
    "ms": 1e-3,
    "millisecond": 1e-3,
    "µs": 1e-6,
    "us": 1e-6,
    "microsecond": 1e-6,
    "min": 60.0,
    "minute": 60.0,
    "h": 3600.0,
    "hour": 3600.0,
}


def _to_unit(value: Any, unit: str | None, table: dict[str, float], default: str) -> float | None:
    try:
        v = float(value)
    except (TypeError, ValueError):
        return None
    if not np.isfinite(v) or v <= 0:
        return None
    factor = table.get(str(unit or default).strip().lower().replace("\u03bc", "µ"))
    return None if factor is None else v * factor


class _Planes:
    """A backend: 2-D planes by (t, c, z) of one scene."""

    info: MicroscopyInfo
    direct = False
    """True when a plane costs no more than a cache hit (a memory map): no frame cache."""

    def plane(self, t: int, c: int, z: int) -> np.ndarray:
        raise NotImplementedError

    def close(self) -> None:
        """Release the file."""


def _check_axes(path: Path, axes: str, ndim: int, where: str) -> str:
    axes = axes.upper()
    if len(axes) != ndim or len(set(axes)) != len(axes) or any(a not in _AXES for a in axes):
        raise VideoError(
            f"{path}: axes {axes!r} ({where}) do not fit its {ndim} dimensions; pass axes= "
            f"with {_OPTION_HINT}, e.g. axes={'TCZYX'[5 - min(ndim, 5) :]!r}"
        )
    if not axes.endswith(("YX", "YXS")):
        raise VideoError(f"{path}: axes {axes!r} ({where}) must end in YX (or YXS for RGB)")
    return axes


def _undeclared(path: Path, shape: tuple[int, ...], what: str) -> VideoError:
    lead = shape[:-2]
    example = "TCZ"[: len(lead)] if len(lead) <= 3 else "T" + "C" * 0
    return VideoError(
        f"{path} does not declare its axis order ({what}; shape "
        f"{'x'.join(map(str, shape))}): pass axes= with {_OPTION_HINT}, e.g. "
        f"axes={example + 'YX'!r} (never guessed from the shape)"
    )


class _TiffPlanes(_Planes):
    """OME-TIFF, ImageJ hyperstack or a plain TIFF with ``axes=``, through tifffile."""

    def __init__(self, path: Path, scene: int, axes: str | None) -> None:
        import tifffile

        self.path = path
        try:
            self._tf = tifffile.TiffFile(str(path))
            series_all = self._tf.series
            n_scenes = len(series_all) if self._tf.is_ome else 1
            if not 0 <= scene < max(n_scenes, 1):
                raise VideoError(f"{path}: scene {scene} is past the end ({n_scenes} scene(s))")
            series = series_all[scene]
            shape = tuple(int(s) for s in series.shape)
            dtype = np.dtype(series.dtype)
        except VideoError:
            self._close_quietly()
            raise
        except Exception as exc:
            self._close_quietly()
            raise VideoError(f"TIFF {path} cannot be read: {shorten(exc)}") from exc
        tf = self._tf
        fmt = "ome-tiff" if tf.is_ome else "imagej-tiff" if tf.is_imagej else "tiff"
        if tf.is_ome:
            problem = _ome_pages_problem(tf, series)
            if problem:
                self._close_quietly()
                raise VideoError(
                    f"OME-TIFF {path}: its OME metadata disagrees with its pages ({problem}), "
                    "so which page is which channel and time point cannot be trusted; re-export "
                    "it from the acquisition software"
                )
        if tf.is_imagej and series.kind != "imagej":
            self._close_quietly()
            raise VideoError(
                f"ImageJ TIFF {path}: its ImageJ metadata (images, channels, slices, frames) "
                "disagrees with its pages, so its axes cannot be trusted; re-save it in ImageJ"
            )
        if axes is not None:
            where = "axes="
            axes = _check_axes(path, axes, len(shape), where)
        elif series.kind in ("ome", "imagej"):
            where = f"{'OME' if series.kind == 'ome' else 'ImageJ'} metadata"
            ax = series.axes.upper().replace("I", "T") if series.kind == "imagej" else series.axes
            if any(a not in _AXES for a in ax):
                self._close_quietly()
                raise VideoError(
                    f"{path}: its {where} gives axes {series.axes!r}, with some we do not read "
                    f"as time, channel or depth; pass axes= with {_OPTION_HINT}"
                )
            axes = _check_axes(path, ax, len(shape), where)
        else:
            rgb = series.axes.endswith("S") and shape[-1] in (3, 4)
            lead = len(shape) - (3 if rgb else 2)
            if lead > 1:
                self._close_quietly()
                raise _undeclared(path, shape, "a plain TIFF without OME or ImageJ metadata")
            # A plain multi-page TIFF: its pages are a sequence, which we read as time.
            where = "pages as time points"
            axes = ("T" if lead else "") + ("YXS" if rgb else "YX")
        if dtype.kind not in "ui" or dtype.itemsize > 2:
            self._close_quietly()
            raise VideoError(f"{path}: sample type {dtype} is not supported (8- or 16-bit only)")
        sizes = dict(zip(axes, shape, strict=True))
        if 0 in shape:
            self._close_quietly()
            raise VideoError(f"TIFF {path} is damaged: an axis has length 0 ({sizes})")
        px, dt, names, colors = None, None, (), ()
        if tf.is_ome:
            px, dt, names, colors = _ome_xml_facts(tf.ome_metadata or "", scene)
        elif tf.is_imagej:
            px, dt = _imagej_facts(tf)
        self.info = MicroscopyInfo(
            path=path,
            format=fmt,
            axes=axes,
            sizes=sizes,
            axes_from=where,
            dtype=str(dtype),
            n_scenes=n_scenes,
            channel_names=tuple(names) if len(names) == sizes.get("C", 1) else (),
            pixel_size_um=px,
            frame_interval_s=dt,
            channel_colors=tuple(colors) if len(colors) == sizes.get("C", 1) else (),
        )
        self._lead_axes = axes[: -3 if axes.endswith("S") else -2]
        self._lead_shape = tuple(sizes[a] for a in self._lead_axes)
        n_planes = int(np.prod(self._lead_shape)) if self._lead_shape else 1
        steps = np.cumprod((1, *self._lead_shape[::-1]))[:-1][::-1]
        self._strides = [(a, int(k)) for a, k in zip(self._lead_axes, steps, strict=True)]
        frame_shape = shape[len(self._lead_axes) :]
        self._memmap: np.ndarray | None = None
        offset = series.dataoffset  # None unless the planes lie contiguous and uncompressed
        if offset is not None:
            try:
                self._memmap = np.memmap(
                    str(path),
                    dtype=dtype.newbyteorder(tf.byteorder),
                    mode="r",
                    offset=int(offset),
                    shape=(n_planes, *frame_shape),
                )
            except (OSError, ValueError):
                self._memmap = None
        self._series_index = scene
        self._pages = series.pages if len(series.pages) == n_planes else None
        self.direct = self._memmap is not None

    def _close_quietly(self) -> None:
        with contextlib.suppress(Exception):
            self._tf.close()

    def _flat(self, t: int, c: int, z: int) -> int:
        pos = {"T": t, "C": c, "Z": z}
        return sum(pos[a] * step for a, step in self._strides)

    def plane(self, t: int, c: int, z: int) -> np.ndarray:
        k = self._flat(t, c, z)
        if self._memmap is not None:
            return np.asarray(self._memmap[k])
        try:
            if self._pages is not None and self._pages[k] is not None:
                return self._pages[k].asarray()
            return self._tf.asarray(key=k, series=self._series_index)
        except Exception as exc:
            raise VideoError(
                f"TIFF {self.path}: plane t={t} c={c} z={z} (page {k}) cannot be read: "
                f"{shorten(exc)}"
            ) from exc

    def close(self) -> None:
        self._memmap = None
        self._close_quietly()


def _ome_pages_problem(tf: Any, series: Any) -> str:
    """Why the OME-XML does not describe the file's pages ("" when it does)."""
    if series.kind != "ome":
        return f"tifffile could not map the XML onto the {len(tf.pages)} page(s)"
    pages = list(series.pages)
    missing = sum(pg is None for pg in pages)
    if missing:
        return f"the XML describes {len(pages)} planes, {missing} of them absent from the file"
    used = sum(len(s.pages) for s in tf.series if s.kind == "ome")
    if used != len(tf.pages):
        return f"the XML describes {used} planes, the file holds {len(tf.pages)} pages"
    return ""


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


def _ome_xml_facts(
    xml: str, scene: int
) -> tuple[float | None, float | None, list[str], list[tuple[float, float, float]]]:
    """Pixel size (µm), frame interval (s), channel names and colours of image ``scene``."""
    try:
        root = ET.fromstring(xml)
    except ET.ParseError:
        return None, None, [], []
    images = [el for el in root if _local(el.tag) == "Image"]
    if not 0 <= scene < len(images):
        return None, None, [], []
    pixels = next((el for el in images[scene] if _local(el.tag) == "Pixels"), None)
    if pixels is None:
        return None, None, [], []
    a = pixels.attrib
    px = _to_unit(a.get("PhysicalSizeX"), a.get("PhysicalSizeXUnit"), _LENGTH_UM, "µm")
    dt = _to_unit(a.get("TimeIncrement"), a.get("TimeIncrementUnit"), _TIME_S, "s")
    if dt is None:  # the planes' DeltaT, as microscopes write them
        deltas: dict[int, float] = {}
        for el in pixels:
            if (
                _local(el.tag) == "Plane"
                and el.get("TheC", "0") == "0"
                and el.get("TheZ", "0") == "0"
            ):
                v = _to_unit(el.get("DeltaT"), el.get("DeltaTUnit"), _TIME_S, "s")
                if v is not None or el.get("DeltaT") == "0":
                    deltas[int(el.get("TheT", "0"))] = float(v or 0.0)
        if len(deltas) > 1:
            ts = [deltas[k] for k in sorted(deltas)]
            dt = float(np.median(np.diff(ts))) if np.all(np.diff(ts) > 0) else None
    names, colors = [], []
    for el in pixels:
        if _local(el.tag) != "Channel":
            continue
        names.append(el.get("Name") or "")
        col = el.get("Color")
        if col is not None:
            try:
                v = int(col) & 0xFFFFFFFF  # signed RGBA
                colors.append(
                    ((v >> 24) / 255.0, ((v >> 16) & 255) / 255.0, ((v >> 8) & 255) / 255.0)
                )
            except ValueError:
                pass
    if not any(names):
        names = []
    return px, dt, names, colors


def _imagej_facts(tf: Any) -> tuple[float | None, float | None]:
    """Pixel size (µm) and frame interval (s) of an ImageJ TIFF."""
    meta = tf.imagej_metadata or {}
    px = None
    try:
        num, den = tf.pages[0].tags["XResolution"].value
        if num and den:
            px = _to_unit(den / num, meta.get("unit", "pixel"), _LENGTH_UM, "pixel")
    except Exception:
        px = None
    dt = _to_unit(meta.get("finterval"), meta.get("tunit", "s"), _TIME_S, "s")
    return px, dt


_ZARR_AXES = {"t": "T", "time": "T", "c": "C", "channel": "C", "z": "Z", "y": "Y", "x": "X"}


class _ZarrPlanes(_Planes):
    """OME-Zarr (NGFF 0.4 and 0.5, and bioformats2raw's layout of scenes), through zarr."""

    def __init__(self, path: Path, scene: int, axes: str | None) -> None:
        try:
            import zarr
        except ImportError as exc:
            raise VideoError(
                f"OME-Zarr {path}: reading it needs zarr "
                "(pip install 'napari-dlcflow[microscopy]')"
            ) from exc
        self.path = path
        try:
            root = zarr.open_group(str(path), mode="r")
            attrs = dict(root.attrs)
        except Exception as exc:
            raise VideoError(f"OME-Zarr {path} cannot be read: {shorten(exc)}") from exc
        ome = attrs.get("ome", attrs)
        groups = [root]
        if "multiscales" not in ome:
            keys = sorted((k for k in root.group_keys() if k.isdigit()), key=int)
            groups = [root[k] for k in keys]
        n_scenes = len(groups)
        if n_scenes == 0:
            raise VideoError(f"{path} is not an OME-Zarr image (no 'multiscales' metadata)")
        if not 0 <= scene < n_scenes:
            raise VideoError(f"{path}: scene {scene} is past the end ({n_scenes} scene(s))")
        group = groups[scene]
        gattrs = dict(group.attrs)
        gome = gattrs.get("ome", gattrs)
        try:
            ms = gome["multiscales"][0]
            ds = ms["datasets"][0]
            arr = group[ds["path"]]
        except Exception as exc:
            raise VideoError(
                f"OME-Zarr {path}: its 'multiscales' metadata does not name a readable array "
                f"({shorten(exc)})"
            ) from exc
        shape = tuple(int(s) for s in arr.shape)
        units: list[str | None] = [None] * len(shape)
        if axes is not None:
            where = "axes="
            axes = _check_axes(path, axes, len(shape), where)
        else:
            where = "OME-Zarr metadata"
            declared = ms.get("axes")
            if not declared:
                raise _undeclared(path, shape, "OME-Zarr metadata without 'axes'")
            letters = []
            for ax in declared:
                name = ax if isinstance(ax, str) else ax.get("name", "")
                kind = "" if isinstance(ax, str) else ax.get("type") or ""
                letter = _ZARR_AXES.get(str(name).lower()) or {"time": "T", "channel": "C"}.get(
                    kind
                )
                if letter is None:
                    raise VideoError(
                        f"OME-Zarr {path}: axis {name!r} ({kind or 'no type'}) is not time, "
                        f"channel or space; pass axes= with {_OPTION_HINT}"
                    )
                letters.append(letter)
            if isinstance(declared[0], dict):
                units = [ax.get("unit") for ax in declared]
            axes = _check_axes(path, "".join(letters), len(shape), where)
        dtype = np.dtype(arr.dtype)
        if dtype.kind not in "ui" or dtype.itemsize > 2:
            raise VideoError(f"{path}: sample type {dtype} is not supported (8- or 16-bit only)")
        scale = _zarr_scale(ms, ds, len(shape))
        px = dt = None
        if scale is not None:
            ix, it = axes.find("X"), axes.find("T")
            px = _to_unit(scale[ix], units[ix], _LENGTH_UM, "micrometer")
            if it >= 0:
                dt = _to_unit(scale[it], units[it], _TIME_S, "second")
        names, colors = [], []
        for chan in (gattrs.get("omero") or gome.get("omero") or {}).get("channels", []):
            names.append(str(chan.get("label", "")))
            col = str(chan.get("color", ""))
            if re.fullmatch(r"[0-9A-Fa-f]{6}", col):
                colors.append(tuple(int(col[k : k + 2], 16) / 255.0 for k in (0, 2, 4)))
        sizes = dict(zip(axes, shape, strict=True))
        # zarr reads a missing chunk as blank: each plane's chunk files are checked on read.
        self._chunk_root: str | None = None
        if isinstance(arr.store, zarr.storage.LocalStore):
            self._chunk_root = os.path.join(str(arr.store.root), arr.path)
        self._grid = tuple(int(g) for g in (arr.shards or arr.chunks))
        fill = arr.fill_value
        self._fill = 0 if fill is None else fill
        self.info = MicroscopyInfo(
            path=path,
            format="ome-zarr",
            axes=axes,
            sizes=sizes,
            axes_from=where,
            dtype=str(dtype),
            n_scenes=n_scenes,
            channel_names=tuple(names) if len(names) == sizes.get("C", 1) else (),
            pixel_size_um=px,
            frame_interval_s=dt,
            channel_colors=tuple(colors) if len(colors) == sizes.get("C", 1) else (),  # type: ignore[arg-type]
        )
        self._arr = arr
        self._axes = axes

    def _missing_chunk(self, pos: dict[str, int]) -> str:
        """The key of a chunk of this plane that is not on disk ("" when all are)."""
        assert self._chunk_root is not None
        ranges = [
            (pos[a] // g,) if a in pos else range(-(-n // g))
            for a, g, n in zip(self._axes, self._grid, self._arr.shape, strict=True)
        ]
        encode = self._arr.metadata.encode_chunk_key
        for coords in itertools.product(*ranges):
            key = encode(coords)
            if not os.path.isfile(os.path.join(self._chunk_root, key)):
                return key
        return ""

    def _has_blank_tile(self, a: np.ndarray) -> bool:
        """Whether a chunk-sized tile of plane ``a`` holds nothing but the fill value: what
        zarr returns for a missing chunk (only then are the chunk files looked for)."""
        fill = self._fill
        gy, gx = self._grid[self._axes.index("Y")], self._grid[self._axes.index("X")]
        for y0 in range(0, a.shape[0], gy):
            for x0 in range(0, a.shape[1], gx):
                tile = a[y0 : y0 + gy, x0 : x0 + gx]
                if not tile.any() if fill == 0 else bool((tile == fill).all()):
                    return True
        return False

    def plane(self, t: int, c: int, z: int) -> np.ndarray:
        pos = {a: v for a, v in (("T", t), ("C", c), ("Z", z)) if a in self._axes}
        key = [pos.get(a, slice(None)) for a in self._axes]
        while key and isinstance(key[-1], slice):  # arr[t, c] is 10 % faster than arr[t, c, :, :]
            key.pop()
        try:
            a = np.asarray(self._arr[tuple(key)])
        except Exception as exc:
            raise VideoError(
                f"OME-Zarr {self.path}: plane t={t} c={c} z={z} cannot be read: {shorten(exc)}"
            ) from exc
        # a missing chunk reads as the fill value: a blank tile is checked on disk (a stat per
        # read otherwise cost about 5 % of it)
        if self._chunk_root is not None and self._has_blank_tile(a):
            missing = self._missing_chunk(pos)
            if missing:
                raise VideoError(
                    f"OME-Zarr {self.path}: chunk {self._arr.path}/{missing} of plane t={t} "
                    f"c={c} z={z} is missing (an interrupted copy?); zarr would read it as "
                    "blank. Copy the folder again (a writer that skips blank chunks must be "
                    "told write_empty_chunks=True)"
                )
        return a


def _zarr_scale(ms: dict, ds: dict, ndim: int) -> list[float] | None:
    scale = np.ones(ndim)
    found = False
    for transforms in (ds.get("coordinateTransformations"), ms.get("coordinateTransformations")):
        for tr in transforms or []:
            if tr.get("type") == "scale" and len(tr.get("scale", [])) == ndim:
                scale = scale * np.asarray(tr["scale"], dtype=float)
                found = True
    return [float(v) for v in scale] if found else None


class _BioioPlanes(_Planes):
    """ND2, CZI, LIF (and what else bioio's installed plugins read)."""

    def __init__(self, path: Path, scene: int, axes: str | None) -> None:
        try:
            import bioio
        except ImportError as exc:
            raise VideoError(
                f"{path}: reading {path.suffix} files needs bioio and its reader plugins "
                "(pip install 'napari-dlcflow[microscopy]')"
            ) from exc
        self.path = path
        if axes is not None:
            raise VideoError(
                f"{path}: axes= is for files that do not declare their axes; this one is read "
                "through bioio, which reads them from its metadata"
            )
        try:
            img = bioio.BioImage(str(path))
            n_scenes = len(img.scenes)
            if not 0 <= scene < n_scenes:
                raise VideoError(f"{path}: scene {scene} is past the end ({n_scenes} scene(s))")
            img.set_scene(scene)
            dims = img.dims
            order = str(dims.order)
            shape = tuple(int(s) for s in dims.shape)
            dtype = np.dtype(img.dtype)
        except VideoError:
            raise
        except Exception as exc:
            raise VideoError(f"{path} cannot be read through bioio: {shorten(exc)}") from exc
        if any(a not in _AXES for a in order):
            raise VideoError(f"{path}: bioio gives axes {order!r}, which we cannot map")
        if dtype.kind not in "ui" or dtype.itemsize > 2:
            raise VideoError(f"{path}: sample type {dtype} is not supported (8- or 16-bit only)")
        px = None
        try:
            px = _to_unit(img.physical_pixel_sizes.X, "µm", _LENGTH_UM, "µm")
        except Exception:
            px = None
        dt = None
        try:
            ti = img.time_interval
            if ti is not None:
                dt = float(ti.to("s").magnitude) if hasattr(ti, "to") else float(ti)
                dt = dt if dt > 0 else None
        except Exception:
            dt = None
        try:
            names = tuple(str(n) for n in img.channel_names)
        except Exception:
            names = ()
        self.info = MicroscopyInfo(
            path=path,
            format=type(img.reader).__module__.split(".")[0],
            axes=order,
            sizes=dict(zip(order, shape, strict=True)),
            axes_from="bioio metadata",
            dtype=str(dtype),
            n_scenes=n_scenes,
            channel_names=names if len(names) == dims.C else (),
            pixel_size_um=px,
            frame_interval_s=dt,
        )
        self._img = img
        self._yx = "YXS" if "S" in order and dims.S > 1 else "YX"

    def plane(self, t: int, c: int, z: int) -> np.ndarray:
        kw = {a: v for a, v in (("T", t), ("C", c), ("Z", z)) if a in self.info.axes}
        try:
            return np.asarray(self._img.get_image_data(self._yx, **kw))
        except Exception as exc:
            raise VideoError(
                f"{self.path}: plane t={t} c={c} z={z} cannot be read: {shorten(exc)}"
            ) from exc


def is_microscopy(path: str | os.PathLike) -> bool:
    """True for a file this module reads rather than :class:`TiffStackReader` or a video
    decoder: an OME-TIFF or ImageJ TIFF, an OME-Zarr folder, an ND2, CZI or LIF file."""
    p = Path(path)
    suffix = p.suffix.lower()
    if suffix in BIOIO_SUFFIXES:
        return p.is_file()
    if suffix == ".zarr" or (
        p.is_dir() and ((p / "zarr.json").is_file() or (p / ".zattrs").is_file())
    ):
        return p.is_dir()
    if suffix in TIFF_SUFFIXES and p.is_file():
        import tifffile

        try:
            with tifffile.TiffFile(str(p)) as tf:
                return bool(tf.is_ome or tf.is_imagej)
        except Exception:
            return False
    return False


def _open_planes(path: Path, scene: int, axes: str | None) -> _Planes:
    if not path.exists():
        raise VideoError(f"{path} does not exist")
    if path.is_dir():
        return _ZarrPlanes(path, scene, axes)
    if path.stat().st_size == 0:
        raise VideoError(f"{path} is empty (0 bytes)")
    if path.suffix.lower() in TIFF_SUFFIXES:
        return _TiffPlanes(path, scene, axes)
    return _BioioPlanes(path, scene, axes)


def describe(
    path: str | os.PathLike, *, scene: int = 0, axes: str | None = None
) -> MicroscopyInfo:
    """What a microscopy file declares (axes, sizes, scenes, channels, units), without a
    choice and without reading pixels.

    Raises
    ------
    VideoError
        If the file cannot be read or does not declare its axes (the message says which option
        to pass).
    """
    planes = _open_planes(Path(path), scene, axes)
    try:
        return planes.info
    finally:
        planes.close()


class MicroscopySource(FrameSource):
    """One channel (or an RGB merge), one z-plane (or a projection) and one scene of a
    microscopy time-lapse, as frames: frame ``i`` is time point ``i``.

    Parameters
    ----------
    path : path-like
        An OME-TIFF, ImageJ TIFF, plain TIFF (with ``axes``), OME-Zarr folder, ND2, CZI or LIF.
    choice : Choice or str, optional
        The channel/z/scene choice, or its text (:attr:`Choice.text`). The keywords below
        override its parts.
    channel : int or sequence of int, optional
        One channel, or several to merge into RGB (8-bit, each channel scaled to its 0.1-99.9
        percentiles of three time points). Needed when the file has more than one channel.
    colors : sequence of str, optional
        Colour of each merged channel: letters or names of :data:`COLORS`.
    z : int or "max" or "mean", optional
        A z-plane or a projection; needed when the file has more than one plane.
    scene : int, optional
        The scene (default 0).
    axes : str, optional
        The axis order, for a file that does not declare it (``"TCYX"``).

    Raises
    ------
    VideoError
        Naming the file and the problem: unreadable, undeclared axes, no time axis, a channel,
        plane or scene past the end, a choice missing where the file needs one.
    """

    def __init__(
        self,
        path: str | os.PathLike,
        choice: Choice | str | None = None,
        *,
        channel: int | tuple[int, ...] | list[int] | None = None,
        colors: tuple[str, ...] | list[str] | None = None,
        z: int | str | None = None,
        scene: int | None = None,
        axes: str | None = None,
    ) -> None:
        self.path = p = Path(path)
        ch = parse_choice(choice) if isinstance(choice, str) else (choice or Choice())
        if channel is not None:
            ch = replace(
                ch,
                channels=(int(channel),)
                if np.isscalar(channel)
                else tuple(
                    int(c)
                    for c in channel  # type: ignore[union-attr]
                ),
                colors=(),
            )
        if colors is not None:
            ch = replace(ch, colors=tuple(_color_letter(c) for c in colors))
        if z is not None:
            ch = replace(ch, z=z)
        if scene is not None:
            ch = replace(ch, scene=int(scene))
        self._planes = _open_planes(p, ch.scene or 0, axes)
        try:
            self.choice = self._resolve(ch)
            self._setup()
        except Exception:
            self._planes.close()
            raise

    # --- choice ---------------------------------------------------------------------------
    def _resolve(self, ch: Choice) -> Choice:
        info = self._planes.info
        p = self.path
        n_c, n_z, n_t = info.size("C"), info.size("Z"), info.size("T")
        if "T" not in info.axes and n_z > 1:
            raise VideoError(
                f"{p} has no time axis: its axes are {info.axes} ({info.axes_from}), "
                f"{n_z} z-planes. If its planes are time points, pass axes= with T in their "
                f"place (e.g. axes={info.axes.replace('Z', 'T')!r})"
            )
        if n_t == 1 and n_z > 1 and info.axes_from == "bioio metadata":
            raise VideoError(
                f"{p} has no time axis: 1 time point and {n_z} z-planes ({info.axes_from}); "
                "a z-stack is not a video"
            )
        names = ", ".join(f"{k}: {n}" for k, n in enumerate(info.channel_names)) or (
            f"0..{n_c - 1}"
        )
        channels = ch.channels
        if not channels:
            if n_c > 1:
                raise VideoError(
                    f"{p} has {n_c} channels ({names}): choose one with channel=k (or "
                    "channel=(0, 1) to merge them into RGB), never mixed into time"
                )
        else:
            for c in channels:
                if not 0 <= c < n_c:
                    raise VideoError(
                        f"{p}: channel {c} is past the end: it has {n_c} channel(s) ({names})"
                    )
            if "S" in info.axes and info.size("S") > 1 and len(channels) > 1:
                raise VideoError(f"{p}: its frames are RGB already; merge is for channels")
            if len(ch.colors) not in (0, len(channels)):
                raise VideoError(
                    f"{p}: {len(ch.colors)} colour(s) for {len(channels)} merged channels"
                )
        zc = ch.z
        if isinstance(zc, str) and zc.isdigit():
            zc = int(zc)
        if zc is None:
            if n_z > 1:
                raise VideoError(
                    f"{p} has {n_z} z-planes: choose one with z=k (0..{n_z - 1}) or a "
                    "projection with z='max' or z='mean'"
                )
        elif isinstance(zc, str):
            if zc not in ("max", "mean"):
                raise VideoError(f"{p}: z={zc!r} is not a plane index, 'max' or 'mean'")
        elif not 0 <= int(zc) < n_z:
            raise VideoError(f"{p}: z-plane {zc} is past the end: it has {n_z} plane(s)")
        # The identity names only what the file has more than one of.
        return Choice(
            channels=channels if n_c > 1 else (),
            colors=ch.colors if len(channels) > 1 else (),
            z=zc if n_z > 1 else None,
            scene=(ch.scene or 0) if info.n_scenes > 1 else None,
        )

    def _setup(self) -> None:
        info = self._planes.info
        ch = self.choice
        self._channels = list(ch.channels) or [0]
        z = ch.z
        self._zs = (
            list(range(info.size("Z"))) if isinstance(z, str) else [int(z) if z is not None else 0]
        )
        self._project = z if isinstance(z, str) else None
        self._merge = len(self._channels) > 1
        self._direct = self._planes.direct and not self._merge and self._project is None
        self._direct = self._direct and "S" not in info.axes
        rgb_samples = info.size("S") if "S" in info.axes else 1
        n = info.size("T")
        self._limits: list[tuple[float, float]] = []
        if self._merge:
            rows = sorted({0, n // 2, n - 1})
            for c in self._channels:
                sample = np.stack([self._raw(t, c) for t in rows])
                lo, hi = (float(v) for v in np.percentile(sample, [0.1, 99.9]))
                self._limits.append((lo, max(hi, lo + 1.0)))
            cols = ch.merge_colors()
            self._weights = np.array([COLORS[cl] for cl in cols], dtype=np.float32)
            out_dtype, channels_out = "uint8", 3
        else:
            out_dtype = info.dtype
            channels_out = 3 if rgb_samples in (3, 4) else 1
        self._cache = _LRU(_PLANE_CACHE, 256 * 2**20)
        dt = info.frame_interval_s
        self.meta = VideoMeta(
            path=self.path,
            n_frames=n,
            height=info.size("Y"),
            width=info.size("X"),
            fps=1.0 / dt if dt else 0.0,
            codec=info.format,
            dtype=out_dtype,
            channels=channels_out,
            n_frames_header=n,
            exact_by="planes",
            pixel_size_um=info.pixel_size_um,
            frame_interval_s=dt,
            choice=self.identity,
        )

    # --- facts ---------------------------------------------------------------------------
    @property
    def info(self) -> MicroscopyInfo:
        """What the file declares (axes, sizes, scenes, channel names, units)."""
        return self._planes.info

    @property
    def identity(self) -> str:
        """The choice as short stable text (``C1``, ``C0+C1``, ``S0_C1_Zmax``; ``""`` for a
        file with one channel, plane and scene): part of every name made from this source."""
        return self.choice.text

    @property
    def pixel_size_um(self) -> float | None:
        """Physical pixel size in µm (None when the file does not say)."""
        return self.info.pixel_size_um

    @property
    def frame_interval_s(self) -> float | None:
        """Time between frames in seconds (None when the file does not say)."""
        return self.info.frame_interval_s

    @property
    def channel_names(self) -> tuple[str, ...]:
        """The file's channel names (empty when it names none)."""
        return self.info.channel_names

    # --- frames ----------------------------------------------------------------------------
    def _raw(self, t: int, c: int) -> np.ndarray:
        if self._project is None:
            a = self._planes.plane(t, c, self._zs[0])
        else:
            stack = np.stack([self._planes.plane(t, c, z) for z in self._zs])
            if self._project == "max":
                a = stack.max(axis=0)
            else:
                a = np.rint(stack.mean(axis=0, dtype=np.float64)).astype(stack.dtype)
        if a.ndim == 3 and a.shape[-1] == 4:
            a = a[..., :3]
        return a

    def frame(self, index: int) -> np.ndarray:
        """Return frame ``index`` (time point ``index``) as a read-only array."""
        n = self.meta.n_frames
        if not 0 <= index < n:
            raise IndexError(f"frame {index} out of range for {n} frames of {self.path}")
        if self._direct:  # a read-only view of the memory-mapped plane: nothing to cache
            return self._planes.plane(index, self._channels[0], self._zs[0])
        arr = self._cache.get(index)
        if arr is not None:
            return arr
        if self._merge:
            acc = np.zeros((self.meta.height, self.meta.width, 3), np.float32)
            for w, c, (lo, hi) in zip(self._weights, self._channels, self._limits, strict=True):
                a = (self._raw(index, c).astype(np.float32) - lo) / (hi - lo)
                np.clip(a, 0.0, 1.0, out=a)
                acc += a[..., None] * w
            arr = np.rint(np.clip(acc, 0.0, 1.0) * 255.0).astype(np.uint8)
        else:
            arr = self._raw(index, self._channels[0])
            if not arr.flags.owndata or arr.base is not None:
                arr = np.array(arr)  # a memory-mapped view would keep the file open
        arr.setflags(write=False)
        self._cache.put(index, arr)
        return arr

    def close(self) -> None:
        """Release the file."""
        self._cache.clear()
        self._planes.close()

    def __repr__(self) -> str:
        m = self.meta
        return (
            f"MicroscopySource({str(m.path)!r}, {self.identity or 'single'}, frames={m.n_frames}, "
            f"size={m.width}x{m.height}, {m.codec}, dtype={m.dtype})"
        )
