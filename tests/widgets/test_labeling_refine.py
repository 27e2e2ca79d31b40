"""Reviewing machine labels in the Labeling dock: shown as predictions, accepted or corrected,
saved into CollectedData without losing any earlier label."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from napari_dlcflow.core.example.synthetic import (
    BODYPARTS,
    SKELETON,
    SyntheticSpec,
    render_synthetic,
)
from napari_dlcflow.core.example.truth_labels import make_labeled_synthetic_project
from napari_dlcflow.core.labels.collected import read_labels
from napari_dlcflow.core.labels.machine import read_machine_labels
from napari_dlcflow.core.layers.data import LOW_BORDER, PREDICTED_BORDER
from napari_dlcflow.core.predictions.analysis_files import simulate_predictions, write_predictions
from napari_dlcflow.core.refine.outliers import OutlierSpec, extract_outliers
from napari_dlcflow.core.video.extract import labeled_data_folder
from napari_dlcflow.napari_common import state_for_viewer

pytestmark = pytest.mark.gui

SPEC = SyntheticSpec(n_frames=60, height=192, width=192, seed=3)
SCORER = "DLC_Resnet50_syntheticNov24shuffle1_snapshot_best-10"
OUTLIERS = (3, 9, 21)


@pytest.fixture
def asked(monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, str]]:
    from napari_dlcflow.widgets.labeling import dialogs as d

    record: list[tuple[str, str]] = []

    def save_changes(_parent: object, text: str) -> bool:
        record.append(("save_changes", text))
        return True

    monkeypatch.setattr(d, "ask_save_changes", save_changes)
    monkeypatch.setattr(d, "ask_unsaved", lambda *_: "discard")
    return record


@pytest.fixture
def refined(tmp_path: Path) -> tuple:
    """A labeled project, an 'analysis' of its video, and three outlier frames extracted."""
    project = make_labeled_synthetic_project(tmp_path, SPEC, n_labeled=6)
    project.skeleton = list(SKELETON)
    project.save()
    truth = render_synthetic(SPEC).keypoints
    pred = simulate_predictions(truth, BODYPARTS, scorer=SCORER, low_fraction=0.15, seed=2)
    video = Path(next(iter(project.videos)))
    write_predictions(pred, video.parent / f"{video.stem}{SCORER}.h5")
    result = extract_outliers(project, video, OutlierSpec(criteria=("manual",), frames=OUTLIERS))
    assert result.picked == list(OUTLIERS)
    return project, labeled_data_folder(project.root, video), pred, truth


def _open(make_napari_viewer, project):  # type: ignore[no-untyped-def]
    viewer = make_napari_viewer()
    _, dock = viewer.window.add_plugin_dock_widget("napari-dlcflow", "Labeling")
    state_for_viewer(viewer).open(project.config_path)
    dock._open_selected()
    assert dock.model is not None, dock.status.text()
    return viewer, dock


def test_predictions_are_shown_styled_and_never_on_labeled_frames(
    make_napari_viewer, refined: tuple, asked: list
) -> None:
    project, folder, pred, _truth = refined
    _viewer, dock = _open(make_napari_viewer, project)
    model = dock.model
    n_kp = len(BODYPARTS)
    assert model.n_predicted == 3 * n_kp
    assert "33 prediction(s) from machinelabels-iter0.h5" in dock.status.text()
    assert "33 prediction(s) to review in 3 frame(s)" in dock.refine.status.text()
    names = model.image_names
    for f in OUTLIERS:
        t = names.index(f"img{f:02d}.png")
        np.testing.assert_allclose(model.xy[t], pred.xy[f])
        assert model.predicted[t].all()
    # labeled frames carry no prediction
    labeled = [i for i, n in enumerate(names) if int(n[3:5]) not in OUTLIERS]
    assert not model.predicted[labeled].any()
    layer = dock.points_layer
    feats = layer.features
    pr = feats["predicted"].to_numpy()
    assert pr.sum() == 3 * n_kp
    low = pr & (feats["likelihood"].to_numpy() < project.pcutoff)
    assert low.any() and (pr & ~low).any()
    np.testing.assert_allclose(
        layer.border_color[pr & ~low], [PREDICTED_BORDER] * (pr & ~low).sum()
    )
    np.testing.assert_allclose(layer.border_color[low], [LOW_BORDER] * low.sum())
    assert (layer.face_color[pr, 3] < 0.5).all() and (layer.face_color[~pr, 3] == 1).all()
    assert all(s.endswith("?!") for s in feats["label"][low])
    # saving now writes none of the predictions
    before = read_labels(next(folder.glob("CollectedData_*.h5")))
    assert dock.save()
    assert read_labels(next(folder.glob("CollectedData_*.h5"))).equals(before)


def test_correct_accept_save_merges_without_loss(
    make_napari_viewer, refined: tuple, asked: list, save_screenshot
) -> None:
    project, folder, pred, truth = refined
    h5 = next(folder.glob("CollectedData_*.h5"))
    before = pd.read_hdf(h5)
    viewer, dock = _open(make_napari_viewer, project)
    model = dock.model
    names = model.image_names
    t3, t9, t21 = (names.index(f"img{f:02d}.png") for f in OUTLIERS)
    # frame 3: move the nose to the truth through the layer (a drag = CHANGED data event)
    layer = dock.points_layer
    data = np.array(layer.data)
    i = next(
        j
        for j in range(len(data))
        if data[j, 0] == t3 and layer.features["bodypart"][j] == BODYPARTS[0]
    )
    data[i, 1:] = truth[3, 0, ::-1]
    layer.data = data
    assert not model.predicted[t3, 0] and model.predicted[t3, 1:].all()
    # ... and accept the rest of frame 3 with the A key's action
    dock.go_to_frame(t3)
    dock.accept_frame()
    assert not model.predicted[t3].any()
    # frame 9 (P goes there next): the tail tip is wrong: delete it, accept the rest
    dock.next_prediction()
    assert dock._frame() == t9
    k_tip = BODYPARTS.index("tailtip")
    idx = [
        j
        for j in range(len(layer.data))
        if layer.data[j, 0] == t9 and layer.features["bodypart"][j] == "tailtip"
    ]
    layer.selected_data = set(idx)
    layer.remove_selected()
    dock.accept_frame()
    # frame 21 stays unreviewed
    assert model.predicted[t21].all()
    dock.go_to_frame(t21)
    item = dock.progress_list.item(t21).text()
    assert item.startswith("img21.png  0/11") and "11 predictions to review" in item
    shot = save_screenshot(viewer, "labeling-refine", canvas_only=False)
    if os.environ.get("DLCFLOW_DOCS_IMAGES") == "1":
        shutil.copy(shot, Path(__file__).resolve().parents[2] / "docs" / "images" / shot.name)

    assert dock.save(), dock.status.text()
    (name, text) = asked[-1]
    assert name == "save_changes"
    assert f"{2 * len(BODYPARTS) - 1} added, 0 moved, 0 deleted" in text
    assert "2 new image(s)" in text and f"{len(BODYPARTS)} prediction(s) not accepted" in text
    after = pd.read_hdf(h5)
    pd.testing.assert_frame_equal(after.loc[before.index], before)  # every earlier label kept
    assert "likelihood" not in after.columns.get_level_values(-1)
    assert set(after.columns.get_level_values(0)) == {project.scorer}
    row3 = after.loc[("labeled-data", folder.name, "img03.png")].to_numpy().reshape(-1, 2)
    np.testing.assert_allclose(row3[0], truth[3, 0])  # the corrected nose
    np.testing.assert_allclose(row3[1:], pred.xy[3, 1:])  # accepted predictions
    row9 = after.loc[("labeled-data", folder.name, "img09.png")].to_numpy().reshape(-1, 2)
    assert np.isnan(row9[k_tip]).all()
    assert ("labeled-data", folder.name, "img21.png") not in after.index
    # the machine labels are still there for frame 21, and come back on reopening
    assert read_machine_labels(folder) is not None
    dock.open_folder(folder)
    assert dock.model.n_predicted == len(BODYPARTS)
    assert dock.model.predicted_frames() == [dock.model.image_names.index("img21.png")]


def test_undo_restores_predictions(make_napari_viewer, refined: tuple, asked: list) -> None:
    project, _folder, _pred, _truth = refined
    _viewer, dock = _open(make_napari_viewer, project)
    n = dock.model.n_predicted
    dock.accept_all()
    assert dock.model.n_predicted == 0
    dock.undo()
    assert dock.model.n_predicted == n
    dock.redo()
    assert dock.model.n_predicted == 0 and dock.model.reviewed


def test_predict_unlabeled_frames_from_the_analysis(
    make_napari_viewer, refined: tuple, asked: list, qtbot
) -> None:
    """Model-assisted labeling: new frames (any method) are filled with the predictions."""
    project, folder, pred, _truth = refined
    from napari_dlcflow.core.video.extract import extract_frames

    video = Path(next(iter(project.videos)))
    extract_frames(video, folder, method="uniform", n=30)  # frames extracted the usual way
    _viewer, dock = _open(make_napari_viewer, project)
    before = dock.model.n_predicted
    worker = dock.refine.predict()
    assert worker is not None
    qtbot.waitUntil(lambda: dock.model.n_predicted > before, timeout=20000)
    new = [n for n in dock.model.image_names if int(n[3:5]) not in OUTLIERS]
    unlabeled = [
        dock.model.image_names.index(n) for n in new if n not in set(dock.model.file_rows)
    ]
    assert unlabeled
    for t in unlabeled:
        f = int(dock.model.image_names[t][3:5])
        np.testing.assert_allclose(dock.model.xy[t], pred.xy[f])
        assert dock.model.predicted[t].all()
    assert "from " in dock.status.text() and SCORER in dock.status.text()
