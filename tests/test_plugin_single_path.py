"""``plugin.single_path``: the readers that open one thing at a time take one dropped path."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from napari_dlcflow.core.labels.collected import Labels, write_labels
from napari_dlcflow.core.project.create import create_project
from napari_dlcflow.plugin import labels_reader, project_reader, single_path


def test_single_path_takes_a_path_or_a_list_of_one() -> None:
    assert single_path("a.h5") == "a.h5"
    assert single_path(Path("a.h5")) == Path("a.h5")
    assert single_path(["a.h5"]) == "a.h5"
    assert single_path([]) is None
    assert single_path(["a.h5", "b.h5"]) is None


def test_label_and_project_readers_open_one_dropped_path(tmp_path: Path) -> None:
    project = create_project("t", "me", [], tmp_path, bodyparts=["nose", "tail"])
    folder = project.root / "labeled-data" / "vid"
    folder.mkdir(parents=True)
    labels = Labels(
        scorer="me",
        keypoints=[("", "nose"), ("", "tail")],
        images=[("labeled-data", "vid", "img000.png")],
        xy=np.array([[[1.0, 2.0], [3.0, 4.0]]]),
    )
    h5 = write_labels(labels, folder).h5
    for reader, path in ((labels_reader, h5), (project_reader, project.root)):
        assert reader.get_reader(str(path)) is not None
        assert reader.get_reader([str(path)]) is not None
        assert reader.get_reader([str(path), str(path)]) is None
        assert reader.get_reader([]) is None
    layers = labels_reader.get_reader([str(h5)])(str(h5))
    assert len(layers) == 1 and layers[0][2] == "points"
    np.testing.assert_allclose(layers[0][0][:, 1:], [[2.0, 1.0], [4.0, 3.0]])  # (t, y, x)
