"""Video analysis: completion markers, partial-output detection, and real DLC runs."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from numpy.testing import assert_array_equal

from napari_dlcflow.core.engine.analysis import (
    HEAP_ENV,
    AnalysisSpec,
    IncompleteAnalysisError,
    analyze,
    count_frames,
    mark_complete,
    marker_path,
    video_status,
)
from napari_dlcflow.core.example.synthetic import BODYPARTS, read_truth
from napari_dlcflow.core.layers.data import predictions_layers
from napari_dlcflow.core.predictions.analysis_files import (
    output_files,
    read_predictions,
    simulate_predictions,
    write_predictions,
)

SCORER = "DLC_Resnet50_syntheticNov24shuffle1_snapshot_best-10"


def _fake_output(video: Path, n_rows: int) -> Path:
    truth = np.zeros((n_rows, len(BODYPARTS), 2))
    pred = simulate_predictions(truth, BODYPARTS, scorer=SCORER)
    h5 = output_files(video, SCORER)["h5"]
    write_predictions(pred, h5)
    return h5


def test_count_frames(small_video: Path) -> None:
    assert count_frames(small_video) == 40


def test_status_needs_our_marker_matching_a_full_h5(small_video: Path, tmp_path: Path) -> None:
    video = tmp_path / "my video & co #2.mp4"
    shutil.copy(small_video, video)
    assert video_status(video, SCORER) == "missing"
    # DLC's pickle alone (what DLC itself takes as "already analyzed"): partial for us
    full = output_files(video, SCORER)["full"]
    full.write_bytes(b"\x80\x04N.")
    assert video_status(video, SCORER) == "partial"
    full.unlink()
    # an h5 with fewer rows than frames: never marked complete
    _fake_output(video, 25)
    assert video_status(video, SCORER) == "partial"
    with pytest.raises(IncompleteAnalysisError, match=r"25 rows but my video & co #2\.mp4 has 40"):
        mark_complete(video, SCORER)
    assert not marker_path(video, SCORER).exists()
    # a complete h5: marked, then done
    h5 = _fake_output(video, 40)
    marker = mark_complete(video, SCORER)
    assert marker == tmp_path / f"my video & co #2{SCORER}.dlcflow-analysis.json"
    record = json.loads(marker.read_text())
    assert record["rows"] == record["frames"] == 40
    assert video_status(video, SCORER) == "done"
    # a marker an earlier version wrote under the preprocessing sidecar's suffix still counts
    legacy = tmp_path / f"my video & co #2{SCORER}.dlcflow.json"
    marker.rename(legacy)
    assert video_status(video, SCORER) == "done"
    legacy.rename(marker)
    # the video replaced by another under the same name: analysed again; a copy (same size,
    # new modification time) is not
    original = video.read_bytes()
    os.utime(video, ns=(1, 1))
    assert video_status(video, SCORER) == "done"
    video.write_bytes(original + b"\0")
    assert video_status(video, SCORER) == "partial"
    video.write_bytes(original)
    assert video_status(video, SCORER) == "done"
    # the h5 rewritten a second later (a later run killed while writing): no longer done
    _fake_output(video, 40)
    os.utime(h5, ns=(record["h5_mtime_ns"] + 10**9, record["h5_mtime_ns"] + 10**9))
    assert video_status(video, SCORER) == "partial"
    h5.write_bytes(h5.read_bytes()[:1000])  # truncated
    assert video_status(video, SCORER) == "partial"
    with pytest.raises(IncompleteAnalysisError, match="cannot be read"):
        mark_complete(video, SCORER)
    # another destination folder keeps its own status
    dest = tmp_path / "out"
    dest.mkdir()
    assert video_status(video, SCORER, dest) == "missing"


def test_output_of_another_snapshot_with_the_same_name_is_stale(
    small_video: Path, tmp_path: Path
) -> None:
    """Regression: DLC's scorer name has no iteration, so iteration 1's model writes where
    iteration 0's did; that older output must not be taken as the new model's."""
    video = tmp_path / "v.mp4"
    shutil.copy(small_video, video)
    _fake_output(video, 40)
    old = "/p/dlc-models-pytorch/iteration-0/x/train/snapshot-020.pt"
    new = "/p/dlc-models-pytorch/iteration-1/x/train/snapshot-020.pt"
    mark_complete(video, SCORER, snapshot=old)
    assert video_status(video, SCORER, snapshot=old) == "done"
    assert video_status(video, SCORER, snapshot=new) == "stale"
    assert video_status(video, SCORER) == "done"  # model unknown: trust the marker


def test_cuda_asked_without_gpu_is_refused_before_the_job(small_video: Path) -> None:
    torch = pytest.importorskip("torch")
    if torch.cuda.is_available():
        pytest.skip("this machine has a CUDA GPU")
    result = analyze(
        AnalysisSpec(config="nowhere/config.yaml", videos=[str(small_video)], device="cuda"),
        timeout=120,
    )
    assert not result.ok
    assert "no CUDA GPU" in result.message
    assert result.status == {str(small_video): "not run"}


_BATCHES = """
import resource, numpy as np
a = np.ones(25_000_000, dtype=np.float32); del a  # the first batch: the heap grows once
before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
for _ in range(10):  # then a model's activation buffers, batch after batch
    a = np.empty(25_000_000, dtype=np.float32); a.fill(1.0); del a
print(resource.getrusage(resource.RUSAGE_SELF).ru_minflt - before)
"""


def _page_faults(extra: dict[str, str]) -> int:
    from napari_dlcflow.core.jobs import child_env

    env = {k: v for k, v in child_env(extra).items() if not k.startswith("MALLOC_")}
    env.update(extra)
    out = subprocess.run(
        [sys.executable, "-c", _BATCHES], env=env, capture_output=True, text=True, check=True
    )
    return int(out.stdout.split()[-1])


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="glibc's allocator settings")
def test_analysis_child_heap_does_not_page_fault_batch_after_batch() -> None:
    """The analysis child's allocator settings keep freed 100 MB buffers for the next batch:
    no page faults after the first, where glibc's defaults (and ``MALLOC_MMAP_MAX_=0`` alone,
    which still trims the heap back to the kernel) fault on every batch."""
    default = _page_faults({})
    mmap_only = _page_faults({"MALLOC_MMAP_MAX_": "0"})
    ours = _page_faults(HEAP_ENV)
    # 4 KB pages fault ~900 times a batch here; with transparent huge pages always on, ~50
    assert default >= 100 and mmap_only >= 100, (default, mmap_only)
    assert ours * 20 < min(default, mmap_only), (ours, default, mmap_only)


# ------------------------------------------------------------------ with a trained network


@pytest.fixture(scope="module")
def model(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, np.ndarray]:
    """The synthetic project trained by the training tests' shared run (issue #8)."""
    from _dlcflow_trained import trained

    run = trained(tmp_path_factory)
    config = Path(run.config)
    video = next((config.parent / "videos").glob("synthetic_animal.mp4"))
    truth_csv = next(config.parent.parent.glob("example/synthetic_animal_truth.csv"))
    truth, _ = read_truth(truth_csv)
    return config, video, truth


@pytest.mark.slow
@pytest.mark.xdist_group("trained")
def test_analyze_synthetic_video_against_truth(
    model: tuple[Path, Path, np.ndarray], tmp_path: Path
) -> None:
    config, video, truth = model
    events: list[dict] = []
    progress: list[tuple[int, int, int, int]] = []
    spec = AnalysisSpec(
        config=str(config),
        videos=[str(video)],
        device="cpu",
        save_as_csv=True,
        destfolder=str(tmp_path),
        batch_size=8,
    )
    result = analyze(
        spec, on_event=events.append, on_progress=lambda *a: progress.append(a), timeout=600
    )
    assert result.ok, result.message
    assert result.status == {str(video): "done"}
    scorer = result.scorer
    assert scorer and scorer.startswith("DLC_Resnet") and "shuffle1_snapshot_" in scorer
    # the child ran with the allocator settings that keep its heap (no page faults per batch)
    assert next(e for e in events if e["event"] == "scorer")["heap"] == HEAP_ENV
    files = output_files(video, scorer, tmp_path)
    h5 = files["h5"]
    assert result.outputs[str(video)] == str(h5)
    assert all(files[k].is_file() for k in ("h5", "csv", "meta", "full"))
    # DLC's layout: key, table format, integer index, one row per frame, x/y/likelihood
    with pd.HDFStore(h5, "r") as store:
        assert store.keys() == ["/df_with_missing"]
        assert store.get_storer("df_with_missing").is_table
    df = pd.read_hdf(h5)
    assert list(df.columns.names) == ["scorer", "bodyparts", "coords"]
    assert list(df.columns.get_level_values("bodyparts")[::3]) == list(BODYPARTS)
    assert list(df.columns.get_level_values("coords")[:3]) == ["x", "y", "likelihood"]
    assert_array_equal(df.index, np.arange(count_frames(video)))
    pred = read_predictions(h5)
    assert pred.meta["nframes"] == len(df) == len(truth)
    err = np.hypot(*(pred.xy - truth).transpose(2, 0, 1))
    median_error = float(np.nanmedian(err))
    print(f"median error against truth: {median_error:.2f} px")
    assert median_error < 6.0
    assert video_status(video, scorer, tmp_path) == "done"
    assert progress and progress[0][:2] == (0, 1)
    # the overlay of a file DeepLabCut wrote: the points are its values
    points, kw, _ = predictions_layers(pred, trails=False)[-1]
    frame = 17
    sel = points[:, 0] == frame
    bps = kw["features"]["bodypart"][sel]
    assert_array_equal(points[sel, 2], [df.loc[frame, (scorer, b, "x")] for b in bps])
    assert_array_equal(points[sel, 1], [df.loc[frame, (scorer, b, "y")] for b in bps])

    # a rerun skips the complete video
    again = analyze(spec, timeout=600)
    assert again.ok and again.status == {str(video): "skipped"}

    # DLC's own "already analyzed" test is the _full.pickle; a killed h5 write leaves that
    # pickle and a broken h5. We redo the video and never report it as done.
    marker_path(video, scorer, tmp_path).unlink()
    h5.write_bytes(h5.read_bytes()[:2000])
    assert files["full"].is_file()
    assert video_status(video, scorer, tmp_path) == "partial"
    seen: list[dict] = []
    redo = analyze(spec, on_event=seen.append, timeout=600)
    assert redo.ok and redo.status == {str(video): "done"}
    start = next(e for e in seen if e["event"] == "video_start")
    assert start["redo"] is True
    assert len(pd.read_hdf(h5)) == len(truth)


@pytest.mark.slow
@pytest.mark.xdist_group("trained")
def test_killed_analysis_is_redone(model: tuple[Path, Path, np.ndarray], tmp_path: Path) -> None:
    config, video, truth = model
    spec = AnalysisSpec(
        config=str(config),
        videos=[str(video)],
        device="cpu",
        destfolder=str(tmp_path),
        batch_size=1,
    )
    started = {"frames": 0}

    def progress(i: int, n: int, done: int, total: int) -> None:
        started["frames"] = max(started["frames"], done)

    killed = analyze(
        spec, on_progress=progress, should_stop=lambda: started["frames"] > 0, timeout=600
    )
    assert not killed.ok
    assert killed.status == {str(video): "not run"}
    assert started["frames"] > 0
    scorer = killed.scorer
    assert scorer
    assert video_status(video, scorer, tmp_path) != "done"
    assert not marker_path(video, scorer, tmp_path).exists()
    rerun = analyze(spec, timeout=600)
    assert rerun.ok and rerun.status == {str(video): "done"}
    assert len(read_predictions(output_files(video, scorer, tmp_path)["h5"]).data) == len(truth)


def test_cli_analyze_reports_the_refusal(small_video: Path, tmp_path: Path) -> None:
    import subprocess
    import sys

    torch = pytest.importorskip("torch")
    if torch.cuda.is_available():
        pytest.skip("this machine has a CUDA GPU")
    out = subprocess.run(
        [
            sys.executable,
            "-m",
            "napari_dlcflow",
            "analyze",
            str(tmp_path / "config.yaml"),
            str(small_video),
            "--device",
            "cuda",
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert out.returncode == 1
    assert "no CUDA GPU" in out.stderr
    assert f"{small_video.name}: not run" in out.stderr
