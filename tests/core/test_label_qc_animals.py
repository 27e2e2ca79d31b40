"""Label QC between animals: identities exchanged from one labeled frame to the next (and the
fix), an animal labeled on top of another, a point given to the wrong animal."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest

from napari_dlcflow.core.example.group import GroupSpec
from napari_dlcflow.core.example.truth_labels import make_labeled_group_project
from napari_dlcflow.core.labels.collected import load_folder, write_labels
from napari_dlcflow.core.labels.qc import check_labels, identity_fix
from napari_dlcflow.core.project.config import Project


@pytest.fixture(scope="module")
def group(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Two synthetic mice, every second frame of 40 labeled from the truth (20 images)."""
    folder = tmp_path_factory.mktemp("qc-animals")
    spec = GroupSpec(n_animals=2, n_frames=40, height=128, width=128, seed=3)
    return make_labeled_group_project(folder, spec, frame_indices=range(0, 40, 2)).root


def _copy(group: Path, tmp_path: Path) -> tuple[Project, Path]:
    root = tmp_path / "p"
    shutil.copytree(group, root)
    return Project.open(root), root / "labeled-data" / "synthetic_animals"


def _new_mistakes(project: Project, before: set[str]) -> list:
    """Likely mistakes not found on the truth (the truth's own findings move with a swapped
    animal, so only the checks between animals count in the identity test)."""
    return [f for f in check_labels(project) if f.mistake and f.key not in before]


def test_identity_swap_between_frames_found_and_fixed(group: Path, tmp_path: Path) -> None:
    project, data = _copy(group, tmp_path)
    # the truth has a few (bent tails); none between animals
    before = {f.key for f in check_labels(project)}
    assert not any(k.split("|")[0] in ("identity", "overlap", "crossed") for k in before)
    labels = load_folder(data)
    assert labels is not None
    original = labels.copy()
    m1 = [k for k, (ind, _) in enumerate(labels.keypoints) if ind == "mouse1"]
    m2 = [k for k, (ind, _) in enumerate(labels.keypoints) if ind == "mouse2"]
    labels.xy[7, m1 + m2] = labels.xy[7, m2 + m1]  # the two mice exchanged in one image
    write_labels(labels, data)
    found = [
        f for f in _new_mistakes(project, before) if f.kind in ("identity", "overlap", "crossed")
    ]
    # one finding (not a second one for the swap back in the next image)
    assert [(f.kind, f.image, {f.individual, f.other}) for f in found] == [
        ("identity", labels.image_names[7], {"mouse1", "mouse2"})
    ]
    assert "trade places" in found[0].reason and found[0].why.endswith(".")
    fixed = identity_fix(labels, found[0])
    np.testing.assert_array_equal(fixed.xy, original.xy)
    with pytest.raises(ValueError, match="only an identity"):
        identity_fix(labels, found[0].__class__("swap", "x", "y", "", (), 1.0, ""))


def test_animal_on_another_and_point_on_the_wrong_animal(group: Path, tmp_path: Path) -> None:
    project, data = _copy(group, tmp_path)
    before = {f.key for f in check_labels(project)}
    labels = load_folder(data)
    assert labels is not None
    k = labels.keypoints.index
    names = labels.image_names
    m1 = [n for n, (ind, _) in enumerate(labels.keypoints) if ind == "mouse1"]
    m2 = [n for n, (ind, _) in enumerate(labels.keypoints) if ind == "mouse2"]
    labels.xy[4, m2] = labels.xy[4, m1] + 1.0  # mouse2 labeled on top of mouse1
    # mouse1's tail base put on mouse2's tail base (a few px off)
    labels.xy[10, k(("mouse1", "tailbase"))] = labels.xy[10, k(("mouse2", "tailbase"))] + 2.0
    write_labels(labels, data)
    found = _new_mistakes(project, before)
    kinds = {(f.kind, f.image) for f in found}
    assert ("overlap", names[4]) in kinds
    crossed = [f for f in found if f.kind == "crossed"]
    assert [(f.image, f.individual, f.bodyparts, f.other) for f in crossed] == [
        (names[10], "mouse1", ("tailbase",), "mouse2")
    ]
    # one mistake, one finding: the crossed point is not also called misplaced
    assert not any(f.kind == "misplaced" and f.image == names[10] for f in found)
