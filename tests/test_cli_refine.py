"""The refine loop from the command line, without touching a file by hand (no DeepLabCut here:
the real dataset creation and training are in tests/core/test_refine_loop.py)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from napari_dlcflow.cli import main
from napari_dlcflow.core.example.synthetic import BODYPARTS, SyntheticSpec, render_synthetic
from napari_dlcflow.core.example.truth_labels import make_labeled_synthetic_project
from napari_dlcflow.core.labels.collected import load_folder
from napari_dlcflow.core.labels.machine import read_machine_labels
from napari_dlcflow.core.predictions.analysis_files import simulate_predictions, write_predictions
from napari_dlcflow.core.project.config import Project

SPEC = SyntheticSpec(n_frames=50, height=96, width=96, seed=4)
SCORER = "DLC_Resnet50_syntheticNov24shuffle1_snapshot_best-10"


@pytest.fixture
def project(tmp_path: Path) -> Project:
    project = make_labeled_synthetic_project(tmp_path, SPEC, n_labeled=5)
    truth = render_synthetic(SPEC).keypoints
    pred = simulate_predictions(truth, BODYPARTS, scorer=SCORER, low_fraction=0.0, seed=1)
    data = pred.data.copy()
    data[25, 2, :2] += 35  # one bad frame: jumps in and out
    video = Path(next(iter(project.videos)))
    write_predictions(pred.with_data(data), video.parent / f"{video.stem}{SCORER}.h5")
    return project


def test_extract_merge_and_iterate_from_the_cli(
    project: Project, capsys: pytest.CaptureFixture[str]
) -> None:
    root = str(project.root)
    folder = project.root / "labeled-data" / "synthetic_animal"
    before = load_folder(folder)
    assert main(["extract-outliers", root, "--epsilon", "25", "--frames", "7"]) == 0
    out = capsys.readouterr().out
    assert "3 outlier frame(s) (jump 2, manual 1)" in out and "3 extracted" in out
    machine = read_machine_labels(folder)
    assert [r[-1] for r in machine.images] == ["img07.png", "img25.png", "img26.png"]

    assert main(["iterations", root]) == 0
    out = capsys.readouterr().out
    assert "Iteration" in out and "0 (current)" in out
    assert "synthetic_animal: 3 machine-labeled image(s) wait for review" in out

    # next-iteration refuses while machine labels wait; config.yaml untouched
    text = project.config_path.read_text()
    assert main(["next-iteration", root, "--no-dataset"]) == 2
    assert "wait for review" in capsys.readouterr().err
    assert project.config_path.read_text() == text

    h5 = next(folder.glob("CollectedData_*.h5"))
    stamp = h5.stat().st_mtime_ns
    assert main(["merge-machine-labels", root, "--dry-run"]) == 0
    assert "(would change): 33 added, 0 moved, 0 deleted" in capsys.readouterr().out
    assert h5.stat().st_mtime_ns == stamp
    assert main(["merge-machine-labels", root]) == 0
    assert "(saved): 33 added" in capsys.readouterr().out
    after = pd.read_hdf(h5)
    assert len(after) == len(before.images) + 3
    earlier = after.loc[[tuple(r) for r in before.images]].to_numpy()
    np.testing.assert_array_equal(earlier, before.xy.reshape(len(before.images), -1))

    assert main(["next-iteration", root, "--no-dataset"]) == 0
    assert "Iteration 0 -> 1." in capsys.readouterr().out
    assert Project.open(project.config_path).iteration == 1
    assert main(["iterations", root]) == 0
    out = capsys.readouterr().out
    assert "1 (current)" in out and "wait for review" not in out


def test_predict_frames_from_the_analysis(
    project: Project, capsys: pytest.CaptureFixture[str]
) -> None:
    from napari_dlcflow.core.video.extract import extract_frames

    folder = project.root / "labeled-data" / "synthetic_animal"
    video = Path(next(iter(project.videos)))
    made = extract_frames(video, folder, method="uniform", n=4)
    assert main(["predict-frames", str(project.root), "--analysis-only"]) == 0
    out = capsys.readouterr().out
    assert f"predictions for 4 image(s) (4 from synthetic_animal{SCORER}.h5)" in out
    machine = read_machine_labels(folder)
    assert sorted(r[-1] for r in machine.images) == sorted(p.name for p in made.written)


def test_cli_errors_name_the_file(project: Project, capsys: pytest.CaptureFixture[str]) -> None:
    video = Path(next(iter(project.videos)))
    h5 = video.parent / f"{video.stem}{SCORER}.h5"
    h5.write_bytes(b"broken")
    assert main(["extract-outliers", str(project.root)]) == 1
    assert h5.name in capsys.readouterr().err
    assert main(["extract-outliers", str(project.root), "--criteria", "wobble"]) == 2
    assert "criteria must be among" in capsys.readouterr().err
