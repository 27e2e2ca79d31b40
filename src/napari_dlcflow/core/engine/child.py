"""Training and evaluation code that runs inside child processes and imports deeplabcut.

Nothing here is imported by the viewer: the engine tasks ``train-worker`` and ``evaluate``
(:mod:`napari_dlcflow.core.engine.tasks`) call these functions in a fresh
``python -m napari_dlcflow _engine ...`` process, and they report with
:func:`napari_dlcflow.core.jobs.emit` JSON lines.
"""

from __future__ import annotations

import json
import os
import time
import traceback
from pathlib import Path
from typing import Any

from napari_dlcflow.core.engine.tasks import EngineError
from napari_dlcflow.core.engine.training import (
    BACKBONES,
    CANCEL_FILE,
    INIT_WEIGHTS,
    TrainSpec,
    fitted_crop,
    snapshot_ok,
)
from napari_dlcflow.core.jobs import emit, emit_error
from napari_dlcflow.core.safe_io import atomic_writer

__all__ = ["evaluate_here", "train_worker"]


class _Cancelled(Exception):
    """Raised after the epoch at which a cancel was asked for."""


def _set_dotted(cfg: dict[str, Any], key: str, value: Any) -> None:
    node = cfg
    parts = key.split(".")
    for part in parts[:-1]:
        if not isinstance(node.get(part), dict):
            node[part] = {}
        node = node[part]
    node[parts[-1]] = value


def _edit_pytorch_config(path: Path, spec: TrainSpec) -> dict[str, Any]:
    """Apply the spec to the shuffle's ``pytorch_config.yaml`` (temp file, then rename)."""
    from deeplabcut.core.config import read_config_as_dict, write_config

    cfg = read_config_as_dict(path)
    for key, value in spec.config_updates().items():
        _set_dotted(cfg, key, value)
    sampling = ((cfg.get("data") or {}).get("train") or {}).get("crop_sampling")
    if not spec.crop_size and isinstance(sampling, dict) and "width" in sampling:
        project = read_config_as_dict(spec.config)
        crop = (int(sampling["width"]), int(sampling.get("height", sampling["width"])))
        fitted = fitted_crop(crop, project.get("video_sets"))
        if fitted:
            sampling["width"], sampling["height"] = fitted
            emit("log", message=f"training crops {fitted[0]} x {fitted[1]} px (the frames' size)")
    if spec.backbone:
        channels = BACKBONES[spec.backbone]
        cfg["model"]["backbone"]["model_name"] = spec.backbone
        cfg["model"]["backbone_output_channels"] = channels
        for head in (cfg["model"].get("heads") or {}).values():
            for part in ("heatmap_config", "locref_config"):
                conf = head.get(part)
                if conf and conf.get("channels"):
                    conf["channels"][0] = channels
    with atomic_writer(path, backup=False) as tmp:
        write_config(tmp, cfg, overwrite=True)
    return cfg


def _snapshot_epoch(path: str) -> int:
    import torch

    data = torch.load(path, map_location="cpu", weights_only=False)
    return int((data.get("metadata") or {}).get("epoch", 0) or 0)


def _weights_unavailable(exc: BaseException) -> bool:
    text = f"{type(exc).__name__}: {exc}"
    words = (
        "LocalEntryNotFound",
        "HF_HUB_OFFLINE",
        "huggingface",
        "offline",
        "urlopen",
        "ConnectionError",
        "Max retries",
        "Temporary failure in name resolution",
    )
    return any(w.lower() in text.lower() for w in words)


def train_worker(job_file: str) -> int:
    """Train the job of ``job_file`` (engine task ``train-worker``); returns the exit status.

    A failure is reported as the one ``error`` event (with ``failure``: ``error`` or
    ``weights_unavailable``, and maybe a ``hint``); exit status 3 for unavailable weights.
    """
    job_path = Path(job_file)
    folder = job_path.parent
    spec = TrainSpec.from_dict(json.loads(job_path.read_text(encoding="utf-8"))["spec"])
    emit("run_start", time=time.time(), pid=os.getpid())
    try:
        return _train(spec, folder)
    except _Cancelled:
        return 0
    except EngineError as exc:
        extra = {"failure": "error", **exc.extra}
        emit_error(exc, **extra)
        return 3 if extra["failure"] == "weights_unavailable" else 1
    except Exception as exc:  # reported to the user with the traceback in the log
        traceback.print_exc()
        emit_error(exc, failure="error")
        return 1


def _train(spec: TrainSpec, folder: Path) -> int:
    t0 = time.time()
    import deeplabcut
    import torch
    from deeplabcut.pose_estimation_pytorch.models import PoseModel
    from deeplabcut.pose_estimation_pytorch.runners.snapshots import TorchSnapshotManager

    emit(
        "log", message=f"deeplabcut {deeplabcut.__version__} imported in {time.time() - t0:.0f} s"
    )
    cfg = _edit_pytorch_config(folder / "pytorch_config.yaml", spec)

    snapshot_path: str | None = None
    first_epoch = 0
    if spec.resume_from:
        if not snapshot_ok(spec.resume_from):
            raise EngineError(
                f"snapshot {spec.resume_from} is incomplete "
                "(cut short while it was written); resume from an earlier one",
                file=spec.resume_from,
            )
        snapshot_path = spec.resume_from
        first_epoch = _snapshot_epoch(snapshot_path)
    elif spec.init_from:
        snapshot_path = _init_from_snapshot(spec.init_from, cfg, folder)
        emit("log", message=f"training starts from the weights of {spec.init_from}")
    elif spec.weights == "scratch":
        model = PoseModel.build(cfg["model"], pretrained_backbone=False)
        init = folder / INIT_WEIGHTS
        with atomic_writer(init, backup=False) as tmp:
            torch.save({"model": model.state_dict()}, tmp)
        snapshot_path = str(init)
        emit("log", message="training from scratch (random initial weights)")
    else:
        try:
            PoseModel.build(cfg["model"], pretrained_backbone=True)
        except Exception as exc:
            if not _weights_unavailable(exc):
                raise
            name = cfg["model"]["backbone"].get("model_name", "backbone")
            raise EngineError(
                f"pretrained {name} weights are not cached here and cannot be "
                "downloaded (offline). Train from scratch instead, or connect once to the "
                "internet to fetch them.",
                failure="weights_unavailable",
                hint="Choose weights: from scratch.",
            ) from exc

    remaining = spec.epochs - first_epoch
    if remaining < 1:
        raise EngineError(f"the snapshot has {first_epoch} epochs already; ask for more epochs")

    cancel_file = folder / CANCEL_FILE
    original_update = TorchSnapshotManager.update

    def update(self: Any, epoch: int, state_dict: dict, last: bool = False) -> None:
        before = {p.name for p in folder.glob("snapshot-*.pt")}
        original_update(self, epoch, state_dict, last=last)
        new = sorted({p.name for p in folder.glob("snapshot-*.pt")} - before)
        meta = state_dict.get("metadata") or {}
        losses = meta.get("losses") or {}
        evaluated = epoch % spec.eval_interval == 0
        metrics = {
            k.removeprefix("metrics/"): float(v)
            for k, v in (meta.get("metrics") or {}).items()
            if evaluated and isinstance(v, (int, float))
        }
        valid = losses.get("eval.total_loss") if evaluated else None
        stop = cancel_file.exists() and not last
        if stop and not any(s.endswith(f"-{epoch:03}.pt") for s in new):
            path = self.snapshot_path(epoch=epoch)
            keep = {k: v for k, v in state_dict.items() if k in ("model", "metadata")}
            with atomic_writer(path, backup=False) as tmp:
                torch.save(keep, tmp)
            new.append(path.name)
        emit(
            "epoch",
            epoch=int(epoch),
            last_epoch=spec.epochs,
            train_loss=losses.get("train.total_loss"),
            valid_loss=valid,
            metrics=metrics,
            snapshot=new[-1] if new else None,
            time=time.time(),
        )
        if stop:
            emit("cancelled", epoch=int(epoch), snapshot=new[-1])
            raise _Cancelled

    TorchSnapshotManager.update = update  # type: ignore[method-assign]
    device = spec.device
    if device == "cuda:all":
        device = "cuda"
    emit(
        "train_start",
        first_epoch=first_epoch,
        last_epoch=spec.epochs,
        time=time.time(),
        device=device,
    )
    deeplabcut.train_network(
        spec.config,
        shuffle=spec.shuffle,
        trainingsetindex=spec.trainset_index,
        device=device,
        snapshot_path=snapshot_path,
        epochs=remaining,
        batch_size=spec.batch_size,
        save_epochs=spec.save_epochs,
    )
    emit("finished", epoch=spec.epochs, time=time.time())
    return 0


def _init_from_snapshot(path: str, cfg: dict, folder: Path) -> str:
    """Write the model weights of ``path`` (no optimizer, no epoch) as the start of a new
    training.

    Raises
    ------
    EngineError
        If the snapshot is missing, incomplete or does not fit this model.
    """
    import torch
    from deeplabcut.pose_estimation_pytorch.models import PoseModel

    if not snapshot_ok(path):
        raise EngineError(f"snapshot {path} is missing or incomplete", file=path)
    state = torch.load(path, map_location="cpu", weights_only=True)
    model = PoseModel.build(cfg["model"], pretrained_backbone=False)
    try:
        model.load_state_dict(state["model"])
    except (RuntimeError, KeyError) as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise EngineError(
            f"snapshot {path} does not fit this model (were body parts or the net "
            f"type changed?): {first}",
            file=path,
            hint="Train from scratch or with pretrained weights instead.",
        ) from exc
    init = folder / INIT_WEIGHTS
    with atomic_writer(init, backup=False) as tmp:
        torch.save({"model": state["model"]}, tmp)
    return str(init)


def evaluate_here(
    config: str, shuffle: int, trainset_index: int, snapshots: list[str] | None, device: str
) -> None:
    """Evaluate snapshots with ``deeplabcut.evaluate_network`` (engine task ``evaluate``).

    Parameters
    ----------
    snapshots : list of str, optional
        Snapshot file stems (``snapshot-010``) to evaluate; all when None.
    """
    from deeplabcut.pose_estimation_pytorch.apis.evaluation import evaluate_network

    from napari_dlcflow.core.engine.training import list_snapshots

    if not snapshots:  # one at a time: a snapshot DeepLabCut fails on does not lose the others
        train = Path(config).parent / "dlc-models-pytorch"
        found = [
            s.path.stem
            for folder in train.glob(f"iteration-*/*shuffle{int(shuffle)}/train")
            for s in list_snapshots(folder, check=True)
        ]
        snapshots = sorted(set(found)) or None
    failed: list[str] = []
    for group in [[s] for s in snapshots] if snapshots else [None]:
        try:
            evaluate_network(
                config,
                shuffles=[int(shuffle)],
                trainingsetindex=int(trainset_index),
                snapshotindex="all",
                snapshots_to_evaluate=group,
                per_keypoint_evaluation=True,
                device=None if device == "auto" else device,
                plotting=False,
            )
        except Exception as exc:
            if group is None or len(snapshots or []) == 1:
                raise
            traceback.print_exc()
            failed.append(group[0])
            emit("log", message=f"{group[0]}: DeepLabCut failed ({type(exc).__name__}: {exc})")
    if snapshots and len(failed) == len(snapshots):
        raise EngineError(f"DeepLabCut could not evaluate any snapshot ({', '.join(failed)})")
    emit("evaluated", shuffle=int(shuffle))
