"""Each workflow step's live status, read from the project on disk, and the step to do next.

The rules, in loop order (the first that applies names the next step):

1. no project open: *project*;
2. no videos and no extracted frames: *videos*;
3. no extracted frames: *labeling* (extract frames);
4. machine labels waiting for review, or extracted frames without labels: *labeling*;
5. no training dataset of the current iteration, or labels saved after it was made: *dataset*;
6. a training job running, no snapshot yet, or no evaluation of the snapshots: *training*;
7. videos without a complete analysis: *analysis*;
8. a multi-animal project with tracked videos whose tracks have no edit log (never proofread):
   *proofread*;
9. otherwise: *refine* (outlier frames, then the next iteration).
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from napari_dlcflow.core.video.source import parse_source_key

__all__ = ["STEPS", "StepStatus", "WorkflowStatus", "workflow_status"]

#: Step keys in loop order, with the titles the workflow dock shows.
STEPS: tuple[tuple[str, str], ...] = (
    ("project", "Project"),
    ("videos", "Videos and preprocessing"),
    ("labeling", "Labeling"),
    ("dataset", "Dataset"),
    ("training", "Training and evaluation"),
    ("analysis", "Analysis and overlay"),
    ("plots", "Plots"),
    ("proofread", "Identity proofreading"),
    ("refine", "Refinement"),
)


@dataclass(frozen=True)
class StepStatus:
    """One step's status line.

    Attributes
    ----------
    key, title : str
        One of :data:`STEPS`.
    state : {"done", "partial", "running", "todo", "problem"}
        ``partial``: begun but not complete (e.g. 3 of 53 videos analysed).
    summary : str
        Short text for the step's header, e.g. ``"86 of 90 frames, 17 body parts"``.
    """

    key: str
    title: str
    state: str
    summary: str

    @property
    def header(self) -> str:
        """``"<title>: <summary>"``."""
        return f"{self.title}: {self.summary}"


@dataclass(frozen=True)
class WorkflowStatus:
    """Every step's status and the step that should come next, with one sentence why."""

    steps: tuple[StepStatus, ...]
    next_step: str
    reason: str
    facts: dict[str, Any] = field(default_factory=dict)

    def step(self, key: str) -> StepStatus:
        """The status of step ``key``."""
        for s in self.steps:
            if s.key == key:
                return s
        raise KeyError(key)


def _plural(n: int, word: str) -> str:
    return f"{n} {word}{'' if n == 1 else 's'}"


def _labeling_facts(project: Any) -> dict[str, Any]:
    from napari_dlcflow.core.labels.collected import LabelsError, folder_images, load_folder

    extracted = labeled = 0
    unreadable: list[str] = []
    newest_labels = 0.0
    base = project.root / "labeled-data"
    for folder in sorted(p for p in base.iterdir() if p.is_dir()) if base.is_dir() else []:
        names = {p.name for p in folder_images(folder)}
        extracted += len(names)
        try:
            labels = load_folder(folder, project.scorer) or load_folder(folder)
        except (LabelsError, OSError) as exc:
            unreadable.append(f"{folder.name}: {exc}")
            continue
        if labels is None:
            continue
        if labels.source is not None and labels.source.exists():
            newest_labels = max(newest_labels, labels.source.stat().st_mtime)
        import numpy as np

        has_point = ~np.isnan(labels.xy).all(axis=(1, 2))
        labeled += sum(
            1 for row, ok in zip(labels.images, has_point, strict=True) if ok and row[-1] in names
        )
    return {
        "extracted": extracted,
        "labeled": labeled,
        "unreadable": unreadable,
        "newest_labels": newest_labels,
    }


def _dataset_file(project: Any) -> Path | None:
    from napari_dlcflow.core.engine.model_ref import DATASETS_FOLDER, iteration_folder

    folder = iteration_folder(project.root, DATASETS_FOLDER, project.iteration)
    if not folder.is_dir():
        return None
    files = sorted(folder.glob("UnaugmentedDataSet_*/CollectedData_*.h5"))
    return files[0] if files else None


def _training_facts(project: Any) -> dict[str, Any]:
    from napari_dlcflow.core.engine.model_ref import shuffle_folders
    from napari_dlcflow.core.engine.training import find_job, list_snapshots

    folders = shuffle_folders(project.root, project.iteration)
    shuffles = [f / "train" for f in folders if (f / "train").is_dir()]
    snapshots = 0
    running: dict[str, Any] | None = None
    for train in shuffles:
        snapshots += len(list_snapshots(train))
        job = find_job(train)
        if job is None or running is not None:
            continue
        try:
            status = job.status()
            if not status.done:
                progress = job.progress()
                running = {
                    "shuffle": train.parent.name,
                    "epoch": progress.epoch,
                    "epochs": int(job.spec.epochs),
                    "test_rmse": _last_test_rmse(progress.epochs),
                }
        except (OSError, ValueError, KeyError):
            continue
    return {"shuffles": len(shuffles), "snapshots": snapshots, "running": running}


def _last_test_rmse(epochs: list[dict[str, Any]]) -> float | None:
    for e in reversed(epochs):
        value = (e.get("metrics") or {}).get("test.rmse")
        if value is not None:
            return float(value)
    return None


def _analysis_facts(project: Any) -> dict[str, Any]:
    from napari_dlcflow.core.engine.analysis import video_status
    from napari_dlcflow.core.predictions.analysis_files import find_analysis_files

    videos = [Path(v) for v in project.videos]
    done = 0
    for video in videos:
        for h5 in find_analysis_files(video) if video.parent.is_dir() else []:
            scorer = h5.stem[len(video.stem) :]
            if video_status(video, scorer) == "done":
                done += 1
                break
    return {"videos": len(videos), "analysed": done}


def _proofread_facts(project: Any) -> dict[str, Any]:
    """Tracked files of the project's videos (DeepLabCut's ``_el/_bx/_sk.h5``) and how many
    have an edit log beside them (:func:`~napari_dlcflow.core.proofread.edits_path`)."""
    from napari_dlcflow.core.predictions.analysis_files import find_analysis_files, tracker_of
    from napari_dlcflow.core.proofread import edits_path

    tracked = proofread = 0
    for video in (Path(v) for v in project.videos):
        if not video.parent.is_dir():
            continue
        mine = [h5 for h5 in find_analysis_files(video) if tracker_of(h5) is not None]
        if mine:
            tracked += 1
            proofread += any(edits_path(h5).is_file() for h5 in mine)
    return {"tracked": tracked, "proofread": proofread}


def workflow_status(project: Any | str | os.PathLike | None) -> WorkflowStatus:
    """Read where ``project`` stands in the loop.

    Parameters
    ----------
    project : Project, path-like or None
        The open project (or its ``config.yaml`` / folder); None when no project is open.

    Returns
    -------
    WorkflowStatus
        One :class:`StepStatus` per entry of :data:`STEPS`, the next step and why.
    """
    titles = dict(STEPS)
    if project is None:
        steps = tuple(
            StepStatus(k, t, "todo", "none open" if k == "project" else "open a project first")
            for k, t in STEPS
        )
        return WorkflowStatus(
            steps, "project", "Create a project, or open one (drop its folder on napari)."
        )
    from napari_dlcflow.core.project.config import Project

    if not isinstance(project, Project):
        project = Project.open(project)

    from napari_dlcflow.core.refine.iteration import iteration_history, pending_machine_labels

    lab = _labeling_facts(project)
    train = _training_facts(project)
    ana = _analysis_facts(project)
    pending = sum(pending_machine_labels(project).values())
    history = {it.iteration: it for it in iteration_history(project)}
    current = history.get(project.iteration)
    dataset = _dataset_file(project)
    n_parts = len(project.all_bodyparts)
    n_videos = len(project.videos)
    # a channel of a microscopy file is a key under the file (core/video/source.py)
    missing_videos = [v for v in project.videos if not parse_source_key(v).path.exists()]

    s: dict[str, StepStatus] = {}

    def put(key: str, state: str, summary: str) -> None:
        s[key] = StepStatus(key, titles[key], state, summary)

    put("project", "done", f"{project.task}, {_plural(n_parts, 'body part')}")
    vsum = _plural(n_videos, "video") if n_videos else "no videos yet"
    if missing_videos:
        vsum += f", {len(missing_videos)} not found"
    put("videos", "problem" if missing_videos else ("done" if n_videos else "todo"), vsum)

    ext, labeled = lab["extracted"], lab["labeled"]
    lsum = f"{labeled} of {_plural(ext, 'frame')}, {_plural(n_parts, 'body part')}"
    if pending:
        lsum += f", {pending} to review"
    if lab["unreadable"]:
        lsum += f", {len(lab['unreadable'])} unreadable label file(s)"
    lstate = (
        "problem"
        if lab["unreadable"]
        else ("todo" if ext == 0 else ("done" if labeled >= ext and not pending else "partial"))
    )
    put("labeling", lstate, lsum if ext else "no frames extracted yet")

    stale = dataset is not None and lab["newest_labels"] > dataset.stat().st_mtime
    if dataset is None:
        put("dataset", "todo", f"none for iteration {project.iteration} yet")
    else:
        rows = current.labeled_frames if current is not None else None
        text = f"{rows} frames" if rows is not None else "made"
        put(
            "dataset",
            "partial" if stale else "done",
            text + (", labels changed since" if stale else ""),
        )

    running = train["running"]
    test = current.test_error if current is not None else None
    trained = current.train_error if current is not None else None
    if running is not None:
        tsum = f"epoch {running['epoch']}/{running['epochs']}"
        if running["test_rmse"] is not None:
            tsum += f", test {running['test_rmse']:.1f} px"
        put("training", "running", tsum)
    elif train["snapshots"]:
        tsum = _plural(train["snapshots"], "snapshot")
        if test is not None:
            tsum += f", test {test:.1f} px / train {trained:.1f} px"
        else:
            tsum += ", not evaluated"
        put("training", "done" if test is not None else "partial", tsum)
    else:
        put("training", "todo", "no model yet")

    n_an, n_v = ana["analysed"], ana["videos"]
    put(
        "analysis",
        "done" if n_v and n_an == n_v else ("partial" if n_an else "todo"),
        f"{n_an} of {_plural(n_v, 'video')}",
    )
    put(
        "plots",
        "done" if n_an else "todo",
        f"{_plural(n_an, 'analysed video')} to plot" if n_an else "analyse a video first",
    )
    proof = _proofread_facts(project) if project.multianimal else {"tracked": 0, "proofread": 0}
    n_tr, n_pr = proof["tracked"], proof["proofread"]
    if not project.multianimal:
        put("proofread", "done", "one animal: no identities to proofread")
    else:
        put(
            "proofread",
            "done" if n_tr and n_pr == n_tr else ("partial" if n_pr else "todo"),
            f"{n_pr} of {_plural(n_tr, 'tracked video')} proofread"
            if n_tr
            else "track a video first",
        )
    rsum = f"iteration {project.iteration}"
    if current is not None and current.machine_label_frames:
        rsum += f", {_plural(current.machine_label_frames, 'machine-labeled frame')}"
    put("refine", "todo", rsum)

    # the next step: the first rule that applies (module docstring)
    if n_videos == 0 and ext == 0:
        nxt, why = "videos", "Add the videos you want to track (crop or enhance them if needed)."
    elif ext == 0:
        nxt, why = "labeling", "Extract frames from your videos to label."
    elif pending:
        nxt, why = "labeling", f"{_plural(pending, 'frame')} with predictions wait for review."
    elif labeled < ext:
        nxt = "labeling"
        why = f"{ext - labeled} of {_plural(ext, 'extracted frame')} have no labels yet."
    elif dataset is None:
        nxt, why = "dataset", "The labels are ready: make the training dataset."
    elif stale:
        nxt, why = "dataset", "Labels were saved after the dataset was made: make it again."
    elif running is not None:
        nxt = "training"
        why = f"Training is running (epoch {running['epoch']} of {running['epochs']})."
    elif not train["snapshots"]:
        nxt, why = "training", "The dataset is ready: train a model."
    elif test is None:
        nxt, why = "training", "Evaluate the trained model to see its error in pixels."
    elif n_an < n_v:
        nxt, why = "analysis", f"{n_v - n_an} of {_plural(n_v, 'video')} are not analysed yet."
    elif n_pr < n_tr:
        nxt = "proofread"
        why = (
            f"{n_tr - n_pr} of {_plural(n_tr, 'tracked video')} not proofread: check where "
            "identities swap and fix them."
        )
    else:
        nxt, why = "refine", "Every video is analysed: find outlier frames, correct them, retrain."
    facts = {
        "labeling": lab,
        "training": train,
        "analysis": ana,
        "pending": pending,
        "proofread": proof,
    }
    return WorkflowStatus(tuple(s[k] for k, _ in STEPS), nxt, why, facts)
