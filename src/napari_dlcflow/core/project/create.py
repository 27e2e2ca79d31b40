"""Create a new DeepLabCut project folder that DeepLabCut 3 itself accepts.

The layout and ``config.yaml`` keys follow DeepLabCut 3.0.x: ``videos/``, ``labeled-data/<video
stem>/``, ``training-datasets/``, ``dlc-models-pytorch/`` and a config with DeepLabCut's sections
and comments. The folder is built under a hidden staging name and renamed into place at the end,
so a failure (a bad video, a full disk) never leaves a half-made project behind.
"""

from __future__ import annotations

import datetime as dt
import os
import shutil
from collections.abc import Sequence
from pathlib import Path

from napari_dlcflow.core import __version__
from napari_dlcflow.core.project.config import Project, check_names
from napari_dlcflow.core.project.sidecar import Sidecar
from napari_dlcflow.core.safe_io import atomic_write, atomic_writer
from napari_dlcflow.core.video.probe import VideoInfo, probe_video
from napari_dlcflow.core.video.source import SourceRef, parse_source_key

__all__ = ["add_videos", "create_project", "project_folder_name"]

DEFAULT_BODYPARTS = ("bodypart1", "bodypart2", "bodypart3")

_TEMPLATE = """\
# Config schema version. Do not edit manually.
config_version: 0
# Project definitions (do not edit)
Task:
scorer:
date:
multianimalproject: false
identity:

# Project path (change when moving around)
project_path:
pose_config_path:

# Default DeepLabCut engine to use for shuffle creation (either pytorch or tensorflow)
engine: pytorch

# Annotation data set configuration (and individual video cropping parameters)
video_sets: {}
bodyparts: []
individuals: []
uniquebodyparts: []
multianimalbodyparts: []

# Fraction of video to start/stop when extracting frames for labeling/refinement
start: 0.0
stop: 1.0
numframes2pick: 20

# Plotting configuration
skeleton: []
skeleton_color: black
pcutoff: 0.6
dotsize: 12
alphavalue: 0.7
colormap: rainbow

# Training,Evaluation and Analysis configuration
TrainingFraction:
- 0.95
iteration: 0
default_net_type: resnet_50
default_augmenter: default
default_track_method:
snapshotindex: -1
detector_snapshotindex: -1
batch_size: 8
detector_batch_size: 1

# Cropping Parameters (for analysis and outlier frame detection)
cropping: false
# if cropping is true for analysis, then set the values here:
x1: 0
x2: 640
y1: 277
y2: 624

# Refinement configuration (parameters from annotation dataset configuration also relevant in this stage)
corner2move2:
- 50
- 50
move2corner: true

# Conversion tables to fine-tune SuperAnimal weights
SuperAnimalConversionTables:
"""


def _check_word(kind: str, value: str) -> str:
    value = (value or "").strip()
    if not value:
        raise ValueError(f"The {kind} must not be empty")
    bad = [c for c in '/\\:*?"<>|\n' if c in value]
    if bad:
        raise ValueError(f"The {kind} {value!r} contains characters a folder name cannot: {bad}")
    return value


def project_folder_name(task: str, scorer: str, date: dt.date) -> str:
    """DeepLabCut's folder name for a project: ``<task>-<scorer>-<YYYY-MM-DD>``."""
    return f"{task}-{scorer}-{date.isoformat()}"


def _bring_video(info: VideoInfo, dest_dir: Path, copy: bool) -> Path:
    dest = dest_dir / info.path.name
    if copy:
        with atomic_writer(dest, backup=False) as tmp:
            shutil.copy2(info.path, tmp)
    else:
        os.symlink(info.path.resolve(), dest)
    return dest


def _probe_all(videos: Sequence[str | os.PathLike]) -> list[tuple[VideoInfo, str]]:
    """Each video (or source key with a channel/z/scene choice, ``core/video/source.py``)
    probed once per file, with its choice; two files sharing a name are refused."""
    refs = [parse_source_key(v) for v in videos]
    infos: dict[Path, VideoInfo] = {}
    for ref in refs:
        if ref.path not in infos:
            infos[ref.path] = probe_video(ref.path)
    names = [p.name for p in infos]
    dupes = sorted({n for n in names if names.count(n) > 1})
    if dupes:
        raise ValueError(f"Two videos share a file name ({', '.join(dupes)}); rename one first")
    return [(infos[ref.path], ref.choice) for ref in refs]


def create_project(
    task: str,
    scorer: str,
    videos: Sequence[str | os.PathLike],
    working_directory: str | os.PathLike,
    *,
    copy_videos: bool = False,
    multianimal: bool = False,
    bodyparts: Sequence[str] | None = None,
    unique_bodyparts: Sequence[str] = (),
    individuals: Sequence[str] | None = None,
    skeleton: Sequence[tuple[str, str]] = (),
    date: dt.date | None = None,
) -> Project:
    """Make a new DeepLabCut project and return it opened.

    Parameters
    ----------
    task, scorer : str
        Project name and labeler name (DeepLabCut's ``Task`` and ``scorer``).
    videos : sequence of path-like
        Videos to add; each is opened and its first frame decoded first.
    working_directory : path-like
        Folder in which the project folder ``<task>-<scorer>-<date>`` is made.
    copy_videos : bool, default False
        Copy videos into ``videos/`` (True) or link them there (False, as DeepLabCut does).
    multianimal : bool, default False
        Make a multi-animal project (``bodyparts: MULTI!``).
    bodyparts : sequence of str, optional
        Body parts (per individual in a multi-animal project). Defaults to three placeholders.
    unique_bodyparts : sequence of str
        Multi-animal only: body parts that occur once per frame.
    individuals : sequence of str, optional
        Multi-animal only; defaults to ``individual1 .. individual3``.
    skeleton : sequence of (str, str)
        Edges between body parts.
    date : datetime.date, optional
        Creation date, default today.

    Returns
    -------
    Project

    Raises
    ------
    FileExistsError
        If the project folder exists already.
    napari_dlcflow.core.video.probe.VideoError
        If a video cannot be opened (nothing is created then).
    ValueError
        For invalid names.
    """
    task = _check_word("task", task)
    scorer = _check_word("scorer", scorer)
    date = date or dt.date.today()
    parts = check_names("body part", list(bodyparts or DEFAULT_BODYPARTS))
    uniques = check_names("unique body part", list(unique_bodyparts))
    if uniques and not multianimal:
        raise ValueError("Unique body parts need a multi-animal project")
    inds = check_names(
        "individual", list(individuals or ("individual1", "individual2", "individual3"))
    )
    wd = Path(working_directory).expanduser().resolve()
    if not wd.is_dir():
        raise FileNotFoundError(f"Working directory {wd} does not exist")
    final = wd / project_folder_name(task, scorer, date)
    if final.exists():
        raise FileExistsError(f"{final} exists already; open it, or choose another task name")
    infos = _probe_all(videos)

    staging = wd / f".{final.name}.creating"
    if staging.exists():
        shutil.rmtree(staging)
    try:
        for sub in ("videos", "labeled-data", "training-datasets", "dlc-models-pytorch"):
            (staging / sub).mkdir(parents=True)
        cfg_path = staging / "config.yaml"
        atomic_write(cfg_path, _TEMPLATE, backup=False)
        project = Project.open(cfg_path)
        doc = project._doc
        doc["Task"] = task
        doc["scorer"] = scorer
        doc["date"] = date.strftime("%b%d")
        doc["multianimalproject"] = bool(multianimal)
        doc["project_path"] = str(final)
        if multianimal:
            doc["bodyparts"] = "MULTI!"
            doc["identity"] = False  # as deeplabcut.create_new_project writes it
            project.individuals = inds
            project.bodyparts = parts
            project.unique_bodyparts = uniques
        else:
            project.bodyparts = parts
            doc["individuals"] = ["individual_1"]
        project.skeleton = list(skeleton)
        brought: dict[Path, Path] = {}
        for info, choice in infos:
            if info.path not in brought:  # several channels of one file: one link
                brought[info.path] = _bring_video(info, staging / "videos", copy_videos)
            ref = SourceRef(final / "videos" / brought[info.path].name, choice)
            (staging / "labeled-data" / ref.stem).mkdir(exist_ok=True)
            project.set_video(ref.key, info.width, info.height)
        atomic_write(cfg_path, project.to_text(), backup=False)
        Sidecar(
            created_with=f"napari-dlcflow {__version__}",
            videos_mode="copy" if copy_videos else "link",
        ).save(staging)
        os.rename(staging, final)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return Project.open(final)


def add_videos(
    project: Project, videos: Sequence[str | os.PathLike], *, copy: bool | None = None
) -> list[Path]:
    """Bring videos into the project's ``videos/`` folder and list them in ``video_sets``.

    The config is changed in memory; call ``project.save()`` to write it.

    Parameters
    ----------
    project : Project
        The open project.
    videos : sequence of path-like
        Videos to add; all are checked before any is brought in.
    copy : bool, optional
        Copy (True) or link (False); default from the project's sidecar.

    Returns
    -------
    list of Path
        The new paths inside ``videos/``.
    """
    if copy is None:
        copy = Sidecar.load(project.root).videos_mode == "copy"
    infos = _probe_all(videos)
    dest_dir = project.root / "videos"
    dest_dir.mkdir(exist_ok=True)
    clashes = sorted({i.path.name for i, _ in infos if (dest_dir / i.path.name).exists()})
    if clashes:
        raise FileExistsError(f"{dest_dir} already has {', '.join(clashes)}")
    added: list[Path] = []
    brought: dict[Path, Path] = {}
    for info, choice in infos:
        if info.path not in brought:
            brought[info.path] = _bring_video(info, dest_dir, copy)
            added.append(brought[info.path])
        ref = SourceRef(brought[info.path], choice)
        (project.root / "labeled-data" / ref.stem).mkdir(parents=True, exist_ok=True)
        project.set_video(ref.key, info.width, info.height)
    return added
