"""Every keyboard shortcut of the plugin in one table, checked for collisions, and the
*Shortcuts* help that shows it.

Layer keys (the Labeling dock's, active while the labels layer is selected) and viewer keys
(active while a dock exists, whatever layer is selected) share one key space from the user's
point of view: a viewer key that a layer also binds is shadowed whenever that layer is selected.
So no key may appear twice here; :func:`collisions` is what the tests check.
"""

from __future__ import annotations

from collections import defaultdict
from html import escape
from typing import Any

__all__ = [
    "LABELING_SHORTCUTS",
    "MARK_FRAME_KEY",
    "PROOFREAD_SHORTCUTS",
    "VIEWER_SHORTCUTS",
    "all_shortcuts",
    "collisions",
    "shortcuts_html",
    "show_shortcuts",
]

#: The Labeling dock's keys on the labels layer, bound by ``widgets/labeling/keys.py``:
#: (key, action, what it does) -- the table in docs/labeling.md is checked against this.
LABELING_SHORTCUTS: list[tuple[str, str, str]] = [
    ("Down", "next_keypoint", "next body part"),
    ("Up", "previous_keypoint", "previous body part"),
    ("Right", "next_frame", "next frame"),
    ("Left", "previous_frame", "previous frame"),
    ("N", "next_unlabeled", "next frame with a missing label"),
    ("M", "cycle_mode", "label mode: sequential -> quick -> loop"),
    ("C", "copy_previous", "copy the labels of the previous labeled frame (missing ones only)"),
    ("V", "mark_not_visible", "mark the selected body part not visible here (removes its point)"),
    ("T", "toggle_names", "show or hide body-part names"),
    ("A", "accept_frame", "accept the model's predictions in this frame as labels"),
    ("P", "next_prediction", "next frame with predictions to review"),
    ("Control-Z", "undo", "undo"),
    ("Control-Shift-Z", "redo", "redo"),
    ("Control-Y", "redo", "redo"),
]


MARK_FRAME_KEY = "K"
"""The viewer key of the Overlay dock's outlier panel: mark (or unmark) the current frame.
``M`` is the Labeling dock's label-mode key, so the overlay uses ``K`` ("keep this frame")."""

#: (key, where, what it does) of the keys bound on the viewer.
VIEWER_SHORTCUTS: list[tuple[str, str, str]] = [
    (MARK_FRAME_KEY, "Overlay (outlier frames)", "mark or unmark the current frame"),
]


#: The Proofread dock's keys, bound on the viewer while the dock exists by
#: ``widgets/proofread/dock.py``: (key, action, what it does). None of napari's viewer keys,
#: nor a key of the layers the view shows (points, tracks, vectors, the video's image layer):
#: a selected layer's own key would shadow a viewer key. Undo and redo are the Labeling dock's
#: keys for the same action (the labels layer's, while it is selected).
PROOFREAD_SHORTCUTS: list[tuple[str, str, str]] = [
    ("Shift-Right", "next_candidate", "next identity candidate (after the current frame)"),
    ("Shift-Left", "previous_candidate", "previous identity candidate"),
    ("E", "swap_from_here", "swap the two chosen identities from the current frame on"),
    ("Shift-E", "swap_in_range", "swap the two chosen identities in the marked range"),
    ("[", "mark_range_start", "mark the current frame as the start of the range"),
    ("]", "mark_range_end", "mark the current frame as the end of the range"),
    ("G", "give_fragment", "give the first identity's fragment here to the second"),
    ("Shift-D", "delete_fragment", "delete the first identity's fragment here"),
    ("W", "swap_parts", "swap the part-swap candidate's two body parts (marked range, else on)"),
    ("Control-Z", "undo", "undo"),
    ("Control-Shift-Z", "redo", "redo"),
]


def all_shortcuts() -> list[tuple[str, str, str]]:
    """Every shortcut as (key, where, what): the Labeling dock's, then the viewer's (the
    Overlay dock's, then the Proofread dock's)."""
    labeling = [
        (key, "Labeling (labels layer)", what) for key, _action, what in LABELING_SHORTCUTS
    ]
    saving = [("Control-S", "Labeling (labels layer)", "save the labels")]
    proofread = [(key, "Proofread (viewer)", what) for key, _action, what in PROOFREAD_SHORTCUTS]
    return labeling + saving + VIEWER_SHORTCUTS + proofread


def collisions() -> dict[str, list[str]]:
    """Keys bound by more than one action, with where each is bound (empty: no collision)."""
    seen: dict[str, list[str]] = defaultdict(list)
    actions: dict[str, set[str]] = defaultdict(set)
    for key, where, what in all_shortcuts():
        norm = key.lower()
        if what not in actions[norm]:
            actions[norm].add(what)
            seen[norm].append(f"{where}: {what}")
    return {key: places for key, places in seen.items() if len(places) > 1}


def shortcuts_html() -> str:
    """The table as HTML (the help dialog's text)."""
    rows = "".join(
        f"<tr><td><b>{escape(key)}</b></td><td>{escape(what)}</td><td>{escape(where)}</td></tr>"
        for key, where, what in all_shortcuts()
    )
    return f"<table cellspacing='4'><tr><th>Key</th><th>Does</th><th>Where</th></tr>{rows}</table>"


def show_shortcuts(parent: Any) -> None:
    """Show the table in a dialog (tests replace this function)."""
    from qtpy.QtWidgets import QMessageBox

    QMessageBox.information(parent, "DLCflow shortcuts", shortcuts_html())
