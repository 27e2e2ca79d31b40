"""A source's channel/z/scene choice as part of its identity (issue 25, items 2 and 4): the
``video_sets`` key and the names that follow from it, frame extraction from one channel of a
2-channel OME-TIFF built from real frames, an array with no file as a source, and that
DeepLabCut's dataset code finds the labeled-data folder of such a key."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from _microscopy_files import DT_S, PX_UM, real_tcyx, write_ome_tiff
from napari_dlcflow.core.video.array_source import ArraySource, write_array_tiff
from napari_dlcflow.core.video.extract import (
    SOURCE_RECORD,
    extract_frames,
    labeled_data_folder,
)
from napari_dlcflow.core.video.frames import VideoError
from napari_dlcflow.core.video.reader import open_frames
from napari_dlcflow.core.video.source import (
    Rgb8Frames,
    SourceRef,
    parse_source_key,
    source_key,
)


@pytest.fixture(scope="module")
def tcyx(shared_data: Path) -> np.ndarray:
    return real_tcyx(shared_data)


@pytest.fixture(scope="module")
def ome(tcyx: np.ndarray, tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_ome_tiff(tmp_path_factory.mktemp("sources") / "cells.ome.tif", tcyx)


@pytest.mark.parametrize(
    ("path", "choice", "key", "stem"),
    [
        ("/d/cells.ome.tif", "C1", "/d/cells.ome.tif/cells_C1.tif", "cells_C1"),
        ("/d/cells.ome.tif", "", "/d/cells.ome.tif", "cells.ome"),
        ("/d/a b.c.tif", "S1_C0+C1_Zmax", "/d/a b.c.tif/a b.c_S1_C0+C1_Zmax.tif", None),
        ("/d/stack.ome.zarr", "C0_Z3", "/d/stack.ome.zarr/stack_C0_Z3.zarr", "stack_C0_Z3"),
        ("/d/mouse.avi", "", "/d/mouse.avi", "mouse"),
    ],
)
def test_key_round_trip_and_the_stem_deeplabcut_takes(
    path: str, choice: str, key: str, stem: str | None
) -> None:
    ref = SourceRef(Path(path), choice)
    assert ref.key == source_key(path, choice) == str(Path(key))
    assert parse_source_key(ref.key) == ref
    # DeepLabCut names the labeled-data folder Path(key).stem (parse_video_filenames)
    assert Path(ref.key).stem == ref.stem == (stem or ref.stem)
    assert labeled_data_folder("/p", ref.key) == Path("/p/labeled-data") / ref.stem


def test_keys_that_only_look_like_ours_stay_paths() -> None:
    for key in ("/d/cells.tif/cells_notachoice.tif", "/d/x/x_C1.avi", "/d/cells_C1.tif"):
        assert parse_source_key(key) == SourceRef(Path(key))
    with pytest.raises(ValueError, match="not a channel/z/scene choice"):
        source_key("/d/cells.ome.tif", "channel one")


def test_deeplabcut_finds_the_labeled_data_of_a_choice_key() -> None:
    # DeepLabCut's own parse_video_filenames (what merge_annotateddatasets uses), taken from
    # the installed file without importing deeplabcut (12-22 s)
    import ast
    import importlib.util

    spec = importlib.util.find_spec("deeplabcut")
    assert spec is not None and spec.origin is not None
    path = Path(spec.origin).parent / "generate_training_dataset/trainingsetmanipulation.py"
    tree = ast.parse(path.read_text(encoding="utf-8"))
    func = next(
        n
        for n in tree.body
        if isinstance(n, ast.FunctionDef) and n.name == "parse_video_filenames"
    )
    space: dict = {"Path": Path}
    exec(compile(ast.Module([func], []), str(path), "exec"), space)
    parse_video_filenames = space["parse_video_filenames"]

    keys = [source_key("/d/cells.ome.tif", "C0"), source_key("/d/cells.ome.tif", "C1")]
    assert parse_video_filenames(keys) == ["cells_C0", "cells_C1"]


def test_a_choice_key_opens_that_channel(ome: Path, tcyx: np.ndarray) -> None:
    with parse_source_key(source_key(ome, "C1")).open() as src:
        assert src.meta.choice == "C1"
        np.testing.assert_array_equal(src[5], tcyx[5, 1])


@pytest.mark.parametrize("method", ["uniform", "kmeans"])
def test_extraction_from_channel_1_writes_that_channels_pixels(
    ome: Path, tcyx: np.ndarray, tmp_path: Path, method: str
) -> None:
    ref = SourceRef(ome, "C1")
    folder = labeled_data_folder(tmp_path, ref)
    assert folder.name == "cells_C1"
    res = extract_frames(ref.key, folder, method=method, n=4, seed=1)
    assert res.n_frames == 20 and len(res.written) == 4 and not res.missing
    with open_frames(ome, channel=1) as src:
        rgb = Rgb8Frames(src)
        lo, hi = rgb.limits  # type: ignore[misc]
        for path in res.written:
            i = int(path.stem[3:])
            png = np.asarray(Image.open(path))
            assert png.shape == (48, 64, 3)
            np.testing.assert_array_equal(png, rgb.frame(i))
            # the pixels are channel 1's (inverted brightness), not channel 0's
            want = np.clip((tcyx[i, 1].astype(float) - lo) * 255 / (hi - lo), 0, 255)
            assert np.abs(png[..., 0] - want).max() <= 1
            other = np.clip((tcyx[i, 0].astype(float) - lo) * 255 / (hi - lo), 0, 255)
            assert np.abs(png[..., 0] - other).mean() > 20
    record = json.loads((folder / SOURCE_RECORD).read_text(encoding="utf-8"))
    assert record == {
        "path": str(ome),
        "choice": "C1",
        "pixel_size_um": pytest.approx(PX_UM),
        "frame_interval_s": pytest.approx(DT_S),
    }
    # a second run picks new frames only, never rewrites the old ones
    again = extract_frames(ref, folder, method="uniform", n=3)
    assert not set(again.picked) & set(res.picked) and len(again.written) == 3


def test_a_two_channel_file_without_a_choice_is_refused(ome: Path, tmp_path: Path) -> None:
    with pytest.raises(VideoError, match=r"2 channels.*channel="):
        extract_frames(ome, tmp_path / "x", n=2)
    assert not (tmp_path / "x").exists()


def test_an_array_with_no_file_is_a_source(tcyx: np.ndarray, tmp_path: Path) -> None:
    data = tcyx[:, 0]
    src = ArraySource(data, "script cells")
    assert src.shape == (20, 48, 64) and src.origin == "napari layer 'script cells' (no file)"
    res = extract_frames(src, tmp_path / "script cells", n=3)
    assert len(res.written) == 3
    record = json.loads((tmp_path / "script cells" / SOURCE_RECORD).read_text("utf-8"))
    assert record["origin"] == "napari layer 'script cells' (no file)"
    # for a child process it is streamed to a TIFF that reads back frame for frame
    tif = write_array_tiff(src, tmp_path / "videos" / "script cells.tif", chunk=7)
    with open_frames(tif) as back:
        np.testing.assert_array_equal(np.asarray(back), data)
    for bad in (np.zeros((4, 5)), np.zeros((2, 3, 4, 5, 6)), np.zeros((3, 4, 5), bool)):
        with pytest.raises(VideoError, match="script cells"):
            ArraySource(bad, "script cells")


def test_analysis_names_and_marker_of_a_choice_key(ome: Path, tmp_path: Path) -> None:
    import shutil

    import pandas as pd

    from napari_dlcflow.core.engine.analysis import mark_complete, marker_path, video_status
    from napari_dlcflow.core.predictions.analysis_files import output_files

    src = shutil.copy(ome, tmp_path / "cells.ome.tif")
    c0, c1 = source_key(src, "C0"), source_key(src, "C1")
    scorer = "DLC_Resnet50_testDec7shuffle1_snapshot_010"
    h5 = output_files(c1, scorer, tmp_path)["h5"]
    assert h5 == tmp_path / f"cells_C1{scorer}.h5"
    assert marker_path(c1, scorer) == tmp_path / f"cells_C1{scorer}.dlcflow-analysis.json"
    assert video_status(c1, scorer) == "missing"
    cols = pd.MultiIndex.from_product([[scorer], ["nose"], ["x", "y", "likelihood"]])
    pd.DataFrame(np.zeros((20, 3)), columns=cols).to_hdf(h5, key="df_with_missing", format="table")
    record = json.loads(mark_complete(c1, scorer).read_text(encoding="utf-8"))
    assert (record["choice"], record["frames"], record["rows"]) == ("C1", 20, 20)
    assert video_status(c1, scorer) == "done"
    assert video_status(c0, scorer) == "missing"  # the other channel is another source


def test_preprocess_sidecar_records_the_choice(
    ome: Path, tcyx: np.ndarray, tmp_path: Path
) -> None:
    from napari_dlcflow.core.video.preprocess import (
        ContrastParams,
        OutputParams,
        PreprocessSpec,
        preprocess_video,
        read_sidecar,
    )

    spec = PreprocessSpec(
        contrast=ContrastParams(method="none"), output=OutputParams(codec="lossless")
    )
    out = preprocess_video(source_key(ome, "C1"), tmp_path, spec)
    assert out.name == "cells_C1_pre.mkv"
    spec_back, record = read_sidecar(out)
    assert spec_back == replace_roi(spec, 64, 48)
    assert (record["source"], record["choice"]) == (str(ome.resolve()), "C1")
    assert record["source_video"]["pixel_size_um"] == pytest.approx(PX_UM)
    # a rerun from the record reads the same pixels: channel 1, 16-bit kept (lossless)
    with open_frames(out) as pre, SourceRef(Path(record["source"]), record["choice"]).open() as s:
        np.testing.assert_array_equal(pre[7], tcyx[7, 1])
        np.testing.assert_array_equal(s[7], pre[7])


def test_cli_preprocess_one_channel_on_a_local_cluster(
    ome: Path, tcyx: np.ndarray, tmp_path: Path
) -> None:
    import subprocess
    import sys

    import pandas as pd

    from napari_dlcflow.core.video.preprocess import read_sidecar

    out = tmp_path / "out"
    cmd = [sys.executable, "-m", "napari_dlcflow", "preprocess", str(ome), "--contrast", "none"]
    cmd += ["--lossless", "--choice", "C1", "--cluster", "local", "--workers", "1"]
    cmd += ["--out", str(out)]
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stdout + done.stderr
    made = out / "cells_C1_pre.mkv"
    assert (read_sidecar(made)[1]["choice"]) == "C1"
    with open_frames(made) as pre:
        np.testing.assert_array_equal(pre[7], tcyx[7, 1])  # channel 1, not channel 0
    again = subprocess.run(cmd, capture_output=True, text=True, timeout=300)
    assert again.returncode == 0, again.stdout + again.stderr
    assert list(pd.read_csv(out / "batch-summary.csv")["state"]) == ["skipped"]
    # the other channel is another output, not the same one "complete"
    other = [str(c) if c != "C1" else "C0" for c in cmd]
    done = subprocess.run(other, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stdout + done.stderr
    with open_frames(out / "cells_C0_pre.mkv") as pre:
        np.testing.assert_array_equal(pre[7], tcyx[7, 0])


def replace_roi(spec: object, width: int, height: int) -> object:
    from napari_dlcflow.core.video.preprocess import Roi

    return replace(spec, roi=Roi(0, 0, width, height))  # type: ignore[type-var]


def test_cli_extract_frames_takes_the_choice(
    ome: Path, openfield_project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from napari_dlcflow.cli import main
    from napari_dlcflow.core.project.config import Project

    config = openfield_project / "config.yaml"
    assert main(["extract-frames", str(config), str(ome), "--n", "2"]) == 2
    err = capsys.readouterr().err
    assert str(ome) in err and "2 channels" in err and "--choice" in err
    assert main(["extract-frames", str(config), str(ome), "--n", "2", "--choice", "C1"]) == 0
    out = capsys.readouterr().out
    folder = openfield_project / "labeled-data" / "cells_C1"
    assert f"{folder}: 2 new frame(s) of 20" in out
    assert len(list(folder.glob("img*.png"))) == 2
    assert source_key(ome, "C1") in Project.open(config).videos


@pytest.mark.slow
@pytest.mark.xdist_group("trained")
def test_analysis_of_one_channel_through_the_engine_child(
    tmp_path_factory: pytest.TempPathFactory, tmp_path: Path
) -> None:
    from _dlcflow_trained import trained

    from napari_dlcflow.core.engine.analysis import AnalysisSpec, analyze
    from napari_dlcflow.core.predictions.analysis_files import read_meta, read_predictions

    config = Path(trained(tmp_path_factory).config)
    video = next((config.parent / "videos").glob("synthetic_animal.mp4"))
    with open_frames(video) as frames:
        gray = np.asarray(frames[0:24]).mean(axis=-1)
    c0 = (gray * 256).astype(np.uint16)  # the animal as 16-bit channel 0
    ome = write_ome_tiff(tmp_path / "cells.ome.tif", np.stack([c0, 65535 - c0], axis=1))
    key = source_key(ome, "C0")
    events: list[dict] = []
    spec = AnalysisSpec(config=str(config), videos=[key], device="cpu", batch_size=8)
    result = analyze(spec, on_event=events.append, timeout=600)
    assert result.ok, result.message
    h5 = Path(result.outputs[key])
    assert h5.parent == tmp_path and h5.name == f"cells_C0{result.scorer}.h5"
    assert read_predictions(h5).xy.shape[0] == 24
    meta = read_meta(h5.with_name(h5.stem + "_meta.pickle"))
    assert meta["dlcflow_source"] == {
        "path": str(ome),
        "choice": "C0",
        "pixel_size_um": pytest.approx(PX_UM),
        "frame_interval_s": pytest.approx(DT_S),
    }
    # DeepLabCut's own loop cannot read it: refused with the reason, nothing written
    events.clear()
    c1 = source_key(ome, "C1")
    refused = analyze(replace(spec, videos=[c1], engine="dlc"), on_event=events.append)
    assert not refused.ok and refused.status == {c1: "failed"}
    failed = next(e for e in events if e["event"] == "video_failed")
    assert "OpenCV" in failed["message"] and "engine='dlcflow'" in failed["message"]
    assert not list(tmp_path.glob("cells_C1*"))
