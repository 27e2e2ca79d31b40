"""Label from truth: turn the synthetic example into a labeled DeepLabCut project.

The built-in synthetic video (:mod:`napari_dlcflow.core.example.synthetic`) knows where every
keypoint
is. This module writes chosen frames of it as DeepLabCut labeled frames with those exact
keypoints as the human labels, so that a project can be trained and evaluated without anyone
clicking. Tests use it to train a real network whose error can be checked against the truth,
and the demo uses it to make a labeled project from the synthetic sample. The multi-animal
variant (:mod:`napari_dlcflow.core.example.group`) makes a multi-animal project the same way
(:func:`make_labeled_group_project`), with keypoints hidden under the shelter left unlabeled.

What is written, in DeepLabCut's layout:

- ``labeled-data/<video stem>/img<NNN>.png``: the rendered (not re-encoded) frames, ``NNN`` the
  frame index zero-padded to ``ceil(log10(n_frames))`` digits, as DeepLabCut names them;
- ``labeled-data/<video stem>/CollectedData_<scorer>.h5`` (key ``df_with_missing``) and the same
  table as ``.csv``: columns ``scorer/bodyparts/coords`` (``x``, ``y``), or
  ``scorer/individuals/bodyparts/coords`` for several animals, rows
  ``("labeled-data", <video stem>, "img042.png")``.

Every file goes to a temporary name in its folder first and is then renamed.
"""

from __future__ import annotations

import math
import os
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from napari_dlcflow.core.example.group import (
    GroupSpec,
    individual_names,
    render_group,
    write_group_example,
)
from napari_dlcflow.core.example.synthetic import (
    BODYPARTS,
    SKELETON,
    SyntheticSpec,
    render_synthetic,
    write_synthetic_example,
)
from napari_dlcflow.core.safe_io import atomic_writer

if TYPE_CHECKING:
    import pandas as pd

    from napari_dlcflow.core.project.config import Project

__all__ = [
    "choose_frames",
    "frame_image_name",
    "label_from_truth",
    "make_labeled_group_project",
    "make_labeled_synthetic_project",
    "truth_dataframe",
]


def frame_image_name(index: int, n_frames: int) -> str:
    """DeepLabCut's name for the image of frame ``index`` of a video of ``n_frames`` frames.

    Examples
    --------
    >>> frame_image_name(42, 300)
    'img042.png'
    """
    digits = max(1, math.ceil(math.log10(n_frames))) if n_frames > 1 else 1
    return f"img{index:0{digits}d}.png"


def choose_frames(n_frames: int, n_labeled: int) -> list[int]:
    """``n_labeled`` frame indices spread evenly over a video of ``n_frames`` frames.

    Raises
    ------
    ValueError
        If ``n_labeled`` is not between 1 and ``n_frames``.
    """
    if not 1 <= n_labeled <= n_frames:
        raise ValueError(f"n_labeled must be between 1 and {n_frames}, got {n_labeled}")
    return sorted({round(i) for i in np.linspace(0, n_frames - 1, n_labeled)})


def truth_dataframe(
    keypoints: np.ndarray,
    frame_indices: Sequence[int],
    *,
    scorer: str,
    video_stem: str,
    n_frames: int,
    bodyparts: Sequence[str] = BODYPARTS,
    individuals: Sequence[str] = (),
) -> pd.DataFrame:
    """The CollectedData table of the given frames.

    Parameters
    ----------
    keypoints : ndarray of shape (T, K, 2) or (T, N, K, 2)
        ``x, y`` of each of the K body parts (of each of the N individuals) in every frame of
        the video; NaN where not labeled.
    frame_indices : sequence of int
        The labeled frames.
    scorer, video_stem : str
        The project's scorer and the video's file name without suffix.
    n_frames : int
        Frame count of the video (sets the zero padding of the image names).
    bodyparts : sequence of str
        Names of the K body parts.
    individuals : sequence of str
        Names of the N individuals of ``(T, N, K, 2)`` keypoints; empty for one animal.

    Returns
    -------
    pandas.DataFrame
        Columns ``scorer/bodyparts/coords`` (``scorer/individuals/bodyparts/coords`` with
        individuals), rows ``("labeled-data", stem, "imgNNN.png")``.
    """
    import pandas as pd

    levels: list[list[str]] = [[scorer], list(bodyparts), ["x", "y"]]
    names = ["scorer", "bodyparts", "coords"]
    if individuals:
        levels.insert(1, list(individuals))
        names.insert(1, "individuals")
    columns = pd.MultiIndex.from_product(levels, names=names)
    index = pd.MultiIndex.from_tuples(
        [("labeled-data", video_stem, frame_image_name(i, n_frames)) for i in frame_indices]
    )
    data = np.asarray(keypoints, dtype=np.float64)[list(frame_indices)].reshape(
        len(frame_indices), -1
    )
    return pd.DataFrame(data, index=index, columns=columns)


def label_from_truth(
    project: Project,
    spec: SyntheticSpec,
    *,
    video_stem: str = "synthetic_animal",
    frame_indices: Sequence[int] | None = None,
    n_labeled: int = 20,
) -> Path:
    """Write labeled frames and CollectedData of the synthetic video into ``project``.

    Parameters
    ----------
    project : Project
        A single-animal project whose body parts are :data:`~.synthetic.BODYPARTS`.
    spec : SyntheticSpec
        The spec the project's video was made from (frames and truth are re-rendered from it).
    video_stem : str
        Name of the labeled-data folder (the video's file name without suffix).
    frame_indices : sequence of int, optional
        Frames to label; default ``n_labeled`` frames spread over the video.
    n_labeled : int
        Used when ``frame_indices`` is not given.

    Returns
    -------
    Path
        The ``CollectedData_<scorer>.h5`` written.

    Raises
    ------
    ValueError
        If the project's body parts differ from the synthetic ones, or a frame index is out
        of range.
    """
    if list(project.bodyparts) != list(BODYPARTS):
        raise ValueError(
            f"{project.config_path} has body parts {project.bodyparts}, "
            f"the synthetic animal has {list(BODYPARTS)}"
        )
    frames = _frames_to_label(spec.n_frames, frame_indices, n_labeled)
    video = render_synthetic(spec)
    return _write_truth_labels(project, video.frames, video.keypoints, frames, video_stem)


def _frames_to_label(
    n_frames: int, frame_indices: Sequence[int] | None, n_labeled: int
) -> list[int]:
    """``frame_indices`` (checked) or ``n_labeled`` frames spread over the video."""
    frames = choose_frames(n_frames, n_labeled) if frame_indices is None else list(frame_indices)
    bad = [i for i in frames if not 0 <= i < n_frames]
    if bad:
        raise ValueError(f"frame indices {bad} are outside 0..{n_frames - 1}")
    return frames


def _write_truth_labels(
    project: Project,
    images: np.ndarray,
    keypoints: np.ndarray,
    frames: Sequence[int],
    video_stem: str,
    individuals: Sequence[str] = (),
) -> Path:
    """Save the images of ``frames`` as PNGs and their keypoints as CollectedData."""
    from PIL import Image

    n_frames = len(images)
    folder = project.root / "labeled-data" / video_stem
    folder.mkdir(parents=True, exist_ok=True)
    for i in frames:
        with atomic_writer(folder / frame_image_name(i, n_frames), backup=False) as tmp:
            Image.fromarray(images[i]).save(tmp, format="PNG")
    df = truth_dataframe(
        keypoints,
        frames,
        scorer=project.scorer,
        video_stem=video_stem,
        n_frames=n_frames,
        individuals=individuals,
    )
    # the one CollectedData writer: canonical DLC 3 form, atomic, with backups
    from napari_dlcflow.core.labels.collected import labels_from_dataframe, write_labels

    labels = labels_from_dataframe(df, folder_stem=video_stem)
    return write_labels(labels, folder, scorer=project.scorer).h5


def make_labeled_synthetic_project(
    folder: str | os.PathLike,
    spec: SyntheticSpec,
    *,
    n_labeled: int = 20,
    task: str = "synthetic",
    scorer: str = "truth",
) -> Project:
    """Write the synthetic video, make a project of it and label it from the truth.

    Parameters
    ----------
    folder : path-like
        Working folder; the video goes to ``folder/example`` and the project folder is made
        inside ``folder``.
    spec : SyntheticSpec
        What to render (even frame size).
    n_labeled : int
        Number of labeled frames, spread evenly over the video.
    task, scorer : str
        Project name and scorer.

    Returns
    -------
    Project
        The new project, opened.
    """
    from napari_dlcflow.core.project.create import create_project

    folder = Path(folder)
    files = write_synthetic_example(folder / "example", spec)
    project = create_project(
        task,
        scorer,
        [files.video],
        folder,
        copy_videos=True,
        bodyparts=list(BODYPARTS),
        skeleton=list(SKELETON),
    )
    label_from_truth(project, spec, video_stem=files.video.stem, n_labeled=n_labeled)
    return project


def make_labeled_group_project(
    folder: str | os.PathLike,
    spec: GroupSpec,
    *,
    n_labeled: int = 20,
    frame_indices: Sequence[int] | None = None,
    task: str = "synthetic-animals",
    scorer: str = "truth",
) -> Project:
    """Write the multi-animal video, make a multi-animal project of it and label it from the
    truth.

    The project has ``multianimalproject: true``, ``identity: false``, the individuals
    ``mouse1 .. mouseN``, :data:`~.synthetic.BODYPARTS` as ``multianimalbodyparts``, no unique
    body parts and :data:`~.synthetic.SKELETON`. Keypoints hidden under the shelter are left
    unlabeled (NaN).

    Parameters
    ----------
    folder : path-like
        Working folder; the video goes to ``folder/example`` and the project folder is made
        inside ``folder``.
    spec : GroupSpec
        What to render (even frame size).
    n_labeled : int
        Number of labeled frames, spread evenly over the video.
    frame_indices : sequence of int, optional
        Frames to label instead of ``n_labeled`` spread ones.
    task, scorer : str
        Project name and scorer.

    Returns
    -------
    Project
        The new project, opened.

    Raises
    ------
    ValueError
        If a frame index is out of range (checked before anything is written).
    """
    from napari_dlcflow.core.project.create import create_project

    frames = _frames_to_label(spec.n_frames, frame_indices, n_labeled)
    folder = Path(folder)
    files = write_group_example(folder / "example", spec)
    individuals = individual_names(spec.n_animals)
    project = create_project(
        task,
        scorer,
        [files.video],
        folder,
        copy_videos=True,
        multianimal=True,
        bodyparts=list(BODYPARTS),
        individuals=list(individuals),
        skeleton=list(SKELETON),
    )
    video = render_group(spec)
    _write_truth_labels(
        project, video.frames, video.keypoints, frames, files.video.stem, individuals
    )
    return project
