"""Label QC of images that hold two views (a mirror): each view is checked apart, a part hidden
in one view and seen in the other is not missing; views from the names or the sidecar."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from _qc_projects import copy_project, numbered_views, two_view_project
from napari_dlcflow.cli import main
from napari_dlcflow.core.labels.collected import load_folder, write_labels
from napari_dlcflow.core.labels.qc import check_labels
from napari_dlcflow.core.labels.qc_views import (
    split_views,
    views_from_names,
    views_from_positions,
    views_note,
)
from napari_dlcflow.core.project.config import Project
from napari_dlcflow.core.project.sidecar import Sidecar


def test_views_from_names_and_declared() -> None:
    mirror = [f"{p}_{v}" for v in ("top", "bot") for p in ("nose", "paw1LH", "tailBase")]
    assert views_from_names([*mirror, "obsLow_bottom"]) == {
        "top": mirror[:3],
        "bot": [*mirror[3:], "obsLow_bottom"],
    }
    cams = ["cam1_nose", "cam1_tail", "cam2_nose", "cam2_tail"]
    assert views_from_names(cams) == {"cam1": cams[:2], "cam2": cams[2:]}
    # left/right body parts of one view are no views; nor is a name without a view
    assert views_from_names(["ear_left", "ear_right", "paw_left", "paw_right"]) == {}
    assert views_from_names(["nose_top", "tail_top", "nose_bot", "tail_bot", "x"]) == {}
    assert split_views(["a", "b", "c"]) == {"": ["a", "b", "c"]}
    assert split_views(["a", "b", "c"], {"v1": ["a", "c"]}) == {"v1": ["a", "c"], "": ["b"]}


@pytest.fixture(scope="module")
def two_view(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return two_view_project(tmp_path_factory.mktemp("qc-views"))


def test_qc_projectss_are_checked_apart(two_view: Path, tmp_path: Path) -> None:
    root, data = copy_project(two_view, tmp_path)
    project = Project.open(root)
    # per view, the truth is clean: no likely mistake
    assert [f for f in check_labels(project) if f.mistake] == []
    labels = load_folder(data)
    assert labels is not None
    # views declared in the sidecar give the same groups
    side = Sidecar.load(root)
    parts = [bp for _, bp in labels.keypoints]
    side.label_qc["views"] = {"up": parts[:11], "mirror": parts[11:]}
    side.save(root)
    assert [f for f in check_labels(project) if f.mistake] == []
    side.label_qc.pop("views")
    side.save(root)
    # a swap in the mirror view is found there; a part hidden in one view but seen in the
    # other is not missing, hidden in both it is a note
    k = [bp for _, bp in labels.keypoints].index
    names = labels.image_names
    xy = labels.xy
    a, b = k("left_forepaw_bot"), k("right_forepaw_bot")
    xy[5, [a, b]] = xy[5, [b, a]]
    xy[12, k("neck_bot")] = np.nan
    xy[20, [k("neck_bot"), k("neck_top")]] = np.nan
    write_labels(labels, data)
    found = check_labels(project)
    assert {(f.kind, f.image, f.bodyparts) for f in found if f.mistake} == {
        ("swap", names[5], ("left_forepaw_bot", "right_forepaw_bot")),
    }
    missing = {(f.image, f.bodyparts) for f in found if f.kind == "missing"}
    assert missing == {(names[20], ("neck_top",)), (names[20], ("neck_bot",))}
    assert all(not f.mistake for f in found if f.kind == "missing")


def test_views_found_from_the_positions(
    two_view: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    root, parts = numbered_views(two_view, tmp_path)
    project = Project.open(root)
    (data,) = [p for p in (root / "labeled-data").iterdir() if p.is_dir()]
    labels = load_folder(data)
    assert labels is not None
    X = labels.xy[..., 0] + 1j * labels.xy[..., 1]
    # one animal moving and turning freely: no fixed line keeps some of its parts apart
    assert views_from_positions(X[:, :11], parts[:11]) == {}
    found = views_from_positions(X, parts)
    assert sorted(found.values()) == [parts[:11], parts[11:]]
    # two rows of one body that slides without turning: a fixed line separates them, but the
    # gap is the parts' own spacing, not a margin between two views; 3x apart, it is one
    rng = np.random.default_rng(0)
    shift = rng.uniform(0, 200, (40, 1)) + 1j * rng.uniform(0, 4, (40, 1))
    for gap, views in ((10.0, 0), (30.0, 2)):
        rows = np.array([0, 10, 20, 0, 10, 20]) + 1j * np.array([0, 0, 0, gap, gap, gap])
        rows = rows + shift + rng.normal(0, 0.5, (40, 6)) + 1j * rng.normal(0, 0.5, (40, 6))
        assert len(views_from_positions(rows, parts[:6])) == views
    # the found views feed the per-view checks and are said once, in a run-level note
    notes: list[str] = []
    assert [f for f in check_labels(project, notes=notes) if f.mistake] == []
    assert notes == [views_note(found)]
    assert notes[0].startswith("views found from the positions: {A: [")
    capsys.readouterr()
    assert main(["check-labels", str(root)]) == 0
    assert capsys.readouterr().out.splitlines().count(notes[0]) == 1
    # the sidecar's empty views turn the search off (names give none either: one view)
    side = Sidecar.load(root)
    side.label_qc["views"] = {}
    side.save(root)
    notes.clear()
    check_labels(project, ["duplicate"], notes=notes)
    assert notes == []
