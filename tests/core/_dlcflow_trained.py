"""One real DeepLabCut training run shared by the slow tests of training and evaluation.

The first caller makes a project from the synthetic example (labels from the truth), creates
the training dataset, trains a resnet18 at 128 px on the CPU in a detached job, cancels it
after a few epochs, resumes it to the end, and evaluates every snapshot. Later callers get the
same result (cached for the session).

Every test that calls :func:`trained` carries ``@pytest.mark.xdist_group("trained")``: with
``pytest -n 2 --dist loadgroup`` (``scripts/bootstrap.sh test``) those tests run on one worker,
in the order of a serial run, so the model is trained once. Without the mark a test still
passes, but its worker trains a second copy (a session cache is per worker process).
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

EPOCHS = 15
CANCEL_AFTER = 3
SPEC_KW: dict[str, Any] = dict(
    epochs=EPOCHS,
    batch_size=8,
    save_epochs=5,
    eval_interval=3,
    device="cpu",
    weights="scratch",
    offline=True,
    backbone="resnet18",
    crop_size=128,
)


@dataclass
class Trained:
    config: Path
    train_folder: Path
    dataset: dict
    cancel_status: Any
    cancelled_at: int
    epochs_first_run: list[int]
    final_status: Any
    epochs_all: list[int]
    resumed_from: str
    results: list = field(default_factory=list)
    seconds_train: float = 0.0
    seconds_eval: float = 0.0


_CACHE: dict[str, Trained] = {}


def trained(tmp_path_factory: pytest.TempPathFactory) -> Trained:
    if "run" in _CACHE:
        return _CACHE["run"]
    from napari_dlcflow.core.engine.dataset import DatasetSpec, create_datasets
    from napari_dlcflow.core.engine.evaluation import evaluate
    from napari_dlcflow.core.engine.training import (
        TrainSpec,
        resume_spec,
        shuffle_train_folder,
        start_training,
    )
    from napari_dlcflow.core.example.synthetic import SyntheticSpec
    from napari_dlcflow.core.example.truth_labels import make_labeled_synthetic_project

    root = tmp_path_factory.mktemp("trained")
    project = make_labeled_synthetic_project(
        root, SyntheticSpec(n_frames=80, height=128, width=128, seed=5), n_labeled=40
    )
    config = project.config_path
    dataset = create_datasets(config, DatasetSpec(net_type="resnet_50")).shuffles[0]
    folder = shuffle_train_folder(config, 1)
    t0 = time.monotonic()
    jobs = []
    try:
        job = start_training(TrainSpec(config=str(config), **SPEC_KW))
        jobs.append(job)
        deadline = time.monotonic() + 600
        while job.progress().epoch < CANCEL_AFTER:
            st = job.status()
            assert not st.done, f"job ended early: {st.state} {st.reason} {st.log_tail}"
            assert time.monotonic() < deadline, "no progress in 10 minutes"
            time.sleep(0.5)
        job.cancel()
        cancel_status = job.wait(timeout=300)
        first = [e["epoch"] for e in job.progress().epochs]
        spec = resume_spec(job)
        job2 = start_training(spec)
        jobs.append(job2)
        final = job2.wait(timeout=900)
    except BaseException:
        for j in jobs:  # never leave a detached job training after a failed test
            if not j.status().done:
                j.cancel(now=True)
        raise
    t1 = time.monotonic()
    results = evaluate(config, 1, device="cpu", timeout=600)
    run = Trained(
        config=config,
        train_folder=folder,
        dataset=dataset,
        cancel_status=cancel_status,
        cancelled_at=first[-1],
        epochs_first_run=first,
        final_status=final,
        epochs_all=[e["epoch"] for e in job2.progress().epochs],
        resumed_from=str(spec.resume_from),
        results=results,
        seconds_train=t1 - t0,
        seconds_eval=time.monotonic() - t1,
    )
    _CACHE["run"] = run
    return run
