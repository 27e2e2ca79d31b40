"""Our analysis engine (core/engine/inference.py) against DeepLabCut's ``analyze_videos``.

The slow tests run both engines through :func:`analyze` (each in its child process) on the
snapshot of the shared trained fixture and compare every frame and body part.
"""

from __future__ import annotations

import json
import os
import pickle
import subprocess
import sys
from pathlib import Path

import av
import numpy as np
import pandas as pd
import pytest
from numpy.testing import assert_array_equal

from napari_dlcflow.core.engine.analysis import (
    MARKER_SUFFIX,
    AnalysisSpec,
    analyze,
    marker_path,
    video_status,
)
from napari_dlcflow.core.engine.inference import crop_box
from napari_dlcflow.core.predictions.analysis_files import output_files

TOL_PX = 0.01
TOL_LIKELIHOOD = 1e-4


# ---------------------------------------------------------------------------- no model needed


def test_crop_box_is_dlcs_arithmetic() -> None:
    # DLC keeps the box relative to the frame and converts back with int(): 29/50*50 < 29
    assert crop_box([29, 40, 7, 59], 50, 60) == (28, 40, 7, 59)
    assert crop_box([0, 64, 10, 90], 128, 96) == (0, 64, 10, 90)
    assert crop_box([10, 500, 0, 96], 128, 96) == (10, 128, 0, 96)  # clipped to the frame
    with pytest.raises(ValueError, match="empty"):
        crop_box([40, 40, 0, 10], 128, 96)
    with pytest.raises(ValueError, match="four values"):
        crop_box([0, 10, 0], 128, 96)


def test_spec_engine_choice_round_trips() -> None:
    spec = AnalysisSpec(config="c.yaml", videos=["v.mp4"])
    assert spec.engine == "dlcflow" and spec.fast is False
    again = AnalysisSpec.from_json(AnalysisSpec(**{**spec.__dict__, "fast": True}).to_json())
    assert (again.engine, again.fast) == ("dlcflow", True)
    assert AnalysisSpec.from_json(json.dumps({"config": "c", "videos": []})).engine == "dlcflow"
    with pytest.raises(ValueError, match="engine must be one of dlcflow, dlc"):
        AnalysisSpec(config="c.yaml", videos=[], engine="tensorflow")
    with pytest.raises(ValueError, match="fast mode"):
        AnalysisSpec(config="c.yaml", videos=[], engine="dlc", fast=True)


# ------------------------------------------------------------------ with a trained network


@pytest.fixture(scope="module")
def model(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """The synthetic project trained by the training tests' shared run.

    ``DLCFLOW_TRAINED_CONFIG`` names an already trained project of the same recipe instead
    (the ``config.yaml`` of a ``_dlcflow_trained`` run, or of ``bench_analysis.py``'s model),
    to rerun these tests without 15 epochs of training.
    """
    given = os.environ.get("DLCFLOW_TRAINED_CONFIG")
    if given:
        config = Path(given)
    else:
        from _dlcflow_trained import trained

        config = Path(trained(tmp_path_factory).config)
    return config, next((config.parent / "videos").glob("synthetic_animal.mp4"))


def _analyze(config: Path, video: Path, dest: Path, **kw: object) -> tuple[object, list[dict]]:
    events: list[dict] = []
    spec = AnalysisSpec(
        config=str(config),
        videos=[str(video)],
        device="cpu",
        destfolder=str(dest),
        batch_size=8,
        **kw,  # type: ignore[arg-type]
    )
    result = analyze(spec, on_event=events.append, timeout=900)
    assert result.ok, result.message
    assert result.status == {str(video): "done"}
    return result, events


def _values(h5: Path) -> tuple[pd.DataFrame, np.ndarray]:
    df = pd.read_hdf(h5)
    return df, df.to_numpy().reshape(len(df), -1, 3)


def _compare(ours: Path, dlc: Path) -> tuple[float, float, float]:
    """Max and median distance (px) and max likelihood difference; asserts the layout."""
    with pd.HDFStore(ours, "r") as store:
        assert store.keys() == ["/df_with_missing"]
        assert store.get_storer("df_with_missing").is_table
    a, va = _values(ours)
    b, vb = _values(dlc)
    assert a.columns.equals(b.columns)
    assert_array_equal(a.index, b.index)
    dist = np.hypot(*(va[..., :2] - vb[..., :2]).transpose(2, 0, 1))
    dp = np.abs(va[..., 2] - vb[..., 2])
    return float(dist.max()), float(np.median(dist)), float(dp.max())


def _meta(h5: Path) -> dict:
    with h5.with_name(h5.stem + "_meta.pickle").open("rb") as f:
        return pickle.load(f)["data"]


@pytest.fixture(scope="module")
def dlc_full(model: tuple[Path, Path], tmp_path_factory: pytest.TempPathFactory) -> Path:
    """DeepLabCut's own analysis of the video (``--engine dlc``): the reference h5."""
    config, video = model
    dest = tmp_path_factory.mktemp("dlc-full")
    result, events = _analyze(config, video, dest, engine="dlc", save_as_csv=True)
    assert next(e for e in events if e["event"] == "scorer")["engine"] == "dlc"
    return Path(result.outputs[str(video)])


@pytest.mark.slow
@pytest.mark.xdist_group("trained")
def test_fp32_equals_dlc_analyze_videos(
    model: tuple[Path, Path], dlc_full: Path, tmp_path: Path
) -> None:
    config, video = model
    result, events = _analyze(config, video, tmp_path, save_as_csv=True)
    assert next(e for e in events if e["event"] == "scorer")["engine"] == "dlcflow"
    frames = [e for e in events if e["event"] == "frames"]
    assert frames and frames[-1]["done"] == frames[-1]["total"] == 80
    assert all(e["fps"] > 0 for e in frames)
    ours = Path(result.outputs[str(video)])
    assert ours.name == dlc_full.name  # same scorer, same file name
    max_px, median_px, max_p = _compare(ours, dlc_full)
    print(f"fp32 vs DLC: max {max_px:.2e} px, median {median_px:.2e} px, likelihood {max_p:.2e}")
    assert max_px < TOL_PX and max_p < TOL_LIKELIHOOD
    # the same files beside it, read the same way by DLC's tools
    names = {p.name for p in tmp_path.iterdir() if not p.name.endswith(MARKER_SUFFIX)}
    assert names == {p.name for p in dlc_full.parent.iterdir() if p.suffix != ".json"}
    mine, theirs = _meta(ours), _meta(dlc_full)
    assert mine.keys() == theirs.keys()
    for key in ("Scorer", "fps", "batch_size", "frame_dimensions", "nframes", "cropping"):
        assert mine[key] == theirs[key], key
    assert mine["cropping_parameters"] == theirs["cropping_parameters"]
    files = output_files(video, result.scorer, tmp_path)
    with files["full"].open("rb") as f:
        full = pickle.load(f)
    with output_files(video, result.scorer, dlc_full.parent)["full"].open("rb") as f:
        full_dlc = pickle.load(f)
    assert full.keys() == full_dlc.keys()
    assert full["metadata"]["nframes"] == full_dlc["metadata"]["nframes"] == 80
    assert pd.read_csv(files["csv"], header=[0, 1, 2], index_col=0).shape == (80, 33)
    record = json.loads(marker_path(video, result.scorer, tmp_path).read_text())
    assert (record["engine"], record["precision"], record["preprocess"]) == (
        "dlcflow",
        "fp32",
        "ours",
    )
    assert record["rows"] == record["decoded_frames"] == 80
    # what was held to DLC's predictions includes Winograd: the 3x3 layers of 256 and 512
    # channels of the resnet18 backbone (core/engine/winograd.py)
    assert record["winograd_layers"] == 7
    # a rerun skips it, as with DLC's loop
    again = analyze(
        AnalysisSpec(config=str(config), videos=[str(video)], destfolder=str(tmp_path))
    )
    assert again.ok and again.status == {str(video): "skipped"}


@pytest.mark.slow
@pytest.mark.xdist_group("trained")
def test_crop_equals_dlc_with_cropping(model: tuple[Path, Path], tmp_path: Path) -> None:
    config, video = model
    crop = [13, 107, 9, 121]
    _, _ = _analyze(config, video, tmp_path / "dlc", engine="dlc", cropping=crop)
    result, _ = _analyze(config, video, tmp_path / "ours", cropping=crop)
    ours = Path(result.outputs[str(video)])
    dlc = tmp_path / "dlc" / ours.name
    max_px, median_px, max_p = _compare(ours, dlc)
    print(f"crop vs DLC: max {max_px:.2e} px, median {median_px:.2e} px, likelihood {max_p:.2e}")
    assert max_px < TOL_PX and max_p < TOL_LIKELIHOOD
    mine, theirs = _meta(ours), _meta(dlc)
    assert mine["cropping"] is theirs["cropping"] is True
    assert mine["cropping_parameters"] == theirs["cropping_parameters"] == crop
    assert mine["frame_dimensions"] == theirs["frame_dimensions"] == (94, 112)


@pytest.mark.slow
@pytest.mark.xdist_group("trained")
def test_header_that_lies_is_analysed_frame_by_frame(
    model: tuple[Path, Path], dlc_full: Path, tmp_path: Path
) -> None:
    from test_video import remux  # tests/core/test_video.py: an ``ffmpeg -c copy``

    config, video = model
    avi = remux(video, tmp_path / "synthetic_animal.avi")
    with av.open(str(avi)) as c:
        claimed = int(c.streams.video[0].frames)
    assert claimed > 80  # AVI with B-frames: the header counts far more frames than there are
    result, _ = _analyze(config, avi, tmp_path / "out")
    h5 = Path(result.outputs[str(avi)])
    record = json.loads(marker_path(avi, result.scorer, tmp_path / "out").read_text())
    assert record["rows"] == record["frames"] == record["decoded_frames"] == 80
    assert record["header_frames"] == claimed
    assert _meta(h5)["nframes"] == 80
    assert _meta(h5)["fps"] == pytest.approx(30.0)
    # the same decoded frames as the MP4, so DLC's predictions on the MP4
    max_px, _, max_p = _compare(h5, dlc_full)
    assert max_px < TOL_PX and max_p < TOL_LIKELIHOOD


@pytest.mark.slow
@pytest.mark.xdist_group("trained")
def test_cancel_mid_video_leaves_nothing_that_looks_complete(
    model: tuple[Path, Path], tmp_path: Path
) -> None:
    from napari_dlcflow.core.example.synthetic import SyntheticSpec, write_synthetic_example

    config, _ = model
    # long enough that the child cannot finish before the parent acts on its first report
    spec_video = SyntheticSpec(n_frames=400, height=256, width=256, seed=11)
    video = write_synthetic_example(tmp_path / "video", spec_video).video
    dest = tmp_path / "out"
    dest.mkdir()
    seen = {"done": 0, "total": 0}

    def progress(i: int, n: int, done: int, total: int) -> None:
        seen["done"], seen["total"] = max(seen["done"], done), total

    spec = AnalysisSpec(
        config=str(config),
        videos=[str(video)],
        device="cpu",
        destfolder=str(dest),
        batch_size=1,
    )
    killed = analyze(spec, on_progress=progress, should_stop=lambda: seen["done"] > 0, timeout=600)
    assert killed.status == {str(video): "not run"} and not killed.ok
    assert 0 < seen["done"] < seen["total"] == 400
    scorer = killed.scorer
    assert scorer and video_status(video, scorer, dest) == "missing"
    assert list(dest.iterdir()) == []  # nothing is written before the last frame
    # (redoing it: tests/core/test_analysis.py::test_killed_analysis_is_redone, this engine)


_REPORT = """
import json, sys
from napari_dlcflow.core.engine.inference import fast_mode_report, load_model
model = load_model(sys.argv[1], device="cpu")
print(json.dumps(fast_mode_report(model, max_images=6).as_dict()))
"""


@pytest.mark.slow
@pytest.mark.xdist_group("trained")
def test_fast_mode_reports_how_far_it_moves(model: tuple[Path, Path], tmp_path: Path) -> None:
    config, video = model
    # the report itself, on 6 of the project's labeled frames (in a child: it imports DLC)
    out = subprocess.run(
        [sys.executable, "-c", _REPORT, str(config)],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert out.returncode == 0, out.stderr[-2000:]
    report = json.loads(out.stdout.strip().splitlines()[-1])
    assert report["images"] == 6 and report["keypoints"] == 6 * 11
    assert 0 <= report["median_px"] <= report["p99_px"] <= report["max_px"]
    assert 0 <= report["within_1px"] <= 1 and report["max_likelihood"] >= 0
    assert np.isfinite(report["error_fp32_px"]) and np.isfinite(report["error_fast_px"])
    assert report["precision"] == "bf16"
    # asked for through analyze: a report first, or (a CPU without bf16) fp32 and a reason
    result, events = _analyze(config, video, tmp_path, fast=True)
    kinds = {e["event"] for e in events}
    record = json.loads(marker_path(video, result.scorer, tmp_path).read_text())
    if "fast_unavailable" in kinds:
        assert "fast_report" not in kinds and record["precision"] == "fp32"
        assert (
            "no native bf16"
            in next(e for e in events if e["event"] == "fast_unavailable")["message"]
        )
    else:
        fast = next(e for e in events if e["event"] == "fast_report")
        assert fast["images"] == 40 and "within 1 px of fp32" in fast["message"]
        assert record["precision"] == "bf16"
