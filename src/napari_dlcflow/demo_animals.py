"""``napari-dlcflow demo --animals N``: the multi-animal loop on the synthetic group example.

It writes the synthetic video of N look-alike animals that cross, touch and hide under a
shelter (:mod:`napari_dlcflow.core.example.group`), makes a multi-animal DeepLabCut project
labeled from the truth, creates the training dataset (DeepLabCut's bottom-up model with part
affinity fields), trains a tiny network (weights said before: offline it trains from scratch),
analyses the video with tracking (detections, tracklets, stitched tracks: DeepLabCut's files),
scores the tracks against the truth (IDF1, identity switches, keypoint error per animal) and
shows the video with the tracks by individual in napari, saving a screenshot. Every step
re-uses what an earlier run left.
"""

from __future__ import annotations

import os
import time
from pathlib import Path
from typing import Any

from napari_dlcflow.demo import _XVFB_FLAG, _reexec_under_xvfb, _step

SCREENSHOT = "demo-animals-screenshot.png"
TASK, SCORER = "synthetic-animals", "dlcflow"


def _existing_project(out: Path) -> Path | None:
    found = sorted(out.glob(f"{TASK}-{SCORER}-*/config.yaml"))
    return found[-1] if found else None


def run_group_demo(
    out: Path,
    *,
    n_animals: int = 3,
    n_frames: int = 300,
    seed: int = 0,
    epochs: int = 20,
    n_labeled: int = 60,
    size: int | None = None,
    headless: bool = False,
) -> int:
    """Run the multi-animal demo; returns the exit status.

    Parameters
    ----------
    out : Path
        Folder for everything the demo makes (re-used on a second run).
    n_animals : int
        Animals in the video (2-4).
    n_frames, seed : int
        Length and seed of the synthetic video.
    epochs : int
        Training epochs of the tiny network; 0 stops after labeling (the project is ready to
        train from the command line or the docks).
    n_labeled : int
        Frames labeled from the truth.
    size : int, optional
        Frame width and height in pixels (default: the example's 256).
    headless : bool
        Never open a window, even with a display.
    """
    if not headless and not os.environ.get("DISPLAY") and not os.environ.get("WAYLAND_DISPLAY"):
        argv = ["--out", str(out), "--animals", str(n_animals), "--frames", str(n_frames)]
        argv += ["--seed", str(seed), "--epochs", str(epochs), "--labeled", str(n_labeled)]
        argv += [] if size is None else ["--size", str(size)]
        code = _reexec_under_xvfb([*argv, "--headless"])
        if code is not None:
            return code
        headless = True

    from napari_dlcflow.core.example.group import GroupSpec
    from napari_dlcflow.core.example.truth_labels import make_labeled_group_project
    from napari_dlcflow.core.project.config import Project

    out = out.resolve()
    out.mkdir(parents=True, exist_ok=True)
    shape = {} if size is None else {"height": size, "width": size}
    spec = GroupSpec(n_animals=n_animals, n_frames=n_frames, seed=seed, **shape)
    t0 = _step(1, f"{n_animals} synthetic animals ({n_frames} frames, seed {seed}), labeled")
    existing = _existing_project(out)
    if existing is not None:
        project = Project.open(existing)
        print(f"    re-using {project.root}")
    else:
        project = make_labeled_group_project(
            out, spec, n_labeled=min(n_labeled, n_frames), task=TASK, scorer=SCORER
        )
        print(
            f"    {project.root}: individuals {', '.join(project.individuals)}, "
            f"{min(n_labeled, n_frames)} labeled frames ({time.perf_counter() - t0:.1f} s)"
        )
    truth = out / "example" / "synthetic_animals_truth.csv"
    video = next(iter(project.videos))
    if epochs <= 0:
        print(f"\nDone (no training asked). Project: {project.config_path}\nTruth: {truth}")
        return 0
    tracked = _train_and_track(project, epochs)
    if tracked is None:
        return 1
    _score(tracked, truth)
    t0 = _step(7, "napari: the video with the tracks by individual")
    shot = _show(project, Path(video), tracked, out, headless=headless)
    print(f"    screenshot: {shot} ({time.perf_counter() - t0:.1f} s)")
    print(f"\nDone. Project: {project.config_path}\nTracks: {tracked}\nScreenshot: {shot}")
    return 0


def _train_and_track(project: Any, epochs: int) -> Path | None:
    """Dataset, tiny training (weights said first) and analysis with tracking."""
    from napari_dlcflow.core.engine.analysis import AnalysisSpec, analyze
    from napari_dlcflow.core.engine.dataset import DatasetSpec, create_datasets
    from napari_dlcflow.core.engine.training import (
        TrainSpec,
        list_snapshots,
        shuffle_train_folder,
        start_training,
    )
    from napari_dlcflow.core.engine.weights import choose_weights_in_child

    config = project.config_path
    try:
        folder = shuffle_train_folder(config, 1)
    except FileNotFoundError:
        t0 = _step(2, "Training dataset: bottom-up with part affinity fields (child process)")
        made = create_datasets(config, DatasetSpec(net_type="resnet_50")).shuffles[0]
        print(
            f"    {made['n_train']} train / {made['n_test']} test frames "
            f"({time.perf_counter() - t0:.1f} s)"
        )
        folder = shuffle_train_folder(config, 1)
    else:
        _step(2, "Training dataset: re-using shuffle 1")
    if not list_snapshots(folder, check=True):
        weights, said = choose_weights_in_child(config, "auto", backbone="resnet18")
        t0 = _step(3, f"Train a tiny network, {epochs} epochs")
        print(f"    {said}")
        job = start_training(
            TrainSpec(
                config=str(config),
                epochs=epochs,
                batch_size=8,
                save_epochs=epochs,
                eval_interval=epochs,
                device="auto",
                weights=weights,
                offline=weights == "scratch",
                backbone="resnet18",
                crop_size=128,
            )
        )
        status = job.wait()
        if status.state != "finished":
            print(f"    training {status.state}: {status.reason}")
            return None
        print(f"    done ({time.perf_counter() - t0:.1f} s)")
    else:
        _step(3, "Training: re-using the trained snapshot")
    t0 = _step(4, "Analyse with tracking: detections, tracklets, stitched tracks")
    video = next(iter(project.videos))

    def said(e: dict[str, Any]) -> None:
        if e.get("event") == "tracking":
            print(f"    {e['message']}")
        elif e.get("event") == "tracking_stage":
            print(f"    {e['stage']}: {'already done' if e['state'] == 'skipped' else 'done'}")

    result = analyze(AnalysisSpec(config=str(config), videos=[video]), on_event=said)
    if not result.ok:
        print(f"    analysis failed: {result.message}")
        return None
    tracked = Path(result.outputs[video])
    print(f"    {tracked.name} ({time.perf_counter() - t0:.1f} s)")
    return tracked


def _score(tracked: Path, truth: Path) -> None:
    from napari_dlcflow.core.formats.tracks import load_tracks
    from napari_dlcflow.core.predictions.tracks import compare_tracks, track_report

    _step(5, "How good are the tracks: against the truth")
    pred = load_tracks(tracked)
    result = compare_tracks(pred, load_tracks(truth))
    print(
        f"    IDF1 {result.idf1:.3f}, MOTA {result.mota:.3f}, {result.switches} identity "
        f"switches ({result.switches_per_1000:.1f} per 1,000 frames), every animal found in "
        f"{100 * result.all_found:.1f}% of the frames"
    )
    _step(6, "Without a truth: the track report")
    print("    " + track_report(pred).summary)


def _show(project: Any, video: Path, tracked: Path, out: Path, *, headless: bool) -> Path:
    import napari

    from napari_dlcflow.core.layers.data import predictions_layers
    from napari_dlcflow.core.predictions.analysis_files import read_predictions
    from napari_dlcflow.core.video.probe import read_frames
    from napari_dlcflow.widgets.common.screenshot import prepare, save_screenshot

    visible = not headless or bool(os.environ.get(_XVFB_FLAG))
    viewer = napari.Viewer(title="napari-dlcflow demo: several animals", show=visible)
    viewer.add_image(read_frames(video), name=video.stem, rgb=True)
    for data, kwargs, kind in predictions_layers(
        read_predictions(tracked),
        project.skeleton,
        name="tracks",
        pcutoff=project.pcutoff,
        colormap=project.colormap,
        size=8,
    ):
        getattr(viewer, f"add_{kind}")(data, **kwargs)
    viewer.dims.set_current_step(0, 60)
    prepare(viewer, (1200, 950))
    shot = save_screenshot(viewer, out / SCREENSHOT, canvas_only=True)
    if headless:
        viewer.close()
    else:
        napari.run()
    return shot
