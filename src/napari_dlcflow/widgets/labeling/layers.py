"""napari layers of the Labeling dock: the labels (Points) and the skeleton (Vectors) of the
current frame over the folder's images (a lazy
:class:`~napari_dlcflow.core.video.reader.ImageFolderReader`). Their data, colours and styles
come from ``core.layers``."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from napari_dlcflow.core.layers.data import editing_points
from napari_dlcflow.core.layers.style import PointsStyle, VectorsStyle

if TYPE_CHECKING:
    import napari

    from napari_dlcflow.core.labels.session import LabelModel


def model_points(
    model: LabelModel, colors: np.ndarray, pcutoff: float = 0.6
) -> tuple[np.ndarray, Any, np.ndarray, np.ndarray]:
    """:func:`~napari_dlcflow.core.layers.data.editing_points` of the session's labels and
    predictions (the one place the dock hands the session's arrays to core)."""
    return editing_points(
        model.xy,
        model.keypoints,
        colors,
        predicted=model.predicted,
        likelihood=model.likelihood,
        pcutoff=pcutoff,
    )


def add_layers(
    viewer: napari.Viewer,
    stack: object,
    model: LabelModel,
    colors: np.ndarray,
    dotsize: float,
    name: str,
) -> tuple[object, object, object]:
    """Add the image stack, the labels and the skeleton layers; returns them."""
    # known limits spare napari a pass over every frame; 16-bit frames use the first frame's
    dtype = np.dtype(getattr(stack, "dtype", np.uint8))
    if dtype == np.uint8:
        limits: tuple[float, float] | None = (0.0, 255.0)
    else:
        first = np.asarray(stack[0])  # type: ignore[index]
        lo, hi = float(first.min()), float(first.max())
        limits = (lo, hi if hi > lo else lo + 1.0)
    image = viewer.add_image(stack, name=f"{name} images", contrast_limits=limits)
    data, feats, face, border = model_points(model, colors)
    points_style = PointsStyle(
        name=f"{name} labels",
        size=dotsize,
        face_color=face if len(face) else "white",
        border_color=border if len(border) else "black",
        border_width=0.15,
        text={
            "string": "{label}",
            "size": 9,
            "color": "white",
            "anchor": "upper_left",
            "translation": (0, -4, 4),
        },
    )
    points = viewer.add_points(data, ndim=3, features=feats, **points_style.as_kwargs())
    skeleton_style = VectorsStyle(
        name=f"{name} skeleton", edge_width=max(dotsize / 5.0, 1.0), opacity=0.9
    )
    skeleton = viewer.add_vectors(np.zeros((0, 2, 3)), ndim=3, **skeleton_style.as_kwargs())
    viewer.layers.selection.active = points
    return image, points, skeleton
