"""Training jobs: spec, snapshots, death detection, and a real DeepLabCut run on the CPU."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
import zipfile
from pathlib import Path

import pytest
from _dlcflow_trained import CANCEL_AFTER, EPOCHS, trained

from napari_dlcflow.core.engine.devices import (
    Device,
    device_choices,
    is_out_of_memory,
    no_gpu_message,
    oom_hint,
)
from napari_dlcflow.core.engine.training import (
    JOB_FILE,
    LOG_FILE,
    TrainingJob,
    TrainSpec,
    explain_failure,
    find_job,
    fitted_crop,
    format_seconds,
    list_snapshots,
    resume_spec,
    snapshot_ok,
    start_training,
)
from napari_dlcflow.core.jobs import EVENT_PREFIX

# Captured from torch 2.x on a 24 GiB card (the text torch.cuda.OutOfMemoryError carries).
CUDA_OOM = (
    "torch.OutOfMemoryError: CUDA out of memory. Tried to allocate 1.50 GiB. GPU 0 has a total "
    "capacity of 23.64 GiB of which 312.56 MiB free. Including non-PyTorch memory, this process "
    "has 23.32 GiB memory in use. Of the allocated memory 22.71 GiB is allocated by PyTorch"
)


# --------------------------------------------------------------------------- fast, no DLC


def test_spec_validates_and_maps_to_dlc_config_keys(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="weights"):
        TrainSpec(config="c.yaml", weights="imagenet")
    with pytest.raises(ValueError, match="epochs"):
        TrainSpec(config="c.yaml", epochs=0)
    with pytest.raises(ValueError, match="backbone"):
        TrainSpec(config="c.yaml", backbone="vgg16")
    spec = TrainSpec(config="c.yaml", batch_size=4, learning_rate=1e-4, gpus=[0, 1], crop_size=96)
    up = spec.config_updates()
    assert up["train_settings.batch_size"] == 4
    assert up["runner.optimizer.params.lr"] == 1e-4
    assert up["runner.gpus"] == [0, 1]
    assert up["data.train.crop_sampling.width"] == up["data.train.crop_sampling.height"] == 96
    assert TrainSpec.from_dict({**spec.to_dict(), "future_key": 1}) == spec


def test_training_crops_are_cut_down_to_the_frames_not_padded_up() -> None:
    small = {"a.mp4": {"crop": "0, 160, 0, 120"}, "b.mp4": {"crop": "0, 150, 0, 100"}}
    assert fitted_crop((448, 448), small) == (160, 128)  # multiples of 32, the largest frame
    assert fitted_crop((448, 448), {"a.mp4": {"crop": "0, 1024, 0, 1024"}}) is None  # keep 448
    assert fitted_crop((256, 256), {"a.mp4": {"crop": "10, 410, 0, 200"}}) == (256, 224)
    # nothing known, or a crop that cannot be read: the net type's crop stays
    assert fitted_crop((448, 448), {}) is None
    assert fitted_crop((448, 448), None) is None
    assert fitted_crop((448, 448), {**small, "c.mp4": {"crop": "garbage"}}) is None
    assert fitted_crop((448, 448), {**small, "c.mp4": None}) is None


def test_snapshot_check_rejects_truncated_files(tmp_path: Path) -> None:
    good = tmp_path / "snapshot-005.pt"
    with zipfile.ZipFile(good, "w") as zf:  # torch.save writes a zip archive like this
        zf.writestr("archive/data.pkl", b"x" * 5000)
        zf.writestr("archive/data/0", os.urandom(20000))
    data = good.read_bytes()
    (tmp_path / "snapshot-010.pt").write_bytes(data[: len(data) // 2])
    (tmp_path / "snapshot-best-007.pt").write_bytes(data)
    (tmp_path / "snapshot-012.pt").write_bytes(b"")
    assert snapshot_ok(good)
    assert not snapshot_ok(tmp_path / "snapshot-010.pt")
    assert not snapshot_ok(tmp_path / "snapshot-012.pt")
    assert [(s.epoch, s.best) for s in list_snapshots(tmp_path)] == [
        (5, False),
        (7, True),
        (10, False),
        (12, False),
    ]
    assert [s.epoch for s in list_snapshots(tmp_path, check=True)] == [5, 7]


def test_oom_hint_from_a_captured_cuda_error() -> None:
    assert is_out_of_memory(CUDA_OOM)
    hint = oom_hint(CUDA_OOM, 16)
    assert "batch size 8" in hint and "1.50 GiB" in hint and "312.56 MiB" in hint
    assert "batch size 1" in oom_hint(CUDA_OOM, 1)
    assert oom_hint("ValueError: bad crop", 16) == ""
    kind, _reason, hint = explain_failure(1, ["Traceback ...", CUDA_OOM], 16)
    assert kind == "out_of_memory" and "Try batch size 8" in hint


def test_failure_reasons_name_the_signal_and_the_error() -> None:
    kind, reason, hint = explain_failure(-signal.SIGKILL, ["epoch 3"], 8)
    assert kind == "killed" and "SIGKILL" in reason and "memory" in hint
    kind, reason, _ = explain_failure(1, ["Traceback", "KeyError: 'bodyparts'"])
    assert (kind, reason) == ("error", "KeyError: 'bodyparts'")
    assert format_seconds(3725) == "1 h 02 min" and format_seconds(65) == "1 min 05 s"


def test_device_menu_without_gpu_says_so() -> None:
    cpu = [Device("cpu", "CPU")]
    assert "No GPU" in no_gpu_message(cpu) and "CPU" in no_gpu_message(cpu)
    assert [d for _, d in device_choices(cpu)] == ["auto", "cpu"]
    two = [Device("cuda:0", "A", 80.0), Device("cuda:1", "B", 80.0), *cpu]
    assert [d for _, d in device_choices(two)] == ["auto", "cuda:0", "cuda:1", "cuda:all", "cpu"]
    assert "80.0 GiB" in two[0].label


def _fake_job(folder: Path, pid: int, state: str = "running") -> TrainingJob:
    (folder / JOB_FILE).write_text(
        json.dumps({"state": state, "spec": {"config": "c.yaml"}, "supervisor_pid": pid}),
        encoding="utf-8",
    )
    (folder / LOG_FILE).write_text(
        "Traceback (most recent call last):\nRuntimeError: boom\n"
        + EVENT_PREFIX
        + json.dumps({"event": "train_start", "first_epoch": 0, "last_epoch": 5, "time": 100.0})
        + "\n"
        + EVENT_PREFIX
        + json.dumps({"event": "epoch", "epoch": 1, "train_loss": 0.5, "time": 110.0})
        + "\n",
        encoding="utf-8",
    )
    return TrainingJob(folder)


def test_a_job_whose_process_vanished_is_reported_failed(tmp_path: Path) -> None:
    proc = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    job = _fake_job(tmp_path, proc.pid)
    assert job.status().state == "running"
    proc.kill()
    proc.wait()
    st = job.status()
    assert st.state == "failed" and st.kind == "vanished"
    assert "RuntimeError: boom" in st.log_tail
    prog = job.progress()
    assert prog.epoch == 1 and prog.last_epoch == 5
    assert prog.seconds_left() == pytest.approx(40.0)


def test_start_refuses_while_a_job_runs(tmp_path: Path) -> None:
    (tmp_path / "pytorch_config.yaml").write_text("x: 1\n", encoding="utf-8")
    _fake_job(tmp_path, os.getpid())
    with pytest.raises(RuntimeError, match="already running"):
        start_training(TrainSpec(config=str(tmp_path / "c.yaml")), train_folder=tmp_path)


# --------------------------------------------------------------------- real DeepLabCut (slow)


@pytest.mark.slow
@pytest.mark.xdist_group("trained")
def test_cancel_keeps_a_snapshot_and_resume_continues_the_epoch_count(
    tmp_path_factory: pytest.TempPathFactory,
) -> None:
    run = trained(tmp_path_factory)
    assert run.dataset["n_train"] == 38 and run.dataset["n_test"] == 2
    assert run.cancel_status.state == "cancelled", run.cancel_status
    k = run.cancelled_at
    assert CANCEL_AFTER <= k < EPOCHS
    assert run.epochs_first_run == list(range(1, k + 1))
    assert Path(run.resumed_from).name in (f"snapshot-{k:03d}.pt", f"snapshot-best-{k:03d}.pt")
    assert run.final_status.state == "finished", run.final_status
    # the resumed run went on from k + 1, and the curve holds every epoch once
    assert run.epochs_all == list(range(1, EPOCHS + 1))
    log = (run.train_folder / LOG_FILE).read_text(encoding="utf-8")
    starts = [
        json.loads(line[len(EVENT_PREFIX) :])
        for line in log.splitlines()
        if line.startswith(EVENT_PREFIX) and '"train_start"' in line
    ]
    assert [s["first_epoch"] for s in starts] == [0, k]
    snaps = list_snapshots(run.train_folder, check=True)
    assert max(s.epoch for s in snaps) == EPOCHS
    job = find_job(run.train_folder)
    assert job is not None
    prog = job.progress()
    assert all(e["valid_loss"] is not None for e in prog.epochs if e["epoch"] % 3 == 0)
    assert prog.epochs[-1]["train_loss"] < prog.epochs[0]["train_loss"]
    print(
        f"training {EPOCHS} epochs: {run.seconds_train:.0f} s, evaluation {run.seconds_eval:.0f} s"
    )


@pytest.mark.slow
@pytest.mark.xdist_group("trained")
def test_truncated_snapshot_is_never_resumed_from(
    tmp_path_factory: pytest.TempPathFactory, tmp_path: Path
) -> None:
    run = trained(tmp_path_factory)
    folder = tmp_path / "train"
    shutil.copytree(run.train_folder, folder)
    last = max((s for s in list_snapshots(folder) if not s.best), key=lambda s: s.epoch)
    data = last.path.read_bytes()
    last.path.write_bytes(data[: len(data) - 4096])  # a kill during torch.save
    assert not snapshot_ok(last.path)
    spec = resume_spec(TrainingJob(folder), epochs=EPOCHS + 5)
    assert Path(spec.resume_from or "").name != last.path.name
    assert snapshot_ok(spec.resume_from or "")


@pytest.mark.slow
@pytest.mark.xdist_group("trained")
def test_killed_job_is_reported_as_killed_within_seconds(
    tmp_path_factory: pytest.TempPathFactory,
) -> None:
    run = trained(tmp_path_factory)
    cli = [sys.executable, "-m", "napari_dlcflow"]
    out = subprocess.run(
        [*cli, "train", str(run.config), "--resume", "--epochs", str(EPOCHS + 20), "--detach"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert out.returncode == 0, out.stderr
    assert "resuming from" in out.stdout
    job = find_job(run.train_folder)
    assert job is not None
    deadline = time.monotonic() + 300
    try:
        while job.progress().epoch <= EPOCHS:  # wait for a real epoch of the new run
            assert not job.status().done, job.status()
            assert time.monotonic() < deadline
            time.sleep(0.3)
    except BaseException:
        job.cancel(now=True)  # never leave a detached job training after a failed test
        raise
    worker = int(job.info()["worker_pid"])
    os.kill(worker, signal.SIGKILL)
    t0 = time.monotonic()
    while not job.status().done:
        assert time.monotonic() - t0 < 5, "death not noticed within 5 s"
        time.sleep(0.1)
    st = job.status()
    assert st.state == "failed" and st.kind == "killed" and "SIGKILL" in st.reason
    assert st.log_tail
    status = subprocess.run(
        [*cli, "train-status", str(run.config)], capture_output=True, text=True, timeout=60
    )
    assert status.returncode == 1 and "FAILED: killed by SIGKILL" in status.stderr


@pytest.mark.slow
@pytest.mark.xdist_group("trained")
def test_pretrained_weights_offline_fail_at_once_with_a_clear_choice(
    tmp_path_factory: pytest.TempPathFactory,
) -> None:
    run = trained(tmp_path_factory)
    job = find_job(run.train_folder)
    assert job is not None
    job.wait(timeout=60)  # whatever ran before has ended
    spec = TrainSpec(
        config=str(run.config),
        epochs=2,
        weights="pretrained",
        offline=True,
        backbone="resnet18",
        crop_size=128,
        device="cpu",
    )
    t0 = time.monotonic()
    st = start_training(spec).wait(timeout=180)
    seconds = time.monotonic() - t0
    assert st.state == "failed" and st.kind == "weights_unavailable", st
    assert "offline" in st.reason and "scratch" in st.reason
    assert seconds < 90  # DeepLabCut's import, then no retries
    print(f"offline pretrained weights refused after {seconds:.0f} s")


@pytest.mark.slow
def test_devices_listed_by_torch_in_a_child() -> None:
    from napari_dlcflow.core.engine.devices import list_devices

    devices = list_devices()  # imports torch in a child: 5-15 s
    assert devices[-1].id == "cpu"
    if shutil.which("nvidia-smi") is None:
        assert [d.id for d in devices] == ["cpu"]
        assert no_gpu_message(devices).startswith("No GPU found")
