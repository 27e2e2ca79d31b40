"""npe2 sample data: the synthetic animal video(s) with their ground-truth keypoints."""

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


def synthetic_animals() -> list[tuple[Any, dict[str, Any], str]]:
    """The multi-animal example: 300 frames of three look-alike animals that cross, touch and
    hide under a shelter; their true keypoints (one points layer, the individual a feature
    and the colour) and skeletons. Keypoints under the shelter have no point."""
    from napari_dlcflow.core.example.group import GroupSpec, render_group
    from napari_dlcflow.core.layers.data import keypoint_layers

    video = render_group(GroupSpec())
    image = (video.frames, {"name": "synthetic animals", "rgb": True}, "image")
    truth = keypoint_layers(
        video.keypoints,
        video.bodyparts,
        video.skeleton,
        name="ground truth",
        individuals=video.individuals,
    )
    return [image, *truth]
