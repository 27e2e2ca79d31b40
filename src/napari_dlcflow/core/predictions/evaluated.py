"""A snapshot's predictions beside the human labels, per labeled image.

:class:`EvalFrames` is data only: the engine fills it from DeepLabCut's evaluation files
(:func:`napari_dlcflow.core.engine.evaluation.evaluation_frames`), label QC reads it to find
labels a trained model confidently disagrees with, and the Training dock shows its worst images.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

__all__ = ["EvalFrames"]


@dataclass
class EvalFrames:
    """Labels and predictions of one snapshot on every labeled image, worst image first.

    Attributes
    ----------
    images : list of Path
        Image files, in display order.
    bodyparts : list of str
    truth, predicted : ndarray of shape (N, K, 2)
        ``x, y`` per image and body part (NaN where not labeled / not predicted).
    likelihood : ndarray of shape (N, K)
    errors : ndarray of shape (N,)
        Mean distance per image in pixels (NaN if nothing to compare).
    split : list of str
        ``"train"`` or ``"test"`` per image.
    snapshot : str
        The evaluated snapshot (``snapshot-best-010``), empty when unknown.
    """

    images: list[Path]
    bodyparts: list[str]
    truth: np.ndarray
    predicted: np.ndarray
    likelihood: np.ndarray
    errors: np.ndarray
    split: list[str]
    snapshot: str = ""
