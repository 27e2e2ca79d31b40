"""Where a batch runs: a local Dask cluster, a scheduler by address, or a batch-scheduled cluster.

:func:`open_cluster` takes what the user wrote after ``--cluster``:

``local`` (default)
    A ``LocalCluster`` on this machine: one worker process per core, one thread each (video
    decoding and encoding hold the GIL often enough that processes scale and threads do not).
    For analysis with GPUs: one worker per GPU, each started with ``CUDA_VISIBLE_DEVICES`` set to
    its own card, so the DeepLabCut child it starts sees only that card.
``tcp://host:8786`` (any scheme or ``host:port``)
    An existing scheduler (``dask scheduler`` on a lab server, workers started there by the
    lab); nothing is started or stopped here.
a profile (``gpu-short`` or ``profile.yaml``)
    dask-jobqueue's ``SLURMCluster`` (``PBSCluster``, ``SGECluster``, ``LSFCluster``) from a
    :class:`~napari_dlcflow.core.batch.profiles.ClusterProfile`, scaling adaptively between the
    profile's minimum and maximum number of jobs; the scheduler runs in this process.

A lost worker's task is rescheduled on another worker by the scheduler itself, at most
``allowed_failures`` times (Dask's ``distributed.scheduler.allowed-failures``); after that its
video is reported failed with the reason.
"""

from __future__ import annotations

import contextlib
import logging
import os
import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

__all__ = ["BatchCluster", "is_address", "local_layout", "open_cluster"]

_ADDRESS = re.compile(r"^([a-z]+://)?[\w.\-\[\]:]+:\d+$")
DEFAULT_ALLOWED_FAILURES = 2


@dataclass
class BatchCluster:
    """An open cluster and the client connected to it.

    Attributes
    ----------
    client : distributed.Client
    kind : {"local", "address", "jobqueue"}
    description : str
        One line for the user (workers, GPUs, profile).
    dashboard : str or None
        The dashboard's address, if it has one.
    threads_per_task : int
        Encoder threads a preprocessing task may use.
    cluster : object or None
        The cluster object (None when connected by address).
    """

    client: Any
    kind: str
    description: str
    dashboard: str | None = None
    threads_per_task: int = 1
    cluster: Any = None


def is_address(text: str) -> bool:
    """Whether ``text`` is a scheduler address (``tcp://host:8786``, ``host:8786``)."""
    return bool(_ADDRESS.match(text)) and not text.endswith((".yaml", ".yml"))


def local_layout(n_cores: int | None = None, gpus: Sequence[str] = ()) -> list[dict[str, Any]]:
    """Workers of a local cluster: one per GPU if any (each seeing only its card), else one per
    core; one thread each.

    Returns
    -------
    list of dict
        ``{"name", "nthreads", "env"}`` per worker.
    """
    if gpus:
        return [
            {"name": f"gpu{g}", "nthreads": 1, "env": {"CUDA_VISIBLE_DEVICES": str(g)}}
            for g in gpus
        ]
    n = n_cores or os.cpu_count() or 1
    return [{"name": f"cpu{i}", "nthreads": 1, "env": {}} for i in range(n)]


def _gpu_indices() -> list[str]:
    """Indices of the CUDA GPUs torch sees (asked in a child process; none without torch)."""
    from napari_dlcflow.core.engine.devices import list_devices

    try:
        devices = list_devices()
    except RuntimeError:
        return []
    return [d.id.split(":", 1)[1] for d in devices if d.id.startswith("cuda:")]


def _has_dashboard() -> bool:
    try:
        import bokeh  # noqa: F401
    except ImportError:
        return False
    return True


def _open_local(
    n_workers: int | None,
    gpus: Sequence[str] | None,
    allowed_failures: int,
    local_directory: str | None,
) -> BatchCluster:
    from distributed import Client, Nanny, Scheduler, SpecCluster

    gpu_ids = list(gpus) if gpus is not None else []
    layout = local_layout(n_workers, gpu_ids)
    if gpu_ids and n_workers:
        layout = layout[:n_workers]
    total = _total_memory()
    memory = int(total / max(1, len(layout)))
    workers = {
        w["name"]: {
            "cls": Nanny,
            "options": {
                "nthreads": w["nthreads"],
                "env": w["env"],
                "host": "127.0.0.1",
                "memory_limit": memory,
                "name": w["name"],
                "silence_logs": logging.WARNING,
                **({"local_directory": local_directory} if local_directory else {}),
            },
        }
        for w in layout
    }
    scheduler = {
        "cls": Scheduler,
        "options": {
            "host": "127.0.0.1",
            "dashboard_address": "127.0.0.1:0",  # a free port: never clash with another
            "allowed_failures": allowed_failures,
        },
    }
    cluster = SpecCluster(
        workers=workers, scheduler=scheduler, name="dlcflow-local", silence_logs=logging.WARNING
    )
    try:
        client = Client(cluster)
        client.wait_for_workers(len(layout), timeout=120)
    except BaseException:
        cluster.close()
        raise
    what = (
        f"{len(gpu_ids)} GPU worker(s) ({', '.join(gpu_ids)})"
        if gpu_ids
        else (f"{len(layout)} CPU worker(s)")
    )
    return BatchCluster(
        client=client,
        kind="local",
        description=f"local cluster: {what}, 1 thread each",
        dashboard=_link(client),
        cluster=cluster,
    )


def _total_memory() -> int:
    import psutil

    return int(psutil.virtual_memory().total)


def _link(client: Any) -> str | None:
    with contextlib.suppress(Exception):
        if _has_dashboard():
            return str(client.dashboard_link)
    return None


def _open_jobqueue(profile: Any, allowed_failures: int) -> BatchCluster:
    import dask_jobqueue
    from distributed import Client

    cls = {
        "slurm": dask_jobqueue.SLURMCluster,
        "pbs": dask_jobqueue.PBSCluster,
        "sge": dask_jobqueue.SGECluster,
        "lsf": dask_jobqueue.LSFCluster,
    }[profile.scheduler]
    kw = profile.jobqueue_kwargs()
    kw["scheduler_options"] = {
        "allowed_failures": allowed_failures,
        "dashboard_address": ":0",
    }
    cluster = cls(**kw)
    try:
        cluster.adapt(minimum_jobs=profile.minimum_jobs, maximum_jobs=profile.maximum_jobs)
        client = Client(cluster)
    except BaseException:
        cluster.close()
        raise
    return BatchCluster(
        client=client,
        kind="jobqueue",
        description=(
            f"{profile.scheduler} profile {profile.name!r}: jobs of {profile.cores} core(s), "
            f"{profile.memory}, {profile.gpus} GPU(s), up to {profile.maximum_jobs} jobs"
            + (f", queue {profile.queue}" if profile.queue else "")
        ),
        dashboard=_link(client),
        threads_per_task=1,
        cluster=cluster,
    )


@contextlib.contextmanager
def open_cluster(
    where: str = "local",
    *,
    project_root: str | os.PathLike | None = None,
    n_workers: int | None = None,
    gpus: Sequence[str] | None = None,
    use_gpus: bool = False,
    allowed_failures: int = DEFAULT_ALLOWED_FAILURES,
    local_directory: str | os.PathLike | None = None,
    timeout: float = 120,
) -> Iterator[BatchCluster]:
    """Start (or connect to) a cluster; stop what was started on exit.

    Parameters
    ----------
    where : str
        ``"local"``, a scheduler address, a profile name (in the project's sidecar) or a profile
        YAML file; see the module's description.
    project_root : path-like, optional
        The project whose sidecar holds named profiles.
    n_workers : int, optional
        Local cluster: workers (default: one per core, or one per GPU).
    gpus : sequence of str, optional
        Local cluster: the GPU indices to use, one worker each (default: those torch sees,
        when ``use_gpus``).
    use_gpus : bool
        Local cluster: look for GPUs (asks torch in a child process); for analysis.
    allowed_failures : int
        How many times a task may lose its worker before its video is reported failed.
    local_directory : path-like, optional
        Local cluster: the workers' scratch folder.
    timeout : float
        Seconds to wait for a scheduler given by address.

    Yields
    ------
    BatchCluster
    """
    from distributed import Client

    if where in ("", "local"):
        if gpus is None and use_gpus:
            gpus = _gpu_indices()
        opened = _open_local(
            n_workers, gpus, allowed_failures, str(local_directory) if local_directory else None
        )
    elif is_address(where):
        address = where if "://" in where else f"tcp://{where}"
        try:
            client = Client(address, timeout=timeout)
        except OSError as exc:
            raise RuntimeError(f"cannot reach the Dask scheduler at {address}: {exc}") from exc
        n = len(client.scheduler_info().get("workers", {}))
        opened = BatchCluster(
            client=client,
            kind="address",
            description=f"scheduler {address}: {n} worker(s) now",
            dashboard=_link(client),
        )
    else:
        from napari_dlcflow.core.batch.profiles import load_profile

        opened = _open_jobqueue(load_profile(where, project_root), allowed_failures)
    try:
        yield opened
    finally:
        with contextlib.suppress(Exception):
            opened.client.close(timeout=30)
        if opened.cluster is not None:
            with contextlib.suppress(Exception):
                opened.cluster.close(timeout=60)
