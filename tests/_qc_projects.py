"""Label-QC test projects shared by the core and the widget tests: a copy to change
(:func:`copy_project`), labels replaced whole (:func:`replace_labels`), and images that hold
two views (a mirror): the synthetic animal seen from the top and reflected below, with parts
named by their view (``nose_top``, ``nose_bot``) or by number (``p1..p22``)."""

from __future__ import annotations

import shutil
from pathlib import Path

from napari_dlcflow.core.example.synthetic import SyntheticSpec
from napari_dlcflow.core.example.truth_labels import make_labeled_synthetic_project
from napari_dlcflow.core.labels.collected import Labels, load_folder, write_labels
from napari_dlcflow.core.project.config import Project


def two_view_project(folder: Path) -> Path:
    """The synthetic animal seen from the top and in a mirror below (reflected: y -> 127 - y),
    both in one 128x128 image: 30 images, 11 parts per view, ``nose_top`` ... ``nose_bot``."""
    import numpy as np

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
    replace_labels(two, data)
    return root


def replace_labels(labels: Labels, data: Path) -> None:
    """Write ``labels`` as the folder's only labels (other body parts or individuals than the
    file had: the old files go first, as a user starting over would)."""
    for f in data.glob("CollectedData_*"):
        f.unlink()
    write_labels(labels, data)


def copy_project(src: Path, tmp_path: Path) -> tuple[Path, Path]:
    """A copy of the project ``src`` in ``tmp_path / "p"`` and its one labeled-data folder."""
    root = tmp_path / "p"
    shutil.copytree(src, root)
    (data,) = [p for p in (root / "labeled-data").iterdir() if p.is_dir()]
    return root, data


def numbered_views(two_view: Path, tmp_path: Path) -> tuple[Path, list[str]]:
    """The two-view project with the views apart (top view in the upper half of the image,
    the mirror view in the lower half, as a mirror rig films them) and parts named
    ``p1..p22``: nothing in the names says the views."""
    root, data = copy_project(two_view, tmp_path)
    labels = load_folder(data)
    assert labels is not None
    half = labels.xy.shape[1] // 2
    xy = labels.xy.copy()
    xy[:, :half, 1] = 0.45 * labels.xy[:, :half, 1]
    xy[:, half:, 1] = 127.0 - 0.45 * labels.xy[:, :half, 1]
    labels.xy = xy
    labels.keypoints = [("", f"p{k + 1}") for k in range(2 * half)]
    replace_labels(labels, data)
    parts = [bp for _, bp in labels.keypoints]
    project = Project.open(root / "config.yaml")
    project.bodyparts = parts  # config.yaml names the parts as the labels do
    project.skeleton = []
    project.save(force=True)
    return root, parts
