"""Training dataset export with DeepLabCut (child process) from the real openfield project."""

from __future__ import annotations

import json
import pickle
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from test_validation import _ready

from _fresh_process import top_level_modules_after
from napari_dlcflow.core.engine.dataset import (
    DatasetBlockedError,
    DatasetSpec,
    create_datasets,
    last_dataset,
    net_types,
    resolve_shuffle,
    split_indices,
)
from napari_dlcflow.core.engine.training import shuffle_train_folder
from napari_dlcflow.core.project.config import Project
from napari_dlcflow.core.project.sidecar import Sidecar


def test_net_types_from_dlc_source() -> None:
    types = {t.name: t for t in net_types()}
    assert {"resnet_50", "hrnet_w32", "top_down_resnet_50", "rtmpose_s", "dekr_w32"} <= set(types)
    assert types["top_down_resnet_50"].needs_detector
    assert types["rtmpose_s"].needs_detector and not types["rtmpose_s"].multi_animal_only
    assert types["dekr_w32"].multi_animal_only and not types["dekr_w32"].needs_detector
    assert types["ctd_coam_w32"].needs_conditions
    assert not types["resnet_50"].needs_detector and types["resnet_50"].note
    code = "from napari_dlcflow.core.engine.dataset import net_types\nnet_types()"
    assert "deeplabcut" not in top_level_modules_after(code)  # read from its files


def test_split_is_seeded_and_complete() -> None:
    a = split_indices(116, 0.8, 7)
    assert a == split_indices(116, 0.8, 7) and a != split_indices(116, 0.8, 8)
    assert len(a[0]) == 93 and sorted(a[0] + a[1]) == list(range(116))
    assert split_indices(2, 0.95, 0) in (([0], [1]), ([1], [0]))


def test_spec_checks_values() -> None:
    with pytest.raises(ValueError, match="between 0 and 1"):
        DatasetSpec(train_fraction=1.0)
    with pytest.raises(ValueError, match="unknown net type"):
        DatasetSpec(net_type="resnet_51")
    with pytest.raises(ValueError, match="augmentation"):
        DatasetSpec(augmentation="wild")


def test_blocking_problems_stop_the_export(openfield_project: Path) -> None:
    with pytest.raises(DatasetBlockedError, match="no video_sets entry"):
        create_datasets(openfield_project / "config.yaml")
    assert not (openfield_project / "training-datasets").exists()
    assert not (openfield_project / "dlc-models-pytorch").exists()


@pytest.mark.slow
def test_openfield_export_with_deeplabcut(openfield_project: Path) -> None:
    _ready(openfield_project)
    spec = DatasetSpec(
        train_fraction=0.8, num_shuffles=2, net_type="resnet_50", augmentation="none", seed=3
    )
    summary = create_datasets(openfield_project, spec)
    assert [s["shuffle"] for s in summary.shuffles] == [1, 2]
    for s in summary.shuffles:
        assert (s["n_train"], s["n_test"]) == (93, 23)
        assert s["per_video"] == {"m4s1": [93, 23]}
        assert s["net_type"] == "resnet_50" and s["train_fraction"] == 0.8
        assert s["trainset_index"] == 1
    # DeepLabCut's own files
    ds = Path(summary.dataset_folder)
    assert (
        ds == openfield_project / "training-datasets/iteration-0/UnaugmentedDataSet_openfieldOct30"
    )
    assert (ds / "CollectedData_Pranav.h5").is_file()
    meta = yaml.safe_load((ds / "metadata.yaml").read_text())
    assert set(meta["shuffles"]) == {
        "openfieldOct30-trainset80shuffle1",
        "openfieldOct30-trainset80shuffle2",
    }
    for shuffle in (1, 2):
        with open(ds / f"Documentation_data-openfield_80shuffle{shuffle}.pickle", "rb") as fh:
            _, train, test, frac = pickle.load(fh)
        assert frac == 0.8
        assert (sorted(map(int, train)), sorted(map(int, test))) == split_indices(
            116, 0.8, 3 + shuffle
        )
        model = openfield_project / (
            f"dlc-models-pytorch/iteration-0/openfieldOct30-trainset80shuffle{shuffle}"
        )
        assert str(model) == summary.shuffles[shuffle - 1]["folder"]
        pcfg = yaml.safe_load((model / "train/pytorch_config.yaml").read_text())
        assert pcfg["net_type"] == "resnet_50"
        assert "affine" not in pcfg["data"]["train"]
        assert pcfg["data"]["train"]["gaussian_noise"] is False
        assert pcfg["metadata"]["bodyparts"] == ["snout", "leftear", "rightear", "tailbase"]
        assert (model / "test/pose_cfg.yaml").is_file()
    assert Project.open(openfield_project).get("TrainingFraction") == [0.95, 0.8]
    # what was made is what train, evaluate and analyze use by default
    record = Sidecar.load(openfield_project).last_dataset
    assert record["shuffles"] == [1, 2] and record["trainset_index"] == 1
    assert record["iteration"] == 0 and record["train_fraction"] == 0.8
    assert resolve_shuffle(openfield_project) == (1, 1)
    assert resolve_shuffle(openfield_project, 2) == (2, 1)
    assert (
        shuffle_train_folder(
            openfield_project / "config.yaml", *resolve_shuffle(openfield_project)
        )
        == Path(summary.shuffles[0]["folder"]) / "train"
    )
    # the net types we list are DeepLabCut's own list
    out = subprocess.run(
        [
            sys.executable,
            "-c",
            "import json; from deeplabcut.pose_estimation_pytorch.config."
            "utils import available_models as a; print(json.dumps(a()))",
        ],
        capture_output=True,
        text=True,
        check=True,
    )
    assert json.loads(out.stdout.strip().splitlines()[-1]) == [t.name for t in net_types()]


def _model_folder(project: Project, pct: int, shuffle: int) -> Path:
    folder = project.root / (
        f"dlc-models-pytorch/iteration-{project.iteration}/"
        f"{project.task}{project.date}-trainset{pct}shuffle{shuffle}/train"
    )
    folder.mkdir(parents=True)
    return folder


def test_default_shuffle_is_the_last_dataset_made(openfield_project: Path) -> None:
    project = Project.open(openfield_project)
    assert resolve_shuffle(openfield_project) == (1, 0)  # nothing made: DeepLabCut's defaults
    assert last_dataset(openfield_project) is None
    project.training_fractions = [0.95, 0.96]
    project.save()
    record = {"iteration": 0, "shuffles": [3, 4], "trainset_index": 1, "train_fraction": 0.96}
    Sidecar(last_dataset=record).save(openfield_project)
    assert last_dataset(openfield_project)["shuffles"] == [3, 4]
    assert resolve_shuffle(openfield_project) == (3, 1)
    assert resolve_shuffle(openfield_project, 4) == (4, 1)
    assert resolve_shuffle(openfield_project, 7) == (7, 0)  # not made by us, not on disk
    assert resolve_shuffle(openfield_project, None, 0) == (3, 0)
    assert resolve_shuffle(openfield_project, 5, 0) == (5, 0)  # given: used as given
    made = _model_folder(project, 96, 3)
    assert shuffle_train_folder(openfield_project / "config.yaml") == made
    with pytest.raises(FileNotFoundError, match="no training dataset for shuffle 4"):
        shuffle_train_folder(openfield_project / "config.yaml", 4)
    # a later iteration: the record is stale; a dataset DeepLabCut made is found on disk
    project = Project.open(openfield_project)
    project.iteration = 1
    project.save()
    assert last_dataset(openfield_project) is None
    assert resolve_shuffle(openfield_project) == (1, 0)
    _model_folder(Project.open(openfield_project), 96, 2)
    assert resolve_shuffle(openfield_project) == (2, 1)
    assert resolve_shuffle(openfield_project, 2) == (2, 1)
    # iteration 0's dataset is still found for iteration 0 (the refine loop's previous one)
    assert resolve_shuffle(openfield_project, 3, iteration=0) == (3, 1)
    assert shuffle_train_folder(openfield_project / "config.yaml", 3, iteration=0) == made
    # a record whose TrainingFraction entry was removed from config.yaml is not trusted
    record = {"iteration": 1, "shuffles": [1], "trainset_index": 1, "train_fraction": 0.8}
    Sidecar(last_dataset=record).save(openfield_project)
    assert last_dataset(openfield_project) is None


def test_a_bad_sidecar_record_is_refused_with_the_file_named(openfield_project: Path) -> None:
    path = Sidecar.path_for(openfield_project)
    path.write_text("last_dataset: [1, 2]\n", encoding="utf-8")
    with pytest.raises(ValueError, match=r"dlcflow\.yaml: last_dataset must be a mapping"):
        resolve_shuffle(openfield_project)
