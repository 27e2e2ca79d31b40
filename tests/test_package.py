"""The package installs as a napari plugin and stays light to import."""

from __future__ import annotations

import json
import subprocess
import sys
import zipfile
from collections.abc import Callable
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
HEAVY = ("qtpy", "napari", "torch", "deeplabcut", "PyQt5", "PyQt6", "PySide6", "vispy")


def _modules_after(code: str) -> set[str]:
    out = subprocess.run(
        [
            sys.executable,
            "-c",
            code + "\nimport sys, json; print(json.dumps(sorted(sys.modules)))",
        ],
        capture_output=True,
        text=True,
        check=True,
    )
    return set(json.loads(out.stdout.strip().splitlines()[-1]))


def test_import_is_light() -> None:
    """Every module outside ``widgets`` imports without Qt, napari, torch or deeplabcut."""
    code = (
        "import importlib, pkgutil, napari_dlcflow\n"
        "for m in pkgutil.walk_packages(napari_dlcflow.__path__, 'napari_dlcflow.'):\n"
        "    if '.widgets' not in m.name and not m.name.endswith('__main__'):\n"
        "        importlib.import_module(m.name)\n"
    )
    mods = _modules_after(code)
    assert "napari_dlcflow.core.engine.training" in mods  # the walk really imported the package
    assert not [m for m in HEAVY if m in mods]


def test_cli_help_is_light_and_lists_commands() -> None:
    code = (
        "import contextlib, io, napari_dlcflow.cli as c\n"
        "buf = io.StringIO()\n"
        "with contextlib.redirect_stdout(buf):\n"
        "    try: c.main(['--help'])\n"
        "    except SystemExit: pass\n"
        "open('/dev/stderr','w').write(buf.getvalue())"
    )
    mods = _modules_after(code)
    assert not [m for m in HEAVY if m in mods]
    out = subprocess.run(
        [sys.executable, "-m", "napari_dlcflow", "--help"], capture_output=True, text=True
    )
    assert out.returncode == 0
    for cmd in ("demo", "info", "sample", "create-project", "check-project", "train", "evaluate"):
        assert cmd in out.stdout
    assert "preprocess" in out.stdout
    for cmd in ("analyze", "filter", "labeled-video"):
        assert cmd in out.stdout


def test_manifest_validates_and_is_found_through_the_entry_point() -> None:
    import npe2

    pm = npe2.PluginManifest.from_distribution("napari-dlcflow")
    root = npe2.PluginManifest.from_file(ROOT / "napari.yaml")
    assert pm.name == root.name == "napari-dlcflow"
    widgets = {w.display_name for w in pm.contributions.widgets}
    assert widgets >= {"Project", "Training", "Labeling"}
    assert "Preprocess" in widgets
    assert "Dataset" in widgets
    assert {"Overlay", "Plots"} <= widgets
    assert any(
        r.command == "napari-dlcflow.get_predictions_reader" for r in pm.contributions.readers
    )
    assert any(r.command == "napari-dlcflow.get_video_reader" for r in pm.contributions.readers)
    assert [s.key for s in pm.contributions.sample_data] == [
        "synthetic_animal",
        "synthetic_animals",
    ]
    out = subprocess.run(
        [sys.executable, "-m", "npe2", "validate", "napari-dlcflow"],
        capture_output=True,
        text=True,
    )
    assert out.returncode == 0, out.stdout + out.stderr
    # every python_name resolves to a real object
    for cmd in pm.contributions.commands:
        module, _, attr = cmd.python_name.partition(":")
        mod = __import__(module, fromlist=[attr])
        assert callable(getattr(mod, attr)), cmd.python_name


def test_wheel_ships_the_manifest(tmp_path: Path) -> None:
    pytest.importorskip("setuptools")
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "--no-deps",
            "--no-build-isolation",
            "-q",
            "-w",
            str(tmp_path),
            str(ROOT),
        ],
        check=True,
        capture_output=True,
    )
    wheel = next(tmp_path.glob("napari_dlcflow-*.whl"))
    with zipfile.ZipFile(wheel) as zf:
        shipped = zf.read("napari_dlcflow/napari.yaml")
        entry = zf.read(next(n for n in zf.namelist() if n.endswith("entry_points.txt")))
    assert shipped == (ROOT / "napari.yaml").read_bytes()
    assert b"napari_dlcflow:napari.yaml" in entry


def test_benchmarks_import_only_names_that_exist(
    imported_names_exist: Callable[[str, str], int],
) -> None:
    """Benchmarks are not run in CI; a refactor that moves what they import fails here."""
    checked = 0
    for script in sorted((ROOT / "benchmarks").glob("*.py")):
        checked += imported_names_exist(script.read_text(), str(script))
    assert checked >= 20
