"""The label QC goals of issue 16 on the real openfield project, with the benchmark's seeded
injected mistakes (``benchmarks/bench_label_qc.py``; thresholds were tuned on seed 0, this is
seed 1)."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import pytest

BENCH = Path(__file__).resolve().parents[2] / "benchmarks" / "bench_label_qc.py"


def _bench():  # the benchmark is a script, not a package module
    spec = importlib.util.spec_from_file_location("bench_label_qc", BENCH)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # its dataclasses look themselves up there
    spec.loader.exec_module(module)
    return module


@pytest.mark.slow
def test_recall_and_false_findings_on_openfield(openfield_project: Path) -> None:
    before = {p: p.read_bytes() for p in openfield_project.rglob("*.h5")}
    stats = _bench().run(openfield_project, seeds=[1], per_kind=8)
    assert {k: s["injected"] for k, s in stats.items()} == {
        "swap": 8,
        "displaced": 8,
        "duplicate": 8,
        "leftover": 8,
        "outside": 8,
        "identity": 0,  # one animal: nothing to exchange
    }
    for kind in ("swap", "duplicate", "leftover", "outside"):
        assert stats[kind]["recall"] >= 0.9, (kind, stats[kind])
    # displaced points: below the goal (docs/label-qc.md says why: 4 points, a bending tail)
    assert stats["displaced"]["recall"] >= 0.6, stats["displaced"]
    for kind, s in stats.items():
        if not s["injected"]:
            continue
        assert s["fp_new_per20"] <= 1.0, (kind, s)
        assert s["fp_all_per20"] <= 1.0, (kind, s)
    # the labels are put back
    assert {p: p.read_bytes() for p in openfield_project.rglob("*.h5")} == before
