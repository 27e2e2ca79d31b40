"""npe2 reader: videos, TIFF stacks and microscopy time-lapses open as lazy, frame-exact Image
layers with a time axis.

The layer's data is a :class:`napari_dlcflow.core.video.reader.FrameSource`; nothing is loaded
until napari asks for a frame, so a video of any length opens at once.

A microscopy file (OME-TIFF, ImageJ hyperstack, OME-Zarr, ND2, CZI, LIF) opens as one layer
per channel (additive blending, the file's channel colours where it states them, else green,
magenta, ...), each a frame-exact ``(T, Y, X)`` source of one channel, with the physical pixel
size and frame interval as the layer's ``scale`` and ``units``. A file with z-planes opens as
their maximum projection (``Zmax``); the layer's metadata names the choice.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

from napari_dlcflow.core.video.reader import TIFF_SUFFIXES, VIDEO_SUFFIXES

PathLike = str | os.PathLike

__all__ = ["get_video_reader", "microscopy_layer_data", "read_video"]

_MICRO_SUFFIXES = (".nd2", ".czi", ".lif")
_LAYER_COLORMAPS = ("green", "magenta", "cyan", "yellow", "red", "blue", "gray")


def _handles(path: PathLike) -> bool:
    p = Path(path)
    suffix = p.suffix.lower()
    if suffix == ".zarr":
        return p.is_dir()
    return suffix in (*VIDEO_SUFFIXES, *TIFF_SUFFIXES, *_MICRO_SUFFIXES) and p.is_file()


def get_video_reader(
    path: PathLike | list[PathLike],
) -> Callable[[Any], list[tuple]] | None:
    """Return a reader for video files, TIFF stacks and microscopy files; None for anything
    else.

    Parameters
    ----------
    path : path-like or list of path-like
        What napari was asked to open.

    Returns
    -------
    callable or None
        A function that returns napari layer data tuples, or None if some path is not a
        video, TIFF or microscopy file this reader handles.
    """
    paths = path if isinstance(path, list) else [path]
    if not paths or not all(_handles(p) for p in paths):
        return None
    return read_video


def _limits(src: Any) -> list[float]:
    import numpy as np

    if src.dtype == np.uint8:
        return [0, 255]
    sample = np.stack([src.frame(i) for i in sorted({0, len(src) // 2, len(src) - 1})])
    lo, hi = (int(v) for v in np.percentile(sample, [0.1, 99.9]))
    return [lo, max(hi, lo + 1)]


def microscopy_layer_data(path: PathLike) -> list[tuple[Any, dict[str, Any], str]]:
    """One lazy Image layer per channel of a microscopy file, scaled to µm and seconds.

    Parameters
    ----------
    path : path-like
        An OME-TIFF, ImageJ TIFF, OME-Zarr folder, ND2, CZI or LIF file.

    Returns
    -------
    list of tuple
        napari layer data tuples; ``metadata["dlcflow_video"]`` holds each source's facts,
        ``metadata["dlcflow_choice"]`` its channel/z/scene choice (``C1``, ``C0_Zmax``).

    Raises
    ------
    napari_dlcflow.core.video.probe.VideoError
        If the file cannot be read or does not declare its axes; the message names it.
    """
    from napari_dlcflow.core.video.microscopy import MicroscopySource, describe

    p = Path(path)
    info = describe(p)
    n_c = info.size("C")
    z = "max" if info.size("Z") > 1 else None
    rgb = "S" in info.axes and info.size("S") in (3, 4)
    stem = p.name[: -len(".ome.tif")] if p.name.lower().endswith(".ome.tif") else p.stem
    stem = stem[: -len(".ome")] if stem.lower().endswith(".ome") else stem
    out = []
    for c in range(n_c):
        src = MicroscopySource(p, channel=c if n_c > 1 else None, z=z)
        px, dt = src.pixel_size_um, src.frame_interval_s
        scale = [dt or 1.0, px or 1.0, px or 1.0]
        units = ["s" if dt else "pixel", "µm" if px else "pixel", "µm" if px else "pixel"]
        name = stem
        if n_c > 1:
            label = info.channel_names[c] if info.channel_names else f"C{c}"
            name = f"{stem} [{label}]"
        if z is not None:
            name = f"{name} (Zmax)"
        kwargs: dict[str, Any] = {
            "name": name,
            "rgb": rgb,
            "contrast_limits": _limits(src),
            "scale": scale,
            "units": units,
            "axis_labels": ["t", "y", "x"],
            "metadata": {
                "dlcflow_video": src.meta.as_dict(),
                "dlcflow_choice": src.identity,
                "path": str(p),
            },
        }
        if n_c > 1 and not rgb:
            kwargs["blending"] = "additive"
            if info.channel_colors:
                from napari.utils.colormaps import Colormap

                col = info.channel_colors[c]
                kwargs["colormap"] = Colormap([[0, 0, 0, 1], [*col, 1]], name=f"{name} colour")
            else:
                kwargs["colormap"] = _LAYER_COLORMAPS[c % len(_LAYER_COLORMAPS)]
        out.append((src, kwargs, "image"))
    return out


def read_video(path: PathLike | list[PathLike]) -> list[tuple]:
    """Open each path as lazy Image layer(s) (the npe2 reader function).

    Raises
    ------
    napari_dlcflow.core.video.reader.VideoError
        If a file cannot be read; the message names it.
    """
    from napari_dlcflow.core.video.microscopy import is_microscopy
    from napari_dlcflow.napari_common import layer_data_for

    paths = path if isinstance(path, list) else [path]
    out: list[tuple] = []
    for p in paths:
        if is_microscopy(p):
            out.extend(microscopy_layer_data(p))
        else:
            out.append(layer_data_for(p))
    return out
