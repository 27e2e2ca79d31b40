"""One set of overlay layers (points, skeleton, trails) for one analysis file, kept in sync."""

from __future__ import annotations

import os
import warnings
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from napari_dlcflow.core.layers.colors import DEFAULT_COLORMAP
from napari_dlcflow.core.layers.data import (
    identity_layer_data,
    predictions_layers,
    shown_mask,
    skeleton_vectors_for,
    track_groups,
    tracks_layer_data,
)
from napari_dlcflow.core.layers.style import OVERLAY_STYLES, DisplaySettings, display_settings
from napari_dlcflow.core.predictions.analysis_files import Predictions, crop_offset
from napari_dlcflow.napari_common import finish_layer_data, state_for_viewer

if TYPE_CHECKING:
    import napari

WINDOWED_ABOVE = 300_000
"""Above this many keypoints (frames x tracks) skeleton and trails are built per window."""
WINDOW_FRAMES = 1500
"""Frames ahead of the current frame in a skeleton/trails window."""
_ROLES = {"predictions": "points", "skeleton": "vectors", "trails": "tracks", "identity": "names"}
"""The attribute of each layer kind (``metadata["dlcflow_kind"]``) in a set."""


class OverlaySet:
    """The layers of one analysis file in a viewer.

    Parameters
    ----------
    viewer : napari.Viewer
        Where to add the layers.
    pred : Predictions
        The predictions.
    skeleton : sequence of (str, str)
        Edges to draw.
    kind : {"raw", "filtered"}
        Picks the style, so raw and filtered predictions can be shown together.
    pcutoff : float
        Initial p-cutoff.
    tail_length : int
        Initial trail length (frames).
    trails : bool
        Whether to add a trails layer.
    target : napari.layers.Layer, optional
        The video layer; its scale and translate are copied so the tracks sit on it.
    colormap : str
        The project's colormap (the one colour rule of ``core.layers.colors``).
    trails_by : {"bodypart", "individual"}
        One trail per keypoint column, or one per animal along its centre.
    names : bool
        In multi-animal files, show each animal's name on it (a Points layer with text).
    """

    def __init__(
        self,
        viewer: napari.Viewer,
        pred: Predictions,
        skeleton: Sequence[tuple[str, str]],
        *,
        kind: str = "raw",
        pcutoff: float = 0.6,
        tail_length: int = 30,
        trails: bool = True,
        target: Any = None,
        colormap: str = DEFAULT_COLORMAP,
        trails_by: str = "bodypart",
        names: bool = True,
    ) -> None:
        self.viewer = viewer
        self.pred = pred
        self.skeleton = list(skeleton)
        self.kind = kind
        self.pcutoff = float(pcutoff)
        self.trails_by = trails_by
        self.colormap = colormap
        style = OVERLAY_STYLES[kind]
        self.tail_length = int(tail_length)
        self.windowed = pred.data.shape[0] * pred.data.shape[1] > WINDOWED_ABOVE
        self.window = self._window_for(self._frame()) if self.windowed else None
        name = pred.path.stem if pred.path is not None else f"{pred.scorer} {kind}"
        data = finish_layer_data(
            predictions_layers(
                pred,
                self.skeleton,
                name=name,
                pcutoff=pcutoff,
                trails=trails,
                tail_length=tail_length,
                symbol=style.symbol,
                size=style.size,
                skeleton_color=style.skeleton_color,
                colormap=colormap,
                window=self.window,
                trails_by=trails_by,
                names=names,
            )
        )
        self.points: Any = None
        self.vectors: Any = None
        self.tracks: Any = None
        self.names: Any = None
        # coordinates of a cropped analysis are in the crop: shift them onto the full video
        x1, y1 = crop_offset(pred)
        # on a scaled layer (a microscopy file in s and µm) the tracks take its scale and units
        scale = np.ones(3)
        translate = np.zeros(3)
        placed: dict[str, Any] = {}
        if target is not None and getattr(target, "ndim", 0) == 3:
            scale = np.asarray(target.scale, dtype=float)
            translate = np.asarray(target.translate, dtype=float)
            units = getattr(target, "units", None)
            if units is not None:
                placed = {"units": tuple(str(u) for u in units)}
        translate = translate + scale * np.array([0.0, y1, x1])
        # the names go on top, so that no point hides them
        data.sort(key=lambda d: d[1]["metadata"]["dlcflow_kind"] == "identity")
        for layer_data, kwargs, layer_type in data:
            kwargs = {
                **kwargs,
                **placed,
                "scale": tuple(scale),
                "translate": tuple(translate),
            }
            layer = getattr(viewer, f"add_{layer_type}")(layer_data, **kwargs)
            setattr(self, _ROLES[kwargs["metadata"]["dlcflow_kind"]], layer)
        self._likelihood = np.asarray(self.points.features["likelihood"], dtype=float)
        if self.windowed:
            viewer.dims.events.current_step.connect(self._frame_changed)

    @classmethod
    def adopt(
        cls,
        viewer: napari.Viewer,
        pred: Predictions,
        points: Any,
        *,
        vectors: Any = None,
        tracks: Any = None,
        names: Any = None,
        kind: str = "raw",
    ) -> OverlaySet:
        """Take over layers that were made elsewhere (the plugin's reader, e.g. a dropped file).

        The layers stay as they are; from now on the set drives them like its own (p-cutoff,
        visibility, trail length, removal). Their skeleton and p-cutoff are read from the points
        layer's metadata, as ``core.layers.data.predictions_layers`` writes them.
        """
        self = cls.__new__(cls)
        self.viewer = viewer
        self.pred = pred
        self.skeleton = [tuple(e) for e in points.metadata.get("skeleton", [])]
        self.kind = kind
        self.pcutoff = float(points.metadata.get("pcutoff", 0.6))
        by = tracks.metadata.get("trails_by") if tracks is not None else None
        self.trails_by = str(by or "bodypart")
        self.colormap = str(points.metadata.get("colormap") or DEFAULT_COLORMAP)
        self.tail_length = int(tracks.tail_length) if tracks is not None else 30
        self.windowed = False  # the reader builds skeleton and trails for every frame
        self.window = None
        self.points, self.vectors, self.tracks, self.names = points, vectors, tracks, names
        self._likelihood = np.asarray(points.features["likelihood"], dtype=float)
        return self

    def hidden_note(self) -> str:
        """Why nothing is drawn when every point is below the p-cutoff, else ``""``."""
        n = int(np.isfinite(self._likelihood).sum())
        if n == 0:
            return "The file has no predicted points."
        if shown_mask(self._likelihood, self.pcutoff).any():
            return ""
        best = float(np.nanmax(self._likelihood))
        return (
            f"All {n:,} points are below p-cutoff {self.pcutoff:g} (the highest likelihood is "
            f"{best:.2f}); lower it to see them."
        )

    # ------------------------------------------------------------------ windows (long videos)

    def _frame(self) -> int:
        step = self.viewer.dims.current_step
        return int(step[0]) if len(step) else 0

    def _window_for(self, frame: int) -> tuple[int, int]:
        start = max(0, frame - self.tail_length - WINDOW_FRAMES // 4)
        return start, frame + WINDOW_FRAMES

    def _frame_changed(self, *_: Any) -> None:
        if self.window is None:
            return
        frame = self._frame()
        lo, hi = self.window
        if (frame - self.tail_length < lo and lo > 0) or frame >= hi - 1:
            self.window = self._window_for(frame)
            self._rebuild_lines()

    @property
    def layers(self) -> list[Any]:
        """The layers of this set that are still in the viewer."""
        return [
            lay
            for lay in (self.vectors, self.tracks, self.points, self.names)
            if lay is not None and lay in self.viewer.layers
        ]

    def set_pcutoff(self, pcutoff: float, *, rebuild: bool = True) -> None:
        """Hide points below ``pcutoff`` now; with ``rebuild`` also redo skeleton and trails."""
        self.pcutoff = float(pcutoff)
        if self.points in self.viewer.layers:
            self.points.shown = shown_mask(self._likelihood, self.pcutoff)
            self.points.metadata["pcutoff"] = self.pcutoff
        if rebuild:
            self._rebuild_lines()

    def _rebuild_lines(self) -> None:
        """Redo the skeleton, trails and names for the p-cutoff (and window)."""
        if self.vectors is not None and self.vectors in self.viewer.layers:
            self.vectors.data = skeleton_vectors_for(
                self.pred, self.skeleton, pcutoff=self.pcutoff, frames=self.window
            )
        if self.tracks is not None and self.tracks in self.viewer.layers:
            by = self.trails_by
            data = tracks_layer_data(self.pred, pcutoff=self.pcutoff, frames=self.window, by=by)
            if len(data):
                value = track_groups(self.pred, data, by=by)
                with warnings.catch_warnings():
                    # napari warns that the old colour feature is gone until we set the new one
                    warnings.filterwarnings("ignore", "Previous color_by key", UserWarning)
                    self.tracks.data = data
                self.tracks.features = {"group": value}
                self.tracks.color_by = "group"
                self.tracks.metadata["trails_by"] = by
        if self.names is not None and self.names in self.viewer.layers:
            self._rebuild_names()

    def _rebuild_names(self) -> None:
        """Place the names by the keypoints at or above the p-cutoff."""
        meta = self.names.metadata
        new = identity_layer_data(
            self.pred,
            pcutoff=self.pcutoff,
            at=meta.get("anchor_bodyparts", ()),
            colormap=self.colormap,
        )
        if new is None:
            return
        data, kwargs, _ = new
        self.names.data = data
        self.names.features = kwargs["features"]
        self.names.text = kwargs["text"]
        meta["pcutoff"] = self.pcutoff

    def set_trails_by(self, by: str) -> None:
        """One trail per body part (``"bodypart"``) or per animal's centre (``"individual"``)."""
        if by != self.trails_by:
            self.trails_by = by
            self._rebuild_lines()

    def set_tail_length(self, frames: int) -> None:
        """Trail length in frames."""
        self.tail_length = int(frames)
        if self.tracks is not None and self.tracks in self.viewer.layers:
            self.tracks.tail_length = int(frames)
        if self.window is not None:
            lo = self.window[0]
            if lo > 0 and self._frame() - self.tail_length < lo:
                self.window = self._window_for(self._frame())
                self._rebuild_lines()

    def set_visible(
        self,
        *,
        points: bool = True,
        skeleton: bool = True,
        trails: bool = True,
        names: bool = True,
    ) -> None:
        """Show or hide the parts of this set."""
        parts = (
            (self.points, points),
            (self.vectors, skeleton),
            (self.tracks, trails),
            (self.names, names),
        )
        for layer, on in parts:
            if layer is not None and layer in self.viewer.layers:
                layer.visible = on

    def release(self) -> None:
        """Stop following the viewer's frame; the layers stay."""
        if self.windowed:
            self.viewer.dims.events.current_step.disconnect(self._frame_changed)
            self.windowed = False

    def remove(self) -> None:
        """Take this set's layers out of the viewer."""
        self.release()
        for layer in self.layers:
            self.viewer.layers.remove(layer)


def display_settings_for(
    viewer: Any, path: str | os.PathLike, bodyparts: Sequence[str]
) -> DisplaySettings:
    """Skeleton, p-cutoff and colormap for drawing ``path``: the open project's if it has
    these body parts, else those of the file's own project."""
    project = state_for_viewer(viewer).project
    if project is not None and set(bodyparts) & set(project.all_bodyparts):
        return DisplaySettings.from_project(project)
    return display_settings(Path(path))
