"""The two lists of the Labeling dock: body parts of the current frame, and per-frame progress."""

from __future__ import annotations

import numpy as np
from qtpy.QtGui import QBrush, QColor
from qtpy.QtWidgets import QListWidget, QListWidgetItem

from napari_dlcflow.core.labels.session import LabelModel

DONE, PARTLY, EMPTY, REVIEW = "#7bd88f", "#e0c46c", "#aaaaaa", "#ffd600"


def fill_keypoints(
    lst: QListWidget, model: LabelModel, t: int, colors: np.ndarray, current: int
) -> None:
    """One row per keypoint in its colour, ticked when placed in frame ``t``."""
    labeled = model.labeled(t)
    lst.blockSignals(True)
    if lst.count() != len(model.keypoints):
        lst.clear()
        for k in range(len(model.keypoints)):
            lst.addItem(QListWidgetItem(model.keypoint_name(k)))
    for k in range(len(model.keypoints)):
        item = lst.item(k)
        mark = "? " if model.predicted[t, k] else ("✓ " if labeled[k] else "   ")
        item.setText(mark + model.keypoint_name(k))
        if k < len(colors):
            r, g, b, _ = (np.asarray(colors[k]) * 255).astype(int)
            item.setForeground(QBrush(QColor(int(r), int(g), int(b))))
    lst.setCurrentRow(current)
    lst.blockSignals(False)


def fill_progress(lst: QListWidget, model: LabelModel) -> None:
    """One row per frame: ``name done/total  missing: ...``, green when complete."""
    rows = model.progress()
    lst.blockSignals(True)
    if lst.count() != len(rows):
        lst.clear()
        for _ in rows:
            lst.addItem(QListWidgetItem(""))
    for fp in rows:
        item = lst.item(fp.frame)
        text = f"{fp.name}  {fp.done}/{fp.total}"
        if fp.missing and fp.done:
            more = " …" if len(fp.missing) > 4 else ""
            text += "  missing: " + ", ".join(fp.missing[:4]) + more
        n_pred = int(model.predicted[fp.frame].sum())
        if n_pred:
            text += f"  ({n_pred} predictions to review)"
        item.setText(text)
        color = DONE if not fp.missing else (PARTLY if fp.done else EMPTY)
        if n_pred:
            color = REVIEW
        item.setForeground(QBrush(QColor(color)))
    lst.blockSignals(False)
