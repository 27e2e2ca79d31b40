"""npe2 sample data: the synthetic animal video with its ground-truth keypoints."""

from __future__ import annotations

from typing import Any


def synthetic_animal() -> list[tuple[Any, dict[str, Any], str]]:
    """The built-in example: a 300-frame video, 11 true keypoints and the skeleton."""
    from napari_dlcflow.core.example.synthetic import SyntheticSpec, render_synthetic
    from napari_dlcflow.core.layers.data import keypoint_layers

    video = render_synthetic(SyntheticSpec())
    image = (video.frames, {"name": "synthetic animal", "rgb": True}, "image")
    truth = keypoint_layers(video.keypoints, video.bodyparts, video.skeleton, name="ground truth")
    return [image, *truth]
