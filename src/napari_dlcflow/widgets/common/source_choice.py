"""Which channel, z-plane and scene of a microscopy file a step works on: a small dialog, asked
only where the file has more than one of something and no choice was given (a layer opened by
our reader carries its choice in its metadata), and the source behind an image layer."""

from __future__ import annotations

import os
from typing import Any

from qtpy.QtWidgets import QComboBox, QDialog, QDialogButtonBox, QFormLayout, QWidget

from napari_dlcflow.core.video.array_source import ArraySource
from napari_dlcflow.core.video.frames import FrameSource
from napari_dlcflow.core.video.microscopy import Choice, MicroscopyInfo, describe, is_microscopy
from napari_dlcflow.core.video.source import SourceRef, parse_source_key

__all__ = ["ChoiceDialog", "ask_choice", "layer_source", "needs_choice"]

_MERGE = "merge all (RGB)"


def needs_choice(path: str | os.PathLike) -> MicroscopyInfo | None:
    """What a microscopy file declares when it has several channels, z-planes or scenes (a
    choice is needed), else None (a video, or one channel, plane and scene)."""
    if not is_microscopy(path):
        return None
    info = describe(path)
    if info.size("C") > 1 or info.size("Z") > 1 or info.n_scenes > 1:
        return info
    return None


class ChoiceDialog(QDialog):
    """Combo boxes for the channel (or a merge of all), the z-plane (or a projection) and the
    scene of one file; :meth:`choice` is the text (``"C1"``, ``"S1_C0_Zmax"``)."""

    def __init__(self, info: MicroscopyInfo, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle(f"Which pixels of {info.path.name}?")
        self.info = info
        form = QFormLayout(self)
        self.channel = QComboBox()
        names = info.channel_names or tuple(f"C{c}" for c in range(info.size("C")))
        for c, name in enumerate(names):
            self.channel.addItem(f"{c}: {name}", (c,))
        if info.size("C") > 1:
            self.channel.addItem(_MERGE, tuple(range(info.size("C"))))
        self.z = QComboBox()
        self.z.addItem("max projection", "max")
        self.z.addItem("mean projection", "mean")
        for k in range(info.size("Z")):
            self.z.addItem(f"plane {k}", k)
        self.scene = QComboBox()
        for s in range(info.n_scenes):
            self.scene.addItem(f"scene {s}", s)
        if info.size("C") > 1:
            form.addRow("Channel", self.channel)
        if info.size("Z") > 1:
            form.addRow("Z", self.z)
        if info.n_scenes > 1:
            form.addRow("Scene", self.scene)
        buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel
        )
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        form.addRow(buttons)

    def choice(self) -> str:
        """The choice as text (only what the file has more than one of)."""
        info = self.info
        return Choice(
            channels=tuple(self.channel.currentData()) if info.size("C") > 1 else (),
            z=self.z.currentData() if info.size("Z") > 1 else None,
            scene=int(self.scene.currentData()) if info.n_scenes > 1 else None,
        ).text


def ask_choice(parent: QWidget | None, source: str | os.PathLike) -> str | None:
    """The ``video_sets`` key of ``source`` with its choice: asked in a dialog where the file
    needs one and ``source`` has none; ``source`` unchanged where nothing needs asking; None
    if the user cancelled."""
    ref = parse_source_key(source)
    if ref.choice:
        return ref.key
    info = needs_choice(ref.path)
    if info is None:
        return str(source)
    dialog = ChoiceDialog(info, parent)
    if dialog.exec() != QDialog.DialogCode.Accepted:
        return None
    return SourceRef(ref.path, dialog.choice()).key


def layer_source(layer: Any) -> SourceRef | FrameSource:
    """The source behind an image layer: its file and the choice our reader put in its
    metadata (``dlcflow_choice``), or, for a layer with no file (an array from a script), the
    array itself as an :class:`~napari_dlcflow.core.video.array_source.ArraySource` (time
    first; the first level of a multiscale layer)."""
    meta = getattr(layer, "metadata", {}) or {}
    path = meta.get("path") or getattr(getattr(layer, "source", None), "path", None)
    if path:
        return SourceRef(path, str(meta.get("dlcflow_choice") or ""))
    data = layer.data[0] if getattr(layer, "multiscale", False) else layer.data
    if isinstance(data, FrameSource) and str(data.meta.path) not in ("", "."):
        return SourceRef(data.meta.path, data.meta.choice)
    return ArraySource(data, str(layer.name))
