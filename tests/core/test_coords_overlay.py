from __future__ import annotations

import numpy as np
import pytest
from numpy.testing import assert_allclose, assert_array_equal

from napari_dlcflow.core.layers.colors import palette
from napari_dlcflow.core.layers.coords import (
    keypoints_to_points,
    points_frame_xy,
    points_to_keypoints,
)
from napari_dlcflow.core.layers.data import keypoint_layers
from napari_dlcflow.core.layers.skeleton import skeleton_edges, skeleton_segments


def test_keypoints_points_round_trip_keeps_nan_and_axis_order() -> None:
    rng = np.random.default_rng(0)
    kp = rng.uniform(0, 100, size=(5, 3, 2))
    kp[1, 2] = np.nan
    pts, t, k = keypoints_to_points(kp)
    assert pts.shape == (14, 3)
    # (t, y, x): y is DLC's second coordinate
    assert_allclose(pts[0], [0, kp[0, 0, 1], kp[0, 0, 0]])
    back = points_to_keypoints(pts, k, 5, 3)
    assert_allclose(back, kp)
    assert_array_equal(t, pts[:, 0].astype(int))


def test_points_frame_xy_is_the_inverse_for_single_points() -> None:
    """What the Labeling dock does with a point a user adds or drags: frame and DLC's x, y."""
    kp = np.array([[[10.5, 20.25]], [[3.0, 4.0]]])
    pts, _, _ = keypoints_to_points(kp)
    pts[1, 0] = 0.9999999  # napari may hand the frame back as a float
    frames, xy = points_frame_xy(pts)
    assert_array_equal(frames, [0, 1])
    assert_allclose(xy, kp[:, 0])
    empty_frames, empty_xy = points_frame_xy(np.zeros((0, 3)))
    assert empty_frames.shape == (0,) and empty_xy.shape == (0, 2)


def test_points_to_keypoints_rejects_duplicates_and_out_of_range() -> None:
    with pytest.raises(ValueError, match="more than once"):
        points_to_keypoints([[0, 1, 1], [0, 2, 2]], [0, 0], 1, 1)
    with pytest.raises(ValueError, match="frame index"):
        points_to_keypoints([[3, 1, 1]], [0], 2, 1)
    with pytest.raises(ValueError, match="keypoint index"):
        points_to_keypoints([[0, 1, 1]], [4], 2, 1)


def test_skeleton_vectors_skip_missing_endpoints() -> None:
    kp = np.array([[[0, 0], [3, 4]], [[1, 1], [np.nan, np.nan]]], dtype=float)
    vec = skeleton_segments(kp, skeleton_edges(["", ""], ["a", "b"], [("a", "b"), ("a", "zz")]))
    assert vec.shape == (1, 2, 3)
    assert_allclose(vec[0], [[0, 0, 0], [0, 4, 3]])


def test_keypoint_layers_colour_each_bodypart() -> None:
    kp = np.zeros((2, 3, 2))
    layers = keypoint_layers(kp, ["a", "b", "c"], [("a", "b")], name="truth")
    kinds = [kind for *_, kind in layers]
    assert kinds == ["vectors", "points"]
    data, kwargs, _ = layers[1]
    assert data.shape == (6, 3)
    assert list(kwargs["features"]["bodypart"]) == ["a", "b", "c"] * 2
    assert_allclose(kwargs["face_color"][:3], palette(3))
    assert len({tuple(c) for c in palette(3)}) == 3
