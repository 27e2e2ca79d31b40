"""The tracks being proofread, drawn by the Overlay's own layer code on a window of frames.

:class:`TrackOverlay` is an :class:`~napari_dlcflow.widgets.overlay.layers.OverlaySet` (points
coloured by individual, the names, trails, skeleton: the same layers and colours as the Overlay
dock) whose layers hold only the frames around the current one. napari's cost of a frame step
grows with the points a layer holds, not with those it shows: every step it recomputes each
Points layer's extent and thumbnail over all its points and tests every point against the
slice, and its trails layer draws every vertex it holds. A 100,000-frame video of 4 animals
with 13 body parts is 5.2 million points; drawn whole, stepping falls from about 20 to 1 frame
per second (``benchmarks/bench_proofread_scrub.py``). Windows of :data:`AHEAD` frames (points,
names) and :data:`LINES_AHEAD` frames (skeleton, trails) keep that cost small whatever the
video's length; they move when the current frame leaves them, and an edit redraws them from
the session's predictions at once.

A seek out of the frames held (dragging the timeline, a candidate far away) holds only
:data:`JUMP_AHEAD` frames ahead at first, which is quicker to build; the full window follows
once the frame has stayed put for :data:`WIDEN_AFTER_MS`. The layers' thumbnails in the layer
list are redrawn then too, not at every step or seek: napari redraws every layer's thumbnail
(and the layer list) at each step, a tenth of a step's time under software OpenGL. The names'
colour follows their ``individual`` feature, so a new window sets only their points and
features (napari rebuilds the whole text otherwise).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import numpy as np
from qtpy.QtCore import QTimer

from napari_dlcflow.core.layers.colors import DEFAULT_COLORMAP, group_colors
from napari_dlcflow.core.layers.data import identity_layer_data, points_layer_data, shown_mask
from napari_dlcflow.core.predictions.analysis_files import Predictions
from napari_dlcflow.widgets.overlay.layers import OverlaySet

if TYPE_CHECKING:
    import napari

__all__ = ["AHEAD", "JUMP_AHEAD", "LAYER_SUFFIX", "LINES_AHEAD", "TrackOverlay"]

AHEAD = 300
"""Frames after the current one that the points and names hold (the window moves when the
current frame leaves it)."""
BEHIND = 60
"""Frames the points and names keep before the current one, besides the trails' length."""
LINES_AHEAD = 50
"""Frames after the current one that the skeleton and trails hold. napari's trails layer
draws every vertex it holds at every frame (its shader hides those outside the tail), so the
trails get a short window of their own: the tail and a few frames ahead."""
JUMP_AHEAD = 20
"""Frames after the current one held right after a seek out of the window (with the trails'
length and :data:`JUMP_BEHIND` before it); the full window follows when the frame stays."""
JUMP_BEHIND = 5
"""Frames kept before the current one, besides the trails' length, right after a seek."""
WIDEN_AFTER_MS = 300
"""How long the frame must stay put before the full window is built after a seek (a drag of
the timeline seeks many times: only its last frame gets the full window) and the thumbnails
are redrawn."""
LAYER_SUFFIX = " (proofreading)"
"""Added to the file's name in the layer names, so the layers of the Overlay dock stay apart."""


def frame_window(
    frame: int, n_frames: int, tail_length: int, *, ahead: int = AHEAD, behind: int = BEHIND
) -> tuple[int, int]:
    """The rows ``[start, stop)`` to hold while frame ``frame`` is shown."""
    start = max(0, int(frame) - int(tail_length) - behind)
    stop = min(int(n_frames), max(int(frame), 0) + ahead)
    return start, max(stop, start + 1)


def window_of(pred: Predictions, start: int, stop: int) -> Predictions:
    """Rows ``[start, stop)`` of ``pred`` (views, no copy), without a path: the Overlay dock
    adopts a predictions layer that names its file when it is added, and these are not its."""
    return Predictions(
        data=pred.data[start:stop],
        bodyparts=pred.bodyparts,
        individuals=pred.individuals,
        scorer=pred.scorer,
        frames=pred.frames[start:stop],
        multi_animal=pred.multi_animal,
        meta=pred.meta,
    )


class TrackOverlay(OverlaySet):
    """An overlay of tracks that holds a window of frames and follows the viewer's frame.

    Parameters
    ----------
    viewer : napari.Viewer
        Where to draw.
    pred : Predictions
        The whole tracks (the session's current state).
    skeleton : sequence of (str, str)
        Edges to draw.
    name : str
        Base of the layer names (the file's stem); :data:`LAYER_SUFFIX` is added.
    target : napari layer, optional
        The video layer. Without one nothing else spans the time axis, so every frame is
        drawn (no window).
    windowed : bool
        Hold only a window of frames (default: when there is a video layer).
    pcutoff, tail_length, colormap, trails_by
        As :class:`OverlaySet`; the trails follow each animal's centre by default (one trail
        per identity: a swap shows as a jump).
    """

    def __init__(
        self,
        viewer: napari.Viewer,
        pred: Predictions,
        skeleton: Sequence[tuple[str, str]],
        *,
        name: str,
        target: Any = None,
        windowed: bool | None = None,
        pcutoff: float = 0.6,
        tail_length: int = 30,
        colormap: str = DEFAULT_COLORMAP,
        trails_by: str = "individual",
    ) -> None:
        self.full = pred
        self._stale: set[str] = set()  # hidden parts not redrawn since the tracks changed
        self.follows = (target is not None) if windowed is None else bool(windowed)
        self._names_due = True
        self._name_offset: float | None = None  # set once the names follow their feature
        self.rows = self._rows_for(self._current(viewer), tail_length)
        super().__init__(
            viewer,
            window_of(pred, *self.rows),
            skeleton,
            kind="raw",
            pcutoff=pcutoff,
            tail_length=tail_length,
            trails=True,
            target=target,
            colormap=colormap,
            trails_by=trails_by,
            names=True,
        )
        if self.windowed:  # the parent's own window (many columns): ours replaces it
            viewer.dims.events.current_step.disconnect(self._frame_changed)
            self.windowed = False
        if self.follows:
            self.window = self._window_for(self._current(viewer))
            self._rebuild_lines()
        path = str(pred.path) if pred.path is not None else None
        old = f"{pred.scorer} raw"
        for layer in self.layers:
            layer.name = name + LAYER_SUFFIX + layer.name[len(old) :]
            layer.metadata["dlcflow_predictions"] = path
            layer.metadata["dlcflow_proofread"] = True
        self._bind_name_colours()
        self._thumbnails: dict[int, Any] = {}
        if self.follows:
            for layer in self.layers:
                self._quiet_thumbnail(layer)
            self._idle_timer = QTimer()
            self._idle_timer.setSingleShot(True)
            self._idle_timer.setInterval(WIDEN_AFTER_MS)
            self._idle_timer.timeout.connect(self._at_rest)
            viewer.dims.events.current_step.connect(self._follow)

    def _quiet_thumbnail(self, layer: Any) -> None:
        """Let napari redraw ``layer``'s thumbnail only in :meth:`_update_thumbnails`.

        napari redraws each layer's thumbnail at every frame (and the layer list with it);
        these are redrawn when the frame stays put (and when shown or the p-cutoff changes).
        This replaces napari's private ``_update_thumbnail`` on the layer itself (a dock's
        viewer hands out proxies of its layers: the layer behind one); with a napari that
        has none, thumbnails are napari's.
        """
        raw = _unproxied(layer)
        update = getattr(raw, "_update_thumbnail", None)
        if update is None:
            return
        self._thumbnails[id(raw)] = update
        raw._update_thumbnail = _no_thumbnail

    def _update_thumbnails(self) -> None:
        for layer in self.layers:
            update = self._thumbnails.get(id(_unproxied(layer)))
            if update is not None and layer.visible:
                update()

    # ------------------------------------------------------------------------------ window

    @staticmethod
    def _current(viewer: napari.Viewer) -> int:
        step = viewer.dims.current_step
        return int(step[0]) if len(step) else 0

    def _rows_for(self, frame: int, tail_length: int) -> tuple[int, int]:
        n = self.full.n_frames
        if not self.follows:
            return 0, max(n, 1)
        return frame_window(frame, n, tail_length)

    def _window_for(self, frame: int) -> tuple[int, int]:
        """The frames of the skeleton and trails: the tail and :data:`LINES_AHEAD` ahead."""
        if not getattr(self, "follows", False):
            return super()._window_for(frame)
        return max(0, frame - self.tail_length - 1), frame + LINES_AHEAD

    def _follow(self, *_: Any) -> None:
        self._idle_timer.start()  # (again): the frame moved
        frame = self._current(self.viewer)
        lo, hi = self.rows
        n = self.full.n_frames
        if (frame - self.tail_length < lo and lo > 0) or (frame >= hi - 1 and hi < n):
            jump = frame < lo or frame >= hi  # a seek out of the frames held, not a step
            if jump:
                rows = frame_window(
                    frame, n, self.tail_length, ahead=JUMP_AHEAD, behind=JUMP_BEHIND
                )
            else:
                rows = self._rows_for(frame, self.tail_length)
            self.rows = rows
            self.window = self._window_for(frame)
            self.redraw()
            return
        if self.window is None:
            return
        wlo, whi = self.window
        if (frame - self.tail_length < wlo and wlo > 0) or frame >= whi - 1:
            self.window = self._window_for(frame)
            self._names_due = False  # the names hold the points' frames: still right
            try:
                self._rebuild_lines()
            finally:
                self._names_due = True

    def _at_rest(self) -> None:
        """The frame stayed put: hold the full window around it (after a seek, the window
        is short), and redraw the thumbnails."""
        if not self.follows:
            return
        frame = self._current(self.viewer)
        lo, hi = self._rows_for(frame, self.tail_length)
        if self.rows[0] > lo or self.rows[1] < hi:
            self.rows = (lo, hi)
            self.window = self._window_for(frame)
            self.redraw()
            self._idle_timer.stop()  # (restarted by the redraw) the thumbnails are done now
        self._update_thumbnails()

    def _bind_name_colours(self) -> None:
        """Colour the names by their ``individual`` feature (not one colour per point), so
        that a new window needs only the names' points and features."""
        layer = self.names
        if layer is None or "individual" not in layer.features:
            return
        try:
            from napari.layers.utils.color_encoding import NominalColorEncoding
            from napari.utils.colormaps.categorical_colormap import CategoricalColormap
        except ImportError:  # another napari: the text is rebuilt with each window
            return
        colours = group_colors(
            self.full.individuals,
            self.full.bodyparts,
            color_by="individual",
            multi_animal=True,
            colormap=self.colormap,
        )
        layer.text.color = NominalColorEncoding(
            feature="individual", colormap=CategoricalColormap(colormap=colours)
        )
        layer.text.refresh(layer.features)
        layer.refresh()
        self._name_offset = -float(np.asarray(layer.text.translation)[-2])

    def _rebuild_names(self) -> None:
        if not self._names_due:
            return
        if self._name_offset is None:
            super()._rebuild_names()
            return
        layer = self.names
        meta = layer.metadata
        new = identity_layer_data(
            self.pred,
            pcutoff=self.pcutoff,
            at=meta.get("anchor_bodyparts", ()),
            colormap=self.colormap,
            offset=self._name_offset,
        )
        if new is None:
            return
        data, kwargs, _ = new
        layer.data = data
        layer.features = kwargs["features"]
        meta["pcutoff"] = self.pcutoff

    def _rebuild_lines(self) -> None:
        """Redo the skeleton, trails and names that are shown; hidden ones are redone when
        they are shown again (the skeleton is hidden by default in the Proofread dock)."""
        hidden = {
            role: layer
            for role in ("vectors", "tracks", "names")
            if (layer := getattr(self, role)) is not None and not layer.visible
        }
        for role in hidden:
            setattr(self, role, None)
        try:
            super()._rebuild_lines()
        finally:
            for role, layer in hidden.items():
                setattr(self, role, layer)
        self._stale |= set(hidden)

    def set_visible(
        self,
        *,
        points: bool = True,
        skeleton: bool = True,
        trails: bool = True,
        names: bool = True,
    ) -> None:
        """Show or hide the parts (a part shown again is redrawn if the tracks changed)."""
        super().set_visible(points=points, skeleton=skeleton, trails=trails, names=names)
        shown = {"vectors": skeleton, "tracks": trails, "names": names}
        if any(shown[role] for role in self._stale):
            self._stale.clear()
            self._rebuild_lines()
        self._update_thumbnails()

    def set_pcutoff(self, pcutoff: float, *, rebuild: bool = True) -> None:
        """Hide points below ``pcutoff`` (as :class:`OverlaySet`), thumbnails included."""
        super().set_pcutoff(pcutoff, rebuild=rebuild)
        self._update_thumbnails()

    def set_tail_length(self, frames: int) -> None:
        """Trail length in frames (the window grows with it)."""
        super().set_tail_length(frames)
        self._follow()

    # ------------------------------------------------------------------------------ drawing

    def show(self, pred: Predictions, changed: tuple[int, int] | None = None) -> None:
        """Draw ``pred`` (the tracks after an edit); only when ``changed`` (a frame range
        ``[start, stop)``) meets the frames held, or is not given."""
        self.full = pred
        if changed is not None:
            lo, hi = self.rows
            if changed[1] <= lo or changed[0] >= hi:
                return
        frame = self._current(self.viewer)
        self.rows = self._rows_for(frame, self.tail_length)
        if self.follows:
            self.window = self._window_for(frame)
        self.redraw()

    def redraw(self) -> None:
        """Rebuild every layer from the frames held (points, then skeleton, trails, names)."""
        self.pred = window_of(self.full, *self.rows)
        layer = self.points
        if layer is None or layer not in self.viewer.layers:
            return
        points, extra = points_layer_data(self.pred, pcutoff=self.pcutoff, colormap=self.colormap)
        self._likelihood = np.asarray(extra["features"]["likelihood"], dtype=float)
        with layer.events.blocker_all():
            layer.data = points
            layer.features = extra["features"]
            layer.face_color = extra["face_color"] if len(points) else "white"
            layer.shown = shown_mask(self._likelihood, self.pcutoff)
        layer.refresh()
        self._rebuild_lines()
        if self.follows:  # the thumbnails once the frame stays put (not at each seek)
            self._idle_timer.start()
        else:
            self._update_thumbnails()

    def release(self) -> None:
        """Stop following the viewer's frame; the layers stay."""
        if self.follows:
            self.viewer.dims.events.current_step.disconnect(self._follow)
            self._idle_timer.stop()
            self.follows = False
        for layer in self.layers:  # napari draws the thumbnails again
            raw = _unproxied(layer)
            if self._thumbnails.pop(id(raw), None) is not None:
                del raw._update_thumbnail
        self._thumbnails.clear()
        super().release()


def _unproxied(layer: Any) -> Any:
    """The layer behind a napari proxy (a dock's viewer hands those out), else ``layer``."""
    return getattr(layer, "__wrapped__", layer)


def _no_thumbnail(*_: Any, **__: Any) -> None:
    """Stands for a layer's thumbnail update while the frame moves."""
