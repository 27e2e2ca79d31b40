"""Reading for label QC: a project's labeled folders as groups of poses (one group per kind of
animal, split per view), image sizes from the headers, frame order from the image names, and
the scene parts split off the animal's."""

from __future__ import annotations

import re
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from napari_dlcflow.core.labels.collected import UNIQUE_INDIVIDUAL, Labels, load_folder
from napari_dlcflow.core.labels.qc_finding import Finding, QCSettings
from napari_dlcflow.core.labels.qc_scene import scene_from_motion
from napari_dlcflow.core.labels.qc_shape import Group as _Group
from napari_dlcflow.core.labels.qc_shape import Pose as _Pose
from napari_dlcflow.core.labels.qc_views import split_views

if TYPE_CHECKING:
    from napari_dlcflow.core.project.config import Project

__all__ = [
    "by_view",
    "frame_number",
    "image_size",
    "pose_groups",
    "project_labels",
    "split_scene",
    "without_outside",
]


def image_size(path: Path) -> tuple[int, int] | None:
    """``(height, width)`` from the image header, or None if it cannot be read."""
    from PIL import Image, UnidentifiedImageError

    try:
        with Image.open(path) as im:
            w, h = im.size
    except (OSError, UnidentifiedImageError):
        return None
    return int(h), int(w)


def project_labels(project: Project) -> list[tuple[Path, Labels]]:
    """Each ``labeled-data`` folder of ``project`` with labels, and its labels."""
    out: list[tuple[Path, Labels]] = []
    base = project.root / "labeled-data"
    if not base.is_dir():
        return out
    for folder in sorted(p for p in base.iterdir() if p.is_dir()):
        labels = load_folder(folder, project.scorer) or load_folder(folder)
        if labels is not None and labels.images:
            out.append((folder, labels))
    return out


def frame_number(name: str) -> tuple[int, str]:
    """Sort key of an image name: its trailing frame number (-1 if none), then the name."""
    m = re.search(r"(\d+)(?=\.[^.]+$)", name)
    return (int(m.group(1)) if m else -1, name)


def pose_groups(tables: Sequence[tuple[Path, Labels]]) -> dict[str, _Group]:
    """The poses of all folders: group ``animal`` for the animals' parts, ``unique`` for a
    multi-animal project's unique body parts; in frame order within each folder."""
    groups: dict[str, _Group] = {}
    for folder, labels in tables:
        names = [row[-1] for row in labels.images]
        order = sorted(range(len(names)), key=lambda r: frame_number(names[r]))
        inds = list(dict.fromkeys(i for i, _ in labels.keypoints))
        for ind in inds:
            gname = "unique" if ind == UNIQUE_INDIVIDUAL else "animal"
            cols = [k for k, (i, _) in enumerate(labels.keypoints) if i == ind]
            parts = [labels.keypoints[k][1] for k in cols]
            group = groups.setdefault(gname, _Group(parts=[]))
            for bp in parts:
                if bp not in group.parts:
                    group.parts.append(bp)
        for r in order:
            image = labels.images[r][-1]
            for ind in inds:
                gname = "unique" if ind == UNIQUE_INDIVIDUAL else "animal"
                group = groups[gname]
                xy = np.full(len(group.parts), np.nan + 0j)
                for k, (i, bp) in enumerate(labels.keypoints):
                    if i == ind:
                        x, y = labels.xy[r, k]
                        if np.isfinite(x) and np.isfinite(y):
                            xy[group.parts.index(bp)] = complex(x, y)
                group.poses.append(_Pose(folder.name, image, ind, xy))
    for group in groups.values():  # parts added after early poses were made
        for pose in group.poses:
            if len(pose.xy) < len(group.parts):
                pose.xy = np.concatenate(
                    [pose.xy, np.full(len(group.parts) - len(pose.xy), np.nan + 0j)]
                )
    return groups


def by_view(
    groups: dict[str, _Group], declared: dict[str, list[str]] | None = None
) -> dict[str, _Group]:
    """Each group split into its views (``animal@top``, ``animal@bot``; one view: as it is)."""
    out: dict[str, _Group] = {}
    for gname, group in groups.items():
        views = split_views(group.parts, declared)
        if len(views) == 1:
            out[gname] = group
            continue
        for view, parts in views.items():
            idx = [group.parts.index(p) for p in parts]
            sub = _Group(parts=list(parts))
            sub.poses = [_Pose(q.folder, q.image, q.individual, q.xy[idx]) for q in group.poses]
            out[f"{gname}@{view}" if view else gname] = sub
    return out


def without_outside(group: _Group, outside: Sequence[Finding]) -> np.ndarray:
    """The group's poses without the points outside the image."""
    X = group.array()
    index = {(p.folder, p.image, p.individual): i for i, p in enumerate(group.poses)}
    for f in outside:
        i = index.get((f.folder, f.image, f.individual))
        if i is not None and f.bodyparts[0] in group.parts:
            X[i, group.parts.index(f.bodyparts[0])] = np.nan + 0j
    return X


def _subgroup(group: _Group, parts: Sequence[str]) -> _Group:
    idx = [group.parts.index(p) for p in parts]
    sub = _Group(parts=list(parts))
    sub.poses = [_Pose(q.folder, q.image, q.individual, q.xy[idx]) for q in group.poses]
    return sub


def split_scene(
    groups: dict[str, _Group],
    declared: list[str] | None,
    views: dict[str, list[str]],
    s: QCSettings,
) -> tuple[dict[str, _Group], dict[str, _Group]]:
    """Each group without its scene parts (declared, else found from the motion), and the
    scene parts of each group that has some (same name, same poses)."""
    bodies: dict[str, _Group] = {}
    scenes: dict[str, _Group] = {}
    for gname, group in groups.items():
        if declared is not None:
            scene = [p for p in group.parts if p in declared]
        else:  # per view: a mirror view moves the other way, centroids across views cancel
            found = {
                p
                for view in by_view({gname: group}, views).values()
                for p in scene_from_motion(view, view.array(), s.scene_ratio, s.min_poses)
            }
            scene = [p for p in group.parts if p in found]
        rest = [p for p in group.parts if p not in scene]
        if not scene or not rest:
            bodies[gname] = group
            continue
        bodies[gname] = _subgroup(group, rest)
        scenes[gname] = _subgroup(group, scene)
    return bodies, scenes
