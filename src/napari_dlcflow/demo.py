"""``napari-dlcflow demo``: the workflow on the built-in synthetic example.

It grows with each capability of the plugin. Today it: writes the synthetic video and its truth,
creates a DeepLabCut project around it (body parts and skeleton of the synthetic animal), asks
DeepLabCut itself to validate the project in a child process, labels frames from the truth,
creates the training dataset, trains a tiny network from scratch (resnet18, CPU or GPU),
analyses the video with it, measures the error against the truth, runs one refine-and-retrain
iteration (outlier frames, their machine labels corrected from the truth, the next iteration
trained from the previous best snapshot, analysed again), and shows the video with the truth
and the predicted tracks overlaid and the Project dock in napari, saving a screenshot.
With a display the window stays open; without one it runs on a virtual display (Xvfb) and says
where the screenshot is. Every step re-uses what an earlier run left (a second run takes
seconds).
"""

from __future__ import annotations

import os
import shutil
import sys
import time
from pathlib import Path

SCREENSHOT = "demo-screenshot.png"
WINDOW_SCREENSHOT = "demo-window.png"
TASK, SCORER = "synthetic-animal", "dlcflow"
_XVFB_FLAG = "DLCFLOW_DEMO_UNDER_XVFB"


def _step(n: int, text: str) -> float:
    print(f"[{n}] {text}", flush=True)
    return time.perf_counter()


def _reexec_under_xvfb(argv: list[str]) -> int | None:
    """Run the demo again on a virtual display; None if that is not possible."""
    xvfb = shutil.which("xvfb-run")
    if xvfb is None or os.environ.get(_XVFB_FLAG):
        return None
    import subprocess

    env = dict(os.environ, **{_XVFB_FLAG: "1"})
    cmd = [
        xvfb,
        "-a",
        "-s",
        "-screen 0 1600x1000x24",
        sys.executable,
        "-m",
        "napari_dlcflow",
        "demo",
        *argv,
    ]
    return subprocess.call(cmd, env=env)


def _existing_project(out: Path) -> Path | None:
    found = sorted(out.glob(f"{TASK}-{SCORER}-*/config.yaml"))
    return found[-1] if found else None


def run_demo(
    out: Path,
    *,
    n_frames: int = 300,
    seed: int = 0,
    dlc_check: bool = True,
    headless: bool = False,
    epochs: int = 20,
    n_labeled: int = 60,
    refine_epochs: int = 10,
) -> int:
    """Run the demo; returns the exit status.

    Parameters
    ----------
    out : Path
        Folder for everything the demo makes (re-used on a second run).
    n_frames, seed : int
        Length and seed of the synthetic video.
    dlc_check : bool
        Ask DeepLabCut to validate the project (a child process, 10-30 s).
    headless : bool
        Never open a window, even with a display.
    epochs : int
        Training epochs of the tiny network; 0 skips labeling, training and analysis.
    n_labeled : int
        Frames labeled from the truth for training.
    refine_epochs : int
        Epochs of the refined iteration's training; 0 skips the refinement.
    """
    if not os.environ.get("DISPLAY") and not os.environ.get("WAYLAND_DISPLAY"):
        argv = [
            "--out",
            str(out),
            "--frames",
            str(n_frames),
            "--seed",
            str(seed),
            "--headless",
            "--epochs",
            str(epochs),
            "--labeled",
            str(n_labeled),
            "--refine-epochs",
            str(refine_epochs),
        ]
        if not dlc_check:
            argv.append("--no-dlc-check")
        code = _reexec_under_xvfb(argv)
        if code is not None:
            return code
        headless = True

    from napari_dlcflow.core.example.synthetic import (
        SyntheticSpec,
        read_truth,
        write_synthetic_example,
    )
    from napari_dlcflow.core.project.config import Project
    from napari_dlcflow.core.project.create import create_project

    out = out.resolve()
    out.mkdir(parents=True, exist_ok=True)
    t0 = _step(1, f"Synthetic example video ({n_frames} frames, seed {seed}) -> {out / 'example'}")
    spec = SyntheticSpec(n_frames=n_frames, seed=seed)
    files = write_synthetic_example(out / "example", spec)
    keypoints, bodyparts = read_truth(files.truth_csv)
    print(
        f"    {files.video.name}, {len(bodyparts)} body parts ({time.perf_counter() - t0:.1f} s)"
    )

    t0 = _step(2, "DeepLabCut project")
    existing = _existing_project(out)
    if existing is not None:
        project = Project.open(existing)
        print(f"    re-using {project.root}")
    else:
        from napari_dlcflow.core.example.synthetic import SKELETON

        project = create_project(
            TASK,
            SCORER,
            [files.video],
            out,
            copy_videos=True,
            bodyparts=bodyparts,
            skeleton=SKELETON,
        )
        print(f"    created {project.root} ({time.perf_counter() - t0:.1f} s)")

    if dlc_check:
        from napari_dlcflow.core.engine.dlc_check import check_config_in_child

        t0 = _step(3, "DeepLabCut validates config.yaml (child process)")
        verdict = check_config_in_child(project.config_path)
        print(
            f"    {'OK' if verdict.ok else 'REJECTED'}: {verdict.message} "
            f"({time.perf_counter() - t0:.1f} s)"
        )
        if not verdict.ok:
            return 1

    predictions = None
    if epochs > 0:
        predictions = _train_and_analyze(project, spec, keypoints, epochs, n_labeled)
        if predictions is None:
            return 1
        if refine_epochs > 0:
            from napari_dlcflow.demo_refine import refine_once

            # the dataset was made in a child, which may have added its training fraction to
            # config.yaml: the project read before it is stale
            project = Project.open(project.config_path)
            video = next(iter(project.videos))
            predictions = refine_once(project, video, keypoints, predictions, refine_epochs)
            if predictions is None:
                return 1
            project = Project.open(project.config_path)

    t0 = _step(13, "napari: video, ground truth, predicted tracks, Project dock")
    shot = _show(
        project, files.video, keypoints, bodyparts, out, headless=headless, predictions=predictions
    )
    print(f"    screenshot: {shot} ({time.perf_counter() - t0:.1f} s)")
    print(f"\nDone. Project: {project.config_path}\nScreenshot: {shot}")
    return 0


def _train_and_analyze(project, spec, keypoints, epochs: int, n_labeled: int):  # type: ignore[no-untyped-def]
    """Label from truth, dataset, tiny training, analysis; returns the predictions or None."""
    import numpy as np

    from napari_dlcflow.core.engine.analysis import AnalysisSpec, analyze
    from napari_dlcflow.core.engine.dataset import DatasetSpec, create_datasets
    from napari_dlcflow.core.engine.training import (
        TrainSpec,
        list_snapshots,
        shuffle_train_folder,
        start_training,
    )
    from napari_dlcflow.core.example.truth_labels import label_from_truth
    from napari_dlcflow.core.predictions.analysis_files import read_predictions

    config = project.config_path
    stem = next(iter(project.videos)).rsplit("/", 1)[-1].rsplit(".", 1)[0]
    n_labeled = min(n_labeled, spec.n_frames)
    t0 = _step(4, f"Label {n_labeled} frames from the ground truth")
    if not list((project.root / "labeled-data" / stem).glob("CollectedData_*.h5")):
        label_from_truth(project, spec, video_stem=stem, n_labeled=n_labeled)
    print(f"    {project.root / 'labeled-data' / stem} ({time.perf_counter() - t0:.1f} s)")

    try:
        folder = shuffle_train_folder(config, 1)
    except FileNotFoundError:
        t0 = _step(5, "Training dataset (DeepLabCut, child process)")
        made = create_datasets(config, DatasetSpec(net_type="resnet_50")).shuffles[0]
        print(
            f"    {made['n_train']} train / {made['n_test']} test frames "
            f"({time.perf_counter() - t0:.1f} s)"
        )
        folder = shuffle_train_folder(config, 1)
    else:
        _step(5, "Training dataset: re-using shuffle 1")

    if not list_snapshots(folder, check=True):
        from napari_dlcflow.info import gpu_summary

        t0 = _step(6, f"Train a tiny network from scratch, {epochs} epochs ({gpu_summary()})")
        job = start_training(
            TrainSpec(
                config=str(config),
                epochs=epochs,
                batch_size=8,
                save_epochs=epochs,
                eval_interval=epochs,
                device="auto",
                weights="scratch",
                offline=True,
                backbone="resnet18",
                crop_size=128,
            )
        )
        shown = 0
        while not (status := job.status()).done:
            for e in job.progress().epochs[shown:]:
                loss = e.get("train_loss")
                print(
                    f"    epoch {e['epoch']}: train loss "
                    + (f"{loss:.4f}" if isinstance(loss, (int, float)) else "n/a")
                )
            shown = len(job.progress().epochs)
            time.sleep(1.0)
        if status.state != "finished":
            print(
                f"    training {status.state}: {status.reason}\n    "
                + "\n    ".join(status.log_tail[-5:])
            )
            return None
        print(f"    done ({time.perf_counter() - t0:.1f} s)")
    else:
        _step(6, "Training: re-using the trained snapshot")

    t0 = _step(7, "Analyse the video (DeepLabCut, child process) and compare with the truth")
    video = next(iter(project.videos))
    result = analyze(AnalysisSpec(config=str(config), videos=[video], snapshot_index=-1))
    if not result.ok:
        print(f"    analysis failed: {result.message}")
        return None
    predictions = read_predictions(result.outputs[video])
    # columns follow the config's body parts, which are the truth's (single animal)
    xy = predictions.data[:, :, :2]
    err = np.linalg.norm(xy - keypoints[predictions.frames], axis=-1)
    print(
        f"    median error against the truth: {np.nanmedian(err):.1f} px over "
        f"{len(predictions.frames)} frames ({time.perf_counter() - t0:.1f} s)"
    )
    print(f"    {result.outputs[video]}")
    return predictions


def _show(
    project,
    video: Path,
    keypoints,
    bodyparts,
    out: Path,
    *,
    headless: bool,  # type: ignore[no-untyped-def]
    predictions=None,
) -> Path:
    import napari

    from napari_dlcflow.core.layers.data import keypoint_layers, predictions_layers
    from napari_dlcflow.core.video.probe import read_frames
    from napari_dlcflow.napari_common import state_for_viewer
    from napari_dlcflow.widgets.common.screenshot import prepare, save_screenshot

    # On our own virtual display a shown window draws exactly what a user sees; a hidden one
    # renders its canvas at the wrong size.
    visible = not headless or bool(os.environ.get(_XVFB_FLAG))
    viewer = napari.Viewer(title="napari-dlcflow demo", show=visible)
    viewer.add_image(read_frames(video), name=video.stem, rgb=True)
    for data, kwargs, kind in keypoint_layers(
        keypoints, bodyparts, project.skeleton, name="ground truth", colormap=project.colormap
    ):
        getattr(viewer, f"add_{kind}")(data, **kwargs)
    if predictions is not None:
        for data, kwargs, kind in predictions_layers(
            predictions,
            project.skeleton,
            name="predicted",
            pcutoff=project.pcutoff,
            colormap=project.colormap,
            symbol="cross",
            size=10,
        ):
            getattr(viewer, f"add_{kind}")(data, **kwargs)
    viewer.window.add_plugin_dock_widget("napari-dlcflow", "Project")
    state_for_viewer(viewer).set_project(project)
    viewer.dims.set_current_step(0, min(120, len(keypoints) - 1))
    prepare(viewer, (1500, 950))
    shot = save_screenshot(viewer, out / SCREENSHOT, canvas_only=True)
    save_screenshot(viewer, out / WINDOW_SCREENSHOT, canvas_only=False)
    if headless:
        viewer.close()
    else:
        napari.run()
    return shot
