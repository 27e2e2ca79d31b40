"""The presentation module without a display: one colour per body part through every path."""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np
import pytest
from numpy.testing import assert_allclose, assert_array_equal

from napari_dlcflow.core.labels.collected import read_labels
from napari_dlcflow.core.labels.session import LabelModel
from napari_dlcflow.core.layers.colors import (
    color_groups,
    colormap_rgba,
    group_colors,
    keypoint_colors,
    palette,
    to_rgb8,
)
from napari_dlcflow.core.layers.data import (
    editing_colors,
    editing_points,
    editing_skeleton,
    labels_points,
)
from napari_dlcflow.core.layers.labeled_video import draw_frame, video_colors
from napari_dlcflow.core.layers.skeleton import skeleton_edges, skeleton_segments
from napari_dlcflow.core.layers.style import (
    PointsStyle,
    TracksStyle,
    VectorsStyle,
    display_settings,
)
from napari_dlcflow.core.predictions.analysis_files import (
    Predictions,
    read_predictions,
    scorer_name,
    simulate_predictions,
    write_predictions,
)
from napari_dlcflow.core.project.config import Project


def _labels_file(project: Path) -> Path:
    (path,) = sorted((project / "labeled-data").glob("*/CollectedData_*.h5"))
    return path


def _colour_of(bodyparts: object, colours: np.ndarray) -> dict[str, tuple[float, ...]]:
    """The one colour each body part has in a layer (fails if a body part has two)."""
    out: dict[str, set[tuple[float, ...]]] = {}
    for bp, c in zip(np.asarray(bodyparts), np.asarray(colours, dtype=float), strict=True):
        out.setdefault(str(bp), set()).add(tuple(np.round(c[:3], 6)))
    assert all(len(v) == 1 for v in out.values()), out
    return {bp: next(iter(v)) for bp, v in out.items()}


def test_same_bodypart_same_colour_through_every_path(openfield_project: Path) -> None:
    from napari_dlcflow.plugin.labels_reader import read_label_layers
    from napari_dlcflow.plugin.predictions_reader import read_predictions_layers

    project = Project.open(openfield_project / "config.yaml")
    assert project.colormap == "jet"  # not the default: the project's colormap must reach all
    bodyparts = list(project.bodyparts)
    expected = {
        bp: tuple(np.round(np.asarray(c[:3], dtype=float), 6))
        for bp, c in group_colors([""] * len(bodyparts), bodyparts, colormap="jet").items()
    }
    assert len(set(expected.values())) == len(bodyparts)

    # 1. the labels reader (File > Open of CollectedData)
    labels_path = _labels_file(openfield_project)
    (layer,) = read_label_layers(labels_path)
    _data, kwargs, kind = layer
    assert kind == "points"
    assert _colour_of(kwargs["features"]["bodypart"], kwargs["face_color"]) == expected

    # 2. the predictions reader (an analysis file in the project's videos/)
    labels = read_labels(labels_path, folder_stem=labels_path.parent.name)
    videos = openfield_project / "videos"
    videos.mkdir(exist_ok=True)
    pred = simulate_predictions(
        np.nan_to_num(labels.xy, nan=10.0), bodyparts, scorer=scorer_name("r50", "o", "D", 1, "1")
    )
    analysis = videos / f"m1{pred.scorer}.h5"
    write_predictions(pred, analysis)
    layers = read_predictions_layers(analysis)
    points = next(kw for _d, kw, k in layers if k == "points")
    assert _colour_of(points["features"]["bodypart"], points["face_color"]) == expected
    # the trails get the same colours (napari colormap made of the groups' colours)
    tracks = next(kw for _d, kw, k in layers if k == "tracks")
    cmap = tracks["colormaps_dict"]["group"]
    for value, bp in zip(np.linspace(0, 1, len(bodyparts)), bodyparts, strict=True):
        assert_allclose(cmap.map(np.array([value]))[0, :3], expected[bp], atol=1e-6)

    # 3. the Labeling dock's layer data (the same calls the dock makes)
    model = LabelModel(
        labels_path.parent,
        [r[-1] for r in labels.images],
        labels.scorer,
        list(labels.keypoints),
        labels.multianimal,
    )
    model.load(labels)
    colours = editing_colors(model.keypoints, model.multianimal, project.colormap)
    _d, feats, face, _border = editing_points(model.xy, model.keypoints, colours)
    assert _colour_of(feats["bodypart"], face) == expected

    # 4. the labeled video: the colour of each column, and the pixels of a drawn dot
    rgb = video_colors(read_predictions(analysis))  # colormap from the file's project
    for c, bp in enumerate(pred.bodyparts):
        assert_array_equal(rgb[c], np.rint(np.array(expected[bp]) * 255))
    row = np.array([[20.0, 20.0, 1.0], [60.0, 20.0, 1.0], [20.0, 60.0, 1.0], [60.0, 60.0, 1.0]])
    img = draw_frame(np.zeros((80, 80, 3), np.uint8), row[: len(bodyparts)], rgb, pcutoff=0.5)
    for c, bp in enumerate(bodyparts):
        x, y = row[c, :2].astype(int)
        assert_array_equal(img[y, x], np.rint(np.array(expected[bp]) * 255))


def test_colormaps_match_matplotlib_and_unknown_names_fall_back() -> None:
    matplotlib = pytest.importorskip("matplotlib")
    pos = np.linspace(0, 1, 23)
    for name in ("rainbow", "jet", "cool"):
        assert_allclose(colormap_rgba(name, pos), matplotlib.colormaps[name](pos), atol=1e-12)
    assert_allclose(colormap_rgba("viridis", pos), matplotlib.colormaps["viridis"](pos))
    with pytest.warns(UserWarning, match="no-such-map"):
        fallback = colormap_rgba("no-such-map", pos)
    assert_allclose(fallback, colormap_rgba("rainbow", pos))
    # one group sits mid-map; n groups span the map end to end, all different
    assert_allclose(palette(1, "jet"), colormap_rgba("jet", [0.5]), atol=1e-6)
    five = palette(5)
    assert five.shape == (5, 4) and len({tuple(c) for c in five}) == 5
    assert_allclose(five[[0, -1]], colormap_rgba("rainbow", [0.0, 1.0]), atol=1e-6)


def test_colour_groups_follow_individuals_in_multi_animal_data() -> None:
    inds = ["m1", "m1", "m2", "m2", "single"]
    bps = ["nose", "tail", "nose", "tail", "led"]
    group, names = color_groups(inds, bps)
    assert names == ["m1", "m2", "single"] and list(group) == [0, 0, 1, 1, 2]
    group, names = color_groups(inds, bps, "bodypart")
    assert names == ["nose", "tail", "led"] and list(group) == [0, 1, 0, 1, 2]
    colours = keypoint_colors(inds, bps)
    assert_array_equal(colours[0], colours[1])
    assert not np.array_equal(colours[0], colours[2])
    # a file that says it is multi-animal colours by individual even with one individual
    _g, names = color_groups(["m1", "m1"], ["a", "b"], multi_animal=True)
    assert names == ["m1"]
    with pytest.raises(ValueError, match="color_by"):
        color_groups(inds, bps, "colour")
    assert to_rgb8(np.array([[1.0, 0.5, 0.0, 1.0]])).tolist() == [[255, 128, 0]]


def test_skeleton_edges_per_individual_never_across() -> None:
    inds = ["m1", "m1", "m2", "m2", "single"]
    bps = ["nose", "tail", "nose", "tail", "led"]
    edges = skeleton_edges(inds, bps, [("nose", "tail"), ("tail", "led"), ("nose", "zz")])
    assert edges == [(0, 1), (2, 3)]
    xy = np.arange(2 * 5 * 2, dtype=float).reshape(2, 5, 2)
    xy[1, 3] = np.nan
    lik = np.ones((2, 5))
    lik[0, 0] = 0.1
    seg = skeleton_segments(xy, edges, frames=[7, 8], likelihood=lik, pcutoff=0.5)
    # m1 frame 0 is below the cut-off, m2 frame 1 has no tail
    assert seg.shape == (2, 2, 3)
    assert_allclose(seg[0], [[8, xy[1, 0, 1], xy[1, 0, 0]], [0, 2, 2]])
    assert_allclose(seg[1, 0], [7, xy[0, 2, 1], xy[0, 2, 0]])


def test_editing_layer_data_marks_predictions_and_draws_one_frame(tmp_path: Path) -> None:
    model = LabelModel(tmp_path, ["a.png", "b.png"], "me", [("", "nose"), ("", "tail")], False)
    model.set_point(0, 0, 1.0, 2.0)
    model.set_point(0, 1, 5.0, 2.0)
    model.set_point(1, 0, 3.0, 3.0)
    model.xy[1, 1] = (4.0, 4.0)
    model.predicted[1, 1] = True
    model.likelihood[1, 1] = 0.2
    colours = editing_colors(model.keypoints, model.multianimal, "jet")
    assert_allclose(colours, palette(2, "jet"))
    data, feats, face, border = editing_points(
        model.xy,
        model.keypoints,
        colours,
        predicted=model.predicted,
        likelihood=model.likelihood,
        pcutoff=0.6,
    )
    assert data.shape == (4, 3)
    assert list(feats["label"]) == ["nose", "tail", "nose", "tail?!"]
    assert face[3, 3] == pytest.approx(0.45) and (face[:3, 3] == 1).all()
    assert_allclose(border[0], [0, 0, 0, 1])
    assert not np.allclose(border[3], border[0])
    vec = editing_skeleton(model.xy, model.keypoints, 0, [("nose", "tail")])
    assert_allclose(vec, [[[0, 2, 1], [0, 0, 4]]])


def test_labels_points_leave_out_rows_without_an_image(openfield_project: Path) -> None:
    labels_path = _labels_file(openfield_project)
    labels = read_labels(labels_path, folder_stem=labels_path.parent.name)
    frames = np.arange(len(labels.images))
    frames[0] = -1
    data, features, face = labels_points(labels, frames, colormap="jet")
    n_valid = int((~np.isnan(labels.xy[1:]).any(axis=-1)).sum())
    assert len(data) == len(face) == len(features["bodypart"]) == n_valid
    assert (data[:, 0] >= 1).all()


def test_styles_as_kwargs_and_project_display_settings(openfield_project: Path) -> None:
    kw = PointsStyle(name="p", size=5.0).as_kwargs()
    assert kw["name"] == "p" and kw["size"] == 5.0 and "face_color" not in kw
    assert "text" not in kw and "opacity" not in kw
    assert VectorsStyle().as_kwargs()["vector_style"] == "line"
    assert TracksStyle(tail_length=9).as_kwargs()["tail_length"] == 9
    # a labels file (two folders down) and an analysis file (in videos/) find the project
    labels_settings = display_settings(_labels_file(openfield_project))
    assert labels_settings.colormap == "jet"
    assert labels_settings.config == (openfield_project / "config.yaml").resolve()
    (openfield_project / "videos").mkdir(exist_ok=True)
    assert display_settings(openfield_project / "videos" / "x.h5").colormap == "jet"
    # no project: the defaults, never an error
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        alone = display_settings(openfield_project.parent / "elsewhere" / "x.h5")
    assert alone.colormap == "rainbow" and alone.skeleton == [] and alone.pcutoff is None


def test_predictions_colour_by_individual_in_every_layer() -> None:
    from napari_dlcflow.core.layers.data import predictions_layers

    data = np.ones((3, 4, 3))
    pred = Predictions(
        data,
        ("nose", "tail", "nose", "tail"),
        ("m1", "m1", "m2", "m2"),
        "s",
        np.arange(3),
        multi_animal=True,
    )
    layers = predictions_layers(pred, [("nose", "tail")], colormap="jet")
    points = layers[-1][1]
    assert_allclose(points["face_color"][0], points["face_color"][1])
    assert_allclose(points["face_color"][0], palette(2, "jet")[0])
    assert_allclose(points["face_color"][2], palette(2, "jet")[1])
    assert points["metadata"]["colormap"] == "jet"
    tracks = next(kw for _d, kw, k in layers if k == "tracks")
    assert_allclose(tracks["metadata"]["group_colors"], palette(2, "jet"))
