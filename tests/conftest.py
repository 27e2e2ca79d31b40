"""Shared fixtures: real data from ../shared/data, a small synthetic video, screenshots."""

from __future__ import annotations

import contextlib
import os
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from _xdist_groups import (  # noqa: F401  (hooks: xdist_group marks work on pytest 9.2)
    pytest_collection_modifyitems,
    pytest_configure,
    pytest_configure_node,
    pytest_xdist_make_scheduler,
)

pytest_plugins = ["pytester"]  # tests/test_xdist_groups.py runs a small suite in a child

if os.environ.get("PYTEST_XDIST_WORKER"):
    # Under -n 2 on two cores, each worker's DeepLabCut children (torch, OpenMP) and Dask
    # workers get one thread: two workers' two-thread children on two cores spin against each
    # other (docs/testing.md, "Suite time"). A value the user set is kept.
    for _var in ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS"):
        os.environ.setdefault(_var, "1")

# The engine's own tests import torch in the test process, and torch imports triton on first use
# of torch._dynamo (timm does). Triton loads its LLVM; where a viewer drew before, Mesa's
# llvmpipe has loaded another, and triton's import then crashes the worker (segmentation fault:
# a CI run of December 2026 lost a worker this way and hung). Loaded here, before any viewer,
# the two coexist. The product itself never imports timm or torch in a process that may hold a
# viewer (docs/architecture.md; tests/test_cli_ma_training.py checks the command line and API).
with contextlib.suppress(ImportError):
    import triton  # noqa: F401

ROOT = Path(__file__).resolve().parents[1]
SHARED_DATA = ROOT.parent / "shared" / "data"
ARTIFACTS = ROOT / "tests" / "_artifacts"
DOCS_IMAGES = ROOT / "docs" / "images"


@pytest.fixture(scope="session")
def shared_data() -> Path:
    """``../shared/data`` (real DLC and SLEAP data); skips when it is not beside the repo."""
    if not SHARED_DATA.is_dir():
        pytest.skip(f"real test data not found at {SHARED_DATA} (clone beside ../shared)")
    return SHARED_DATA


@pytest.fixture
def openfield_project(shared_data: Path, tmp_path: Path) -> Path:
    """A writable copy of the real openfield DLC project's config and labels (no video)."""
    src = shared_data / "dlc-openfield"
    dest = tmp_path / "openfield-Pranav-2018-10-30"
    shutil.copytree(src / "labeled-data", dest / "labeled-data")
    shutil.copy(src / "config.yaml", dest / "config.yaml")
    for p in [dest, *dest.rglob("*")]:
        p.chmod(0o755 if p.is_dir() else 0o644)
    return dest


@pytest.fixture(scope="session")
def small_video(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A 40-frame synthetic example video (320 x 320) with its truth CSV beside it."""
    from napari_dlcflow.core.example.synthetic import SyntheticSpec, write_synthetic_example

    folder = tmp_path_factory.mktemp("example")
    return write_synthetic_example(folder, SyntheticSpec(n_frames=40, seed=3)).video


@pytest.fixture
def save_screenshot() -> Callable[..., Path]:
    """Save a viewer screenshot to tests/_artifacts (and to docs/images when
    ``DLCFLOW_DOCS_IMAGES=1``); returns the path. ``camera=((y, x), zoom)`` frames a detail.
    Given a Qt widget (a dialog) instead of a viewer, it saves the widget as drawn."""

    def save(
        viewer: object,
        name: str,
        *,
        canvas_only: bool = False,
        size: tuple[int, int] = (1400, 950),
        camera: tuple[tuple[float, float], float] | None = None,
    ) -> Path:
        from napari_dlcflow.widgets.common.screenshot import prepare, save_screenshot

        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        path = ARTIFACTS / f"{name}.png"
        if not hasattr(viewer, "layers"):  # a dialog or a widget: what a user sees of it
            from qtpy.QtWidgets import QApplication

            if viewer.parent() is None:  # type: ignore[attr-defined]  # a top-level dialog
                viewer.adjustSize()  # type: ignore[attr-defined]
            QApplication.processEvents()
            if not viewer.grab().save(str(path)):  # type: ignore[attr-defined]
                raise OSError(f"Could not write the screenshot {path}")
        else:
            prepare(viewer, size)  # type: ignore[arg-type]
            if camera is not None:  # ((y, x) centre, zoom) after the reset of prepare
                viewer.camera.center, viewer.camera.zoom = camera  # type: ignore[attr-defined]
            save_screenshot(viewer, path, canvas_only=canvas_only)  # type: ignore[arg-type]
        if os.environ.get("DLCFLOW_DOCS_IMAGES") == "1":
            DOCS_IMAGES.mkdir(parents=True, exist_ok=True)
            shutil.copy(path, DOCS_IMAGES / path.name)
        return path

    return save


@pytest.fixture(autouse=True)
def _close_with_jobs_stops_them(monkeypatch: pytest.MonkeyPatch) -> None:
    """Closing a test's viewer while a job runs answers "stop all" instead of a modal box
    (tests/widgets/test_close_with_jobs.py drives the question itself)."""
    from napari_dlcflow.widgets.common import jobs

    monkeypatch.setattr(jobs, "ask_close_with_jobs", lambda parent, running, detached: "stop")


@pytest.fixture
def imported_names_exist() -> Callable[[str, str], int]:
    """``check(source, label)``: every ``from napari_dlcflow... import name`` in ``source``
    names something that exists (asserted, ``label`` in the message); returns how many."""
    import ast
    import importlib

    def check(source: str, label: str) -> int:
        checked = 0
        for node in ast.walk(ast.parse(source, label)):
            if isinstance(node, ast.ImportFrom) and (node.module or "").startswith(
                "napari_dlcflow"
            ):
                module = importlib.import_module(node.module)
                for alias in node.names:
                    assert hasattr(module, alias.name), f"{label}: {node.module}.{alias.name}"
                    checked += 1
        return checked

    return check


def _write_iteration_history(
    project: Any, snapshots: tuple[str, ...] = ("snapshot-005.pt", "snapshot-best-010.pt")
) -> Any:
    """Lay out an iteration-0 history on disk the way DeepLabCut leaves it: the training
    dataset (the project's labels), ``snapshots`` and the evaluation of snapshot-best-010."""
    import pandas as pd

    from napari_dlcflow.core.labels.collected import labels_to_dataframe, read_labels

    root, name = project.root, f"{project.task}{project.date}"
    ds = root / "training-datasets" / "iteration-0" / f"UnaugmentedDataSet_{name}"
    ds.mkdir(parents=True)
    labels = read_labels(next(root.glob("labeled-data/*/CollectedData_*.h5")))
    labels_to_dataframe(labels).to_hdf(ds / f"CollectedData_{project.scorer}.h5", key="df")
    train = root / "dlc-models-pytorch" / "iteration-0" / f"{name}-trainset95shuffle1" / "train"
    train.mkdir(parents=True)
    for snap in snapshots:
        (train / snap).write_bytes(b"weights")
    ev = root / "evaluation-results-pytorch" / "iteration-0" / f"{name}-trainset95shuffle1"
    ev.mkdir(parents=True)
    pd.DataFrame({"train rmse": [1.5], "test rmse": [4.25]}).to_csv(
        ev / f"DLC_Resnet50_{name}shuffle1_snapshot_best-010-results.csv"
    )
    return project


@pytest.fixture
def dlc_iteration_layout() -> Callable[..., Any]:
    """``layout(project, snapshots=...)``: give a labeled project an iteration-0 history on
    disk (dataset, snapshots, evaluation); DeepLabCut itself does not run. Returns the
    project."""
    return _write_iteration_history
