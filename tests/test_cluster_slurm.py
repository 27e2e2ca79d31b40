"""A real single-node Slurm on this machine runs a preprocessing batch through dask-jobqueue.

The fixture installs Debian's ``slurm-wlm`` and ``munge`` when they are missing (as root, with
apt), starts ``munged`` on its own socket, ``slurmctld`` and ``slurmd`` with a minimal
``slurm.conf`` naming this host as controller and only node (free ports, every state, spool,
pid and log file in a temporary folder, no cgroups; see ../shared/CLUSTER-FACTS.md), and stops
all three by the pids they wrote. Every wait is bounded. Skipped, with the reason, only where
the packages are missing and cannot be installed (not root, no apt-get).
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

pytest.importorskip("dask_jobqueue", reason="the batch extra (dask-jobqueue) is not installed")

from napari_dlcflow.core.batch.cluster import open_cluster
from napari_dlcflow.core.batch.runner import run_batch, run_plain
from napari_dlcflow.core.batch.tasks import VideoTask
from napari_dlcflow.core.example.synthetic import (
    SyntheticSpec,
    write_synthetic_example,
)
from napari_dlcflow.core.video.preprocess import ContrastParams, PreprocessSpec

DAEMONS = ("slurmctld", "slurmd", "munged", "sinfo", "sbatch", "squeue", "scancel", "munge")
SRC = Path(__file__).resolve().parents[1] / "src"


def _missing() -> list[str]:
    return [d for d in DAEMONS if shutil.which(d) is None and not Path(f"/usr/sbin/{d}").exists()]


def _install() -> None:
    """Install slurm-wlm and munge with apt (root only); skip with the reason otherwise."""
    if not _missing():
        return
    if os.geteuid() != 0:
        pytest.skip(f"Slurm is not installed ({', '.join(_missing())} missing) and not root")
    if shutil.which("apt-get") is None:
        pytest.skip("Slurm is not installed and there is no apt-get to install it")
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    cmd = ["apt-get", "install", "-y", "--no-install-recommends", "slurm-wlm", "munge"]
    done = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=900)
    if done.returncode != 0:  # a stale package list: update once and try again
        subprocess.run(["apt-get", "update"], env=env, capture_output=True, timeout=600)
        done = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=900)
    assert done.returncode == 0, f"apt-get install slurm-wlm munge failed: {done.stderr[-2000:]}"
    assert not _missing(), f"still missing after install: {_missing()}"


def _free_ports(n: int) -> list[int]:
    socks = [socket.socket() for _ in range(n)]
    try:
        for s in socks:
            s.bind(("127.0.0.1", 0))
        return [s.getsockname()[1] for s in socks]
    finally:
        for s in socks:
            s.close()


def _sbin(name: str) -> str:
    return shutil.which(name) or f"/usr/sbin/{name}"


def _wait(what: str, check, timeout: float, log: Path | None = None) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return
        time.sleep(0.25)
    tail = log.read_text(errors="replace")[-3000:] if log and log.is_file() else ""
    raise AssertionError(f"{what} within {timeout:.0f} s failed\n{tail}")


def _pid(path: Path) -> int | None:
    with contextlib.suppress(OSError, ValueError):
        return int(path.read_text().strip())
    return None


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    # a zombie child of ours counts as gone
    with contextlib.suppress(OSError):
        if "State:\tZ" in Path(f"/proc/{pid}/status").read_text():
            return False
    return True


def _stop(pid: int | None, timeout: float = 15) -> None:
    if pid is None or not _alive(pid):
        return
    os.kill(pid, signal.SIGTERM)
    deadline = time.monotonic() + timeout
    while _alive(pid) and time.monotonic() < deadline:
        time.sleep(0.2)
    if _alive(pid):
        os.kill(pid, signal.SIGKILL)


@pytest.fixture(scope="module")
def slurm() -> Iterator[dict[str, str]]:
    """A running single-node Slurm; yields the environment its clients need (``SLURM_CONF``)."""
    _install()
    import pwd

    if os.geteuid() != 0:
        pytest.skip("starting slurmctld and slurmd on this machine needs root")
    munge_user = pwd.getpwnam("munge")
    top = Path(tempfile.mkdtemp(prefix="dlcflow-slurm-", dir="/tmp"))
    top.chmod(0o755)
    mdir = top / "munge"
    mdir.mkdir(mode=0o700)
    os.chown(mdir, munge_user.pw_uid, munge_user.pw_gid)
    for d in ("state", "spool", "jobs"):
        (top / d).mkdir()
    host = socket.gethostname().split(".")[0]
    ctl_port, d_port = _free_ports(2)
    total_mb = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") // 2**20
    sock = mdir / "munge.sock"
    conf = top / "slurm.conf"
    conf.write_text(
        "\n".join(
            [
                "ClusterName=dlcflowtest",
                f"SlurmctldHost={host}",
                "SlurmUser=root",
                "SlurmdUser=root",
                "AuthType=auth/munge",
                f"AuthInfo=socket={sock}",
                "CredType=cred/munge",
                f"SlurmctldPort={ctl_port}",
                f"SlurmdPort={d_port}",
                f"StateSaveLocation={top / 'state'}",
                f"SlurmdSpoolDir={top / 'spool'}",
                f"SlurmctldPidFile={top / 'slurmctld.pid'}",
                f"SlurmdPidFile={top / 'slurmd.pid'}",
                f"SlurmctldLogFile={top / 'slurmctld.log'}",
                f"SlurmdLogFile={top / 'slurmd.log'}",
                "ProctrackType=proctrack/linuxproc",
                "TaskPlugin=task/none",
                "SelectType=select/cons_tres",
                "SelectTypeParameters=CR_Core_Memory",
                "ReturnToService=2",
                "MpiDefault=none",
                "JobAcctGatherType=jobacct_gather/none",
                "AccountingStorageType=accounting_storage/none",
                "SwitchType=switch/none",
                f"NodeName={host} CPUs={os.cpu_count()} RealMemory={int(total_mb * 0.75)} "
                "State=UNKNOWN",
                f"PartitionName=debug Nodes={host} Default=YES MaxTime=INFINITE State=UP",
                "",
            ]
        )
    )
    env = {**os.environ, "SLURM_CONF": str(conf)}
    pids: dict[str, Path] = {
        "slurmd": top / "slurmd.pid",
        "slurmctld": top / "slurmctld.pid",
        "munged": mdir / "munged.pid",
    }
    old_conf = os.environ.get("SLURM_CONF")
    try:
        subprocess.run(
            [
                "runuser",
                "-u",
                "munge",
                "--",
                _sbin("munged"),
                "--force",
                f"--socket={sock}",
                f"--pid-file={pids['munged']}",
                f"--log-file={mdir / 'munged.log'}",
                f"--seed-file={mdir / 'munged.seed'}",
            ],
            check=True,
            timeout=30,
        )

        def munge_ok() -> bool:
            cred = subprocess.run(
                ["munge", "-S", str(sock), "-n"], capture_output=True, timeout=10
            )
            back = subprocess.run(
                ["unmunge", "-S", str(sock)], input=cred.stdout, capture_output=True, timeout=10
            )
            return b"Success" in back.stdout

        _wait("munged answering", munge_ok, 15)
        subprocess.run([_sbin("slurmctld"), "-f", str(conf)], env=env, check=True, timeout=30)
        subprocess.run([_sbin("slurmd"), "-f", str(conf)], env=env, check=True, timeout=30)

        def idle() -> bool:
            out = subprocess.run(
                ["sinfo", "-h", "-o", "%T"], env=env, capture_output=True, text=True, timeout=10
            )
            return out.stdout.strip() == "idle"

        _wait("the Slurm partition becoming idle", idle, 60, top / "slurmctld.log")
        os.environ["SLURM_CONF"] = str(conf)
        yield {"SLURM_CONF": str(conf), "dir": str(top)}
    finally:
        if old_conf is None:
            os.environ.pop("SLURM_CONF", None)
        else:
            os.environ["SLURM_CONF"] = old_conf
        with contextlib.suppress(Exception):
            jobs = subprocess.run(
                ["squeue", "-h", "-o", "%i"], env=env, capture_output=True, text=True, timeout=10
            ).stdout.split()
            if jobs:
                subprocess.run(["scancel", *jobs], env=env, timeout=10)
        for name in ("slurmd", "slurmctld", "munged"):
            _stop(_pid(pids[name]))
        shutil.rmtree(top, ignore_errors=True)


def _squeue(slurm: dict[str, str]) -> list[str]:
    out = subprocess.run(
        ["squeue", "-h", "-o", "%i %j %T"],
        env={**os.environ, "SLURM_CONF": slurm["SLURM_CONF"]},
        capture_output=True,
        text=True,
        timeout=10,
    )
    return out.stdout.split("\n")[:-1]


def test_preprocess_batch_through_slurmcluster(slurm: dict[str, str], tmp_path: Path) -> None:
    videos = []
    for i in range(3):
        files = write_synthetic_example(
            tmp_path / f"v{i}", SyntheticSpec(n_frames=40, height=96, width=96, seed=10 + i)
        )
        videos.append(files.video.rename(files.video.with_name(f"rat{i}.mp4")))
    spec = PreprocessSpec(contrast=ContrastParams(method="imagej"))
    out = str(tmp_path / "out")
    tasks = [VideoTask("preprocess", str(v), out, spec.to_dict()) for v in videos]
    profile = tmp_path / "local-slurm.yaml"
    profile.write_text(
        "\n".join(
            [
                "scheduler: slurm",
                "queue: debug",
                "cores: 1",
                "memory: 1GB",
                "walltime: '00:10:00'",
                "interface: lo",
                f"python: {sys.executable}",
                f"log_directory: {Path(slurm['dir']) / 'jobs'}",
                "prologue:",
                f"  - export PYTHONPATH={SRC}",
                "  - export HF_HUB_OFFLINE=1",
                "minimum_jobs: 0",
                "maximum_jobs: 2",
                "",
            ]
        )
    )
    seen_jobs: list[str] = []

    def progress(table, row) -> None:
        if row.state == "running" and not seen_jobs:
            seen_jobs.extend(_squeue(slurm))

    with open_cluster(str(profile)) as opened:
        assert opened.kind == "jobqueue"
        assert "slurm profile 'local-slurm'" in opened.description
        script = opened.cluster.job_script()
        assert "#SBATCH -p debug" in script and f"export PYTHONPATH={SRC}" in script
        result = run_batch(tasks, opened.client, on_progress=progress, timeout=300)
        assert result.ok, result.rows
        # the work ran in Slurm jobs started by the adaptive cluster
        assert seen_jobs and all(" RUNNING" in j or " PENDING" in j for j in seen_jobs)
        assert all(r["worker"].startswith("SLURMCluster") for r in result.rows), result.rows
    # closing the cluster cancelled its jobs
    _wait("the Slurm jobs ending", lambda: not _squeue(slurm), 60)
    plain = run_plain(
        [VideoTask("preprocess", str(v), str(tmp_path / "plain"), spec.to_dict()) for v in videos]
    )
    for a, b in zip(result.rows, plain.rows, strict=True):
        assert Path(a["output"]).read_bytes() == Path(b["output"]).read_bytes()
