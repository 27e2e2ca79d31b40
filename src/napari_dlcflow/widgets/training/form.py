"""The settings form of the Training dock: what to train, on which device, from which weights."""

from __future__ import annotations

from pathlib import Path

from qtpy.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDoubleSpinBox,
    QFormLayout,
    QLabel,
    QSpinBox,
    QWidget,
)

from napari_dlcflow.core.engine.devices import Device, device_choices, no_gpu_message
from napari_dlcflow.core.engine.training import TrainSpec
from napari_dlcflow.widgets.common.dock import narrow_combo, wrap_rows
from napari_dlcflow.widgets.common.jobs import StatusLine

NET_TYPES = ("resnet_50", "resnet_101", "hrnet_w18", "hrnet_w32", "hrnet_w48", "cspnext_s")
BACKBONE_CHOICES = (
    ("as the net type says", None),
    ("resnet18 (small, fast on a CPU)", "resnet18"),
    ("resnet34", "resnet34"),
)


def _spin(lo: int, hi: int, value: int, suffix: str = "") -> QSpinBox:
    s = QSpinBox()
    s.setRange(lo, hi)
    s.setValue(value)
    if suffix:
        s.setSuffix(suffix)
    return s


class TrainingForm(QWidget):
    """Shuffle, net type, backbone, epochs, batch size, learning rate, intervals, device,
    weights."""

    def __init__(self) -> None:
        super().__init__()
        form = wrap_rows(QFormLayout(self))
        form.setContentsMargins(0, 0, 0, 0)
        self.shuffle = _spin(1, 999, 1)
        self.net_type = narrow_combo(QComboBox())
        self.net_type.addItems(NET_TYPES)
        self.net_type.setToolTip("Used when the training dataset is created")
        self.backbone = narrow_combo(QComboBox())
        for label, value in BACKBONE_CHOICES:
            self.backbone.addItem(label, value)
        self.epochs = _spin(1, 10000, 200)
        self.batch_size = _spin(1, 512, 8)
        self.lr = QDoubleSpinBox()
        self.lr.setDecimals(6)
        self.lr.setRange(0.0, 1.0)
        self.lr.setSingleStep(0.0001)
        self.lr.setSpecialValueText("net type's default")
        self.lr.setValue(0.0)
        self.save_epochs = _spin(1, 10000, 25)
        self.eval_interval = _spin(1, 10000, 10)
        self.crop = _spin(0, 4096, 0, " px")
        self.crop.setSpecialValueText("net type's default")
        self.device = narrow_combo(QComboBox())
        self.set_devices([Device("cpu", "CPU")], probed=False)
        self.device_note = QLabel("")
        self.device_note.setWordWrap(True)
        self.weights = narrow_combo(QComboBox())
        self.weights.addItem("auto (pretrained when cached or online, else from scratch)", "auto")
        self.weights.addItem("pretrained (ImageNet; downloaded once)", "pretrained")
        self.weights.addItem("from scratch (works offline; needs more epochs)", "scratch")
        self.weights_note = StatusLine("")  # what the training will start from (the dock)
        self.previous: str | None = None
        self.offline = QCheckBox("offline (HF_HUB_OFFLINE)")
        self.offline.setToolTip("Never try to download pretrained weights")
        form.addRow("Shuffle", self.shuffle)
        form.addRow("Net type", self.net_type)
        form.addRow("Backbone", self.backbone)
        form.addRow("Epochs (total)", self.epochs)
        form.addRow("Batch size", self.batch_size)
        form.addRow("Learning rate", self.lr)
        form.addRow("Snapshot every", self.save_epochs)
        form.addRow("Evaluate every", self.eval_interval)
        form.addRow("Training crop", self.crop)
        form.addRow("Device", self.device)
        form.addRow("", self.device_note)
        form.addRow("Weights", self.weights)
        form.addRow("", self.weights_note)
        form.addRow(self.offline)

    def set_devices(self, devices: list[Device], *, probed: bool = True) -> None:
        """Fill the device menu; say plainly when there is no GPU."""
        current = self.device.currentData()
        self.device.clear()
        for label, value in device_choices(devices):
            self.device.addItem(label, value)
        idx = self.device.findData(current)
        self.device.setCurrentIndex(max(idx, 0))
        if probed:
            self.device_note.setText(no_gpu_message(devices))

    def set_previous(self, snapshot: str | None, iteration: int | None = None) -> None:
        """Offer (or stop offering) the previous iteration's best snapshot as the start."""
        i = self.weights.findData("previous")
        if i >= 0:
            self.weights.removeItem(i)
        self.previous = snapshot
        if snapshot:
            name = Path(snapshot).name
            self.weights.addItem(f"iteration {iteration}'s {name} (refine)", "previous")
            self.weights.setCurrentIndex(self.weights.findData("previous"))

    def asked_weights(self) -> str:
        """The weights choice: ``auto``, ``pretrained``, ``scratch`` or ``previous``."""
        return str(self.weights.currentData())

    def spec(self, config: str, weights: str | None = None) -> TrainSpec:
        """The :class:`TrainSpec` these settings describe.

        Parameters
        ----------
        config : str
            The project's ``config.yaml``.
        weights : str, optional
            ``pretrained`` or ``scratch``, as
            :func:`~napari_dlcflow.core.engine.weights.choose_weights` resolved the choice
            (needed when it is ``auto``).

        Raises
        ------
        ValueError
            If the choice is ``auto`` and ``weights`` was not given.
        """
        device = str(self.device.currentData() or "auto")
        gpus = None
        if device == "cuda:all":
            gpus = [
                int(str(self.device.itemData(i)).split(":")[1])
                for i in range(self.device.count())
                if str(self.device.itemData(i)).startswith("cuda:")
                and str(self.device.itemData(i)) != "cuda:all"
            ]
            device = "cuda"
        from_previous = self.asked_weights() == "previous" and bool(self.previous)
        if not from_previous:
            weights = weights or self.asked_weights()
            if weights not in ("pretrained", "scratch"):
                raise ValueError("resolve the weights choice 'auto' first (choose_weights)")
        return TrainSpec(
            config=config,
            shuffle=self.shuffle.value(),
            epochs=self.epochs.value(),
            batch_size=self.batch_size.value(),
            learning_rate=self.lr.value() or None,
            save_epochs=self.save_epochs.value(),
            eval_interval=self.eval_interval.value(),
            device=device,
            gpus=gpus,
            weights="scratch" if from_previous else str(weights),
            init_from=self.previous if from_previous else None,
            offline=self.offline.isChecked(),
            backbone=self.backbone.currentData(),
            crop_size=self.crop.value() or None,
        )
