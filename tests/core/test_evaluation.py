"""Evaluation: DeepLabCut's results parsed into a table, explained, and checked against truth."""

from __future__ import annotations

import math
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from _dlcflow_trained import EPOCHS, trained

from napari_dlcflow.core.engine.evaluation import (
    EvalResult,
    evaluation_folder,
    evaluation_frames,
    explain,
    format_table,
    per_epoch,
    read_results,
)
from napari_dlcflow.core.example.synthetic import BODYPARTS


def _result(epoch: int, test: float, train: float, **kw: float) -> EvalResult:
    base = dict(
        train_rmse_pcutoff=math.nan,
        test_rmse_pcutoff=math.nan,
        train_map=0.0,
        test_map=0.0,
        train_mar=0.0,
        test_mar=0.0,
        pcutoff=0.6,
        train_fraction=0.95,
    )
    base.update(kw)
    return EvalResult(f"snapshot-{epoch:03d}", epoch, False, train, test, **base)  # type: ignore[arg-type]


def test_explanations_follow_the_numbers() -> None:
    still = [_result(10, 20.0, 18.0), _result(20, 9.0, 8.0, test_rmse_pcutoff=5.0)]
    text = " ".join(explain(still, image_width=128, n_test=2))
    assert "9.0 pixels" in text and "7.0% of the 128-pixel" in text
    assert "fell 55%" in text and "more epochs will likely help" in text
    assert "5.00 px on test" in text and "Only 2 test image" in text
    flat = [_result(10, 6.0, 2.0), _result(20, 5.9, 1.5)]
    text = " ".join(explain(flat))
    assert "levelled off" in text and "memorises" in text
    untrained = " ".join(explain([_result(5, 30.0, 30.0)]))
    assert "NaN" in untrained and "Both are 0" in untrained
    assert explain([])[0].startswith("No evaluation yet")


def test_a_model_that_has_not_learned_is_not_told_it_generalises() -> None:
    early = " ".join(explain([_result(3, 293.0, 212.0)], image_width=640))
    assert "has not learned the body parts yet" in early
    assert "so it generalises" not in early and "as close as people label" not in early
    good = " ".join(explain([_result(50, 3.4, 2.9)], image_width=640))
    assert "so it generalises" in good and "as close as people label" in good
    assert "has not learned" not in good


def test_unreadable_per_bodypart_results_raise_naming_the_file(openfield_project: Path) -> None:
    folder = evaluation_folder(openfield_project / "config.yaml")
    assert folder.name == "openfieldOct30-trainset95shuffle1"
    folder.mkdir(parents=True)
    stem = "DLC_Resnet50_openfieldOct30shuffle1_snapshot_005"
    (folder / f"{stem}-results.csv").write_text(
        ",train rmse,test rmse\n0,1.5,2.5\n", encoding="utf-8"
    )
    (results,) = read_results(openfield_project / "config.yaml")
    assert (results.epoch, results.test_rmse) == (5, 2.5)
    bad = folder / f"{stem}-keypoint-results.csv"
    bad.write_text("a,b\nTrain,1\nTest,1,2,3,4\n", encoding="utf-8")
    with pytest.raises(ValueError, match=re.escape(str(bad))):
        read_results(openfield_project / "config.yaml")


def test_one_result_per_epoch_prefers_the_plain_snapshot() -> None:
    best7 = _result(7, 5.0, 4.0)
    best7.best = True
    plain6, plain7 = _result(6, 6.0, 5.0), _result(7, 5.0, 4.0)
    assert per_epoch([plain6, best7]) == [plain6, best7]  # only a best file at epoch 7
    assert per_epoch([plain6, plain7, best7]) == [plain6, plain7]


@pytest.mark.slow
@pytest.mark.xdist_group("trained")
def test_trained_network_learned_and_results_are_parsed(
    tmp_path_factory: pytest.TempPathFactory,
) -> None:
    run = trained(tmp_path_factory)
    results = run.results
    again = read_results(run.config)  # parsed again from DLC's files (NaN != NaN: compare text)
    assert format_table(again) == format_table(results)
    assert [r.bodypart_test for r in again] == [r.bodypart_test for r in results]
    plain = per_epoch(results)
    assert plain[-1].epoch == EPOCHS
    last = plain[-1]
    # an untrained network is 25-30 px off on these 128 px frames (measured: epoch 1)
    # measured: 3.4 px test, 2.0 px train after 24 epochs
    assert last.test_rmse < 8.0, format_table(results)
    assert last.train_rmse < 8.0
    assert last.test_map > 20.0
    assert plain[0].test_rmse > last.test_rmse
    assert sorted(last.bodypart_test) == sorted(BODYPARTS)
    # DLC's RMSE is the RMS over body parts of the per-body-part errors it reports
    assert np.isfinite(list(last.bodypart_test.values())).all()
    table = format_table(results)
    assert plain[-1].snapshot in table  # snapshot-015, or snapshot-best-015 if it was the best
    print(table)


@pytest.mark.slow
@pytest.mark.xdist_group("trained")
def test_evaluation_frames_pair_truth_and_predictions_worst_first(
    tmp_path_factory: pytest.TempPathFactory,
) -> None:
    run = trained(tmp_path_factory)
    last = per_epoch(run.results)[-1]
    frames = evaluation_frames(run.config, last)
    assert len(frames.images) == 40 and all(p.is_file() for p in frames.images)
    assert frames.split.count("test") == 2
    assert np.all(np.diff(frames.errors) <= 1e-9)  # worst first
    dist = np.linalg.norm(frames.predicted - frames.truth, axis=-1)
    np.testing.assert_allclose(frames.errors, dist.mean(axis=1))
    # the mean over test images of the per-image distances is in line with DLC's test RMSE
    test_err = frames.errors[[s == "test" for s in frames.split]].mean()
    assert test_err <= last.test_rmse * 1.5 + 1


@pytest.mark.slow
@pytest.mark.xdist_group("trained")
def test_cli_evaluate_prints_table_and_explanations(
    tmp_path_factory: pytest.TempPathFactory,
) -> None:
    run = trained(tmp_path_factory)
    out = subprocess.run(
        [sys.executable, "-m", "napari_dlcflow", "evaluate", str(run.config), "--no-run"],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=Path(run.config).parent,
    )
    assert out.returncode == 0, out.stderr
    assert re.search(rf"snapshot-(best-)?{EPOCHS:03d}\s+{EPOCHS}\s", out.stdout), out.stdout
    assert "Test RMSE" in out.stdout and "mAP" in out.stdout
