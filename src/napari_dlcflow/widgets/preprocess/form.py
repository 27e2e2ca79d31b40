"""Parameter forms of the Preprocess dock: ROI numbers, contrast, output.

Plain Qt widgets that turn their values into core parameter objects and emit ``changed``.
"""

from __future__ import annotations

from qtpy.QtCore import Signal
from qtpy.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDoubleSpinBox,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QSpinBox,
    QWidget,
)

from napari_dlcflow.core.video.preprocess import ContrastParams, OutputParams, Roi
from napari_dlcflow.widgets.common.dock import narrow_combo, wrap_rows

METHOD_LABELS = {
    "imagej": "ImageJ Enhance Contrast (saturated stretch)",
    "equalize": "Histogram equalization (ImageJ)",
    "clahe": "CLAHE (adaptive equalization)",
    "gamma": "Gamma",
    "none": "None (crop only)",
}


class RoiForm(QGroupBox):
    """X, Y, width, height of the ROI, with an optional fixed size."""

    changed = Signal()

    def __init__(self) -> None:
        super().__init__("Region of interest (pixels)")
        form = wrap_rows(QFormLayout(self))
        self.x, self.y, self.w, self.h = (QSpinBox() for _ in range(4))
        for box in (self.x, self.y, self.w, self.h):
            box.setRange(0, 100000)
            box.valueChanged.connect(self.changed)
        self.w.setMinimum(2)
        self.h.setMinimum(2)
        row = QHBoxLayout()
        for label, box in (("x", self.x), ("y", self.y)):
            row.addWidget(QLabel(label))
            row.addWidget(box)
        form.addRow(row)
        row = QHBoxLayout()
        for label, box in (("w", self.w), ("h", self.h)):  # short: the row fits 360 px
            row.addWidget(QLabel(label))
            row.addWidget(box)
        form.addRow(row)
        self.fixed = QCheckBox("Fixed size (drag to move)")
        self.fixed.setToolTip("Keep the width and height; drag the rectangle to move it")
        form.addRow(self.fixed)
        buttons = QHBoxLayout()
        self.draw_button = QPushButton("Draw ROI")
        self.full_button = QPushButton("Whole frame")
        self.size400_button = QPushButton("400 x 400")
        for b in (self.draw_button, self.full_button, self.size400_button):
            buttons.addWidget(b)
        form.addRow(buttons)
        self.summary = QLabel("")
        form.addRow(self.summary)

    def roi(self) -> Roi:
        """The ROI the boxes show."""
        return Roi(self.x.value(), self.y.value(), self.w.value(), self.h.value())

    def set_roi(self, roi: Roi) -> None:
        """Show ``roi`` without emitting ``changed`` once per box."""
        for box, v in zip(
            (self.x, self.y, self.w, self.h), (roi.x, roi.y, roi.width, roi.height), strict=True
        ):
            box.blockSignals(True)
            box.setValue(int(v))
            box.blockSignals(False)
        self.changed.emit()


class ContrastForm(QGroupBox):
    """Contrast method and its parameters; only the relevant rows are shown."""

    changed = Signal()

    def __init__(self) -> None:
        super().__init__("Contrast")
        form = wrap_rows(QFormLayout(self))
        self.method = narrow_combo(QComboBox())
        for key, label in METHOD_LABELS.items():
            self.method.addItem(label, key)
        form.addRow("Method", self.method)
        self.saturated = QDoubleSpinBox()
        self.saturated.setRange(0.0, 99.0)
        self.saturated.setDecimals(2)
        self.saturated.setSingleStep(0.05)
        self.saturated.setValue(0.35)
        self.saturated.setSuffix(" %")
        self.scope = narrow_combo(QComboBox())
        self.scope.addItem("one stretch for the whole video", "video")
        self.scope.addItem("per frame", "frame")
        self.normalize = QCheckBox("Normalize (ImageJ)")
        self.clahe_tiles = QSpinBox()
        self.clahe_tiles.setRange(1, 64)
        self.clahe_tiles.setValue(8)
        self.clahe_clip = QDoubleSpinBox()
        self.clahe_clip.setRange(0.1, 100.0)
        self.clahe_clip.setValue(2.0)
        self.gamma = QDoubleSpinBox()
        self.gamma.setRange(0.05, 10.0)
        self.gamma.setSingleStep(0.05)
        self.gamma.setValue(1.0)
        self._rows = {
            "saturated": ("Saturated pixels", self.saturated, ("imagej",)),
            "scope": ("Statistics", self.scope, ("imagej", "equalize")),
            "normalize": ("", self.normalize, ("imagej",)),
            "clahe_tiles": ("CLAHE tiles", self.clahe_tiles, ("clahe",)),
            "clahe_clip": ("CLAHE clip limit", self.clahe_clip, ("clahe",)),
            "gamma": ("Gamma", self.gamma, ("gamma",)),
        }
        self._labels: dict[str, QLabel] = {}
        for key, (label, widget, _) in self._rows.items():
            lab = QLabel(label)
            self._labels[key] = lab
            form.addRow(lab, widget)
        self.method.currentIndexChanged.connect(self._show_rows)
        for w in (self.method, self.scope):
            w.currentIndexChanged.connect(self.changed)
        for w in (self.saturated, self.clahe_clip, self.gamma, self.clahe_tiles):
            w.valueChanged.connect(self.changed)
        self.normalize.toggled.connect(self.changed)
        self._show_rows()

    def _show_rows(self) -> None:
        m = self.method.currentData()
        for key, (_, widget, methods) in self._rows.items():
            widget.setVisible(m in methods)
            self._labels[key].setVisible(m in methods)

    def set_method(self, method: str) -> None:
        """Choose a method by its key (``imagej``, ``clahe`` ...)."""
        self.method.setCurrentIndex(self.method.findData(method))

    def params(self) -> ContrastParams:
        """The parameters the form shows."""
        return ContrastParams(
            method=self.method.currentData(),
            saturated=self.saturated.value(),
            scope=self.scope.currentData(),
            normalize=self.normalize.isChecked(),
            clahe_tiles=self.clahe_tiles.value(),
            clahe_clip=self.clahe_clip.value(),
            gamma=self.gamma.value(),
        )


class OutputForm(QGroupBox):
    """Output codec, quality and folder."""

    browse_requested = Signal()

    def __init__(self) -> None:
        super().__init__("Output")
        form = wrap_rows(QFormLayout(self))
        self.codec = narrow_combo(QComboBox())
        self.codec.addItem("H.264 (MP4)", "h264")
        self.codec.addItem("Lossless (FFV1, MKV; keeps 16-bit)", "lossless")
        form.addRow("Codec", self.codec)
        self.crf = QSpinBox()
        self.crf.setRange(0, 51)
        self.crf.setValue(18)
        self.crf.setToolTip("Lower is better quality; 18 looks lossless for most videos")
        form.addRow("H.264 CRF", self.crf)
        folder = QWidget()
        row = QHBoxLayout(folder)
        row.setContentsMargins(0, 0, 0, 0)
        self.folder = QLineEdit()
        self.folder.setPlaceholderText("<video folder>/preprocessed")
        self.browse_button = QPushButton("…")
        self.browse_button.clicked.connect(self.browse_requested)
        row.addWidget(self.folder)
        row.addWidget(self.browse_button)
        form.addRow("Folder", folder)
        self.after = narrow_combo(QComboBox())
        self.after.addItem("Open the output as a layer", "open")
        self.after.addItem("… and add it to the open project", "project")
        self.after.addItem("Record the ROI as the video's crop in config.yaml (no output)", "crop")
        form.addRow("Then", self.after)
        self.codec.currentIndexChanged.connect(
            lambda: self.crf.setEnabled(self.codec.currentData() == "h264")
        )

    def params(self) -> OutputParams:
        """The output settings the form shows."""
        return OutputParams(codec=self.codec.currentData(), crf=self.crf.value())
