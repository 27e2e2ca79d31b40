"""DeepLabCut training as a detached background job that outlives the viewer.

How a job runs
--------------
:func:`start_training` writes the job's spec to ``<train folder>/dlcflow-job.json`` and starts
the engine task ``train-supervise`` (``python -m napari_dlcflow _engine train-supervise
'{"job_file": ...}'``, :mod:`~napari_dlcflow.core.engine.tasks`) in a new session (its own
process group), with its output going to ``<train folder>/dlcflow-job.log``. Closing napari, or
napari crashing, does not stop it. The supervisor imports nothing heavy: it starts the worker
(the task ``train-worker``, which imports deeplabcut and calls
``deeplabcut.train_network``), waits for it, and records how it ended in the job file: finished,
cancelled, or failed with a reason (killed by a signal, out of memory, a Python error, backbone
weights that cannot be fetched offline) and the last lines of the log.

The worker writes one JSON line per finished epoch into the log (epoch, losses, evaluation
metrics, snapshot saved, time), so anyone can follow a job by reading two files:
:func:`find_job` reattaches to the job of a train folder, :meth:`TrainingJob.poll` reads its
state and progress. If the supervisor itself disappears (``kill -9`` of the whole group, a
reboot), the job file still says "running" but no process is left: that is reported as
failed within one poll.

Cancel (:meth:`TrainingJob.cancel`) asks the worker to stop at the end of the current epoch; it
saves a snapshot of that epoch first, so :func:`resume_spec` continues the epoch count from
there. ``cancel(now=True)`` terminates it at once (the snapshots already written stay).
Snapshots are checked before use (:func:`snapshot_ok`): a file cut short by a kill during the
write is never loaded as if complete.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import math
import os
import re
import signal
import subprocess
import time
import zipfile
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import TYPE_CHECKING, Any

from napari_dlcflow.core.engine.tasks import task_command
from napari_dlcflow.core.jobs import EVENT_PREFIX, child_env
from napari_dlcflow.core.safe_io import atomic_write

if TYPE_CHECKING:
    from napari_dlcflow.core.engine.model_ref import ModelRef
    from napari_dlcflow.core.project.config import Project

__all__ = [
    "BACKBONES",
    "JOB_FILE",
    "LOG_FILE",
    "JobStatus",
    "Progress",
    "Snapshot",
    "TrainSpec",
    "TrainingJob",
    "find_job",
    "fitted_crop",
    "list_snapshots",
    "resume_spec",
    "shuffle_train_folder",
    "snapshot_ok",
    "start_training",
]

JOB_FILE = "dlcflow-job.json"
LOG_FILE = "dlcflow-job.log"
CANCEL_FILE = "dlcflow-job.cancel"
INIT_WEIGHTS = "dlcflow-init-weights.pt"

BACKBONES: dict[str, int] = {
    "resnet18": 512,
    "resnet34": 512,
    "resnet50_gn": 2048,
    "resnet101": 2048,
}
"""Backbones that :attr:`TrainSpec.backbone` may swap in (timm names -> output channels)."""

FINAL = ("finished", "cancelled", "failed")


@dataclass
class TrainSpec:
    """What to train and how.

    Parameters
    ----------
    config : str
        The project's ``config.yaml``.
    shuffle, trainset_index : int, optional
        Which training dataset (DeepLabCut's ``shuffle`` and ``trainingsetindex``); None: the
        last dataset creation's (:func:`start_training` fills them in).
    epochs : int
        Total number of epochs the model should have been trained for at the end.
    batch_size : int
        Images per gradient step.
    learning_rate : float, optional
        Overrides the optimizer's learning rate of the shuffle's ``pytorch_config.yaml``.
    save_epochs : int
        A snapshot is saved every this many epochs (and at the end).
    eval_interval : int
        Validation loss and metrics (RMSE, mAP, mAR) on the test images every this many epochs.
    device : str
        ``"cpu"``, ``"cuda"``, ``"cuda:1"``, ``"mps"`` or ``"auto"``.
    gpus : list of int, optional
        Several GPUs to train on (DeepLabCut's ``runner.gpus``); ``device`` should be ``cuda``.
    weights : str
        ``"pretrained"`` (ImageNet backbone weights, downloaded or cached) or ``"scratch"``
        (random initialisation; works offline).
    offline : bool
        Set ``HF_HUB_OFFLINE=1`` so that missing pretrained weights fail at once.
    backbone : str, optional
        Swap the net type's backbone for one of :data:`BACKBONES` (e.g. ``"resnet18"``, small
        and fast on a CPU).
    crop_size : int, optional
        Width and height of the training crops (``data.train.crop_sampling``). Default: the net
        type's (448 px), cut down to the project's largest frame (:func:`fitted_crop`) so that
        small frames are not padded into crops many times their size.
    max_snapshots : int, optional
        How many snapshots to keep (plus the best one).
    resume_from : str, optional
        Snapshot to continue from (set by :func:`resume_spec`).
    init_from : str, optional
        Snapshot whose network weights start a new training (the previous iteration's best,
        when refining); unlike ``resume_from`` the epochs count from 0.
    """

    config: str
    shuffle: int | None = None
    trainset_index: int | None = None
    epochs: int = 200
    batch_size: int = 8
    learning_rate: float | None = None
    save_epochs: int = 25
    eval_interval: int = 10
    device: str = "auto"
    gpus: list[int] | None = None
    weights: str = "pretrained"
    offline: bool = False
    backbone: str | None = None
    crop_size: int | None = None
    max_snapshots: int | None = None
    resume_from: str | None = None
    init_from: str | None = None

    def __post_init__(self) -> None:
        if self.weights not in ("pretrained", "scratch"):
            raise ValueError(f"weights must be 'pretrained' or 'scratch', got {self.weights!r}")
        for name in ("epochs", "batch_size", "save_epochs", "eval_interval"):
            if int(getattr(self, name)) < 1:
                raise ValueError(f"{name} must be at least 1, got {getattr(self, name)}")
        if self.backbone is not None and self.backbone not in BACKBONES:
            raise ValueError(f"backbone must be one of {sorted(BACKBONES)}, got {self.backbone!r}")
        if self.learning_rate is not None and not self.learning_rate > 0:
            raise ValueError(f"learning_rate must be positive, got {self.learning_rate}")

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> TrainSpec:
        known = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in data.items() if k in known})

    def config_updates(self) -> dict[str, Any]:
        """Dotted-key updates of the shuffle's ``pytorch_config.yaml`` this spec implies."""
        updates: dict[str, Any] = {
            "runner.eval_interval": int(self.eval_interval),
            "runner.snapshots.save_epochs": int(self.save_epochs),
            "train_settings.batch_size": int(self.batch_size),
        }
        if self.learning_rate is not None:
            updates["runner.optimizer.params.lr"] = float(self.learning_rate)
        if self.gpus:
            updates["runner.gpus"] = [int(g) for g in self.gpus]
        if self.max_snapshots is not None:
            updates["runner.snapshots.max_snapshots"] = int(self.max_snapshots)
        if self.crop_size:
            updates["data.train.crop_sampling.width"] = int(self.crop_size)
            updates["data.train.crop_sampling.height"] = int(self.crop_size)
        return updates


def fitted_crop(
    crop: tuple[int, int], video_sets: dict[str, Any] | None
) -> tuple[int, int] | None:
    """The training crop cut down to the project's largest frame, or None to keep ``crop``.

    DeepLabCut's bottom-up net types sample 448 x 448 crops; a smaller frame is padded to that
    size, so a 160 x 160 video trains on 7.8 times the pixels it has, for nothing. The frame
    sizes are the ``crop`` entries of the config's ``video_sets`` (``x1, x2, y1, y2``); the
    fitted side is rounded up to a multiple of 32 (the backbones' stride).

    Parameters
    ----------
    crop : (int, int)
        The shuffle's crop width and height.
    video_sets : dict, optional
        The config's ``video_sets``; entries without a readable crop leave ``crop`` as it is.
    """
    from napari_dlcflow.core.video.extract import parse_crop

    widths, heights = [], []
    for entry in (video_sets or {}).values():
        try:
            x1, x2, y1, y2 = parse_crop((entry or {}).get("crop"))  # type: ignore[misc]
        except (TypeError, ValueError, OverflowError, AttributeError):
            return None
        widths.append(x2 - x1)
        heights.append(y2 - y1)
    if not widths or min(widths + heights) <= 0:
        return None
    largest = (max(widths), max(heights))
    fitted = (min(crop[0], -(-largest[0] // 32) * 32), min(crop[1], -(-largest[1] // 32) * 32))
    return None if fitted == tuple(crop) else fitted


@dataclass(frozen=True)
class Snapshot:
    """A snapshot file of a train folder.

    Attributes
    ----------
    path : Path
    epoch : int
    best : bool
        ``snapshot-best-<epoch>.pt`` (the best one by DeepLabCut's key metric).
    """

    path: Path
    epoch: int
    best: bool


_SNAPSHOT_RE = re.compile(r"^snapshot-(best-)?(\d+)\.pt$")


def snapshot_ok(path: str | os.PathLike) -> bool:
    """Whether a snapshot file is complete.

    ``torch.save`` writes a zip archive whose directory sits at the end of the file, so a file
    cut short (a kill or a full disk during the save) has no readable directory, and a damaged
    member fails its CRC check.
    """
    try:
        with zipfile.ZipFile(path) as zf:
            return zf.testzip() is None
    except (OSError, zipfile.BadZipFile, EOFError, ValueError):
        return False


def list_snapshots(train_folder: str | os.PathLike, *, check: bool = False) -> list[Snapshot]:
    """Snapshots in ``train_folder``, by epoch (a best snapshot after a plain one).

    With ``check=True`` incomplete files (:func:`snapshot_ok`) are left out.
    """
    found = []
    for p in Path(train_folder).glob("snapshot-*.pt"):
        m = _SNAPSHOT_RE.match(p.name)
        if m and (not check or snapshot_ok(p)):
            found.append(Snapshot(p, int(m.group(2)), bool(m.group(1))))
    return sorted(found, key=lambda s: (s.epoch, s.best))


def shuffle_train_folder(
    config: str | os.PathLike | ModelRef | Project,
    shuffle: int | None = None,
    trainset_index: int | None = None,
    *,
    iteration: int | None = None,
) -> Path:
    """The ``dlc-models-pytorch/.../train`` folder of a shuffle (DeepLabCut's layout), of
    ``iteration`` (default: the config's).

    ``shuffle`` and ``trainset_index`` default to those of the last dataset creation
    (:func:`~napari_dlcflow.core.engine.dataset.resolve_model`); ``config`` may be a
    :class:`~napari_dlcflow.core.engine.model_ref.ModelRef` already made (nothing is
    resolved then) or the opened project.

    Raises
    ------
    FileNotFoundError
        If the shuffle has no training dataset yet.
    ValueError
        If the trainset index is not an index of ``TrainingFraction``.
    """
    from napari_dlcflow.core.engine.dataset import resolve_model

    model = resolve_model(config, shuffle, trainset_index, iteration=iteration)
    return model.find_train_folder()


@dataclass
class Progress:
    """What a job has done so far, read from its log.

    Attributes
    ----------
    epochs : list of dict
        One entry per finished epoch: ``epoch``, ``train_loss``, ``valid_loss`` (or None),
        ``metrics`` (``{"test.rmse": ..., "test.mAP": ...}``, may be empty), ``time`` (Unix
        seconds), ``snapshot`` (file name or None).
    first_epoch, last_epoch : int
        The epoch the current run started after, and the epoch it will end with.
    run_started : float or None
        When the current run's training loop began (Unix seconds).
    """

    epochs: list[dict[str, Any]] = field(default_factory=list)
    first_epoch: int = 0
    last_epoch: int = 0
    run_started: float | None = None

    @property
    def epoch(self) -> int:
        """The last finished epoch (0 before the first)."""
        return int(self.epochs[-1]["epoch"]) if self.epochs else self.first_epoch

    def seconds_per_epoch(self) -> float | None:
        """Mean duration of the epochs of the current run."""
        if self.run_started is None:
            return None
        run = [e for e in self.epochs if e["epoch"] > self.first_epoch]
        if not run:
            return None
        return (float(run[-1]["time"]) - self.run_started) / len(run)

    def seconds_left(self) -> float | None:
        """Estimated seconds until ``last_epoch`` (None before the first epoch ends)."""
        per = self.seconds_per_epoch()
        if per is None:
            return None
        return max(0.0, per * (self.last_epoch - self.epoch))


@dataclass
class JobStatus:
    """State of a job as last read.

    Attributes
    ----------
    state : str
        ``starting``, ``running``, ``finished``, ``cancelled`` or ``failed``.
    reason : str
        Why it failed (empty otherwise), in words.
    kind : str
        Failure class: ``killed``, ``out_of_memory``, ``weights_unavailable``, ``error``,
        ``vanished``, or empty.
    log_tail : list of str
        The last lines of the log (for failures).
    hint : str
        What to try next (e.g. a smaller batch size after running out of GPU memory).
    """

    state: str
    reason: str = ""
    kind: str = ""
    log_tail: list[str] = field(default_factory=list)
    hint: str = ""

    @property
    def done(self) -> bool:
        return self.state in FINAL


def _now() -> str:
    return dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds")


def _read_json(path: Path) -> dict[str, Any]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return {}
    except (OSError, json.JSONDecodeError) as exc:
        raise RuntimeError(f"cannot read the job file {path}: {exc}") from exc
    return data if isinstance(data, dict) else {}


def _write_json(path: Path, data: dict[str, Any]) -> None:
    atomic_write(path, json.dumps(data, indent=2, default=str) + "\n", backup=False)


def _update_job(path: Path, **changes: Any) -> dict[str, Any]:
    data = _read_json(path)
    data.update(changes)
    _write_json(path, data)
    return data


def _pid_alive(pid: int | None) -> bool:
    """Whether a process exists and is not a zombie."""
    if not pid:
        return False
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:
        with open(f"/proc/{int(pid)}/stat", encoding="ascii") as fh:
            return fh.read().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return True


def _tail(path: Path, n: int = 15) -> list[str]:
    try:
        with open(path, "rb") as fh:
            fh.seek(0, os.SEEK_END)
            size = fh.tell()
            fh.seek(max(0, size - 64 * 1024))
            text = fh.read().decode("utf-8", "replace")
    except OSError:
        return []
    lines = [ln for ln in text.splitlines() if ln.strip() and not ln.startswith(EVENT_PREFIX)]
    return lines[-n:]


def explain_failure(
    returncode: int, log_tail: Sequence[str], batch_size: int | None = None
) -> tuple[str, str, str]:
    """Turn a worker's exit into ``(kind, reason, hint)``.

    Parameters
    ----------
    returncode : int
        The worker's exit status (negative: killed by that signal).
    log_tail : sequence of str
        Its last log lines.
    batch_size : int, optional
        The batch size it ran with (for the out-of-memory hint).
    """
    from napari_dlcflow.core.engine.devices import is_out_of_memory, oom_hint

    text = "\n".join(log_tail)
    if is_out_of_memory(text):
        return "out_of_memory", "the GPU ran out of memory", oom_hint(text, batch_size)
    if returncode < 0:
        try:
            name = signal.Signals(-returncode).name
        except ValueError:
            name = f"signal {-returncode}"
        why = f"killed by {name}"
        hint = ""
        if -returncode == signal.SIGKILL:
            why += " (kill -9, or the system's out-of-memory killer)"
            hint = "If nobody killed it, the computer ran out of memory: use a smaller batch size."
        return "killed", why, hint
    errors = [ln for ln in log_tail if re.match(r"^\w*(Error|Exception)\b|^\w+\.\w+Error", ln)]
    if errors:
        return "error", errors[-1], ""
    return "error", f"exit status {returncode}", ""


class TrainingJob:
    """A training job of one train folder: started here, or found there again.

    Parameters
    ----------
    train_folder : path-like
        The shuffle's ``train`` folder, which holds the job and log files.
    process : subprocess.Popen, optional
        The supervisor, when this process started it (lets us reap it).
    """

    def __init__(self, train_folder: str | os.PathLike, process: subprocess.Popen | None = None):
        self.train_folder = Path(train_folder).resolve()
        self.job_file = self.train_folder / JOB_FILE
        self.log_file = self.train_folder / LOG_FILE
        self._process = process

    def __repr__(self) -> str:
        return f"TrainingJob({str(self.train_folder)!r})"

    @property
    def spec(self) -> TrainSpec:
        return TrainSpec.from_dict(_read_json(self.job_file).get("spec", {}))

    def info(self) -> dict[str, Any]:
        """The raw job file."""
        return _read_json(self.job_file)

    def status(self) -> JobStatus:
        """Read the job file and check that a job said to be running still has a process."""
        data = self.info()
        state = str(data.get("state", "starting"))
        if state in FINAL:
            return JobStatus(
                state,
                reason=str(data.get("reason", "")),
                kind=str(data.get("kind", "")),
                log_tail=list(data.get("log_tail") or []),
                hint=str(data.get("hint", "")),
            )
        pid = data.get("supervisor_pid")
        if self._process is not None and self._process.poll() is not None:
            alive = False
        else:
            alive = _pid_alive(pid)
        if alive:
            return JobStatus(state)
        # The supervisor may have written its final state between our two reads.
        again = self.info()
        if str(again.get("state")) in FINAL:
            return self.status()
        if state == "starting" and pid is None and time.time() - float(data.get("t0", 0)) < 10:
            return JobStatus(state)
        tail = _tail(self.log_file)
        return JobStatus(
            "failed",
            reason="the training process no longer exists (killed with its supervisor, or the "
            "computer restarted)",
            kind="vanished",
            log_tail=tail,
        )

    def progress(self) -> Progress:
        """Epochs finished so far (from the log's JSON lines; all runs of this folder)."""
        prog = Progress()
        by_epoch: dict[int, dict[str, Any]] = {}
        try:
            lines = self.log_file.read_text(encoding="utf-8", errors="replace").splitlines()
        except OSError:
            lines = []
        for line in lines:
            if not line.startswith(EVENT_PREFIX):
                continue
            try:
                event = json.loads(line[len(EVENT_PREFIX) :])
            except json.JSONDecodeError:
                continue
            kind = event.get("event")
            if kind == "train_start":
                prog.first_epoch = int(event.get("first_epoch", 0))
                prog.last_epoch = int(event.get("last_epoch", 0))
                prog.run_started = float(event.get("time", time.time()))
                for e in [e for e in by_epoch if e > prog.first_epoch]:
                    del by_epoch[e]  # a resumed run redoes the epochs after its snapshot
            elif kind == "epoch":
                by_epoch[int(event["epoch"])] = event
        prog.epochs = [by_epoch[k] for k in sorted(by_epoch)]
        return prog

    def poll(self) -> tuple[JobStatus, Progress]:
        """Status and progress together."""
        return self.status(), self.progress()

    def cancel(self, *, now: bool = False) -> None:
        """Ask the job to stop.

        Parameters
        ----------
        now : bool
            False: stop at the end of the current epoch, after saving its snapshot. True:
            terminate at once (snapshots already written stay).
        """
        (self.train_folder / CANCEL_FILE).write_text(_now(), encoding="utf-8")
        if now:
            pid = self.info().get("worker_pid")
            if _pid_alive(pid):
                os.kill(int(pid), signal.SIGTERM)

    def wait(self, timeout: float | None = None, poll: float = 0.5) -> JobStatus:
        """Block until the job ends; returns its final status.

        Raises
        ------
        TimeoutError
            If it is still running after ``timeout`` seconds.
        """
        start = time.monotonic()
        while True:
            st = self.status()
            if st.done:
                if self._process is not None:
                    with contextlib.suppress(subprocess.TimeoutExpired):
                        self._process.wait(timeout=10)
                return st
            if timeout is not None and time.monotonic() - start > timeout:
                raise TimeoutError(f"training in {self.train_folder} still running")
            time.sleep(poll)


def find_job(train_folder: str | os.PathLike) -> TrainingJob | None:
    """Reattach to the job of a train folder, if one was ever started there."""
    folder = Path(train_folder)
    return TrainingJob(folder) if (folder / JOB_FILE).is_file() else None


def start_training(
    spec: TrainSpec,
    *,
    train_folder: str | os.PathLike | None = None,
    model: ModelRef | None = None,
) -> TrainingJob:
    """Start a detached training job and return at once.

    Parameters
    ----------
    spec : TrainSpec
        What to train; its ``shuffle`` and ``trainset_index`` are filled in (they go to the
        job file, the plain JSON the child reads).
    train_folder : path-like, optional
        The shuffle's train folder (default: the model's).
    model : ModelRef, optional
        The model to train, made where the shuffle was resolved; its shuffle and trainset
        index replace the spec's. Default: resolved from the spec.

    Returns
    -------
    TrainingJob

    Raises
    ------
    RuntimeError
        If a job is running in that folder already.
    FileNotFoundError
        If the shuffle has no training dataset.
    """
    from napari_dlcflow.core.engine.dataset import resolve_model, resolve_shuffle

    spec.config = str(Path(spec.config).resolve())
    if model is not None:
        spec.shuffle, spec.trainset_index = model.shuffle, model.trainset_index
    if train_folder is None:
        model = resolve_model(model or spec.config, spec.shuffle, spec.trainset_index)
        spec.shuffle, spec.trainset_index = model.shuffle, model.trainset_index
        train_folder = model.find_train_folder()
    folder = Path(train_folder).resolve()
    if not (folder / "pytorch_config.yaml").is_file():
        raise FileNotFoundError(f"{folder / 'pytorch_config.yaml'} is missing")
    old = find_job(folder)
    if old is not None and not old.status().done:
        raise RuntimeError(f"a training job is already running in {folder}")
    if model is None:  # the folder was given: the spec still names its model in the job file
        spec.shuffle, spec.trainset_index = resolve_shuffle(
            spec.config, spec.shuffle, spec.trainset_index
        )
    (folder / CANCEL_FILE).unlink(missing_ok=True)
    job_file = folder / JOB_FILE
    _write_json(
        job_file,
        {
            "state": "starting",
            "spec": spec.to_dict(),
            "started": _now(),
            "t0": time.time(),
            "supervisor_pid": None,
            "worker_pid": None,
        },
    )
    log = open(folder / LOG_FILE, "ab")  # noqa: SIM115 - handed to the child
    try:
        log.write(f"\n=== napari-dlcflow training job started {_now()} ===\n".encode())
        log.flush()
        env = {"HF_HUB_OFFLINE": "1"} if spec.offline else {}
        base = child_env(env)
        if not spec.offline and os.environ.get("HF_HUB_OFFLINE") is None:
            base.pop("HF_HUB_OFFLINE", None)  # let pretrained weights download when online
        proc = subprocess.Popen(
            task_command("train-supervise", job_file=str(job_file)),
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            env=base,
            start_new_session=True,
            cwd=str(folder),
        )
    finally:
        log.close()
    _update_job(job_file, supervisor_pid=proc.pid)
    return TrainingJob(folder, proc)


def resume_spec(
    job_or_folder: TrainingJob | str | os.PathLike, epochs: int | None = None
) -> TrainSpec:
    """The spec that continues a stopped job from its latest complete snapshot.

    Parameters
    ----------
    job_or_folder : TrainingJob or path-like
        The job (or its train folder).
    epochs : int, optional
        New total epoch count (default: the old one).

    Raises
    ------
    FileNotFoundError
        If there is no complete snapshot to continue from.
    """
    job = job_or_folder if isinstance(job_or_folder, TrainingJob) else TrainingJob(job_or_folder)
    snaps = [s for s in list_snapshots(job.train_folder, check=True)]
    if not snaps:
        raise FileNotFoundError(f"no complete snapshot in {job.train_folder} to resume from")
    latest = max(snaps, key=lambda s: (s.epoch, not s.best))
    spec = job.spec
    spec.resume_from = str(latest.path)
    if epochs is not None:
        spec.epochs = int(epochs)
    if spec.epochs <= latest.epoch:
        raise ValueError(
            f"the model has been trained for {latest.epoch} epochs already; ask for more than that"
        )
    return spec


# ---------------------------------------------------------------------------------------------
# The supervisor (runs detached; imports nothing heavy)
# ---------------------------------------------------------------------------------------------


def supervise(job_file: str | os.PathLike) -> int:
    """Run the worker of ``job_file`` and record how it ended (engine task
    ``train-supervise``)."""
    job_path = Path(job_file)
    folder = job_path.parent
    data = _update_job(job_path, state="running", supervisor_pid=os.getpid())
    spec = TrainSpec.from_dict(data.get("spec", {}))
    worker = subprocess.Popen(
        task_command("train-worker", job_file=str(job_path)),
        stdin=subprocess.DEVNULL,
        cwd=str(folder),
    )
    _update_job(job_path, worker_pid=worker.pid)

    def forward(signum: int, _frame: Any) -> None:
        if worker.poll() is None:
            worker.send_signal(signum)

    signal.signal(signal.SIGTERM, forward)
    signal.signal(signal.SIGINT, forward)
    rc = worker.wait()
    tail = _tail(folder / LOG_FILE)
    outcome = _last_outcome(folder / LOG_FILE)
    cancel_asked = (folder / CANCEL_FILE).exists()
    (folder / CANCEL_FILE).unlink(missing_ok=True)
    if rc == 0 and outcome == "finished":
        _update_job(job_path, state="finished", ended=_now(), returncode=rc)
    elif (rc == 0 and outcome == "cancelled") or (cancel_asked and rc in (0, -signal.SIGTERM)):
        _update_job(job_path, state="cancelled", ended=_now(), returncode=rc, reason="cancelled")
    else:
        error = _last_event(folder / LOG_FILE, "error")
        if error is not None:
            kind, reason = str(error.get("failure", "error")), str(error["message"])
            if error.get("type") and error["type"] != "EngineError":
                reason = f"{error['type']}: {reason}"
            hint = str(error.get("hint", ""))
        else:
            kind, reason, hint = explain_failure(rc, tail, spec.batch_size)
        if kind == "error":
            k2, r2, h2 = explain_failure(rc, [*tail, reason], spec.batch_size)
            if k2 == "out_of_memory":
                kind, reason, hint = k2, r2, h2
        _update_job(
            job_path,
            state="failed",
            ended=_now(),
            returncode=rc,
            kind=kind,
            reason=reason,
            hint=hint,
            log_tail=tail,
        )
    return 0


def _events(log: Path) -> list[dict[str, Any]]:
    out = []
    try:
        text = log.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return out
    for line in text.splitlines():
        if line.startswith(EVENT_PREFIX):
            with contextlib.suppress(json.JSONDecodeError):
                out.append(json.loads(line[len(EVENT_PREFIX) :]))
    return out


def _last_event(log: Path, kind: str) -> dict[str, Any] | None:
    """The last event of ``kind`` in the current run (after the last ``run_start``)."""
    found = None
    for e in _events(log):
        if e.get("event") == "run_start":
            found = None
        elif e.get("event") == kind:
            found = e
    return found


def _last_outcome(log: Path) -> str | None:
    outcome = None
    for e in _events(log):
        if e.get("event") == "run_start":
            outcome = None
        elif e.get("event") in ("finished", "cancelled"):
            outcome = str(e["event"])
    return outcome


def format_seconds(seconds: float | None) -> str:
    """``"1 h 05 min"``, ``"3 min 20 s"``, ``"45 s"``, or ``"-"`` for None."""
    if seconds is None or not math.isfinite(seconds):
        return "-"
    s = round(seconds)
    if s >= 3600:
        return f"{s // 3600} h {s % 3600 // 60:02d} min"
    if s >= 60:
        return f"{s // 60} min {s % 60:02d} s"
    return f"{s} s"
