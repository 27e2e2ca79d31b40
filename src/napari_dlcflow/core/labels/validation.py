"""A project-wide check of the labels before a training dataset is made.

:func:`validate_project` looks at every ``labeled-data`` folder and returns a
:class:`ValidationReport`: blocking problems (the export must not go ahead: DeepLabCut would
skip or silently change data) and warnings (worth a look, legal). Reading never writes.

Blocking: ``project_path`` in config.yaml is not the project's folder (DeepLabCut would rewrite
the config and write its output elsewhere); a label file that cannot be read; images listed
in the labels but missing on disk;
points outside the image (DeepLabCut drops them); body parts or individuals not in config.yaml
(DeepLabCut drops such columns); a scorer other than the config's (DeepLabCut skips the file);
a labeled folder that no ``video_sets`` entry names (DeepLabCut ignores it); images that cannot
be read; no labeled frame in the whole project.
Warnings: images on disk without labels; listed frames with no label; the same image content
twice; mixed image sizes within a folder (legal, worth seeing); folders without labels;
CollectedData of other scorers beside the project scorer's (not used by DeepLabCut).
"""

from __future__ import annotations

import hashlib
import io
import os
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from napari_dlcflow.core.labels.collected import (
    LabelsError,
    compare_with_config,
    find_label_files,
    folder_images,
    load_folder,
    points_outside,
)
from napari_dlcflow.core.untrusted import quoted, shorten

if TYPE_CHECKING:
    from napari_dlcflow.core.project.config import Project

__all__ = ["Issue", "ValidationReport", "validate_project"]


@dataclass(frozen=True)
class Issue:
    """One finding.

    Attributes
    ----------
    blocking : bool
        True: the dataset export is refused until it is fixed.
    code : str
        Short machine-readable kind (``missing-image``, ``outside``, ...).
    folder : str
        The ``labeled-data`` folder ("" for the project).
    message : str
        What is wrong, in words.
    items : tuple of str
        The images, points or names concerned.
    """

    blocking: bool
    code: str
    folder: str
    message: str
    items: tuple[str, ...] = ()

    def describe(self, max_items: int = 5) -> str:
        """One line (with the first items, shortened: a damaged file's names can be huge)."""
        where = f"labeled-data/{self.folder}: " if self.folder else ""
        more = ""
        if self.items:
            shown = shorten(", ".join(self.items[:max_items]))
            more = f": {shown}" + (
                f" ... (+{len(self.items) - max_items})" if len(self.items) > max_items else ""
            )
        return f"{where}{self.message}{more}"


@dataclass
class ValidationReport:
    """The result of :func:`validate_project`.

    Attributes
    ----------
    issues : list of Issue
    image_sizes : dict
        Folder -> ``{(height, width): number of images}``.
    labeled_frames : dict
        Folder -> frames with at least one label.
    labeled_points : dict
        Folder -> labeled points.
    """

    issues: list[Issue] = field(default_factory=list)
    image_sizes: dict[str, dict[tuple[int, int], int]] = field(default_factory=dict)
    labeled_frames: dict[str, int] = field(default_factory=dict)
    labeled_points: dict[str, int] = field(default_factory=dict)

    @property
    def problems(self) -> list[Issue]:
        """Blocking issues."""
        return [i for i in self.issues if i.blocking]

    @property
    def warnings(self) -> list[Issue]:
        """Non-blocking issues."""
        return [i for i in self.issues if not i.blocking]

    @property
    def ok(self) -> bool:
        """No blocking issue."""
        return not self.problems

    def format(self) -> str:
        """The report as text: totals, sizes, problems, warnings."""
        lines = [
            f"{sum(self.labeled_frames.values())} labeled frames, "
            f"{sum(self.labeled_points.values())} points in {len(self.labeled_frames)} folders"
        ]
        for folder, sizes in self.image_sizes.items():
            desc = ", ".join(f"{w}x{h} ({n})" for (h, w), n in sizes.items())
            lines.append(
                f"  {folder}: {self.labeled_frames.get(folder, 0)} labeled frames; "
                f"images {desc or 'none'}"
            )
        if self.problems:
            lines.append(f"{len(self.problems)} blocking problems:")
            lines += [f"  ✗ {i.describe()}" for i in self.problems]
        if self.warnings:
            lines.append(f"{len(self.warnings)} warnings:")
            lines += [f"  ! {i.describe()}" for i in self.warnings]
        if self.ok:
            lines.append("ready for export")
        return "\n".join(lines)


#: ``(path, size, mtime_ns) -> ((height, width), sha1)`` of images decoded in this process, or
#: ``None`` for an image that does not decode; a second validation is then instant.
_DECODED: dict[tuple[str, int, int], tuple[tuple[int, int], str] | None] = {}
_DECODED_LOCK = threading.Lock()


def _decode(path: Path) -> tuple[tuple[int, int], str] | None:
    """Decode the whole image (as DeepLabCut will) and hash it; None if it does not decode."""
    from PIL import Image

    st = path.stat()
    key = (str(path), st.st_size, st.st_mtime_ns)
    with _DECODED_LOCK:
        if key in _DECODED:
            return _DECODED[key]
    data = path.read_bytes()
    try:
        with Image.open(io.BytesIO(data)) as im:
            im.load()  # a truncated or damaged file fails here, not at open
            w, h = im.size
        result: tuple[tuple[int, int], str] | None = (
            (int(h), int(w)),
            hashlib.sha1(data).hexdigest(),
        )
    except Exception:  # PIL raises many kinds for damaged images
        result = None
    with _DECODED_LOCK:
        _DECODED[key] = result
    return result


def _decode_all(
    images: list[Path], progress: Callable[[int, int], None] | None, done: int, total: int
) -> list[tuple[tuple[int, int], str] | None]:
    """Decode ``images`` in parallel (PIL releases the GIL while decoding), in order."""
    from concurrent.futures import ThreadPoolExecutor

    workers = min(8, os.cpu_count() or 1)
    out: list[tuple[tuple[int, int], str] | None] = []
    with ThreadPoolExecutor(max_workers=workers) as pool:
        for i, result in enumerate(pool.map(_decode, images), 1):
            out.append(result)
            if progress is not None:
                progress(done + i, total)
    return out


def validate_project(
    project: Project, *, progress: Callable[[int, int], None] | None = None
) -> ValidationReport:
    """Check every ``labeled-data`` folder of ``project`` (see the module doc for what).

    Every image is decoded completely (in parallel; cached by path, size and modification time,
    so a second run is instant): one that does not decode is a blocking problem, by name.

    Parameters
    ----------
    project : Project
        The open project (its config as in memory).
    progress : callable, optional
        ``progress(images_done, images_total)`` after each image.

    Returns
    -------
    ValidationReport
    """
    rep = ValidationReport()
    add = rep.issues.append
    root = project.root / "labeled-data"
    video_stems = {Path(k.replace("\\", "/")).stem for k in project.videos}
    folders = (
        sorted(p for p in root.iterdir() if p.is_dir() and not p.name.startswith("."))
        if root.is_dir()
        else []
    )
    hashes: dict[str, list[str]] = {}
    if not project.project_path_ok:
        add(
            Issue(
                True,
                "project-path",
                "",
                f"project_path in config.yaml is {quoted(project.project_path)}, not this folder "
                "(DeepLabCut would rewrite config.yaml and write elsewhere); repair it in "
                "the Project dock or with `napari-dlcflow repair PROJECT --project-path`",
            )
        )
    all_images = {folder: folder_images(folder) for folder in folders}
    total = sum(len(v) for v in all_images.values())
    done = 0
    for folder in folders:
        name = folder.name
        images = all_images[folder]
        sizes: dict[tuple[int, int], int] = {}
        by_name: dict[str, tuple[int, int]] = {}
        unreadable = []
        for img, decoded in zip(images, _decode_all(images, progress, done, total), strict=True):
            if decoded is None:
                unreadable.append(img.name)
                continue
            hw, digest = decoded
            by_name[img.name] = hw
            sizes[hw] = sizes.get(hw, 0) + 1
            hashes.setdefault(digest, []).append(f"{name}/{img.name}")
        done += len(images)
        rep.image_sizes[name] = sizes
        if unreadable:
            add(
                Issue(
                    True,
                    "unreadable-image",
                    name,
                    "images that cannot be decoded (damaged or truncated; DeepLabCut would "
                    "stop on them)",
                    tuple(unreadable),
                )
            )
        if len(sizes) > 1:
            add(
                Issue(
                    False,
                    "mixed-sizes",
                    name,
                    "images of different sizes (legal; DeepLabCut trains on crops)",
                    tuple(f"{w}x{h}" for h, w in sizes),
                )
            )
        try:
            labels = load_folder(folder, scorer=project.scorer)
        except LabelsError as exc:
            add(Issue(True, "unreadable-labels", name, str(exc)))
            continue
        if labels is None:
            others = (
                find_label_files(folder)["collected_h5"]
                + find_label_files(folder)["collected_csv"]
            )
            if others:
                scorers = sorted({p.stem.removeprefix("CollectedData_") for p in others})
                add(
                    Issue(
                        True,
                        "scorer",
                        name,
                        f"labels by scorer {', '.join(scorers)} but config.yaml says "
                        f"{quoted(project.scorer)}; DeepLabCut skips this folder",
                        tuple(p.name for p in others),
                    )
                )
            elif images:
                add(Issue(False, "no-labels", name, f"{len(images)} images and no labels"))
            continue
        found = find_label_files(folder)
        others = sorted(
            {
                p.stem.removeprefix("CollectedData_")
                for p in found["collected_h5"] + found["collected_csv"]
            }
            - {project.scorer}
        )
        if others:
            add(
                Issue(
                    False,
                    "other-scorer",
                    name,
                    f"CollectedData of other scorers not used for training (only "
                    f"{quoted(project.scorer)} is): {', '.join(others)}; import them to merge",
                )
            )
        if name not in video_stems:
            add(
                Issue(
                    True,
                    "no-video-entry",
                    name,
                    "no video_sets entry names this folder: DeepLabCut ignores it "
                    "(Register folders adds one, or `napari-dlcflow repair PROJECT "
                    "--register-folders`)",
                )
            )
        has = ~np.isnan(labels.xy).any(axis=-1)
        rows_labeled = has.any(axis=1)
        rep.labeled_frames[name] = int(rows_labeled.sum())
        rep.labeled_points[name] = int(has.sum())
        listed = {r[-1] for r in labels.images}
        missing = [r[-1] for r in labels.images if r[-1] not in {i.name for i in images}]
        if missing:
            add(
                Issue(
                    True,
                    "missing-image",
                    name,
                    "images in the labels but not on disk",
                    tuple(missing),
                )
            )
        extra = [i.name for i in images if i.name not in listed]
        if extra:
            add(
                Issue(
                    False,
                    "unlabeled-image",
                    name,
                    "images on disk not in the labels",
                    tuple(extra),
                )
            )
        empty = [labels.images[r][-1] for r in np.flatnonzero(~rows_labeled)]
        if empty:
            add(Issue(False, "empty-frame", name, "frames with no label", tuple(empty)))
        outside = points_outside(labels, by_name)
        if outside:
            add(
                Issue(
                    True,
                    "outside",
                    name,
                    "points outside the image (DeepLabCut drops them)",
                    tuple(outside),
                )
            )
        diff = compare_with_config(labels, project)
        if diff.extra:
            add(
                Issue(
                    True,
                    "unknown-keypoints",
                    name,
                    "body parts or individuals not in config.yaml (DeepLabCut drops them)",
                    tuple(f"{i}/{b}" if i else b for i, b in diff.extra),
                )
            )
        if diff.scorer_differs:
            add(
                Issue(
                    True,
                    "scorer",
                    name,
                    f"scorer {quoted(diff.scorer_file)} in the file, "
                    f"{quoted(diff.scorer_config)} in config.yaml; DeepLabCut skips it",
                )
            )
    dups = [", ".join(v) for v in hashes.values() if len(v) > 1]
    if dups:
        add(Issue(False, "duplicate-frames", "", "identical images", tuple(dups)))
    if not sum(rep.labeled_frames.values()):
        add(Issue(True, "nothing-labeled", "", "no labeled frame in the project"))
    return rep
