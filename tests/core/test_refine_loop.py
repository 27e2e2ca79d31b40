"""One whole refine-and-retrain iteration with real DeepLabCut on the synthetic sample.

Train (shared run), analyse, extract outlier frames, predict frames with the model, correct
some machine labels from the known truth, merge, check no earlier label changed, bump the
iteration, create its dataset, retrain from the previous best snapshot, and check the new model
against the truth.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from napari_dlcflow.core.engine.analysis import AnalysisSpec, analyze
from napari_dlcflow.core.engine.training import LOG_FILE, shuffle_train_folder, start_training
from napari_dlcflow.core.example.synthetic import read_truth
from napari_dlcflow.core.labels.changes import summarize_changes
from napari_dlcflow.core.labels.collected import load_folder, write_labels
from napari_dlcflow.core.labels.machine import frame_index_of, read_machine_labels
from napari_dlcflow.core.predictions.analysis_files import read_predictions
from napari_dlcflow.core.project.config import Project
from napari_dlcflow.core.refine.assist import predict_images
from napari_dlcflow.core.refine.iteration import (
    accept_machine_labels,
    iteration_history,
    next_iteration,
    next_train_spec,
)
from napari_dlcflow.core.refine.outliers import OutlierSpec, extract_outliers

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("trained")]


def _copy_project(config: Path, dest: Path) -> Project:
    """A private copy of the shared trained project (its videos re-pointed to the copy)."""
    root = dest / config.parent.name
    shutil.copytree(config.parent, root)
    project = Project.open(root / "config.yaml")
    project.repair_project_path()
    for key in list(project.videos):
        crop = project.videos[key]
        x1, x2, y1, y2 = (int(v) for v in str(crop).split(","))
        project.remove_video(key)
        project.set_video(root / "videos" / Path(key).name, x2 - x1, y2 - y1)
    project.save()
    return project


def _analyze(project: Project, video: Path, out: Path) -> Path:
    spec = AnalysisSpec(
        config=str(project.config_path),
        videos=[str(video)],
        device="cpu",
        destfolder=str(out),
        batch_size=8,
    )
    result = analyze(spec, timeout=600)
    assert result.ok, result.message
    return Path(result.outputs[str(video)])


def test_one_refine_iteration_with_deeplabcut(tmp_path_factory: pytest.TempPathFactory) -> None:
    from _dlcflow_trained import trained

    run = trained(tmp_path_factory)
    truth_csv = next(Path(run.config).parent.parent.glob("example/synthetic_animal_truth.csv"))
    truth, _ = read_truth(truth_csv)
    work = tmp_path_factory.mktemp("refine-loop")
    project = _copy_project(Path(run.config), work)
    video = project.root / "videos" / "synthetic_animal.mp4"
    folder = project.root / "labeled-data" / "synthetic_animal"
    ground0 = load_folder(folder)
    labeled = {frame_index_of(r[-1]) for r in ground0.images}

    # 1. analyse with the iteration-0 model
    h5 = _analyze(project, video, project.root / "videos")
    pred = read_predictions(h5)

    # 2. outliers: DLC's criteria plus frames marked by hand (unlabeled ones)
    marked = tuple(f for f in (3, 15, 27, 51, 65) if f not in labeled)
    spec = OutlierSpec(
        criteria=("jump", "uncertain", "manual"),
        frames=marked,
        n=len(marked) + 3,
        selection="uniform",
    )
    result = extract_outliers(project, video, spec)
    assert set(marked) <= set(result.candidates)
    assert result.written and result.machine_labels is not None
    machine = read_machine_labels(folder)
    picked = [frame_index_of(r[-1]) for r in machine.images]
    np.testing.assert_allclose(machine.xy, pred.xy[picked])

    # 3. model-assisted: running the model on the extracted PNGs gives the analysis' answer
    images = [folder / r[-1] for r in machine.images[:3]]
    predict_images(project, folder, images, device="cpu")
    again = read_machine_labels(folder)
    rows = [[r[-1] for r in again.images].index(p.name) for p in images]
    diff = np.abs(again.xy[rows] - pred.xy[picked[:3]])
    assert np.nanmedian(diff) < 1.0, diff

    # 4. correct some machine labels from the truth, accept the others, save
    corrected = again.copy()
    fix = [i for i, r in enumerate(corrected.images) if frame_index_of(r[-1]) in marked[:2]]
    for i in fix:
        corrected.xy[i] = truth[frame_index_of(corrected.images[i][-1])]
    merged, _low = accept_machine_labels(ground0, corrected, min_likelihood=0.0)
    changes = summarize_changes(ground0, merged)
    assert changes.deleted == 0 and changes.moved == 0
    assert changes.new_images == len(again.images)
    write_labels(merged, folder, expected_stamp=ground0.stamp)
    after = load_folder(folder)
    before_df = pd.DataFrame(ground0.xy.reshape(len(ground0.images), -1), index=ground0.images)
    after_df = pd.DataFrame(after.xy.reshape(len(after.images), -1), index=after.images)
    pd.testing.assert_frame_equal(after_df.loc[before_df.index], before_df)  # nothing lost
    for i in fix:
        row = after.images.index(corrected.images[i])
        np.testing.assert_allclose(after.xy[row], truth[frame_index_of(after.images[row][-1])])

    # 5. next iteration: bump, dataset with the new frames, previous best snapshot
    nxt = next_iteration(project, shuffle=1)
    assert (nxt.previous, nxt.iteration) == (0, 1)
    assert Project.open(project.config_path).iteration == 1
    assert nxt.dataset["n_train"] + nxt.dataset["n_test"] == len(after.images)
    assert nxt.init_snapshot is not None and "iteration-0" in str(nxt.init_snapshot)
    assert nxt.init_snapshot.is_file()  # iteration 0 is left in place

    # 6. retrain from it for two epochs: good at once, which random weights could not be
    spec = next_train_spec(project, nxt.init_snapshot)
    assert spec.init_from == str(nxt.init_snapshot) and spec.backbone == "resnet18"
    spec.epochs, spec.save_epochs, spec.eval_interval = 2, 2, 2
    job = start_training(spec)
    status = job.wait(timeout=900)
    assert status.state == "finished", (status.reason, status.log_tail)
    train1 = shuffle_train_folder(project.config_path, 1)
    assert "iteration-1" in str(train1) and list(train1.glob("snapshot-*.pt"))
    log = (train1 / LOG_FILE).read_text() if (train1 / LOG_FILE).exists() else ""
    new_h5 = _analyze(project, video, work / "iter1")
    err = np.nanmedian(np.hypot(*(read_predictions(new_h5).xy - truth).transpose(2, 0, 1)))
    err0 = np.nanmedian(np.hypot(*(pred.xy - truth).transpose(2, 0, 1)))
    print(f"median error: iteration 0 {err0:.2f} px, iteration 1 (2 epochs from it) {err:.2f} px")
    assert "training starts from the weights of" in log
    assert err < 8.0 and err < 1.5 * err0 + 1.0, log[-2000:]

    history = iteration_history(Project.open(project.config_path))
    assert [h.iteration for h in history] == [0, 1]
    assert history[0].snapshots > 0 and history[1].snapshots > 0
    assert history[1].labeled_frames == len(after.images)
    assert history[0].machine_label_frames == len(again.images)
