"""npe2 reader and writer of DeepLabCut labels."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from napari_dlcflow.core.labels.collected import labels_to_dataframe, read_labels
from napari_dlcflow.plugin.labels_reader import get_reader
from napari_dlcflow.plugin.labels_writer import write_points


def test_reader_ignores_foreign_paths(tmp_path: Path) -> None:
    (tmp_path / "notes.csv").write_text("a,b\n1,2\n")
    assert get_reader(str(tmp_path / "notes.csv")) is None
    assert get_reader(str(tmp_path)) is None  # a folder without label files
    assert get_reader([str(tmp_path), str(tmp_path)]) is None


def test_collected_data_layer_round_trip(openfield_project: Path) -> None:
    folder = openfield_project / "labeled-data" / "m4s1"
    h5 = folder / "CollectedData_Pranav.h5"
    before = read_labels(h5)
    reader = get_reader(str(h5))
    assert reader is not None
    [(data, meta, kind)] = reader(str(h5))
    assert kind == "points" and data.shape == (464, 3)
    assert meta["metadata"]["dlcflow"]["images"][0] == "img0000.png"
    np.testing.assert_array_equal(data[0], [0, before.xy[0, 0, 1], before.xy[0, 0, 0]])
    # delete a point, write back: it stays deleted, nothing else changes
    keep = np.ones(len(data), bool)
    keep[5] = False
    feats = {k: np.asarray(v)[keep] for k, v in meta["features"].items()}
    written = write_points(str(h5), data[keep], {**meta, "features": pd.DataFrame(feats)})
    assert written[0] == str(h5)
    after = read_labels(h5)
    assert after.n_labeled == 463 and after.images == before.images
    t, k = 1, 1  # point 5 is frame 1, leftear
    assert np.isnan(after.xy[t, k]).all()
    after.xy[t, k] = before.xy[t, k]
    assert after.equals(before)


def test_writer_refuses_a_file_changed_on_disk_since_it_was_read(openfield_project: Path) -> None:
    """Like the Labeling dock: saving a layer over labels another program changed after the
    layer was read raises and leaves that program's file as it is."""
    from napari_dlcflow.core.labels.collected import LabelsChangedOnDiskError, write_labels

    folder = openfield_project / "labeled-data" / "m4s1"
    h5 = folder / "CollectedData_Pranav.h5"
    [(data, meta, _)] = get_reader(str(h5))(str(h5))  # type: ignore[misc]
    other = read_labels(h5)
    other.xy[0, 0] += 7.0  # another program moves a label and saves
    write_labels(other, folder)
    theirs = h5.read_bytes()
    with pytest.raises(LabelsChangedOnDiskError, match=r"CollectedData_Pranav\.h5"):
        write_points(str(h5), data, meta)
    assert h5.read_bytes() == theirs
    # read again: the new layer saves
    [(data, meta, _)] = get_reader(str(h5))(str(h5))  # type: ignore[misc]
    assert write_points(str(h5), data, meta)[0] == str(h5)


def test_folder_gives_images_and_labels(openfield_project: Path) -> None:
    folder = openfield_project / "labeled-data" / "m4s1"
    reader = get_reader(str(folder))
    assert reader is not None
    layers = reader(str(folder))
    assert [kind for *_, kind in layers] == ["image", "points"]
    assert layers[0][0].shape[:3] == (116, 480, 640)


def test_machine_labels_own_layer_and_promotion_never_deletes(tmp_path: Path) -> None:
    from napari_dlcflow.core.labels.collected import Labels, write_labels

    folder = tmp_path / "vid"
    folder.mkdir()
    kps = [("", "nose"), ("", "tail")]
    rows = [("labeled-data", "vid", f"img{i}.png") for i in range(3)]
    gt = Labels(
        "me",
        kps,
        rows,
        np.array(
            [[[1, 2], [3, 4]], [[5, 6], [np.nan, np.nan]], [[np.nan, np.nan]] * 2], dtype=float
        ),
    )
    write_labels(gt, folder)
    m = Labels("DLC_net", kps, rows, np.full((3, 2, 2), 50.0), likelihood=np.full((3, 2), 0.8))
    m.xy[0] = np.nan
    labels_to_dataframe(m, with_likelihood=True).to_hdf(
        folder / "machinelabels-iter0.h5", key="df_with_missing", mode="w"
    )
    reader = get_reader(str(folder / "machinelabels-iter0.h5"))
    [(data, meta, _)] = reader(str(folder / "machinelabels-iter0.h5"))  # type: ignore[misc]
    assert "likelihood" in meta["features"] and meta["metadata"]["dlcflow"]["machine"]
    # promote the (refined) machine labels into the ground truth file
    write_points(
        str(folder / "CollectedData_me.h5"),
        data,
        {**meta, "features": pd.DataFrame(meta["features"])},
    )
    out = read_labels(folder / "CollectedData_me.h5")
    np.testing.assert_array_equal(out.xy[0], gt.xy[0])  # untouched
    np.testing.assert_array_equal(out.xy[1, 0], gt.xy[1, 0])  # ground truth wins
    np.testing.assert_array_equal(out.xy[1, 1], [50, 50])  # gap filled
    assert out.likelihood is None
    assert "likelihood" not in (folder / "CollectedData_me.csv").read_text()


@pytest.mark.gui
def test_reader_in_viewer(make_napari_viewer, shared_data: Path, tmp_path: Path) -> None:
    pytest.importorskip("napari")
    src = shared_data / "sleap-tests/dlc/labeled-data/video"
    folder = tmp_path / "labeled-data" / "video"
    shutil.copytree(src, folder)
    viewer = make_napari_viewer()
    layers = viewer.open(str(folder / "CollectedData_LM.csv"), plugin="napari-dlcflow")
    assert len(layers) == 1 and layers[0].data.shape == (17, 3)
    assert set(layers[0].features["individual"]) == {"Animal1", "Animal2", "single"}
