"""Label files: exact round trips of real files and the data-safety faults (FAULTS.md)."""

from __future__ import annotations

import errno
import os
import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from napari_dlcflow.core import safe_io
from napari_dlcflow.core.labels.collected import (
    HDF_KEY,
    CorruptLabelsError,
    DuplicateNamesError,
    FolderMismatchError,
    Labels,
    LabelsChangedOnDiskError,
    LabelsError,
    compare_with_config,
    conform_to_config,
    labels_to_dataframe,
    load_folder,
    merge_labels,
    points_outside,
    read_into_folder,
    read_labels,
    remap_folder,
    write_labels,
)
from napari_dlcflow.core.labels.recovery import discard_recovery, find_recovery, write_recovery
from napari_dlcflow.core.project.config import ConfigError, Project
from napari_dlcflow.core.safe_io import SaveError, list_backups, restore_backup

REAL_FILES = [
    "dlc-openfield/labeled-data/m4s1/CollectedData_Pranav.h5",
    "dlc-openfield/labeled-data/m4s1/CollectedData_Pranav.csv",
    "sleap-tests/dlc/labeled-data/video/CollectedData_LM.csv",
    "sleap-tests/dlc/labeled-data/video/dlc_testdata.csv",
    "sleap-tests/dlc/labeled-data/video/dlc_testdata_v2.csv",
    "sleap-tests/dlc/labeled-data/video/madlc_testdata.csv",
    "sleap-tests/dlc/labeled-data/video/madlc_testdata_v2.csv",
    "sleap-tests/dlc/labeled-data/video/maudlc_testdata.csv",
    "sleap-tests/dlc/labeled-data/video/maudlc_testdata_v2.csv",
    "sleap-tests/dlc_multiple_datasets/video1/dlc_dataset_1.csv",
    "sleap-tests/dlc_multiple_datasets/video2/dlc_dataset_2.csv",
]


def _tmps(folder: Path) -> list[str]:
    return [p.name for p in folder.rglob("*") if p.name.endswith(".tmp")]


def _small(scorer: str = "me", stem: str = "vid") -> Labels:
    xy = np.array([[[10.5, 20.25], [np.nan, np.nan]], [[30.0, 40.0], [50.125, 60.0]]], dtype=float)
    return Labels(
        scorer=scorer,
        keypoints=[("", "nose"), ("", "tail")],
        images=[("labeled-data", stem, "img00.png"), ("labeled-data", stem, "img01.png")],
        xy=xy,
    )


@pytest.mark.parametrize("rel", REAL_FILES)
def test_real_files_round_trip_exactly(shared_data: Path, tmp_path: Path, rel: str) -> None:
    src = shared_data / rel
    before = src.read_bytes()
    first = read_labels(src)
    assert src.read_bytes() == before  # loading never writes
    folder = tmp_path / first.images[0][1]
    folder.mkdir()
    saved = write_labels(first, folder)
    for again in (read_labels(saved.h5), read_labels(saved.csv)):
        assert again.equals(first)
        assert again.notes == []  # written in the canonical form
        assert again.keypoints == first.keypoints
        assert again.images == first.images
    # DeepLabCut reads it the way it reads its own files
    df = pd.read_hdf(saved.h5, HDF_KEY)
    assert isinstance(df.index, pd.MultiIndex) and df.index.nlevels == 3
    assert list(df.columns.names)[-1] == "coords"
    np.testing.assert_array_equal(df.to_numpy(), labels_to_dataframe(first).to_numpy())


def test_openfield_values_match_pandas_exactly(shared_data: Path) -> None:
    path = shared_data / "dlc-openfield/labeled-data/m4s1/CollectedData_Pranav.h5"
    labels = read_labels(path)
    df = pd.read_hdf(path)
    assert len(labels.images) == 116 and labels.bodyparts == [
        "snout",
        "leftear",
        "rightear",
        "tailbase",
    ]
    assert labels.images[0] == ("labeled-data", "m4s1", "img0000.png")
    assert labels.notes == ["legacy row index"]
    np.testing.assert_array_equal(labels.xy.reshape(116, -1), df.to_numpy())


def test_unique_bodyparts_and_individuals(shared_data: Path) -> None:
    labels = read_labels(shared_data / "sleap-tests/dlc/labeled-data/video/maudlc_testdata.csv")
    assert labels.multianimal
    assert labels.individuals == ["Animal1", "Animal2", "single"]
    assert labels.keypoints[-2:] == [("single", "D"), ("single", "E")]
    # img002 is a short row: all NaN; img003 Animal2 empty
    assert np.isnan(labels.xy[2]).all()
    np.testing.assert_array_equal(labels.xy[3, -2:], [[32, 33], [34, 35]])


def test_nan_and_deletion_round_trip(tmp_path: Path) -> None:  # FAULTS 16
    folder = tmp_path / "vid"
    folder.mkdir()
    labels = _small()
    write_labels(labels, folder)
    loaded = load_folder(folder)
    assert loaded is not None
    loaded.xy[1, 1] = np.nan  # delete a point and save: it stays deleted
    write_labels(loaded, folder, expected_stamp=loaded.stamp)
    again = load_folder(folder)
    assert again is not None and np.isnan(again.xy[1, 1]).all()
    assert again.n_labeled == 2 and np.isnan(again.xy[0, 1]).all()


def test_merge_machine_labels_never_deletes_ground_truth(tmp_path: Path) -> None:  # 16, 17
    gt = _small()
    machine = _small(scorer="DLC_resnet50")
    machine.xy[:] = np.nan
    machine.xy[0, 1] = [11.0, 12.0]  # fills a gap
    machine.xy[1, 0] = [99.0, 99.0]  # would overwrite ground truth
    machine.likelihood = np.full((2, 2), 0.9)
    merged = merge_labels(gt, machine)
    np.testing.assert_array_equal(merged.xy[0, 0], gt.xy[0, 0])
    np.testing.assert_array_equal(merged.xy[1], gt.xy[1])  # NaN and values in machine: kept
    np.testing.assert_array_equal(merged.xy[0, 1], [11.0, 12.0])
    assert merged.likelihood is None and merged.scorer == "me"


def test_likelihood_never_reaches_collected_data(tmp_path: Path) -> None:  # FAULTS 17
    folder = tmp_path / "vid"
    folder.mkdir()
    lab = _small()
    df = labels_to_dataframe(lab)
    # a machine-label file as DLC writes it: x, y, likelihood
    lab.likelihood = np.array([[0.9, 0.1], [0.8, 0.7]])
    mdf = labels_to_dataframe(lab, with_likelihood=True)
    mdf.to_hdf(folder / "machinelabels-iter0.h5", key="df_with_missing", mode="w")
    machine = read_labels(folder / "machinelabels-iter0.h5")
    np.testing.assert_array_equal(machine.likelihood, lab.likelihood)
    saved = write_labels(machine, folder)
    out = pd.read_hdf(saved.h5)
    assert "likelihood" not in out.columns.get_level_values("coords")
    assert "likelihood" not in saved.csv.read_text()
    assert out.shape == df.shape


def test_backups_and_restore(tmp_path: Path) -> None:  # FAULTS 3
    folder = tmp_path / "vid"
    folder.mkdir()
    first = _small()
    write_labels(first, folder)
    second = first.copy()
    second.xy[0, 0] = [1.0, 2.0]
    saved = write_labels(second, folder)
    assert len(saved.backups) == 2  # the previous h5 and csv
    h5 = folder / "CollectedData_me.h5"
    restore_backup(h5, list_backups(h5)[0])
    assert read_labels(h5).equals(first)


def test_disk_full_keeps_old_files(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    folder = tmp_path / "vid"  # FAULTS 1
    folder.mkdir()
    write_labels(_small(), folder)
    h5, csv = folder / "CollectedData_me.h5", folder / "CollectedData_me.csv"
    old = (h5.read_bytes(), csv.read_bytes())
    changed = _small()
    changed.xy[:] = 5.0

    def full(_fd: int) -> None:
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(safe_io.os, "fsync", full)
    with pytest.raises(SaveError, match="No space left"):
        write_labels(changed, folder)
    monkeypatch.undo()
    assert (h5.read_bytes(), csv.read_bytes()) == old
    assert _tmps(tmp_path) == []
    assert changed.xy[0, 0, 0] == 5.0  # labels in memory untouched


def test_csv_failure_puts_h5_back(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    folder = tmp_path / "vid"
    folder.mkdir()
    write_labels(_small(), folder)
    h5 = folder / "CollectedData_me.h5"
    old = h5.read_bytes()
    real = safe_io.atomic_write

    def fail_csv(path, data, **kw):  # type: ignore[no-untyped-def]
        if str(path).endswith(".csv"):
            raise SaveError(f"Cannot save {path}: No space left on device")
        return real(path, data, **kw)

    import napari_dlcflow.core.labels.collected as labels_mod

    monkeypatch.setattr(labels_mod, "atomic_write", fail_csv)
    changed = _small()
    changed.xy[:] = 7.0
    with pytest.raises(SaveError):
        write_labels(changed, folder)
    assert h5.read_bytes() == old


def test_killed_save_leaves_loadable_file(tmp_path: Path) -> None:  # FAULTS 2
    folder = tmp_path / "vid"
    folder.mkdir()
    write_labels(_small(), folder)
    # a kill between writing the temp file and the replace leaves only a stray temp file
    (folder / ".CollectedData_me.h5.abc123.tmp").write_bytes(b"\x89HDF\r\n\x1a\npartial")
    loaded = load_folder(folder)
    assert loaded is not None and loaded.equals(_small())
    # and the newer work from the autosave is offered
    newer = _small()
    newer.xy[0, 1] = [3.0, 4.0]
    write_recovery(newer, folder)
    offered = find_recovery(folder, "me")
    assert offered is not None and offered.equals(newer)
    write_labels(offered, folder)
    discard_recovery(folder, "me")
    assert find_recovery(folder, "me") is None


def test_recovery_not_offered_when_saved_is_newer_or_same(tmp_path: Path) -> None:  # 4
    folder = tmp_path / "vid"
    folder.mkdir()
    write_recovery(_small(), folder)
    write_labels(_small(), folder)
    assert find_recovery(folder, "me") is None


@pytest.mark.parametrize("content", [b"", b"\x89HDF\r\n\x1a\n" + b"\x00" * 100, b"not hdf"])
def test_zero_byte_or_truncated_h5_refused_and_never_overwritten(
    tmp_path: Path, content: bytes
) -> None:  # FAULTS 5
    folder = tmp_path / "vid"
    folder.mkdir()
    h5 = folder / "CollectedData_me.h5"
    h5.write_bytes(content)
    with pytest.raises(CorruptLabelsError, match=r"CollectedData_me\.h5"):
        read_labels(h5)
    with pytest.raises(CorruptLabelsError, match="not overwritten"):
        write_labels(_small(), folder)
    assert h5.read_bytes() == content


def test_truncated_real_h5_refused(shared_data: Path, tmp_path: Path) -> None:
    real = (shared_data / "dlc-openfield/labeled-data/m4s1/CollectedData_Pranav.h5").read_bytes()
    h5 = tmp_path / "CollectedData_Pranav.h5"
    h5.write_bytes(real[: len(real) // 2])
    with pytest.raises(CorruptLabelsError, match="truncated"):
        read_labels(h5)
    assert h5.read_bytes() == real[: len(real) // 2]


def test_legacy_forms_load_and_save_canonical(tmp_path: Path) -> None:  # FAULTS 6, 13
    folder = tmp_path / "vid"
    folder.mkdir()
    df = labels_to_dataframe(_small())
    legacy = df.copy()
    legacy.index = ["labeled-data\\vid\\img00.png", "labeled-data\\vid\\img01.png"]
    legacy.to_hdf(folder / "CollectedData_me.h5", key="keypoints", mode="w")
    loaded = load_folder(folder)
    assert loaded is not None and loaded.equals(_small())
    assert set(loaded.notes) == {"legacy row index", "legacy HDF key 'keypoints'"}
    write_labels(loaded, folder)
    with pd.HDFStore(folder / "CollectedData_me.h5", "r") as store:
        assert store.keys() == ["/df_with_missing"]
        assert store.get("df_with_missing").index.nlevels == 3
    # forward-slash one-string index (Linux) reads the same
    legacy.index = ["labeled-data/vid/img00.png", "labeled-data/vid/img01.png"]
    legacy.to_hdf(tmp_path / "x.h5", key="df_with_missing", mode="w")
    assert read_labels(tmp_path / "x.h5").equals(_small())


def test_csv_only_folder_loads(tmp_path: Path) -> None:
    folder = tmp_path / "vid"
    folder.mkdir()
    (folder / "CollectedData_me.csv").write_text(labels_to_dataframe(_small()).to_csv())
    loaded = load_folder(folder)
    assert loaded is not None and loaded.equals(_small())


def test_renamed_folder_refused_then_remapped_by_name(tmp_path: Path) -> None:  # FAULTS 14
    folder = tmp_path / "vid"
    folder.mkdir()
    write_labels(_small(), folder)
    renamed = folder.rename(tmp_path / "vid-renamed")
    with pytest.raises(FolderMismatchError, match="renamed folder"):
        load_folder(renamed)
    labels = read_labels(renamed / "CollectedData_me.h5")
    moved = remap_folder(labels, renamed.name)
    assert [r[1:] for r in moved.images] == [
        ("vid-renamed", "img00.png"),
        ("vid-renamed", "img01.png"),
    ]
    np.testing.assert_array_equal(moved.xy, labels.xy)  # same values on the same image names
    # what the Labeling dock does when the user accepts: read and remap, stamp of the file kept
    accepted = read_into_folder(renamed)
    assert accepted.equals(moved) and accepted.stamp == labels.stamp is not None
    with pytest.raises(FileNotFoundError, match="no CollectedData"):
        read_into_folder(tmp_path)


def test_duplicate_bodyparts_refused(tmp_path: Path) -> None:  # FAULTS 8
    csv = tmp_path / "CollectedData_me.csv"
    csv.write_text(
        "scorer,,,me,me,me,me\nbodyparts,,,nose,nose,nose,nose\ncoords,,,x,y,x,y\n"
        "labeled-data,vid,img0.png,1,2,3,4\n"
    )
    with pytest.raises(DuplicateNamesError, match="nose"):
        read_labels(csv)
    csv.write_text(
        "scorer,,,me,me\nbodyparts,,,nose,nose\ncoords,,,x,y\n"
        "labeled-data,vid,img0.png,1,2\nlabeled-data,vid,img0.png,3,4\n"
    )
    with pytest.raises(DuplicateNamesError, match="twice"):
        read_labels(csv)


def test_individual_named_single_refused(openfield_project: Path) -> None:  # FAULTS 8
    cfg = openfield_project / "config.yaml"
    text = cfg.read_text().replace("multianimalproject:\n", "multianimalproject: true\n")
    text = text.replace(
        "bodyparts:\n- snout",
        "individuals:\n- single\n- b\nbodyparts: MULTI!\nmultianimalbodyparts:\n- snout",
        1,
    )
    cfg.write_text(text)
    with pytest.raises(ConfigError, match="single"):
        Project.open(cfg)


def test_config_mismatch_reported_and_needs_explicit_mapping(
    openfield_project: Path,
) -> None:  # FAULTS 7, 9
    project = Project.open(openfield_project)
    labels = load_folder(openfield_project / "labeled-data" / "m4s1")
    assert labels is not None
    assert compare_with_config(labels, project).ok
    project.bodyparts = ["snout", "left_ear", "rightear", "tailbase", "spine"]
    diff = compare_with_config(labels, project)
    assert diff.missing == [("", "left_ear"), ("", "spine")]
    assert diff.extra == [("", "leftear")]
    assert diff.renames == {("", "leftear"): ("", "left_ear")}
    assert "leftear -> left_ear" in diff.describe()
    with pytest.raises(LabelsError, match="leftear"):
        conform_to_config(labels, project)  # never drops a column silently
    fixed = conform_to_config(labels, project, diff.renames)
    assert fixed.bodyparts == ["snout", "left_ear", "rightear", "tailbase", "spine"]
    np.testing.assert_array_equal(fixed.xy[:, 1], labels.xy[:, 1])
    assert np.isnan(fixed.xy[:, 4]).all()
    assert diff.keep_all(renamed=True) == diff.renames
    kept = conform_to_config(labels, project, diff.keep_all(renamed=False))
    assert kept.bodyparts == [*project.bodyparts, "leftear"]  # nothing dropped, under its name
    np.testing.assert_array_equal(kept.xy[:, -1], labels.xy[:, 1])
    dropped = conform_to_config(labels, project, {("", "leftear"): None})
    assert np.isnan(dropped.xy[:, 1]).all()  # only because the user chose it
    labels.scorer = "Someone"
    diff = compare_with_config(labels, project)
    assert diff.scorer_differs and "DeepLabCut skips" in diff.describe()


def test_reload_config_keeps_labels(openfield_project: Path) -> None:
    project = Project.open(openfield_project)
    folder = openfield_project / "labeled-data" / "m4s1"
    labels = load_folder(folder)
    assert labels is not None
    labels.xy[0, 0] = [1.5, 2.5]  # unsaved work
    project.reload()
    again = conform_to_config(labels, project)
    np.testing.assert_array_equal(again.xy, labels.xy)


def test_points_outside_flagged(tmp_path: Path) -> None:  # FAULTS 15
    lab = _small()
    lab.xy[0, 0] = [0.0, 20.0]
    lab.xy[1, 0] = [64.0, 10.0]
    lab.xy[1, 1] = [63.9, 47.9]
    out = points_outside(lab, {"img00.png": (48, 64), "img01.png": (48, 64)})
    assert out == ["img00.png nose (0, 20)", "img01.png nose (64, 10)"]


def test_read_only_folder_is_a_clear_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:  # FAULTS 27
    folder = tmp_path / "vid"
    folder.mkdir()
    write_labels(_small(), folder)
    old = (folder / "CollectedData_me.h5").read_bytes()
    if os.geteuid() == 0:  # root ignores folder permissions: fail the way a read-only mount does

        def read_only(*_a: object, **_k: object) -> None:
            raise PermissionError(errno.EROFS, "Read-only file system")

        monkeypatch.setattr(safe_io.tempfile, "mkstemp", read_only)
    folder.chmod(0o555)
    try:
        with pytest.raises(SaveError, match=r"CollectedData_me\.h5.*(Read-only|Permission)"):
            write_labels(_small(), folder)
    finally:
        folder.chmod(0o755)
    assert (folder / "CollectedData_me.h5").read_bytes() == old
    assert _tmps(tmp_path) == []


def test_changed_on_disk_detected(tmp_path: Path) -> None:  # FAULTS 26
    folder = tmp_path / "vid"
    folder.mkdir()
    write_labels(_small(), folder)
    loaded = load_folder(folder)
    assert loaded is not None
    other = _small()
    other.xy[:] = 1.0
    write_labels(other, folder)
    with pytest.raises(LabelsChangedOnDiskError):
        write_labels(loaded, folder, expected_stamp=loaded.stamp)


@pytest.mark.parametrize("name", ["my video #1 & co", "vidéo-ümlaut 猫", "a[1]%b"])
def test_odd_paths(tmp_path: Path, name: str, shared_data: Path) -> None:  # FAULTS 12
    folder = tmp_path / "proj ect#&" / "labeled-data" / name
    folder.mkdir(parents=True)
    src = shared_data / "dlc-openfield/labeled-data/m4s1/CollectedData_Pranav.h5"
    labels = remap_folder(read_labels(src), name)
    write_labels(labels, folder)
    again = load_folder(folder)
    assert again is not None and again.equals(labels)


def test_copied_folder_is_not_the_shared_one(shared_data: Path, tmp_path: Path) -> None:
    # the read-only shared data must never be written; copy, then save, works
    src = shared_data / "dlc-openfield/labeled-data/m4s1"
    dest = tmp_path / "m4s1"
    dest.mkdir()
    shutil.copy(src / "CollectedData_Pranav.h5", dest)
    (dest / "CollectedData_Pranav.h5").chmod(0o644)
    labels = load_folder(dest)
    assert labels is not None
    write_labels(labels, dest)
    assert load_folder(dest).equals(labels)  # type: ignore[union-attr]


def test_docs_python_example_runs(openfield_project: Path, small_video: Path) -> None:
    import re

    doc = (Path(__file__).resolve().parents[2] / "docs" / "labeling.md").read_text()
    (code,) = re.findall(r"```python\n(.*?)```", doc, flags=re.S)
    (openfield_project / "videos").mkdir()
    shutil.copy(small_video, openfield_project / "videos" / "m4s1.mp4")
    code = code.replace('"project/', f'"{openfield_project}/')
    exec(compile(code, "labeling.md", "exec"), {})
    saved = load_folder(openfield_project / "labeled-data" / "m4s1")
    assert saved is not None
    np.testing.assert_array_equal(saved.xy[0, 0], [120.5, 88.0])


@pytest.mark.slow
def test_deeplabcut_merges_what_we_write(openfield_project: Path, tmp_path: Path) -> None:
    """DeepLabCut's own dataset merge reads our file, in a child process (DLC import ~15 s)."""
    import json
    import subprocess
    import sys

    folder = openfield_project / "labeled-data" / "m4s1"
    labels = load_folder(folder)
    assert labels is not None
    labels.xy[2, 1] = [11.5, 22.25]
    labels.xy[3, 0] = np.nan
    write_labels(labels, folder)
    cfg = {
        "project_path": str(openfield_project),
        "video_sets": {str(openfield_project / "videos" / "m4s1.mp4"): {"crop": "0, 640, 0, 480"}},
        "scorer": "Pranav",
        "bodyparts": labels.bodyparts,
    }
    out = tmp_path / "merged"
    out.mkdir()
    code = (
        "import json, sys, pathlib\n"
        "from deeplabcut.generate_training_dataset.trainingsetmanipulation import "
        "merge_annotateddatasets\n"
        "df = merge_annotateddatasets(json.loads(sys.argv[1]), pathlib.Path(sys.argv[2]))\n"
        "print('SHAPE', df.shape[0], df.shape[1])\n"
    )
    res = subprocess.run(
        [sys.executable, "-c", code, json.dumps(cfg), str(out)],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert res.returncode == 0, res.stderr[-2000:]
    assert "SHAPE 116 8" in res.stdout
    merged = pd.read_hdf(out / "CollectedData_Pranav.h5")
    assert merged.loc[("labeled-data", "m4s1", "img0002.png"), ("Pranav", "leftear", "x")] == 11.5
    assert np.isnan(merged.loc[("labeled-data", "m4s1", "img0003.png"), ("Pranav", "snout", "x")])
