"""What the npe2 plugin and the docks share: napari-only, Qt-free.

The npe2 readers (``plugin/``) and the docks (``widgets/``) never import each other; what both
need lives here: the one project state per viewer, the layer data of a video, TIFF stack or
image folder, and the finishing touch napari needs on predictions layers. Nothing here imports
Qt; napari is imported only where a napari class is needed.
"""

from __future__ import annotations

import os
import weakref
from pathlib import Path
from typing import TYPE_CHECKING, Any

from napari_dlcflow.core.project.state import ProjectState
from napari_dlcflow.core.video.reader import VIDEO_SUFFIXES

if TYPE_CHECKING:
    import napari

PathLike = str | os.PathLike

__all__ = ["finish_layer_data", "layer_data_for", "physical_scale", "state_for_viewer"]

_STATES: weakref.WeakKeyDictionary[object, ProjectState] = weakref.WeakKeyDictionary()


def state_for_viewer(viewer: napari.Viewer) -> ProjectState:
    """Return the project state of ``viewer``, making it on first use."""
    state = _STATES.get(viewer)
    if state is None:
        state = ProjectState()
        _STATES[viewer] = state
    return state


def layer_data_for(path: PathLike, **reader_kwargs: Any) -> tuple[Any, dict[str, Any], str]:
    """Return ``(data, kwargs, "image")`` for one video, TIFF stack or image folder.

    Parameters
    ----------
    path : path-like
        The file or folder.
    **reader_kwargs
        Passed to :class:`~napari_dlcflow.core.video.reader.VideoReader` (``prefetch``, ...).

    Returns
    -------
    tuple
        A napari layer data tuple; ``metadata["dlcflow_video"]`` holds the video's facts. A
        source whose file states its pixel size or frame interval (a microscopy file) gets them
        as the layer's ``scale`` and ``units`` (:func:`physical_scale`).
    """
    import numpy as np

    from napari_dlcflow.core.video.reader import PLAYBACK_PREFETCH, open_frames

    reader_kwargs.setdefault("prefetch", PLAYBACK_PREFETCH)
    p = Path(path)
    kw = reader_kwargs if p.suffix.lower() in VIDEO_SUFFIXES else {}
    src = open_frames(p, **kw)
    m = src.meta
    if src.dtype == np.uint8:
        limits = [0, 255]
    else:
        sample = np.stack([src.frame(i) for i in sorted({0, len(src) // 2, len(src) - 1})])
        lo, hi = (int(v) for v in np.percentile(sample, [0.1, 99.9]))
        limits = [lo, max(hi, lo + 1)]
    return (
        src,
        {
            "name": p.stem if p.is_file() else p.name,
            "rgb": src.rgb,
            "contrast_limits": limits,
            "metadata": {"dlcflow_video": m.as_dict(), "path": str(p)},
            **physical_scale(m.pixel_size_um, m.frame_interval_s),
        },
        "image",
    )


def physical_scale(pixel_size_um: float | None, frame_interval_s: float | None) -> dict[str, Any]:
    """``scale`` (``[dt, px, px]``), ``units`` and ``axis_labels`` of a ``(t, y, x)`` layer.

    The same rule as the microscopy reader's layers: 1 and ``pixel`` where a value is unknown;
    an empty dict when both are (so a plain video keeps napari's defaults).
    """
    if pixel_size_um is None and frame_interval_s is None:
        return {}
    px, dt = pixel_size_um, frame_interval_s
    return {
        "scale": [dt or 1.0, px or 1.0, px or 1.0],
        "units": ["s" if dt else "pixel", "µm" if px else "pixel", "µm" if px else "pixel"],
        "axis_labels": ["t", "y", "x"],
    }


def finish_layer_data(
    layers: list[tuple[Any, dict[str, Any], str]],
    *,
    pixel_size_um: float | None = None,
    frame_interval_s: float | None = None,
) -> list[tuple]:
    """Give trails layers the exact per-group colours of the points (needs napari).

    Parameters
    ----------
    layers : list of tuple
        Layer data tuples of one predictions file (points, skeleton, trails, names).
    pixel_size_um, frame_interval_s : float, optional
        Physical units of the image the predictions were made on, so that the layers sit on
        its layer scaled in seconds and µm (:func:`physical_scale`; e.g.
        :meth:`~napari_dlcflow.core.predictions.units.Units.image_units`).
    """
    import numpy as np
    from napari.utils.colormaps import Colormap

    extra = physical_scale(pixel_size_um, frame_interval_s)
    out = []
    for data, kwargs, kind in layers:
        if extra:
            kwargs = {**kwargs, **extra}
        colors = kwargs.get("metadata", {}).get("group_colors")
        if kind == "tracks" and colors:
            rgba = np.asarray(colors, dtype=float)
            if len(rgba) == 1:
                rgba = np.vstack([rgba, rgba])
            cmap = Colormap(
                colors=rgba, controls=np.linspace(0.0, 1.0, len(rgba)), name="dlcflow-groups"
            )
            kwargs = {**kwargs, "colormaps_dict": {"group": cmap}}
        out.append((data, kwargs, kind))
    return out
