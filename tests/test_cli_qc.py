"""``napari-dlcflow check-labels`` on the real openfield project: table, CSV, kinds, errors."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest

from napari_dlcflow.cli import build_parser, main
from napari_dlcflow.core.labels.collected import read_labels, write_labels
from napari_dlcflow.core.labels.qc import KINDS


def test_check_labels_prints_and_writes_csv(
    openfield_project: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = openfield_project / "labeled-data" / "m4s1"
    labels = read_labels(folder / "CollectedData_Pranav.h5")
    labels.xy[7, 0] = labels.xy[7, 1]  # snout put on the left ear
    write_labels(labels, folder)
    out_csv = tmp_path / "findings.csv"
    rc = main(["check-labels", str(openfield_project), "--csv", str(out_csv)])
    text = capsys.readouterr().out
    assert rc == 1  # findings: a script can stop here
    lines = text.splitlines()
    assert lines[0].split()[:5] == ["severity", "kind", "folder/image", "body", "parts"]
    assert any(
        line.startswith("mistake  duplicate")
        and "m4s1/img0007.png" in line
        and "snout+leftear" in line
        for line in lines
    )
    assert lines[-1] == f"written: {out_csv}"
    assert any(line.startswith("why duplicate (mistake): ") for line in lines)
    summary = next(line for line in lines if "likely mistake" in line)
    print(text)
    assert summary.startswith("4 likely mistakes: ")
    rows = list(csv.DictReader(out_csv.open()))
    assert sorted(r["kind"] for r in rows if r["severity"] == "mistake") == [
        "duplicate",
        "misplaced",
        "misplaced",
        "swap",
    ]
    dup = next(r for r in rows if r["kind"] == "duplicate")
    assert dup["image"] == "img0007.png" and dup["bodyparts"] == "snout+leftear"
    assert dup["key"] == "duplicate|m4s1|img0007.png||snout+leftear"
    # --all adds the notes to the printed table (the CSV has them anyway)
    notes = [r for r in rows if r["severity"] == "note"]
    rc = main(["check-labels", str(openfield_project), "--all"])
    text = capsys.readouterr().out
    assert rc == 1 and sum(line.startswith("note ") for line in text.splitlines()) == len(notes)
    # only some checks; the config file works as well as the folder
    rc = main(["check-labels", str(openfield_project / "config.yaml"), "--kinds", "outside"])
    assert rc == 0
    assert capsys.readouterr().out.strip() == "no likely mistakes"


def test_check_labels_errors_name_the_problem(
    openfield_project: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["check-labels", str(openfield_project), "--kinds", "swap,typo"]) == 2
    assert "unknown check(s) typo" in capsys.readouterr().err
    assert main(["check-labels", str(tmp_path / "nowhere")]) == 2
    assert "nowhere" in capsys.readouterr().err
    h5 = openfield_project / "labeled-data" / "m4s1" / "CollectedData_Pranav.h5"
    h5.write_bytes(b"")
    assert main(["check-labels", str(openfield_project)]) == 2
    assert "CollectedData_Pranav.h5" in capsys.readouterr().err


def test_help_lists_every_check() -> None:
    sub = next(a for a in build_parser()._actions if a.dest == "command")
    text = sub.choices["check-labels"].format_help()  # type: ignore[union-attr]
    assert all(k in text for k in KINDS)
