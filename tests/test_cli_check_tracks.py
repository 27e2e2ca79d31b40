"""The ``check-tracks`` command, through ``napari_dlcflow.cli.main``."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import numpy as np
import pytest

from _tracks_data import truth_xy, write_dlc
from napari_dlcflow.cli import main


@pytest.fixture
def tracked(tmp_path: Path) -> Path:
    xy = truth_xy()
    xy[100:, [0, 1]] = xy[100:, [1, 0]]  # identities swapped from frame 100
    xy[20:50, 2] = np.nan  # mouse3 lost for 30 frames
    return write_dlc(tmp_path / "videoDLC_Resnet50_tracksNov24shuffle1_snapshot_best-10_el.h5", xy)


def test_prints_the_candidates_best_first(tracked: Path, capsys: pytest.CaptureFixture) -> None:
    assert main(["check-tracks", str(tracked)]) == 1  # candidates found
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].endswith(
        "300 frames, 3 identities, 3 animals expected: 2 candidates (jump 1, missing 1)"
    )
    assert lines[1].split() == ["frame", "identities", "kind", "score", "why"]
    first, second = lines[2].split(), lines[3].split()
    assert first[:4] == ["100", "mouse1,", "mouse2", "jump"]
    assert second[:3] == ["20", "mouse3", "missing"]
    assert float(first[4]) > float(second[3])
    # filtered, fewer animals expected, a shorter list
    assert main(["check-tracks", str(tracked), "--kinds", "missing,crossing"]) == 1
    out = capsys.readouterr().out
    assert "1 candidate (missing 1)" in out and "jump" not in out.split("\n", 1)[1]
    assert main(["check-tracks", str(tracked), "--animals", "2", "--kinds", "missing"]) == 0
    assert "0 candidates" in capsys.readouterr().out
    assert main(["check-tracks", str(tracked), "--top", "1"]) == 1
    out = capsys.readouterr().out
    assert "the top 1, best first" in out and "missing" not in out.split("\n", 1)[1]


def test_csv(tracked: Path, tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    out = tmp_path / "candidates.csv"
    assert main(["check-tracks", str(tracked), "--csv", str(out), "--min-fragment", "3"]) == 1
    assert f"written: {out}" in capsys.readouterr().out
    with out.open(newline="") as f:
        rows = list(csv.DictReader(f))
    assert list(rows[0]) == ["frame", "identities", "kind", "score", "why"]
    assert [(r["frame"], r["identities"], r["kind"]) for r in rows] == [
        ("100", "mouse1+mouse2", "jump"),
        ("20", "mouse3", "missing"),
    ]
    assert 0.9 < float(rows[0]["score"]) <= 1.0
    assert "frame 100" in rows[0]["why"]


def test_clean_tracks_exit_0(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    clean = write_dlc(tmp_path / "truth.csv", truth_xy(), likelihood=False)
    assert main(["check-tracks", str(clean)]) == 0
    out = capsys.readouterr().out
    assert "0 candidates" in out and "frame" not in out.split("\n", 1)[1]


def test_bad_input_is_one_line_and_status_2(
    tracked: Path, tmp_path: Path, capsys: pytest.CaptureFixture
) -> None:
    def error(argv: list[str]) -> str:
        assert main(argv) == 2
        err = capsys.readouterr().err
        assert err.count("\n") == 1 and err.startswith("napari-dlcflow check-tracks: error: ")
        return err

    assert "no such tracks file" in error(["check-tracks", str(tmp_path / "gone.h5")])
    notes = tmp_path / "notes.txt"
    notes.write_text("x")
    assert "notes.txt: not a tracks file" in error(["check-tracks", str(notes)])
    table = tmp_path / "table.csv"
    table.write_text("a,b\n1,2\n")
    assert "table.csv" in error(["check-tracks", str(table)])
    assert "unknown kind(s) swaps" in error(["check-tracks", str(tracked), "--kinds", "swaps"])
    assert "--top must be at least 1" in error(["check-tracks", str(tracked), "--top", "0"])
    assert "min_fragment must be" in error(["check-tracks", str(tracked), "--min-fragment", "0"])
    missing = tmp_path / "nowhere" / "c.csv"
    assert "no such folder" in error(["check-tracks", str(tracked), "--csv", str(missing)])
    assert not missing.parent.exists()


def test_proofread_then_compare_before_and_after(
    tracked: Path, tmp_path: Path, capsys: pytest.CaptureFixture
) -> None:
    """The loop a user runs: check-tracks lists the swap, a session fixes it and saves over the
    file (the original kept as a backup), compare-tracks --before original scores both."""
    from napari_dlcflow.core.proofread import Edit, TrackSession, original_version

    (tmp_path / "truth").mkdir()
    truth = write_dlc(tmp_path / "truth" / "truth.h5", truth_xy())
    session = TrackSession.open(tracked)
    session.apply(Edit("swap", "mouse1", "mouse2", start=100))
    session.save()
    assert original_version(tracked).suffix == ".bak"
    assert main(["check-tracks", str(tracked), "--kinds", "jump"]) == 0  # the swap is gone
    capsys.readouterr()
    assert main(["compare-tracks", str(tracked), str(truth), "--before", "original"]) == 0
    out = capsys.readouterr().out
    assert "identity switches 2 -> 0" in out, out
    assert (
        main(["compare-tracks", str(tracked), str(truth), "--before", "original", "--json"]) == 0
    )
    doc = json.loads(capsys.readouterr().out)
    # IDF1 after: not 1, mouse3 is still lost for 30 of 300 frames
    assert doc["before"]["idf1"] < 0.8 < 0.98 < doc["after"]["idf1"] < 1.0, doc
    # no log beside the truth: a clear error naming the file, status 2
    assert main(["compare-tracks", str(truth), str(truth), "--before", "original"]) == 2
    assert "truth.h5" in capsys.readouterr().err
