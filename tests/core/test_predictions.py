"""DLC analysis files: exact layout, round trips, clear errors, and napari layer data."""

from __future__ import annotations

import pickle
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from numpy.testing import assert_allclose, assert_array_equal

from napari_dlcflow.core.example.synthetic import (
    BODYPARTS,
    SKELETON,
    SyntheticSpec,
    render_synthetic,
)
from napari_dlcflow.core.layers.data import (
    predictions_layers,
    shown_mask,
    skeleton_vectors_for,
    tracks_layer_data,
)
from napari_dlcflow.core.predictions.analysis_files import (
    HDF_KEY,
    NotAnalysisFileError,
    Predictions,
    PredictionsError,
    edge_columns,
    filtered_path,
    find_analysis_files,
    is_analysis_file,
    keypoint_columns,
    raw_path,
    read_meta,
    read_predictions,
    scorer_name,
    simulate_predictions,
    skeleton_table,
    video_for,
    video_stem,
    write_meta,
    write_predictions,
)

SCORER = scorer_name("resnet_50", "synthetic", "Nov24", 1, "best-10")


@pytest.fixture(scope="module")
def truth() -> np.ndarray:
    return render_synthetic(SyntheticSpec(n_frames=60, height=96, width=96, seed=5)).keypoints


@pytest.fixture
def pred(truth: np.ndarray) -> Predictions:
    return simulate_predictions(truth, BODYPARTS, scorer=SCORER, seed=1)


def _dlc_frame(values: np.ndarray, scorer: str, bodyparts: list[str]) -> pd.DataFrame:
    """The table the way deeplabcut's create_df_from_prediction builds it."""
    cols = pd.MultiIndex.from_product(
        [[scorer], bodyparts, ["x", "y", "likelihood"]], names=["scorer", "bodyparts", "coords"]
    )
    return pd.DataFrame(values.reshape(len(values), -1), columns=cols, index=range(len(values)))


def test_raw_filtered_and_video_of_an_analysis_file(tmp_path: Path) -> None:
    """The file names the Overlay dock and the outlier panel go by (they used to work them out
    inline): the raw file of a filtered one, the video's stem, the video beside the file."""
    raw = tmp_path / f"mouse 1{SCORER}.h5"
    filt = filtered_path(raw)
    assert filt.name == f"mouse 1{SCORER}_filtered.h5" and filtered_path(filt) == filt
    assert raw_path(filt) == raw and raw_path(raw) == raw
    assert video_stem(raw) == video_stem(filt) == "mouse 1"
    assert video_for(raw) is None  # no video beside it
    (tmp_path / "mouse 1.webm").write_bytes(b"")  # any suffix the readers take
    assert video_for(filt) == tmp_path / "mouse 1.webm"
    (tmp_path / "mouse 1.webm").unlink()
    (tmp_path / "mouse 1.AVI").write_bytes(b"")
    assert video_for(raw) == tmp_path / "mouse 1.AVI"


def test_columns_of_chosen_keypoints_and_edges(pred: Predictions) -> None:
    """The tables behind the Plots dock's views and CSV export (chosen columns only)."""
    two = keypoint_columns(pred, {BODYPARTS[2], BODYPARTS[0]})
    assert list(two.columns.get_level_values(1)[::3]) == [BODYPARTS[0], BODYPARTS[2]]
    assert list(two.columns.get_level_values(2)[:3]) == ["x", "y", "likelihood"]
    np.testing.assert_allclose(two.to_numpy()[:, :3], pred.data[:, 0])
    assert keypoint_columns(pred, set()).shape == (pred.n_frames, 0)
    edge = (BODYPARTS[0], BODYPARTS[1])
    full = skeleton_table(pred, [edge, (BODYPARTS[1], BODYPARTS[2])])
    angles = edge_columns(pred, [edge, (BODYPARTS[1], BODYPARTS[2])], [edge], "orientation")
    name = f"{edge[0]}_{edge[1]}"
    assert list(angles.columns) == [(name, "orientation"), (name, "likelihood")]
    np.testing.assert_allclose(angles[(name, "orientation")], full[(name, "orientation")])
    with pytest.raises(ValueError, match="quantity"):
        edge_columns(pred, [edge], [edge], "speed")


def test_scorer_name_is_dlc3s() -> None:
    assert SCORER == "DLC_Resnet50_syntheticNov24shuffle1_snapshot_best-10"


def test_write_is_exactly_dlc_layout(tmp_path: Path, pred: Predictions) -> None:
    out = tmp_path / f"synthetic_animal{SCORER}.h5"
    written = write_predictions(pred, out, csv=True)
    assert written == [out, out.with_suffix(".csv")]
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted([out.name, f"{out.stem}.csv"])
    with pd.HDFStore(out, "r") as store:
        assert store.keys() == [f"/{HDF_KEY}"]
        assert store.get_storer(HDF_KEY).is_table
    df = pd.read_hdf(out, HDF_KEY)
    expected = _dlc_frame(pred.data, SCORER, list(BODYPARTS))
    pd.testing.assert_frame_equal(df, expected, check_index_type=False)
    assert df.index.dtype.kind == "i"
    assert list(df.index) == list(range(60))
    csv = pd.read_csv(out.with_suffix(".csv"), header=[0, 1, 2], index_col=0)
    assert_allclose(csv.to_numpy(), pred.data.reshape(60, -1))
    assert list(csv.columns.names) == ["scorer", "bodyparts", "coords"]


def test_reads_a_table_written_like_deeplabcut(tmp_path: Path, pred: Predictions) -> None:
    out = tmp_path / f"vid{SCORER}.h5"
    _dlc_frame(pred.data, SCORER, list(BODYPARTS)).to_hdf(
        out, key="df_with_missing", format="table", mode="w"
    )
    write_meta(tmp_path / f"vid{SCORER}_meta.pickle", {"fps": 30.0, "nframes": 60})
    back = read_predictions(out)
    assert back.bodyparts == BODYPARTS
    assert back.scorer == SCORER and not back.multi_animal
    assert_array_equal(back.frames, np.arange(60))
    assert_allclose(back.data, pred.data)
    assert back.meta == {"fps": 30.0, "nframes": 60}
    assert is_analysis_file(out)
    csv = tmp_path / "vid.csv"
    _dlc_frame(pred.data, SCORER, list(BODYPARTS)).to_csv(csv)
    assert_allclose(read_predictions(csv).data, pred.data)


def test_multi_animal_with_unique_bodyparts_round_trip(tmp_path: Path) -> None:
    rng = np.random.default_rng(0)
    cols = [
        (SCORER, ind, bp, c)
        for ind in ("mouse1", "mouse2")
        for bp in ("nose", "tail")
        for c in ("x", "y", "likelihood")
    ]
    cols += [(SCORER, "single", "led", c) for c in ("x", "y", "likelihood")]
    values = rng.uniform(0, 1, (7, len(cols)))
    df = pd.DataFrame(
        values,
        columns=pd.MultiIndex.from_tuples(
            cols, names=["scorer", "individuals", "bodyparts", "coords"]
        ),
    )
    path = tmp_path / "ma.h5"
    df.to_hdf(path, key="df_with_missing", format="table", mode="w")
    pred = read_predictions(path)
    assert pred.multi_animal
    assert pred.individuals == ("mouse1", "mouse1", "mouse2", "mouse2", "single")
    assert pred.bodyparts == ("nose", "tail", "nose", "tail", "led")
    assert pred.unique_individuals == ("mouse1", "mouse2", "single")
    out = tmp_path / "again.h5"
    write_predictions(pred, out, csv=True)
    pd.testing.assert_frame_equal(pd.read_hdf(out), df, check_index_type=False)
    back = read_predictions(out.with_suffix(".csv"))
    assert_allclose(back.data, pred.data)
    assert back.individuals == pred.individuals
    # coloured by individual: both columns of mouse1 share a colour, mouse2 differs
    pts = predictions_layers(pred, trails=False)[-1][1]
    face = pts["face_color"]
    assert_array_equal(face[0], face[1])
    assert not np.array_equal(face[0], face[2])
    # skeleton per individual: nose-tail for mouse1 and mouse2, never across
    vec = skeleton_vectors_for(pred, [("nose", "tail")])
    assert vec.shape == (14, 2, 3)


def test_labels_file_is_refused_as_not_analysis(shared_data: Path) -> None:
    labels = shared_data / "dlc-openfield" / "labeled-data" / "m4s1" / "CollectedData_Pranav.h5"
    with pytest.raises(NotAnalysisFileError, match=r"CollectedData_Pranav\.h5"):
        read_predictions(labels)
    assert not is_analysis_file(labels)
    assert not is_analysis_file(labels.with_suffix(".csv"))


@pytest.mark.parametrize(
    ("content", "match"),
    [(b"", "empty"), (b"not an hdf5 file at all", "cannot be read"), (b"\x89HDF\r\n", "cannot")],
)
def test_broken_files_give_errors_naming_them(tmp_path: Path, content: bytes, match: str) -> None:
    bad = tmp_path / "broken DLC file.h5"
    bad.write_bytes(content)
    with pytest.raises(PredictionsError, match=match) as info:
        read_predictions(bad)
    assert "broken DLC file.h5" in str(info.value)
    assert not is_analysis_file(bad)
    with pytest.raises(FileNotFoundError, match=r"missing\.h5"):
        read_predictions(tmp_path / "missing.h5")
    txt = tmp_path / "x.csv"
    txt.write_text("a,b\n1,2\n")
    with pytest.raises(PredictionsError, match=r"x\.csv"):
        read_predictions(txt)


def test_failed_write_keeps_old_file(
    tmp_path: Path, pred: Predictions, monkeypatch: pytest.MonkeyPatch
) -> None:
    from napari_dlcflow.core.safe_io import SaveError

    out = tmp_path / "keep.h5"
    write_predictions(pred, out)
    before = out.read_bytes()
    real = pd.DataFrame.to_hdf

    def disk_full(self: pd.DataFrame, path: str, *args: object, **kwargs: object) -> None:
        real(self.iloc[:3], path, *args, **kwargs)  # a partial file, then the disk is full
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(pd.DataFrame, "to_hdf", disk_full)
    with pytest.raises(SaveError, match=r"keep\.h5.*No space left"):
        write_predictions(pred.with_data(pred.data + 1), out)
    assert out.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["keep.h5"]


def test_find_analysis_files_and_names(tmp_path: Path, pred: Predictions) -> None:
    video = tmp_path / "my video #1.mp4"
    raw = tmp_path / f"my video #1{SCORER}.h5"
    write_predictions(pred, raw)
    write_predictions(pred, filtered_path(raw))
    write_predictions(pred, tmp_path / f"my video #10{SCORER}.h5")  # another video
    assert find_analysis_files(video) == [raw]
    assert find_analysis_files(video, filtered=True) == [filtered_path(raw)]
    assert filtered_path(raw).name == f"my video #1{SCORER}_filtered.h5"


def test_meta_pickle_errors(tmp_path: Path) -> None:
    p = tmp_path / "x_meta.pickle"
    p.write_bytes(pickle.dumps({"nodata": 1}))
    with pytest.raises(PredictionsError, match=r"x_meta\.pickle"):
        read_meta(p)


def test_points_match_h5_values_at_random_frames(tmp_path: Path, pred: Predictions) -> None:
    data = pred.data.copy()
    data[3, 2, :2] = np.nan  # an undetected keypoint is left out
    pred = pred.with_data(data)
    path = tmp_path / f"v{SCORER}.h5"
    write_predictions(pred, path)
    layers = predictions_layers(read_predictions(path), SKELETON, pcutoff=0.6)
    assert [t for _, _, t in layers] == ["vectors", "tracks", "points"]
    points, kw, _ = layers[-1]
    assert len(points) == 60 * 11 - 1
    feats = kw["features"]
    df = pd.read_hdf(path)
    rng = np.random.default_rng(0)
    for frame in rng.choice(60, 8, replace=False):
        sel = points[:, 0] == frame
        for (t, y, x), bp, lik in zip(
            points[sel], feats["bodypart"][sel], feats["likelihood"][sel], strict=True
        ):
            assert t == frame
            assert x == df.loc[frame, (SCORER, bp, "x")]
            assert y == df.loc[frame, (SCORER, bp, "y")]
            assert lik == df.loc[frame, (SCORER, bp, "likelihood")]
    # p-cutoff: shown exactly where likelihood >= cutoff
    assert_array_equal(kw["shown"], feats["likelihood"].to_numpy() >= 0.6)
    assert 0 < (~kw["shown"]).sum() < len(points)
    # body part colours: same colour for the same body part
    for bp in ("nose", "tailtip"):
        colours = kw["face_color"][feats["bodypart"].to_numpy() == bp]
        assert (colours == colours[0]).all()


def test_skeleton_and_trails_respect_pcutoff(pred: Predictions) -> None:
    vec = skeleton_vectors_for(pred, SKELETON, pcutoff=0.6)
    lik = pred.likelihood
    idx = {b: i for i, b in enumerate(BODYPARTS)}
    expected = sum(
        int(((lik[:, idx[a]] >= 0.6) & (lik[:, idx[b]] >= 0.6)).sum()) for a, b in SKELETON
    )
    assert len(vec) == expected
    a, b = idx["nose"], idx["head"]
    first = vec[0]
    t = int(first[0, 0])
    assert_allclose(first[0, 1:], pred.data[t, a, [1, 0]])
    assert_allclose(first[0, 1:] + first[1, 1:], pred.data[t, b, [1, 0]])
    tracks = tracks_layer_data(pred, pcutoff=0.6)
    assert len(tracks) == int((lik >= 0.6).sum())
    # sorted by track then time, as napari expects
    order = np.lexsort((tracks[:, 1], tracks[:, 0]))
    assert_array_equal(order, np.arange(len(tracks)))
    assert_array_equal(shown_mask([0.5, np.nan, 0.7], 0.6), [False, False, True])


def test_skeleton_table_lengths_and_angles() -> None:
    data = np.zeros((2, 2, 3))
    data[:, 0] = [[0, 0, 1], [1, 1, 0.5]]
    data[:, 1] = [[3, 4, 0.9], [1, 3, 0.8]]
    pred = Predictions(data, ("a", "b"), ("", ""), "s", np.arange(2))
    df = skeleton_table(pred, [("a", "b")])
    assert_allclose(df[("a_b", "length")], [5.0, 2.0])
    assert_allclose(df[("a_b", "orientation")], [np.degrees(np.arctan2(4, 3)), 90.0])
    assert_allclose(df[("a_b", "likelihood")], [0.9, 0.5])


def test_large_file_layers_are_fast(tmp_path: Path) -> None:
    import time

    rng = np.random.default_rng(0)
    n_frames, n_kp = 20_000, 32
    data = np.concatenate(
        [rng.uniform(0, 500, (n_frames, n_kp, 2)), rng.uniform(0, 1, (n_frames, n_kp, 1))], axis=2
    )
    pred = Predictions(
        data, tuple(f"bp{i}" for i in range(n_kp)), ("",) * n_kp, "s", np.arange(n_frames)
    )
    path = tmp_path / "big.h5"
    write_predictions(pred, path)
    start = time.perf_counter()
    layers = predictions_layers(read_predictions(path), [("bp0", "bp1")])
    elapsed = time.perf_counter() - start
    assert len(layers[-1][0]) == n_frames * n_kp
    assert elapsed < 3.0, elapsed


def test_docs_python_example_runs(tmp_path: Path, pred: Predictions) -> None:
    import re

    docs = Path(__file__).resolve().parents[2] / "docs" / "overlay.md"
    (code,) = re.findall(r"```python\n(.*?)```", docs.read_text(), flags=re.S)
    h5 = tmp_path / f"mouse1{SCORER}.h5"
    write_predictions(pred, h5)
    code = code.replace(
        "videos/mouse1DLC_Resnet50_reachNov24shuffle1_snapshot_best-200.h5", str(h5)
    )
    scope: dict = {}
    exec(compile(code, "overlay.md", "exec"), scope)
    assert scope["filtered"] == tmp_path / f"mouse1{SCORER}_filtered.h5"
    assert scope["filtered"].is_file()
    assert len(scope["edges"]) == pred.n_frames
    assert [kind for _, _, kind in scope["layers"]] == ["vectors", "tracks", "points"]


def test_crop_offset_from_dlc_meta(tmp_path: Path, pred: Predictions) -> None:
    from napari_dlcflow.core.predictions.analysis_files import crop_offset

    h5 = tmp_path / f"v{SCORER}.h5"
    write_predictions(pred, h5)
    assert crop_offset(read_predictions(h5)) == (0.0, 0.0)  # no meta
    meta = {"cropping": False, "cropping_parameters": [0, 96, 0, 96], "nframes": 60}
    write_meta(tmp_path / f"v{SCORER}_meta.pickle", meta)
    assert crop_offset(read_predictions(h5)) == (0.0, 0.0)
    meta.update(cropping=True, cropping_parameters=[10, 90, 20, 80])
    write_meta(tmp_path / f"v{SCORER}_meta.pickle", meta)
    assert crop_offset(read_predictions(h5)) == (10.0, 20.0)


def test_meta_pickle_never_imports_foreign_classes(tmp_path: Path) -> None:
    import subprocess
    import sys

    # a pickle that names a class of a module nobody should import on load
    code = (
        "import pickle, sys, types\n"
        "m = types.ModuleType('evil_mod'); sys.modules['evil_mod'] = m\n"
        "class Cfg:\n    pass\n"
        "Cfg.__module__ = 'evil_mod'; m.Cfg = Cfg\n"
        "c = Cfg(); c.x = 1\n"
        "import numpy as np\n"
        f"pickle.dump({{'data': {{'fps': 30.0, 'cfg': c, 'frame_dimensions': (64, 48),"
        f" 'arr': np.arange(3)}}}},"
        f" open({str(tmp_path / 'v_meta.pickle')!r}, 'wb'))\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)
    from napari_dlcflow.core.predictions.analysis_files import read_meta

    data = read_meta(tmp_path / "v_meta.pickle")
    assert data["fps"] == 30.0 and data["frame_dimensions"] == (64, 48)
    assert "evil_mod" not in sys.modules
    assert type(data["cfg"]).__name__ == "_Opaque"
    assert list(data["arr"]) == [0, 1, 2]


def test_no_trails_layer_when_nothing_passes_the_cutoff(pred: Predictions) -> None:
    data = pred.data.copy()
    data[..., 2] = 0.1  # an untrained network: every likelihood below the p-cutoff
    layers = predictions_layers(pred.with_data(data), SKELETON, pcutoff=0.6)
    assert [t for _, _, t in layers] == ["vectors", "points"]
    assert not layers[-1][1]["shown"].any()
