"""Identity proofreading in a real viewer: a tracked ``_bx.h5`` of three synthetic animals with an
identity swap injected at a known frame, opened in the Proofread dock on its video; the swap is
among the candidates, the keys go to it and fix it, undo and redo work, the save writes the
file (read back: the swap is gone), and the errors (a refused edit, a file changed on disk,
unsaved edits) are said and lose nothing."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest
from numpy.testing import assert_allclose, assert_array_equal
from qtpy.QtCore import Qt

from _tracked import SCORER, tracked_from_truth
from napari_dlcflow.core.example.group import GroupSpec, read_group_truth, write_group_example
from napari_dlcflow.core.formats.tracks import load_tracks
from napari_dlcflow.core.layers.colors import group_colors
from napari_dlcflow.core.predictions.analysis_files import (
    Predictions,
    output_files,
    write_predictions,
)
from napari_dlcflow.core.proofread import Edit, TrackSession, edits_path
from napari_dlcflow.core.safe_io import list_backups
from napari_dlcflow.core.video.probe import read_frames
from napari_dlcflow.widgets.common.dock import DOCK_WIDTH
from napari_dlcflow.widgets.common.shortcuts import PROOFREAD_SHORTCUTS, collisions
from napari_dlcflow.widgets.proofread import dialogs as proofread_dialogs
from napari_dlcflow.widgets.proofread.dock import ProofreadDock
from napari_dlcflow.widgets.proofread.layers import AHEAD, JUMP_AHEAD, LAYER_SUFFIX, TrackOverlay
from napari_dlcflow.widgets.proofread.timeline import MISSING, PRESENT

pytestmark = pytest.mark.gui

SWAP_AT = 60
"""mouse1 and mouse2 exchange identities from this frame to the end (the animals are apart)."""


@pytest.fixture(scope="module")
def tracked(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, np.ndarray]:
    """The group video, its tracked ``_bx.h5`` with the injected swap, and the truth
    ``(T, N, K, 2)``."""
    folder = tmp_path_factory.mktemp("proofread")
    spec = GroupSpec(n_animals=3, n_frames=120, height=256, width=256, seed=3, shelter=False)
    files = write_group_example(folder, spec)
    truth, individuals, bodyparts = read_group_truth(files.truth_csv)
    swapped = truth.copy()
    swapped[SWAP_AT:, [0, 1]] = truth[SWAP_AT:, [1, 0]]
    h5 = output_files(files.video, SCORER, tracker="box")["tracks"]
    write_predictions(tracked_from_truth(swapped, individuals, bodyparts), h5)
    return files.video, h5, truth


def _open(make_napari_viewer: Any, video: Path, h5: Path) -> tuple[Any, ProofreadDock]:
    viewer = make_napari_viewer()
    viewer.add_image(read_frames(video), rgb=True, name=video.stem)
    _, dock = viewer.window.add_plugin_dock_widget("napari-dlcflow", "Proofread")
    assert isinstance(dock, ProofreadDock)
    assert dock.load(h5), dock.status.text()
    return viewer, dock


def _press(viewer: Any, qtbot: Any, key: Any, modifier: Any = Qt.KeyboardModifier.NoModifier):
    qtbot.keyClick(viewer.window._qt_viewer.canvas.native, key, modifier)


def _shown(viewer: Any, layer: Any) -> dict[str, np.ndarray]:
    """``{individual: (K', 2) x, y}`` of the points napari shows in the current frame."""
    layer = viewer.layers[layer.name]
    idx = layer._view_indices
    who = np.asarray(layer.features["individual"])[idx]
    yx = layer.data[idx, 1:]
    return {str(n): yx[who == n][:, ::-1] for n in np.unique(who)}


def _truth_at(truth: np.ndarray, frame: int, j: int) -> np.ndarray:
    xy = truth[frame, j]
    return xy[~np.isnan(xy).any(axis=1)]


def test_find_and_fix_a_swap_with_the_keys_then_save(
    make_napari_viewer: Any,
    tracked: tuple[Path, Path, np.ndarray],
    qtbot: Any,
    save_screenshot: Any,
    tmp_path: Path,
) -> None:
    video, original, truth = tracked
    h5 = tmp_path / original.name  # a copy: the save writes it
    h5.write_bytes(original.read_bytes())
    viewer, dock = _open(make_napari_viewer, video, h5)
    overlay = dock.overlay
    assert overlay is not None and dock.video_layer.currentText() == video.stem
    assert overlay.points.name == h5.stem + LAYER_SUFFIX
    assert {lay.name for lay in overlay.layers} >= {
        h5.stem + LAYER_SUFFIX,
        h5.stem + LAYER_SUFFIX + " names",
        h5.stem + LAYER_SUFFIX + " trails",
    }
    assert dock.states.shape == (120, 3) and (dock.states == PRESENT).all()
    assert dock.minimumWidth() <= DOCK_WIDTH  # usable beside the canvas
    # the injected swap is the best candidate, listed with its identities
    best = dock.candidates[0]
    assert best.kind == "jump" and abs(best.frame - SWAP_AT) <= 2
    assert set(best.individuals) == {"mouse1", "mouse2"}
    assert dock.table.rowCount() == len(dock.candidates)
    assert "mouse1" in dock.table.item(0, 2).text() and dock.table.item(0, 4).text() == best.why

    # next candidate (Shift+Right) from frame 30: the swap, its pair chosen
    viewer.dims.set_current_step(0, 30)
    _press(viewer, qtbot, Qt.Key.Key_Right, Qt.KeyboardModifier.ShiftModifier)
    frame = dock._frame()
    assert frame == best.frame
    assert {dock.first.currentText(), dock.second.currentText()} == {"mouse1", "mouse2"}
    assert dock.timeline.frame == frame and dock.timeline.current_candidate == frame
    before = _shown(viewer, overlay.points)
    assert_allclose(np.sort(before["mouse1"], 0), np.sort(_truth_at(truth, frame, 1), 0))

    # the docs' picture: at the swap, a range marked, the dock with its timeline
    viewer.dims.set_current_step(0, 40)
    _press(viewer, qtbot, Qt.Key.Key_BracketLeft)
    viewer.dims.set_current_step(0, 75)
    _press(viewer, qtbot, Qt.Key.Key_BracketRight)
    assert dock.marked == [40, 75] and dock.timeline.marked == (40, 75)
    viewer.dims.set_current_step(0, frame)
    qtbot.waitUntil(lambda: not overlay._idle_timer.isActive(), timeout=5000)  # thumbnails
    shot = save_screenshot(viewer, "proofread-dock", canvas_only=False)
    assert shot.is_file()

    # E: swap from here on; the points, the names and the session are right at once
    _press(viewer, qtbot, Qt.Key.Key_E)
    s = dock.session
    assert s is not None and len(s.history) == 1 and s.dirty
    assert_allclose(s.values[SWAP_AT:, ..., :2], truth[SWAP_AT:], equal_nan=True)
    if best.frame == SWAP_AT:
        assert_allclose(s.values[..., :2], truth, equal_nan=True)
    after = _shown(viewer, overlay.points)
    for j, name in enumerate(("mouse1", "mouse2", "mouse3")):
        assert_allclose(np.sort(after[name], 0), np.sort(_truth_at(truth, frame, j), 0))
    names = viewer.layers[overlay.names.name]
    text = dict(zip(names._view_text, names._view_indices, strict=True))
    assert_allclose(names.data[text["mouse1"], 1:][::-1], _truth_at(truth, frame, 0).mean(0))
    assert "swap mouse" in dock.history_label.text() and dock.save_button.isEnabled()

    # undo (Ctrl+Z) restores the file's state, redo (Ctrl+Shift+Z) the fix
    _press(viewer, qtbot, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)
    assert not s.history and not s.dirty
    assert_allclose(
        np.sort(_shown(viewer, overlay.points)["mouse1"], 0), np.sort(before["mouse1"], 0)
    )
    ctrl_shift = Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.ShiftModifier
    _press(viewer, qtbot, Qt.Key.Key_Z, ctrl_shift)
    assert len(s.history) == 1
    assert_allclose(
        np.sort(_shown(viewer, overlay.points)["mouse1"], 0), np.sort(after["mouse1"], 0)
    )

    # the candidates are found again: the swap is gone
    qtbot.waitUntil(
        lambda: not any(c.kind == "jump" and abs(c.frame - SWAP_AT) <= 2 for c in dock.candidates),
        timeout=5000,
    )

    # save: the file, its backup and the edit log; read back, the swap is fixed
    assert dock.save(), dock.status.text()
    assert "Saved" in dock.status.text() and not s.dirty
    assert list_backups(h5) and edits_path(h5).is_file()
    saved = load_tracks(h5)
    assert saved.individuals == ("mouse1", "mouse2", "mouse3")
    assert_allclose(saved.keypoints[SWAP_AT:], truth[SWAP_AT:], equal_nan=True)


def test_range_fragments_refusals_and_unsaved_edits(
    make_napari_viewer: Any,
    tracked: tuple[Path, Path, np.ndarray],
    qtbot: Any,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    video, original, truth = tracked
    h5 = tmp_path / original.name
    h5.write_bytes(original.read_bytes())
    viewer, dock = _open(make_napari_viewer, video, h5)
    s = dock.session
    assert s is not None
    file_values = s.values.copy()
    # swap in a marked range: [ at 10, ] at 20, Shift+E (mouse1 and mouse3)
    dock.first.setCurrentText("mouse1")
    dock.second.setCurrentText("mouse3")
    _press(viewer, qtbot, Qt.Key.Key_E, Qt.KeyboardModifier.ShiftModifier)
    assert "Mark the range first" in dock.status.text() and not s.history
    viewer.dims.set_current_step(0, 20)
    _press(viewer, qtbot, Qt.Key.Key_BracketRight)
    viewer.dims.set_current_step(0, 10)
    _press(viewer, qtbot, Qt.Key.Key_BracketLeft)
    _press(viewer, qtbot, Qt.Key.Key_E, Qt.KeyboardModifier.ShiftModifier)
    assert_array_equal(s.values[10:21, 0], file_values[10:21, 2])
    assert_array_equal(s.values[21:, 0], file_values[21:, 0])
    assert_array_equal(s.values[:10, 2], file_values[:10, 2])

    # give mouse1's fragment to mouse3: refused (mouse3 is there), said, nothing changed
    viewer.dims.set_current_step(0, 30)
    _press(viewer, qtbot, Qt.Key.Key_G)
    assert dock.status.text().startswith("Not done") and "mouse3" in dock.status.text()
    assert len(s.history) == 1
    # delete mouse3's fragment (the whole video): its row turns missing, its points go
    dock.first.setCurrentText("mouse3")
    _press(viewer, qtbot, Qt.Key.Key_D, Qt.KeyboardModifier.ShiftModifier)
    assert (dock.states[:, 2] == MISSING).all() and (dock.timeline.states[:, 2] == MISSING).all()
    assert "mouse3" not in _shown(viewer, dock.overlay.points)
    # the timeline: a click goes to its frame
    strip = dock.timeline
    qtbot.mouseClick(strip, Qt.MouseButton.LeftButton, pos=strip.rect().center())
    qtbot.waitUntil(lambda: dock._frame() == strip.frame_at(strip.rect().center().x()))
    _press(viewer, qtbot, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)
    assert (dock.states[:, 2] == PRESENT).all() and "mouse3" in _shown(viewer, dock.overlay.points)

    # another program rewrites the file: the save refuses, says why, the edits stay
    write_predictions(tracked_from_truth(truth, ("mouse1", "mouse2", "mouse3"), s.bodyparts), h5)
    changed = h5.read_bytes()
    assert not dock.save()
    assert "Not saved" in dock.status.text() and h5.name in dock.status.text()
    assert h5.read_bytes() == changed and s.dirty

    # unsaved edits: closing asks; cancel keeps them, discard drops them
    asked: list[str] = []
    answer = "cancel"

    def ask(_parent: Any, what: str) -> str:
        asked.append(what)
        return answer

    monkeypatch.setattr(proofread_dialogs, "ask_unsaved", ask)
    assert not dock.load(original) and dock.session is s and asked == [h5.name]
    assert not dock.close_tracks() and dock.session is s
    answer = "discard"
    assert dock.close_tracks() and dock.session is None and dock.overlay is None
    assert not any(LAYER_SUFFIX in lay.name for lay in viewer.layers)


def test_keys_are_bound_on_the_viewer_unshadowed_and_given_back(make_napari_viewer: Any) -> None:
    from napari.layers import Image, Points, Tracks, Vectors
    from napari.utils.action_manager import action_manager
    from napari.utils.key_bindings import coerce_keybinding
    from napari.utils.shortcuts import default_shortcuts
    from qtpy.QtCore import QCoreApplication, QEvent

    assert collisions() == {}
    keys = {coerce_keybinding(key) for key, _, _ in PROOFREAD_SHORTCUTS}
    # no layer the view shows binds them (a selected layer's key would shadow the viewer's),
    # nor does napari's viewer
    for layer in (Points, Image, Tracks, Vectors):
        assert not keys & set(layer.class_keymap), layer.__name__
    viewer = make_napari_viewer()
    viewer_actions = [
        name
        for name, action in action_manager._actions.items()
        if getattr(action.keymapprovider, "__name__", "") == "ViewerModel"
    ]
    assert "napari:increment_dims_right" in viewer_actions
    napari_keys = {coerce_keybinding(k) for a in viewer_actions for k in default_shortcuts[a]}
    assert not keys & napari_keys
    widget, dock = viewer.window.add_plugin_dock_widget("napari-dlcflow", "Proofread")
    assert keys <= set(viewer.keymap)
    viewer.window.remove_dock_widget(widget)
    dock.deleteLater()
    QCoreApplication.sendPostedEvents(None, QEvent.Type.DeferredDelete)
    assert not keys & set(viewer.keymap)


def test_corrected_frames_go_to_the_labeled_data(
    make_napari_viewer: Any, tmp_path: Path, qtbot: Any
) -> None:
    """A project open on the viewer, its tracked file with a swap from frame 40: fixed with the
    key, saved, and the button sends frame 40 to the labeled data as machine labels that hold
    each animal under its true name."""
    import sys

    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
    from _tracked_group import make_group
    from napari_dlcflow.core.labels.collected import read_labels
    from napari_dlcflow.napari_common import state_for_viewer

    group = make_group(tmp_path)
    truth = group.pred.data.copy()
    swapped = truth.reshape(len(truth), 2, -1, 3).copy()
    swapped[40:] = swapped[40:, ::-1]
    write_predictions(group.pred.with_data(swapped.reshape(truth.shape)), group.tracked)
    viewer = make_napari_viewer()
    viewer.add_image(read_frames(group.video), rgb=True, name=group.video.stem)
    state_for_viewer(viewer).open(group.project.config_path)
    _, dock = viewer.window.add_plugin_dock_widget("napari-dlcflow", "Proofread")
    assert dock.load(group.tracked), dock.status.text()
    assert not dock.to_labels_button.isEnabled()  # nothing corrected yet
    dock.go_to(40)
    _press(viewer, qtbot, Qt.Key.Key_E)
    assert not dock.to_labels_button.isEnabled()  # not saved yet
    assert dock.save(), dock.status.text()
    assert dock.to_labels_button.isEnabled()
    dock.to_labels_button.click()
    assert "Frames 40 sent" in dock.status.text(), dock.status.text()
    labels = read_labels(next(group.video.parent.parent.glob("labeled-data/*/machinelabels*.h5")))
    assert len(labels.image_names) == 1
    row = labels.xy[0]
    cols = [
        labels.keypoints.index(kp)
        for kp in zip(group.pred.individuals, group.pred.bodyparts, strict=True)
    ]
    assert_allclose(row[cols], truth[40, :, :2], atol=1e-6)


def test_more_identities_than_the_project_are_said(
    make_napari_viewer: Any, tmp_path: Path
) -> None:
    """Tracks whose stitching left a third identity in a two-animal project: the dock says so
    and expects the project's two animals a frame (no 'missing' run where one is split)."""
    import sys

    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
    from _tracked_group import make_group
    from napari_dlcflow.core.predictions.analysis_files import Predictions
    from napari_dlcflow.napari_common import state_for_viewer

    group = make_group(tmp_path)
    pred = group.pred
    k = len(pred.bodyparts) // 2
    data = pred.data.reshape(len(pred.data), 2, k, 3)
    third = np.full_like(data[:, 1], np.nan)
    third[:20] = data[:20, 1]  # mouse2's first 20 frames went to a third identity
    mouse2 = data[:, 1].copy()
    mouse2[:20] = np.nan
    split = np.concatenate([data[:, 0], mouse2, third], axis=1)
    names = ("mouse1",) * k + ("mouse2",) * k + ("mouse3",) * k
    three = Predictions(
        data=split,
        bodyparts=tuple(pred.bodyparts[:k]) * 3,
        individuals=names,
        scorer=pred.scorer,
        frames=pred.frames,
        multi_animal=True,
    )
    write_predictions(three, group.tracked)
    viewer = make_napari_viewer()
    viewer.add_image(read_frames(group.video), rgb=True, name=group.video.stem)
    state_for_viewer(viewer).open(group.project.config_path)
    _, dock = viewer.window.add_plugin_dock_widget("napari-dlcflow", "Proofread")
    assert dock.load(group.tracked), dock.status.text()
    assert "More identities than the project's 2 individuals" in dock.summary.text()
    dock.refresh_candidates()
    kinds = {c.kind for c in dock.candidates}
    assert "missing" not in kinds, dock.candidates  # two animals in every frame


def test_a_seek_holds_a_short_window_then_the_full_one_and_edits_redraw_it(
    make_napari_viewer: Any, qtbot: Any
) -> None:
    """A long video: a seek out of the frames held draws the frame at once from a short window,
    the full window follows when the frame stays, an edit right after a seek is drawn, and the
    layers' thumbnails are redrawn when the frame stays put (not at each step)."""
    n, parts = 3000, ("nose", "back", "tail")
    rng = np.random.default_rng(0)
    xy = rng.uniform(20.0, 200.0, (n, 2, len(parts), 2))
    lik = np.full((n, 2, len(parts), 1), 0.95)
    data = np.concatenate([xy, lik], axis=3).reshape(n, 2 * len(parts), 3)
    pred = Predictions(
        data,
        parts * 2,
        ("mouse1",) * len(parts) + ("mouse2",) * len(parts),
        SCORER,
        np.arange(n),
        True,
    )
    session = TrackSession(pred)
    viewer = make_napari_viewer()
    video = viewer.add_image(np.zeros((n, 8, 8), np.uint8), name="video")
    overlay = TrackOverlay(viewer, session.predictions, [("nose", "back")], name="t", target=video)
    session.listeners.append(lambda a, b: overlay.show(session.predictions, (a, b)))
    colours = group_colors(pred.individuals, pred.bodyparts, color_by="individual")

    def check(frame: int, values: np.ndarray) -> None:
        shown = _shown(viewer, overlay.points)
        for j, name in enumerate(("mouse1", "mouse2")):
            assert_allclose(np.sort(shown[name], 0), np.sort(values[frame, j], 0))
        names = overlay.names
        assert sorted(names._view_text) == ["mouse1", "mouse2"]
        for text, rgba in zip(names._view_text, names._view_text_color, strict=True):
            assert_allclose(rgba, colours[str(text)])

    thumbnail = overlay.points.thumbnail.copy()
    viewer.dims.set_current_step(0, 2000)  # a seek: a short window, drawn at once
    lo, hi = overlay.rows
    assert hi == 2000 + JUMP_AHEAD and lo <= 2000 - overlay.tail_length
    check(2000, xy)
    viewer.dims.set_current_step(0, 2001)  # a step inside the window
    assert_array_equal(overlay.points.thumbnail, thumbnail)  # not redrawn at each frame
    qtbot.waitUntil(lambda: overlay.rows[1] == 2001 + AHEAD, timeout=5000)  # it stayed
    check(2001, xy)
    assert not np.array_equal(overlay.points.thumbnail, thumbnail)  # redrawn at rest
    thumbnail = overlay.points.thumbnail.copy()
    viewer.dims.set_current_step(0, 2002)
    assert_array_equal(overlay.points.thumbnail, thumbnail)
    qtbot.waitUntil(  # the frame stays put: the thumbnail shows it
        lambda: not np.array_equal(overlay.points.thumbnail, thumbnail), timeout=5000
    )

    viewer.dims.set_current_step(0, 500)  # a seek, then an edit before the window widens
    session.apply(Edit("swap", "mouse1", "mouse2", start=500))
    check(500, xy[:, ::-1])
    viewer.dims.set_current_step(0, 499)
    check(499, xy)

    overlay.release()  # napari draws the thumbnails again
    assert all("_update_thumbnail" not in vars(layer) for layer in overlay.layers)


def test_a_left_right_part_swap_is_listed_and_fixed_with_one_key(
    make_napari_viewer: Any, tracked: tuple[Path, Path, np.ndarray], qtbot: Any, tmp_path: Path
) -> None:
    """mouse3's fore paws exchanged from frame 90 on: a ``part_swap`` candidate; at it, ``W``
    swaps the two parts back from there on, and the save writes them as they were."""
    from napari_dlcflow.core.predictions.analysis_files import read_predictions

    video, original, _truth = tracked
    h5 = tmp_path / original.name
    before = read_predictions(original)
    pred = read_predictions(original)
    names = list(pred.bodyparts[: len(pred.bodyparts) // 3])
    k = len(names)
    a, b = 2 * k + names.index("left_forepaw"), 2 * k + names.index("right_forepaw")
    pred.data[90:, [a, b]] = pred.data[90:, [b, a]]
    write_predictions(pred, h5)
    viewer, dock = _open(make_napari_viewer, video, h5)
    _press(viewer, qtbot, Qt.Key.Key_W)  # no part-swap candidate chosen: said, nothing done
    assert "part-swap candidate" in dock.status.text() and not dock.session.history
    dock.refresh_candidates()
    qtbot.waitUntil(lambda: bool(dock.candidates), timeout=30_000)
    (i,) = [n for n, c in enumerate(dock.candidates) if c.kind == "part_swap"]
    c = dock.candidates[i]
    assert (c.frame, c.individuals) == (90, ("mouse3",))
    assert c.parts == ("left_forepaw", "right_forepaw")
    dock.go_to_candidate(i)
    assert dock._frame() == 90
    _press(viewer, qtbot, Qt.Key.Key_W)
    assert dock.status.text().startswith("Done: swap mouse3's left_forepaw and right_forepaw")
    assert dock.save(), dock.status.text()
    assert_array_equal(read_predictions(h5).data, before.data)
