"""The common shape every foreign label format is read into.

A reader turns its file into :class:`ForeignLabels`: the keypoints of each frame, and where each
frame's pixels come from (an image file, or a frame of a video).
:mod:`napari_dlcflow.core.labels.importing`
then copies the pixels into ``labeled-data/<name>/img*.png`` and merges the labels into
CollectedData; no reader writes anything.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

__all__ = ["ForeignLabels", "FormatError", "FrameRef"]


class FormatError(ValueError):
    """A foreign label file cannot be read; the message names the file and the problem."""

    def __init__(self, path: str | os.PathLike | None, problem: str) -> None:
        self.path = Path(path) if path is not None else None
        self.problem = problem
        super().__init__(f"{self.path}: {problem}" if self.path else problem)


@dataclass(frozen=True)
class FrameRef:
    """Where the pixels of one labeled frame come from.

    Attributes
    ----------
    name : str
        The name the other tool gave the frame (image file name, or ``"<video>#<index>"``).
    group : str
        Suggested ``labeled-data`` folder (video stem or image folder name).
    image : Path or None
        The image file, if the frame is an image (it may not exist: the preview says so).
    video : Path or None
        The video, if the frame is a frame of a video.
    frame_index : int or None
        The frame's index in ``video`` (0-based), or a number the image name carries.
    """

    name: str
    group: str
    image: Path | None = None
    video: Path | None = None
    frame_index: int | None = None

    @property
    def path(self) -> Path | None:
        """The file the pixels are read from."""
        return self.image if self.image is not None else self.video

    def exists(self) -> bool:
        """Whether that file is there."""
        p = self.path
        return p is not None and p.is_file()


@dataclass
class ForeignLabels:
    """Labels read from another tool, not yet in a project.

    Attributes
    ----------
    format : str
        The reader's name (``"coco"``, ``"sleap"``, ...).
    source : Path
        The file or folder read.
    keypoints : list of (str, str)
        ``(individual, bodypart)`` per column; ``individual`` is ``""`` for single-animal data
        and ``"single"`` for unique body parts.
    frames : list of FrameRef
        One per row of ``xy``.
    xy : ndarray of shape (n_frames, n_keypoints, 2)
        ``x, y`` in pixels of the frame (DeepLabCut's convention); NaN where not labeled.
    multianimal : bool
        Whether the data names individuals.
    skeleton : list of (str, str)
        Edges between body parts, if the format has them.
    scorer : str or None
        The labeler, if the format names one.
    notes : list of str
        What the reader met and did (points without visibility left unlabeled, ...).
    """

    format: str
    source: Path
    keypoints: list[tuple[str, str]]
    frames: list[FrameRef]
    xy: np.ndarray
    multianimal: bool = False
    skeleton: list[tuple[str, str]] = field(default_factory=list)
    scorer: str | None = None
    notes: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.xy = np.asarray(self.xy, dtype=float)
        shape = (len(self.frames), len(self.keypoints), 2)
        if self.xy.shape != shape:
            raise ValueError(f"xy must have shape {shape}, got {self.xy.shape}")

    @property
    def bodyparts(self) -> list[str]:
        """Body parts shared by the individuals (unique ones excluded), in column order."""
        return list(dict.fromkeys(b for i, b in self.keypoints if i != "single"))

    @property
    def unique_bodyparts(self) -> list[str]:
        """Body parts of the ``single`` individual (multi-animal only)."""
        return list(dict.fromkeys(b for i, b in self.keypoints if i == "single"))

    @property
    def individuals(self) -> list[str]:
        """Individuals in column order, ``single`` excluded; empty for single-animal data."""
        return [i for i in dict.fromkeys(i for i, _ in self.keypoints) if i and i != "single"]

    def points_per_bodypart(self) -> dict[str, int]:
        """How many labeled points each body part has (over all individuals and frames)."""
        has = ~np.isnan(self.xy).any(axis=-1)
        out: dict[str, int] = {}
        for k, (_, bp) in enumerate(self.keypoints):
            out[bp] = out.get(bp, 0) + int(has[:, k].sum())
        return out

    @property
    def n_labeled(self) -> int:
        """Number of labeled points."""
        return int((~np.isnan(self.xy).any(axis=-1)).sum())
