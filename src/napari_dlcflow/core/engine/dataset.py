"""DeepLabCut training datasets: net types, augmentation presets, and the export itself.

:func:`net_types` lists DeepLabCut 3's PyTorch net types the way DeepLabCut's own
``available_models()`` does (backbones, ``top_down_<backbone>`` and the architectures' config
files), read from the installed package's files without importing deeplabcut.

:func:`create_datasets` refuses to start while :func:`napari_dlcflow.core.labels.validation.
validate_project` reports a blocking problem, then runs ``deeplabcut.create_training_dataset``
in a child process (the engine task ``create-dataset``): one seeded train/test split per
shuffle with the chosen train fraction (DeepLabCut's own split is not seeded), the net type,
and an augmentation preset applied to each shuffle's ``pytorch_config.yaml``. The result is a
:class:`DatasetSummary` read back from DeepLabCut's output files: train/test frames per video,
the shuffle folders, the net type. It is the one way napari-dlcflow makes a training dataset:
the Dataset and Training docks, ``create-dataset``, ``train --create-dataset`` and
``next-iteration`` all call it.

The train fraction DeepLabCut names the shuffle by (``trainset<pct>``) is
``round(n_train / n, 2)``; it is added to ``TrainingFraction`` in config.yaml when it is not
there, so that training and evaluation find the shuffle by its trainset index. What was made
(iteration, shuffles, trainset index) is recorded in the project's sidecar (``dlcflow.yaml``,
``last_dataset``); :func:`resolve_shuffle` gives it back as the default model of train,
evaluate, analyze and the docks.
"""

from __future__ import annotations

import importlib.util
import os
import re
from collections.abc import Callable
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from napari_dlcflow.core.engine.model_ref import (
    ModelRef,
    open_project,
    parse_shuffle_folder,
    shuffle_folders,
    train_percent,
)

if TYPE_CHECKING:
    from napari_dlcflow.core.project.config import Project

__all__ = [
    "AUGMENTATION_PRESETS",
    "DatasetBlockedError",
    "DatasetSpec",
    "DatasetSummary",
    "NetType",
    "create_datasets",
    "last_dataset",
    "net_types",
    "net_types_for",
    "resolve_model",
    "resolve_shuffle",
    "split_indices",
]


class DatasetBlockedError(ValueError):
    """The project has blocking validation problems; :attr:`report` lists them."""

    def __init__(self, report: Any) -> None:
        self.report = report
        super().__init__(
            "dataset export refused:\n" + "\n".join(f"- {i.describe()}" for i in report.problems)
        )


AUGMENTATION_PRESETS: dict[str, tuple[str, dict[str, Any]]] = {
    "default": ("DeepLabCut's defaults: rotation 30 deg, scale 0.5-1.25, noise, motion blur", {}),
    "light": (
        "small changes: rotation 10 deg, scale 0.9-1.1, no noise or blur",
        {
            "affine": {"p": 0.5, "rotation": 10, "scaling": [0.9, 1.1], "translation": 0},
            "gaussian_noise": False,
            "motion_blur": False,
        },
    ),
    "strong": (
        "any rotation, scale 0.5-1.5, noise, motion blur (animals seen from above)",
        {
            "affine": {"p": 0.9, "rotation": 180, "scaling": [0.5, 1.5], "translation": 0},
            "gaussian_noise": 12.75,
            "motion_blur": True,
        },
    ),
    "none": (
        "no augmentation (only the training crops)",
        {"affine": None, "gaussian_noise": False, "motion_blur": False},
    ),
}
"""Preset name -> (description, updates of ``data.train`` in ``pytorch_config.yaml``)."""


@dataclass(frozen=True)
class NetType:
    """A DeepLabCut 3 net type.

    Attributes
    ----------
    name : str
        As ``net_type=`` takes it.
    family : str
        ``resnet``, ``hrnet``, ``cspnext``, ``rtmpose``, ``dekr``, ``dlcrnet``, ``ctd``, ...
    needs_detector : bool
        Top-down: a detector is trained (and, with pretrained weights, downloaded) too.
    multi_animal_only : bool
        Made for multi-animal projects.
    needs_conditions : bool
        Conditional top-down: needs pose predictions of another model as conditions.
    note : str
        Speed and size in a few words.
    """

    name: str
    family: str
    needs_detector: bool
    multi_animal_only: bool
    needs_conditions: bool
    note: str


_NOTES = {
    "resnet": "ResNet, bottom-up; DeepLabCut's classic. 50: medium size and speed; 101: larger",
    "hrnet": "HRNet, bottom-up: precise; w18 small, w32/w48 larger and slower",
    "cspnext": "CSPNeXt, bottom-up: fast and small (s), larger m/x",
    "rtmpose": "RTMPose, top-down: fast and accurate; trains a detector too",
    "dekr": "DEKR (HRNet), multi-animal bottom-up with identity-free grouping; slow",
    "dlcrnet": "DLCRNet, multi-animal bottom-up with part affinity fields",
    "ctd": "conditional top-down: refines another model's poses; for crowded multi-animal",
    "animaltokenpose": "TokenPose transformer, top-down; large",
}


def _dlc_config_folder() -> Path | None:
    spec = importlib.util.find_spec("deeplabcut")  # finds the package without importing it
    if spec is None or not spec.submodule_search_locations:
        return None
    base = Path(next(iter(spec.submodule_search_locations)))
    folder = base / "pose_estimation_pytorch" / "config"
    return folder if folder.is_dir() else None


def _method(path: Path) -> str:
    try:
        m = re.search(r"^method:\s*(\w+)", path.read_text(encoding="utf-8"), re.M)
    except OSError:
        return "bu"
    return m.group(1).lower() if m else "bu"


def net_types(config_folder: str | os.PathLike | None = None) -> list[NetType]:
    """DeepLabCut 3's net types (sorted by name), read from its config files.

    Parameters
    ----------
    config_folder : path-like, optional
        ``deeplabcut/pose_estimation_pytorch/config`` (default: the installed package's).

    Returns
    -------
    list of NetType
        Empty if deeplabcut is not installed.
    """
    folder = Path(config_folder) if config_folder else _dlc_config_folder()
    if folder is None:
        return []
    out: dict[str, NetType] = {}
    for p in (folder / "backbones").glob("*.yaml"):
        fam = p.stem.split("_")[0]
        note = _NOTES.get(fam, "")
        out[p.stem] = NetType(p.stem, fam, False, False, False, note)
        out["top_down_" + p.stem] = NetType(
            "top_down_" + p.stem,
            fam,
            True,
            False,
            False,
            f"top-down {p.stem}: trains a detector too; crops each animal",
        )
    for sub in folder.iterdir():
        if not sub.is_dir() or sub.name in ("backbones", "base", "detectors", "__pycache__"):
            continue
        for p in sub.glob("*.yaml"):
            method = _method(p)
            fam = sub.name
            out[p.stem] = NetType(
                p.stem,
                fam,
                method in ("td", "ctd"),
                fam in ("dekr", "dlcrnet", "ctd"),
                method == "ctd",
                _NOTES.get(fam, ""),
            )
    return [out[k] for k in sorted(out)]


def net_types_for(
    multi_animal: bool, config_folder: str | os.PathLike | None = None
) -> list[NetType]:
    """The net types to offer on a project (:func:`net_types`, filtered).

    A single-animal project gets no multi-animal-only type (``dekr``, ``dlcrnet``, ``ctd``).
    A multi-animal project gets every type except ``ctd_*``: a conditional top-down model
    needs the predictions of a trained bottom-up model as conditions (DeepLabCut's
    ``ctd_conditions``), which napari-dlcflow does not set up; there the backbones
    (``resnet_*``, ``hrnet_*``, ``cspnext_*``) are bottom-up with part-affinity fields, and
    top-down types train a detector too (see
    :func:`~napari_dlcflow.core.engine.weights.weights_status` for what that needs offline).
    """
    out = []
    for t in net_types(config_folder):
        if t.needs_conditions or (t.multi_animal_only and not multi_animal):
            continue
        if multi_animal and t.family in ("resnet", "hrnet", "cspnext") and not t.needs_detector:
            t = replace(t, note=t.note.replace("bottom-up", "bottom-up with part-affinity fields"))
        out.append(t)
    return out


def multi_animal_summary(project: Any, net: NetType | None = None) -> str:
    """What a multi-animal project's training dataset will be, in one line.

    Parameters
    ----------
    project : Project
        An open project (its ``individuals``, body parts, ``uniquebodyparts``, ``identity``).
    net : NetType, optional
        The chosen net type (default: a bottom-up model with part-affinity fields, what
        DeepLabCut's default ``resnet_50`` is on a multi-animal project).

    Returns
    -------
    str
        Empty for a single-animal project.
    """
    if not project.multianimal:
        return ""
    animals = list(project.individuals)
    if net is not None and net.needs_detector:
        how = "top-down: a detector finds each animal, then its pose is estimated in its crop"
    elif net is not None and net.family == "dekr":
        how = "bottom-up with DEKR's grouping of the parts into animals"
    else:
        how = "bottom-up with part-affinity fields (parts assembled into animals)"
    text = (
        f"Multi-animal dataset: {len(animals)} animals ({', '.join(animals)}), "
        f"{len(project.bodyparts)} body parts each; {how}"
    )
    if project.get("identity"):
        text += "; an identity head (identity: true) tells the animals apart"
    unique = list(project.unique_bodyparts)
    if unique:
        text += f"; unique body parts: {', '.join(unique)}"
    return text + "."


@dataclass
class DatasetSpec:
    """What training dataset to make.

    Attributes
    ----------
    train_fraction : float
        Share of labeled frames used for training (the rest is the test set), 0 < f < 1.
    num_shuffles : int
        How many shuffles (different random splits) to create.
    first_shuffle : int
        Number of the first shuffle (existing shuffles of that number are replaced).
    net_type : str, optional
        One of :func:`net_types` (default: the config's ``default_net_type``).
    augmentation : str
        One of :data:`AUGMENTATION_PRESETS`.
    seed : int
        Seed of the splits (shuffle ``k`` uses ``seed + k``).
    """

    train_fraction: float = 0.95
    num_shuffles: int = 1
    first_shuffle: int = 1
    net_type: str | None = None
    augmentation: str = "default"
    seed: int = 42

    def __post_init__(self) -> None:
        if not 0 < float(self.train_fraction) < 1:
            raise ValueError(f"train_fraction must be between 0 and 1, got {self.train_fraction}")
        if int(self.num_shuffles) < 1 or int(self.first_shuffle) < 1:
            raise ValueError("num_shuffles and first_shuffle must be at least 1")
        if self.augmentation not in AUGMENTATION_PRESETS:
            raise ValueError(f"augmentation must be one of {', '.join(AUGMENTATION_PRESETS)}")
        if self.net_type:
            names = {n.name for n in net_types()}
            if names and self.net_type not in names:
                raise ValueError(f"unknown net type {self.net_type!r}")

    @property
    def shuffles(self) -> list[int]:
        return list(
            range(int(self.first_shuffle), int(self.first_shuffle) + int(self.num_shuffles))
        )


@dataclass
class DatasetSummary:
    """What DeepLabCut made, read back from its files.

    Attributes
    ----------
    shuffles : list of dict
        Per shuffle: ``shuffle``, ``train_fraction`` (as DeepLabCut names it),
        ``trainset_index``, ``n_train``, ``n_test``, ``per_video`` (``{stem: [train, test]}``),
        ``folder`` (the model folder), ``net_type``, ``augmentation``.
    dataset_folder : str
        ``training-datasets/iteration-<i>/UnaugmentedDataSet_<task><date>``.
    """

    shuffles: list[dict[str, Any]] = field(default_factory=list)
    dataset_folder: str = ""

    def format(self) -> str:
        """The summary as text."""
        lines = [f"training dataset: {self.dataset_folder}"]
        for s in self.shuffles:
            lines.append(
                f"shuffle {s['shuffle']}: {s['net_type']}, train {s['n_train']} / test "
                f"{s['n_test']} frames (trainset {round(s['train_fraction'] * 100)}%, "
                f"augmentation {s['augmentation']})"
            )
            for stem, (tr, te) in s["per_video"].items():
                lines.append(f"    {stem}: train {tr}, test {te}")
            lines.append(f"    {s['folder']}")
        return "\n".join(lines)


def split_indices(n: int, train_fraction: float, seed: int) -> tuple[list[int], list[int]]:
    """A seeded random split of ``range(n)``: ``round(train_fraction * n)`` training frames
    (at least one, and at least one test frame when ``n > 1``)."""
    k = round(train_fraction * n)
    k = min(max(k, 1), max(n - 1, 1))
    perm = np.random.default_rng(seed).permutation(n)
    return sorted(int(i) for i in perm[:k]), sorted(int(i) for i in perm[k:])


def create_datasets(
    config: str | os.PathLike,
    spec: DatasetSpec | None = None,
    *,
    on_log: Callable[[str], None] | None = None,
    should_stop: Callable[[], bool] | None = None,
    timeout: float = 1800,
    check: bool = True,
) -> DatasetSummary:
    """Validate the project, then create the training dataset(s) with DeepLabCut in a child.

    Parameters
    ----------
    config : path-like
        The project's ``config.yaml`` (or folder).
    spec : DatasetSpec, optional
    on_log, should_stop : callable, optional
        Passed to :func:`napari_dlcflow.core.jobs.run_child`.
    timeout : float
        Seconds before the child is stopped.
    check : bool, default True
        Refuse when :func:`~napari_dlcflow.core.labels.validation.validate_project` finds a
        blocking
        problem.

    Raises
    ------
    DatasetBlockedError
        If the project has blocking problems (nothing is written).
    RuntimeError
        If DeepLabCut failed (its reason in the message).
    """
    from napari_dlcflow.core.engine.tasks import run_task
    from napari_dlcflow.core.labels.validation import validate_project
    from napari_dlcflow.core.project.config import Project, find_config

    spec = spec or DatasetSpec()
    cfg = find_config(config)
    if check:
        report = validate_project(Project.open(cfg))
        if not report.ok:
            raise DatasetBlockedError(report)
    result = run_task(
        "create-dataset",
        config=str(cfg.resolve()),
        spec=asdict(spec),
        on_log=on_log,
        should_stop=should_stop,
        timeout=timeout,
    )
    made = result.last("datasets")
    if made is None or not result.ok:
        raise RuntimeError(f"DeepLabCut could not create the training dataset: {result.reason()}")
    summary = DatasetSummary(shuffles=made["shuffles"], dataset_folder=made["dataset_folder"])
    _record(cfg, summary)
    return summary


def _record(config: Path, summary: DatasetSummary) -> None:
    """Write what was made into the sidecar's ``last_dataset``."""
    import datetime as dt

    from napari_dlcflow.core.project.config import Project
    from napari_dlcflow.core.project.sidecar import Sidecar

    if not summary.shuffles:
        return
    project = Project.open(config)
    sidecar = Sidecar.load(project.root)
    first = summary.shuffles[0]
    sidecar.last_dataset = {
        "iteration": int(project.iteration),
        "shuffles": [int(s["shuffle"]) for s in summary.shuffles],
        "trainset_index": int(first["trainset_index"]),
        "train_fraction": float(first["train_fraction"]),
        "created": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
    }
    sidecar.save(project.root)


def last_dataset(config: str | os.PathLike | Project) -> dict[str, Any] | None:
    """The sidecar's record of the last dataset creation, if it is of the current iteration
    and its ``TrainingFraction`` entry is still in config.yaml (else None).

    ``config`` is the project's ``config.yaml`` or folder, or the opened Project (not opened
    again)."""
    from napari_dlcflow.core.project.sidecar import Sidecar

    project = open_project(config)
    record = Sidecar.load(project.root).last_dataset
    if not record or int(record.get("iteration", -1)) != int(project.iteration):
        return None
    try:
        index = int(record["trainset_index"])
        shuffles = [int(s) for s in record["shuffles"]]
        fraction = float(record["train_fraction"])
    except (KeyError, TypeError, ValueError):
        return None
    fractions = [round(float(f), 2) for f in project.training_fractions]
    if not shuffles or not 0 <= index < len(fractions) or fractions[index] != round(fraction, 2):
        return None
    return {**record, "trainset_index": index, "shuffles": shuffles}


def _shuffles_on_disk(project: Any, iteration: int) -> list[tuple[float, int, int]]:
    """``(mtime, shuffle, trainset index)`` of the model folders of ``iteration``, oldest
    first."""
    pcts = [train_percent(f) for f in project.training_fractions]
    out = []
    for folder in shuffle_folders(project.root, iteration):
        pct, shuffle = parse_shuffle_folder(folder.name) or (-1, -1)
        if pct in pcts and (folder / "train").is_dir():
            mtime = (folder / "train").stat().st_mtime
            out.append((mtime, shuffle, pcts.index(pct)))
    return sorted(out)


def _resolve(
    project: Project,
    shuffle: int | None,
    trainset_index: int | None,
    iteration: int,
) -> tuple[int, int]:
    """:func:`resolve_shuffle` on an opened project."""
    if shuffle is not None and trainset_index is not None:
        return int(shuffle), int(trainset_index)
    record = last_dataset(project) if iteration == int(project.iteration) else None
    if record is not None and (shuffle is None or int(shuffle) in record["shuffles"]):
        return (
            int(shuffle) if shuffle is not None else record["shuffles"][0],
            int(trainset_index) if trainset_index is not None else record["trainset_index"],
        )
    found = _shuffles_on_disk(project, iteration)
    if trainset_index is not None:
        found = [f for f in found if f[2] == int(trainset_index)]
    if shuffle is not None:
        found = [f for f in found if f[1] == int(shuffle)]
    if found:
        _, s, t = found[-1]
        return s, t
    return (
        int(shuffle) if shuffle is not None else 1,
        int(trainset_index) if trainset_index is not None else 0,
    )


def resolve_shuffle(
    config: str | os.PathLike | Project,
    shuffle: int | None = None,
    trainset_index: int | None = None,
    *,
    iteration: int | None = None,
) -> tuple[int, int]:
    """The shuffle and trainset index to use when the caller gave none (or only one).

    In order: the values given; those of the last dataset creation (:func:`last_dataset`, for
    the config's iteration only); the newest model folder of the iteration on disk (a dataset
    DeepLabCut made without us, or one of an earlier iteration) with that shuffle; shuffle 1
    and trainset index 0 (DeepLabCut's defaults). The project is opened once at most.

    Parameters
    ----------
    config : path-like or Project
        The project's ``config.yaml`` (or folder), or the opened project.
    shuffle, trainset_index : int, optional
        What the caller asked for.
    iteration : int, optional
        The iteration whose datasets count (default: the config's).

    Returns
    -------
    tuple of int
        ``(shuffle, trainset_index)``.

    See Also
    --------
    resolve_model : the same choice as a :class:`~.model_ref.ModelRef` that knows its folders.
    """
    if shuffle is not None and trainset_index is not None:
        return int(shuffle), int(trainset_index)
    project = open_project(config)
    if iteration is None:
        iteration = int(project.iteration)
    return _resolve(project, shuffle, trainset_index, int(iteration))


def resolve_model(
    source: ModelRef | Project | str | os.PathLike,
    shuffle: int | None = None,
    trainset_index: int | None = None,
    *,
    iteration: int | None = None,
) -> ModelRef:
    """The model to use: :func:`resolve_shuffle`'s choice as a :class:`~.model_ref.ModelRef`.

    This is where a reference to a model is made; training, evaluation and analysis take it
    as it is afterwards, so the project is opened once.

    Parameters
    ----------
    source : ModelRef, Project or path-like
        A reference already made (returned as it is), the opened project, or its
        ``config.yaml`` (or folder; opened once).
    shuffle, trainset_index : int, optional
        What the caller asked for (default: the last dataset creation's, see
        :func:`resolve_shuffle`).
    iteration : int, optional
        The iteration (default: the config's).

    Returns
    -------
    ModelRef

    Raises
    ------
    ValueError
        If the trainset index is not an index of ``TrainingFraction``, or ``source`` is a
        ModelRef and the other arguments name another model.
    FileNotFoundError
        If a path has no ``config.yaml``.
    """
    if isinstance(source, ModelRef):
        asked = (shuffle, trainset_index, iteration)
        have = (source.shuffle, source.trainset_index, source.iteration)
        if any(a is not None and int(a) != h for a, h in zip(asked, have, strict=True)):
            raise ValueError(
                f"{source.describe()} was given with shuffle {shuffle}, trainset index "
                f"{trainset_index}, iteration {iteration}"
            )
        return source
    project = open_project(source)
    it = int(project.iteration) if iteration is None else int(iteration)
    s, t = _resolve(project, shuffle, trainset_index, it)
    return ModelRef.of(project, s, t, iteration=it)


# ------------------------------------------------------------------------- inside the child
def _apply_preset(path: Path, preset: str) -> None:
    import yaml

    from napari_dlcflow.core.safe_io import atomic_write

    updates = AUGMENTATION_PRESETS[preset][1]
    if not updates:
        return
    cfg = yaml.safe_load(path.read_text(encoding="utf-8"))
    train = cfg.setdefault("data", {}).setdefault("train", {})
    for k, v in updates.items():
        if v is None:
            train.pop(k, None)
        else:
            train[k] = v
    atomic_write(path, yaml.safe_dump(cfg, sort_keys=False), backup=False)


def _ensure_fraction(cfg_path: Path, fraction: float) -> int:
    """Index of ``fraction`` in ``TrainingFraction``, appending it (config saved) if absent."""
    from napari_dlcflow.core.project.config import Project

    project = Project.open(cfg_path)
    fr = [round(f, 2) for f in project.training_fractions]
    if fraction in fr:
        return fr.index(fraction)
    project.training_fractions = [*project.training_fractions, fraction]
    project.save()
    return len(fr)


def create_datasets_here(config: str, spec: dict[str, Any]) -> None:
    """Engine task ``create-dataset``: the child side of :func:`create_datasets` (imports
    deeplabcut; reports with ``emit``)."""
    import deeplabcut
    from deeplabcut.generate_training_dataset.trainingsetmanipulation import (
        merge_annotateddatasets,
    )
    from deeplabcut.utils import auxiliaryfunctions

    from napari_dlcflow.core.engine.tasks import EngineError
    from napari_dlcflow.core.jobs import emit

    spec = DatasetSpec(**spec)
    cfg_path = Path(config)
    cfg = auxiliaryfunctions.read_config(str(cfg_path))
    folder = Path(cfg["project_path"]) / auxiliaryfunctions.get_training_set_folder(cfg)
    folder.mkdir(parents=True, exist_ok=True)
    data = merge_annotateddatasets(cfg, folder)
    if data is None or len(data) == 0:
        raise EngineError(
            f"DeepLabCut found no labeled frames for {cfg_path} (check video_sets and scorer)",
            file=cfg_path,
        )
    n = len(data)
    if n < 2:
        raise EngineError(f"{n} labeled frame: at least 2 are needed (train and test)")
    splits = [split_indices(n, spec.train_fraction, spec.seed + s) for s in spec.shuffles]
    fraction = round(len(splits[0][0]) / n, 2)
    index = _ensure_fraction(cfg_path, fraction)
    emit("progress", message=f"{n} labeled frames; train fraction {fraction}")
    deeplabcut.create_training_dataset(
        str(cfg_path),
        Shuffles=spec.shuffles,
        trainIndices=[s[0] for s in splits],
        testIndices=[s[1] for s in splits],
        net_type=spec.net_type or None,
        userfeedback=False,
        engine=deeplabcut.Engine.PYTORCH,
    )
    cfg = auxiliaryfunctions.read_config(str(cfg_path))
    stems = [
        str(r[1]) if isinstance(r, tuple) else re.split(r"[\\/]", str(r))[-2] for r in data.index
    ]
    out = []
    for shuffle, (train, test) in zip(spec.shuffles, splits, strict=True):
        model = Path(cfg["project_path"]) / auxiliaryfunctions.get_model_folder(
            fraction, shuffle, cfg, engine=deeplabcut.Engine.PYTORCH
        )
        pcfg = model / "train" / "pytorch_config.yaml"
        if not pcfg.is_file():
            raise EngineError(f"DeepLabCut wrote no {pcfg}", file=pcfg)
        _apply_preset(pcfg, spec.augmentation)
        import yaml

        net = (yaml.safe_load(pcfg.read_text(encoding="utf-8")) or {}).get("net_type", "")
        per: dict[str, list[int]] = {}
        for i in train:
            per.setdefault(stems[i], [0, 0])[0] += 1
        for i in test:
            per.setdefault(stems[i], [0, 0])[1] += 1
        out.append(
            {
                "shuffle": shuffle,
                "train_fraction": fraction,
                "trainset_index": index,
                "n_train": len(train),
                "n_test": len(test),
                "per_video": per,
                "folder": str(model),
                "net_type": net,
                "augmentation": spec.augmentation,
            }
        )
    emit("datasets", shuffles=out, dataset_folder=str(folder))
