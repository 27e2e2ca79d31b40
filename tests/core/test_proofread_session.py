"""The track-editing session without a display: the five edits on a small known table, undo and
redo, replay of a saved history, the safe save (backup, edit log, refusals) and SLEAP input.

The table: 10 frames, identities female, male, pup and ghost, body parts nose and tail.
``x = 100 * identity + t``, ``y = 10 * body part + t``, likelihood 0.9, so every cell says
where it came from. male is absent from frame 6 on, pup is present in frames 7 to 9 only and
ghost in no frame (a NaN-only identity). A unique body part ``led`` (individual ``single``)
rides along untouched.
"""

from __future__ import annotations

import errno
import json
import os
import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from napari_dlcflow.core import safe_io
from napari_dlcflow.core.formats.tracks import load_tracks
from napari_dlcflow.core.predictions.analysis_files import (
    TRACKS_KEY,
    Predictions,
    read_predictions,
    write_predictions,
)
from napari_dlcflow.core.proofread import session as session_module
from napari_dlcflow.core.proofread.edits import (
    FILL_LIKELIHOOD,
    Edit,
    EditError,
    apply_edit,
)
from napari_dlcflow.core.proofread.session import (
    TracksChangedOnDiskError,
    TrackSession,
    edits_path,
    read_edit_log,
    saved_edits,
    sleap_save_path,
)
from napari_dlcflow.core.safe_io import SaveError, list_backups, record_written

T = 10
INDS = ("female", "male", "pup", "ghost")
BPS = ("nose", "tail")
SCORER = "DLC_Resnet50_micePr1Jan1shuffle1_snapshot_best-10"


def known_values() -> np.ndarray:
    """``(T, 4, 2, 3)``: see the module's docstring."""
    t = np.arange(T, dtype=float)[:, None, None]
    n = np.arange(len(INDS), dtype=float)[None, :, None]
    k = np.arange(len(BPS), dtype=float)[None, None, :]
    v = np.empty((T, len(INDS), len(BPS), 3))
    v[..., 0] = 100 * n + t
    v[..., 1] = 10 * k + t
    v[..., 2] = 0.9
    v[6:, 1] = np.nan  # male absent from frame 6
    v[:7, 2] = np.nan  # pup present in frames 7..9
    v[:, 3] = np.nan  # ghost: never
    return v


def table(values: np.ndarray | None = None) -> Predictions:
    v = known_values() if values is None else values
    led = np.stack([np.arange(T) + 0.5, np.full(T, 7.0), np.full(T, 0.8)], axis=1)[:, None]
    data = np.concatenate([v.reshape(T, -1, 3), led], axis=1)
    return Predictions(
        data=data,
        bodyparts=BPS * len(INDS) + ("led",),
        individuals=(*(i for i in INDS for _ in BPS), "single"),
        scorer=SCORER,
        frames=np.arange(T),
        multi_animal=True,
    )


def new_session() -> TrackSession:
    return TrackSession(table())


@pytest.fixture
def tracked(tmp_path: Path) -> Path:
    """The table as DeepLabCut's tracked file ``<video><scorer>_el.h5``."""
    path = tmp_path / f"mice{SCORER}_el.h5"
    write_predictions(table(), path)
    record_written(path)  # ours: read in process (a file from elsewhere is read in a child)
    return path


def same(a: np.ndarray, b: np.ndarray) -> None:
    np.testing.assert_array_equal(a, b)  # NaN equals NaN here


# ----------------------------------------------------------------------------- each edit


def test_swap_from_a_frame_on_and_in_a_range() -> None:
    s, v0 = new_session(), known_values()
    assert s.apply(Edit("swap", "female", "male", start=4)) == (4, T)
    same(s.values[:4], v0[:4])
    same(s.values[4:, 0], v0[4:, 1])
    same(s.values[4:, 1], v0[4:, 0])
    same(s.values[:, 2:], v0[:, 2:])
    s.undo()
    assert s.apply(Edit("swap", "female", "pup", start=2, stop=8)) == (2, 8)
    same(s.values[2:8, 0], v0[2:8, 2])
    same(s.values[2:8, 2], v0[2:8, 0])
    same(s.values[8:], v0[8:])


def test_give_moves_a_fragment_and_refuses_to_overwrite() -> None:
    s, v0 = new_session(), known_values()
    assert s.apply(Edit("give", "female", "male", start=6, stop=9)) == (6, 9)
    same(s.values[6:9, 1], v0[6:9, 0])
    assert np.isnan(s.values[6:9, 0]).all()
    same(s.values[9], v0[9])
    with pytest.raises(EditError, match=r"male is already present in frame\(s\) 3, 4, 5 where"):
        s.apply(Edit("give", "female", "male", start=3, stop=7))
    assert s.history == [Edit("give", "female", "male", start=6, stop=9)]  # nothing applied


def test_delete_removes_points_and_filled_marks() -> None:
    s, v0 = new_session(), known_values()
    s.filled[2, 0] = True
    assert s.apply(Edit("delete", "female", start=2, stop=4)) == (2, 4)
    assert np.isnan(s.values[2:4, 0]).all() and not s.filled[2:4, 0].any()
    same(s.values[4:], v0[4:])
    with pytest.raises(EditError, match="female has no points there"):
        s.apply(Edit("delete", "female", start=2, stop=4))


def test_fill_interpolates_linearly_with_low_likelihood() -> None:
    v = known_values()
    v[3:6, 0] = np.nan  # a gap of female: frames 3, 4, 5
    v[6, 0, :, 0] = 10.0  # x from 2 (frame 2) to 10 (frame 6): 4, 6, 8
    v[7, 0, 1] = np.nan  # only the tail in frame 7
    s = TrackSession(table(v))
    assert s.apply(Edit("fill", "female", start=3, stop=8)) == (3, 8)
    same(s.values[3:6, 0, :, 0], [[4.0, 4.0], [6.0, 6.0], [8.0, 8.0]])
    same(s.values[3:6, 0, :, 1], [[3.0, 13.0], [4.0, 14.0], [5.0, 15.0]])
    same(s.values[7, 0, 1], [9.0, 17.0, FILL_LIKELIHOOD])  # between (6: 10, 16), (8: 8, 18)
    same(s.values[7, 0, 0], v[7, 0, 0])  # the nose was there: untouched
    assert (s.values[3:6, 0, :, 2] == FILL_LIKELIHOOD).all()
    same(s.filled[:, 0], [False] * 3 + [True] * 3 + [False, True, False, False])
    same(np.delete(s.values, 0, axis=1), np.delete(v, 0, axis=1))


def test_fill_says_why_it_cannot() -> None:
    s = new_session()
    with pytest.raises(EditError, match=r"present in no frame after it.*fill up to frame 5"):
        s.apply(Edit("fill", "male", start=4))
    with pytest.raises(EditError, match=r"present in no frame before it.*fill from frame 7"):
        s.apply(Edit("fill", "pup", start=0, stop=8))
    with pytest.raises(EditError, match="ghost has no points in any frame"):
        s.apply(Edit("fill", "ghost"))
    with pytest.raises(EditError, match="no missing body part of female"):
        s.apply(Edit("fill", "female"))  # nothing is missing
    assert s.history == [] and not s.dirty


def test_merge_takes_the_other_identity_where_it_is_missing() -> None:
    s, v0 = new_session(), known_values()
    assert s.apply(Edit("merge", "male", "pup")) == (7, T)
    same(s.values[7:, 1], v0[7:, 2])
    same(s.values[:6, 1], v0[:6, 1])
    assert np.isnan(s.values[:, 2]).all()
    with pytest.raises(
        EditError, match=r"both are present in frame\(s\) 0, 1, 2, 3, 4 and 4 more"
    ):
        s.apply(Edit("merge", "female", "male"))


def test_a_nan_only_identity_can_be_edited() -> None:
    s, v0 = new_session(), known_values()
    assert s.apply(Edit("swap", "female", "ghost", start=5)) == (5, T)
    same(s.values[5:, 3], v0[5:, 0])
    assert np.isnan(s.values[5:, 0]).all()
    s.apply(Edit("give", "ghost", "female", start=5))  # and back
    same(s.values, v0)
    with pytest.raises(EditError, match="ghost has no points in frames 0 to 9, nothing to give"):
        s.apply(Edit("give", "ghost", "pup"))
    with pytest.raises(EditError, match="ghost has no points there"):
        s.apply(Edit("delete", "ghost"))


def test_bad_edits_are_clear_errors() -> None:
    s = new_session()
    with pytest.raises(EditError, match="unknown identity 'zebra': the identities are female"):
        s.apply(Edit("swap", "female", "zebra"))
    with pytest.raises(EditError, match=r"frames 5 to frame 10 are outside the video \(frames 0"):
        s.apply(Edit("delete", "female", start=5, stop=11))
    with pytest.raises(EditError, match="outside the video"):
        s.apply(Edit("swap", "female", "male", start=T))
    with pytest.raises(EditError, match="frames start at 0"):
        Edit("delete", "female", start=-1)
    with pytest.raises(EditError, match="empty frame range 4 to 4"):
        Edit("delete", "female", start=4, stop=4)
    with pytest.raises(EditError, match="empty frame range 5 to 3"):
        Edit("delete", "female", start=5, stop=3)
    with pytest.raises(EditError, match="unknown edit 'rename'"):
        Edit("rename", "female")
    with pytest.raises(EditError, match="needs a second identity"):
        Edit("swap", "female")
    with pytest.raises(EditError, match="changes one identity"):
        Edit("delete", "female", "male")
    with pytest.raises(EditError, match="'male' twice"):
        Edit("merge", "male", "male")
    assert s.history == [] and not s.dirty


def test_edit_text_and_dict() -> None:
    assert Edit("swap", "female", "male", start=120).describe() == (
        "swap female and male from frame 120 to the end"
    )
    assert Edit("give", "a", "b", 10, 20).describe() == "give a's points in frames 10 to 19 to b"
    assert Edit("delete", "a", start=7, stop=8).describe() == "delete a's points in frame 7"
    assert Edit("merge", "a", "b").describe() == "merge b into a"
    edit = Edit("fill", "a", start=3, stop=9)
    assert Edit.from_dict(json.loads(json.dumps(edit.to_dict()))) == edit
    assert Edit("swap", "a", "b", start=np.int64(3)).start == 3
    with pytest.raises(EditError, match="not an edit"):
        Edit.from_dict({"a": "female"})


def test_apply_edit_is_pure() -> None:
    v = known_values()
    f = np.zeros((T, len(INDS)), dtype=bool)
    out, out_f = apply_edit(Edit("swap", "female", "male"), v, f, INDS)
    same(v, known_values())  # the input is untouched
    same(out[:, 0], v[:, 1])
    assert out_f.shape == f.shape


# ----------------------------------------------------------------------- undo, redo, replay

EDITS = [  # one after the other
    Edit("swap", "female", "male", start=3),  # female absent from 6, male present throughout
    Edit("give", "male", "female", start=6, stop=9),  # male absent in 6..8
    Edit("delete", "pup", start=8),  # pup present in frame 7 only
    Edit("merge", "male", "pup"),  # male gets frame 7
    Edit("fill", "male", start=6, stop=9),  # frames 6 and 8
]


@pytest.mark.parametrize("i", range(len(EDITS)), ids=[e.kind for e in EDITS])
def test_undo_and_redo_of_each_edit(i: int) -> None:
    s, edit = new_session(), EDITS[i]
    s.replay(EDITS[:i])
    heard: list[tuple[int, int]] = []
    s.listeners.append(lambda lo, hi: heard.append((lo, hi)))
    start = s.values.copy(), s.filled.copy()
    span = s.apply(edit)
    after = s.values.copy(), s.filled.copy()
    assert s.dirty and s.history == [*EDITS[:i], edit] and s.undo_edit == edit
    assert s.undo() == span
    same(s.values, start[0])
    same(s.filled, start[1])
    assert s.dirty == bool(i) and s.history == EDITS[:i] and s.redo_edit == edit
    assert s.redo() == span
    same(s.values, after[0])
    same(s.filled, after[1])
    assert heard == [span, span, span]
    while s.undo():
        pass
    same(s.values, known_values())
    assert not s.dirty and not s.filled.any()
    same(s.predictions.data[:, -1], table().data[:, -1])  # the unique body part rides along


def test_a_new_edit_forgets_the_redo_and_undo_keeps_only_changed_cells() -> None:
    s = new_session()
    s.apply(Edit("swap", "female", "male"))
    s.apply(Edit("delete", "male", start=8))
    assert s._done[0].before is None  # a swap undoes itself: nothing kept
    assert s._done[1].before is not None and s._done[1].before.values.shape == (2, 1, 2, 3)
    s.undo()
    s.apply(Edit("delete", "pup", start=9))
    assert s.redo() is None and len(s.history) == 2


def test_old_steps_leave_the_undo_but_stay_in_the_history(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(session_module, "UNDO_LIMIT", 2)
    s = new_session()
    for start in (1, 2, 3):
        s.apply(Edit("swap", "female", "male", start=start))
    assert len(s.history) == 3
    assert s.undo() and s.undo() and s.undo() is None and not s.can_undo
    assert len(s.history) == 1


def test_replay_is_all_or_nothing() -> None:
    s = new_session()
    s.apply(Edit("delete", "pup", start=9))
    before = s.values.copy()
    heard: list[tuple[int, int]] = []
    s.listeners.append(lambda lo, hi: heard.append((lo, hi)))
    bad = [Edit("swap", "female", "male", start=2), Edit("delete", "ghost")]
    with pytest.raises(EditError, match=r"edit 2 of 2 cannot be replayed: .*ghost has no points"):
        s.replay(bad)
    same(s.values, before)
    assert len(s.history) == 1 and heard == []
    s.replay([e.to_dict() for e in EDITS[:2]])
    assert heard == [(3, T)] and len(s.history) == 3
    same(s.values[6:9, 0], known_values()[6:9, 0])


def test_tracks_view_and_snapshot() -> None:
    s = new_session()
    live, snap = s.tracks(), s.tracks(copy=True)
    assert live.individuals == INDS and live.bodyparts == BPS
    s.apply(Edit("swap", "female", "male"))
    same(live.keypoints[:, 0], s.values[:, 0, :, :2])
    same(snap.keypoints[:, 0], known_values()[:, 0, :, :2])
    same(s.present()[:, 1], [True] * T)


# ------------------------------------------------------------------------------------- save


def test_save_round_trip_backup_log_and_replay(tracked: Path, tmp_path: Path) -> None:
    original = tracked.read_bytes()
    s = TrackSession.open(tracked)
    assert s.save_path == tracked and not s.dirty
    s.apply(Edit("swap", "female", "male", start=3))  # female absent from frame 6 on
    s.apply(Edit("delete", "male", start=9))
    s.undo()
    s.apply(Edit("give", "male", "female", start=6, stop=8))
    s.apply(Edit("fill", "male", start=6, stop=8))
    s.apply(Edit("merge", "female", "pup", start=9))
    written = s.save()
    assert written == [tracked, edits_path(tracked)] and not s.dirty
    # DeepLabCut's layout, key "tracks", exactly the session's state
    with pd.HDFStore(tracked, mode="r") as store:
        assert store.keys() == [f"/{TRACKS_KEY}"]
    back = read_predictions(tracked)
    assert back.to_dataframe().columns.equals(table().to_dataframe().columns)
    same(back.data, s.predictions.data)
    same(load_tracks(tracked).keypoints, s.values[..., :2])
    # the previous content is kept as a backup
    assert s.last_backup == list_backups(tracked)[0]
    assert s.last_backup.read_bytes() == original
    # the log says what changed; its edits replayed on the file read give the same table
    entry = read_edit_log(tracked)["saves"][-1]
    assert entry["source_sha256"] == safe_io.content_hash(s.last_backup)
    assert entry["new"] == [e.describe() for e in s.history] and entry["undone"] == []
    assert entry["edits"][0]["frames"] == [3, T]
    base = tmp_path / "base" / tracked.name
    base.parent.mkdir()
    shutil.copyfile(s.last_backup, base)
    record_written(base)
    again = TrackSession.open(base)
    again.replay(saved_edits(tracked))
    same(again.predictions.data, s.predictions.data)
    same(again.filled, s.filled)
    # reopened, the filled frames are known again (likelihood 0.01, DeepLabCut's mark)
    reopened = TrackSession.open(tracked)
    same(reopened.filled, s.filled)
    assert s.filled[6:8, 1].all() and s.filled.sum() == 2
    # a second save appends; an undone edit is reported
    s.undo()
    s.save()
    saves = read_edit_log(tracked)["saves"]
    assert len(saves) == 2 and saves[1]["undone"] == [
        "merge pup into female from frame 9 to the end"
    ]


def test_save_refuses_a_file_changed_on_disk(tracked: Path) -> None:
    s = TrackSession.open(tracked)
    s.apply(Edit("swap", "female", "male"))
    other = table()
    other.data[0, 0, 0] = 1234.0
    write_predictions(other, tracked)  # another program saves meanwhile
    theirs = tracked.read_bytes()
    with pytest.raises(TracksChangedOnDiskError, match=r"_el\.h5: another program changed"):
        s.save()
    assert tracked.read_bytes() == theirs and s.dirty
    assert not edits_path(tracked).exists()
    s.save(force=True)
    assert read_predictions(tracked).data[0, 0, 0] == s.values[0, 0, 0, 0] == 100.0


def test_save_refuses_an_existing_file_it_did_not_read(tracked: Path, tmp_path: Path) -> None:
    s = TrackSession.open(tracked)
    s.apply(Edit("delete", "pup"))
    elsewhere = tmp_path / "other_el.h5"
    elsewhere.write_bytes(b"someone else's")
    with pytest.raises(TracksChangedOnDiskError, match="not the file this session read"):
        s.save(elsewhere)
    assert elsewhere.read_bytes() == b"someone else's"
    with pytest.raises(ValueError, match=r"cannot save tracks as x\.slp"):
        s.save(tmp_path / "x.slp")


def test_disk_full_keeps_the_file_and_the_session(
    tracked: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    original = tracked.read_bytes()
    s = TrackSession.open(tracked)
    s.apply(Edit("swap", "female", "male", start=5))
    real_replace = os.replace

    def full(src: str | Path, dst: str | Path) -> None:  # the OS, not our code, fails
        if Path(dst) == tracked:
            raise OSError(errno.ENOSPC, "No space left on device")
        real_replace(src, dst)

    monkeypatch.setattr(safe_io.os, "replace", full)
    with pytest.raises(SaveError, match=r"_el\.h5: No space left on device\. The previous"):
        s.save()
    assert tracked.read_bytes() == original
    assert not [p for p in tracked.parent.iterdir() if p.name.endswith(".tmp")]
    assert s.dirty and s.undo() == (5, T) and s.redo() == (5, T)  # still usable
    monkeypatch.setattr(safe_io.os, "replace", real_replace)
    s.save()
    assert not s.dirty
    same(read_predictions(tracked).data, s.predictions.data)


def test_unwritable_destination_is_a_clear_error(tracked: Path, tmp_path: Path) -> None:
    s = TrackSession.open(tracked)
    s.apply(Edit("delete", "pup"))
    with pytest.raises(SaveError, match=r"folder .*gone does not exist"):
        s.save(tmp_path / "gone" / "x_el.h5")
    folder = tmp_path / "locked"
    folder.mkdir()
    folder.chmod(0o500)
    try:
        if os.access(folder, os.W_OK):  # root ignores the mode: nothing to test there
            pytest.skip("running as root: a read-only folder is writable")
        with pytest.raises(SaveError, match="Permission denied"):
            s.save(folder / "x_el.h5")
    finally:
        folder.chmod(0o700)
    assert s.dirty


def test_open_checks_the_frames_and_the_table(tracked: Path, tmp_path: Path) -> None:
    s = TrackSession.open(tracked, n_frames=T + 5)
    assert s.n_frames == T + 5 and np.isnan(s.values[T:]).all()
    assert any("5 frames have no row" in n for n in s.notes)
    with pytest.raises(ValueError, match="holds frames up to 9 but the video has 8 frames"):
        TrackSession.open(tracked, n_frames=8)
    single = tmp_path / "single.h5"
    write_predictions(
        Predictions(
            data=np.zeros((3, 1, 3)),
            bodyparts=("nose",),
            individuals=("",),
            scorer=SCORER,
            frames=np.arange(3),
        ),
        single,
    )
    record_written(single)
    with pytest.raises(ValueError, match=r"single\.h5: a single-animal table has no identities"):
        TrackSession.open(single)
    with pytest.raises(FileNotFoundError, match="no such tracks file"):
        TrackSession.open(tmp_path / "absent_el.h5")


def test_sleap_swap_from_frame_100_saved_as_dlc(shared_data: Path, tmp_path: Path) -> None:
    clip = tmp_path / "clip.slp"
    shutil.copyfile(shared_data / "sleap-tests" / "tracks" / "clip.slp", clip)
    before = load_tracks(clip)
    s = TrackSession.open(clip)
    assert s.individuals == ("female", "male") and s.n_frames == 1500
    assert s.save_path == sleap_save_path(clip) == tmp_path / "clipDLC_sleap_proofread_el.h5"
    s.apply(Edit("swap", "female", "male", start=100))
    out, log = s.save()
    assert out == s.save_path and log.is_file() and not list_backups(out)
    back = load_tracks(out)
    assert back.individuals == before.individuals and back.bodyparts == before.bodyparts
    same(back.keypoints[:100], before.keypoints[:100])
    same(back.keypoints[100:, 0], before.keypoints[100:, 1])
    same(back.keypoints[100:, 1], before.keypoints[100:, 0])
    with pd.HDFStore(out, mode="r") as store:
        assert store.keys() == [f"/{TRACKS_KEY}"]
    assert sleap_save_path("v/clip.mp4.predictions.slp") == Path("v/clipDLC_sleap_proofread_el.h5")


def test_swap_two_body_parts_of_one_identity_saved_and_replayed(tracked: Path) -> None:
    """``swap_parts`` exchanges two body parts of one identity in a range, undoes, is saved
    through the safe save and replays from the edit log."""
    s, v0 = TrackSession.open(tracked), known_values()
    edit = Edit("swap_parts", "female", start=2, stop=5, parts=("nose", "tail"))
    assert edit.describe() == "swap female's nose and tail in frames 2 to 4"
    assert Edit.from_dict(edit.to_dict()) == edit
    assert s.apply(edit) == (2, 5)
    same(s.values[2:5, 0, 0], v0[2:5, 0, 1])
    same(s.values[2:5, 0, 1], v0[2:5, 0, 0])
    same(s.values[:2], v0[:2])
    same(s.values[5:], v0[5:])
    same(s.values[:, 1:], v0[:, 1:])
    s.save()
    assert saved_edits(tracked) == [edit]
    s.undo()
    same(s.values, v0)
    with pytest.raises(EditError, match="unknown body part 'paw'"):
        s.apply(Edit("swap_parts", "female", parts=("nose", "paw")))
    with pytest.raises(EditError, match="two different body parts"):
        Edit("swap_parts", "female", parts=("nose", "nose"))
    with pytest.raises(EditError, match="parts must be None"):
        Edit("swap", "female", "male", parts=("nose", "tail"))
