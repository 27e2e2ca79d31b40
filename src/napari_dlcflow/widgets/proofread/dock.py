"""The Proofread dock: see where identities swap in multi-animal tracks, fix them with one key,
save safely.

Open a tracked file (DeepLabCut's ``_el/_bx/_sk.h5`` or ``.csv``, a SLEAP ``.slp``) for a video
layer, or take the tracks another dock shows on the viewer. The tracks are drawn by the
Overlay's layer code (:class:`~napari_dlcflow.widgets.proofread.layers.TrackOverlay`: points
coloured by animal, names, trails, the skeleton on demand) on a window of frames that follows
the viewer, so a 100,000-frame video scrubs as a short one. Below: the timeline (a row per
identity: present, missing, filled, low confidence; the candidates as ticks; the marked range;
click or drag to go to a frame), a zoomed strip around the current frame, the two identities an
edit works on, the candidates (:func:`~napari_dlcflow.core.proofread.find_candidates`, ranked;
click: go there) and the fixes. Every fix is an
:class:`~napari_dlcflow.core.proofread.Edit` of the
:class:`~napari_dlcflow.core.proofread.TrackSession`: undo, redo, a history, and a save that
writes DeepLabCut's tracked ``.h5`` with a backup and the edit log, and refuses to overwrite a
file another program changed. The keys are ``PROOFREAD_SHORTCUTS`` of
``widgets/common/shortcuts.py``.
"""

from __future__ import annotations

import weakref
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
from qtpy.QtCore import QTimer
from qtpy.QtWidgets import (
    QCheckBox,
    QComboBox,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QScrollArea,
    QVBoxLayout,
)

from napari_dlcflow.core.layers.colors import DEFAULT_COLORMAP, group_colors
from napari_dlcflow.core.layers.style import DisplaySettings
from napari_dlcflow.core.proofread import Candidate, Edit, EditError, TrackSession, find_candidates
from napari_dlcflow.core.safe_io import SaveError
from napari_dlcflow.napari_common import state_for_viewer
from napari_dlcflow.widgets.common.dock import (
    ElidedLabel,
    button_grid,
    narrow_combo,
    refill_combo,
    scroll_body,
    wrap_rows,
)
from napari_dlcflow.widgets.common.jobs import JobRunner, StatusLine
from napari_dlcflow.widgets.common.shortcuts import PROOFREAD_SHORTCUTS
from napari_dlcflow.widgets.common.video_layer import (
    chosen_video_layer,
    refill_video_layers,
    video_layer_of,
)
from napari_dlcflow.widgets.overlay.layers import display_settings_for
from napari_dlcflow.widgets.proofread import dialogs as _dialogs
from napari_dlcflow.widgets.proofread.candidates import CandidatesTable, step_in_time
from napari_dlcflow.widgets.proofread.keys import (
    ACTIONS,
    KEY_LABELS,
    CloseGuard,
    disconnect_dock,
    key_handler,
)
from napari_dlcflow.widgets.proofread.layers import TrackOverlay
from napari_dlcflow.widgets.proofread.timeline import (
    FILLED,
    LOW,
    MISSING,
    PRESENT,
    TrackTimeline,
    track_states,
)

if TYPE_CHECKING:
    import napari

__all__ = ["DETAIL_FRAMES", "ProofreadDock"]

DETAIL_FRAMES = 240
"""Frames of the zoomed strip under the timeline (centred on the current frame)."""
SYNC_CANDIDATES = 60_000
"""Up to this many frames x identities the candidates are computed at once (well under 0.1 s);
above, in a worker thread (100,000 frames of 4 animals take about a second)."""
CANDIDATES_DELAY_MS = 400
"""After an edit the candidates are recomputed once the keys have rested this long."""


class ProofreadDock(QScrollArea):
    """Proofread the identities of multi-animal tracks over a video layer.

    Parameters
    ----------
    napari_viewer : napari.Viewer
        The viewer to draw in.

    Attributes
    ----------
    session : TrackSession or None
        The tracks being proofread.
    overlay : TrackOverlay or None
        Their layers.
    candidates : list of Candidate
        Where to look, ranked (best first).
    marked : [int or None, int or None]
        The marked range, first and last frame (inclusive).
    """

    def __init__(self, napari_viewer: napari.Viewer) -> None:
        super().__init__()
        self.viewer = napari_viewer
        self.session: TrackSession | None = None
        self.overlay: TrackOverlay | None = None
        self.candidates: list[Candidate] = []
        self.candidate_index = -1
        self.marked: list[int | None] = [None, None]
        self.states = np.zeros((0, 0), dtype=np.uint8)
        self.pcutoff = 0.6
        self.settings = DisplaySettings()
        self._hidden: list[Any] = []  # other docks' layers of the file, hidden while we show it
        self._candidates_stale = False
        self._pending_seek: int | None = None
        layout = scroll_body(self)

        row = QHBoxLayout()
        self.open_button = QPushButton("Open tracks…")
        self.open_button.setToolTip(
            "A tracked file: DeepLabCut _el/_bx/_sk .h5 or .csv, SLEAP .slp"
        )
        self.open_button.clicked.connect(self._open_dialog)
        self.from_viewer_button = QPushButton("Tracks on the viewer")
        self.from_viewer_button.setToolTip(
            "Proofread the tracks the Overlay dock (or File > Open) shows; their layers are "
            "hidden meanwhile"
        )
        self.from_viewer_button.clicked.connect(self.open_from_viewer)
        row.addWidget(self.open_button)
        row.addWidget(self.from_viewer_button)
        layout.addLayout(row)
        self.file_label = ElidedLabel("No tracks open.")
        layout.addWidget(self.file_label)
        self.summary = QLabel("")
        self.summary.setWordWrap(True)
        layout.addWidget(self.summary)
        form = wrap_rows(QFormLayout())
        self.video_layer = narrow_combo(QComboBox())
        self.video_layer.setToolTip("The video layer the tracks belong to")
        form.addRow("Video layer", self.video_layer)
        layout.addLayout(form)

        # the timeline: the whole video, then the frames around the cursor
        tl = QGroupBox("Timeline")
        tlv = QVBoxLayout(tl)
        self.timeline = TrackTimeline()
        self.detail = TrackTimeline(follow=DETAIL_FRAMES)
        self.detail.setToolTip(
            f"The {DETAIL_FRAMES} frames around the current one (a column per frame)"
        )
        for strip in (self.timeline, self.detail):
            strip.seek.connect(self._seek_later)
            tlv.addWidget(strip)
        self.legend = QLabel(self._legend())
        self.legend.setWordWrap(True)
        tlv.addWidget(self.legend)
        layout.addWidget(tl)

        # what an edit works on: two identities, a range
        edit_box = QGroupBox("Fix")
        ef = wrap_rows(QFormLayout(edit_box))
        pair = QHBoxLayout()
        self.first = narrow_combo(QComboBox(), 6)
        self.first.setToolTip("The identity an edit works on (the one whose fragment is given)")
        self.second = narrow_combo(QComboBox(), 6)
        self.second.setToolTip("The other identity (swapped with, or given the fragment)")
        self.exchange_button = QPushButton("⇄")
        self.exchange_button.setToolTip("Exchange the two choices")
        self.exchange_button.clicked.connect(self._exchange_pair)
        pair.addWidget(self.first, 1)
        pair.addWidget(self.exchange_button)
        pair.addWidget(self.second, 1)
        ef.addRow("Pair", pair)
        rng = QHBoxLayout()
        self.range_label = QLabel("none")
        self.start_button = QPushButton(f"Start {KEY_LABELS['mark_range_start']}")
        self.start_button.clicked.connect(self.mark_range_start)
        self.end_button = QPushButton(f"End {KEY_LABELS['mark_range_end']}")
        self.end_button.clicked.connect(self.mark_range_end)
        self.clear_range_button = QPushButton("Clear")
        self.clear_range_button.clicked.connect(self.clear_range)
        for w in (self.start_button, self.end_button, self.clear_range_button):
            rng.addWidget(w)
        ef.addRow("Range", self.range_label)
        ef.addRow(rng)
        self.swap_button = self._action_button("Swap from here", "swap_from_here")
        self.swap_range_button = self._action_button("Swap range", "swap_in_range")
        self.give_button = self._action_button("Give fragment", "give_fragment")
        self.delete_button = self._action_button("Delete", "delete_fragment")
        self.parts_button = self._action_button("Swap parts", "swap_parts")
        self.undo_button = self._action_button("Undo", "undo")
        self.redo_button = self._action_button("Redo", "redo")
        ef.addRow(
            button_grid(
                [
                    self.swap_button,
                    self.swap_range_button,
                    self.give_button,
                    self.delete_button,
                    self.parts_button,
                    self.undo_button,
                    self.redo_button,
                ]
            )
        )
        self.history_label = QLabel("")
        self.history_label.setWordWrap(True)
        ef.addRow(self.history_label)
        layout.addWidget(edit_box)

        # where to look
        cand_box = QGroupBox("Candidates")
        cv = QVBoxLayout(cand_box)
        nav = QHBoxLayout()
        self.previous_button = self._action_button("◀ Back", "previous_candidate")
        self.next_button = self._action_button("Next ▶", "next_candidate")
        nav.addWidget(self.previous_button)
        nav.addWidget(self.next_button)
        cv.addLayout(nav)
        self.candidates_label = QLabel("")
        self.candidates_label.setWordWrap(True)
        cv.addWidget(self.candidates_label)
        self.table = CandidatesTable()
        self.table.chosen.connect(self.go_to_candidate)
        cv.addWidget(self.table)
        layout.addWidget(cand_box)

        show = QHBoxLayout()
        self.show_points = QCheckBox("Points")
        self.show_names = QCheckBox("Names")
        self.show_trails = QCheckBox("Trails")
        self.show_skeleton = QCheckBox("Skeleton")
        self.show_skeleton.setToolTip(
            "Off by default: napari redraws the skeleton's mesh every frame, which slows "
            "scrubbing most (benchmarks/bench_proofread_scrub.py)"
        )
        for box in (self.show_points, self.show_names, self.show_trails):
            box.setChecked(True)
        for box in (self.show_points, self.show_names, self.show_trails, self.show_skeleton):
            box.toggled.connect(self._visibility_changed)
            show.addWidget(box)
        layout.addLayout(show)

        save_row = QHBoxLayout()
        self.save_button = QPushButton("Save")
        self.save_button.setToolTip(
            "DeepLabCut's tracked .h5, the previous file kept as a backup, the edits in "
            "<file>.edits.json beside it"
        )
        self.save_button.clicked.connect(lambda: self.save())
        self.save_as_button = QPushButton("Save as…")
        self.save_as_button.clicked.connect(self._save_as_dialog)
        self.close_button = QPushButton("Close tracks")
        self.close_button.clicked.connect(lambda: self.close_tracks())
        for w in (self.save_button, self.save_as_button, self.close_button):
            save_row.addWidget(w)
        layout.addLayout(save_row)
        self.to_labels_button = QPushButton("Corrected frames to labels")
        self.to_labels_button.setToolTip(
            "Extract the frames where identities were corrected into the project's labeled "
            "data, with the saved tracks of every animal as machine labels to review in the "
            "Labeling dock (the refine loop for several animals)"
        )
        self.to_labels_button.clicked.connect(lambda: self.send_to_labels())
        layout.addWidget(self.to_labels_button)
        self.status = StatusLine("")
        layout.addWidget(self.status)
        layout.addStretch(1)
        self.candidate_jobs = JobRunner(status=None)

        self._candidates_timer = QTimer(self)
        self._candidates_timer.setSingleShot(True)
        self._candidates_timer.setInterval(CANDIDATES_DELAY_MS)
        self._candidates_timer.timeout.connect(self.refresh_candidates)
        self._seek_timer = QTimer(self)
        self._seek_timer.setSingleShot(True)
        self._seek_timer.setInterval(0)
        self._seek_timer.timeout.connect(self._seek_now)

        self.viewer.layers.events.inserted.connect(self._refresh_layers)
        self.viewer.layers.events.removed.connect(self._refresh_layers)
        self.viewer.layers.events.removed.connect(self._layer_removed)
        self.viewer.dims.events.current_step.connect(self._frame_changed)
        self._handlers = {key: key_handler(self, action) for key, action in ACTIONS.items()}
        for key, handler in self._handlers.items():
            self.viewer.bind_key(key, handler, overwrite=True)
        self.destroyed.connect(
            partial(disconnect_dock, weakref.ref(self.viewer), self._handlers, weakref.ref(self))
        )
        self._guard = CloseGuard(self)
        self._guarded: Any = None  # the window the guard watches
        self._refresh_layers()
        self._update_buttons()

    def _guard_window(self) -> None:
        """Watch the napari window this dock sits in for closing (asks about unsaved edits)."""
        window = self.window()
        if window is not self and window is not self._guarded:
            window.installEventFilter(self._guard)
            self._guarded = window

    def showEvent(self, event: Any) -> None:
        self._guard_window()
        super().showEvent(event)

    def _action_button(self, text: str, action: str) -> QPushButton:
        key = KEY_LABELS[action]
        button = QPushButton(f"{text} ({key})")
        what = next(w for _, a, w in PROOFREAD_SHORTCUTS if a == action)
        button.setToolTip(f"{what[:1].upper()}{what[1:]} (key {key})")
        button.clicked.connect(lambda: getattr(self, action)())
        return button

    def _legend(self) -> str:
        return (
            "Rows: each identity in its colour where present, darker where its likelihood "
            "is below the p-cutoff, white where filled, grey where missing. Ticks: "
            "candidates; blue: the marked range. Click or drag to go to a frame."
        )

    # ------------------------------------------------------------------------------ layers

    def _refresh_layers(self, *_: Any) -> None:
        refill_video_layers(self.video_layer, self.viewer)
        self.from_viewer_button.setEnabled(bool(self._viewer_tracks()))

    def _target_layer(self) -> Any:
        return chosen_video_layer(self.video_layer, self.viewer)

    def _pick_video_layer(self, path: Path) -> None:
        name = video_layer_of(self.viewer, path)
        if name is not None:
            self.video_layer.setCurrentText(name)

    def _viewer_tracks(self) -> list[Path]:
        """The multi-animal prediction files other docks show on the viewer."""
        out: list[Path] = []
        for lay in self.viewer.layers:
            meta = getattr(lay, "metadata", {}) or {}
            path = meta.get("dlcflow_predictions")
            if (
                meta.get("dlcflow_kind") == "predictions"
                and path
                and not meta.get("dlcflow_proofread")
                and len(set(meta.get("individuals", []))) > 1
                and Path(path) not in out
            ):
                out.append(Path(path))
        return out

    def _layer_removed(self, event: Any) -> None:
        """The user deleted our points layer: the drawing is gone (the session stays)."""
        if self.overlay is not None and event.value is self.overlay.points:
            self.overlay.release()
            self.overlay = None

    # ------------------------------------------------------------------------------ opening

    def _open_dialog(self) -> None:
        path = _dialogs.ask_tracks_file(self)
        if path:
            self.load(path)

    def open_from_viewer(self) -> bool:
        """Proofread the tracks shown on the viewer (the first multi-animal predictions)."""
        found = self._viewer_tracks()
        if not found:
            self.status.error("No multi-animal tracks on the viewer: open a tracked file.")
            return False
        return self.load(found[0])

    def _settings_for(self, path: Path, bodyparts: tuple[str, ...]) -> DisplaySettings:
        return display_settings_for(self.viewer, path, bodyparts)

    def load(self, path: str | Path, *, skeleton: list[tuple[str, str]] | None = None) -> bool:
        """Open tracks for proofreading over the video layer (asking first about unsaved edits).

        Parameters
        ----------
        path : path-like
            A DeepLabCut tracked (or multi-animal) ``.h5``/``.csv`` or a SLEAP ``.slp``.
        skeleton : list of (str, str), optional
            Edges to draw; default from the project (as the Overlay dock).

        Returns
        -------
        bool
            Whether it opened; if not, the status line names the file and the problem and the
            tracks open before stay open.
        """
        if not self.confirm_discard():
            return False
        p = Path(path)
        self._pick_video_layer(p)
        target = self._target_layer()
        n_frames = int(target.data.shape[0]) if target is not None and target.ndim >= 3 else None
        try:
            session = TrackSession.open(p, n_frames=n_frames)
        except (ValueError, OSError) as exc:
            self.status.error(f"Cannot open {p.name}: {exc}")
            return False
        self._close(ask=False)
        self._guard_window()
        self.session = session
        self.settings = self._settings_for(p, session.bodyparts)
        self.pcutoff = (
            float(self.settings.pcutoff) if self.settings.pcutoff is not None else self.pcutoff
        )
        edges = list(self.settings.skeleton) if skeleton is None else list(skeleton)
        self._hide_others(p)
        self.overlay = TrackOverlay(
            self.viewer,
            session.predictions,
            edges,
            name=p.stem,
            target=target,
            pcutoff=self.pcutoff,
            colormap=self.settings.colormap or DEFAULT_COLORMAP,
        )
        self._visibility_changed()
        session.listeners.append(self._tracks_changed)
        self.states = track_states(session.values, session.filled, self.pcutoff)
        names = list(session.individuals)
        colours = group_colors(
            session.predictions.individuals,
            session.predictions.bodyparts,
            color_by="individual",
            multi_animal=True,
            colormap=self.settings.colormap or DEFAULT_COLORMAP,
        )
        rgba = np.array([colours[n] for n in names], dtype=float)
        for strip in (self.timeline, self.detail):
            strip.set_states(self.states.copy(), names, rgba)
            strip.set_frame(self._frame())
        refill_combo(self.first, names, names[0])
        refill_combo(self.second, names, names[1] if len(names) > 1 else names[0])
        self.clear_range()
        self.file_label.setText(str(p))
        self._describe()
        notes = "; ".join(session.notes)
        self.status.info(f"Opened {p.name}" + (f" ({notes})" if notes else ""))
        self.refresh_candidates()
        self._update_buttons()
        return True

    def _hide_others(self, path: Path) -> None:
        """Hide the layers other docks show of the same file (they would show it unedited)."""
        for lay in self.viewer.layers:
            meta = getattr(lay, "metadata", {}) or {}
            if (
                meta.get("dlcflow_predictions")
                and Path(meta["dlcflow_predictions"]).resolve() == path.resolve()
                and not meta.get("dlcflow_proofread")
                and lay.visible
            ):
                lay.visible = False
                self._hidden.append(lay)

    def confirm_discard(self) -> bool:
        """Ask about unsaved edits; True if it is fine to drop the session (saved, discarded,
        or nothing to lose)."""
        if self.session is None or not self.session.dirty:
            return True
        name = self.session.path.name if self.session.path else "the open file"
        answer = _dialogs.ask_unsaved(self, name)
        if answer == "save":
            return self.save()
        return answer == "discard"

    def close_tracks(self) -> bool:
        """Close the tracks (asking about unsaved edits); their layers are removed."""
        return self._close(ask=True)

    def _close(self, *, ask: bool) -> bool:
        if ask and not self.confirm_discard():
            return False
        if self.overlay is not None:
            overlay, self.overlay = self.overlay, None
            overlay.remove()
        for lay in self._hidden:
            if lay in self.viewer.layers:
                lay.visible = True
        self._hidden.clear()
        self.session = None
        self.candidates = []
        self.candidate_index = -1
        self.states = np.zeros((0, 0), dtype=np.uint8)
        for strip in (self.timeline, self.detail):
            strip.set_states(self.states.copy(), [], np.zeros((0, 4)))
            strip.set_candidates([])
        self.table.setRowCount(0)
        self.candidates_label.setText("")
        self.file_label.setText("No tracks open.")
        self.summary.setText("")
        self._update_buttons()
        return True

    def _project_animals(self) -> int | None:
        """The open multi-animal project's number of individuals, if its body parts are the
        tracks' (the project the tracks belong to), else None."""
        project = state_for_viewer(self.viewer).project
        s = self.session
        if project is None or s is None or not project.multianimal:
            return None
        if not set(s.bodyparts) <= set(project.all_bodyparts):
            return None
        return len(project.individuals) or None

    def _expected_animals(self) -> int | None:
        """Animals expected in a frame (the "missing" candidates): the project's individuals
        when it is open, else every identity of the file."""
        n = self._project_animals()
        s = self.session
        if n is None or s is None:
            return None
        return min(n, len(s.individuals))

    def _describe(self) -> None:
        s = self.session
        if s is None:
            self.summary.setText("")
            return
        n = self._project_animals()
        extra = (
            f" More identities than the project's {n} individuals: merge the extra ones "
            "(tracklets the stitching left apart) or give their fragments to the right animal."
            if n is not None and len(s.individuals) > n
            else ""
        )
        missing = int((self.states == MISSING).sum())
        filled = int((self.states == FILLED).sum())
        low = int((self.states == LOW).sum())
        present = int((self.states == PRESENT).sum()) + low + filled
        self.summary.setText(
            f"{s.n_frames:,} frames, {len(s.individuals)} identities, {len(s.bodyparts)} body "
            f"parts; {present:,} identity-frames present ({low:,} low confidence, {filled:,} "
            f"filled), {missing:,} missing" + extra
        )

    # ------------------------------------------------------------------------------ display

    def _visibility_changed(self, *_: Any) -> None:
        if self.overlay is not None:
            self.overlay.set_visible(
                points=self.show_points.isChecked(),
                skeleton=self.show_skeleton.isChecked(),
                trails=self.show_trails.isChecked(),
                names=self.show_names.isChecked(),
            )

    def _frame(self) -> int:
        step = self.viewer.dims.current_step
        return int(step[0]) if len(step) else 0

    def _frame_changed(self, *_: Any) -> None:
        frame = self._frame()
        self.timeline.set_frame(frame)
        self.detail.set_frame(frame)

    def _seek_later(self, frame: int) -> None:
        """Go to ``frame`` once the event loop is free (a drag sends many: the last wins)."""
        self._pending_seek = int(frame)
        self._seek_timer.start()

    def _seek_now(self) -> None:
        if self._pending_seek is not None:
            self.go_to(self._pending_seek)
            self._pending_seek = None

    def go_to(self, frame: int) -> None:
        """Show frame ``frame``."""
        self.viewer.dims.set_current_step(0, int(frame))

    def _update_buttons(self) -> None:
        s = self.session
        on = s is not None
        for w in (
            self.swap_button,
            self.swap_range_button,
            self.give_button,
            self.delete_button,
            self.parts_button,
            self.previous_button,
            self.next_button,
            self.start_button,
            self.end_button,
            self.clear_range_button,
            self.save_as_button,
            self.close_button,
            self.exchange_button,
        ):
            w.setEnabled(on)
        self.undo_button.setEnabled(on and s.can_undo)  # type: ignore[union-attr]
        self.redo_button.setEnabled(on and s.can_redo)  # type: ignore[union-attr]
        self.save_button.setEnabled(on and s.dirty)  # type: ignore[union-attr]
        # frames go to the labels from the saved file, once something was corrected
        self.to_labels_button.setEnabled(
            on and not s.dirty and bool(s.history)  # type: ignore[union-attr]
        )
        if s is None:
            self.history_label.setText("")
            return
        history = s.history
        text = f"{len(history)} edit{'s' if len(history) != 1 else ''}"
        text += ", not saved" if s.dirty else ", saved" if history else ""
        if history:
            text += f". Last: {history[-1].describe()}"
        self.history_label.setText(text)

    # ------------------------------------------------------------------------------ range

    def mark_range_start(self) -> None:
        """Mark the current frame as the first of the range."""
        self._mark(0)

    def mark_range_end(self) -> None:
        """Mark the current frame as the last of the range."""
        self._mark(1)

    def _mark(self, end: int) -> None:
        if self.session is None:
            return
        self.marked[end] = self._frame()
        a, b = self.marked
        if a is not None and b is not None and a > b:
            self.marked = [b, a]
        self._show_range()

    def clear_range(self) -> None:
        """Forget the marked range."""
        self.marked = [None, None]
        self._show_range()

    def _show_range(self) -> None:
        a, b = self.marked
        for strip in (self.timeline, self.detail):
            strip.set_marked(a, b)
        if a is None and b is None:
            self.range_label.setText("none")
        else:
            self.range_label.setText(
                f"frames {a if a is not None else '?'} to {b if b is not None else '?'}"
            )

    # ------------------------------------------------------------------------------ edits

    def _pair(self) -> tuple[str, str]:
        return self.first.currentText(), self.second.currentText()

    def _exchange_pair(self) -> None:
        a, b = self._pair()
        self.first.setCurrentText(b)
        self.second.setCurrentText(a)

    def _fragment(self, name: str) -> tuple[int, int] | None:
        """The frames ``[start, stop)`` of ``name``'s run of presence through the current
        frame (None where it is absent there)."""
        assert self.session is not None
        j = self.session.individuals.index(name)
        here = self.states[:, j] != MISSING
        frame = self._frame()
        if not (0 <= frame < len(here)) or not here[frame]:
            return None
        gaps = np.flatnonzero(~here)
        start = int(gaps[gaps < frame].max() + 1) if (gaps < frame).any() else 0
        stop = int(gaps[gaps > frame].min()) if (gaps > frame).any() else len(here)
        return start, stop

    def apply(self, edit: Edit) -> bool:
        """Apply ``edit``; on failure the status line says why (nothing changed)."""
        if self.session is None:
            self.status.error("Open tracks first.")
            return False
        try:
            self.session.apply(edit)
        except EditError as exc:
            self.status.error(f"Not done: {exc}")
            return False
        self.status.info(f"Done: {edit.describe()}.")
        return True

    def _two(self) -> tuple[str, str] | None:
        a, b = self._pair()
        if self.session is None:
            self.status.error("Open tracks first.")
            return None
        if a == b:
            self.status.error("Choose two different identities.")
            return None
        return a, b

    def swap_from_here(self) -> bool:
        """Swap the two chosen identities from the current frame to the end of the video."""
        pair = self._two()
        return pair is not None and self.apply(Edit("swap", *pair, start=self._frame()))

    def swap_in_range(self) -> bool:
        """Swap the two chosen identities in the marked range."""
        pair = self._two()
        if pair is None:
            return False
        a, b = self.marked
        if a is None or b is None:
            self.status.error(
                f"Mark the range first: {KEY_LABELS['mark_range_start']} at its first frame, "
                f"{KEY_LABELS['mark_range_end']} at its last."
            )
            return False
        return self.apply(Edit("swap", *pair, start=a, stop=b + 1))

    def swap_parts(self) -> bool:
        """Swap the two body parts of the current ``part_swap`` candidate's animal: in the
        marked range, else from the current frame on."""
        if self.session is None:
            self.status.error("Open tracks first.")
            return False
        i = self.candidate_index
        c = self.candidates[i] if 0 <= i < len(self.candidates) else None
        if c is None or c.kind != "part_swap" or len(c.parts) != 2:
            self.status.error(
                "Go to a part-swap candidate first (its animal and its two body parts are "
                f"swapped; {KEY_LABELS['next_candidate']} for the next candidate)."
            )
            return False
        a, b = self.marked
        start, stop = (a, b + 1) if a is not None and b is not None else (self._frame(), None)
        edit = Edit("swap_parts", c.individuals[0], start=start, stop=stop, parts=c.parts[:2])
        return self.apply(edit)

    def give_fragment(self) -> bool:
        """Give the first identity's fragment through the current frame to the second."""
        pair = self._two()
        if pair is None:
            return False
        run = self._fragment(pair[0])
        if run is None:
            self.status.error(f"{pair[0]} is not present in frame {self._frame()}.")
            return False
        return self.apply(Edit("give", pair[0], pair[1], start=run[0], stop=run[1]))

    def delete_fragment(self) -> bool:
        """Delete the first identity's fragment through the current frame."""
        if self.session is None:
            self.status.error("Open tracks first.")
            return False
        a = self.first.currentText()
        run = self._fragment(a)
        if run is None:
            self.status.error(f"{a} is not present in frame {self._frame()}.")
            return False
        return self.apply(Edit("delete", a, start=run[0], stop=run[1]))

    def undo(self) -> None:
        """Undo the last edit."""
        if self.session is None:
            return
        edit = self.session.undo_edit
        if self.session.undo() is None:
            self.status.info("Nothing to undo.")
        elif edit is not None:
            self.status.info(f"Undone: {edit.describe()}.")

    def redo(self) -> None:
        """Apply the last undone edit again."""
        if self.session is None:
            return
        edit = self.session.redo_edit
        if self.session.redo() is None:
            self.status.info("Nothing to redo.")
        elif edit is not None:
            self.status.info(f"Redone: {edit.describe()}.")

    def _tracks_changed(self, start: int, stop: int) -> None:
        """The session changed frames ``[start, stop)``: redraw them now, the candidates
        soon."""
        s = self.session
        if s is None:
            return
        if self.overlay is not None:
            self.overlay.show(s.predictions, (start, stop))
        part = track_states(s.values[start:stop], s.filled[start:stop], self.pcutoff)
        self.states[start:stop] = part
        for strip in (self.timeline, self.detail):
            strip.update_states(start, part)
        self._describe()
        self._update_buttons()
        self._candidates_timer.start()

    # ------------------------------------------------------------------------------ candidates

    def refresh_candidates(self) -> None:
        """Find the candidates of the current tracks (at once for short videos, else in a
        worker; a result that an edit made stale is thrown away and asked again)."""
        s = self.session
        if s is None:
            return
        self._candidates_timer.stop()
        if self.candidate_jobs.busy:
            self._candidates_stale = True
            return
        self._candidates_stale = False
        tracks = s.tracks()
        search = partial(find_candidates, expected=self._expected_animals())
        if s.n_frames * len(s.individuals) <= SYNC_CANDIDATES:
            try:
                found = search(tracks)
            except ValueError as exc:
                self.status.error(f"Candidates not found: {exc}")
                return
            self._show_candidates(found)
            return
        self.candidates_label.setText("Looking for candidates…")
        self.candidate_jobs.start(
            search,
            tracks,
            on_result=partial(self._candidates_found, s),
            on_error=lambda exc: self.status.error(f"Candidates not found: {exc}"),
            on_finished=self._candidates_finished,
        )

    def _candidates_found(self, session: TrackSession, found: list[Candidate]) -> None:
        if session is self.session and not self._candidates_stale:
            self._show_candidates(found)

    def _candidates_finished(self) -> None:
        if self._candidates_stale and self.session is not None:
            QTimer.singleShot(0, self.refresh_candidates)

    def _show_candidates(self, found: list[Candidate]) -> None:
        self.candidates = list(found)
        self.candidate_index = -1
        self.table.show_candidates(found)
        frames = [c.frame for c in found]
        for strip in (self.timeline, self.detail):
            strip.set_candidates(frames)
        kinds: dict[str, int] = {}
        for c in found:
            kinds[c.kind] = kinds.get(c.kind, 0) + 1
        detail = ", ".join(f"{n} {k.replace('_', ' ')}" for k, n in kinds.items())
        self.candidates_label.setText(
            f"{len(found)} candidate{'s' if len(found) != 1 else ''}, most likely first: {detail}."
            if found
            else "No candidates: nothing looks like an identity problem."
        )

    def go_to_candidate(self, index: int) -> None:
        """Show candidate ``index`` (of :attr:`candidates`): its frame, its identities as the
        pair to edit, its row selected."""
        c = self.candidates[index]
        self.candidate_index = index
        names = list(self.session.individuals) if self.session else []
        if len(c.individuals) >= 2 and all(n in names for n in c.individuals[:2]):
            self.first.setCurrentText(c.individuals[0])
            self.second.setCurrentText(c.individuals[1])
        elif c.individuals and c.individuals[0] in names:
            self.first.setCurrentText(c.individuals[0])
        self.table.select(index)
        for strip in (self.timeline, self.detail):
            strip.set_candidates([x.frame for x in self.candidates], c.frame)
        self.status.info(
            f"Frame {c.frame}: {c.kind.replace('_', ' ')} of {', '.join(c.individuals)}: {c.why}"
        )
        self.go_to(c.frame)

    def next_candidate(self) -> None:
        """Go to the first candidate after the current frame (in time; wraps around)."""
        self._step_candidate(+1)

    def previous_candidate(self) -> None:
        """Go to the last candidate before the current frame (in time; wraps around)."""
        self._step_candidate(-1)

    def _step_candidate(self, direction: int) -> None:
        index = step_in_time(self.candidates, self._frame(), direction)
        if index is None:
            self.status.info("No candidates.")
            return
        self.go_to_candidate(index)

    # ------------------------------------------------------------------------------ saving

    def save(self, path: str | Path | None = None) -> bool:
        """Save the tracks (:meth:`TrackSession.save`); the status line says what was written,
        or what was refused and why."""
        s = self.session
        if s is None:
            self.status.error("Open tracks first.")
            return False
        try:
            written = s.save(path)
        except (SaveError, ValueError, OSError) as exc:
            self.status.error(f"Not saved: {exc}")
            return False
        backup = f"; the previous file is kept as {s.last_backup.name}" if s.last_backup else ""
        self.status.info(f"Saved {written[0]} and its edit log {written[1].name}{backup}.")
        self._update_buttons()
        return True

    def send_to_labels(self) -> bool:
        """The corrected frames into the open project's labeled data as machine labels
        (:func:`~napari_dlcflow.core.proofread.send_to_labels`); the status line says what was
        written, or why nothing was."""
        from napari_dlcflow.core.predictions.analysis_files import video_for
        from napari_dlcflow.core.proofread import send_to_labels

        s = self.session
        project = state_for_viewer(self.viewer).project
        if s is None:
            self.status.error("Open tracks first.")
            return False
        if project is None:
            self.status.error("Open the project the video belongs to first (Project dock).")
            return False
        where = s.save_path or s.path
        video = video_for(where) if where is not None else None
        if video is None:
            self.status.error(f"No video found beside {where}: the frames cannot be extracted.")
            return False
        try:
            result = send_to_labels(project, video, s)
        except (ValueError, OSError) as exc:
            self.status.error(f"Nothing sent: {exc}")
            return False
        frames = ", ".join(str(f) for f in result.picked) or "none new"
        target = result.machine_labels.name if result.machine_labels else "no machine labels"
        self.status.info(
            f"Frames {frames} sent to {result.folder} ({target}): review them in the Labeling "
            "dock, then merge."
        )
        return True

    def _save_as_dialog(self) -> None:
        if self.session is None:
            return
        suggested = str(self.session.save_path or "")
        path = _dialogs.ask_save_tracks(self, suggested)
        if path:
            self.save(path)
