"""The Python example in the quick start runs as written (paths swapped for temporary ones)."""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

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
