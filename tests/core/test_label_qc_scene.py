"""Label QC of points that do not move with the animal (an obstacle, a joystick: scene parts,
found from the motion or declared), parts that stay put in the image (a head-fixed nose), and
points on the image border (a part leaving the frame)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from _qc_projects import copy_project, replace_labels
from napari_dlcflow.core.example.synthetic import SyntheticSpec
from napari_dlcflow.core.example.truth_labels import make_labeled_synthetic_project
from napari_dlcflow.core.labels.collected import load_folder, write_labels
from napari_dlcflow.core.labels.qc import check_labels
from napari_dlcflow.core.labels.qc_scene import fixed_parts, scene_from_motion
from napari_dlcflow.core.labels.qc_shape import Group, Pose
from napari_dlcflow.core.project.config import Project
from napari_dlcflow.core.project.sidecar import Sidecar


def test_scene_and_fixed_parts_from_motion() -> None:
    rng = np.random.default_rng(0)
    n = 30
    centre = np.cumsum(rng.normal(0, 2, n) + 1j * rng.normal(0, 2, n))  # the animal walks
    body = np.array([0, 10, 20 + 5j, 30, 15 - 8j])
    X = centre[:, None] + body[None, :] + rng.normal(0, 0.5, (n, 5))
    bar = 200 + 40 * np.sin(np.arange(n)) + 300j  # an obstacle on a belt: its own motion
    nose = np.full(n, 50 + 60j) + rng.normal(0, 0.2, n)  # held still in the image
    X = np.column_stack([X, bar, nose])
    parts = ["a", "b", "c", "d", "e", "bar", "nose"]
    group = Group(parts=parts, poses=[Pose("v", f"img{i}.png", "", X[i]) for i in range(n)])
    assert scene_from_motion(group, X, 2.0, 8) == ["bar"]
    assert fixed_parts(group, X, 2.0, 8) == ["nose"]
    # an animal alone: every part moves with it
    still = Group(parts=parts[:5], poses=[Pose("v", f"i{i}", "", X[i, :5]) for i in range(n)])
    assert scene_from_motion(still, X[:, :5], 2.0, 8) == []
    assert fixed_parts(still, X[:, :5], 2.0, 8) == []


@pytest.fixture(scope="module")
def with_joystick(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The synthetic animal (30 images, 128x128) and a two-point joystick that moves on its
    own (``stick_top`` 20 px above ``stick_base``)."""
    folder = tmp_path_factory.mktemp("qc-scene")
    spec = SyntheticSpec(n_frames=120, height=128, width=128, seed=2)
    root = make_labeled_synthetic_project(folder, spec, n_labeled=30).root
    (data,) = [p for p in (root / "labeled-data").iterdir() if p.is_dir()]
    labels = load_folder(data)
    assert labels is not None
    out = labels.copy()
    out.keypoints = [*labels.keypoints, ("", "stick_base"), ("", "stick_top")]
    n = len(labels.images)
    x = 64 + 50 * np.sin(np.arange(n) * 2.1)
    base = np.column_stack([x, np.full(n, 110.0)])
    top = base + np.array([0.0, -20.0]) + np.random.default_rng(1).normal(0, 0.3, (n, 2))
    out.xy = np.concatenate([labels.xy, base[:, None], top[:, None]], axis=1)
    replace_labels(out, data)
    return root


def test_scene_parts_are_checked_apart(with_joystick: Path, tmp_path: Path) -> None:
    root, data = copy_project(with_joystick, tmp_path)
    project = Project.open(root)
    side = Sidecar.load(root)
    side.label_qc["scene_parts"] = ["stick_base", "stick_top"]
    side.save(root)
    # the joystick is not judged in the animal's frame: the truth is clean
    assert [f for f in check_labels(project) if f.mistake] == []
    labels = load_folder(data)
    assert labels is not None
    k = [bp for _, bp in labels.keypoints].index
    names = labels.image_names
    dx = 25.0 if labels.xy[7, k("stick_top")][0] < 64 else -25.0
    labels.xy[7, k("stick_top")] += (dx, 10.0)  # the joystick's top misplaced
    labels.xy[12, k("nose")] = (0.8, labels.xy[12, k("nose")][1])  # on the left border
    # an image with two points of the animal only: no shape to fit, their edge is judged
    keep = [k("body"), k("tailbase")]
    xy20 = labels.xy[20].copy()
    labels.xy[20] = np.nan
    labels.xy[20, keep] = xy20[keep]
    labels.xy[20, k("tailbase")] = xy20[k("body")] + 3.0 * (xy20[k("tailbase")] - xy20[k("body")])
    labels.xy[20, [k("stick_base"), k("stick_top")]] = xy20[[k("stick_base"), k("stick_top")]]
    write_labels(labels, data)
    found = check_labels(project)
    mistakes = {(f.kind, f.image, frozenset(f.bodyparts)) for f in found if f.mistake}
    assert mistakes == {
        ("skeleton", names[7], frozenset({"stick_base", "stick_top"})),
        ("skeleton", names[20], frozenset({"body", "tailbase"})),
    }
    stick = next(f for f in found if f.image == names[7])
    assert "scene points" in stick.reason
    # the nose on the border (the part leaving the frame) is a note, saying so
    border = [f for f in found if f.image == names[12] and "nose" in f.bodyparts]
    assert border and all(not f.mistake and "image border" in f.reason for f in border)
