"""The seeded fuzzer, bounded for the suite: every reader, each case in a forked child; every
outcome must be a load or a documented error naming the file (never a crash, a hang or a raw
exception). ``python tests/fuzz/fuzz_readers.py --cases 20000`` runs it longer."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
#: Cases per reader in the suite; with the time budget, the whole test stays under 2 minutes.
CASES_PER_READER = 12
BUDGET_S = 60.0


def _fuzzer():  # type: ignore[no-untyped-def]
    spec = importlib.util.spec_from_file_location("fuzz_readers", HERE / "fuzz_readers.py")
    assert spec is not None and spec.loader is not None
    mod = importlib.util.module_from_spec(spec)
    sys.modules["fuzz_readers"] = mod
    spec.loader.exec_module(mod)
    return mod


def test_mutations_are_seeded() -> None:
    import random

    fz = _fuzzer()
    data = b"scorer,a,a\nbodyparts,x,x\ncoords,x,y\nimg.png,1,2\n" * 3
    a = [fz.mutate(data, random.Random(f"s-{i}"), True) for i in range(50)]
    b = [fz.mutate(data, random.Random(f"s-{i}"), True) for i in range(50)]
    assert a == b
    assert len({m for m, _ in a}) > 40  # and they differ from case to case


def test_the_harness_sees_a_crash_and_a_hang(tmp_path: Path) -> None:
    fz = _fuzzer()
    victim = tmp_path / "x.bin"
    victim.write_bytes(b"")

    def segfault(_p: Path) -> None:
        import ctypes

        ctypes.string_at(0)

    def hang(_p: Path) -> None:
        import time

        time.sleep(60)

    def raw(_p: Path) -> None:
        raise KeyError("no file named")

    def quotes_too_much(p: Path) -> None:  # names the file, but quotes 10,000 characters of it
        from napari_dlcflow.core.project.config import ConfigError

        raise ConfigError(p, "x" * 10_000)

    outcomes = []
    for fn in (segfault, hang, raw, quotes_too_much):
        r = fz.Reader(fn.__name__, lambda d: d, fn, False)
        outcomes.append(fz.run_case(r, victim, timeout=3)[0])
    assert outcomes == ["crash", "hang", "raw", "raw"]


def test_fuzz_every_reader(shared_data: Path) -> None:
    fz = _fuzzer()
    n = CASES_PER_READER * len(fz.readers())
    table, bugs = fz.fuzz(n, seed=14, timeout=60.0, budget_s=BUDGET_S)
    print("\n" + fz.format_table(table))
    assert set(table) == {r.name for r in fz.readers()}
    assert all(sum(c.values()) > 0 for c in table.values())  # every reader ran
    assert bugs == [], "\n".join(bugs)
