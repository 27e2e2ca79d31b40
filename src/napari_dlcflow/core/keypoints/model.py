"""The one keypoint data model: what labels, machine labels, predictions and imports share.

Every keypoint container of the package is a :class:`Keypoints`:

=========================================================  ===================================
:class:`~napari_dlcflow.core.labels.collected.Labels`      CollectedData, machine labels
:class:`~napari_dlcflow.core.predictions.analysis_files.Predictions`  DLC analysis output
:class:`~napari_dlcflow.core.formats.ForeignLabels`        labels read from another tool
=========================================================  ===================================

They keep their keypoints the same way: one **row** per frame or image, one **column** per
keypoint, a column being an ``(individual, bodypart)`` pair in file order, so that

- ``keypoints`` is the list of those pairs. ``individual`` is ``""`` in single-animal data and
  ``"single"`` (:data:`UNIQUE_INDIVIDUAL`) for the unique body parts of multi-animal data;
- ``xy`` is an ``ndarray of shape (rows, keypoints, 2)``: ``x, y`` in pixels of the frame
  (DeepLabCut's convention, origin at the top-left pixel's centre), NaN where not labeled;
- ``likelihood`` is an ``ndarray of shape (rows, keypoints)`` (network confidence) or None;
- ``scorer`` (who labeled: a person or a network), ``multianimal`` (the data names
  individuals), ``source`` (the file read, or None) and ``notes`` (what reading met).

Rows are named by each kind as its files do (``Labels.images``: ``("labeled-data", stem,
image)``; ``Predictions.frames``: frame numbers; ``ForeignLabels.frames``: where the pixels
are); :attr:`Keypoints.row_names` gives them as text. The flat column axis holds unique body
parts (which belong to no individual) without padding; :meth:`Keypoints.by_individual` gives
the ``(rows, individuals, bodyparts, 2)`` view. The conversion to napari's ``(t, y, x)`` lives in
:mod:`napari_dlcflow.core.layers.coords` only.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

import numpy as np

__all__ = [
    "HDF5_SIGNATURE",
    "HDF_KEY",
    "UNIQUE_INDIVIDUAL",
    "Keypoints",
    "KeypointsFileError",
    "is_hdf5",
]

HDF_KEY = "df_with_missing"
"""The HDF5 key DeepLabCut writes its label and prediction tables under."""

UNIQUE_INDIVIDUAL = "single"
"""The individual DeepLabCut files the unique body parts of multi-animal projects under."""

HDF5_SIGNATURE = b"\x89HDF\r\n\x1a\n"
"""The first 8 bytes of every HDF5 file (DLC tables, SLEAP projects)."""


def is_hdf5(path: str | os.PathLike) -> bool:
    """Whether ``path`` is a file that starts with :data:`HDF5_SIGNATURE`. Never raises."""
    try:
        with open(path, "rb") as fh:
            return fh.read(8) == HDF5_SIGNATURE
    except (OSError, TypeError, ValueError):
        return False


class KeypointsFileError(ValueError):
    """A keypoint file cannot be used as it is; the message names the file and the problem.

    Base of :class:`~napari_dlcflow.core.labels.collected.LabelsError` and
    :class:`~napari_dlcflow.core.formats.FormatError`.
    """

    def __init__(self, path: str | os.PathLike | None, problem: str) -> None:
        self.path = Path(path) if path is not None else None
        self.problem = problem
        super().__init__(f"{self.path}: {problem}" if self.path else problem)


class Keypoints:
    """Base of every keypoint container: the shared names, checks and views.

    Subclasses are dataclasses that provide (as fields or properties) ``scorer``,
    ``keypoints``, ``xy``, ``likelihood``, ``multianimal``, ``source`` and ``notes`` as the
    module describes, and :attr:`n_rows`.

    Attributes
    ----------
    scorer : str or None
        Who made the keypoints (the labeler, or the network's scorer name).
    keypoints : list of (str, str)
        ``(individual, bodypart)`` of each column, in file order.
    xy : ndarray of shape (rows, keypoints, 2)
        ``x, y`` in pixels; NaN where a keypoint is not labeled or not predicted.
    likelihood : ndarray of shape (rows, keypoints) or None
        Confidence of each point (predictions, machine labels); None for human labels.
    multianimal : bool
        Whether the data names individuals.
    source : Path or None
        The file it was read from.
    notes : list of str
        Legacy forms or choices met while reading.
    """

    scorer: str | None
    keypoints: list[tuple[str, str]]
    xy: np.ndarray
    likelihood: np.ndarray | None
    multianimal: bool
    source: Path | None
    notes: list[str]

    # ------------------------------------------------------------------------------ sizes
    @property
    def n_rows(self) -> int:
        """Number of rows (frames or images)."""
        return int(self.xy.shape[0])

    @property
    def n_keypoints(self) -> int:
        """Number of columns (``(individual, bodypart)`` pairs)."""
        return len(self.keypoints)

    def _check_shapes(self) -> None:
        """Make ``xy`` (and ``likelihood``) float arrays of the documented shapes."""
        self.xy = np.asarray(self.xy, dtype=float)
        shape = (self.n_rows, self.n_keypoints, 2)
        if self.xy.shape != shape:
            raise ValueError(f"xy must have shape {shape}, got {self.xy.shape}")
        if self.likelihood is not None:
            self.likelihood = np.asarray(self.likelihood, dtype=float)
            if self.likelihood.shape != shape[:2]:
                raise ValueError(f"likelihood must have shape {shape[:2]}")

    # ------------------------------------------------------------------------------ names
    @property
    def row_names(self) -> list[str]:
        """Each row's name as text (image path, frame number or the other tool's name)."""
        raise NotImplementedError

    @property
    def bodypart_names(self) -> list[str]:
        """Every body part once, in column order, unique body parts included."""
        return list(dict.fromkeys(bp for _, bp in self.keypoints))

    @property
    def individual_names(self) -> list[str]:
        """Every individual once, in column order, ``"single"`` included; empty if single
        animal."""
        return [i for i in dict.fromkeys(ind for ind, _ in self.keypoints) if i]

    @property
    def animal_names(self) -> list[str]:
        """The individuals as config.yaml lists them (``"single"`` excluded)."""
        return [i for i in self.individual_names if i != UNIQUE_INDIVIDUAL]

    @property
    def shared_bodyparts(self) -> list[str]:
        """Body parts of the individuals, as config.yaml's ``bodyparts`` /
        ``multianimalbodyparts`` (unique body parts excluded)."""
        return list(dict.fromkeys(b for i, b in self.keypoints if i != UNIQUE_INDIVIDUAL))

    @property
    def unique_bodypart_names(self) -> list[str]:
        """Body parts of the ``"single"`` individual (config.yaml's ``uniquebodyparts``)."""
        return list(dict.fromkeys(b for i, b in self.keypoints if i == UNIQUE_INDIVIDUAL))

    @property
    def keypoint_labels(self) -> list[str]:
        """A display name per column: ``bodypart``, or ``individual/bodypart``."""
        return [f"{i}/{b}" if i else b for i, b in self.keypoints]

    def column(self, individual: str, bodypart: str) -> int:
        """Index of the ``(individual, bodypart)`` column.

        Raises
        ------
        KeyError
            If there is no such column (the message lists what there is).
        """
        try:
            return self.keypoints.index((individual, bodypart))
        except ValueError:
            raise KeyError(
                f"no keypoint {individual + '/' if individual else ''}{bodypart} in "
                f"{self.source or 'the data'} (has {', '.join(self.keypoint_labels[:8])}"
                f"{', ...' if self.n_keypoints > 8 else ''})"
            ) from None

    # ------------------------------------------------------------------------------ content
    @property
    def labeled(self) -> np.ndarray:
        """``(rows, keypoints)`` bool: the point has both coordinates."""
        return ~np.isnan(self.xy).any(axis=-1)

    @property
    def n_labeled(self) -> int:
        """How many points have coordinates."""
        return int(self.labeled.sum())

    def points_per_bodypart(self) -> dict[str, int]:
        """How many labeled points each body part has (over all individuals and rows)."""
        has = self.labeled
        out: dict[str, int] = {}
        for k, (_, bp) in enumerate(self.keypoints):
            out[bp] = out.get(bp, 0) + int(has[:, k].sum())
        return out

    def by_individual(
        self,
        individuals: Sequence[str] | None = None,
        bodyparts: Sequence[str] | None = None,
    ) -> np.ndarray:
        """The points with the individual and body part as separate axes.

        Parameters
        ----------
        individuals : sequence of str, optional
            Default :attr:`individual_names` (``[""]`` for single-animal data).
        bodyparts : sequence of str, optional
            Default :attr:`bodypart_names`.

        Returns
        -------
        ndarray of shape (rows, individuals, bodyparts, 2)
            ``x, y``; NaN where the pair is not a column (e.g. a unique body part of an
            animal) or not labeled. A copy.
        """
        inds = list(individuals) if individuals is not None else (self.individual_names or [""])
        bps = list(bodyparts) if bodyparts is not None else self.bodypart_names
        out = np.full((self.n_rows, len(inds), len(bps), 2), np.nan)
        where = {k: c for c, k in enumerate(self.keypoints)}
        for a, ind in enumerate(inds):
            for b, bp in enumerate(bps):
                c = where.get((ind, bp))
                if c is not None:
                    out[:, a, b] = self.xy[:, c]
        return out
