"""The small helpers that give one home to logic that was written twice (issue 22).

Each test drives the helper on real data shapes and checks every value it returns, so a
helper that drops or reorders anything fails here, not only in the callers' tests.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from napari_dlcflow.core.formats import ForeignLabels
from napari_dlcflow.core.formats._model import FrameRef


def _foreign() -> ForeignLabels:
    frames = [
        FrameRef(name=f"img{i}.png", group="g", image=Path(f"/x/img{i}.png")) for i in range(4)
    ]
    keypoints = [("a", "nose"), ("a", "tail"), ("b", "nose"), ("b", "tail")]
    xy = np.arange(4 * 4 * 2, dtype=float).reshape(4, 4, 2)
    return ForeignLabels(
        format="coco",
        source=Path("/x/file.json"),
        keypoints=keypoints,
        frames=frames,
        xy=xy,
        multianimal=True,
        skeleton=[("nose", "tail")],
        scorer="someone",
        notes=["a note"],
        likelihood=np.linspace(0, 1, 16).reshape(4, 4),
    )


def test_take_rows_keeps_the_rows_asked_for_in_order() -> None:
    labels = _foreign()
    out = labels.take_rows([3, 1])
    assert [f.name for f in out.frames] == ["img3.png", "img1.png"]
    np.testing.assert_array_equal(out.xy, labels.xy[[3, 1]])
    np.testing.assert_array_equal(out.likelihood, labels.likelihood[[3, 1]])
    assert out.keypoints == labels.keypoints
    assert (out.format, out.source, out.scorer, out.multianimal) == (
        "coco",
        Path("/x/file.json"),
        "someone",
        True,
    )
    assert out.skeleton == [("nose", "tail")]
    out.notes.append("more")
    assert labels.notes == ["a note"]  # a copy: the original is not touched
    assert labels.n_rows == 4
    assert labels.take_rows([]).xy.shape == (0, 4, 2)


def test_take_columns_keeps_the_columns_and_the_given_skeleton() -> None:
    labels = _foreign()
    out = labels.take_columns([2, 0])
    assert out.keypoints == [("b", "nose"), ("a", "nose")]
    np.testing.assert_array_equal(out.xy, labels.xy[:, [2, 0]])
    np.testing.assert_array_equal(out.likelihood, labels.likelihood[:, [2, 0]])
    assert out.frames == labels.frames and out.frames is not labels.frames
    assert out.skeleton == [("nose", "tail")]  # unchanged unless given
    assert labels.take_columns([0], skeleton=[]).skeleton == []
    assert labels.n_keypoints == 4
