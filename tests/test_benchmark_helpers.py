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


def test_tracking_ceiling_gives_each_assembly_its_true_identity(tmp_path: Path) -> None:
    """The tracking benchmark's ceiling: assemblies in any order per frame score IDF1 1 (no
    tracker could do better); a frame without one animal's assembly counts as a miss."""
    import pickle

    import numpy as np
    import pandas as pd

    module = _load("bench_tracking")
    rng = np.random.default_rng(0)
    T, K = 30, 3
    xy = np.zeros((T, 2, K, 2))
    xy[:, 0] = np.arange(T)[:, None, None] + [[10, 10], [14, 10], [18, 10]]
    xy[:, 1] = np.arange(T)[:, None, None] + [[10, 60], [14, 60], [18, 60]]
    cols = pd.MultiIndex.from_product(
        [["truth"], ["a", "b"], ["p0", "p1", "p2"], ["x", "y"]],
        names=["scorer", "individuals", "bodyparts", "coords"],
    )
    truth = tmp_path / "truth.csv"
    pd.DataFrame(xy.reshape(T, -1), columns=cols).to_csv(truth)
    assemblies: dict = {}
    for t in range(T):
        order = rng.permutation(2)
        found = np.concatenate([xy[t, order], np.ones((2, K, 2))], axis=-1)
        assemblies[t] = found[:1] if t == 5 else found  # frame 5: one animal missed
    folder = tmp_path / "ours"
    folder.mkdir()
    with (folder / "v_assemblies.pickle").open("wb") as fh:
        pickle.dump(assemblies, fh)
    scores = module.ceiling(folder, truth)
    assert scores["switches_per_1000"] == 0
    assert scores["all_found"] == pytest.approx(29 / 30)
    assert scores["idf1"] == pytest.approx(2 * 59 / (60 + 59))  # 2 IDTP / (truth + predicted)
