"""One reference to a trained model: which project, iteration, shuffle and train fraction, and
where DeepLabCut keeps its files.

DeepLabCut 3 (PyTorch engine) names a shuffle's folders after the project's ``Task`` and
``date``, the train fraction in percent and the shuffle number, under one folder per
refinement iteration::

    dlc-models-pytorch/iteration-<i>/<Task><date>-trainset<pct>shuffle<N>/train/
    evaluation-results-pytorch/iteration-<i>/<Task><date>-trainset<pct>shuffle<N>/
    training-datasets/iteration-<i>/UnaugmentedDataSet_<Task><date>/
        Documentation_data-<Task>_<pct>shuffle<N>.pickle
        CollectedData_<scorer>.h5

:class:`ModelRef` is that knowledge in one small frozen value. It is made once, where the
shuffle is resolved (:func:`napari_dlcflow.core.engine.dataset.resolve_model`), and handed to
training, evaluation and analysis, which then never open the project or resolve the shuffle
again; it becomes plain JSON (:meth:`ModelRef.task_args`) only where a child process starts.
The shuffle folder's name is built here and nowhere else (:attr:`ModelRef.name`), and read
back here too (:func:`parse_shuffle_folder`).

This module imports neither deeplabcut nor torch: it only knows DeepLabCut's folder layout.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from napari_dlcflow.core.project.config import Project

__all__ = [
    "DATASETS_FOLDER",
    "DEFAULT_FRACTIONS",
    "EVALUATION_FOLDER",
    "MODELS_FOLDER",
    "ModelRef",
    "iteration_folder",
    "open_project",
    "parse_shuffle_folder",
    "shuffle_folders",
    "train_percent",
]

MODELS_FOLDER = "dlc-models-pytorch"
"""Where DeepLabCut's PyTorch engine keeps the model folders of each iteration."""
EVALUATION_FOLDER = "evaluation-results-pytorch"
"""Where ``deeplabcut.evaluate_network`` writes its results of each iteration."""
DATASETS_FOLDER = "training-datasets"
"""Where ``deeplabcut.create_training_dataset`` writes the splits of each iteration."""
DEFAULT_FRACTIONS = (0.95,)
"""``TrainingFraction`` when config.yaml has none (DeepLabCut's default)."""

_SHUFFLE_RE = re.compile(r"-trainset(\d+)shuffle(\d+)$")


def train_percent(train_fraction: float) -> int:
    """The train fraction as DeepLabCut writes it in folder names: ``int(fraction * 100)``
    (truncated, as DeepLabCut does: 0.95 -> 95)."""
    return int(float(train_fraction) * 100)


def parse_shuffle_folder(name: str) -> tuple[int, int] | None:
    """``(train percent, shuffle)`` of a folder named like :attr:`ModelRef.name`, else None.

    Parameters
    ----------
    name : str
        A folder name such as ``openfieldOct30-trainset95shuffle1``.
    """
    m = _SHUFFLE_RE.search(name)
    return (int(m.group(1)), int(m.group(2))) if m else None


def iteration_folder(root: str | os.PathLike, kind: str, iteration: int) -> Path:
    """``<root>/<kind>/iteration-<iteration>``.

    Parameters
    ----------
    root : path-like
        The project folder.
    kind : str
        :data:`MODELS_FOLDER`, :data:`EVALUATION_FOLDER` or :data:`DATASETS_FOLDER`.
    iteration : int
        The refinement iteration.
    """
    return Path(root) / kind / f"iteration-{int(iteration)}"


def shuffle_folders(root: str | os.PathLike, iteration: int) -> list[Path]:
    """The model folders (``*-trainset<pct>shuffle<N>``) of an iteration, sorted by name;
    empty when the iteration has none."""
    base = iteration_folder(root, MODELS_FOLDER, iteration)
    if not base.is_dir():
        return []
    return sorted(p for p in base.iterdir() if p.is_dir() and parse_shuffle_folder(p.name))


def open_project(source: ModelRef | Project | str | os.PathLike) -> Project:
    """The project of ``source``: a :class:`ModelRef`'s, a Project as it is, or a
    ``config.yaml`` (or project folder) opened.

    Raises
    ------
    FileNotFoundError
        If a path has no ``config.yaml``.
    """
    from napari_dlcflow.core.project.config import Project

    if isinstance(source, ModelRef):
        return source.project
    if isinstance(source, Project):
        return source
    return Project.open(source)


@dataclass(frozen=True)
class ModelRef:
    """A trained (or to be trained) model of a project: one shuffle of one iteration.

    Make it with :meth:`of` (the shuffle and trainset index known) or with
    :func:`napari_dlcflow.core.engine.dataset.resolve_model` (defaults resolved).

    Attributes
    ----------
    project : Project
        The opened project (its ``Task``, ``date``, ``scorer`` and folder). Not part of
        equality: two references to the same model of the same config are equal.
    iteration : int
        The refinement iteration (``iteration-<i>`` folders).
    shuffle : int
        DeepLabCut's shuffle number.
    trainset_index : int
        Index of the train fraction in ``TrainingFraction`` (DeepLabCut's
        ``trainingsetindex``).
    train_fraction : float
        ``TrainingFraction[trainset_index]``.
    """

    project: Project = field(compare=False, repr=False)
    iteration: int
    shuffle: int
    trainset_index: int
    train_fraction: float
    config_path: Path = field(init=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "config_path", Path(self.project.config_path))

    @classmethod
    def of(
        cls,
        project: Project,
        shuffle: int,
        trainset_index: int,
        *,
        iteration: int | None = None,
    ) -> ModelRef:
        """The reference to a given shuffle and trainset index of an opened project.

        Parameters
        ----------
        project : Project
            The opened project.
        shuffle, trainset_index : int
            Which model, as given (nothing is resolved).
        iteration : int, optional
            Default: the config's ``iteration``.

        Raises
        ------
        ValueError
            If ``trainset_index`` is not an index of ``TrainingFraction``.
        """
        fractions = list(project.get("TrainingFraction", None) or DEFAULT_FRACTIONS)
        index = int(trainset_index)
        if not 0 <= index < len(fractions):
            raise ValueError(f"trainset_index {index} not in TrainingFraction {fractions}")
        return cls(
            project=project,
            iteration=int(project.iteration if iteration is None else iteration),
            shuffle=int(shuffle),
            trainset_index=index,
            train_fraction=float(fractions[index]),
        )

    # ------------------------------------------------------------------------ names
    @property
    def root(self) -> Path:
        """The project folder."""
        return self.project.root

    @property
    def percent(self) -> int:
        """The train fraction in percent, as in the folder names (95)."""
        return train_percent(self.train_fraction)

    @property
    def name(self) -> str:
        """The shuffle folder's name, ``<Task><date>-trainset<pct>shuffle<N>``: the one place
        it is built."""
        return (
            f"{self.project.task}{self.project.date}-trainset{self.percent}shuffle{self.shuffle}"
        )

    # ---------------------------------------------------------------------- folders
    @property
    def model_folder(self) -> Path:
        """``dlc-models-pytorch/iteration-<i>/<name>`` (it may not exist)."""
        return iteration_folder(self.root, MODELS_FOLDER, self.iteration) / self.name

    @property
    def train_folder(self) -> Path:
        """``<model folder>/train``: the shuffle's ``pytorch_config.yaml`` and snapshots (it
        may not exist; :meth:`find_train_folder` checks)."""
        return self.model_folder / "train"

    @property
    def evaluation_folder(self) -> Path:
        """``evaluation-results-pytorch/iteration-<i>/<name>``: where DeepLabCut writes the
        evaluation (it may not exist)."""
        return iteration_folder(self.root, EVALUATION_FOLDER, self.iteration) / self.name

    @property
    def dataset_folder(self) -> Path:
        """``training-datasets/iteration-<i>``: the iteration's training datasets."""
        return iteration_folder(self.root, DATASETS_FOLDER, self.iteration)

    def find_train_folder(self) -> Path:
        """The train folder on disk: :attr:`train_folder`, else one of the iteration whose
        name ends the same way (a project whose ``Task`` or ``date`` was edited).

        Raises
        ------
        FileNotFoundError
            If the shuffle has no training dataset yet.
        """
        folder = self.train_folder
        if folder.is_dir():
            return folder
        base = folder.parent.parent
        suffix = f"-trainset{self.percent}shuffle{self.shuffle}"
        matches = sorted(
            p / "train"
            for p in shuffle_folders(self.root, self.iteration)
            if p.name.endswith(suffix) and (p / "train").is_dir()
        )
        if matches:
            return matches[0]
        raise FileNotFoundError(
            f"no training dataset for shuffle {self.shuffle} in {base} (create the dataset first)"
        )

    def documentation_pickle(self) -> Path | None:
        """DeepLabCut's ``Documentation_data-<Task>_<pct>shuffle<N>.pickle`` of the shuffle
        (its train and test split), or None when the dataset is not there."""
        base = self.dataset_folder
        pattern = (
            f"*/Documentation_data-{self.project.task}_{self.percent}shuffle{self.shuffle}.pickle"
        )
        found = sorted(base.glob(pattern)) if base.is_dir() else []
        return found[0] if found else None

    # ------------------------------------------------------------ the child boundary
    def task_args(self) -> dict[str, Any]:
        """The model as an engine task's JSON arguments: ``config`` (a path), ``shuffle`` and
        ``trainset_index``. A child resolves nothing: DeepLabCut gets these as they are."""
        return {
            "config": str(self.config_path.resolve()),
            "shuffle": self.shuffle,
            "trainset_index": self.trainset_index,
        }

    def describe(self) -> str:
        """``shuffle 1, trainset index 0 (95%), iteration 0``."""
        return (
            f"shuffle {self.shuffle}, trainset index {self.trainset_index} "
            f"({self.percent}%), iteration {self.iteration}"
        )
