"""Model-assisted labeling: the current model's predictions as a starting point for new frames.

For the images of a labeled-data folder that have no labels yet, predictions come from

1. the video's newest analysis file (``<video>DLC*.h5``) when it has those frames (no model
   run needed; the frame index is read from DeepLabCut's image name, ``img0042.png``), else
2. the trained model run on the images themselves (``deeplabcut``'s ``analyze_images`` in the
   engine task ``predict-images``, :mod:`napari_dlcflow.core.engine.images`), which also works
   for images that came from no video.

They are written as machine labels (``machinelabels-iter<N>.h5``), which the Labeling dock
shows as predictions to review; nothing goes to ``CollectedData`` here.
"""

from __future__ import annotations

import os
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from napari_dlcflow.core.labels.collected import Labels, folder_images, load_folder
from napari_dlcflow.core.labels.machine import (
    frame_index_of,
    predictions_to_labels,
    write_machine_labels,
)

__all__ = [
    "AssistResult",
    "predict_folder",
    "predict_from_analysis",
    "predict_images",
    "unlabeled_images",
]


@dataclass
class AssistResult:
    """What :func:`predict_folder` predicted.

    Attributes
    ----------
    folder : Path
    from_analysis : list of str
        Images whose predictions came from the video's analysis file.
    from_model : list of str
        Images the model was run on.
    machine_labels : Path or None
        The machine-label file written.
    analysis : Path or None
        The analysis file used.
    """

    folder: Path
    from_analysis: list[str] = field(default_factory=list)
    from_model: list[str] = field(default_factory=list)
    machine_labels: Path | None = None
    analysis: Path | None = None

    def format(self) -> str:
        """One sentence."""
        n = len(self.from_analysis) + len(self.from_model)
        if not n:
            return f"{self.folder.name}: every image has labels; nothing to predict."
        parts = []
        if self.from_analysis:
            where = self.analysis.name if self.analysis else "the analysis"
            parts.append(f"{len(self.from_analysis)} from {where}")
        if self.from_model:
            parts.append(f"{len(self.from_model)} by running the model")
        return f"{self.folder.name}: predictions for {n} image(s) ({', '.join(parts)})."


def unlabeled_images(project: Any, folder: str | os.PathLike) -> list[Path]:
    """Images of the folder that have no row in its ``CollectedData``."""
    folder = Path(folder)
    ground = load_folder(folder, project.scorer) or load_folder(folder)
    have = {r[-1] for r in ground.images} if ground is not None else set()
    return [p for p in folder_images(folder) if p.name not in have]


def _video_of(project: Any, folder: Path) -> Path | None:
    for key in project.videos:
        if Path(key).stem == folder.name:
            return Path(key)
    return None


def _frame_offset(project: Any, video: Path, image: Path) -> tuple[float, float]:
    """The crop origin when the folder's frames were saved cropped to ``video_sets``' crop."""
    from PIL import Image

    from napari_dlcflow.core.video.extract import parse_crop

    crop = parse_crop(project.videos.get(str(video)))
    if crop is None:
        return 0.0, 0.0
    x1, x2, y1, y2 = crop
    with Image.open(image) as im:
        w, h = im.size
    if (w, h) == (x2 - x1, y2 - y1) and (x1, y1) != (0, 0):
        return float(x1), float(y1)
    return 0.0, 0.0


def predict_from_analysis(
    project: Any, folder: str | os.PathLike, images: list[Path]
) -> tuple[Labels | None, Path | None]:
    """Machine labels for ``images`` from the video's newest analysis (those it covers)."""
    from napari_dlcflow.core.predictions.analysis_files import (
        crop_offset,
        find_analysis_files,
        read_predictions,
    )

    folder = Path(folder)
    video = _video_of(project, folder)
    if video is None or not images:
        return None, None
    found = []
    for where in (video.parent, project.root / "videos"):
        found = find_analysis_files(video, where)
        if found:
            break
    if not found:
        return None, None
    pred = read_predictions(found[0])
    have = set(int(f) for f in pred.frames)
    use = [p for p in images if frame_index_of(p.name) in have]
    if not use:
        return None, found[0]
    dx, dy = crop_offset(pred)
    ox, oy = _frame_offset(project, video, use[0])
    labels = predictions_to_labels(
        pred,
        [int(frame_index_of(p.name)) for p in use],  # type: ignore[arg-type]
        [p.name for p in use],
        folder.name,
        offset=(ox - dx, oy - dy),
    )
    return labels, found[0]


def predict_images(
    project: Any,
    folder: str | os.PathLike,
    images: list[Path],
    *,
    shuffle: int | None = None,
    trainset_index: int | None = None,
    snapshot_index: int | str | None = None,
    device: str | None = None,
    timeout: float = 1800,
) -> Path:
    """Run the trained model on ``images`` (DeepLabCut, in a child) and write machine labels.

    Raises
    ------
    RuntimeError
        If DeepLabCut failed (no trained snapshot, ...); the message holds its reason.
    """
    from napari_dlcflow.core.engine.images import PredictImagesSpec
    from napari_dlcflow.core.engine.tasks import run_task

    spec = PredictImagesSpec(
        config=str(project.config_path),
        folder=str(folder),
        images=[str(p) for p in images],
        iteration=int(project.iteration),
        shuffle=shuffle,
        trainset_index=trainset_index,
        snapshot_index=snapshot_index,
        device=device,
    )
    result = run_task("predict-images", **asdict(spec), timeout=timeout)
    done = result.last("predicted")
    if done is None or not result.ok:
        raise RuntimeError(f"the model could not predict the images: {result.reason()}")
    return Path(done["machine_labels"])


def predict_folder(
    project: Any,
    folder: str | os.PathLike,
    *,
    use_model: bool = True,
    shuffle: int | None = None,
    trainset_index: int | None = None,
    snapshot_index: int | str | None = None,
    device: str | None = None,
) -> AssistResult:
    """Predictions for every image of ``folder`` without labels, as machine labels.

    Parameters
    ----------
    project : Project
        The open project.
    folder : path-like
        ``labeled-data/<video>``.
    use_model : bool, default True
        Run the model on images the analysis does not cover (otherwise they are left).
    shuffle, trainset_index, snapshot_index, device
        Which model (shuffle and trainset index: the last dataset creation's by default), and
        where it runs.
    """
    folder = Path(folder)
    result = AssistResult(folder=folder)
    todo = unlabeled_images(project, folder)
    if not todo:
        return result
    labels, result.analysis = predict_from_analysis(project, folder, todo)
    if labels is not None:
        result.machine_labels = write_machine_labels(labels, folder, project.iteration)
        result.from_analysis = [r[-1] for r in labels.images]
    rest = [p for p in todo if p.name not in set(result.from_analysis)]
    if rest and use_model:
        result.machine_labels = predict_images(
            project,
            folder,
            rest,
            shuffle=shuffle,
            trainset_index=trainset_index,
            snapshot_index=snapshot_index,
            device=device,
        )
        result.from_model = [p.name for p in rest]
    return result
