"""A multi-animal *tracked* analysis file made from the synthetic group's truth, without training.

DeepLabCut's stitching writes ``<video stem><scorer>_el.h5`` with HDF key ``tracks`` and the
columns ``scorer / individuals / bodyparts / coords``; this writes the same from
:func:`~napari_dlcflow.core.example.group.render_group`'s truth (high likelihoods where a
keypoint is visible, NaN where it is hidden).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from napari_dlcflow.core.example.group import GroupSpec, read_group_truth, write_group_example
from napari_dlcflow.core.predictions.analysis_files import (
    Predictions,
    output_files,
    scorer_name,
    simulate_predictions,
    write_predictions,
)

SCORER = scorer_name("resnet_50", "group", "Nov24", 1, "best-20")


def tracked_from_truth(
    keypoints: np.ndarray, individuals: tuple[str, ...], bodyparts: tuple[str, ...]
) -> Predictions:
    """Predictions in DeepLabCut's tracked layout from ``(T, N, K, 2)`` truth: the truth's
    coordinates exactly (no noise), every likelihood high, NaN where hidden."""
    return simulate_predictions(
        keypoints,
        bodyparts,
        individuals=individuals,
        scorer=SCORER,
        noise_px=0.0,
        low_fraction=0.0,
    )


def write_tracked_group(folder: Path, spec: GroupSpec) -> tuple[Path, Path, Predictions]:
    """The group video and its tracked ``_el.h5`` (HDF key ``tracks``) in ``folder``."""
    files = write_group_example(folder, spec)
    kp, individuals, bodyparts = read_group_truth(files.truth_csv)
    pred = tracked_from_truth(kp, individuals, bodyparts)
    h5 = output_files(files.video, SCORER, tracker="ellipse")["tracks"]
    write_predictions(pred, h5)  # key "tracks", as DeepLabCut's stitching writes it
    return files.video, h5, pred
