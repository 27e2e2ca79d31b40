"""The project-wide validation report on the real openfield project and broken copies of it."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest

from napari_dlcflow.core.formats.importing import register_folders
from napari_dlcflow.core.labels.collected import read_labels, write_labels
from napari_dlcflow.core.labels.validation import validate_project
from napari_dlcflow.core.project.config import Project


def _ready(root: Path) -> Project:
    """The openfield copy with its placeholders repaired (project_path, video_sets)."""
    project = Project.open(root)
    project.repair_project_path()
    for key in list(project.videos):
        project.remove_video(key)
    assert register_folders(project) == [str((root / "labeled-data" / "m4s1").resolve())]
    project.save()
    return Project.open(root)


def _codes(report) -> dict[str, bool]:
    return {i.code: i.blocking for i in report.issues}


def test_openfield_as_shipped_and_repaired(openfield_project: Path) -> None:
    before = {p: p.read_bytes() for p in openfield_project.rglob("*") if p.is_file()}
    report = validate_project(Project.open(openfield_project))
    assert _codes(report) == {"project-path": True, "no-video-entry": True}
    assert "WILL BE AUTOMATICALLY UPDATED" in report.problems[0].message
    assert not report.ok
    assert {p: p.read_bytes() for p in openfield_project.rglob("*") if p.is_file()} == before
    report = validate_project(_ready(openfield_project))
    assert report.ok and report.issues == []
    assert report.labeled_frames == {"m4s1": 116} and report.labeled_points == {"m4s1": 464}
    assert report.image_sizes == {"m4s1": {(480, 640): 116}}
    assert "ready for export" in report.format()


def test_every_kind_of_problem(openfield_project: Path) -> None:
    project = _ready(openfield_project)
    folder = openfield_project / "labeled-data" / "m4s1"
    labels = read_labels(folder / "CollectedData_Pranav.h5")
    labels.xy[3, 0] = (640.0, 10.0)  # x == width: DLC drops it
    labels.keypoints.append(("", "tail_tip"))  # not in config.yaml
    labels.xy = np.concatenate([labels.xy, np.full((116, 1, 2), 7.0)], axis=1)
    labels.xy[4] = np.nan  # a frame with no label
    write_labels(labels, folder)
    (folder / "img0010.png").unlink()  # listed, missing
    shutil.copy(folder / "img0020.png", folder / "img9999.png")  # unlisted and a duplicate
    (folder / "img0011.png").write_bytes(b"broken")  # unreadable
    from PIL import Image

    Image.fromarray(np.zeros((100, 200, 3), np.uint8)).save(folder / "img0012.png")  # size
    report = validate_project(project)
    codes = _codes(report)
    assert codes == {
        "unreadable-image": True,
        "mixed-sizes": False,
        "missing-image": True,
        "unlabeled-image": False,
        "empty-frame": False,
        "outside": True,
        "unknown-keypoints": True,
        "duplicate-frames": False,
    }
    by = {i.code: i for i in report.issues}
    assert by["missing-image"].items == ("img0010.png",)
    assert by["unlabeled-image"].items == ("img9999.png",)
    assert by["empty-frame"].items == ("img0004.png",)
    out = by["outside"].items
    assert out[0] == "img0003.png snout (640, 10)"
    # the small image's labels fall outside it too (all 4 body parts + tail_tip at 7, 7 inside)
    assert [o.split()[:2] for o in out[1:]] == [
        ["img0012.png", b] for b in ("snout", "leftear", "rightear", "tailbase")
    ]
    assert by["unknown-keypoints"].items == ("tail_tip",)
    assert by["duplicate-frames"].items == ("m4s1/img0020.png, m4s1/img9999.png",)
    assert by["unreadable-image"].items == ("img0011.png",)
    assert report.image_sizes["m4s1"] == {(480, 640): 114, (100, 200): 1}
    text = report.format()
    assert "4 blocking problems" in text and "4 warnings" in text


def test_scorer_mismatch_blocks(openfield_project: Path) -> None:
    project = _ready(openfield_project)
    folder = openfield_project / "labeled-data" / "m4s1"
    for suffix in (".h5", ".csv"):
        (folder / f"CollectedData_Pranav{suffix}").rename(folder / f"CollectedData_Bo{suffix}")
    report = validate_project(project)
    assert _codes(report) == {"scorer": True, "nothing-labeled": True}
    assert "'Pranav'" in report.problems[0].message


@pytest.mark.parametrize("content", [b"", b"\x89HDF\r\n\x1a\ntruncated"])
def test_corrupt_labels_block(openfield_project: Path, content: bytes) -> None:
    project = _ready(openfield_project)
    (openfield_project / "labeled-data/m4s1/CollectedData_Pranav.h5").write_bytes(content)
    report = validate_project(project)
    assert report.problems[0].code == "unreadable-labels"
    assert "CollectedData_Pranav.h5" in report.problems[0].message


def test_other_scorer_beside_the_project_scorer_is_a_warning(openfield_project: Path) -> None:
    project = _ready(openfield_project)
    folder = openfield_project / "labeled-data" / "m4s1"
    other = read_labels(folder / "CollectedData_Pranav.h5")
    other.scorer = "Bo"
    write_labels(other, folder)
    report = validate_project(project)
    assert report.ok
    assert [(i.code, i.blocking) for i in report.issues] == [("other-scorer", False)]
    assert "Bo" in report.issues[0].message
