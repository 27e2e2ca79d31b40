"""The workflow as functions for scripts and notebooks: ``import napari_dlcflow as dlcflow``.

Names follow DeepLabCut's where the function does the same thing (``create_new_project``,
``extract_frames``, ``create_training_dataset``, ``train_network``, ``evaluate_network``,
``analyze_videos``, ``filterpredictions``, ``create_labeled_video``,
``extract_outlier_frames``); options and defaults are the command line's (a test compares each
default with the parser's), and errors are the same exceptions the command line reports.
Everything heavy is imported inside the functions; DeepLabCut itself runs in child processes.

Examples
--------
>>> import napari_dlcflow as dlcflow                                    # doctest: +SKIP
>>> config = dlcflow.create_new_project("reach", "alice", ["mouse1.mp4"], "~/projects")
>>> dlcflow.extract_frames(config, n=20)                                 # doctest: +SKIP
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

__all__ = [
    "analyze_videos",
    "check_labels",
    "create_labeled_video",
    "create_new_project",
    "create_training_dataset",
    "evaluate_network",
    "extract_frames",
    "extract_outlier_frames",
    "filterpredictions",
    "import_labels",
    "next_iteration",
    "train_network",
]

PathLike = str | os.PathLike


def _config(config: PathLike) -> Path:
    from napari_dlcflow.core.project.config import find_config

    return find_config(Path(config).expanduser())


def create_new_project(
    project: str,
    experimenter: str,
    videos: Sequence[PathLike],
    working_directory: PathLike = ".",
    *,
    copy_videos: bool = False,
    multianimal: bool = False,
    bodyparts: Sequence[str] | None = None,
) -> Path:
    """Create a DeepLabCut project (CLI: ``create-project``); returns its ``config.yaml``.

    Parameters
    ----------
    project, experimenter : str
        The task name and the scorer, as in DeepLabCut.
    videos : sequence of path-like
        Videos to add (linked, or copied with ``copy_videos``).
    working_directory : path-like
        Where the project folder ``<project>-<experimenter>-<date>`` is made.
    multianimal : bool
        A multi-animal project.
    bodyparts : sequence of str, optional
        Body part names (default: DeepLabCut's template).
    """
    from napari_dlcflow.core.project.create import create_project

    made = create_project(
        project,
        experimenter,
        [Path(v).expanduser() for v in videos],
        Path(working_directory).expanduser(),
        copy_videos=copy_videos,
        multianimal=multianimal,
        bodyparts=list(bodyparts) if bodyparts else None,
    )
    return made.config_path


def extract_frames(
    config: PathLike,
    videos: Sequence[PathLike] | None = None,
    *,
    method: str = "uniform",
    n: int | None = None,
    crop: bool = False,
    seed: int = 0,
) -> list[Any]:
    """Extract frames to label (CLI: ``extract-frames``), frame-exactly, with DeepLabCut's names.

    Parameters
    ----------
    config : path-like
        The project's ``config.yaml`` or folder.
    videos : sequence of path-like, optional
        Default: every video of ``video_sets``.
    method : {"uniform", "kmeans"}
    n : int, optional
        Frames per video (default: the config's ``numframes2pick``).
    crop : bool
        Apply the ``video_sets`` crop.
    seed : int
        k-means seed.

    Returns
    -------
    list of ExtractResult
        One per video: the images written, those already there, frames never decoded.
    """
    from napari_dlcflow.core.project.config import Project
    from napari_dlcflow.core.video.extract import extract_for_project

    project = Project.open(_config(config))
    return extract_for_project(
        project,
        [str(v) for v in videos] if videos else None,
        method=method,
        n=n,
        use_crop=crop,
        seed=seed,
    )


def import_labels(
    source: PathLike,
    config: PathLike | None = None,
    *,
    new_project: tuple[str, str, PathLike] | None = None,
    format: str | None = None,
    rename: dict[str, str] | None = None,
    folder: str | None = None,
    frames: Sequence[int] | None = None,
    drop_unknown: bool = False,
    skip_missing: bool = False,
    overwrite: bool = False,
) -> Any:
    """Import labels of another tool into a project (CLI: ``import-labels``).

    Parameters
    ----------
    source : path-like
        COCO ``.json``, SLEAP ``.slp``, DeepLabCut or Lightning Pose CSV/h5, or a folder of
        per-image CSV files.
    config : path-like, optional
        The project to import into; or give ``new_project=(task, scorer, folder)`` to make one
        from the file's body parts and skeleton.
    format, rename, folder, frames, drop_unknown, skip_missing, overwrite
        As the command line's options of the same names.

    Returns
    -------
    ImportResult
        Images written, points imported, folders and ``video_sets`` entries added.

    Raises
    ------
    ValueError
        When the preview finds a blocking problem (unknown body parts, missing images, ...):
        nothing is written then; the message is the preview's summary.
    """
    from napari_dlcflow.core.formats import read_foreign
    from napari_dlcflow.core.formats.importing import (
        ImportOptions,
        new_project_for,
        preview_import,
    )
    from napari_dlcflow.core.formats.importing import import_labels as run_import
    from napari_dlcflow.core.project.config import Project

    opts = ImportOptions(
        format=format,
        rename=dict(rename or {}),
        folder=folder,
        frames=list(frames) if frames is not None else None,
        drop_unknown=drop_unknown,
        skip_missing=skip_missing,
        overwrite=overwrite,
    )
    if new_project is not None:
        task, scorer, where = new_project
        kw = (
            {"frames": list(frames)}
            if frames is not None and (format == "sleap" or str(source).endswith(".slp"))
            else {}
        )
        foreign = read_foreign(source, format, **kw)
        project = new_project_for(
            foreign, task, scorer, Path(where).expanduser(), rename=opts.rename
        )
    elif config is not None:
        project = Project.open(_config(config))
    else:
        raise ValueError("give config=, or new_project=(task, scorer, folder)")
    preview = preview_import(source, project, opts)
    if not preview.ok:
        raise ValueError(preview.summary())
    return run_import(source, project, opts)


def check_labels(config: PathLike, kinds: Sequence[str] | None = None) -> list[Any]:
    """Likely labeling mistakes in every labeled-data folder (CLI: ``check-labels``).

    Returns
    -------
    list of Finding
        Kind, severity (``"mistake"`` or ``"note"``), folder, image, body parts, score, a
        one-line reason and a one-sentence why; likely mistakes first, most likely first.
    """
    from napari_dlcflow.core.engine.evaluation import latest_frames
    from napari_dlcflow.core.labels.qc import check_labels as run_check
    from napari_dlcflow.core.project.config import Project

    project = Project.open(_config(config))
    return run_check(
        project,
        kinds=list(kinds) if kinds else None,
        evaluation=latest_frames(project.config_path),
    )


def create_training_dataset(
    config: PathLike,
    *,
    train_fraction: float = 0.95,
    num_shuffles: int = 1,
    first_shuffle: int = 1,
    net_type: str | None = None,
    augmentation: str = "default",
    seed: int = 42,
) -> Any:
    """Validate the labels, then create DeepLabCut's training dataset (CLI: ``create-dataset``).

    Train, evaluate and analyze then use the shuffle this made by default.

    Returns
    -------
    DatasetSummary
        Shuffles made with their train/test images.

    Raises
    ------
    DatasetBlockedError
        When the validation report has a blocking problem (its ``report`` says which).
    """
    from napari_dlcflow.core.engine.dataset import DatasetSpec, create_datasets

    spec = DatasetSpec(
        train_fraction=train_fraction,
        num_shuffles=num_shuffles,
        first_shuffle=first_shuffle,
        net_type=net_type,
        augmentation=augmentation,
        seed=seed,
    )
    return create_datasets(_config(config), spec)


def train_network(
    config: PathLike,
    shuffle: int | None = None,
    trainset_index: int | None = None,
    *,
    epochs: int | None = None,
    batch_size: int = 8,
    lr: float | None = None,
    save_epochs: int = 25,
    eval_interval: int = 10,
    device: str = "auto",
    gpus: Sequence[int] | None = None,
    weights: str = "auto",
    offline: bool = False,
    backbone: str | None = None,
    crop_size: int | None = None,
    wait: bool = True,
    on_epoch: Callable[[dict[str, Any]], None] | None = None,
) -> Any:
    """Train a network in a background job (CLI: ``train``).

    The job survives the script (it is detached); with ``wait`` this waits for it to end.

    Parameters
    ----------
    shuffle, trainset_index : int, optional
        Default: those of the last dataset creation.
    epochs : int, optional
        Total epochs (default: 200).
    weights : {"auto", "pretrained", "scratch"}
        ImageNet weights (downloaded once) or random ones; ``auto`` (the default): pretrained
        when cached or downloadable now, else from scratch, said as a ``UserWarning`` before
        the job starts (:func:`napari_dlcflow.core.engine.weights.choose_weights_in_child`, as the
        command line). ``offline`` never downloads.
    wait : bool
        Wait for the job to end and return its status; else return the running job.
    on_epoch : callable, optional
        Called with each finished epoch's record while waiting.

    Returns
    -------
    JobStatus or TrainingJob
    """
    from napari_dlcflow.core.engine.dataset import resolve_model
    from napari_dlcflow.core.engine.training import TrainSpec, start_training
    from napari_dlcflow.core.engine.weights import choose_weights_in_child

    cfg = _config(config)
    model = resolve_model(cfg, shuffle, trainset_index)
    folder = model.find_train_folder()
    weights, note = choose_weights_in_child(
        folder / "pytorch_config.yaml", weights, backbone=backbone, offline=offline
    )
    if note:
        import warnings

        warnings.warn(note, UserWarning, stacklevel=2)
    spec = TrainSpec(
        config=str(cfg),
        shuffle=model.shuffle,
        trainset_index=model.trainset_index,
        epochs=epochs or 200,
        batch_size=batch_size,
        learning_rate=lr,
        save_epochs=save_epochs,
        eval_interval=eval_interval,
        device=device,
        gpus=list(gpus) if gpus else None,
        weights=weights,
        offline=offline,
        backbone=backbone,
        crop_size=crop_size,
    )
    job = start_training(spec, train_folder=folder, model=model)
    if not wait:
        return job
    if on_epoch is None:
        return job.wait()
    import time

    seen = 0
    while True:
        status = job.status()
        for e in job.progress().epochs[seen:]:
            on_epoch(e)
            seen += 1
        if status.done:
            return status
        time.sleep(1.0)


def evaluate_network(
    config: PathLike,
    shuffle: int | None = None,
    trainset_index: int | None = None,
    *,
    snapshots: Sequence[int] | None = None,
    device: str = "auto",
) -> list[Any]:
    """Evaluate snapshots with DeepLabCut (CLI: ``evaluate``), in a child process.

    Returns
    -------
    list of EvalResult
        Per snapshot: train and test RMSE (also with p-cutoff), mAP, mAR, per body part.
    """
    from napari_dlcflow.core.engine.dataset import resolve_model
    from napari_dlcflow.core.engine.evaluation import evaluate

    model = resolve_model(_config(config), shuffle, trainset_index)
    return evaluate(model, epochs=list(snapshots) if snapshots else None, device=device)


def analyze_videos(
    config: PathLike,
    videos: Sequence[PathLike],
    shuffle: int | None = None,
    trainset_index: int | None = None,
    *,
    snapshot: int | str | None = None,
    device: str | None = None,
    batch_size: int | None = None,
    save_as_csv: bool = False,
    destfolder: PathLike | None = None,
    cropping: Sequence[int] | None = None,
    engine: str = "dlcflow",
    fast: bool = False,
    on_event: Callable[[dict[str, Any]], None] | None = None,
) -> Any:
    """Analyze videos with a trained model (CLI: ``analyze``), resumable.

    ``engine="dlcflow"`` (default) runs our pipeline over DeepLabCut's model (the same
    predictions, see ``docs/analysis-engine.md``); ``"dlc"`` runs DeepLabCut's own loop.
    ``fast`` opts into half precision and reports how far it moves the predictions.

    Complete outputs are skipped, partial ones redone; DeepLabCut's analysis h5 is written
    beside each video (or in ``destfolder``).

    Returns
    -------
    AnalysisResult
        The outputs per video.

    Raises
    ------
    RuntimeError
        When a video could not be analysed (the message says which and why).
    """
    from napari_dlcflow.core.engine.analysis import AnalysisSpec, analyze

    if cropping is not None and len(cropping) != 4:
        raise ValueError("cropping needs four numbers: x1, x2, y1, y2")
    spec = AnalysisSpec(
        config=str(_config(config)),
        videos=[str(Path(v).expanduser()) for v in videos],
        shuffle=shuffle,
        trainset_index=trainset_index,
        snapshot_index=snapshot,
        device=device,
        batch_size=batch_size,
        save_as_csv=save_as_csv,
        destfolder=None if destfolder is None else str(destfolder),
        cropping=None if cropping is None else [int(c) for c in cropping],
        engine=engine,
        fast=fast,
    )
    result = analyze(spec, on_event=on_event)
    if not result.ok:
        raise RuntimeError(result.message)
    return result


def filterpredictions(
    analysis: PathLike | Sequence[PathLike],
    method: str = "median",
    *,
    window: int = 5,
    polyorder: int = 2,
    pcutoff: float = 0.6,
    max_gap: int = 5,
    save_as_csv: bool = False,
) -> list[Path]:
    """Filter analysis files into DeepLabCut's ``_filtered.h5`` (CLI: ``filter``).

    Parameters
    ----------
    analysis : path-like or sequence of path-like
        Raw analysis ``.h5`` files.
    method : {"median", "savgol", "interpolate", "arima"}

    Returns
    -------
    list of Path
        The filtered files.
    """
    from napari_dlcflow.core.predictions.filtering import filter_file

    files = [analysis] if isinstance(analysis, (str, os.PathLike)) else list(analysis)
    params: dict[str, Any] = {}
    if method in ("median", "savgol"):
        params["window"] = window
    if method == "savgol":
        params["polyorder"] = polyorder
    if method == "interpolate":
        params["pcutoff"] = pcutoff
        params["max_gap"] = max_gap
    return [Path(filter_file(f, method, csv=save_as_csv, **params)) for f in files]


def create_labeled_video(
    video: PathLike,
    analysis: PathLike | None = None,
    *,
    config: PathLike | None = None,
    filtered: bool = False,
    pcutoff: float | None = None,
    trail: int = 0,
    skeleton: bool = True,
    codec: str = "libx264",
    crf: int = 23,
    out: PathLike | None = None,
) -> Path:
    """Render the video with its predictions drawn on (CLI: ``labeled-video``).

    Colours are the project's (the same as in napari), the skeleton and p-cutoff the config's.

    Returns
    -------
    Path
        The labeled video.
    """
    from napari_dlcflow.core.layers.labeled_video import render_labeled_video
    from napari_dlcflow.core.layers.style import display_settings
    from napari_dlcflow.core.predictions.analysis_files import find_analysis_files

    v = Path(video).expanduser()
    file = Path(analysis) if analysis is not None else None
    if file is None:
        found = find_analysis_files(v, filtered=filtered)
        if not found:
            kind = "filtered analysis" if filtered else "analysis"
            raise FileNotFoundError(f"no {kind} file for {v} beside it; give analysis=")
        file = found[0]
    shown = display_settings(config or file)
    edges, cutoff = shown.skeleton, shown.pcutoff
    return Path(
        render_labeled_video(
            v,
            file,
            out,
            pcutoff=pcutoff if pcutoff is not None else (cutoff or 0.6),
            skeleton=edges if skeleton else [],
            trail_length=trail,
            codec=codec,
            crf=crf,
        )
    )


def extract_outlier_frames(
    config: PathLike,
    videos: Sequence[PathLike] | None = None,
    *,
    analysis: PathLike | None = None,
    criteria: Sequence[str] = ("jump",),
    frames: Sequence[int] | None = None,
    epsilon: float = 20.0,
    p_bound: float = 0.01,
    fit: str = "median",
    window: int = 9,
    bodyparts: Sequence[str] | None = None,
    n: int | None = None,
    selection: str = "kmeans",
    crop: bool = False,
    seed: int = 0,
) -> list[Any]:
    """Find frames where the model is likely wrong and extract them (CLI: ``extract-outliers``).

    The frames are written frame-exactly with DeepLabCut's names, with the model's predictions
    as ``machinelabels-iter<N>.h5`` to correct in the Labeling dock.

    Returns
    -------
    list of OutlierResult
        One per video.
    """
    from napari_dlcflow.core.project.config import Project
    from napari_dlcflow.core.refine.outliers import OutlierSpec, extract_outliers

    project = Project.open(_config(config))
    crit = tuple(criteria)
    if frames and "manual" not in crit:
        crit = (*crit, "manual")
    spec = OutlierSpec(
        criteria=crit,
        epsilon=epsilon,
        p_bound=p_bound,
        fit=fit,
        window=window,
        bodyparts=tuple(bodyparts) if bodyparts else None,
        frames=tuple(int(f) for f in frames or ()),
        n=n if n is not None else int(project.get("numframes2pick") or 20),
        selection=selection,
        use_crop=crop,
        seed=seed,
    )
    chosen = [str(v) for v in videos] if videos else list(project.videos)
    if analysis is not None and len(chosen) != 1:
        raise ValueError("analysis= names one file: give exactly one video with it")
    return [extract_outliers(project, v, spec, analysis=analysis) for v in chosen]


def next_iteration(
    config: PathLike,
    *,
    accept_pending: bool = False,
    create_dataset: bool = True,
    shuffle: int = 1,
    net_type: str | None = None,
) -> Any:
    """Merge corrected labels, bump ``iteration`` and make its dataset (CLI: ``next-iteration``).

    Train the new iteration with :func:`train_network`, or from the previous best snapshot
    (the returned ``init_snapshot``) with ``core.refine.iteration.next_train_spec``.

    Raises
    ------
    MachineLabelsPendingError
        While machine labels wait for review (unless ``accept_pending``).
    """
    from napari_dlcflow.core.project.config import Project
    from napari_dlcflow.core.refine.iteration import next_iteration as run_next

    return run_next(
        Project.open(_config(config)),
        accept_pending=accept_pending,
        create=create_dataset,
        shuffle=shuffle,
        net_type=net_type,
    )
