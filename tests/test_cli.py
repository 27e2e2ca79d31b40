from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from napari_dlcflow.cli import main
from napari_dlcflow.core.example.synthetic import read_truth
from napari_dlcflow.core.jobs import run_child
from napari_dlcflow.core.project.config import Project


def test_sample_then_create_project(tmp_path: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    assert main(["sample", "--out", str(tmp_path / "s"), "--frames", "12", "--size", "300"]) == 0
    video = tmp_path / "s" / "synthetic_animal.mp4"
    kp, parts = read_truth(tmp_path / "s" / "synthetic_animal_truth.csv")
    assert kp.shape == (12, len(parts), 2)
    code = main(
        ["create-project", "t", "me", str(video), "--dir", str(tmp_path), "--bodyparts", "a, b"]
    )
    assert code == 0
    cfg = Path(capsys.readouterr().out.strip().splitlines()[-1])
    assert Project.open(cfg).bodyparts == ["a", "b"]


def test_errors_name_the_file_and_exit_2(tmp_path: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    bad = tmp_path / "broken clip.mp4"
    bad.write_bytes(b"")
    assert main(["create-project", "t", "me", str(bad), "--dir", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert "broken clip.mp4" in err and "empty" in err
    assert list(tmp_path.iterdir()) == [bad]


def test_info_in_a_child_process() -> None:
    result = run_child(["info", "--no-gpu"], timeout=120)
    assert result.ok
    text = "\n".join(result.log)
    assert "napari-dlcflow" in text and "napari manifest" in text


def test_child_failure_reason_is_reported() -> None:
    result = run_child(["check-project", "/nonexistent/config.yaml"], timeout=120)
    assert result.returncode == 2 and not result.ok
    assert "/nonexistent/config.yaml" in result.reason()


def test_info_lists_gpus() -> None:
    out = subprocess.run(
        [sys.executable, "-m", "napari_dlcflow", "info"],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert out.returncode == 0
    gpu_line = next(line for line in out.stdout.splitlines() if line.startswith("GPUs"))
    assert "CUDA" in gpu_line or "CPU" in gpu_line or "MPS" in gpu_line


def test_child_can_be_cancelled() -> None:
    result = run_child(["info", "--no-gpu"], should_stop=lambda: True, timeout=120)
    assert result.cancelled and not result.ok
    assert result.reason() == "cancelled"


def test_cancel_acts_while_the_child_is_silent(tmp_path: Path) -> None:
    import time

    asked = time.monotonic()
    # `sample` with many frames works for several seconds before printing anything
    result = run_child(
        ["sample", "--out", str(tmp_path / "x"), "--frames", "100000"],
        should_stop=lambda: time.monotonic() - asked > 1.0,
        timeout=60,
    )
    assert result.cancelled
    assert time.monotonic() - asked < 15
    assert not list((tmp_path / "x").glob("synthetic_animal*"))  # nothing half-written


def test_shared_options_have_one_name_everywhere() -> None:
    """The project, the shuffle, the trainset index and the device are spelled one way in every
    subcommand (they come from cli.options), and no subcommand registers itself another way."""
    import argparse

    from napari_dlcflow.cli import COMMAND_MODULES, build_parser

    parser = build_parser()
    sub = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    seen: dict[str, set[tuple[str, ...]]] = {}
    for name, p in sub.choices.items():
        for action in p._actions:
            if action.dest in ("config", "shuffle", "trainset_index", "device"):
                if action.help == argparse.SUPPRESS:
                    continue  # a hidden alias (DeepLabCut's --trainingsetindex)
                seen.setdefault(action.dest, set()).add(tuple(action.option_strings))
        assert not name.startswith("_"), f"hidden command {name} is a subparser"
    assert seen["shuffle"] == {("--shuffle",)}
    assert seen["trainset_index"] == {("--trainset-index",)}
    assert seen["device"] == {("--device",)}
    assert seen["config"] <= {(), ("--config",)}
    assert len(sub.choices) >= 24 and len(COMMAND_MODULES) >= 9
