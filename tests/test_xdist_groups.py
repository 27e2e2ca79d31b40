"""The suite's two-worker run keeps each ``xdist_group`` on one worker (tests/_xdist_groups.py).

A small suite of eight tests, four of them in group ``g``, runs with ``-n 2 --dist loadgroup``
in a child pytest. Each test records its worker; the group must share one worker while the
ungrouped tests still spread over both. Without the hooks (pytest 9.2 and pytest-xdist 3.8
as locked) the group is spread too, which is what the second run shows.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

pytest.importorskip("xdist", reason="pytest-xdist (the test extra) is not installed")

SUITE = """
import json, os, pathlib, time
import pytest

def _record(name):
    # a little work, so that both workers get ungrouped tests
    time.sleep(0.3)
    out = pathlib.Path(os.environ["RECORD_DIR"]) / name
    out.write_text(os.environ["PYTEST_XDIST_WORKER"])

@pytest.mark.xdist_group("g")
@pytest.mark.parametrize("i", range(4))
def test_grouped(i):
    _record(f"grouped{i}")

@pytest.mark.parametrize("i", range(4))
def test_free(i):
    _record(f"free{i}")
"""


def _run(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch, with_hooks: bool
) -> dict[str, str]:
    record = pytester.path / ("with" if with_hooks else "without")
    record.mkdir()
    if with_hooks:
        shutil.copy(Path(__file__).with_name("_xdist_groups.py"), pytester.path)
        pytester.makeconftest("from _xdist_groups import *  # noqa: F403\n")
    pytester.makepyfile(test_suite=SUITE)
    monkeypatch.setenv("RECORD_DIR", str(record))
    # only xdist: loading napari's, Qt's and Xvfb's plugins in three processes is most of the time
    monkeypatch.setenv("PYTEST_DISABLE_PLUGIN_AUTOLOAD", "1")
    result = pytester.runpytest_subprocess(
        "-n", "2", "--dist", "loadgroup", "-p", "xdist.plugin", "-p", "no:cacheprovider"
    )
    result.assert_outcomes(passed=8)
    return {p.name: p.read_text() for p in record.iterdir()}


def test_a_group_runs_on_one_worker_and_the_rest_spreads(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    seen = _run(pytester, monkeypatch, with_hooks=True)
    grouped = {seen[f"grouped{i}"] for i in range(4)}
    assert len(grouped) == 1, seen
    assert set(seen.values()) == {"gw0", "gw1"}, seen  # the ungrouped tests use both workers
    print(json.dumps(seen, sort_keys=True))


def test_without_the_hooks_the_locked_versions_spread_the_group(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Why the hooks exist: if this starts failing, pytest-xdist groups by itself again and
    tests/_xdist_groups.py can go (see its docstring)."""
    seen = _run(pytester, monkeypatch, with_hooks=False)
    assert len({seen[f"grouped{i}"] for i in range(4)}) == 2, seen
