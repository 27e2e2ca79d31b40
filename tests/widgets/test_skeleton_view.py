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
