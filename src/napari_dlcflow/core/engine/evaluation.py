"""Evaluate snapshots with DeepLabCut (in a child process) and explain the numbers.

DeepLabCut writes, per evaluated snapshot, into
``evaluation-results-pytorch/iteration-<i>/<Task><date>-trainset<pct>shuffle<N>/``:

- ``DLC_<net>_<task><date>shuffle<N>_snapshot_<k>-results.csv``: one row with train and test
  RMSE (pixels), the same with the p-cutoff, mAP and mAR (``<k>`` is the epoch, or
  ``best-<epoch>`` for the best snapshot);
- ``..._snapshot_<k>-keypoint-results.csv``: train and test error per body part;
- ``..._snapshot_<k>.h5``: the predictions on every labeled image.

:func:`read_results` parses them into :class:`EvalResult` rows, :func:`explain` says what the
numbers mean for this project, and :func:`evaluation_frames` pairs labels and predictions per
image, worst first, for viewing.
"""

from __future__ import annotations

import math
import os
import pickle
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from napari_dlcflow.core.predictions.evaluated import EvalFrames

if TYPE_CHECKING:
    from typing import TypeAlias

    import pandas as pd

    from napari_dlcflow.core.engine.model_ref import ModelRef
    from napari_dlcflow.core.project.config import Project

    # what the functions here take as ``config``: a model already resolved, the opened
    # project, or its config.yaml (or folder)
    ModelSource: TypeAlias = ModelRef | Project | str | os.PathLike

__all__ = [
    "EvalResult",
    "evaluate",
    "evaluation_folder",
    "evaluation_frames",
    "explain",
    "format_table",
    "image_width",
    "latest_frames",
    "per_epoch",
    "read_results",
    "test_count",
]

_RESULT_RE = re.compile(r"_snapshot_(best-)?(\d+)-results\.csv$")


@dataclass
class EvalResult:
    """DeepLabCut's evaluation of one snapshot.

    Attributes
    ----------
    snapshot : str
        ``snapshot-006`` or ``snapshot-best-001`` (the file stem in the train folder).
    epoch : int
    best : bool
    train_rmse, test_rmse : float
        Root mean square distance between predictions and labels, in pixels.
    train_rmse_pcutoff, test_rmse_pcutoff : float
        The same over predictions whose confidence reaches ``pcutoff`` (NaN: none did).
    train_map, test_map, train_mar, test_mar : float
        COCO-style mean average precision and recall, 0-100.
    pcutoff : float
    train_fraction : float
    bodypart_train, bodypart_test : dict of str to float
        Error per body part in pixels.
    predictions : Path
        DeepLabCut's ``.h5`` of predictions on all labeled images.
    """

    snapshot: str
    epoch: int
    best: bool
    train_rmse: float
    test_rmse: float
    train_rmse_pcutoff: float
    test_rmse_pcutoff: float
    train_map: float
    test_map: float
    train_mar: float
    test_mar: float
    pcutoff: float
    train_fraction: float
    bodypart_train: dict[str, float] = field(default_factory=dict)
    bodypart_test: dict[str, float] = field(default_factory=dict)
    predictions: Path | None = None


def evaluation_folder(
    config: ModelSource,
    shuffle: int | None = None,
    trainset_index: int | None = None,
    *,
    iteration: int | None = None,
) -> Path:
    """Where DeepLabCut writes the evaluation of a shuffle (of ``iteration``, default the
    config's; shuffle and trainset index default to the last dataset creation's).

    ``config`` is the project's ``config.yaml`` (or folder), the opened project, or a
    :class:`~napari_dlcflow.core.engine.model_ref.ModelRef` (nothing resolved again)."""
    from napari_dlcflow.core.engine.dataset import resolve_model

    return resolve_model(config, shuffle, trainset_index, iteration=iteration).evaluation_folder


def _num(value: object) -> float:
    try:
        out = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return math.nan
    return out


def read_results(
    config: ModelSource,
    shuffle: int | None = None,
    trainset_index: int | None = None,
    *,
    iteration: int | None = None,
) -> list[EvalResult]:
    """Parse the evaluation results of a shuffle that are on disk, by epoch.

    A results file that cannot be parsed is skipped (DeepLabCut may be writing it); a
    per-body-part file beside a parsed one that cannot be read raises. ``iteration``
    defaults to the config's. ``config`` may be a
    :class:`~napari_dlcflow.core.engine.model_ref.ModelRef` (nothing resolved again).

    Raises
    ------
    ValueError
        If a ``-keypoint-results.csv`` cannot be parsed (the message names it).
    """
    import pandas as pd

    folder = evaluation_folder(config, shuffle, trainset_index, iteration=iteration)
    out: list[EvalResult] = []
    for path in sorted(folder.glob("*-results.csv")):
        m = _RESULT_RE.search(path.name)
        if not m or path.name.endswith("-keypoint-results.csv"):
            continue
        try:
            row = pd.read_csv(path).iloc[0]
        except (OSError, ValueError, IndexError, pd.errors.ParserError):
            continue
        best, epoch = bool(m.group(1)), int(m.group(2))
        result = EvalResult(
            snapshot=f"snapshot-{'best-' if best else ''}{epoch:03d}",
            epoch=epoch,
            best=best,
            train_rmse=_num(row.get("train rmse")),
            test_rmse=_num(row.get("test rmse")),
            train_rmse_pcutoff=_num(row.get("train rmse_pcutoff")),
            test_rmse_pcutoff=_num(row.get("test rmse_pcutoff")),
            train_map=_num(row.get("train mAP")),
            test_map=_num(row.get("test mAP")),
            train_mar=_num(row.get("train mAR")),
            test_mar=_num(row.get("test mAR")),
            pcutoff=_num(row.get("pcutoff")),
            train_fraction=_num(row.get("%Training dataset")),
        )
        kp = path.with_name(path.name.replace("-results.csv", "-keypoint-results.csv"))
        if kp.is_file():
            try:
                df = pd.read_csv(kp, index_col=0)
                for label, target in (
                    ("Train", result.bodypart_train),
                    ("Test", result.bodypart_test),
                ):
                    rows = [i for i in df.index if str(i).startswith(label)]
                    if rows:
                        target.update({str(k): _num(v) for k, v in df.loc[rows[0]].items()})
            except (OSError, ValueError, KeyError, pd.errors.ParserError) as exc:
                raise ValueError(
                    f"cannot read the per-body-part evaluation results {kp}: {exc}"
                ) from exc
        h5 = path.with_name(path.name.replace("-results.csv", ".h5"))
        result.predictions = h5 if h5.is_file() else None
        out.append(result)
    return sorted(out, key=lambda r: (r.epoch, r.best))


def evaluate(
    config: ModelSource,
    shuffle: int | None = None,
    trainset_index: int | None = None,
    *,
    epochs: Sequence[int] | None = None,
    device: str = "auto",
    on_log: Callable[[str], None] | None = None,
    should_stop: Callable[[], bool] | None = None,
    timeout: float | None = None,
) -> list[EvalResult]:
    """Evaluate snapshots of a shuffle in a child process and return all results on disk.

    Parameters
    ----------
    config : path-like, Project or ModelRef
        The project's ``config.yaml``, or the model already resolved
        (:func:`~napari_dlcflow.core.engine.dataset.resolve_model`).
    shuffle, trainset_index : int, optional
        Which training dataset (default: the last dataset creation's,
        :func:`~napari_dlcflow.core.engine.dataset.resolve_shuffle`).
    epochs : sequence of int, optional
        Evaluate only the snapshots of these epochs; all when None.
    device : str
        ``auto``, ``cpu``, ``cuda:0``...
    on_log, should_stop : callable, optional
        Passed to :func:`napari_dlcflow.core.jobs.run_child`.
    timeout : float, optional
        Seconds before giving up.

    Raises
    ------
    RuntimeError
        If DeepLabCut failed or was stopped; the message holds its reason.
    FileNotFoundError
        If none of the requested snapshots exists.
    ValueError
        If a per-body-part results file of DeepLabCut cannot be parsed (it is named).
    """
    from napari_dlcflow.core.engine.dataset import resolve_model
    from napari_dlcflow.core.engine.tasks import run_task
    from napari_dlcflow.core.engine.training import list_snapshots

    model = resolve_model(config, shuffle, trainset_index)
    names: list[str] = []
    if epochs is not None:
        wanted = {int(e) for e in epochs}
        snaps = list_snapshots(model.find_train_folder(), check=True)
        names = [s.path.stem for s in snaps if s.epoch in wanted]
        if not names:
            raise FileNotFoundError(f"no complete snapshot for epochs {sorted(wanted)}")
    result = run_task(
        "evaluate",
        **model.task_args(),
        snapshots=names,
        device=device,
        on_log=on_log,
        should_stop=should_stop,
        timeout=timeout,
    )
    if not result.ok or result.last("evaluated") is None:
        raise RuntimeError(f"evaluation failed: {result.reason()}")
    return read_results(model)


def per_epoch(results: Sequence[EvalResult]) -> list[EvalResult]:
    """One result per epoch, by epoch: the plain snapshot where there is one, else the best.

    DeepLabCut saves only ``snapshot-best-<k>.pt`` at an epoch whose metric is the best so
    far, even when it is a save epoch or the last one.
    """
    chosen: dict[int, EvalResult] = {}
    for r in results:
        if r.epoch not in chosen or (chosen[r.epoch].best and not r.best):
            chosen[r.epoch] = r
    return [chosen[e] for e in sorted(chosen)]


def format_table(results: Sequence[EvalResult]) -> str:
    """A plain-text table, one row per snapshot."""
    head = (
        f"{'snapshot':<20}{'epoch':>6}{'train px':>10}{'test px':>9}"
        f"{'train p>':>10}{'test p>':>9}{'mAP':>7}{'mAR':>7}"
    )
    lines = [head, "-" * len(head)]
    for r in results:
        lines.append(
            f"{r.snapshot:<20}{r.epoch:>6}{r.train_rmse:>10.2f}{r.test_rmse:>9.2f}"
            f"{r.train_rmse_pcutoff:>10.2f}{r.test_rmse_pcutoff:>9.2f}"
            f"{r.test_map:>7.1f}{r.test_mar:>7.1f}"
        )
    return "\n".join(lines)


def image_width(config: ModelSource) -> int | None:
    """Width in pixels of the project's first labeled image (None when there is none)."""
    from napari_dlcflow.core.engine.model_ref import open_project

    root = open_project(config).root
    for png in sorted((root / "labeled-data").glob("*/*.png"))[:1]:
        try:
            from PIL import Image

            with Image.open(png) as im:
                return int(im.size[0])
        except OSError:
            return None
    return None


#: Train error above this share of the image width (or :data:`NOT_LEARNED_PX` without a
#: width) means the network has not learned yet, whatever the test error says.
NOT_LEARNED_SHARE = 0.1
NOT_LEARNED_PX = 25.0


def _not_learned(train_rmse: float, image_width: int | None) -> bool:
    limit = NOT_LEARNED_SHARE * image_width if image_width else NOT_LEARNED_PX
    return not math.isnan(train_rmse) and train_rmse > limit


def explain(
    results: Sequence[EvalResult],
    *,
    image_width: int | None = None,
    n_test: int | None = None,
) -> list[str]:
    """Plain-language sentences about the latest result and the trend over snapshots.

    Parameters
    ----------
    results : sequence of EvalResult
        By epoch (as :func:`read_results` returns them); the latest epoch is described.
    image_width : int, optional
        Width of the labeled images in pixels (puts the RMSE in proportion).
    n_test : int, optional
        Number of test images (few of them make the test numbers noisy).
    """
    if not results:
        return ["No evaluation yet: evaluate a snapshot to see how well the network does."]
    r = per_epoch(results)[-1]
    if math.isnan(r.test_rmse) and math.isnan(r.train_rmse):
        keep = ("mAP", "Only ", "Training")
        return [
            f"RMSE is empty (NaN) at epoch {r.epoch}: DeepLabCut matched no predicted point to "
            "a labeled one. On a multi-animal project the points are first assembled into "
            "animals (part-affinity fields, or DEKR's grouping) and each assembled animal is "
            "matched to a labeled individual; an untrained network assembles none: train longer.",
            *[s for s in _explain(results, image_width, n_test) if s.startswith(keep)],
        ]
    return _explain(results, image_width, n_test)


def _explain(
    results: Sequence[EvalResult], image_width: int | None, n_test: int | None
) -> list[str]:
    plain = per_epoch(results)
    r = plain[-1]
    out = []
    size = ""
    if image_width:
        size = f", {100 * r.test_rmse / image_width:.1f}% of the {image_width}-pixel image width"
    learned = not _not_learned(r.train_rmse, image_width)
    out.append(
        f"Test RMSE {r.test_rmse:.2f} px (epoch {r.epoch}): on labeled images the network did "
        f"not train on, its points lie on average {r.test_rmse:.1f} pixels from your labels"
        f"{size}. "
        + (
            "A few pixels is about as close as people label."
            if learned
            else "People label within a few pixels, so this is far off."
        )
    )
    ratio = r.test_rmse / r.train_rmse if r.train_rmse > 0 else math.nan
    if not learned:
        verdict = (
            "Even on its training images it is that far off: the network has not learned the "
            "body parts yet. Train for more epochs (and check that the labels are on the right "
            "parts) before judging how well it generalises."
        )
    elif ratio > 2:
        verdict = (
            "Test error is much higher: the network memorises its training images; more "
            "labeled frames, from more varied videos, will help more than more epochs."
        )
    else:
        verdict = "Train and test are close, so it generalises to new images of this kind."
    out.append(
        f"Train RMSE {r.train_rmse:.2f} px is the same on the images it trained on. " + verdict
    )
    if math.isnan(r.test_rmse_pcutoff):
        pc = (
            f"RMSE with p-cutoff counts only points predicted with confidence >= {r.pcutoff:g}; "
            "it is empty (NaN) here because no prediction was that confident yet: train longer."
        )
    else:
        pc = (
            f"RMSE with p-cutoff ({r.test_rmse_pcutoff:.2f} px on test) counts only points "
            f"predicted with confidence >= {r.pcutoff:g}, the ones kept when videos are "
            "analysed; "
            + (
                "lower than plain RMSE, so the network's confidence does flag its worst points."
                if r.test_rmse_pcutoff < r.test_rmse - 0.05
                else "the same as plain RMSE here: every test point was that confident."
            )
        )
    out.append(pc)
    out.append(
        f"mAP {r.test_map:.1f} and mAR {r.test_mar:.1f} (0-100, on test images) score whole "
        "poses: a point counts as right when it lies within a tolerance that grows with the "
        "animal's size. mAP (precision) asks how many of the predicted poses are right, mAR "
        "(recall) how many labeled poses were found."
        + (
            " Both are 0: no pose was within tolerance yet; train longer."
            if r.test_map == 0 and r.test_mar == 0
            else " mAR above mAP: it finds the animal, but some confident points are off."
            if r.test_mar > r.test_map + 2
            else ""
        )
    )
    if r.bodypart_test:
        worst = max(r.bodypart_test, key=lambda k: r.bodypart_test[k])
        best = min(r.bodypart_test, key=lambda k: r.bodypart_test[k])
        out.append(
            f"Hardest body part: {worst} ({r.bodypart_test[worst]:.1f} px on test); easiest: "
            f"{best} ({r.bodypart_test[best]:.1f} px). Label more frames where {worst} is "
            "hard to see."
        )
    if len(plain) >= 2:
        prev, last = plain[-2], plain[-1]
        drop = (prev.test_rmse - last.test_rmse) / prev.test_rmse if prev.test_rmse else 0.0
        if drop > 0.1:
            out.append(
                f"Test error still fell {100 * drop:.0f}% between epochs {prev.epoch} and "
                f"{last.epoch}: training has not converged, more epochs will likely help."
            )
        else:
            out.append(
                f"Test error changed {-100 * drop:+.0f}% between epochs {prev.epoch} and "
                f"{last.epoch}: it has levelled off; more epochs will not help much, more "
                "(and more varied) labels will."
            )
    if n_test is not None and n_test < 5:
        out.append(f"Only {n_test} test image(s): the test numbers are noisy; label more frames.")
    return out


def _test_rows(model: ModelRef) -> set[tuple]:
    """Row keys of the test images, from DeepLabCut's Documentation pickle of the shuffle.

    The row keys come from the dataset's CollectedData, read through the one safe reader
    (:func:`~napari_dlcflow.core.labels.collected.read_labels`)."""
    from napari_dlcflow.core.labels.collected import read_labels

    doc = model.documentation_pickle()
    if doc is None:
        return set()
    h5 = doc.parent / f"CollectedData_{model.project.scorer}.h5"
    # DeepLabCut's own file in this project (written by create_training_dataset).
    with open(doc, "rb") as fh:
        test_idx = pickle.load(fh)[2]
    images = read_labels(h5).images
    return {tuple(images[int(i)]) for i in test_idx}


def _truth(model: ModelRef) -> pd.DataFrame:
    """The project's labels (every ``labeled-data/*/CollectedData_<scorer>.h5``), read through
    :func:`~napari_dlcflow.core.labels.collected.read_labels`, as one DLC DataFrame."""
    import pandas as pd

    from napari_dlcflow.core.labels.collected import labels_to_dataframe, read_labels

    project = model.project
    files = sorted((project.root / "labeled-data").glob(f"*/CollectedData_{project.scorer}.h5"))
    frames = [labels_to_dataframe(read_labels(h5)) for h5 in files]
    return pd.concat(frames) if frames else pd.DataFrame()


def evaluation_frames(
    config: ModelSource,
    result: EvalResult,
    shuffle: int | None = None,
    trainset_index: int | None = None,
) -> EvalFrames:
    """Pair labels and predictions of ``result`` per labeled image, worst image first.

    ``config`` may be a :class:`~napari_dlcflow.core.engine.model_ref.ModelRef` (nothing
    resolved again); the project is opened once.

    Raises
    ------
    FileNotFoundError
        If the predictions file of the result is missing.
    """
    import pandas as pd

    from napari_dlcflow.core.engine.dataset import resolve_model

    if result.predictions is None or not Path(result.predictions).is_file():
        raise FileNotFoundError(f"no predictions file for {result.snapshot}")
    model = resolve_model(config, shuffle, trainset_index)
    project = model.project
    pred = pd.read_hdf(result.predictions)
    parts = list(project.bodyparts)
    truth = _truth(model)
    rows = [r for r in pred.index if r in truth.index]

    def coords(df: pd.DataFrame, coord: str) -> np.ndarray:
        levels = df.columns.names
        sub = df.xs(coord, axis=1, level=levels.index("coords"))
        by_part = sub.T.groupby(level="bodyparts", sort=False).first().T
        return by_part.reindex(columns=parts).loc[rows].to_numpy(dtype=float)

    t = np.stack([coords(truth, "x"), coords(truth, "y")], axis=-1)
    p = np.stack([coords(pred, "x"), coords(pred, "y")], axis=-1)
    lk = coords(pred, "likelihood")
    dist = np.linalg.norm(p - t, axis=-1)
    with np.errstate(invalid="ignore"):
        err = np.array([np.nanmean(d) if np.isfinite(d).any() else np.nan for d in dist])
    order = np.argsort(np.where(np.isnan(err), -np.inf, err))[::-1]
    tests = _test_rows(model)
    images = [project.root.joinpath(*r) for r in rows]
    return EvalFrames(
        images=[images[i] for i in order],
        bodyparts=parts,
        truth=t[order],
        predicted=p[order],
        likelihood=lk[order],
        errors=err[order],
        split=["test" if tuple(rows[i]) in tests else "train" for i in order],
    )


def test_count(
    config: ModelSource, shuffle: int | None = None, trainset_index: int | None = None
) -> int | None:
    """Number of test images of a shuffle (None when the dataset cannot be read).

    ``config`` may be a :class:`~napari_dlcflow.core.engine.model_ref.ModelRef`."""
    from napari_dlcflow.core.engine.dataset import resolve_model

    try:
        rows = _test_rows(resolve_model(config, shuffle, trainset_index))
    except (OSError, ValueError, KeyError, IndexError, pickle.UnpicklingError):
        return None
    return len(rows) or None


def latest_frames(config: ModelSource) -> EvalFrames | None:
    """The newest evaluated snapshot's predictions beside the labels, or None.

    What label QC compares the labels with (``check_labels(..., evaluation=...)``): the
    project's last dataset's model (resolved once). None when no snapshot was evaluated or its
    files cannot be read: QC then runs without the model.
    """
    from napari_dlcflow.core.engine.dataset import resolve_model

    try:
        model = resolve_model(config, None, None)
        results = [r for r in read_results(model) if r.predictions is not None]
        if not results:
            return None
        frames = evaluation_frames(model, results[-1])
    except (OSError, ValueError, KeyError, IndexError):
        return None
    frames.snapshot = results[-1].snapshot
    return frames
