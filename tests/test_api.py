"""``import napari_dlcflow as dlcflow``: the workflow as functions with the CLI's defaults."""

from __future__ import annotations

import argparse
import inspect
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import napari_dlcflow as dlcflow
from napari_dlcflow.cli import build_parser

#: API function -> (CLI subcommand, {API parameter: CLI dest} where the names differ).
API_CLI = {
    "create_new_project": (
        "create-project",
        {"copy_videos": "copy", "multianimal": "multi_animal"},
    ),
    "extract_frames": ("extract-frames", {}),
    "import_labels": ("import-labels", {}),
    "check_labels": ("check-labels", {}),
    "create_training_dataset": (
        "create-dataset",
        {"num_shuffles": "shuffles", "first_shuffle": "first_shuffle"},
    ),
    "train_network": ("train", {}),
    "evaluate_network": ("evaluate", {}),
    "analyze_videos": ("analyze", {"save_as_csv": "csv", "cropping": "crop"}),
    "filterpredictions": ("filter", {"save_as_csv": "csv"}),
    "create_labeled_video": ("labeled-video", {}),
    "extract_outlier_frames": ("extract-outliers", {}),
    "next_iteration": ("next-iteration", {}),
}


def _subparsers() -> dict[str, argparse.ArgumentParser]:
    parser = build_parser()
    sub = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    return dict(sub.choices)


def test_every_function_has_the_command_lines_defaults() -> None:
    subs = _subparsers()
    compared = 0
    for name, (command, renames) in API_CLI.items():
        func = getattr(dlcflow, name)
        defaults = {a.dest: a.default for a in subs[command]._actions}
        for param in inspect.signature(func).parameters.values():
            if param.default is inspect.Parameter.empty:
                continue
            dest = renames.get(param.name, param.name)
            if dest not in defaults:
                continue
            cli = defaults[dest]
            api = param.default
            if isinstance(api, tuple) and isinstance(cli, str):  # criteria=("jump",) vs "jump"
                api = ",".join(api)
            if cli is False and api is None:
                continue
            assert api == cli, f"{name}({param.name}={api!r}) but `{command}` has {cli!r}"
            compared += 1
    assert compared >= 40


def test_public_names_load_lazily_and_the_import_stays_light() -> None:
    code = (
        "import sys, napari_dlcflow as d\n"
        "fs = [d.analyze_videos, d.train_network, d.create_new_project, d.open_in_viewer]\n"
        "heavy = [m for m in ('torch', 'deeplabcut', 'napari', 'qtpy') if m in sys.modules]\n"
        "print(heavy)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
    assert set(API_CLI) | {"open_in_viewer"} <= set(dir(dlcflow))
    with pytest.raises(AttributeError, match="no attribute 'nope'"):
        dlcflow.nope  # noqa: B018


def test_project_frames_import_and_check(tmp_path: Path) -> None:
    from napari_dlcflow.core.example.synthetic import (
        BODYPARTS,
        SyntheticSpec,
        write_synthetic_example,
    )
    from napari_dlcflow.core.example.truth_labels import make_labeled_synthetic_project

    files = write_synthetic_example(tmp_path / "ex", SyntheticSpec(n_frames=40, seed=1))
    config = dlcflow.create_new_project(
        "mouse", "alice", [files.video], tmp_path, bodyparts=list(BODYPARTS)
    )
    assert config.name == "config.yaml" and config.is_file()
    (res,) = dlcflow.extract_frames(config, n=6, method="kmeans")
    assert len(res.written) == 6
    # labels of another project (same body parts) come in through the same import as the CLI
    other = make_labeled_synthetic_project(
        tmp_path / "other", SyntheticSpec(n_frames=40, seed=1), n_labeled=5
    )
    (h5,) = sorted((other.root / "labeled-data").glob("*/CollectedData_*.h5"))
    result = dlcflow.import_labels(h5, config, folder="imported")
    assert result.points == 5 * len(BODYPARTS)
    assert dlcflow.check_labels(config) == []  # labels from the truth have no mistakes
    with pytest.raises(ValueError, match="give config="):
        dlcflow.import_labels(h5)


@pytest.mark.slow
@pytest.mark.xdist_group("trained")
def test_evaluate_analyze_filter_label_and_outliers_on_a_trained_model(
    tmp_path_factory: pytest.TempPathFactory,
) -> None:
    sys.path.insert(0, str(Path(__file__).parent / "core"))
    from _dlcflow_trained import trained

    from napari_dlcflow.core.predictions.analysis_files import read_predictions
    from napari_dlcflow.core.project.config import Project

    run = trained(tmp_path_factory)
    results = dlcflow.evaluate_network(run.config)
    assert [r.epoch for r in results] == [r.epoch for r in run.results]
    assert np.allclose([r.test_rmse for r in results], [r.test_rmse for r in run.results])
    video = next(iter(Project.open(run.config).videos))
    out = dlcflow.analyze_videos(run.config, [video])
    h5s = sorted(Path(video).parent.glob(f"{Path(video).stem}DLC*.h5"))
    assert out.ok and h5s
    pred = read_predictions(h5s[0])
    assert pred.n_frames == 80
    (filtered,) = dlcflow.filterpredictions(h5s[0])
    assert filtered.name.endswith("_filtered.h5") and filtered.is_file()
    labeled = dlcflow.create_labeled_video(video, h5s[0])
    assert labeled.is_file() and labeled.stat().st_size > 0
    (outliers,) = dlcflow.extract_outlier_frames(run.config, criteria=("uncertain",), n=3)
    assert len(outliers.written) <= 3
