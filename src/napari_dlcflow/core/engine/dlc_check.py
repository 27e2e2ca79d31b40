"""Ask DeepLabCut itself whether it accepts a project's ``config.yaml`` (in a child process)."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from napari_dlcflow.core.jobs import emit

__all__ = ["DLCVerdict", "check_config_here", "check_config_in_child"]


@dataclass(frozen=True)
class DLCVerdict:
    """DeepLabCut's answer about one config.

    Attributes
    ----------
    ok : bool
        Whether DeepLabCut loaded and validated it.
    message : str
        The problem DeepLabCut found, or a summary of what it read.
    bodyparts : tuple of str
        The body parts DeepLabCut read (empty when not ok).
    dlc_version : str
        The deeplabcut version that answered.
    """

    ok: bool
    message: str
    bodyparts: tuple[str, ...] = ()
    dlc_version: str = ""


def check_config_here(config: str | os.PathLike) -> None:
    """Validate ``config`` with DeepLabCut's own config model and emit the verdict.

    Runs inside the child (the engine task ``dlc-check``): it imports deeplabcut. It
    reads the file only; DeepLabCut's ``from_yaml`` reports a stale ``project_path`` without
    writing it.
    """
    import deeplabcut
    from deeplabcut.core.config import ProjectConfig

    path = Path(config)
    try:
        cfg = ProjectConfig.from_yaml(path)
        parts = list(cfg.bodyparts_list) + list(cfg.uniquebodyparts or [])
    except Exception as exc:  # DLC raises pydantic and value errors of many kinds
        emit("verdict", ok=False, message=str(exc), dlc_version=deeplabcut.__version__)
        return
    emit(
        "verdict",
        ok=True,
        message=f"DeepLabCut {deeplabcut.__version__} accepts {path.name}: "
        f"{len(parts)} body parts, task {cfg.Task!r}",
        bodyparts=parts,
        dlc_version=deeplabcut.__version__,
    )


def check_config_in_child(config: str | os.PathLike, *, timeout: float = 300) -> DLCVerdict:
    """Run :func:`check_config_here` in a child process and return its verdict.

    Raises
    ------
    RuntimeError
        If the child failed before answering (DeepLabCut missing or crashed).
    """
    from napari_dlcflow.core.engine.tasks import run_task

    result = run_task("dlc-check", config=str(Path(config).resolve()), timeout=timeout)
    verdict = result.last("verdict")
    if verdict is None:
        raise RuntimeError(f"DeepLabCut could not check {config}: {result.reason()}")
    return DLCVerdict(
        ok=bool(verdict["ok"]),
        message=str(verdict["message"]),
        bodyparts=tuple(verdict.get("bodyparts") or ()),
        dlc_version=str(verdict.get("dlc_version", "")),
    )
