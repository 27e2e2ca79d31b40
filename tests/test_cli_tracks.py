"""The `compare-tracks` and `track-report` commands, through `napari_dlcflow.cli.main`."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from _tracks_data import CLIP, T, truth_xy, write_dlc
from napari_dlcflow.cli import main


@pytest.fixture
def files(tmp_path: Path) -> tuple[Path, Path]:
    truth = write_dlc(tmp_path / "truth.csv", truth_xy(), likelihood=False)
    xy = truth_xy() + np.array([3.0, 4.0])
    xy[100:, [0, 1]] = xy[100:, [1, 0]]  # identities swapped from frame 100
    xy[20:50, 2] = np.nan  # mouse3 lost for 30 frames
    pred = write_dlc(tmp_path / "videoDLC_Resnet50_tracksNov24shuffle1_snapshot_best-10_el.h5", xy)
    return pred, truth


def test_compare_tracks_json(files: tuple[Path, Path], capsys: pytest.CaptureFixture) -> None:
    pytest.importorskip("motmetrics")
    pred, truth = files
    assert main(["compare-tracks", str(pred), str(truth), "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["switches"] == 2
    assert out["switches_per_1000"] == pytest.approx(2000 / T)
    assert out["all_found"] == pytest.approx(1 - 30 / T)
    # IDF1 = 2 IDTP / (truth + predicted detections): 2 (200 + 200 + 270) / (900 + 870)
    assert out["idf1"] == pytest.approx(2 * 670 / (900 + 870))
    errors = {e["individual"]: e for e in out["per_individual"]}
    assert errors["mouse1"]["median_px"] == pytest.approx(5.0)
    assert errors["mouse3"]["matched_frames"] == T - 30
    assert out["mapping"] == {"mouse1": "mouse2", "mouse2": "mouse1", "mouse3": "mouse3"}
    # a threshold below the 5 px error: nothing matches
    assert main(["compare-tracks", str(pred), str(truth), "--json", "--threshold", "4"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["idf1"] == 0.0 and out["all_found"] == 0.0
    assert out["per_individual"][0]["median_px"] is None


def test_compare_tracks_text(files: tuple[Path, Path], capsys: pytest.CaptureFixture) -> None:
    pytest.importorskip("motmetrics")
    pred, truth = files
    assert main(["compare-tracks", str(pred), str(truth)]) == 0
    out = capsys.readouterr().out
    assert "identity switches: 2 (6.67 per 1,000 frames)" in out
    assert "frames with every animal found: 90.0%" in out
    assert "mouse3" in out and "270/300" in out and "5.00" in out


def test_track_report(files: tuple[Path, Path], capsys: pytest.CaptureFixture) -> None:
    pred, _ = files
    assert main(["track-report", str(pred), "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["frames_missing_animals"] == 30 and out["expected"] == 3
    m3 = out["per_individual"][2]
    assert (m3["tracklets"], m3["gaps"], m3["longest_gap"]) == (2, 1, 30)
    assert main(["track-report", str(pred), "--animals", "4"]) == 0
    text = capsys.readouterr().out
    assert "300 frames (100.0%) show fewer animals" in text and "longest gap" in text


def test_errors_name_the_file(
    files: tuple[Path, Path], tmp_path: Path, capsys: pytest.CaptureFixture
) -> None:
    pytest.importorskip("motmetrics")
    pred, _ = files
    short = write_dlc(tmp_path / "short.csv", truth_xy(T - 1), likelihood=False)
    assert main(["compare-tracks", str(pred), str(short)]) == 2
    assert "short.csv is shorter" in capsys.readouterr().err
    bad = tmp_path / "notes.txt"
    bad.write_text("x")
    assert main(["track-report", str(bad)]) == 2
    assert "notes.txt" in capsys.readouterr().err


@pytest.mark.skipif(not (CLIP / "clip.slp").is_file(), reason="shared SLEAP clip.slp absent")
def test_sleap_clip_with_itself(capsys: pytest.CaptureFixture) -> None:
    pytest.importorskip("motmetrics")
    clip = str(CLIP / "clip.slp")
    assert main(["compare-tracks", clip, clip, "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["idf1"] == 1.0 and out["switches"] == 0
