"""Batch work on a real Dask LocalCluster (issue 15): two worker processes, real videos.

Preprocessing of several synthetic videos, identical to a plain loop; a video that cannot be
decoded failing alone; a rerun doing only what is missing; a worker killed in the middle of a
task; cancel; filtering and labeled video of simulated predictions; and (slow) analysis with
the tiny trained model of the shared training run, checked against the truth.
"""

from __future__ import annotations

import os
import signal
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from numpy.testing import assert_array_equal

pytest.importorskip("distributed", reason="the batch extra (distributed) is not installed")

from napari_dlcflow.core.batch.cluster import is_address, local_layout, open_cluster
from napari_dlcflow.core.batch.profiles import ClusterProfile, load_profile
from napari_dlcflow.core.batch.runner import (
    SUMMARY_COLUMNS,
    run_batch,
    run_plain,
)
from napari_dlcflow.core.batch.tasks import VideoTask, preprocess_status
from napari_dlcflow.core.example.synthetic import (
    BODYPARTS,
    SyntheticSpec,
    read_truth,
    write_synthetic_example,
)
from napari_dlcflow.core.video.preprocess import (
    ContrastParams,
    PreprocessSpec,
    Roi,
)
from napari_dlcflow.core.video.probe import read_frames

SPEC = PreprocessSpec(roi=Roi(8, 8, 80, 80), contrast=ContrastParams(method="imagej"))


def _videos(folder: Path, n: int, frames: int = 40, size: int = 96) -> list[Path]:
    out = []
    for i in range(n):
        files = write_synthetic_example(
            folder / f"v{i}", SyntheticSpec(n_frames=frames, height=size, width=size, seed=i)
        )
        video = files.video.with_name(f"mouse{i}.mp4")
        files.video.rename(video)
        files.truth_csv.rename(video.with_name(f"mouse{i}_truth.csv"))
        out.append(video)
    return out


def _tasks(videos: list[Path], out: Path, spec: PreprocessSpec = SPEC) -> list[VideoTask]:
    return [VideoTask("preprocess", str(v), str(out), spec.to_dict()) for v in videos]


@pytest.fixture(scope="module")
def cluster():
    with open_cluster("local", n_workers=2, allowed_failures=2) as opened:
        yield opened


@pytest.fixture
def own_cluster():
    """A cluster of its own for a test that kills workers: on a loaded machine a nanny may give
    up restarting its worker, and the module's cluster would then run the later tests on one
    worker (a cancel test found its second task never started)."""
    with open_cluster("local", n_workers=2, allowed_failures=2) as opened:
        yield opened


@pytest.fixture(scope="module")
def videos(tmp_path_factory: pytest.TempPathFactory) -> list[Path]:
    return _videos(tmp_path_factory.mktemp("batch videos"), 4)


def test_importing_the_batch_layer_is_light() -> None:
    import subprocess
    import sys

    code = (
        "import sys, napari_dlcflow.core.batch.runner, napari_dlcflow.core.batch.cluster, "
        "napari_dlcflow.cli.batch; print([m for m in ('distributed', 'torch', 'deeplabcut', "
        "'qtpy', 'napari') if m in sys.modules])"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert out.stdout.strip() == "[]", out.stdout + out.stderr


def test_local_cluster_has_the_workers_asked_for(cluster) -> None:
    info = cluster.client.scheduler_info()["workers"].values()
    assert sorted(w["name"] for w in info) == ["cpu0", "cpu1"]
    assert all(w["nthreads"] == 1 for w in info)
    assert cluster.kind == "local" and "2 CPU worker(s)" in cluster.description
    # a real worker process each, not threads of this one
    pids = cluster.client.run(os.getpid)
    assert len(set(pids.values())) == 2 and os.getpid() not in pids.values()
    # the dashboard (bokeh) answers at the link the CLI and the dock show
    import urllib.request

    assert cluster.dashboard and cluster.dashboard.startswith("http://127.0.0.1:")
    with urllib.request.urlopen(cluster.dashboard, timeout=30) as page:
        assert page.status == 200 and b"Dask" in page.read()


def test_preprocess_batch_matches_plain_loop_and_a_bad_video_fails_alone(
    cluster, videos: list[Path], tmp_path: Path
) -> None:
    broken = tmp_path / "broken.mp4"
    broken.write_bytes(b"\x00\x00\x00\x18ftypmp42" + b"not a video" * 200)
    seen = []
    result = run_batch(
        _tasks([*videos, broken], tmp_path / "batch"),
        cluster.client,
        on_progress=lambda table, row: seen.append((row.video, row.state, row.frames_done)),
        summary_csv=tmp_path / "summary.csv",
        timeout=300,
    )
    states = {Path(r["video"]).name: r["state"] for r in result.rows}
    assert states == {**{v.name: "done" for v in videos}, "broken.mp4": "failed"}
    assert not result.ok and [Path(r["video"]) for r in result.failed()] == [broken]
    assert str(broken) in result.failed()[0]["error"]  # the reason names the file
    assert result.failed()[0]["output"] is None
    assert not list((tmp_path / "batch").glob("broken*"))
    assert {r["worker"] for r in result.rows} == {"cpu0", "cpu1"}
    assert all(r["frames"] == 40 and r["fps"] > 0 for r in result.rows[:4])
    # progress: each good video was seen running with frames done, then done
    for v in videos:
        mine = [s for s in seen if s[0] == str(v)]
        assert any(st == "running" and n > 0 for _, st, n in mine), mine
        assert mine[-1][1] == "done"
    # the summary CSV, written atomically
    table = pd.read_csv(tmp_path / "summary.csv")
    assert list(table.columns) == list(SUMMARY_COLUMNS)
    assert list(table["state"]) == ["done"] * 4 + ["failed"]
    assert not list(tmp_path.glob(".summary.csv.*"))
    # the same work in a plain loop gives the same videos, byte for byte
    plain = run_plain(_tasks(videos, tmp_path / "plain"))
    assert plain.ok
    for a, b in zip(result.rows[:4], plain.rows, strict=True):
        assert Path(a["output"]).read_bytes() == Path(b["output"]).read_bytes()
        assert Path(a["output"]).name == Path(b["output"]).name
    frames = read_frames(result.rows[0]["output"])
    assert frames.shape == (40, 80, 80, 3)


def test_rerun_does_only_what_is_missing(cluster, videos: list[Path], tmp_path: Path) -> None:
    out = tmp_path / "out"
    first = run_batch(_tasks(videos, out), cluster.client, timeout=300)
    assert first.ok
    outputs = [Path(r["output"]) for r in first.rows]
    kept = {p: p.stat().st_mtime_ns for p in outputs}
    outputs[1].unlink()  # missing
    with open(outputs[2], "r+b") as fh:  # cut short after its sidecar was written: partial
        fh.truncate(500)
    assert preprocess_status(videos[2], out, SPEC) == "partial"
    assert preprocess_status(videos[0], out, SPEC) == "done"
    again = run_batch(_tasks(videos, out), cluster.client, timeout=300)
    assert [r["state"] for r in again.rows] == ["skipped", "done", "done", "skipped"]
    assert outputs[0].stat().st_mtime_ns == kept[outputs[0]]
    assert outputs[3].stat().st_mtime_ns == kept[outputs[3]]
    assert read_frames(outputs[2]).shape[0] == 40
    assert again.rows[0]["frames"] == 40  # a skipped video still reports its frames
    # other settings are other work: nothing is skipped
    other = PreprocessSpec(roi=Roi(8, 8, 80, 80), contrast=ContrastParams(method="gamma"))
    assert preprocess_status(videos[0], out, other) == "partial"


def test_killed_worker_task_is_retried_elsewhere(own_cluster, tmp_path: Path) -> None:
    cluster = own_cluster
    (long_video,) = _videos(tmp_path / "long", 1, frames=400, size=160)
    spec = PreprocessSpec(contrast=ContrastParams(method="equalize"))
    out = tmp_path / "out"
    killed: list[int] = []

    def kill_once(table, row) -> None:
        if not killed and row.state == "running" and row.frames_done >= 20 and row.pid:
            os.kill(row.pid, signal.SIGKILL)
            killed.append(row.pid)

    before = set(cluster.client.run(os.getpid).values())
    result = run_batch(
        _tasks([long_video], out, spec), cluster.client, on_progress=kill_once, timeout=300
    )
    assert killed and killed[0] in before
    (row,) = result.rows
    assert row["state"] == "done", row
    assert row["attempts"] == 2
    assert read_frames(row["output"]).shape[0] == 400
    # no temporary file of the killed attempt is left, and the output is the plain one
    assert sorted(p.name for p in out.iterdir()) == [
        "mouse0_pre.mp4",
        "mouse0_pre.mp4.dlcflow.json",
    ]
    plain = run_plain(_tasks([long_video], tmp_path / "plain", spec))
    assert Path(plain.rows[0]["output"]).read_bytes() == Path(row["output"]).read_bytes()
    # the nanny started a new worker: the cluster still has two
    cluster.client.wait_for_workers(2, timeout=60)
    assert killed[0] not in cluster.client.run(os.getpid).values()


def test_a_task_that_keeps_losing_its_worker_fails_after_the_bound(
    own_cluster, tmp_path: Path
) -> None:
    cluster = own_cluster
    # long enough (800 frames of CLAHE, 2-3 s) that a kill sent at frame 5 lands before the
    # end even when a loaded machine reports progress late: 400 cropped frames (0.5 s) once
    # finished first, and the retry found the output complete
    (video,) = _videos(tmp_path / "long", 1, frames=800, size=160)
    slow = PreprocessSpec(contrast=ContrastParams(method="clahe"))
    ok_video = _videos(tmp_path / "ok", 1, frames=20, size=96)[0]
    killed: list[int] = []

    def kill_always(table, row) -> None:  # every attempt at the long video dies
        if row.video == str(video) and row.frames_done >= 5 and row.pid not in killed:
            killed.append(row.pid)
            os.kill(row.pid, signal.SIGKILL)

    out = tmp_path / "out"
    tasks = _tasks([video], out, slow) + _tasks([ok_video], tmp_path / "out-ok")
    result = run_batch(tasks, cluster.client, on_progress=kill_always, timeout=600)
    bad, good = result.rows
    assert len(killed) == 3  # allowed_failures=2: the third loss is final
    assert bad["state"] == "failed" and "KilledWorker" in bad["error"], bad
    # nothing that looks complete: only the killed attempts' hidden temporary files
    assert bad["output"] is None
    assert all(p.name.startswith(".") and p.name.endswith(".tmp") for p in out.iterdir())
    assert good["state"] == "done"  # the other video was not held up


def test_cancel_stops_running_and_queued_tasks(cluster, tmp_path: Path) -> None:
    # The two tasks that start first are long (2000 frames, several seconds each even on a fast
    # machine) so the cancel, which reaches a running task within about a second, always finds
    # them running: with 300-frame videos both could finish first on a quick CI runner. The long
    # video is synthesised once and copied; the two queued ones are short.
    import shutil

    (long_video,) = _videos(tmp_path / "long", 1, frames=2000, size=128)
    second = tmp_path / "long2" / "mouse1.mp4"
    second.parent.mkdir()
    shutil.copyfile(long_video, second)
    short = []
    for i, v in enumerate(_videos(tmp_path / "short", 2, frames=20, size=96), start=2):
        short.append(v.rename(v.with_name(f"mouse{i}.mp4")))
    vids = [long_video, second, *short]
    out = tmp_path / "out"
    stop = {"now": False}

    def watch(table, row) -> None:
        if row.state == "running" and row.frames_done >= 10:
            stop["now"] = True

    result = run_batch(
        _tasks(vids, out), cluster.client, on_progress=watch, should_stop=lambda: stop["now"]
    )
    assert result.cancelled
    states = [r["state"] for r in result.rows]
    # the two running tasks were stopped in the middle, not left to finish
    assert states[:2] == ["cancelled", "cancelled"], states
    assert [r["attempts"] for r in result.rows[:2]] == [1, 1], result.rows
    # at least one queued task never started
    assert any(r["state"] == "cancelled" and r["attempts"] == 0 for r in result.rows), states
    # only complete outputs exist; no temporary files
    done = {Path(r["output"]).name for r in result.rows if r["state"] == "done"}
    assert {p.name for p in out.glob("*.mp4")} == done if out.exists() else not done
    assert not list(out.glob(".*")) if out.exists() else True


def test_filter_and_labeled_video_batches(cluster, tmp_path: Path) -> None:
    from napari_dlcflow.core.predictions.analysis_files import (
        filtered_path,
        read_predictions,
        scorer_name,
        simulate_predictions,
        write_predictions,
    )

    scorer = scorer_name("resnet_50", "synthetic", "Dec2", 1, "best-3")
    vids = _videos(tmp_path, 2, frames=30, size=96)
    h5s = []
    for i, v in enumerate(vids):
        truth, _ = read_truth(v.with_name(f"{v.stem}_truth.csv"))
        pred = simulate_predictions(truth, BODYPARTS, scorer=scorer, noise_px=1.0, seed=i)
        h5 = v.with_name(f"{v.stem}{scorer}.h5")
        write_predictions(pred, h5)
        h5s.append(h5)
    tasks = [
        VideoTask("filter", str(h), params={"method": "median", "window": 5, "pcutoff": 0.6})
        for h in h5s
    ]
    res = run_batch(tasks, cluster.client, timeout=300)
    assert [r["state"] for r in res.rows] == ["done", "done"], res.rows
    for r, h in zip(res.rows, h5s, strict=True):
        assert Path(r["output"]) == filtered_path(h)
        lk = read_predictions(h).likelihood
        assert r["mean_likelihood"] == pytest.approx(float(np.nanmean(lk)), abs=1e-4)
        assert r["below_pcutoff"] == pytest.approx(float(np.mean(~(lk >= 0.6))), abs=1e-4)
        assert r["frames"] == 30
    assert [r["state"] for r in run_batch(tasks, cluster.client).rows] == ["skipped"] * 2
    labeled = [
        VideoTask("labeled", str(v), params={"filtered": True, "pcutoff": 0.6, "codec": "mjpeg"})
        for v in vids
    ]
    res = run_batch(labeled, cluster.client, timeout=300)
    assert [r["state"] for r in res.rows] == ["done", "done"], res.rows
    for r in res.rows:
        assert r["output"].endswith("_filtered_p60_labeled.mp4")
        assert read_frames(r["output"]).shape == (30, 96, 96, 3)
    assert [r["state"] for r in run_batch(labeled, cluster.client).rows] == ["skipped"] * 2


def test_one_worker_per_gpu_each_seeing_its_own(tmp_path: Path) -> None:
    assert [w["env"] for w in local_layout(4, ["0", "1"])] == [
        {"CUDA_VISIBLE_DEVICES": "0"},
        {"CUDA_VISIBLE_DEVICES": "1"},
    ]
    # the real worker processes see only their own card's index
    with open_cluster("local", gpus=["0", "1"]) as opened:
        seen = opened.client.run(lambda: os.environ.get("CUDA_VISIBLE_DEVICES"))
        names = {w["name"]: a for a, w in opened.client.scheduler_info()["workers"].items()}
        assert {n: seen[a] for n, a in names.items()} == {"gpu0": "0", "gpu1": "1"}
        assert "2 GPU worker(s)" in opened.description


def test_scheduler_by_address(cluster) -> None:
    address = cluster.client.scheduler.address
    assert is_address(address) and is_address("lab-server:8786")
    assert not is_address("gpu-short") and not is_address("profile.yaml")
    with open_cluster(address) as remote:
        assert remote.kind == "address" and remote.cluster is None
        assert "2 worker(s)" in remote.description
    # closing our client left the cluster running for its owner
    assert len(cluster.client.scheduler_info()["workers"]) == 2
    with (
        pytest.raises(RuntimeError, match="cannot reach the Dask scheduler"),
        open_cluster("tcp://127.0.0.1:1", timeout=2),
    ):
        pass


def test_profiles_from_sidecar_and_file(tmp_path: Path) -> None:
    from napari_dlcflow.core.project.sidecar import Sidecar

    side = Sidecar(
        batch_clusters={
            "gpu-short": {
                "queue": "gpu",
                "cores": 4,
                "memory": "16GB",
                "gpus": 1,
                "walltime": "02:00:00",
                "prologue": ["module load cuda"],
                "maximum_jobs": 8,
            }
        }
    )
    side.save(tmp_path)
    prof = load_profile("gpu-short", tmp_path / "config.yaml")
    assert prof == ClusterProfile(
        name="gpu-short",
        queue="gpu",
        cores=4,
        memory="16GB",
        gpus=1,
        walltime="02:00:00",
        prologue=["module load cuda"],
        maximum_jobs=8,
    )
    kw = prof.jobqueue_kwargs()
    assert kw["job_extra_directives"] == ["--gres=gpu:1"] and kw["queue"] == "gpu"
    assert kw["job_script_prologue"] == ["module load cuda"] and kw["processes"] == 1
    with pytest.raises(ValueError, match=r"dlcflow\.yaml.*known: gpu-short"):
        load_profile("nope", tmp_path)
    # an empty profile table is not written at all
    Sidecar().save(tmp_path / "..")
    assert "batch_clusters" not in Sidecar.path_for(tmp_path / "..").read_text()

    f = tmp_path / "pbs.yaml"
    f.write_text("scheduler: pbs\nqueue: short\ncores: 2\naccount: lab42\n")
    p = load_profile(f)
    assert (p.name, p.scheduler, p.cores, p.jobqueue_kwargs()["account"]) == (
        "pbs",
        "pbs",
        2,
        "lab42",
    )
    f.write_text("scheduler: slurm\nqeue: short\n")
    with pytest.raises(ValueError, match=r"pbs\.yaml.*unknown key\(s\) qeue"):
        load_profile(f)
    f.write_text("scheduler: condor\n")
    with pytest.raises(ValueError, match="scheduler must be one of"):
        load_profile(f)
    with pytest.raises(ValueError, match="does not exist"):
        load_profile(tmp_path / "missing.yaml")


def test_cli_preprocess_folder_on_a_local_cluster(videos: list[Path], tmp_path: Path) -> None:
    import subprocess
    import sys

    folder = tmp_path / "in"
    folder.mkdir()
    for v in videos[:3]:
        (folder / v.name).symlink_to(v)
    (folder / "notes.txt").write_text("not matched by the glob")
    (folder / "broken.mp4").write_bytes(b"garbage" * 300)
    out = tmp_path / "out"
    cmd = [sys.executable, "-m", "napari_dlcflow", "preprocess", str(folder), "--contrast"]
    cmd += ["none", "--cluster", "local", "--workers", "2", "--out", str(out)]
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=300)
    assert done.returncode == 1, done.stdout + done.stderr  # one video failed
    assert "local cluster: 2 CPU worker(s)" in done.stdout
    assert "3/4 videos complete" in done.stdout
    assert f"failed: {folder / 'broken.mp4'}" in done.stderr
    assert sorted(p.name for p in out.glob("*.mp4")) == [
        "mouse0_pre.mp4",
        "mouse1_pre.mp4",
        "mouse2_pre.mp4",
    ]
    table = pd.read_csv(out / "batch-summary.csv")
    assert sorted(table["state"]) == ["done", "done", "done", "failed"]
    # the rerun skips what is complete
    again = subprocess.run(cmd, capture_output=True, text=True, timeout=300)
    table = pd.read_csv(out / "batch-summary.csv")
    assert sorted(table["state"]) == ["failed", "skipped", "skipped", "skipped"], again.stdout
    # a folder without a match and a missing input are named
    empty = tmp_path / "empty"
    empty.mkdir()
    argv = ["analyze", "config.yaml", str(empty), "--cluster", "local"]
    bad = subprocess.run(
        [sys.executable, "-m", "napari_dlcflow", *argv],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert bad.returncode == 2 and f"no file matching '*.mp4' in folder {empty}" in bad.stderr


# ------------------------------------------------------------------ with a trained network


@pytest.mark.slow
@pytest.mark.xdist_group("trained")
def test_analysis_batch_on_two_workers_against_truth(
    cluster, tmp_path_factory: pytest.TempPathFactory, tmp_path: Path
) -> None:
    import shutil

    from _dlcflow_trained import trained

    from napari_dlcflow.core.engine.analysis import video_status
    from napari_dlcflow.core.predictions.analysis_files import read_predictions

    run = trained(tmp_path_factory)
    config = Path(run.config)
    # copies of the video the tiny model was trained on, each with its truth beside it
    source = next((config.parent / "videos").glob("synthetic_animal.mp4"))
    truth_csv = next(config.parent.parent.glob("example/synthetic_animal_truth.csv"))
    (tmp_path / "videos").mkdir()
    vids = []
    for i in range(3):
        vids.append(Path(shutil.copy(source, tmp_path / "videos" / f"mouse{i}.mp4")))
        shutil.copy(truth_csv, tmp_path / "videos" / f"mouse{i}_truth.csv")
    n = len(read_truth(truth_csv)[0])
    params = {"config": str(run.config), "device": "cpu", "batch_size": 8}
    tasks = [VideoTask("analyze", str(v), str(tmp_path / "out"), params) for v in vids]
    result = run_batch(tasks, cluster.client, summary_csv=tmp_path / "summary.csv", timeout=900)
    assert result.ok, result.rows
    assert {r["worker"] for r in result.rows} == {"cpu0", "cpu1"}
    for r, v in zip(result.rows, vids, strict=True):
        truth, _ = read_truth(v.with_name(f"{v.stem}_truth.csv"))
        pred = read_predictions(r["output"])
        assert pred.n_frames == r["frames"] == n
        err = float(np.nanmedian(np.hypot(*(pred.xy - truth).transpose(2, 0, 1))))
        print(f"{v.name}: median error {err:.2f} px, {r['fps']} frames/s on {r['worker']}")
        assert err < 6.0
        lk = pred.likelihood
        assert r["mean_likelihood"] == pytest.approx(float(np.nanmean(lk)), abs=1e-4)
        assert 0.0 <= r["below_pcutoff"] <= 1.0
        scorer = Path(r["output"]).stem.removeprefix(v.stem)
        assert video_status(v, scorer, tmp_path / "out") == "done"
    table = pd.read_csv(tmp_path / "summary.csv")
    assert_array_equal(table["frames"], [n, n, n])
    # DeepLabCut ran in the analysis children, never in the worker processes
    import sys

    loaded = cluster.client.run(lambda: [m for m in ("deeplabcut", "torch") if m in sys.modules])
    assert all(v == [] for v in loaded.values()), loaded
    again = run_batch(tasks, cluster.client, timeout=900)
    assert [r["state"] for r in again.rows] == ["skipped"] * 3
