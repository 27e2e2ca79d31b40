"""The Python examples in docs/ run as written (paths swapped for temporary ones)."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from napari_dlcflow.core.project.config import Project

DOCS = Path(__file__).resolve().parents[1] / "docs"


def test_quickstart_python_example_runs(small_video: Path, tmp_path: Path) -> None:
    text = (DOCS / "quickstart.md").read_text()
    (code,) = re.findall(r"```python\n(.*?)```", text, flags=re.S)
    folder = f"reaching-alice-{dt.date.today().isoformat()}"
    code = (
        code.replace("videos/mouse1.mp4", str(small_video))
        .replace("~/projects", str(tmp_path))
        .replace("reaching-alice-2026-11-24", folder)
    )
    exec(compile(code, "quickstart.md", "exec"), {})
    project = Project.open(tmp_path / folder)
    assert project.bodyparts == ["paw", "nose", "tailbase"]
    assert project.pcutoff == 0.5


@pytest.mark.gui
def test_scripting_examples_run(
    make_napari_viewer: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Every Python block of docs/scripting.md runs, in order, in one namespace."""
    blocks = re.findall(r"```python\n(.*?)```", (DOCS / "scripting.md").read_text(), flags=re.S)
    assert len(blocks) == 2
    monkeypatch.chdir(tmp_path)
    viewer = make_napari_viewer()
    namespace: dict[str, Any] = {}
    for i, code in enumerate(blocks):
        code = code.replace("napari.Viewer()", "_viewer")
        namespace["_viewer"] = viewer
        exec(compile(code, f"scripting.md[{i}]", "exec"), namespace)
    project = Project.open(namespace["config"])
    assert project.bodyparts == ["nose", "tailbase"]
    assert len(namespace["extracted"].written) == 8
    assert namespace["viewer"] is viewer and len(viewer.layers) >= 1


def test_every_python_example_compiles_and_its_imports_exist(
    imported_names_exist: Callable[[str, str], int],
) -> None:
    """The examples that need a user's own data (and so cannot run here) still name modules and
    functions that exist: a refactor that moves one fails this test, not the reader."""
    checked = 0
    for page in sorted(DOCS.glob("*.md")):
        for i, code in enumerate(re.findall(r"```python\n(.*?)```", page.read_text(), re.S)):
            checked += imported_names_exist(code, f"{page.name}[{i}]")
    assert checked >= 25
