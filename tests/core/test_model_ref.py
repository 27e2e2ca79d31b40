"""One reference to a trained model: its folders on a laid-out iteration, made once, the
project opened once by evaluation and analysis. No DeepLabCut run: the iteration's files are
written the way DeepLabCut leaves them (``dlc_iteration_layout``)."""

from __future__ import annotations

import json
import pickle
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from napari_dlcflow.cli import main as cli_main
from napari_dlcflow.core.engine.analysis import AnalysisSpec
from napari_dlcflow.core.engine.dataset import resolve_model, resolve_shuffle
from napari_dlcflow.core.engine.evaluation import (
    evaluation_folder,
    evaluation_frames,
    read_results,
)
from napari_dlcflow.core.engine.evaluation import test_count as count_test_images
from napari_dlcflow.core.engine.model_ref import (
    ModelRef,
    parse_shuffle_folder,
    shuffle_folders,
    train_percent,
)
from napari_dlcflow.core.engine.training import shuffle_train_folder
from napari_dlcflow.core.example.synthetic import SyntheticSpec
from napari_dlcflow.core.example.truth_labels import make_labeled_synthetic_project
from napari_dlcflow.core.labels.collected import labels_to_dataframe, read_labels
from napari_dlcflow.core.project.config import Project

SPEC = SyntheticSpec(n_frames=40, height=64, width=64, seed=1)
TEST_ROWS = [1, 4]  # the test split written into DeepLabCut's Documentation pickle
OFFSET = 3.0  # the fake network's predictions are this far right of the labels (pixels)


@pytest.fixture
def project(tmp_path: Path, dlc_iteration_layout: Any) -> Project:
    return dlc_iteration_layout(make_labeled_synthetic_project(tmp_path, SPEC, n_labeled=8))


def _name(project: Project) -> str:
    return f"{project.task}{project.date}-trainset95shuffle1"


def _documentation(project: Project) -> Path:
    """DeepLabCut's ``Documentation_data-<Task>_95shuffle1.pickle``: [data, train, test, f]."""
    ds = next((project.root / "training-datasets" / "iteration-0").glob("UnaugmentedDataSet_*"))
    doc = ds / f"Documentation_data-{project.task}_95shuffle1.pickle"
    with open(doc, "wb") as fh:
        pickle.dump([[], [0, 2, 3, 5, 6, 7], TEST_ROWS, 0.95], fh)
    return doc


def _predictions(project: Project) -> Path:
    """DeepLabCut's evaluation h5 of snapshot-best-010: the labels moved OFFSET px in x."""
    labels = read_labels(next(project.root.glob("labeled-data/*/CollectedData_*.h5")))
    moved = replace(
        labels,
        xy=labels.xy + np.array([OFFSET, 0.0]),
        likelihood=np.full(labels.xy.shape[:2], 0.9),
        scorer="DLC_Resnet50",
    )
    folder = project.root / "evaluation-results-pytorch" / "iteration-0" / _name(project)
    h5 = folder / f"DLC_Resnet50_{project.task}{project.date}shuffle1_snapshot_best-010.h5"
    labels_to_dataframe(moved, with_likelihood=True).to_hdf(h5, key="df_with_missing")
    return h5


class _OpenCounter:
    """Counts ``Project.open`` calls while the real method runs."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.calls = 0
        real = Project.open.__func__  # type: ignore[attr-defined]

        def counted(cls: type[Project], path: Any) -> Project:
            self.calls += 1
            return real(cls, path)

        monkeypatch.setattr(Project, "open", classmethod(counted))


def test_the_reference_knows_the_folders_of_a_laid_out_iteration(project: Project) -> None:
    model = resolve_model(project.config_path)
    assert (model.iteration, model.shuffle, model.trainset_index) == (0, 1, 0)
    assert model.train_fraction == 0.95 and model.percent == 95
    assert model.name == _name(project)
    models = project.root / "dlc-models-pytorch" / "iteration-0"
    assert model.train_folder == models / _name(project) / "train"
    assert model.find_train_folder() == model.train_folder
    assert sorted(p.name for p in model.train_folder.iterdir()) == [
        "snapshot-005.pt",
        "snapshot-best-010.pt",
    ]
    evaluations = project.root / "evaluation-results-pytorch" / "iteration-0"
    assert model.evaluation_folder == evaluations / _name(project)
    assert [p.name for p in model.evaluation_folder.glob("*-results.csv")] == [
        f"DLC_Resnet50_{project.task}{project.date}shuffle1_snapshot_best-010-results.csv"
    ]
    assert model.documentation_pickle() is None  # the layout has no split yet
    doc = _documentation(project)
    assert model.documentation_pickle() == doc
    assert shuffle_folders(project.root, 0) == [model.model_folder]
    assert shuffle_folders(project.root, 1) == []
    # the functions that took a config path give the same folders for the value
    assert shuffle_train_folder(model) == shuffle_train_folder(project.config_path)
    assert evaluation_folder(model) == evaluation_folder(project.config_path)
    (result,) = read_results(model)
    assert (result.epoch, result.best, result.test_rmse) == (10, True, 4.25)


def test_the_shuffle_folder_name_is_built_and_read_back_in_one_place(project: Project) -> None:
    model = ModelRef.of(project, 3, 0)
    assert parse_shuffle_folder(model.name) == (95, 3)
    assert parse_shuffle_folder(f"{project.task}-trainset95shuffle1.txt") is None
    assert parse_shuffle_folder("train") is None
    # DeepLabCut truncates the percentage (int(fraction * 100)): 0.57 names trainset56
    assert train_percent(0.57) == 56 and train_percent(0.95) == 95 and train_percent(0.8) == 80


def test_made_from_a_path_a_project_or_itself_it_is_the_same_value(project: Project) -> None:
    from_path = resolve_model(project.config_path)
    from_project = resolve_model(Project.open(project.root))
    assert from_path == from_project and hash(from_path) == hash(from_project)
    assert resolve_model(from_path) is from_path
    assert resolve_model(from_path, 1, 0, iteration=0) is from_path
    with pytest.raises(ValueError, match=r"shuffle 1, trainset index 0 \(95%\), iteration 0"):
        resolve_model(from_path, 2)
    assert resolve_model(project.config_path, 2) != from_path
    with pytest.raises(ValueError, match=r"trainset_index 1 not in TrainingFraction \[0\.95\]"):
        resolve_model(project.config_path, 1, 1)
    with pytest.raises(Exception, match=r"frozen|cannot assign"):
        from_path.shuffle = 2  # type: ignore[misc]


def test_crossing_into_a_child_it_becomes_plain_json(project: Project, monkeypatch: Any) -> None:
    monkeypatch.chdir(project.root)
    model = resolve_model("config.yaml")
    args = json.loads(json.dumps(model.task_args()))
    assert args == {
        "config": str((project.root / "config.yaml").resolve()),
        "shuffle": 1,
        "trainset_index": 0,
    }
    assert Path(args["config"]).is_absolute()


def test_an_edited_task_name_still_finds_the_model_folder_and_a_missing_one_is_named(
    project: Project,
) -> None:
    model = resolve_model(project.config_path)
    moved = model.model_folder.with_name("renamedJan1-trainset95shuffle1")
    model.model_folder.rename(moved)
    assert not model.train_folder.exists()
    assert model.find_train_folder() == moved / "train"
    with pytest.raises(FileNotFoundError, match="no training dataset for shuffle 2"):
        ModelRef.of(project, 2, 0).find_train_folder()


def test_test_rows_are_read_from_the_dataset_through_the_safe_reader(project: Project) -> None:
    model = resolve_model(project.config_path)
    assert count_test_images(model) is None  # no Documentation pickle: no split known
    _documentation(project)
    assert count_test_images(model) == len(TEST_ROWS)
    # a damaged CollectedData of the dataset is refused by the safe reader, not crashed on
    h5 = next((project.root / "training-datasets" / "iteration-0").glob("*/CollectedData_*.h5"))
    h5.write_bytes(b"\x89HDF\r\n\x1a\n" + b"\0" * 64)
    assert count_test_images(model) is None
    with pytest.raises(ValueError, match=str(h5.name)):
        from napari_dlcflow.core.engine.evaluation import _test_rows

        _test_rows(model)


def test_evaluation_opens_the_project_once(
    project: Project, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    _documentation(project)
    _predictions(project)
    opens = _OpenCounter(monkeypatch)
    assert cli_main(["evaluate", str(project.config_path), "--no-run"]) == 0
    out = capsys.readouterr().out
    assert "snapshot-best-010" in out and "4.25" in out and "Only 2 test image(s)" in out
    assert opens.calls == 1, f"Project.open ran {opens.calls} times for one evaluate --no-run"

    opens.calls = 0
    (result,) = read_results(project.config_path)
    frames = evaluation_frames(project.config_path, result)
    assert opens.calls == 2  # read_results, evaluation_frames: one each
    assert len(frames.images) == 8 and frames.split.count("test") == len(TEST_ROWS)
    np.testing.assert_allclose(frames.errors, OFFSET)
    np.testing.assert_allclose(
        frames.predicted - frames.truth, np.broadcast_to([OFFSET, 0], frames.truth.shape)
    )
    labels = read_labels(next(project.root.glob("labeled-data/*/CollectedData_*.h5")))
    test_images = {labels.images[i][-1] for i in TEST_ROWS}
    assert {p.name for p, s in zip(frames.images, frames.split, strict=True) if s == "test"} == (
        test_images
    )

    opens.calls = 0
    model = resolve_model(project.config_path)
    evaluation_frames(model, read_results(model)[0])
    assert count_test_images(model) == 2
    assert opens.calls == 1  # once, where the model was made


def test_analysis_resolves_the_model_with_one_open(
    project: Project, monkeypatch: pytest.MonkeyPatch
) -> None:
    from napari_dlcflow.core.batch.tasks import analysis_tasks
    from napari_dlcflow.core.project.sidecar import Sidecar

    record = {"iteration": 0, "shuffles": [1], "trainset_index": 0, "train_fraction": 0.95}
    Sidecar(last_dataset=record).save(project.root)
    opens = _OpenCounter(monkeypatch)
    spec = AnalysisSpec(config=str(project.config_path), videos=["a.mp4"]).resolved()
    assert (spec.shuffle, spec.trainset_index) == (1, 0)
    assert opens.calls == 1
    assert resolve_shuffle(project.config_path) == (1, 0) and opens.calls == 2
    # a batch resolves the model once and every video's task carries it as plain values
    opens.calls = 0
    tasks = analysis_tasks(
        AnalysisSpec(config=str(project.config_path), videos=["a.mp4", "b.mp4"])
    )
    assert opens.calls == 1
    assert [(t.params["shuffle"], t.params["trainset_index"]) for t in tasks] == [(1, 0)] * 2
