"""The common shape every foreign label format is read into.

A reader turns its file into :class:`ForeignLabels` (a
:class:`~napari_dlcflow.core.keypoints.Keypoints`): the keypoints of each frame, and where each
frame's pixels come from (an image file, or a frame of a video).
:mod:`napari_dlcflow.core.formats.importing`
then copies the pixels into ``labeled-data/<name>/img*.png`` and merges the labels into
CollectedData; no reader writes anything.
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from napari_dlcflow.core.keypoints.model import Keypoints, KeypointsFileError
from napari_dlcflow.core.untrusted import shorten

__all__ = ["ForeignLabels", "FormatError", "FrameRef", "skeleton_edges"]


class FormatError(KeypointsFileError):
    """A foreign label file cannot be read; the message names the file and the problem."""


def skeleton_edges(
    path: str | os.PathLike, edges: Iterable[Sequence[str]]
) -> list[tuple[str, str]]:
    """A foreign file's skeleton as ``(a, b)`` pairs, checked as a project's skeleton is.

    A project refuses an edge twice (in either direction) and an edge from a body part to
    itself; a reader refuses them first, so the error names the file.

    Raises
    ------
    FormatError
        Naming ``path`` and the edge.
    """
    seen: set[frozenset[str]] = set()
    out: list[tuple[str, str]] = []
    for a, b in edges:
        if a == b:
            raise FormatError(
                path, f"skeleton edge {shorten(f'{a}-{b}')} joins a keypoint to itself"
            )
        key = frozenset((a, b))
        if key in seen:
            raise FormatError(path, f"skeleton edge {shorten(f'{a}-{b}')} appears twice")
        seen.add(key)
        out.append((a, b))
    return out


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
class ForeignLabels(Keypoints):
    """Labels read from another tool, not yet in a project: a :class:`Keypoints`.

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
    xy : ndarray of shape (frames, keypoints, 2)
        ``x, y`` in pixels of the frame (DeepLabCut's convention); NaN where not labeled.
    multianimal : bool
        Whether the data names individuals.
    skeleton : list of (str, str)
        Edges between body parts, if the format has them.
    scorer : str or None
        The labeler, if the format names one.
    notes : list of str
        What the reader met and did (points without visibility left unlabeled, ...).
    likelihood : ndarray of shape (frames, keypoints) or None
        Scores, if the format has them (never imported as labels).
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
    likelihood: np.ndarray | None = None

    def __post_init__(self) -> None:
        self._check_shapes()

    @property
    def n_rows(self) -> int:
        """Number of frames."""
        return len(self.frames)

    @property
    def row_names(self) -> list[str]:
        """The name the other tool gave each frame."""
        return [f.name for f in self.frames]

    @property
    def bodyparts(self) -> list[str]:
        """Body parts shared by the individuals (unique ones excluded), in column order:
        :attr:`~Keypoints.shared_bodyparts`."""
        return self.shared_bodyparts

    @property
    def unique_bodyparts(self) -> list[str]:
        """Body parts of the ``single`` individual (multi-animal only):
        :attr:`~Keypoints.unique_bodypart_names`."""
        return self.unique_bodypart_names

    @property
    def individuals(self) -> list[str]:
        """Individuals in column order, ``single`` excluded; empty for single-animal data:
        :attr:`~Keypoints.animal_names`."""
        return self.animal_names

    def take_rows(self, rows: Sequence[int]) -> ForeignLabels:
        """A copy with only the frames ``rows``, in that order.

        Parameters
        ----------
        rows : sequence of int
            Row indices into :attr:`frames` and :attr:`xy`.
        """
        idx = list(rows)
        return dataclasses.replace(
            self,
            frames=[self.frames[r] for r in idx],
            xy=self.xy[idx],
            notes=list(self.notes),
            likelihood=None if self.likelihood is None else self.likelihood[idx],
        )

    def take_columns(
        self, columns: Sequence[int], *, skeleton: Sequence[tuple[str, str]] | None = None
    ) -> ForeignLabels:
        """A copy with only the keypoint columns ``columns``, in that order.

        Parameters
        ----------
        columns : sequence of int
            Column indices into :attr:`keypoints`.
        skeleton : sequence of (str, str), optional
            The copy's skeleton (default: this one's, unchanged).
        """
        idx = list(columns)
        return dataclasses.replace(
            self,
            keypoints=[self.keypoints[k] for k in idx],
            frames=list(self.frames),
            xy=self.xy[:, idx],
            skeleton=list(self.skeleton if skeleton is None else skeleton),
            notes=list(self.notes),
            likelihood=None if self.likelihood is None else self.likelihood[:, idx],
        )
