"""The package installs as a napari plugin and stays light to import."""

from __future__ import annotations

import json
import subprocess
import sys
import zipfile
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
    mods = _modules_after(
        "import napari_dlcflow, napari_dlcflow.core.project, napari_dlcflow.core.create,"
        " napari_dlcflow.core.state, napari_dlcflow.core.jobs, napari_dlcflow.core.overlay,"
        " napari_dlcflow.core.synthetic, napari_dlcflow._reader, napari_dlcflow._sample_data"
        ", napari_dlcflow.core.training, napari_dlcflow.core.devices"
        ", napari_dlcflow.core.evaluation, napari_dlcflow.core.truth_labels"
        ", napari_dlcflow.cli_training"
        ", napari_dlcflow.core.labels, napari_dlcflow.core.recovery, napari_dlcflow.core.frames"
        ", napari_dlcflow._labels_reader, napari_dlcflow._labels_writer"
        ", napari_dlcflow.core.video, napari_dlcflow.core.preprocess, napari_dlcflow._video_reader"
        ", napari_dlcflow.core.predictions, napari_dlcflow.core.filtering"
        ", napari_dlcflow.core.formats, napari_dlcflow.core.importing"
        ", napari_dlcflow.core.validation, napari_dlcflow.core.dataset, napari_dlcflow.cli_dataset"
        ", napari_dlcflow.core.labeled_video, napari_dlcflow.core.analysis"
        ", napari_dlcflow._predictions_reader, napari_dlcflow.cli_predictions"
    )
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
    assert [s.key for s in pm.contributions.sample_data] == ["synthetic_animal"]
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
