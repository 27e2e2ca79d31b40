"""The trained model run on labeled-data images (DeepLabCut's ``analyze_images``), in a child.

The parent side is :func:`napari_dlcflow.core.refine.assist.predict_images`; the engine task
``predict-images`` (:func:`predict_images_here`) imports deeplabcut, predicts the images and
writes them as machine labels (``machinelabels-iter<N>.h5``) for review in the Labeling dock.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

__all__ = ["PredictImagesSpec", "predict_images_here"]


@dataclass
class PredictImagesSpec:
    """What the engine task ``predict-images`` runs the model on.

    Attributes
    ----------
    config : str
        The project's ``config.yaml``.
    folder : str
        The ``labeled-data`` folder the machine labels are written to.
    images : list of str
        The images to predict.
    iteration : int
        The iteration in the machine-label file's name.
    shuffle, trainset_index : int or None
        Which model (None: the last dataset creation's).
    snapshot_index : int or str or None
        Which snapshot (None: the config's ``snapshotindex``).
    device : str or None
        Where the model runs (None: the model's setting).
    """

    config: str
    folder: str
    images: list[str]
    iteration: int
    shuffle: int | None = None
    trainset_index: int | None = None
    snapshot_index: int | str | None = None
    device: str | None = None


def predict_images_here(**spec_fields: Any) -> int:
    """Engine task ``predict-images``: run the model on the images of the spec given as keyword
    arguments and write machine labels (imports deeplabcut)."""
    from deeplabcut.pose_estimation_pytorch.apis.analyze_images import analyze_images

    from napari_dlcflow.core.engine.analysis import AnalysisSpec, _dlc_scorer
    from napari_dlcflow.core.jobs import emit
    from napari_dlcflow.core.labels.collected import Labels, config_keypoints
    from napari_dlcflow.core.labels.machine import write_machine_labels
    from napari_dlcflow.core.project.config import Project

    spec = PredictImagesSpec(**spec_fields)
    project = Project.open(spec.config)
    model = AnalysisSpec(
        config=spec.config,
        videos=[],
        shuffle=spec.shuffle,
        trainset_index=spec.trainset_index,
        snapshot_index=spec.snapshot_index,
    ).resolved()
    scorer = _dlc_scorer(model)
    kwargs: dict[str, Any] = {
        "shuffle": model.shuffle,
        "trainingsetindex": model.trainset_index,
        "progress_bar": False,
    }
    if spec.snapshot_index is not None:
        kwargs["snapshot_index"] = spec.snapshot_index
    if spec.device:
        kwargs["device"] = spec.device
    out = analyze_images(spec.config, spec.images, **kwargs)
    keypoints, multi = config_keypoints(project)
    unique = [k for k in keypoints if k[0] == "single"]
    animal = [k for k in keypoints if k[0] != "single"]
    individuals = list(dict.fromkeys(k[0] for k in animal))
    bodyparts = list(dict.fromkeys(k[1] for k in animal))
    xy = np.full((len(spec.images), len(keypoints), 2), np.nan)
    lik = np.full((len(spec.images), len(keypoints)), np.nan)
    by_name = {Path(k).name: v for k, v in out.items()}
    for r, image in enumerate(spec.images):
        pred = by_name.get(Path(image).name)
        if pred is None:
            continue
        poses = np.asarray(pred["bodyparts"], dtype=float)  # (n_individuals, K, 3)
        for i, ind in enumerate(individuals):
            if i >= len(poses):
                break
            for b, bp in enumerate(bodyparts):
                k = keypoints.index((ind, bp))
                xy[r, k], lik[r, k] = poses[i, b, :2], poses[i, b, 2]
        if unique and pred.get("unique_bodyparts") is not None:
            upose = np.asarray(pred["unique_bodyparts"], dtype=float).reshape(-1, len(unique), 3)
            for u, key in enumerate(unique):
                k = keypoints.index(key)
                xy[r, k], lik[r, k] = upose[0, u, :2], upose[0, u, 2]
    labels = Labels(
        scorer=scorer,
        keypoints=keypoints,
        images=[("labeled-data", Path(spec.folder).name, Path(p).name) for p in spec.images],
        xy=xy,
        likelihood=lik,
        multianimal=multi,
    )
    path = write_machine_labels(labels, spec.folder, spec.iteration)
    emit("predicted", machine_labels=str(path), images=len(spec.images))
    return 0
