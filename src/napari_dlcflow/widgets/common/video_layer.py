"""The video layer a dock draws on: the combo of the viewer's image layers, the layer chosen
in it, and the layer showing the video a file was made from (the Overlay and Proofread docks).
"""

from __future__ import annotations

import contextlib
import os
from pathlib import Path
from typing import Any

from qtpy.QtWidgets import QComboBox

from napari_dlcflow.core.predictions.analysis_files import video_stem
from napari_dlcflow.core.video.source import SourceRef
from napari_dlcflow.widgets.common.dock import refill_combo

__all__ = ["NO_LAYER", "chosen_video_layer", "refill_video_layers", "video_layer_of"]

NO_LAYER = "(none)"
"""The combo's entry for no layer."""


def refill_video_layers(combo: QComboBox, viewer: Any) -> None:
    """Fill ``combo`` with the viewer's image layers (and :data:`NO_LAYER`), keeping the
    current choice while its layer exists, else the first image layer."""
    from napari.layers import Image

    current = combo.currentText()
    names = [lay.name for lay in viewer.layers if isinstance(lay, Image)]
    refill_combo(
        combo,
        [NO_LAYER, *names],
        current if current in names else (names[0] if names else NO_LAYER),
    )


def chosen_video_layer(combo: QComboBox, viewer: Any) -> Any:
    """The layer chosen in ``combo``, or None."""
    name = combo.currentText()
    return viewer.layers[name] if name in viewer.layers else None  # noqa: SIM401


def video_layer_of(viewer: Any, path: str | os.PathLike) -> str | None:
    """The name of the image layer on ``viewer`` showing the video ``path`` (an analysis or
    tracks file) was made from: named like the video, or read from a file of that name (for a
    channel layer of our reader, the file's stem with its choice: ``cells_C1``); None when
    there is none."""
    from napari.layers import Image

    stem = video_stem(path)
    for lay in viewer.layers:
        if not isinstance(lay, Image):
            continue
        source = getattr(getattr(lay, "source", None), "path", None)
        meta = lay.metadata.get("path")
        choice = str(lay.metadata.get("dlcflow_choice") or "")  # a channel of our reader
        stems = {Path(s).stem for s in (source, meta) if s}
        with contextlib.suppress(ValueError):
            stems |= {SourceRef(s, choice).stem for s in (source, meta) if s}
        if lay.name == stem or stem in stems:
            return str(lay.name)
    return None
