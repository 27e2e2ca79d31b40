"""The one hidden child entry point of the engine: ``python -m napari_dlcflow _engine TASK JSON``.

Every piece of work that imports deeplabcut or torch runs in a child process started through
:func:`run_task` (or, for the detached training job, :func:`task_command`). The child is
``python -m napari_dlcflow _engine <task> <json>``: ``<task>`` is a name of :data:`TASKS` and
``<json>`` an object of keyword arguments for it. The task reports with
:func:`napari_dlcflow.core.jobs.emit` JSON lines. Errors follow one convention: a task raises
(:class:`EngineError` for an expected failure, anything else for a bug) and :func:`main` reports
it as one ``error`` event (:func:`~napari_dlcflow.core.jobs.emit_error`: ``type``, ``message``,
``file``, ``where``) and exits with status 1; the traceback of an unexpected error goes to the
log. The CLI hides ``_engine`` from ``--help``.

This module imports nothing heavy: the task functions are imported when a task runs.
"""

from __future__ import annotations

import importlib
import json
import sys
import traceback
from collections.abc import Sequence
from typing import Any

from napari_dlcflow.core.jobs import ChildResult, emit_error, run_child

__all__ = ["ENTRY", "TASKS", "EngineError", "main", "run_task", "task_args", "task_command"]

ENTRY = "_engine"
"""The hidden subcommand of ``python -m napari_dlcflow`` that runs an engine task."""

TASKS: dict[str, str] = {
    "create-dataset": "napari_dlcflow.core.engine.dataset:create_datasets_here",
    "train-supervise": "napari_dlcflow.core.engine.training:supervise",
    "train-worker": "napari_dlcflow.core.engine.child:train_worker",
    "evaluate": "napari_dlcflow.core.engine.child:evaluate_here",
    "analyze": "napari_dlcflow.core.engine.analysis:analyze_here",
    "predict-images": "napari_dlcflow.core.engine.images:predict_images_here",
    "devices": "napari_dlcflow.core.engine.devices:devices_here",
    "dlc-check": "napari_dlcflow.core.engine.dlc_check:check_config_here",
    "weights": "napari_dlcflow.core.engine.weights:weights_here",
}
"""Task name -> ``module:function`` run in the child with the JSON's keyword arguments. The
function reports with ``emit`` and returns an exit status (None: 0) or raises."""


class EngineError(RuntimeError):
    """An expected failure of an engine task, reported to the parent as its ``error`` event.

    Parameters
    ----------
    message : str
        What went wrong, in words (naming the file when there is one).
    file : path-like, optional
        The file the error is about.
    **extra
        More fields of the ``error`` event (e.g. ``failure`` and ``hint`` of training).
    """

    def __init__(self, message: str, *, file: Any = None, **extra: Any) -> None:
        super().__init__(message)
        self.file = str(file) if file is not None else None
        self.extra = extra


def task_args(task: str, **kwargs: Any) -> list[str]:
    """The arguments of ``python -m napari_dlcflow`` that run ``task`` with ``kwargs``.

    Raises
    ------
    ValueError
        If ``task`` is not one of :data:`TASKS`.
    """
    if task not in TASKS:
        raise ValueError(f"unknown engine task {task!r}; known: {', '.join(sorted(TASKS))}")
    return [ENTRY, task, json.dumps(kwargs, default=str)]


def task_command(task: str, **kwargs: Any) -> list[str]:
    """The full command line (this Python) that runs ``task``: for detached processes."""
    return [sys.executable, "-m", "napari_dlcflow", *task_args(task, **kwargs)]


def run_task(
    task: str,
    *,
    on_event: Any = None,
    on_log: Any = None,
    should_stop: Any = None,
    timeout: float | None = None,
    env: dict[str, str] | None = None,
    **kwargs: Any,
) -> ChildResult:
    """Run an engine task in a child process and collect its events.

    Parameters
    ----------
    task : str
        One of :data:`TASKS`.
    on_event, on_log, should_stop, timeout, env
        As :func:`napari_dlcflow.core.jobs.run_child` takes them.
    **kwargs
        The task's keyword arguments (JSON-serialisable).

    Returns
    -------
    ChildResult
        A failed task has ``ok`` False and its ``error`` event in ``reason()``.
    """
    return run_child(
        task_args(task, **kwargs),
        on_event=on_event,
        on_log=on_log,
        should_stop=should_stop,
        timeout=timeout,
        env=env,
    )


def main(argv: Sequence[str]) -> int:
    """Run ``_engine TASK [JSON]`` in this (child) process; returns the exit status."""
    if not argv:
        emit_error(EngineError(f"{ENTRY} needs a task: {', '.join(sorted(TASKS))}"))
        return 2
    task, rest = argv[0], list(argv[1:])
    target = TASKS.get(task)
    if target is None:
        emit_error(EngineError(f"unknown engine task {task!r}; known: {', '.join(sorted(TASKS))}"))
        return 2
    try:
        kwargs = json.loads(rest[0]) if rest else {}
        if not isinstance(kwargs, dict):
            raise EngineError(f"{ENTRY} {task}: the arguments must be a JSON object")
        module, _, name = target.partition(":")
        func = getattr(importlib.import_module(module), name)
        return int(func(**kwargs) or 0)
    except EngineError as exc:
        emit_error(exc, **exc.extra)
        return 1
    except Exception as exc:  # a bug or a failure of DeepLabCut: the traceback goes to the log
        traceback.print_exc()
        emit_error(exc)
        return 1
