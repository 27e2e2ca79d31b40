"""How each kind of layer looks: style dataclasses (``as_kwargs``) and a project's display
settings (skeleton, p-cutoff, colormap, dot size)."""

from __future__ import annotations

import os
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import TYPE_CHECKING, Any

from napari_dlcflow.core.layers.colors import DEFAULT_COLORMAP

if TYPE_CHECKING:
    from napari_dlcflow.core.project.config import Project

__all__ = [
    "OVERLAY_STYLES",
    "DisplaySettings",
    "LayerStyle",
    "PointsStyle",
    "ShapesStyle",
    "TracksStyle",
    "VectorsStyle",
    "display_settings",
]


@dataclass
class LayerStyle:
    """Keyword arguments shared by napari layers; ``None`` fields are left to napari."""

    name: str | None = None
    opacity: float | None = None
    blending: str | None = None

    def as_kwargs(self) -> dict[str, Any]:
        """The fields that are set, as keyword arguments of ``viewer.add_<layer>``."""
        values = {f.name: getattr(self, f.name) for f in fields(self)}
        return {k: v for k, v in values.items() if v is not None}


@dataclass
class PointsStyle(LayerStyle):
    """A Points layer of keypoints (the face colour comes from :mod:`.colors`)."""

    size: float = 8.0
    symbol: str = "disc"
    face_color: Any = None
    border_color: Any = "black"
    border_width: float = 0.1
    text: dict[str, Any] | None = None


@dataclass
class VectorsStyle(LayerStyle):
    """A Vectors layer of skeleton segments."""

    edge_width: float = 2.0
    edge_color: Any = "white"
    vector_style: str = "line"
    opacity: float | None = 0.8


@dataclass
class TracksStyle(LayerStyle):
    """A Tracks layer of trails, coloured by the ``group`` feature (see ``predictions_layers``)."""

    tail_length: int = 30
    head_length: int = 0
    tail_width: float = 2.0
    color_by: str = "group"
    colormap: str = "hsv"
    blending: str | None = "translucent"


@dataclass
class ShapesStyle(LayerStyle):
    """A Shapes layer (the crop region of the Preprocess dock)."""

    edge_color: Any = "yellow"
    face_color: Any = field(default_factory=lambda: [1.0, 1.0, 0.0, 0.12])
    edge_width: float = 4.0


@dataclass(frozen=True)
class OverlayStyle:
    """Marker and skeleton of one kind of predictions, so raw and filtered can be told apart."""

    symbol: str
    size: float
    skeleton_color: str


OVERLAY_STYLES: dict[str, OverlayStyle] = {
    "raw": OverlayStyle(symbol="disc", size=7.0, skeleton_color="white"),
    "filtered": OverlayStyle(symbol="ring", size=10.0, skeleton_color="cyan"),
}
"""Overlay dock styles of raw and filtered predictions."""


@dataclass
class DisplaySettings:
    """What a project's ``config.yaml`` says about drawing keypoints.

    Attributes
    ----------
    skeleton : list of (str, str)
        Edges to draw.
    pcutoff : float or None
        Likelihood below which predictions are hidden (None: not set).
    colormap : str
        The colormap of the colour rule (``rainbow`` without a project).
    dotsize : float or None
        Point size in pixels (None: not set).
    config : Path or None
        The ``config.yaml`` read, if any.
    """

    skeleton: list[tuple[str, str]] = field(default_factory=list)
    pcutoff: float | None = None
    colormap: str = DEFAULT_COLORMAP
    dotsize: float | None = None
    config: Path | None = None

    @classmethod
    def from_project(cls, project: Project) -> DisplaySettings:
        """The settings of an open project (its unsaved edits included)."""
        pcutoff = project.get("pcutoff")
        dotsize = project.get("dotsize")
        return cls(
            skeleton=list(project.skeleton),
            pcutoff=float(pcutoff) if pcutoff is not None else None,
            colormap=project.colormap,
            dotsize=float(dotsize) if dotsize is not None else None,
            config=project.config_path,
        )


def display_settings(path: str | os.PathLike) -> DisplaySettings:
    """Display settings of the project a file belongs to
    (:func:`~napari_dlcflow.core.project.config.project_of`).

    Without a readable project the defaults are returned (no skeleton, ``rainbow``): a drawing
    never fails for want of a project.
    """
    from napari_dlcflow.core.project.config import Project, project_of

    cfg = project_of(path)
    if cfg is None:
        return DisplaySettings()
    try:
        settings = DisplaySettings.from_project(Project.open(cfg))
    except Exception:
        return DisplaySettings()
    settings.config = cfg
    return settings
