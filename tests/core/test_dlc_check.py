"""DeepLabCut itself (in a child process) accepts what we create and rejects what it should."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from napari_dlcflow.core.engine.dlc_check import check_config_in_child
from napari_dlcflow.core.project.create import create_project

pytestmark = pytest.mark.slow


def test_dlc_accepts_created_projects(small_video: Path, tmp_path: Path) -> None:
    odd = tmp_path / "a #b & c [d] é"
    odd.mkdir()
    single = create_project(
        "mouse", "me", [small_video], odd, bodyparts=["nose", "tail"], skeleton=[("nose", "tail")]
    )
    multi = create_project(
        "fish",
        "me",
        [small_video],
        odd,
        multianimal=True,
        bodyparts=["head", "fin"],
        unique_bodyparts=["food"],
        individuals=["f1", "f2"],
    )
    before = single.config_path.read_bytes()
    v1 = check_config_in_child(single.config_path)
    assert v1.ok, v1.message
    assert v1.bodyparts == ("nose", "tail")
    assert v1.dlc_version.startswith("3.")
    v2 = check_config_in_child(multi.config_path)
    assert v2.ok, v2.message
    assert v2.bodyparts == ("head", "fin", "food")
    assert single.config_path.read_bytes() == before  # checking never writes


def test_dlc_rejects_an_unknown_key_and_we_do_too(small_video: Path, tmp_path: Path) -> None:
    p = create_project("t", "s", [small_video], tmp_path)
    text = p.config_path.read_text() + "my_setting: 1\n"
    p.config_path.write_text(text)
    verdict = check_config_in_child(p.config_path)
    assert not verdict.ok
    assert "my_setting" in verdict.message


def test_stale_project_path_is_not_rewritten_by_the_check(
    openfield_project: Path, shared_data: Path
) -> None:
    cfg = openfield_project / "config.yaml"
    before = cfg.read_bytes()
    verdict = check_config_in_child(cfg)
    assert verdict.ok, verdict.message
    assert verdict.bodyparts == ("snout", "leftear", "rightear", "tailbase")
    assert cfg.read_bytes() == before
    assert shutil.disk_usage(shared_data)  # the real data stays where it is
