from __future__ import annotations

import numpy as np

from napari_dlcflow.core.example.synthetic import BODYPARTS, SKELETON
from napari_dlcflow.widgets.project.skeleton_view import spring_layout


def test_spring_layout_draws_edges_short_and_is_deterministic() -> None:
    index = {b: i for i, b in enumerate(BODYPARTS)}
    edges = [(index[a], index[b]) for a, b in SKELETON]
    pos = spring_layout(len(BODYPARTS), edges)
    assert pos.shape == (11, 2) and np.abs(pos).max() <= 1.0 + 1e-9
    assert np.array_equal(pos, spring_layout(len(BODYPARTS), edges))
    dist = np.linalg.norm(pos[:, None] - pos[None], axis=-1)
    connected = np.mean([dist[a, b] for a, b in edges])
    others = dist[np.triu_indices(11, 1)].mean()
    assert connected < 0.7 * others
    assert dist[np.triu_indices(11, 1)].min() > 0.05  # no two body parts on top of each other


def _area(a: np.ndarray, b: np.ndarray) -> float:
    w = min(a[0] + a[2], b[0] + b[2]) - max(a[0], b[0])
    h = min(a[1] + a[3], b[1] + b[3]) - max(a[1], b[1])
    return max(w, 0.0) * max(h, 0.0)


def test_labels_of_an_eleven_part_animal_do_not_overlap(qtbot) -> None:  # type: ignore[no-untyped-def]
    from qtpy.QtGui import QFontMetrics

    from napari_dlcflow.widgets.project.skeleton_view import SkeletonView

    view = SkeletonView()
    qtbot.addWidget(view)
    view.resize(360, 200)
    view.set_skeleton(list(BODYPARTS), list(SKELETON))
    view.resize(360, view.minimumHeight())
    boxes = view.label_boxes(view.positions(), QFontMetrics(view.font()))
    assert boxes.shape == (11, 4)
    overlaps = [
        (BODYPARTS[i], BODYPARTS[j])
        for i in range(11)
        for j in range(i + 1, 11)
        if _area(boxes[i], boxes[j]) > 0
    ]
    assert overlaps == []
    assert (boxes[:, 0] >= 0).all() and (boxes[:, 0] + boxes[:, 2] <= 360 + 1e-6).all()
