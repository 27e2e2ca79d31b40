"""The one keypoint model and the one IO facade (load_file / save_file) on real files."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest
from numpy.testing import assert_allclose

from napari_dlcflow.core.formats import ForeignLabels, FormatError
from napari_dlcflow.core.formats.io import detect_kind, load_file, save_file
from napari_dlcflow.core.keypoints import HDF_KEY, Keypoints
from napari_dlcflow.core.labels.collected import Labels, read_labels
from napari_dlcflow.core.predictions.analysis_files import (
    Predictions,
    read_predictions,
    simulate_predictions,
)

OPENFIELD = "dlc-openfield/labeled-data/m4s1/CollectedData_Pranav.h5"
MAUDLC = "sleap-tests/dlc/labeled-data/video/maudlc_testdata.csv"


@pytest.fixture
def openfield(shared_data: Path) -> Labels:
    return read_labels(shared_data / OPENFIELD)


@pytest.fixture
def project_root(shared_data: Path, tmp_path: Path) -> Path:
    """A folder whose ``labeled-data/m4s1`` holds the real images (linked, not copied)."""
    root = tmp_path / "proj"
    (root / "labeled-data").mkdir(parents=True)
    (root / "labeled-data" / "m4s1").symlink_to(shared_data / "dlc-openfield/labeled-data/m4s1")
    return root


def test_every_container_is_the_one_model(shared_data: Path, tmp_path: Path) -> None:
    labels = load_file(shared_data / OPENFIELD)
    slp = load_file(shared_data / "sleap-tests/tracks/clip.slp")
    pred = simulate_predictions(np.zeros((4, 2, 2)), ("nose", "tail"))
    for kp in (labels, slp, pred):
        assert isinstance(kp, Keypoints)
        assert kp.xy.shape == (kp.n_rows, kp.n_keypoints, 2)
        assert kp.n_rows == len(kp.row_names)
        assert kp.n_keypoints == len(kp.keypoints)
        assert kp.n_labeled == int(kp.labeled.sum())
    assert isinstance(labels, Labels) and isinstance(slp, ForeignLabels)
    assert labels.bodypart_names == ["snout", "leftear", "rightear", "tailbase"]
    assert labels.bodyparts == labels.bodypart_names
    assert labels.row_names[0] == "labeled-data/m4s1/img0000.png" and labels.likelihood is None
    assert labels.source == shared_data / OPENFIELD and not labels.multianimal
    assert slp.multianimal and slp.animal_names == slp.individuals == ["female", "male"]
    # predictions: the model's names are views of the (T, N, 3) table
    assert pred.keypoints == [("", "nose"), ("", "tail")] and pred.multianimal is False
    assert pred.source is pred.path is None and pred.row_names == ["0", "1", "2", "3"]
    assert np.shares_memory(pred.xy, pred.data) and pred.likelihood.shape == (4, 2)
    assert pred.unique_bodyparts == ("nose", "tail") and pred.labels == ["nose", "tail"]


def test_names_with_unique_bodyparts_agree_across_kinds(shared_data: Path) -> None:
    labels = load_file(shared_data / MAUDLC)
    foreign = load_file(shared_data / MAUDLC, format="dlc")
    assert isinstance(labels, Labels) and isinstance(foreign, ForeignLabels)
    for kp in (labels, foreign):
        assert kp.individual_names == ["Animal1", "Animal2", "single"]
        assert kp.animal_names == ["Animal1", "Animal2"]
        assert kp.unique_bodypart_names == ["D", "E"]
        assert kp.shared_bodyparts == ["A", "B", "C"]
        assert kp.bodypart_names == ["A", "B", "C", "D", "E"]
    # each kind keeps the meaning its callers rely on
    assert labels.individuals == ["Animal1", "Animal2", "single"]
    assert foreign.individuals == ["Animal1", "Animal2"] and foreign.bodyparts == ["A", "B", "C"]
    grid = labels.by_individual()
    assert grid.shape == (labels.n_rows, 3, 5, 2)
    assert np.isnan(grid[:, 0, 3:]).all()  # Animal1 has no unique body parts
    assert_allclose(grid[:, 2, 3], labels.xy[:, labels.column("single", "D")])
    assert_allclose(grid[:, 1, 0], labels.xy[:, labels.column("Animal2", "A")])
    with pytest.raises(KeyError, match="no keypoint Animal1/D"):
        labels.column("Animal1", "D")


def test_detect_kind_on_real_and_foreign_files(shared_data: Path, tmp_path: Path) -> None:
    assert detect_kind(shared_data / OPENFIELD) == "collected-data"
    assert detect_kind(shared_data / OPENFIELD.replace(".h5", ".csv")) == "collected-data"
    assert detect_kind(shared_data / MAUDLC) == "collected-data"
    assert detect_kind(shared_data / "sleap-tests/tracks/clip.slp") == "sleap"
    pred = simulate_predictions(np.full((5, 2, 2), 10.0), ("nose", "tail"))
    (h5,) = save_file(pred, tmp_path / "videoDLC_x.h5")
    assert detect_kind(h5) == "dlc-analysis"
    # sniffers never raise: foreign, empty, binary, missing files and folders give None
    (tmp_path / "empty.h5").write_bytes(b"")
    (tmp_path / "junk.csv").write_bytes(b"\xff\xfe\x00garbage\n,,,\n")
    (tmp_path / "notes.json").write_text("{not json")
    (tmp_path / "folder").mkdir()
    shutil.copy(shared_data / "sleap-tests/dlc/labeled-data/video/img000.png", tmp_path)
    for name in ("empty.h5", "junk.csv", "notes.json", "folder", "img000.png", "missing.slp"):
        assert detect_kind(tmp_path / name) is None, name
    with pytest.raises(FormatError, match=r"junk\.csv: not a keypoint format"):
        load_file(tmp_path / "junk.csv")
    with pytest.raises(FileNotFoundError, match="missing"):
        load_file(tmp_path / "missing.h5")


def test_collected_data_round_trip(openfield: Labels, tmp_path: Path) -> None:
    folder = tmp_path / "labeled-data" / "m4s1"
    folder.mkdir(parents=True)
    written = save_file(openfield, folder / "CollectedData_Pranav.h5")
    assert [p.name for p in written] == ["CollectedData_Pranav.h5", "CollectedData_Pranav.csv"]
    for path in written:
        back = load_file(path)
        assert isinstance(back, Labels)
        assert back.keypoints == openfield.keypoints and back.images == openfield.images
        assert_allclose(back.xy, openfield.xy)
    import pandas as pd

    assert pd.read_hdf(written[0], HDF_KEY).shape == (116, 8)


def test_machine_labels_round_trip_keeps_likelihood(openfield: Labels, tmp_path: Path) -> None:
    machine = openfield.copy()
    machine.likelihood = np.linspace(0, 1, machine.xy[..., 0].size).reshape(machine.xy.shape[:2])
    machine.likelihood[np.isnan(machine.xy[..., 0])] = np.nan
    folder = tmp_path / "labeled-data" / "m4s1"
    folder.mkdir(parents=True)
    (path, _csv) = save_file(machine, folder / "machinelabels-iter2.h5")
    assert detect_kind(path) == "machine-labels"
    back = load_file(path)
    assert isinstance(back, Labels) and back.likelihood is not None
    assert_allclose(back.xy, machine.xy)
    assert_allclose(back.likelihood, machine.likelihood)


def test_analysis_round_trip_h5_and_csv(tmp_path: Path) -> None:
    truth = np.random.default_rng(3).uniform(0, 100, (50, 3, 2))
    pred = simulate_predictions(truth, ("a", "b", "c"), seed=4)
    for name in ("clipDLC_net.h5", "clipDLC_net.csv"):
        (path,) = save_file(pred, tmp_path / name)
        assert detect_kind(path) == "dlc-analysis"
        back = load_file(path)
        assert isinstance(back, Predictions)
        assert back.keypoints == pred.keypoints and back.scorer == pred.scorer
        assert_allclose(back.data, pred.data)
        assert_allclose(back.frames, pred.frames)
    assert read_predictions(tmp_path / "clipDLC_net.csv").n_rows == 50
    labels = Labels("me", [("", "a")], [("labeled-data", "v", "img0.png")], np.zeros((1, 1, 2)))
    with pytest.raises(FormatError, match="analysis files hold predictions"):
        save_file(labels, tmp_path / "x.h5", "dlc-analysis")


def test_lightning_pose_round_trip(openfield: Labels, project_root: Path) -> None:
    (csv_path,) = save_file(openfield, project_root / "CollectedData.csv")
    assert detect_kind(csv_path) == "lightning-pose"
    back = load_file(csv_path)
    assert isinstance(back, ForeignLabels) and back.format == "lightning-pose"
    assert back.row_names == openfield.row_names and back.keypoints == openfield.keypoints
    assert all(f.exists() for f in back.frames)  # paths relative to the CSV find the images
    assert_allclose(back.xy, openfield.xy)


def test_coco_round_trip_reads_image_sizes(openfield: Labels, project_root: Path) -> None:
    (json_path,) = save_file(openfield, project_root / "labels.json", root=project_root)
    assert detect_kind(json_path) == "coco"
    back = load_file(json_path)
    assert isinstance(back, ForeignLabels) and back.bodyparts == openfield.bodyparts
    assert all(f.exists() for f in back.frames)
    assert_allclose(back.xy, openfield.xy)


def test_per_image_csv_round_trip(openfield: Labels, tmp_path: Path) -> None:
    some = openfield.copy()
    some.images, some.xy = some.images[:5], some.xy[:5]
    (tmp_path / "csvs").mkdir()
    files = save_file(some, tmp_path / "csvs", format="per-image-csv")
    assert [p.name for p in files] == [f"img000{i}.csv" for i in range(5)]
    assert detect_kind(tmp_path / "csvs") == "per-image-csv"
    back = load_file(tmp_path / "csvs")
    assert back.bodyparts == some.bodyparts
    assert_allclose(back.xy, some.xy)


def test_save_refuses_what_a_format_cannot_hold(openfield: Labels, tmp_path: Path) -> None:
    pred = simulate_predictions(np.zeros((2, 1, 2)), ("nose",))
    with pytest.raises(FormatError, match="project's label tables"):
        save_file(pred, tmp_path / "CollectedData_me.h5")
    with pytest.raises(FormatError, match="pass format="):
        save_file(openfield, tmp_path / "labels.txt")
    with pytest.raises(FormatError, match="not supported"):
        save_file(openfield, tmp_path / "x.slp", format="sleap")
    assert list(tmp_path.iterdir()) == []  # nothing half-written


def test_one_error_base_and_one_hdf5_check(tmp_path: Path, shared_data: Path) -> None:
    from napari_dlcflow.core.keypoints import KeypointsFileError
    from napari_dlcflow.core.keypoints.model import is_hdf5
    from napari_dlcflow.core.labels.collected import CorruptLabelsError

    bad = tmp_path / "CollectedData_me.h5"
    bad.write_bytes(b"not hdf5 at all")
    with pytest.raises(KeypointsFileError, match=r"CollectedData_me\.h5.*not an HDF5") as info:
        load_file(bad)
    assert isinstance(info.value, CorruptLabelsError) and info.value.path == bad
    assert issubclass(FormatError, KeypointsFileError)
    assert is_hdf5(shared_data / OPENFIELD)
    assert is_hdf5(shared_data / "sleap-tests/tracks/clip.slp")
    assert not is_hdf5(bad) and not is_hdf5(tmp_path / "missing") and not is_hdf5(tmp_path)
