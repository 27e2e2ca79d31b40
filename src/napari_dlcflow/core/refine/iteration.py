"""The refine-and-retrain loop: machine labels become ground truth, then the next iteration.

Rules that keep labels safe here (each one a way other tools have lost labels):

- Merging only ever *adds* rows to ``CollectedData``: rows of other images are never dropped,
  and a machine label never replaces or fills a keypoint of an image that already has a
  ground-truth row (a keypoint left empty there may be one the labeler saw was hidden).
- Nothing of the machine file leaks into ``CollectedData``: no likelihood columns and the
  project's scorer, not the network's.
- Every write goes through :func:`~napari_dlcflow.core.labels.collected.write_labels` (atomic,
backups,
  refuses a file another program changed since it was read).
- The change is described (added, moved, deleted, untouched) before it is written.
- Starting an iteration refuses while machine labels wait for review, unless asked to accept
  them; the previous iteration's models and datasets are left where they are.
"""

from __future__ import annotations

import contextlib
import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from napari_dlcflow.core.labels.changes import ChangeSummary, summarize_changes
from napari_dlcflow.core.labels.collected import (
    Labels,
    compare_with_config,
    config_keypoints,
    conform_to_config,
    load_folder,
    write_labels,
)
from napari_dlcflow.core.labels.machine import read_machine_labels

__all__ = [
    "IterationInfo",
    "MachineLabelsPendingError",
    "MergeResult",
    "NextIteration",
    "accept_machine_labels",
    "best_snapshot",
    "iteration_history",
    "merge_folder",
    "next_iteration",
    "next_train_spec",
    "pending_machine_labels",
]


class MachineLabelsPendingError(RuntimeError):
    """Machine labels wait for review; the message lists the folders."""


# ---------------------------------------------------------------------------------- merging


def accept_machine_labels(
    ground: Labels, machine: Labels, *, min_likelihood: float = 0.0
) -> tuple[Labels, int]:
    """Ground truth plus the machine labels of images that have no ground-truth row.

    Parameters
    ----------
    ground : Labels
        ``CollectedData`` (conformed to the config; may have no rows).
    machine : Labels
        Machine labels of the same folder.
    min_likelihood : float
        Predictions below it are left unlabeled (the project's ``pcutoff``, as in DeepLabCut's
        refinement GUI, which hides them).

    Returns
    -------
    (Labels, int)
        The merged table (``ground``'s scorer and columns first; no likelihood) and how many
        predictions were left out for low likelihood.
    """
    have = {r[-1] for r in ground.images}
    rows = [i for i, r in enumerate(machine.images) if r[-1] not in have]
    out = Labels(
        scorer=ground.scorer,
        keypoints=list(ground.keypoints),
        images=list(ground.images),
        xy=ground.xy.copy(),
        multianimal=ground.multianimal,
        source=ground.source,
        stamp=ground.stamp,
    )
    if not rows:
        return out, 0
    col = [machine.keypoints.index(k) if k in machine.keypoints else -1 for k in out.keypoints]
    xy = np.full((len(rows), len(out.keypoints), 2), np.nan)
    low = 0
    for k, c in enumerate(col):
        if c < 0:
            continue
        vals = machine.xy[rows, c]
        if machine.likelihood is not None:
            lik = machine.likelihood[rows, c]
            with np.errstate(invalid="ignore"):
                bad = ~(lik >= min_likelihood) & ~np.isnan(vals).any(axis=-1)
            low += int(bad.sum())
            vals = np.where(bad[:, None], np.nan, vals)
        xy[:, k] = vals
    keep = ~np.isnan(xy).all(axis=(1, 2))
    images = [(r[0], r[1], r[2]) for r in (machine.images[i] for i in rows)]
    out.images += [img for img, ok in zip(images, keep, strict=True) if ok]
    out.xy = np.concatenate([out.xy, xy[keep]])
    order = sorted(range(len(out.images)), key=lambda i: out.images[i][-1])
    out.images = [out.images[i] for i in order]
    out.xy = out.xy[order]
    return out, low


@dataclass
class MergeResult:
    """What :func:`merge_folder` did (or would do, with ``dry_run``)."""

    folder: Path
    summary: ChangeSummary
    saved: Path | None = None
    low_likelihood: int = 0


def _ground(project: Any, folder: Path) -> Labels:
    labels = load_folder(folder, project.scorer) or load_folder(folder)
    if labels is None:
        kps, multi = config_keypoints(project)
        return Labels(project.scorer, kps, [], np.zeros((0, len(kps), 2)), multianimal=multi)
    stamp, source = labels.stamp, labels.source
    diff = compare_with_config(labels, project)
    labels = conform_to_config(labels, project, {k: k for k in diff.extra})
    labels.stamp, labels.source = stamp, source
    return labels


def merge_folder(
    project: Any,
    folder: str | os.PathLike,
    *,
    min_likelihood: float | None = None,
    dry_run: bool = False,
) -> MergeResult:
    """Accept the machine labels of a folder's unlabeled images into ``CollectedData``.

    The scripted counterpart of reviewing them in the Labeling dock: every prediction at or
    above ``min_likelihood`` (default: the project's ``pcutoff``) becomes a label; images that
    already have labels are left exactly as they are.

    Raises
    ------
    napari_dlcflow.core.labels.collected.LabelsError
        If a label file is unreadable or changed on disk meanwhile (nothing written).
    FileNotFoundError
        If the folder has no machine labels.
    """
    folder = Path(folder)
    machine = read_machine_labels(folder)
    if machine is None:
        raise FileNotFoundError(f"{folder}: no machinelabels-iter*.h5 to merge")
    ground = _ground(project, folder)
    cutoff = float(project.pcutoff if min_likelihood is None else min_likelihood)
    merged, low = accept_machine_labels(ground, machine, min_likelihood=cutoff)
    summary = summarize_changes(ground if ground.images else None, merged)
    result = MergeResult(folder=folder, summary=summary, low_likelihood=low)
    if dry_run or not summary.changed:
        return result
    saved = write_labels(
        merged,
        folder,
        scorer=project.scorer,
        expected_stamp=ground.stamp,
        file_scorer=ground.source.stem.removeprefix("CollectedData_")
        if ground.source is not None and ground.source.suffix == ".h5"
        else None,
    )
    result.saved = saved.h5
    return result


def pending_machine_labels(project: Any) -> dict[Path, int]:
    """Folders whose machine labels (of the current iteration) cover images without labels,
    with how many such images."""
    out: dict[Path, int] = {}
    base = project.root / "labeled-data"
    if not base.is_dir():
        return out
    for folder in sorted(p for p in base.iterdir() if p.is_dir()):
        machine = read_machine_labels(folder, project.iteration)
        if machine is None:
            continue
        ground = load_folder(folder, project.scorer) or load_folder(folder)
        have = {r[-1] for r in ground.images} if ground is not None else set()
        n = sum(1 for r in machine.images if r[-1] not in have)
        if n:
            out[folder] = n
    return out


# ---------------------------------------------------------------------------------- iterations


def best_snapshot(train_folder: str | os.PathLike) -> Path | None:
    """The best snapshot of a train folder (``snapshot-best-*.pt``, else the last one)."""
    from napari_dlcflow.core.engine.training import list_snapshots

    folder = Path(train_folder)
    snaps = list_snapshots(folder) if folder.is_dir() else []
    if not snaps:
        return None
    return max(snaps, key=lambda s: (s.best, s.epoch)).path


@dataclass
class IterationInfo:
    """One refinement round of a project.

    Attributes
    ----------
    iteration : int
    current : bool
        Whether it is the config's ``iteration``.
    labeled_frames : int or None
        Images in its training dataset (None: no dataset yet).
    shuffles : list of str
        Its model folders.
    snapshots : int
        Snapshot files over all shuffles.
    best : Path or None
        Best snapshot of the first shuffle that has one.
    test_error, train_error : float or None
        Pixels, from DeepLabCut's evaluation of the best-scoring snapshot.
    machine_label_frames : int
        Images with machine labels of this iteration (outliers extracted for refinement).
    """

    iteration: int
    current: bool = False
    labeled_frames: int | None = None
    shuffles: list[str] = field(default_factory=list)
    snapshots: int = 0
    best: Path | None = None
    test_error: float | None = None
    train_error: float | None = None
    machine_label_frames: int = 0

    def row(self) -> list[str]:
        """Table cells: iteration, frames, snapshots, best, test error, train error, outliers."""

        def px(v: float | None) -> str:
            return "-" if v is None else f"{v:.2f}"

        return [
            f"{self.iteration}{' (current)' if self.current else ''}",
            "-" if self.labeled_frames is None else str(self.labeled_frames),
            str(self.snapshots),
            self.best.name if self.best else "-",
            px(self.test_error),
            px(self.train_error),
            str(self.machine_label_frames),
        ]


HISTORY_COLUMNS = (
    "Iteration",
    "Labeled frames",
    "Snapshots",
    "Best snapshot",
    "Test error (px)",
    "Train error (px)",
    "Machine-labeled frames",
)


def _dataset_rows(folder: Path) -> int | None:
    """Images in an iteration's training dataset: its CollectedData, read through the one
    safe reader (:func:`~napari_dlcflow.core.labels.collected.read_labels`)."""
    from napari_dlcflow.core.labels.collected import read_labels

    files = sorted(folder.glob("UnaugmentedDataSet_*/CollectedData_*.h5"))
    if not files:
        return None
    try:
        return read_labels(files[0]).n_rows
    except (OSError, ValueError, KeyError):
        return None


def _iter_number(p: Path) -> int | None:
    m = re.fullmatch(r"iteration-(\d+)", p.name)
    return int(m.group(1)) if m else None


def iteration_history(project: Any) -> list[IterationInfo]:
    """Every iteration that has a dataset, models, results or machine labels, oldest first."""
    from napari_dlcflow.core.engine.model_ref import (
        DATASETS_FOLDER,
        EVALUATION_FOLDER,
        MODELS_FOLDER,
        iteration_folder,
        shuffle_folders,
    )
    from napari_dlcflow.core.labels.machine import machine_labels_files

    root = project.root
    found: dict[int, IterationInfo] = {}

    def info(i: int) -> IterationInfo:
        return found.setdefault(i, IterationInfo(iteration=i, current=i == project.iteration))

    info(project.iteration)
    for sub in (DATASETS_FOLDER, MODELS_FOLDER, EVALUATION_FOLDER):
        base = root / sub
        for p in sorted(base.glob("iteration-*")) if base.is_dir() else []:
            i = _iter_number(p)
            if i is not None:
                info(i)
    labeled = root / "labeled-data"
    for folder in sorted(labeled.iterdir()) if labeled.is_dir() else []:
        for i in machine_labels_files(folder):
            info(i)
    for i, it in found.items():
        it.labeled_frames = _dataset_rows(iteration_folder(root, DATASETS_FOLDER, i))
        for shuffle in shuffle_folders(root, i):
            it.shuffles.append(shuffle.name)
            train = shuffle / "train"
            it.snapshots += len(list(train.glob("snapshot-*.pt")))
            if it.best is None:
                it.best = best_snapshot(train)
        it.test_error, it.train_error = _errors(root, i)
        for folder in sorted(labeled.iterdir()) if labeled.is_dir() else []:
            path = machine_labels_files(folder).get(i)
            if path is not None:
                machine = read_machine_labels(folder, i)
                it.machine_label_frames += len(machine.images) if machine is not None else 0
    return [found[i] for i in sorted(found)]


def _errors(root: Path, iteration: int) -> tuple[float | None, float | None]:
    import pandas as pd

    from napari_dlcflow.core.engine.model_ref import EVALUATION_FOLDER, iteration_folder

    base = iteration_folder(root, EVALUATION_FOLDER, iteration)
    best: tuple[float, float] | None = None
    for csv in sorted(base.glob("*/*-results.csv")) if base.is_dir() else []:
        if csv.name.endswith("-keypoint-results.csv"):
            continue
        try:
            row = pd.read_csv(csv).iloc[0]
            test, train = float(row["test rmse"]), float(row["train rmse"])
        except (OSError, ValueError, KeyError, IndexError, pd.errors.ParserError):
            continue
        if np.isfinite(test) and (best is None or test < best[0]):
            best = (test, train)
    return (best[0], best[1]) if best is not None else (None, None)


@dataclass
class NextIteration:
    """What :func:`next_iteration` did.

    Attributes
    ----------
    previous, iteration : int
        The iteration before and now.
    merged : list of MergeResult
        Machine labels accepted on the way (``accept_pending``).
    dataset : dict or None
        The new shuffle's entry of
        :func:`~napari_dlcflow.core.engine.dataset.create_datasets`' summary (``shuffle``,
        ``trainset_index``, ``n_train``, ``n_test``, ...).
    init_snapshot : Path or None
        The previous iteration's best snapshot, to start the next training from.
    """

    previous: int
    iteration: int
    merged: list[MergeResult] = field(default_factory=list)
    dataset: dict[str, Any] | None = None
    init_snapshot: Path | None = None

    def format(self) -> str:
        """A short report."""
        lines = [f"Iteration {self.previous} -> {self.iteration}."]
        for m in self.merged:
            lines.append(f"{m.folder.name}: {m.summary.format().splitlines()[0]}")
        if self.dataset:
            lines.append(
                f"Training dataset: {self.dataset.get('n_train')} train / "
                f"{self.dataset.get('n_test')} test images."
            )
        if self.init_snapshot is not None:
            lines.append(f"Train from {self.init_snapshot} (previous best snapshot).")
        return "\n".join(lines)


def next_iteration(
    project: Any,
    *,
    accept_pending: bool = False,
    create: bool = True,
    shuffle: int = 1,
    net_type: str | None = None,
) -> NextIteration:
    """Merge, bump ``iteration`` in ``config.yaml`` and create the new training dataset.

    Parameters
    ----------
    project : Project
        The open project (saved; it is saved again with the new iteration).
    accept_pending : bool, default False
        Accept machine labels that were not reviewed (:func:`merge_folder`); otherwise their
        presence stops the step with :class:`MachineLabelsPendingError`.
    create : bool, default True
        Create the new iteration's training dataset (DeepLabCut, in a child process).
    shuffle : int
        The shuffle to create, and whose previous best snapshot to start from.
    net_type : str, optional
        Net type of the new dataset (default: the previous iteration's, else the config's).

    Raises
    ------
    MachineLabelsPendingError
        If machine labels wait for review and ``accept_pending`` is False.
    RuntimeError
        If DeepLabCut could not create the dataset; ``config.yaml`` then still has the new
        iteration (the datasets can be created again).
    DatasetBlockedError
        If the project's validation finds a blocking problem (no dataset is made; the new
        iteration stays).
    """
    from napari_dlcflow.core.engine.dataset import DatasetSpec, create_datasets, resolve_model

    pending = pending_machine_labels(project)
    merged: list[MergeResult] = []
    if pending and not accept_pending:
        where = "; ".join(f"{f.name}: {n} image(s)" for f, n in pending.items())
        raise MachineLabelsPendingError(
            f"machine labels of iteration {project.iteration} wait for review ({where}). "
            "Review them in the Labeling dock and save, or accept them as they are."
        )
    for folder in pending:
        merged.append(merge_folder(project, folder))
    previous = project.iteration
    try:  # the previous iteration's model (its trainset index found on disk)
        prev_model = resolve_model(project.config_path, shuffle, iteration=previous)
        prev_train = prev_model.find_train_folder()
    except FileNotFoundError:
        prev_train = None
    init = best_snapshot(prev_train) if prev_train is not None else None
    if net_type is None and prev_train is not None:
        net_type = _net_type(prev_train)
    project.iteration = previous + 1
    project.save()
    result = NextIteration(
        previous=previous, iteration=project.iteration, merged=merged, init_snapshot=init
    )
    if create:
        summary = create_datasets(
            project.config_path, DatasetSpec(first_shuffle=shuffle, net_type=net_type)
        )
        result.dataset = summary.shuffles[0]
    return result


def _net_type(train_folder: Path) -> str | None:
    from ruamel.yaml import YAML

    try:
        cfg = YAML(typ="safe").load((train_folder / "pytorch_config.yaml").read_text("utf-8"))
    except (OSError, ValueError):
        return None
    value = (cfg or {}).get("net_type")
    return str(value) if value else None


def next_train_spec(project: Any, init_from: str | os.PathLike, shuffle: int = 1) -> Any:
    """The training settings of the previous iteration's job, starting from ``init_from``.

    Falls back to :class:`~napari_dlcflow.core.engine.training.TrainSpec`'s defaults when the
    previous
    iteration was not trained by napari-dlcflow.
    """
    from napari_dlcflow.core.engine.dataset import resolve_model
    from napari_dlcflow.core.engine.model_ref import open_project
    from napari_dlcflow.core.engine.training import JOB_FILE, TrainingJob, TrainSpec

    on_disk = open_project(project.config_path)  # the dataset was made (and saved) in a child
    spec = TrainSpec(config=str(project.config_path), shuffle=shuffle)
    try:
        previous = resolve_model(on_disk, shuffle, iteration=project.iteration - 1)
        prev = previous.find_train_folder()
    except FileNotFoundError:
        prev = None
    if prev is not None and (prev / JOB_FILE).is_file():
        with contextlib.suppress(OSError, ValueError, TypeError):
            spec = TrainingJob(prev).spec
    model = resolve_model(on_disk, shuffle)

    spec.config = str(project.config_path)
    spec.shuffle, spec.trainset_index = model.shuffle, model.trainset_index
    spec.resume_from = None
    spec.init_from = str(init_from)
    return spec
