"""Every keyboard shortcut in one table, without collisions, behind the Labeling dock's
*Shortcuts* button (real viewer, virtual display)."""

from __future__ import annotations

from html import escape
from pathlib import Path
from typing import Any

import pytest
from napari.utils.key_bindings import coerce_keybinding

from napari_dlcflow.widgets.common import shortcuts as _shortcuts
from napari_dlcflow.widgets.common.shortcuts import LABELING_SHORTCUTS as SHORTCUTS
from napari_dlcflow.widgets.labeling.keys import bind_layer_keys
from napari_dlcflow.widgets.refine.outliers import MARK_KEY

pytestmark = pytest.mark.gui


def test_no_key_is_bound_twice_and_all_are_in_one_table(
    make_napari_viewer: Any, monkeypatch: Any
) -> None:
    assert _shortcuts.collisions() == {}
    table = {key for key, _where, _what in _shortcuts.all_shortcuts()}
    assert {key for key, _, _ in SHORTCUTS} | {MARK_KEY} <= table

    viewer = make_napari_viewer()
    viewer.window.add_plugin_dock_widget("napari-dlcflow", "Overlay")
    _, labeling = viewer.window.add_plugin_dock_widget("napari-dlcflow", "Labeling")
    # the keys the docks really bind: the overlay's viewer key is not shadowed by the labels
    # layer's keys (it was: both used M)
    assert coerce_keybinding(MARK_KEY) in viewer.keymap
    layer = viewer.add_points(name="labels")
    bind_layer_keys(layer, labeling)
    layer_keys = {coerce_keybinding(key) for key, _, _ in SHORTCUTS}
    assert coerce_keybinding(MARK_KEY) not in layer_keys
    assert {k for k in layer_keys if k in layer.keymap} == layer_keys

    # the Shortcuts button shows the whole table
    shown: list[str] = []
    monkeypatch.setattr(_shortcuts, "show_shortcuts", lambda parent: shown.append(parent))
    labeling.shortcuts_button.click()
    assert shown == [labeling]
    html = _shortcuts.shortcuts_html()
    for key, _where, what in _shortcuts.all_shortcuts():
        assert f"<b>{escape(key)}</b>" in html and escape(what) in html


def test_every_shortcut_is_documented() -> None:
    docs = Path(__file__).resolve().parents[2] / "docs"
    labeling = (docs / "labeling.md").read_text()
    proofreading = (docs / "proofreading.md").read_text()
    for key, where, _what in _shortcuts.all_shortcuts():
        page = proofreading if where.startswith("Proofread") else labeling
        assert f"`{key}`" in page, (key, where)
    overlay = (docs / "overlay.md").read_text()
    assert f"press **{MARK_KEY}**" in overlay
