"""Label QC of images that hold two views (a mirror): each view is checked apart, a part hidden
in one view and seen in the other is not missing; views from the names or the sidecar."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest

from napari_dlcflow.core.example.synthetic import SyntheticSpec
from napari_dlcflow.core.example.truth_labels import make_labeled_synthetic_project
from napari_dlcflow.core.labels.collected import load_folder, write_labels
from napari_dlcflow.core.labels.qc import check_labels
from napari_dlcflow.core.labels.qc_views import split_views, views_from_names
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
    """The synthetic animal seen from the top and in a mirror below (reflected: y -> 127 - y),
    both in one 128x128 image: 30 images, 11 parts per view, ``nose_top`` ... ``nose_bot``."""
    folder = tmp_path_factory.mktemp("qc-views")
    spec = SyntheticSpec(n_frames=120, height=128, width=128, seed=2)
    root = make_labeled_synthetic_project(folder, spec, n_labeled=30).root
    (data,) = [p for p in (root / "labeled-data").iterdir() if p.is_dir()]
    labels = load_folder(data)
    assert labels is not None
    two = labels.copy()
    two.keypoints = [("", f"{bp}_{v}") for v in ("top", "bot") for _, bp in labels.keypoints]
    below = labels.xy.copy()
    below[..., 1] = 127.0 - below[..., 1]
    two.xy = np.concatenate([labels.xy, below], axis=1)
    for f in data.glob("CollectedData_*"):
        f.unlink()
    write_labels(two, data)
    return root


def _copy(two_view: Path, tmp_path: Path) -> tuple[Path, Path]:
    root = tmp_path / "p"
    shutil.copytree(two_view, root)
    (data,) = [p for p in (root / "labeled-data").iterdir() if p.is_dir()]
    return root, data


def test_two_views_are_checked_apart(two_view: Path, tmp_path: Path) -> None:
    root, data = _copy(two_view, tmp_path)
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
