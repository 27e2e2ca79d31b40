"""npe2 reader: DeepLabCut analysis output (``<video>DLC_....h5`` / ``.csv``) as napari layers.

Only files whose columns end in ``x, y, likelihood`` triplets are taken; labels files
(``CollectedData_*``: ``x, y`` only) and anything else give ``None`` so that other readers can
have them. The skeleton and p-cutoff come from the project's ``config.yaml`` when the file sits
in a project's ``videos/`` folder (or beside a config).
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

PathLike = str | os.PathLike

__all__ = ["get_predictions_reader", "read_predictions_layers"]


def read_predictions_layers(path: PathLike) -> list[tuple]:
    """Layers for one analysis file (skeleton, p-cutoff and colormap from its project, if any)."""
    from napari_dlcflow.core.layers.data import predictions_layers
    from napari_dlcflow.core.layers.style import display_settings
    from napari_dlcflow.core.predictions.analysis_files import read_predictions
    from napari_dlcflow.core.predictions.units import units_of
    from napari_dlcflow.napari_common import finish_layer_data

    pred = read_predictions(path)
    settings = display_settings(path)
    layers = predictions_layers(
        pred,
        settings.skeleton,
        pcutoff=0.6 if settings.pcutoff is None else settings.pcutoff,
        colormap=settings.colormap,
        symbol="cross" if Path(path).stem.endswith("_filtered") else "disc",
    )
    # on a microscopy layer (scaled in µm and s by our reader) the points must land on it
    pixel_size_um, frame_interval_s = units_of(pred).image_units()
    return finish_layer_data(
        layers, pixel_size_um=pixel_size_um, frame_interval_s=frame_interval_s
    )


def get_predictions_reader(path: PathLike | list[PathLike]) -> Callable[[Any], list] | None:
    """Return a reader if ``path`` is a DLC analysis h5/csv; else None (never raises)."""
    paths = path if isinstance(path, list) else [path]
    from napari_dlcflow.core.predictions.analysis_files import is_analysis_file

    if not paths:
        return None
    for p in paths:
        name = Path(p).name
        # labels (even machine labels with likelihoods) belong to the labels reader
        if name.startswith(("CollectedData_", "machinelabels")) or not is_analysis_file(p):
            return None

    def reader(_path: Any) -> list:
        layers: list = []
        for p in paths:
            layers.extend(read_predictions_layers(p))
        return layers

    return reader
