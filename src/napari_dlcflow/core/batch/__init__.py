"""Many videos, many machines: per-video work on a Dask cluster.

Holds the worker-side tasks (:mod:`.tasks`: analysis, preprocessing, filtering, labeled video;
one idempotent task per video), where they run (:mod:`.cluster`: a local cluster with one worker
per GPU, a scheduler by address, or Slurm/PBS/SGE/LSF through dask-jobqueue from a named
profile, :mod:`.profiles`) and the client side that submits them, reports progress, cancels and
writes the summary (:mod:`.runner`).

Must not import Qt, napari, deeplabcut or torch: analysis tasks call
:func:`napari_dlcflow.core.engine.analysis.analyze`, which runs DeepLabCut in a child process of
the worker. ``distributed`` (the ``batch`` extra) is imported only when a batch runs, so
importing this package is cheap.
"""

from __future__ import annotations

__all__ = [
    "KINDS",
    "BatchResult",
    "ClusterProfile",
    "VideoTask",
    "load_profile",
    "open_cluster",
    "run_batch",
    "write_summary_csv",
]

KINDS = ("preprocess", "analyze", "filter", "labeled")
"""The kinds of per-video work a batch can do."""

_WHERE = {
    "VideoTask": "tasks",
    "BatchResult": "runner",
    "run_batch": "runner",
    "write_summary_csv": "runner",
    "open_cluster": "cluster",
    "ClusterProfile": "profiles",
    "load_profile": "profiles",
}


def __getattr__(name: str) -> object:
    if name in _WHERE:
        import importlib

        module = importlib.import_module(f"{__name__}.{_WHERE[name]}")
        return getattr(module, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
