"""The training-dataset section of the Dataset dock: split, shuffles, net type, augmentation."""

from __future__ import annotations

from typing import Any

from qtpy.QtWidgets import (
    QComboBox,
    QDoubleSpinBox,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QPlainTextEdit,
    QPushButton,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from napari_dlcflow.core.engine.dataset import (
    AUGMENTATION_PRESETS,
    DatasetSpec,
    NetType,
    multi_animal_summary,
    net_types_for,
    resolve_shuffle,
)
from napari_dlcflow.widgets.common.dock import narrow_combo, refill_combo, wrap_rows

__all__ = ["ExportSection"]


class ExportSection(QGroupBox):
    """Inputs of ``deeplabcut.create_training_dataset`` and the summary afterwards."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__("Training dataset (DeepLabCut)", parent)
        self.shuffle_in_use: tuple[int, int] | None = None
        self._state: Any = None
        self._announced: Any = None
        lay = QVBoxLayout(self)
        form = wrap_rows(QFormLayout())
        self.train_fraction = QDoubleSpinBox()
        self.train_fraction.setRange(0.05, 0.99)
        self.train_fraction.setSingleStep(0.05)
        self.train_fraction.setValue(0.95)
        form.addRow("Train fraction", self.train_fraction)
        shuf = QHBoxLayout()
        self.num_shuffles = QSpinBox()
        self.num_shuffles.setRange(1, 20)
        self.first_shuffle = QSpinBox()
        self.first_shuffle.setRange(1, 999)
        self.seed = QSpinBox()
        self.seed.setRange(0, 2**31 - 1)
        self.seed.setValue(42)
        shuf.addWidget(self.num_shuffles)
        shuf.addWidget(QLabel("from"))
        shuf.addWidget(self.first_shuffle)
        form.addRow("Shuffles", shuf)
        self.last_note = QLabel("")
        self.last_note.setWordWrap(True)
        form.addRow("", self.last_note)
        form.addRow("Split seed", self.seed)
        self.net_type = narrow_combo(QComboBox())
        self.types: list[NetType] = []
        self._project: Any = None
        form.addRow("Net type", self.net_type)
        self.net_note = QLabel("")
        self.net_note.setWordWrap(True)
        form.addRow("", self.net_note)
        self.ma_note = QLabel("")  # what a multi-animal project's dataset will be
        self.ma_note.setWordWrap(True)
        self.ma_note.setVisible(False)
        form.addRow("", self.ma_note)
        self.augmentation = narrow_combo(QComboBox())
        for name, (desc, _) in AUGMENTATION_PRESETS.items():
            self.augmentation.addItem(name, name)
            self.augmentation.setItemData(self.augmentation.count() - 1, desc, 3)  # tooltip
        form.addRow("Augmentation", self.augmentation)
        self.aug_note = QLabel("")
        self.aug_note.setWordWrap(True)
        form.addRow("", self.aug_note)
        lay.addLayout(form)
        buttons = QHBoxLayout()
        self.create_button = QPushButton("Create dataset")
        self.cancel_button = QPushButton("Cancel")
        self.cancel_button.setEnabled(False)
        self.coco_button = QPushButton("COCO JSON…")
        self.coco_button.setToolTip("Export all labels as one COCO keypoints JSON file")
        buttons.addWidget(self.create_button)
        buttons.addWidget(self.cancel_button)
        buttons.addWidget(self.coco_button)
        lay.addLayout(buttons)
        self.summary = QPlainTextEdit()
        self.summary.setReadOnly(True)
        self.summary.setMinimumHeight(110)
        lay.addWidget(self.summary)
        self.net_type.currentIndexChanged.connect(self._notes)
        self.augmentation.currentIndexChanged.connect(self._notes)
        self.set_project(None)

    def set_project(self, project: Any) -> None:
        """Offer the net types of ``project`` (:func:`~napari_dlcflow.core.engine.dataset.
        net_types_for`: multi-animal ones only on a multi-animal project), each with its note
        as tooltip, keeping the choice where it is still offered."""
        self._project = project
        multi = bool(project is not None and project.multianimal)
        self.types = net_types_for(multi)
        names = [t.name for t in self.types]
        current = self.net_type.currentData()
        refill_combo(self.net_type, names, current if current in names else "resnet_50")
        for i, t in enumerate(self.types):
            self.net_type.setItemData(i, t.name)  # the name, as DatasetSpec takes it
            self.net_type.setItemData(i, "; ".join(self._tags(t)), 3)  # 3: the tooltip role
        self.create_button.setEnabled(bool(self.types))
        self._notes()
        if not self.types:
            self.net_note.setText("deeplabcut is not installed here: no net types to choose")

    def follow(self, state: Any) -> None:
        """Show the open project's last dataset (the shuffle the Training dock uses) whenever
        a project is opened in ``state`` (a :class:`~napari_dlcflow.core.project.state.
        ProjectState`) or a dataset is made; a dataset made here is announced with
        ``state.dataset_made``."""
        self._state = state
        state.opened.connect(self.set_project)
        state.opened.connect(self.show_last_dataset)
        state.dataset_made.connect(lambda _record: self.show_last_dataset(state.project))
        self.summary.textChanged.connect(self._summary_changed)
        self.set_project(state.project)
        self.show_last_dataset(state.project)

    def _summary_changed(self) -> None:
        """The dock shows a new summary: announce the dataset if the record is new."""
        from napari_dlcflow.core.engine.dataset import last_dataset

        project = self._state.project
        if project is None:
            return
        try:
            record = last_dataset(project.config_path)
        except (OSError, ValueError):
            return
        if record is not None and record.get("created") != self._announced:
            self._announced = record.get("created")
            self.show_last_dataset(project)
            self._state.dataset_made.emit(record)

    def show_last_dataset(self, project: Any) -> None:
        """Set "from" to the shuffle train, evaluate and analyze use by default and say so."""
        self.shuffle_in_use = None
        if project is None:
            self.last_note.setText("")
            return
        try:
            shuffle, index = resolve_shuffle(project.config_path)
        except (OSError, ValueError) as exc:
            self.last_note.setText(f"Cannot read the last dataset: {exc}")
            return
        self.shuffle_in_use = (shuffle, index)
        self.first_shuffle.setValue(shuffle)
        fractions = list(project.training_fractions)
        pct = f" ({round(float(fractions[index]) * 100)}%)" if index < len(fractions) else ""
        self.last_note.setText(
            f"Training uses shuffle {shuffle}, trainset index {index}{pct} by default."
        )

    def set_net_type(self, name: str) -> None:
        """Select a net type by name (if DeepLabCut has it)."""
        i = self.net_type.findData(name)
        if i >= 0:
            self.net_type.setCurrentIndex(i)

    @staticmethod
    def _tags(t: NetType) -> list[str]:
        """The net type's note and what it needs, as phrases."""
        extra = [t.note] if t.note else []
        if t.needs_detector:
            extra.append(
                "top-down: a detector is trained too (and downloaded when "
                "pretrained weights are used)"
            )
        if t.multi_animal_only:
            extra.append("needs a multi-animal project")
        if t.needs_conditions:
            extra.append("needs pose predictions of another model as conditions")
        return extra

    def _notes(self, *_args: object) -> None:
        t = self.selected_net()
        self.net_note.setText("; ".join(self._tags(t)) if t is not None else "")
        summary = multi_animal_summary(self._project, t) if self._project is not None else ""
        self.ma_note.setText(summary)
        self.ma_note.setVisible(bool(summary))
        self.aug_note.setText(AUGMENTATION_PRESETS[self.augmentation.currentData()][0])

    def spec(self) -> DatasetSpec:
        """The dataset spec as set."""
        return DatasetSpec(
            train_fraction=round(self.train_fraction.value(), 2),
            num_shuffles=self.num_shuffles.value(),
            first_shuffle=self.first_shuffle.value(),
            net_type=self.net_type.currentData(),
            augmentation=self.augmentation.currentData(),
            seed=self.seed.value(),
        )

    def selected_net(self) -> NetType | None:
        """The chosen net type (None when there is none to choose)."""
        name = self.net_type.currentData()
        return next((t for t in self.types if t.name == name), None)
