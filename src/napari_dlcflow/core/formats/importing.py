"""Import labels of other tools into a DeepLabCut project, checked before anything is written.

:func:`preview_import` reads the foreign file (:mod:`napari_dlcflow.core.formats`), applies a
body-part rename map and says what an import would do: images and labeled points per body
part, names the project does not know, rename entries that match nothing, frames whose image
or video is missing or unreadable, images that would clash with other images of the same name,
and the ``labeled-data`` folders and file names the frames get. Nothing is written.

:func:`import_labels` then copies the images (converted to PNG) or extracts the frames of the
source video into ``labeled-data/<name>/img*.png`` (DeepLabCut naming: ``img`` + frame index
zero-padded to the digits of the frame count), merges the labels into
``CollectedData_<scorer>`` with :func:`napari_dlcflow.core.labels.collected.merge_labels`
(existing labels
are kept unless ``overwrite``) and :func:`~napari_dlcflow.core.labels.collected.write_labels`
(atomic
write, backup), and adds a ``video_sets`` entry for each new folder so that DeepLabCut's
dataset export sees it. If any step fails, every image placed and every label file written by
this import is put back: nothing is half-imported.
"""

from __future__ import annotations

import contextlib
import io
import os
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from napari_dlcflow.core.formats import ForeignLabels, FormatError, FrameRef, read_foreign
from napari_dlcflow.core.labels.collected import (
    Labels,
    LabelsError,
    config_keypoints,
    load_folder,
    merge_labels,
    sort_rows,
    write_labels,
)
from napari_dlcflow.core.safe_io import SaveError, atomic_write, atomic_writer
from napari_dlcflow.core.untrusted import shorten

if TYPE_CHECKING:
    from napari_dlcflow.core.project.config import Project

__all__ = [
    "ImportBlockedError",
    "ImportOptions",
    "ImportPreview",
    "ImportResult",
    "Target",
    "apply_renames",
    "export_coco",
    "import_labels",
    "new_project_for",
    "preview_import",
    "register_folders",
]

ProgressFn = Callable[[int, int], None]
_NAME_RE = re.compile(r"^img\d+\.png$")
_SAFE_RE = re.compile(r"[^\w.-]+")


class ImportBlockedError(ValueError):
    """The import cannot go ahead; :attr:`problems` lists why (nothing was written)."""

    def __init__(self, problems: Sequence[str]) -> None:
        self.problems = list(problems)
        super().__init__("import refused:\n" + "\n".join(f"- {p}" for p in self.problems))


@dataclass
class ImportOptions:
    """How to import.

    Attributes
    ----------
    format : str, optional
        Format name (:data:`napari_dlcflow.core.formats.FORMATS`); detected when omitted.
    read_options : dict
        Options of the format's reader (e.g. ``header_rows`` for per-image CSV files,
        ``predictions`` for SLEAP).
    rename : dict
        Body-part renames ``{name in the file: name in the project}``.
    folder : str, optional
        Put every frame into ``labeled-data/<folder>`` (default: the group each reader
        suggests: video stem or image folder).
    frames : sequence of int, optional
        For frames of videos: only these frame indices.
    drop_unknown : bool
        Leave out body parts the project does not have (default: such names block the
        import, so that no label is dropped without asking).
    skip_missing : bool
        Leave out frames whose image or video is missing or unreadable (default: they block).
    overwrite : bool
        Where the project already has a label, replace it with the imported one (default:
        keep the existing label and count the difference).
    """

    format: str | None = None
    read_options: dict[str, Any] = field(default_factory=dict)
    rename: dict[str, str] = field(default_factory=dict)
    folder: str | None = None
    frames: Sequence[int] | None = None
    drop_unknown: bool = False
    skip_missing: bool = False
    overwrite: bool = False


@dataclass(frozen=True)
class Target:
    """Where one imported frame goes.

    Attributes
    ----------
    ref : FrameRef
        Its source.
    folder : str
        ``labeled-data`` folder name.
    name : str
        Image file name there (``img<index>.png``).
    status : str
        ``"new"`` (will be written), ``"present"`` (the same image is there already),
        ``"clash"`` (another image has that name), ``"missing"`` (source not found) or
        ``"unreadable"`` (source cannot be decoded).
    size : tuple of int or None
        ``(height, width)`` of the image, when read.
    detail : str
        Why a frame is missing, unreadable or clashing.
    """

    ref: FrameRef
    folder: str
    name: str
    status: str
    size: tuple[int, int] | None = None
    detail: str = ""


@dataclass
class ImportPreview:
    """What :func:`import_labels` would do; nothing has been written.

    Attributes
    ----------
    labels : ForeignLabels
        The file's labels after renames (and, with ``drop_unknown``, without unknown names).
    targets : list of Target
        One per frame.
    points_per_bodypart : dict
        Labeled points per body part (after renames), over frames that will be imported.
    unknown_bodyparts, unknown_individuals : list of str
        Names the project does not have.
    unused_renames : list of str
        Rename entries whose name is not in the file.
    conflicts : int
        Labels that differ from labels the project has already (kept unless ``overwrite``).
    problems : list of str
        Blocking problems.
    warnings : list of str
        Worth knowing; the import can go ahead.
    """

    labels: ForeignLabels
    targets: list[Target]
    points_per_bodypart: dict[str, int]
    unknown_bodyparts: list[str]
    unknown_individuals: list[str]
    unused_renames: list[str]
    conflicts: int
    problems: list[str]
    warnings: list[str]
    options: ImportOptions

    @property
    def ok(self) -> bool:
        """Whether the import can go ahead."""
        return not self.problems

    @property
    def n_images(self) -> int:
        """Frames that will be imported."""
        return sum(t.status in ("new", "present") for t in self.targets)

    @property
    def folders(self) -> dict[str, int]:
        """Frames per ``labeled-data`` folder."""
        out: dict[str, int] = {}
        for t in self.targets:
            if t.status in ("new", "present"):
                out[t.folder] = out.get(t.folder, 0) + 1
        return out

    def summary(self) -> str:
        """The preview in words, one item per line."""
        lab = self.labels
        lines = [
            f"{lab.format} file {lab.source.name}: {self.n_images} images into "
            + ", ".join(f"labeled-data/{f} ({n})" for f, n in self.folders.items()),
            f"{sum(self.points_per_bodypart.values())} labeled points: "
            + ", ".join(f"{b} {n}" for b, n in self.points_per_bodypart.items()),
        ]
        if lab.individuals:
            lines.append("individuals: " + ", ".join(lab.individuals))
        if self.unknown_bodyparts:
            lines.append("body parts not in the project: " + ", ".join(self.unknown_bodyparts))
        if self.unknown_individuals:
            lines.append("individuals not in the project: " + ", ".join(self.unknown_individuals))
        if self.unused_renames:
            lines.append(
                "renames that match no name in the file: " + ", ".join(self.unused_renames)
            )
        lines += [f"note: {n}" for n in lab.notes]
        lines += [f"warning: {w}" for w in self.warnings]
        lines += [f"PROBLEM: {p}" for p in self.problems]
        return "\n".join(lines)


@dataclass(frozen=True)
class ImportResult:
    """What :func:`import_labels` wrote.

    Attributes
    ----------
    folders : dict
        ``labeled-data`` folder -> number of imported frames.
    images_written : list of Path
        New image files.
    label_files : list of Path
        CollectedData h5 files written.
    points : int
        Labeled points imported.
    videos_added : list of str
        ``video_sets`` entries added to config.yaml.
    """

    folders: dict[str, int]
    images_written: list[Path]
    label_files: list[Path]
    points: int
    videos_added: list[str]


# ------------------------------------------------------------------------------------ helpers
def apply_renames(
    labels: ForeignLabels, rename: Mapping[str, str]
) -> tuple[ForeignLabels, list[str]]:
    """Rename body parts; returns the renamed labels and the rename keys that matched nothing.

    Raises
    ------
    FormatError
        If two body parts of one individual would get the same name.
    """
    have = {bp for _, bp in labels.keypoints}
    unused = [k for k in rename if k not in have]
    kps = [(ind, rename.get(bp, bp)) for ind, bp in labels.keypoints]
    if len(set(kps)) != len(kps):
        twice = sorted({f"{i}/{b}" if i else b for i, b in kps if kps.count((i, b)) > 1})
        raise FormatError(
            labels.source, "the rename map gives two body parts the same name: " + ", ".join(twice)
        )
    out = ForeignLabels(
        format=labels.format,
        source=labels.source,
        keypoints=kps,
        frames=list(labels.frames),
        xy=labels.xy.copy(),
        multianimal=labels.multianimal,
        skeleton=[(rename.get(a, a), rename.get(b, b)) for a, b in labels.skeleton],
        scorer=labels.scorer,
        notes=list(labels.notes),
    )
    return out, unused


def _safe_folder(name: str) -> str:
    clean = _SAFE_RE.sub("_", name).strip("._") or "imported"
    return clean


def _read_image(path: Path) -> np.ndarray:
    from PIL import Image

    with Image.open(path) as im:
        im.load()
        if im.mode not in ("L", "RGB", "I;16", "I"):
            im = im.convert("RGB")
        return np.asarray(im)


def _image_size(path: Path) -> tuple[int, int]:
    from PIL import Image

    with Image.open(path) as im:
        im.verify()
    with Image.open(path) as im:
        w, h = im.size
    return int(h), int(w)


def _png_bytes(frame: np.ndarray) -> bytes:
    from PIL import Image

    a = np.asarray(frame)
    if a.ndim == 3 and a.shape[-1] == 1:
        a = a[..., 0]
    buf = io.BytesIO()
    Image.fromarray(a).save(buf, format="PNG")
    return buf.getvalue()


def _numbers(names: Sequence[str]) -> list[int] | None:
    nums = []
    for n in names:
        m = re.findall(r"\d+", Path(n).stem)
        if not m:
            return None
        nums.append(int(m[-1]))
    return nums if len(set(nums)) == len(nums) else None


def _plan_names(refs: Sequence[FrameRef], n_frames: Mapping[Path, int]) -> list[str]:
    """DeepLabCut image names for the frames of one folder."""
    if all(r.video is not None for r in refs):
        out = []
        for r in refs:
            digits = len(str(max(n_frames.get(r.video, 0), 1)))  # type: ignore[arg-type]
            out.append(f"img{int(r.frame_index or 0):0{digits}d}.png")
        return out
    names = [Path(r.name).name if r.image is None else r.image.name for r in refs]
    if all(_NAME_RE.match(n) for n in names) and len(set(names)) == len(names):
        return names
    nums = _numbers(names)
    if nums is None:
        order = sorted(range(len(names)), key=lambda i: names[i])
        nums = [0] * len(names)
        for k, i in enumerate(order):
            nums[i] = k
    digits = len(str(max(max(nums), len(nums) - 1, 1)))
    return [f"img{n:0{digits}d}.png" for n in nums]


def _same_pixels(path: Path, pixels: np.ndarray) -> bool:
    try:
        have = _read_image(path)
    except Exception:
        return False
    a = np.asarray(pixels)
    if a.ndim == 3 and a.shape[-1] == 1:
        a = a[..., 0]
    return have.shape == a.shape and np.array_equal(have, a)


class _Pixels:
    """Reads each source frame once (video frames through core.video's frame-exact reader)."""

    def __init__(self) -> None:
        self._videos: dict[Path, Any] = {}

    def n_frames(self, video: Path) -> int:
        return len(self._video(video))

    def _video(self, video: Path) -> Any:
        if video not in self._videos:
            from napari_dlcflow.core.video.reader import open_frames

            self._videos[video] = open_frames(video)
        return self._videos[video]

    def get(self, ref: FrameRef) -> np.ndarray:
        if ref.video is not None:
            src = self._video(ref.video)
            idx = int(ref.frame_index or 0)
            if not 0 <= idx < len(src):
                raise ValueError(f"frame {idx} is beyond the video's {len(src)} frames")
            return np.asarray(src.frame(idx))
        assert ref.image is not None
        return _read_image(ref.image)

    def close(self) -> None:
        for v in self._videos.values():
            with contextlib.suppress(Exception):
                v.close()
        self._videos.clear()


# ------------------------------------------------------------------------------------ preview
def _load(source: str | os.PathLike | ForeignLabels, options: ImportOptions) -> ForeignLabels:
    if isinstance(source, ForeignLabels):
        return source
    ropts = dict(options.read_options)
    fmt = options.format
    if options.frames is not None and (fmt == "sleap" or str(source).endswith(".slp")):
        ropts.setdefault("frames", list(options.frames))
    return read_foreign(source, fmt, **ropts)


def _match_project(
    labels: ForeignLabels, project: Project | None, options: ImportOptions
) -> tuple[ForeignLabels, list[str], list[str], list[str], list[str]]:
    """Drop unknown names if asked; report unknown body parts/individuals and problems."""
    problems: list[str] = []
    warnings: list[str] = []
    if project is None:
        return labels, [], [], problems, warnings
    want, multi = config_keypoints(project)
    known_bp = set(project.all_bodyparts)
    unknown_bp = [b for b in dict.fromkeys(bp for _, bp in labels.keypoints) if b not in known_bp]
    unknown_ind: list[str] = []
    if multi and not labels.multianimal:
        problems.append(
            f"the file has one animal per frame but the project is multi-animal; import it "
            f"into a single-animal project, or rename to individual {project.individuals[0]!r}"
            " in another tool"
        )
    elif labels.multianimal and not multi:
        problems.append(
            f"the file has individuals ({', '.join(labels.individuals)}) but the project is "
            "single-animal"
        )
    elif multi:
        known_ind = set(project.individuals) | {"single"}
        unknown_ind = [
            i for i in dict.fromkeys(i for i, _ in labels.keypoints) if i not in known_ind
        ]
        if unknown_ind:
            problems.append(
                "individuals not in config.yaml: "
                + ", ".join(unknown_ind)
                + f" (the project has {', '.join(project.individuals)})"
            )
    if unknown_bp:
        pts = labels.points_per_bodypart()
        dropped = sum(pts.get(b, 0) for b in unknown_bp)
        if options.drop_unknown:
            keep = [k for k, (_, bp) in enumerate(labels.keypoints) if bp in known_bp]
            labels = labels.take_columns(
                keep,
                skeleton=[(a, b) for a, b in labels.skeleton if a in known_bp and b in known_bp],
            )
            warnings.append(
                f"left out {dropped} points of body parts not in the project: "
                + ", ".join(unknown_bp)
            )
        else:
            problems.append(
                "body parts not in config.yaml: "
                + ", ".join(unknown_bp)
                + f" ({dropped} points); rename them, or choose to leave them out"
            )
    if multi and labels.multianimal and not problems:
        # known names in the wrong place (a unique body part under an animal, or the reverse)
        has = ~np.isnan(labels.xy).any(axis=-1)
        odd = [
            k
            for k, key in enumerate(labels.keypoints)
            if key not in want and key[1] in known_bp and key[0] not in unknown_ind
        ]
        if odd:
            names = ", ".join(f"{labels.keypoints[k][0]}/{labels.keypoints[k][1]}" for k in odd)
            n = int(has[:, odd].sum())
            if options.drop_unknown:
                keep = [k for k in range(len(labels.keypoints)) if k not in odd]
                labels = labels.take_columns(keep)
                warnings.append(
                    f"left out {n} points of columns config.yaml does not have: " + names
                )
            else:
                problems.append(
                    f"columns config.yaml does not have: {names} ({n} points; "
                    "unique body parts belong to 'single')"
                )
    return labels, unknown_bp, unknown_ind, problems, warnings


def preview_import(
    source: str | os.PathLike | ForeignLabels,
    project: Project | None = None,
    options: ImportOptions | None = None,
) -> ImportPreview:
    """Say what importing ``source`` into ``project`` would do, without writing anything.

    Parameters
    ----------
    source : path-like or ForeignLabels
        The foreign file (or folder of per-image CSV files), or labels already read.
    project : Project, optional
        The project to import into (None: only read and count, e.g. to make a new project).
    options : ImportOptions, optional

    Raises
    ------
    FileNotFoundError, FormatError
        If the file cannot be read at all (the message names it and the problem).
    """
    options = options or ImportOptions()
    raw = _load(source, options)
    if options.frames is not None and raw.format != "sleap":
        keep_idx = set(int(f) for f in options.frames)
        raw = raw.take_rows(r for r, f in enumerate(raw.frames) if f.frame_index in keep_idx)
    labels, unused = apply_renames(raw, options.rename)
    labels, unknown_bp, unknown_ind, problems, warnings = _match_project(labels, project, options)

    # where each frame goes
    groups: dict[str, list[int]] = {}
    for r, ref in enumerate(labels.frames):
        folder = _safe_folder(options.folder or ref.group)
        groups.setdefault(folder, []).append(r)
    pixels = _Pixels()
    targets: list[Target | None] = [None] * len(labels.frames)
    try:
        n_frames: dict[Path, int] = {}
        for ref in labels.frames:
            if ref.video is not None and ref.video not in n_frames and ref.video.is_file():
                try:
                    n_frames[ref.video] = pixels.n_frames(ref.video)
                except Exception as exc:  # VideoError and friends
                    n_frames[ref.video] = 0
                    warnings.append(f"{ref.video}: cannot be opened ({shorten(exc)})")
        for folder, rows in groups.items():
            names = _plan_names([labels.frames[r] for r in rows], n_frames)
            dest_dir = project.root / "labeled-data" / folder if project is not None else None
            for r, name in zip(rows, names, strict=True):
                ref = labels.frames[r]
                if (
                    not ref.exists()
                    and ref.image is not None
                    and ref.image.name == name
                    and dest_dir is not None
                    and (dest_dir / name).is_file()
                ):
                    # labels of another scorer for images the project has already
                    targets[r] = Target(
                        ref, folder, name, "present", None, "image already in the project"
                    )
                    continue
                if not ref.exists():
                    targets[r] = Target(
                        ref, folder, name, "missing", None, f"{ref.path} does not exist"
                    )
                    continue
                if ref.video is not None and n_frames.get(ref.video, 0) == 0:
                    targets[r] = Target(
                        ref,
                        folder,
                        name,
                        "unreadable",
                        None,
                        f"{ref.video} cannot be opened as a video",
                    )
                    continue
                if (
                    ref.video is not None
                    and not 0 <= int(ref.frame_index or 0) < n_frames[ref.video]
                ):
                    targets[r] = Target(
                        ref,
                        folder,
                        name,
                        "missing",
                        None,
                        f"frame {ref.frame_index} is beyond the "
                        f"{n_frames[ref.video]} frames of {ref.video.name}",
                    )
                    continue
                try:
                    size = _image_size(ref.image) if ref.image is not None else None
                except Exception as exc:
                    targets[r] = Target(
                        ref,
                        folder,
                        name,
                        "unreadable",
                        None,
                        f"{ref.image} cannot be read as an image ({shorten(exc)})",
                    )
                    continue
                status, detail = "new", ""
                if dest_dir is not None and (dest_dir / name).exists():
                    try:
                        same = _same_pixels(dest_dir / name, pixels.get(ref))
                    except Exception as exc:
                        targets[r] = Target(
                            ref,
                            folder,
                            name,
                            "unreadable",
                            None,
                            f"{ref.path} cannot be read ({shorten(exc)})",
                        )
                        continue
                    status = "present" if same else "clash"
                    if not same:
                        detail = (
                            f"labeled-data/{folder}/{name} exists and shows another image"
                            f" than {ref.name}"
                        )
                targets[r] = Target(ref, folder, name, status, size, detail)
    finally:
        pixels.close()
    tlist = [t for t in targets if t is not None]
    bad = [t for t in tlist if t.status in ("missing", "unreadable")]
    if bad:
        listing = "; ".join(t.detail for t in bad[:5]) + (" ..." if len(bad) > 5 else "")
        msg = f"{len(bad)} of {len(tlist)} frames have no readable image: {listing}"
        (warnings if options.skip_missing else problems).append(
            msg
            + (
                " (left out)"
                if options.skip_missing
                else " (fix the paths, or choose to leave them out)"
            )
        )
    clashes = [t for t in tlist if t.status == "clash"]
    if clashes:
        problems.append(
            f"{len(clashes)} images would replace different images: "
            + "; ".join(t.detail for t in clashes[:5])
        )
    names_seen: dict[tuple[str, str], int] = {}
    for t in tlist:
        if t.status in ("new", "present"):
            names_seen[(t.folder, t.name)] = names_seen.get((t.folder, t.name), 0) + 1
    twice = [f"labeled-data/{f}/{n}" for (f, n), c in names_seen.items() if c > 1]
    if twice:
        problems.append("several frames would get the same file name: " + ", ".join(twice[:5]))
    use = np.array([t.status in ("new", "present") for t in tlist], dtype=bool)
    has = ~np.isnan(labels.xy).any(axis=-1) & use[:, None]
    pts: dict[str, int] = {}
    for k, (_, bp) in enumerate(labels.keypoints):
        pts[bp] = pts.get(bp, 0) + int(has[:, k].sum())
    if unused:
        warnings.append("rename entries that match no body part in the file: " + ", ".join(unused))
    if not use.any() and not problems:
        problems.append("no frame to import")

    conflicts = 0
    if project is not None and not problems:
        try:
            conflicts = _count_conflicts(labels, tlist, project)
        except LabelsError as exc:
            problems.append(str(exc))
        if conflicts:
            warnings.append(
                f"{conflicts} points differ from labels the project has on the same images; "
                + (
                    "the imported ones replace them"
                    if options.overwrite
                    else "the project's are kept"
                )
            )
    return ImportPreview(
        labels, tlist, pts, unknown_bp, unknown_ind, unused, conflicts, problems, warnings, options
    )


def _incoming(
    labels: ForeignLabels, targets: Sequence[Target], folder: str, project: Project
) -> Labels:
    """The imported frames of one folder as a table with the project's columns."""
    want, multi = config_keypoints(project)
    rows = [
        r for r, t in enumerate(targets) if t.folder == folder and t.status in ("new", "present")
    ]
    xy = np.full((len(rows), len(want), 2), np.nan)
    for k, key in enumerate(labels.keypoints):
        kk = key if multi else ("", key[1])
        if kk in want:
            xy[:, want.index(kk)] = labels.xy[rows, k]
    return Labels(
        scorer=project.scorer,
        keypoints=list(want),
        images=[("labeled-data", folder, targets[r].name) for r in rows],
        xy=xy,
        multianimal=multi,
    )


def _count_conflicts(labels: ForeignLabels, targets: Sequence[Target], project: Project) -> int:
    n = 0
    for folder in dict.fromkeys(t.folder for t in targets):
        path = project.root / "labeled-data" / folder
        if not path.is_dir():
            continue
        base = load_folder(path, scorer=project.scorer)
        if base is None:
            continue
        inc = _incoming(labels, targets, folder, project)
        for r, row in enumerate(inc.images):
            if row not in base.images:
                continue
            b = base.images.index(row)
            for k, key in enumerate(inc.keypoints):
                if key not in base.keypoints:
                    continue
                old = base.xy[b, base.keypoints.index(key)]
                new = inc.xy[r, k]
                if (
                    not np.isnan(old).any()
                    and not np.isnan(new).any()
                    and not np.allclose(old, new)
                ):
                    n += 1
    return n


# ------------------------------------------------------------------------------------ import
def register_folders(
    project: Project,
    folders: Sequence[str] | None = None,
    *,
    videos: Mapping[str, Path] | None = None,
) -> list[str]:
    """Add a ``video_sets`` entry for each labeled-data folder DeepLabCut would not see.

    DeepLabCut only exports folders whose name is the stem of a ``video_sets`` entry. A folder
    that came from a video gets that video's path; a folder of images gets its own path
    (``<project>/labeled-data/<name>``, whose stem is the folder name). The crop is the full
    size of its first image. The config is changed in memory (save it).

    Returns
    -------
    list of str
        The entries added.
    """
    have = {Path(k.replace("\\", "/")).stem for k in project.videos}
    root = project.root / "labeled-data"
    names = (
        folders
        if folders is not None
        else sorted(p.name for p in root.iterdir() if p.is_dir() and not p.name.startswith("."))
        if root.is_dir()
        else []
    )
    added = []
    for name in names:
        if name in have:
            continue
        folder = root / name
        imgs = sorted(p for p in folder.glob("*.png")) if folder.is_dir() else []
        if not imgs:
            continue
        h, w = _image_size(imgs[0])
        key = str((videos or {}).get(name) or folder.resolve())
        project.set_video(key, w, h)
        added.append(key)
    return added


def import_labels(
    source: str | os.PathLike | ForeignLabels,
    project: Project,
    options: ImportOptions | None = None,
    *,
    on_progress: ProgressFn | None = None,
) -> ImportResult:
    """Import ``source`` into ``project``: images, labels and ``video_sets`` entries.

    Parameters
    ----------
    source : path-like or ForeignLabels
        As for :func:`preview_import`.
    project : Project
        The open project; its config is saved when ``video_sets`` entries are added.
    options : ImportOptions, optional
    on_progress : callable, optional
        ``on_progress(done, total)`` while images are written.

    Raises
    ------
    ImportBlockedError
        If :func:`preview_import` found a blocking problem, or the project has unsaved
        changes (nothing written).
    SaveError, OSError
        If writing fails; everything this import wrote is undone first.
    """
    options = options or ImportOptions()
    if project.dirty:
        raise ImportBlockedError(
            [
                f"{project.config_path} has unsaved changes: save or reload it first (an import "
                "saves config.yaml when it adds video_sets entries)"
            ]
        )
    prev = preview_import(source, project, options)
    if not prev.ok:
        raise ImportBlockedError(prev.problems)
    labels, targets = prev.labels, prev.targets
    folders = list(dict.fromkeys(t.folder for t in targets if t.status in ("new", "present")))
    ld = project.root / "labeled-data"
    placed: list[Path] = []
    made_dirs: list[Path] = []
    restored: list[tuple[Path, bytes | None]] = []
    todo = [t for t in targets if t.status == "new"]
    added: list[str] = []
    saved: list[Path] = []
    pixels = _Pixels()
    try:
        # 1. every image into a temp file beside its final place; they replace nothing
        #    (new images only) and go into place together when the block ends
        with contextlib.ExitStack() as staged:
            for i, t in enumerate(todo):
                dest_dir = ld / t.folder
                if not dest_dir.exists():
                    dest_dir.mkdir(parents=True)
                    made_dirs.append(dest_dir)
                data = _png_bytes(pixels.get(t.ref))
                final = dest_dir / t.name
                tmp = staged.enter_context(atomic_writer(final, backup=False))
                tmp.write_bytes(data)
                placed.append(final)  # undone (unlinked) if anything below fails
                if on_progress:
                    on_progress(i + 1, len(todo))
            # 2. merged tables, checked before anything is replaced
            tables: dict[str, Labels] = {}
            for folder in folders:
                inc = _incoming(labels, targets, folder, project)
                base = (
                    load_folder(ld / folder, scorer=project.scorer)
                    if (ld / folder).is_dir()
                    else None
                )
                merged = (
                    inc if base is None else merge_labels(base, inc, overwrite=options.overwrite)
                )
                merged.scorer = project.scorer
                tables[folder] = sort_rows(merged)
        # 3. the images are in place; now the labels (each with its backup)
        for folder, table in tables.items():
            h5 = ld / folder / f"CollectedData_{project.scorer}.h5"
            for p in (h5, h5.with_suffix(".csv")):
                restored.append((p, p.read_bytes() if p.exists() else None))
            saved.append(write_labels(table, ld / folder).h5)
        # 4. video_sets entries so that DeepLabCut sees the folders
        vids = {
            t.folder: t.ref.video.resolve()
            for t in targets
            if t.ref.video is not None and t.status in ("new", "present")
        }
        added = register_folders(project, folders, videos=vids)
        if added:
            project.save()
    except BaseException:
        for p in placed:
            p.unlink(missing_ok=True)
        for p, old in reversed(restored):
            try:
                if old is None:
                    p.unlink(missing_ok=True)
                else:
                    atomic_write(p, old, backup=False)
            except (OSError, SaveError):
                pass
        for d in reversed(made_dirs):
            with contextlib.suppress(OSError):
                d.rmdir()
        if added and project.dirty:
            project.reload()
        raise
    finally:
        pixels.close()
    return ImportResult(
        folders=prev.folders,
        images_written=placed,
        label_files=saved,
        points=sum(prev.points_per_bodypart.values()),
        videos_added=added,
    )


def new_project_for(
    labels: ForeignLabels,
    task: str,
    scorer: str,
    working_directory: str | os.PathLike,
    *,
    rename: Mapping[str, str] | None = None,
) -> Project:
    """Create an empty project whose body parts, individuals and skeleton are the file's.

    The videos the labels come from (SLEAP) are linked into it; images are added by
    :func:`import_labels`.
    """
    from napari_dlcflow.core.project.create import create_project

    labels, _ = apply_renames(labels, rename or {})
    videos = list(
        dict.fromkeys(f.video for f in labels.frames if f.video is not None and f.video.is_file())
    )
    return create_project(
        task,
        scorer,
        videos,
        working_directory,
        multianimal=labels.multianimal,
        bodyparts=labels.bodyparts,
        unique_bodyparts=labels.unique_bodyparts,
        individuals=labels.individuals or None,
        skeleton=labels.skeleton,
    )


def export_coco(project: Project, path: str | os.PathLike) -> Path:
    """Write every CollectedData of ``project`` as one COCO keypoints JSON file.

    ``file_name`` of each image is relative to the project (``labeled-data/<stem>/<img>``);
    body parts and the skeleton come from the labels and the config. Written atomically.

    Raises
    ------
    LabelsError
        If a label file cannot be read.
    ValueError
        If the project has no labels.
    """
    from napari_dlcflow.core.formats import coco

    root = project.root / "labeled-data"
    tables: list[Labels] = []
    sizes: dict[tuple[str, ...], tuple[int, int]] = {}
    folders = sorted(p for p in root.iterdir() if p.is_dir()) if root.is_dir() else []
    for folder in folders:
        labels = load_folder(folder, scorer=project.scorer)
        if labels is None:
            continue
        keep = []
        for r, row in enumerate(labels.images):
            img = folder / row[-1]
            if img.is_file():
                sizes[row] = _image_size(img)
                keep.append(r)
        labels.images = [labels.images[r] for r in keep]
        labels.xy = labels.xy[keep]
        labels.likelihood = None
        tables.append(labels)
    if not tables:
        raise ValueError(f"{project.root}: no labels to export")
    doc = coco.coco_document(tables, sizes, skeleton=project.skeleton, category=project.task)
    return coco.write(path, doc)
