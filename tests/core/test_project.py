from __future__ import annotations

import difflib
import shutil
from pathlib import Path

import pytest

from napari_dlcflow.core.project.config import (
    ConfigChangedOnDiskError,
    ConfigError,
    Project,
    check_names,
)
from napari_dlcflow.core.safe_io import list_backups


def _diff(a: str, b: str) -> list[str]:
    return [
        line
        for line in difflib.unified_diff(a.splitlines(), b.splitlines(), lineterm="", n=0)
        if line[:1] in "+-" and not line.startswith(("+++", "---"))
    ]


def test_openfield_loads_and_round_trips_byte_for_byte(openfield_project: Path) -> None:
    cfg = openfield_project / "config.yaml"
    before = cfg.read_bytes()
    p = Project.open(openfield_project)
    assert p.bodyparts == ["snout", "leftear", "rightear", "tailbase"]
    assert (p.task, p.scorer, p.multianimal) == ("openfield", "Pranav", False)
    assert p.to_text().encode() == before
    assert cfg.read_bytes() == before  # opening never writes


def test_edit_changes_only_the_edited_lines(openfield_project: Path) -> None:
    cfg = openfield_project / "config.yaml"
    before = cfg.read_text()
    p = Project.open(cfg)
    p.pcutoff = 0.55
    p.add_edge("snout", "leftear")
    p.save()
    after = cfg.read_text()
    assert _diff(before, after) == [
        "-skeleton: []",
        "+skeleton:",
        "+- - snout",
        "+  - leftear",
        "-pcutoff: 0.4",
        "+pcutoff: 0.55",
    ]
    assert list_backups(cfg)[0].read_text() == before
    again = Project.open(cfg)
    assert again.skeleton == [("snout", "leftear")]
    assert again.pcutoff == 0.55


def test_adding_a_bodypart_keeps_the_comment_after_the_list(openfield_project: Path) -> None:
    p = Project.open(openfield_project)
    before = p.to_text()
    p.bodyparts = [*p.bodyparts, "neck"]
    assert _diff(before, p.to_text()) == ["+- neck"]


def test_multianimal_config_reads_and_round_trips(shared_data: Path, tmp_path: Path) -> None:
    (tmp_path / "ma").mkdir()
    cfg = tmp_path / "ma" / "config.yaml"
    shutil.copy(shared_data / "sleap-tests/dlc/madlc_230_config.yaml", cfg)
    cfg.chmod(0o644)
    p = Project.open(cfg)
    assert p.multianimal
    assert p.bodyparts == ["A", "B", "C"]
    assert p.unique_bodyparts == ["D", "E"]
    assert p.individuals == ["individual1", "individual2", "individual3"]
    assert p.to_text() == cfg.read_text()
    with pytest.raises(ValueError, match="Already unique"):
        p.bodyparts = ["A", "D"]
    with pytest.raises(ValueError, match="single"):
        p.individuals = ["single", "x"]


def _write(tmp_path: Path, text: str) -> Path:
    cfg = tmp_path / "config.yaml"
    cfg.write_text(text)
    return cfg


BASE = "Task: t\nscorer: s\nproject_path: {root}\nbodyparts:\n- a\n- b\nskeleton: []\n"


def test_invalid_yaml_names_file_and_line(tmp_path: Path) -> None:
    cfg = _write(tmp_path, "Task: t\nscorer: s\nbodyparts:\n- a\n  - b: [\n")
    with pytest.raises(ConfigError) as info:
        Project.open(cfg)
    assert info.value.line in (4, 5)
    assert str(cfg) in str(info.value)
    assert "invalid YAML" in str(info.value)


def test_unknown_key_is_refused_with_its_line(tmp_path: Path) -> None:
    cfg = _write(tmp_path, BASE.format(root=tmp_path) + "my_own_setting: 3\n")
    with pytest.raises(ConfigError, match="unknown key 'my_own_setting'") as info:
        Project.open(cfg)
    assert info.value.line == 8


def test_duplicate_bodyparts_and_single_individual_refused(tmp_path: Path) -> None:
    cfg = _write(tmp_path, "Task: t\nscorer: s\nbodyparts:\n- a\n- a\n")
    with pytest.raises(ConfigError, match="Duplicate body part names: a") as info:
        Project.open(cfg)
    assert info.value.line == 3
    cfg = _write(
        tmp_path,
        "Task: t\nmultianimalproject: true\nbodyparts: MULTI!\nindividuals:\n- single\n"
        "multianimalbodyparts:\n- a\n",
    )
    with pytest.raises(ConfigError, match="cannot be named 'single'"):
        Project.open(cfg)
    cfg = _write(tmp_path, "Task: t\nscorer: s\nscorer: s2\nbodyparts: [a]\n")
    with pytest.raises(ConfigError, match="line 3"):
        Project.open(cfg)


def test_stale_project_path_is_reported_not_rewritten(openfield_project: Path) -> None:
    cfg = openfield_project / "config.yaml"
    before = cfg.read_bytes()
    p = Project.open(cfg)
    assert not p.project_path_ok
    assert cfg.read_bytes() == before
    p.repair_project_path()
    p.save()
    assert Project.open(cfg).project_path_ok


def test_change_on_disk_is_detected_before_saving(openfield_project: Path) -> None:
    cfg = openfield_project / "config.yaml"
    p = Project.open(cfg)
    p.dotsize = 5
    cfg.write_text(cfg.read_text().replace("pcutoff: 0.4", "pcutoff: 0.9"))
    other = cfg.read_bytes()
    with pytest.raises(ConfigChangedOnDiskError, match="changed by another program"):
        p.save()
    assert cfg.read_bytes() == other
    p.reload()
    assert p.pcutoff == 0.9 and p.dotsize == 8 and not p.dirty
    p.save(force=True)


def test_skeleton_edits_are_checked(tmp_path: Path) -> None:
    p = Project.open(_write(tmp_path, BASE.format(root=tmp_path)))
    p.add_edge("a", "b")
    with pytest.raises(ValueError, match="already there"):
        p.add_edge("b", "a")
    with pytest.raises(ValueError, match="two different"):
        p.add_edge("a", "a")
    with pytest.raises(ValueError, match="no body part named 'z'"):
        p.add_edge("a", "z")
    p.rename_bodypart("a", "nose")
    assert p.bodyparts == ["nose", "b"] and p.skeleton == [("nose", "b")]
    p.bodyparts = ["b"]
    assert p.skeleton == []  # edges to a removed body part go with it
    with pytest.raises(ValueError, match="no skeleton edge"):
        p.remove_edge("b", "nose")


def test_display_values_are_checked(tmp_path: Path) -> None:
    p = Project.open(_write(tmp_path, BASE.format(root=tmp_path)))
    with pytest.raises(ValueError, match="between 0 and 1"):
        p.pcutoff = 1.5
    with pytest.raises(ValueError, match="0 or more"):
        p.dotsize = -1
    p.colormap = "viridis"
    assert p.colormap == "viridis" and p.dirty


def test_check_names() -> None:
    assert check_names("body part", ["a", "b"]) == ["a", "b"]
    for bad in (["a", "a"], [""], ["a,b"], [" a"], [3]):
        with pytest.raises(ValueError):
            check_names("body part", bad)


def test_renaming_a_unique_bodypart_keeps_its_edges(tmp_path: Path) -> None:
    cfg = _write(
        tmp_path,
        "Task: t\nmultianimalproject: true\nbodyparts: MULTI!\nindividuals:\n- i1\n"
        "multianimalbodyparts:\n- a\nuniquebodyparts:\n- food\nskeleton:\n- - a\n  - food\n",
    )
    p = Project.open(cfg)
    p.rename_bodypart("food", "prey")
    assert p.unique_bodyparts == ["prey"]
    assert p.skeleton == [("a", "prey")]
    with pytest.raises(ValueError, match="No body part named"):
        p.rename_bodypart("zz", "y")


def test_training_fractions_and_video_crop(openfield_project: Path) -> None:
    p = Project.open(openfield_project)
    assert p.training_fractions == [0.95]
    p.training_fractions = [0.95, 0.8]
    with pytest.raises(ValueError, match="between 0 and 1"):
        p.training_fractions = [1.5]
    (video,) = p.videos
    p.set_video_crop(video, 10, 410, 20, 420)
    assert p.videos[video] == "10, 410, 20, 420"
    with pytest.raises(ValueError, match="Invalid crop"):
        p.set_video_crop(video, 50, 10, 0, 5)
    with pytest.raises(ValueError, match="not a video"):
        p.set_video_crop("/elsewhere.mp4", 0, 1, 0, 1)
    p.save()
    again = Project.open(openfield_project)
    assert again.training_fractions == [0.95, 0.8]
