"""The demo's refine-and-retrain iteration on the synthetic example.

Outlier frames are extracted from the first analysis, their machine labels are corrected from
the ground truth (standing in for a person in the Labeling dock), merged into CollectedData,
and the next iteration is trained from the previous best snapshot, then analysed again.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import numpy as np


def _say(n: int, text: str) -> float:
    print(f"[{n}] {text}", flush=True)
    return time.perf_counter()


def _median_error(pred: Any, keypoints: np.ndarray) -> float:
    err = np.linalg.norm(pred.data[:, :, :2] - keypoints[pred.frames], axis=-1)
    return float(np.nanmedian(err))


def refine_once(
    project: Any, video: str, keypoints: np.ndarray, predictions: Any, epochs: int, n: int = 10
) -> Any:
    """One refinement iteration; returns the new predictions, or None if a step failed.

    A second run finds iteration 1 trained and only re-reads its analysis.
    """
    from napari_dlcflow.core.engine.analysis import AnalysisSpec, analyze
    from napari_dlcflow.core.engine.training import (
        list_snapshots,
        shuffle_train_folder,
        start_training,
    )
    from napari_dlcflow.core.labels.changes import summarize_changes
    from napari_dlcflow.core.labels.collected import load_folder, write_labels
    from napari_dlcflow.core.labels.machine import frame_index_of, read_machine_labels
    from napari_dlcflow.core.predictions.analysis_files import read_predictions
    from napari_dlcflow.core.project.config import Project
    from napari_dlcflow.core.refine.iteration import (
        accept_machine_labels,
        next_iteration,
        next_train_spec,
    )
    from napari_dlcflow.core.refine.outliers import OutlierSpec, extract_outliers

    before: float | None = _median_error(predictions, keypoints)
    if project.iteration == 0:
        t0 = _say(8, f"Refine: extract {n} outlier frames (jumps, deviation from the fit)")
        spec = OutlierSpec(criteria=("jump", "fitting"), epsilon=10.0, p_bound=0.1, n=n, seed=0)
        found = extract_outliers(project, video, spec)
        print(f"    {found.format()} ({time.perf_counter() - t0:.1f} s)")
        folder = found.folder
        machine = read_machine_labels(folder)
        if machine is not None:
            t0 = _say(9, "Correct the machine labels from the truth (standing in for you)")
            ground = load_folder(folder)
            fixed = machine.copy()
            for i, row in enumerate(fixed.images):
                fixed.xy[i] = keypoints[frame_index_of(row[-1])]
            merged, _ = accept_machine_labels(ground, fixed)
            changes = summarize_changes(ground, merged)
            write_labels(merged, folder, expected_stamp=ground.stamp)
            print(f"    {changes.format(0)} ({time.perf_counter() - t0:.1f} s)")
        t0 = _say(10, "Next iteration: bump iteration, new training dataset (DeepLabCut)")
        step = next_iteration(project)
        print("    " + step.format().replace("\n", "\n    "))
        print(f"    ({time.perf_counter() - t0:.1f} s)")
        project = Project.open(project.config_path)
        if step.init_snapshot is None:
            print("    no snapshot to start from")
            return None
        t0 = _say(11, f"Retrain from the previous best snapshot, {epochs} epochs")
        train = next_train_spec(project, step.init_snapshot)
        train.epochs = train.save_epochs = train.eval_interval = epochs
        job = start_training(train)
        status = job.wait()
        if status.state != "finished":
            print(f"    training {status.state}: {status.reason}")
            return None
        print(f"    done ({time.perf_counter() - t0:.1f} s)")
    else:
        folder = shuffle_train_folder(project.config_path, 1)
        if not list_snapshots(folder, check=True):
            print(f"    iteration {project.iteration} has no snapshot; skipping the refinement")
            return None
        _say(8, f"Refine: re-using iteration {project.iteration}")
        before = None
    t0 = _say(12, "Analyse the video with the new model and compare with the truth")
    out = Path(project.root) / "videos"
    result = analyze(
        AnalysisSpec(config=str(project.config_path), videos=[video], destfolder=str(out))
    )
    if not result.ok:
        print(f"    analysis failed: {result.message}")
        return None
    after = read_predictions(result.outputs[video])
    was = f"{before:.1f} px (iteration 0) -> " if before is not None else ""
    print(
        f"    median error against the truth: {was}"
        f"{_median_error(after, keypoints):.1f} px (iteration {project.iteration}) "
        f"({time.perf_counter() - t0:.1f} s)"
    )
    return after
