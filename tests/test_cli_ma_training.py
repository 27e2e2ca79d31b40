"""The CLI on a multi-animal project (two flies of SLEAP's clip.slp): weights said before
training, explicit pretrained weights refused offline, the project folder accepted by
``analyze``. The real training and evaluation with the defaults run on the synthetic example
(``tests/test_multi_animal_loop.py``)."""

from __future__ import annotations

from pathlib import Path

import pytest

from _fresh_process import top_level_modules_after
from napari_dlcflow.cli import main

CLIP = Path(__file__).resolve().parents[2] / "shared" / "data" / "sleap-tests" / "tracks"
FRAMES = "0,100,200,300,400,500,600,700"


@pytest.fixture(scope="module")
def ma_project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An imported two-fly project, frames downscaled 4x (256 px), with a resnet_50 dataset."""
    if not (CLIP / "clip.slp").is_file():
        pytest.skip(f"{CLIP / 'clip.slp'} is absent (../shared/data not mounted)")
    import imageio.v3 as iio
    import pandas as pd

    root = tmp_path_factory.mktemp("ma")
    args = ["import-labels", str(CLIP / "clip.slp"), "--new-project", "flies", "me", str(root)]
    assert main([*args, "--frames", FRAMES]) == 0
    project = next(root.glob("flies-me-*"))
    folder = project / "labeled-data" / "clip"
    for png in folder.glob("*.png"):  # small frames keep DeepLabCut's assembly cheap
        iio.imwrite(png, iio.imread(png)[::4, ::4])
    for h5 in folder.glob("CollectedData_*.h5"):
        (pd.read_hdf(h5) * 0.25).to_hdf(h5, key="df_with_missing", mode="w")
        (pd.read_hdf(h5)).to_csv(h5.with_suffix(".csv"))
    assert main(["create-dataset", str(project), "--net-type", "resnet_50"]) == 0
    return project


@pytest.fixture
def no_weights(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HF_HOME", str(tmp_path / "hf"))
    monkeypatch.delenv("HF_HUB_CACHE", raising=False)
    monkeypatch.setenv("TORCH_HOME", str(tmp_path / "torch"))
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")


def _train_folder(project: Path) -> Path:
    return next((project / "dlc-models-pytorch").glob("iteration-0/*/train"))


def test_pretrained_offline_refused_before_a_job(
    ma_project: Path, no_weights: None, capsys: pytest.CaptureFixture
) -> None:
    folder = _train_folder(ma_project)
    (folder / "dlcflow-job.json").unlink(missing_ok=True)
    rc = main(["train", str(ma_project), "--weights", "pretrained", "--detach"])
    err = capsys.readouterr().err
    assert rc != 0
    assert "resnet50_gn weights are not available offline" in err
    assert not (folder / "dlcflow-job.json").exists()  # no job started


def test_train_asks_about_weights_without_importing_torch(
    ma_project: Path, no_weights: None
) -> None:
    """The weights are looked up in a child: a script with a napari viewer open crashes when it
    imports timm (triton's LLVM after Mesa's), so neither the command line's ``train`` nor
    :func:`napari_dlcflow.api.train_network` may import timm or torch in the caller's process."""
    code = (
        "from napari_dlcflow.cli import main\n"
        f"argv = ['train', {str(ma_project)!r}, '--weights', 'pretrained', '--detach']\n"
        "assert main(argv) == 2\n"
        "import napari_dlcflow.api as api\n"
        "try:\n"
        f"    api.train_network({str(ma_project / 'config.yaml')!r}, weights='pretrained')\n"
        "except ValueError as exc:\n"
        "    assert 'not available offline' in str(exc), exc\n"
        "else:\n"
        "    raise AssertionError('pretrained weights offline were not refused')\n"
    )
    loaded = top_level_modules_after(code)
    assert not {"timm", "torch", "triton", "deeplabcut"} & loaded


def test_analyze_takes_the_project_folder(
    ma_project: Path, tmp_path: Path, capsys: pytest.CaptureFixture
) -> None:
    video = tmp_path / "missing.mp4"
    rc = main(["analyze", str(ma_project), str(video)])
    err = capsys.readouterr().err
    assert rc != 0
    assert "IsADirectoryError" not in err and "Is a directory" not in err
