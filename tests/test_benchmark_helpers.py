"""The helpers the benchmarks share (they are not run in CI, so their helpers are tested here)."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from typing import Any

import pytest

BENCHMARKS = Path(__file__).resolve().parents[1] / "benchmarks"


def _load(name: str) -> Any:
    """Import ``benchmarks/<name>.py`` as the scripts do (with their folder on ``sys.path``)."""
    sys.path.insert(0, str(BENCHMARKS))
    try:
        spec = importlib.util.spec_from_file_location(name, BENCHMARKS / f"{name}.py")
        assert spec is not None and spec.loader is not None
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
    finally:
        sys.path.remove(str(BENCHMARKS))
    return module


def test_table_prints_each_row_and_the_markdown_table(capsys: pytest.CaptureFixture[str]) -> None:
    module = _load("_table")
    table = module.Table("DeepLabCut 3", "DLC ")
    table.row("decode", "1.0 s", "2.0 s", "2.0x")
    table.row("seek", "3 ms", "n/a", "")
    assert capsys.readouterr().out == (
        "  decode: ours 1.0 s | DLC 2.0 s | 2.0x\n  seek: ours 3 ms | DLC n/a | \n"
    )
    assert table.markdown() == (
        "\n| measurement | napari-dlcflow | DeepLabCut 3 | ratio / note |\n"
        "|---|---|---|---|\n"
        "| decode | 1.0 s | 2.0 s | 2.0x |\n"
        "| seek | 3 ms | n/a |  |"
    )
    assert module.Table("other tool").rows == []


def test_overlay_benchmark_reads_its_memory_figures_from_proc() -> None:
    bench = _load("bench_overlay")
    status = Path("/proc/self/status").read_text()
    peak = next(int(line.split()[1]) for line in status.splitlines() if line.startswith("VmHWM:"))
    assert bench._peak_rss_mib() >= peak / 1024  # the peak only grows
    now = bench._rss_mib()
    assert 0 < now <= bench._peak_rss_mib()
    assert bench._status_mib("NoSuchField") != bench._status_mib("NoSuchField")  # NaN


def test_proofreading_effort_reaches_zero_switches_on_injected_swaps(shared_data: Path) -> None:
    """The effort benchmark's simulated user, on 400 frames of clip.slp with 3 swaps injected:
    it finds the swaps (the fewest is 3), edits through a real TrackSession and ends with no
    identity switch and the truth's IDF1."""
    from napari_dlcflow.core.formats.tracks import load_tracks
    from napari_dlcflow.core.predictions.tracks import Tracks

    module = _load("bench_proofread_effort")
    full = load_tracks(shared_data / "sleap-tests" / "tracks" / "clip.slp")
    truth = Tracks(
        full.keypoints[:400], None, full.individuals, full.bodyparts, covered=full.covered[:400]
    )
    pred = module.inject(truth, 3, seed=1)
    r = module.proofread(pred, truth, expected=2)
    assert r["switches_before"] > 0 and r["idf1_before"] < 0.9, r
    assert r["needed"] == 3, r
    assert r["fixes"] + r["scrub"] == 3, r
    assert r["switches_after"] == 0 and r["idf1_after"] == pytest.approx(1.0), r
