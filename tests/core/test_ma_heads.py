"""A multi-animal project that asks for DeepLabCut's identity head and has a unique body part:
the dataset line says both, DeepLabCut's dataset gets both heads, and a real (one-epoch) training
runs with them through our training engine."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from napari_dlcflow.core.engine.dataset import create_datasets, multi_animal_summary, net_types_for
from napari_dlcflow.core.engine.training import TrainSpec, list_snapshots, start_training
from napari_dlcflow.core.example.group import GroupSpec
from napari_dlcflow.core.example.truth_labels import make_labeled_group_project
from napari_dlcflow.core.labels.collected import (
    labels_from_dataframe,
    labels_to_dataframe,
    read_labels,
    write_labels,
)
from napari_dlcflow.core.project.config import Project

MARK = "shelter_corner"  # one per frame, belongs to no animal: DeepLabCut's "single"
MARK_XY = (40.0, 24.0)


def _identity_and_unique_project(folder: Path) -> Path:
    spec = GroupSpec(n_animals=2, n_frames=40, height=128, width=128, seed=3)
    project = make_labeled_group_project(folder, spec, n_labeled=12)
    cfg_path = Path(project.config_path)
    cfg = yaml.safe_load(cfg_path.read_text())
    cfg["identity"] = True
    cfg["uniquebodyparts"] = [MARK]
    cfg_path.write_text(yaml.safe_dump(cfg, sort_keys=False))
    for h5 in (project.root / "labeled-data").glob("*/CollectedData_*.h5"):
        labels = read_labels(h5)
        df = labels_to_dataframe(labels)
        for coord, value in zip("xy", MARK_XY, strict=True):
            df[(labels.scorer, "single", MARK, coord)] = value
        write_labels(labels_from_dataframe(df), h5.parent)
    return cfg_path


@pytest.mark.slow
def test_identity_head_and_unique_bodyparts_reach_dataset_and_training(tmp_path: Path) -> None:
    cfg_path = _identity_and_unique_project(tmp_path)
    project = Project.open(cfg_path)
    line = multi_animal_summary(project)
    assert "2 animals (mouse1, mouse2)" in line
    assert "an identity head (identity: true) tells the animals apart" in line
    assert f"unique body parts: {MARK}" in line
    assert any(t.name == "resnet_50" for t in net_types_for(True))

    summary = create_datasets(cfg_path)
    folder = Path(summary.shuffles[0]["folder"])
    pcfg = yaml.safe_load((folder / "train" / "pytorch_config.yaml").read_text())
    heads = pcfg["model"]["heads"]
    assert "identity" in heads, sorted(heads)  # DeepLabCut's re-identification head
    assert "unique_bodypart" in heads, sorted(heads)
    assert pcfg["metadata"]["unique_bodyparts"] == [MARK]
    assert pcfg["metadata"]["with_identity"] is True

    spec = TrainSpec(
        config=str(cfg_path), epochs=1, batch_size=4, weights="scratch", backbone="resnet18",
        device="cpu", save_epochs=1, eval_interval=1,
    )  # fmt: skip
    status = start_training(spec).wait(timeout=600)
    assert status.state == "finished", status
    snapshots = list_snapshots(folder / "train", check=True)
    assert [s.epoch for s in snapshots] == [1]
    import torch

    weights = torch.load(snapshots[-1].path, map_location="cpu", weights_only=False)["model"]
    assert any(k.startswith("heads.identity.") for k in weights)
    assert any(k.startswith("heads.unique_bodypart.") for k in weights)
    trained = yaml.safe_load((folder / "train" / "pytorch_config.yaml").read_text())
    sampling = trained["data"]["train"]["crop_sampling"]
    assert (sampling["width"], sampling["height"]) == (128, 128)  # fitted to the frames
