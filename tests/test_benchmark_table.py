"""``benchmarks/_table.py``: the results table two comparison benchmarks share."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

TABLE = Path(__file__).resolve().parents[1] / "benchmarks" / "_table.py"


def test_table_prints_each_row_and_the_markdown_table(capsys: pytest.CaptureFixture[str]) -> None:
    spec = importlib.util.spec_from_file_location("_table", TABLE)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
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
