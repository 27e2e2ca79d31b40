"""A new user's first loop, all through the real command line (issue 12, "Done when").

Lightning Pose labels (``CollectedData.csv`` with image paths ``labeled-data/<folder>/...``)
are imported into a NEW project, then ``create-dataset``, ``train --epochs 1``, ``evaluate``
and ``analyze`` run with their default shuffle options. 25 labeled frames at the default train
fraction 0.95 give a split of 24/1, which DeepLabCut names ``trainset96``: the fraction is
appended to ``TrainingFraction`` at index 1, and every later step must find that shuffle
without being told (it used to say "no training dataset for shuffle 1").
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from napari_dlcflow.core.example.synthetic import (
    SyntheticSpec,
    render_synthetic,
    write_synthetic_example,
)
from napari_dlcflow.core.example.truth_labels import choose_frames

pytestmark = pytest.mark.slow

SPEC = SyntheticSpec(n_frames=60, height=128, width=128, seed=5)
N_LABELED = 25
TRAIN = [
    "--epochs",
    "1",
    "--batch-size",
    "8",
    "--device",
    "cpu",
    "--weights",
    "scratch",
    "--offline",
    "--backbone",
    "resnet18",
    "--crop-size",
    "128",
]


def write_lightning_pose_labels(folder: Path) -> tuple[Path, Path]:
    """The synthetic example as a Lightning Pose data directory, and its video."""
    video = write_synthetic_example(folder / "video", SPEC).video
    rendered = render_synthetic(SPEC)
    images = folder / "lp" / "labeled-data" / "synthetic_animal"
    images.mkdir(parents=True)
    parts = rendered.bodyparts
    lines = [
        ",".join(["scorer", *["lp_user"] * (2 * len(parts))]),
        ",".join(["bodyparts", *[p for p in parts for _ in (0, 1)]]),
        ",".join(["coords", *["x", "y"] * len(parts)]),
    ]
    for frame in choose_frames(SPEC.n_frames, N_LABELED):
        name = f"img{frame:04d}.png"
        Image.fromarray(rendered.frames[frame]).save(images / name)
        xy = rendered.keypoints[frame].reshape(-1)
        lines.append(",".join([f"labeled-data/synthetic_animal/{name}", *map(str, xy)]))
    csv = folder / "lp" / "CollectedData.csv"
    csv.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return csv, video


def cli(*args: str | Path, timeout: float = 900) -> str:
    """Run ``napari-dlcflow ARGS``; fail with its output unless it exits with 0."""
    out = subprocess.run(
        [sys.executable, "-m", "napari_dlcflow", *map(str, args)],
        capture_output=True,
        text=True,
        timeout=timeout,
        env={**os.environ, "HF_HUB_OFFLINE": "1"},
    )
    text = out.stdout + out.stderr
    assert out.returncode == 0, f"napari-dlcflow {args[0]} failed:\n{text[-3000:]}"
    assert "no training dataset" not in text
    return text


def test_lightning_pose_labels_to_analysed_video_with_default_options(tmp_path: Path) -> None:
    csv, video = write_lightning_pose_labels(tmp_path)
    (tmp_path / "projects").mkdir()
    text = cli("import-labels", csv, "--new-project", "newuser", "me", tmp_path / "projects")
    config = Path(next(ln for ln in text.splitlines() if ln.startswith("created ")).split()[1])
    assert config.name == "config.yaml"
    assert f"imported {N_LABELED} new images" in text and "labeled-data/synthetic_animal" in text

    text = cli("create-dataset", config)
    assert "train 24 / test 1 frames (trainset 96%" in text

    from napari_dlcflow.core.engine.dataset import resolve_shuffle
    from napari_dlcflow.core.project.config import Project

    project = Project.open(config)
    assert project.training_fractions[1] == 0.96  # appended: index 0 is 0.95
    assert resolve_shuffle(config) == (1, 1)

    text = cli("train", config, *TRAIN)
    assert "shuffle 1, trainset index 1: newuser" in text and "trainset96shuffle1" in text
    assert "training finished" in text

    text = cli("evaluate", config)
    assert "snapshot-001" in text and "test px" in text
    results = project.root / "evaluation-results-pytorch" / "iteration-0"
    assert list(results.glob("*-trainset96shuffle1/*-results.csv"))

    text = cli("analyze", config, video)
    assert "done:" in text
    h5 = next(video.parent.glob("synthetic_animal*shuffle1*.h5"))
    from napari_dlcflow.core.predictions.analysis_files import read_predictions

    pred = read_predictions(h5)
    assert len(pred.data) == SPEC.n_frames and np.isfinite(np.asarray(pred.data)).any()
