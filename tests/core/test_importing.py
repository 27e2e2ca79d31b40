"""Importing foreign labels into a project: preview counts, renames, images, merge, and that
a refused or failed import leaves nothing behind."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from numpy.testing import assert_allclose
from test_formats import _coco_doc, make_per_image_set, write_png

from napari_dlcflow.core.formats import importing
from napari_dlcflow.core.formats.importing import (
    ImportBlockedError,
    ImportOptions,
    import_labels,
    new_project_for,
    preview_import,
)
from napari_dlcflow.core.labels.collected import load_folder, read_labels, write_labels
from napari_dlcflow.core.labels.validation import validate_project
from napari_dlcflow.core.project.config import Project
from napari_dlcflow.core.project.create import create_project
from napari_dlcflow.core.safe_io import SaveError

RENAME = {"eye-left-open": "eye-left"}
PARTS = ["nose", "eye-left", "eye-right", "tail"]


def _snapshot(root: Path) -> dict[str, bytes]:
    return {
        str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()
    }


@pytest.fixture
def dog_project(tmp_path: Path) -> Project:
    (tmp_path / "projects").mkdir()
    return create_project("dogs", "ana", [], tmp_path / "projects", bodyparts=PARTS)


def test_per_image_csv_preview_rename_and_import(dog_project: Project, tmp_path: Path) -> None:
    _names, xy = make_per_image_set(tmp_path / "dogs")
    opts = ImportOptions(read_options={"visibility_column": 3})
    before = _snapshot(dog_project.root)
    pv = preview_import(tmp_path / "dogs", dog_project, opts)
    assert not pv.ok and pv.unknown_bodyparts == ["eye-left-open"]
    assert "body parts not in config.yaml: eye-left-open (5 points)" in pv.problems[0]
    with pytest.raises(ImportBlockedError):
        import_labels(tmp_path / "dogs", dog_project, opts)
    assert _snapshot(dog_project.root) == before

    opts.rename = {**RENAME, "ear": "x"}
    pv = preview_import(tmp_path / "dogs", dog_project, opts)
    assert pv.ok, pv.problems
    assert pv.unused_renames == ["ear"]
    assert pv.n_images == 5 and pv.folders == {"dogs": 5}
    assert pv.points_per_bodypart == {"nose": 4, "eye-left": 5, "eye-right": 5, "tail": 4}
    assert [t.name for t in pv.targets] == [f"img{i:02d}.png" for i in range(7, 12)]
    assert _snapshot(dog_project.root) == before  # a preview writes nothing

    res = import_labels(tmp_path / "dogs", dog_project, opts)
    assert res.points == 18 and len(res.images_written) == 5
    folder = dog_project.root / "labeled-data" / "dogs"
    lab = load_folder(folder, "ana")
    assert lab.bodyparts == PARTS and lab.scorer == "ana"
    assert lab.image_names == [f"img{i:02d}.png" for i in range(7, 12)]
    want = xy.copy()
    want[2, 0] = np.nan
    assert_allclose(lab.xy, want)
    from PIL import Image

    assert np.asarray(Image.open(folder / "img09.png"))[5, 5, 0] == 20
    assert res.videos_added == [str(folder.resolve())]
    assert Project.open(dog_project.config_path).videos[str(folder.resolve())] == "0, 60, 0, 40"
    assert validate_project(Project.open(dog_project.config_path)).ok

    # importing again: same images found, nothing new, labels unchanged
    again = preview_import(tmp_path / "dogs", Project.open(dog_project.config_path), opts)
    assert {t.status for t in again.targets} == {"present"} and again.conflicts == 0


def test_coco_missing_images_refused_then_skipped(dog_project: Project, tmp_path: Path) -> None:
    (tmp_path / "frames").mkdir()
    for i in (0, 2):
        write_png(tmp_path / f"frames/pic_{i:02d}.png", value=i)
    xy = np.arange(3 * 4 * 2, dtype=float).reshape(3, 4, 2) + 1
    doc = _coco_doc(3, PARTS, xy, np.full((3, 4), 2))
    (tmp_path / "c.json").write_text(json.dumps(doc))
    before = _snapshot(dog_project.root)
    pv = preview_import(tmp_path / "c.json", dog_project)
    assert not pv.ok and "1 of 3 frames have no readable image" in pv.problems[0]
    assert "pic_01.png does not exist" in pv.problems[0]
    with pytest.raises(ImportBlockedError):
        import_labels(tmp_path / "c.json", dog_project)
    assert _snapshot(dog_project.root) == before
    res = import_labels(tmp_path / "c.json", dog_project, ImportOptions(skip_missing=True))
    assert res.folders == {"frames": 2} and res.points == 8
    lab = load_folder(dog_project.root / "labeled-data/frames", "ana")
    assert lab.image_names == ["img0.png", "img2.png"]
    assert_allclose(lab.xy, xy[[0, 2]])


def test_unreadable_image_blocks(dog_project: Project, tmp_path: Path) -> None:
    make_per_image_set(tmp_path / "dogs", n=2)
    (tmp_path / "dogs/dog_008.png").write_bytes(b"\x89PNG broken")
    pv = preview_import(tmp_path / "dogs", dog_project, ImportOptions(rename=RENAME))
    assert not pv.ok and "cannot be read as an image" in pv.problems[0]
    assert [t.status for t in pv.targets] == ["new", "unreadable"]


def test_sleap_into_new_project_extracts_frames(shared_data: Path, tmp_path: Path) -> None:
    from napari_dlcflow.core.formats import read_foreign
    from napari_dlcflow.core.video.reader import open_frames

    slp = shared_data / "sleap-tests/tracks/clip.slp"
    foreign = read_foreign(slp, frames=[0, 100, 1499])
    project = new_project_for(foreign, "flies", "me", tmp_path)
    assert project.multianimal and project.individuals == ["female", "male"]
    assert len(project.bodyparts) == 13 and ("thorax", "head") in project.skeleton
    pv = preview_import(foreign, project)
    assert pv.ok and pv.n_images == 3
    assert [t.name for t in pv.targets] == ["img0000.png", "img0100.png", "img1499.png"]
    res = import_labels(foreign, project)
    assert res.videos_added == []  # the project already links clip.mp4
    lab = load_folder(project.root / "labeled-data/clip", "me")
    assert lab.multianimal and lab.n_labeled == foreign.n_labeled
    k = lab.keypoints.index(("male", "head"))
    assert_allclose(lab.xy[0, k], [335.25, 444.75])
    from PIL import Image

    with open_frames(shared_data / "sleap-tests/tracks/clip.mp4") as video:
        frame = np.asarray(video.frame(100))
    img = np.asarray(Image.open(project.root / "labeled-data/clip/img0100.png"))
    assert img.shape[:2] == (1024, 1024)
    assert np.array_equal(img.reshape(frame.shape), frame)
    # COCO export of the multi-animal project reads back to the same labels
    from napari_dlcflow.core.formats.importing import export_coco

    out = export_coco(project, tmp_path / "flies.json")
    back = read_foreign(out, image_root=project.root)
    assert back.individuals == ["female", "male"] and back.keypoints == lab.keypoints
    assert [f.name for f in back.frames] == ["/".join(r) for r in lab.images]
    assert all(f.exists() for f in back.frames)
    assert_allclose(back.xy, lab.xy)


def test_sleap_into_single_animal_project_refused(shared_data: Path, dog_project: Project) -> None:
    pv = preview_import(
        shared_data / "sleap-tests/tracks/clip.2node.slp", dog_project, ImportOptions(frames=[0])
    )
    assert not pv.ok
    assert "individuals (female, male) but the project is single-animal" in pv.problems[0]


def test_dlc_other_scorer_merges_without_losing_labels(openfield_project: Path) -> None:
    project = Project.open(openfield_project)
    folder = openfield_project / "labeled-data" / "m4s1"
    mine = read_labels(folder / "CollectedData_Pranav.h5")
    theirs = mine.copy()
    theirs.scorer = "Bo"
    theirs.xy[0, 0] += 5.0  # a different opinion on one point
    theirs.xy[1, :] = np.nan  # and nothing on frame 1
    other = openfield_project.parent / "other" / "labeled-data" / "m4s1"
    other.mkdir(parents=True)
    write_labels(theirs, other)
    images_before = sorted(p.name for p in folder.glob("*.png"))
    pv = preview_import(other / "CollectedData_Bo.h5", project)
    assert pv.ok, pv.problems
    assert pv.conflicts == 1 and pv.n_images == 116
    assert {t.status for t in pv.targets} == {"present"}  # same images found in the project
    assert "1 points differ" in pv.warnings[0] and "kept" in pv.warnings[0]
    import_labels(other / "CollectedData_Bo.h5", project)
    after = load_folder(folder, "Pranav")
    assert after.image_names == mine.image_names
    assert_allclose(after.xy, mine.xy)  # nothing lost, nothing moved
    assert sorted(p.name for p in folder.glob("*.png")) == images_before  # no image added
    # with overwrite the imported value wins where it has one, and only there
    import_labels(
        other / "CollectedData_Bo.h5",
        Project.open(openfield_project),
        ImportOptions(overwrite=True),
    )
    after2 = load_folder(folder, "Pranav")
    assert_allclose(after2.xy[0, 0], mine.xy[0, 0] + 5.0)
    assert_allclose(after2.xy[1], mine.xy[1])


def test_failed_write_leaves_nothing_half_imported(
    dog_project: Project, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    make_per_image_set(tmp_path / "dogs", n=3)
    import_labels(tmp_path / "dogs", dog_project, ImportOptions(rename=RENAME, folder="first"))
    make_per_image_set(tmp_path / "more", n=4)
    before = _snapshot(dog_project.root)
    project = Project.open(dog_project.config_path)

    def failing(*args: object, **kwargs: object) -> None:
        raise SaveError("disk full (injected)")

    monkeypatch.setattr(importing, "write_labels", failing)
    with pytest.raises(SaveError, match="injected"):
        import_labels(tmp_path / "more", project, ImportOptions(rename=RENAME, folder="first"))
    assert _snapshot(dog_project.root) == before
    assert not list(dog_project.root.rglob("*.importing"))


def test_docs_python_example_runs(dog_project: Project, tmp_path: Path, capsys: Any) -> None:
    import re

    docs = Path(__file__).resolve().parents[2] / "docs" / "import-and-dataset.md"
    (code,) = re.findall(r"```python\n(.*?)```", docs.read_text(), flags=re.S)
    make_per_image_set(tmp_path / "dog-session")
    code = code.replace("~/projects/dogs-ana-2026-11-24", str(dog_project.root)).replace(
        '"dog-session"', repr(str(tmp_path / "dog-session"))
    )
    exec(compile(code, "import-and-dataset.md", "exec"), {})
    out = capsys.readouterr().out
    assert "{'dog-session': 5} 18" in out
    assert "ready for export" in out


def test_cli_import_validate_and_coco(dog_project: Project, tmp_path: Path, capsys: Any) -> None:
    from napari_dlcflow.cli import main

    make_per_image_set(tmp_path / "dog-session")
    root = str(dog_project.root)
    args = ["import-labels", str(tmp_path / "dog-session"), "--project", root]
    args += ["--visibility-column", "3"]
    assert main([*args, "--dry-run"]) == 1
    assert "PROBLEM: body parts not in config.yaml: eye-left-open" in capsys.readouterr().out
    assert not (dog_project.root / "labeled-data" / "dog-session").exists()
    assert main([*args, "--rename", "eye-left-open=eye-left"]) == 0
    assert "imported 5 new images and 18 points" in capsys.readouterr().out
    assert main(["validate", root]) == 0
    assert "ready for export" in capsys.readouterr().out
    assert main(["export-coco", root, str(tmp_path / "out.json")]) == 0
    assert "5 images, 5 annotations" in capsys.readouterr().out
    assert main(["import-labels", str(tmp_path / "nothing.json"), "--project", root]) == 2


def test_cli_sleap_new_project(shared_data: Path, tmp_path: Path, capsys: Any) -> None:
    from napari_dlcflow.cli import main

    slp = shared_data / "sleap-tests/tracks/clip.slp"
    args = ["import-labels", str(slp), "--new-project", "flies", "me", str(tmp_path)]
    assert main([*args, "--frames", "0,100,1499"]) == 0
    out = capsys.readouterr().out
    assert "3 images into labeled-data/clip (3)" in out
    assert "imported 3 new images and 76 points" in out
    (root,) = tmp_path.glob("flies-me-*")
    assert sorted(p.name for p in (root / "labeled-data/clip").glob("*.png")) == [
        "img0000.png",
        "img0100.png",
        "img1499.png",
    ]
    assert main(["validate", str(root)]) == 0


def test_unsaved_config_refused(dog_project: Project, tmp_path: Path) -> None:
    make_per_image_set(tmp_path / "dogs", n=2)
    dog_project.pcutoff = 0.3  # an edit not saved yet
    with pytest.raises(ImportBlockedError, match="unsaved changes"):
        import_labels(tmp_path / "dogs", dog_project, ImportOptions(rename=RENAME))
    assert not (dog_project.root / "labeled-data" / "dogs").exists()


def test_real_multi_animal_dlc_file_into_matching_project(
    shared_data: Path, tmp_path: Path
) -> None:
    src = shared_data / "sleap-tests/dlc/labeled-data/video/maudlc_testdata_v2.csv"
    project = create_project(
        "ma",
        "LM",
        [],
        tmp_path,
        multianimal=True,
        bodyparts=["A", "B", "C"],
        unique_bodyparts=["D", "E"],
        individuals=["Animal1", "Animal2"],
    )
    res = import_labels(src, project)
    assert res.folders == {"video": 4} and res.points == 17
    lab = load_folder(project.root / "labeled-data/video", "LM")
    assert lab.image_names == ["img000.png", "img001.png", "img002.png", "img003.png"]
    assert_allclose(lab.xy[3, lab.keypoints.index(("single", "E"))], [34, 35])
    assert_allclose(lab.xy[1, lab.keypoints.index(("Animal2", "C"))], [20, 21])
    report = validate_project(Project.open(project.config_path))
    # the 30x30 test frames are smaller than some of the coordinates in this file
    assert [i.code for i in report.problems] == ["outside"]
    assert "img003.png single/E (34, 35)" in report.problems[0].items


def test_unique_body_part_under_the_wrong_individual_refused(
    shared_data: Path, tmp_path: Path
) -> None:
    src = shared_data / "sleap-tests/dlc/labeled-data/video/maudlc_testdata_v2.csv"
    project = create_project(
        "ma",
        "LM",
        [],
        tmp_path,
        multianimal=True,
        bodyparts=["A", "B", "C", "D", "E"],
        individuals=["Animal1", "Animal2"],
    )
    pv = preview_import(src, project)
    assert pv.problems == [
        "columns config.yaml does not have: single/D, single/E (4 points; unique body parts "
        "belong to 'single')"
    ]
    pv = preview_import(src, project, ImportOptions(drop_unknown=True))
    assert pv.ok and "left out 4 points" in pv.warnings[0]


def test_odd_characters_in_paths(tmp_path: Path) -> None:
    where = tmp_path / "lab #1 & Zoë [2] 100%"
    where.mkdir()
    project = create_project("dogs", "ana", [], where, bodyparts=PARTS)
    make_per_image_set(where / "séance chien #3")
    res = import_labels(where / "séance chien #3", project, ImportOptions(rename=RENAME))
    folder = project.root / "labeled-data" / "séance_chien_3"
    assert res.folders == {"séance_chien_3": 5}
    lab = load_folder(folder, "ana")
    assert lab.n_labeled == 19
    assert validate_project(Project.open(project.config_path)).ok
