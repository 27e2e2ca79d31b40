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
    "MARK_FRAME_KEY",
    "VIEWER_SHORTCUTS",
    "all_shortcuts",
    "collisions",
    "shortcuts_html",
    "show_shortcuts",
]

MARK_FRAME_KEY = "K"
"""The viewer key of the Overlay dock's outlier panel: mark (or unmark) the current frame.
``M`` is the Labeling dock's label-mode key, so the overlay uses ``K`` ("keep this frame")."""

#: (key, where, what it does) of the keys bound on the viewer.
VIEWER_SHORTCUTS: list[tuple[str, str, str]] = [
    (MARK_FRAME_KEY, "Overlay (outlier frames)", "mark or unmark the current frame"),
]


def all_shortcuts() -> list[tuple[str, str, str]]:
    """Every shortcut as (key, where, what): the Labeling dock's, then the viewer's."""
    from napari_dlcflow.widgets.labeling.keys import SHORTCUTS

    labeling = [(key, "Labeling (labels layer)", what) for key, _action, what in SHORTCUTS]
    saving = [("Control-S", "Labeling (labels layer)", "save the labels")]
    return labeling + saving + VIEWER_SHORTCUTS


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
