"""The small widget helpers that give one home to code that was written several times.

The questions run as real modal message boxes; a timer answers them as a user would.
"""

from __future__ import annotations

from typing import Any

import pytest
from qtpy.QtCore import QTimer
from qtpy.QtWidgets import QApplication, QMessageBox

from napari_dlcflow.widgets.common.dialogs import ask_yes_no
from napari_dlcflow.widgets.labeling import dialogs as labeling_dialogs
from napari_dlcflow.widgets.refine import iterations

pytestmark = pytest.mark.gui


def _answer(press: str | None, seen: dict[str, Any]) -> None:
    """When the message box shows, note its title and text, then press Enter (the default
    answer) or click ``press`` ("yes" / "no")."""

    def act() -> None:
        box = QApplication.activeModalWidget()
        if not isinstance(box, QMessageBox):
            QTimer.singleShot(20, act)
            return
        seen["title"], seen["text"] = box.windowTitle(), box.text()
        if press is None:
            box.defaultButton().click()
        else:
            which = (
                QMessageBox.StandardButton.Yes if press == "yes" else QMessageBox.StandardButton.No
            )
            box.button(which).click()

    QTimer.singleShot(0, act)


@pytest.mark.parametrize("default", [True, False])
def test_ask_yes_no_returns_the_default_on_enter_and_the_button_clicked(
    qtbot: Any, default: bool
) -> None:
    seen: dict[str, Any] = {}
    _answer(None, seen)
    assert ask_yes_no(None, "Title", "Go on?", default=default) is default
    assert seen == {"title": "Title", "text": "Go on?"}
    for press, want in (("yes", True), ("no", False)):
        _answer(press, seen)
        assert ask_yes_no(None, "Title", "Go on?", default=default) is want


@pytest.mark.parametrize(
    ("ask", "title", "default"),
    [
        (labeling_dialogs.ask_use_recovery, "Recover labels", True),
        (labeling_dialogs.ask_remap_folder, "Renamed folder", False),
        (iterations.ask_accept_pending, "Machine labels not reviewed", False),
        (iterations.ask_train_from, "Train the new iteration", True),
    ],
)
def test_the_docks_questions_keep_their_title_and_default(
    qtbot: Any, ask: Any, title: str, default: bool
) -> None:
    seen: dict[str, Any] = {}
    _answer(None, seen)
    assert ask(None, "The text.") is default
    assert seen["title"] == title and seen["text"].startswith("The text.")


def test_refill_combo_keeps_the_choice_and_emits_nothing(qtbot: Any) -> None:
    from qtpy.QtWidgets import QComboBox

    from napari_dlcflow.widgets.common.dock import refill_combo

    combo = QComboBox()
    qtbot.addWidget(combo)
    combo.addItems(["a", "b", "c"])
    combo.setCurrentText("b")
    changes: list[int] = []
    combo.currentIndexChanged.connect(changes.append)
    refill_combo(combo, ["c", "b"])  # still there: kept (its index moved from 1 to 1)
    assert [combo.itemText(i) for i in range(combo.count())] == ["c", "b"]
    assert combo.currentText() == "b"
    refill_combo(combo, ["x", "y"])  # gone: the first item
    assert combo.currentText() == "x"
    refill_combo(combo, ["x", "y", "z"], "z")  # asked for
    assert combo.currentText() == "z"
    refill_combo(combo, ["p"], "absent")
    assert combo.currentText() == "p"
    refill_combo(combo, [])
    assert combo.count() == 0 and combo.currentText() == ""
    assert changes == []  # a refresh is not a choice
    assert not combo.signalsBlocked()
