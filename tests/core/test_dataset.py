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

from napari_dlcflow.core.engine.dataset import (
    DatasetBlockedError,
    DatasetSpec,
    create_datasets,
    net_types,
    split_indices,
)
from napari_dlcflow.core.project.config import Project


def test_net_types_from_dlc_source() -> None:
    types = {t.name: t for t in net_types()}
    assert {"resnet_50", "hrnet_w32", "top_down_resnet_50", "rtmpose_s", "dekr_w32"} <= set(types)
    assert types["top_down_resnet_50"].needs_detector
    assert types["rtmpose_s"].needs_detector and not types["rtmpose_s"].multi_animal_only
    assert types["dekr_w32"].multi_animal_only and not types["dekr_w32"].needs_detector
    assert types["ctd_coam_w32"].needs_conditions
    assert not types["resnet_50"].needs_detector and types["resnet_50"].note
    assert "deeplabcut" not in sys.modules


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
