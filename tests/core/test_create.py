from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from napari_dlcflow.core.project.config import Project
from napari_dlcflow.core.project.create import add_videos, create_project
from napari_dlcflow.core.project.sidecar import Sidecar
from napari_dlcflow.core.video.probe import VideoError, probe_video

ODD = "lab #1 & co [x] 100% Süß"


def test_create_single_animal_project_with_odd_paths(small_video: Path, tmp_path: Path) -> None:
    wd = tmp_path / ODD
    wd.mkdir()
    p = create_project(
        "reach task",
        "Zoë",
        [small_video],
        wd,
        bodyparts=["nose", "paw"],
        skeleton=[("nose", "paw")],
        date=dt.date(2026, 1, 2),
    )
    assert p.root == wd / "reach task-Zoë-2026-01-02"
    assert p.project_path_ok and not p.multianimal
    assert p.bodyparts == ["nose", "paw"] and p.skeleton == [("nose", "paw")]
    assert p.date == "Jan02"
    info = probe_video(small_video)
    linked = p.root / "videos" / small_video.name
    assert linked.is_symlink() and linked.resolve() == small_video.resolve()
    assert p.videos == {str(linked): f"0, {info.width}, 0, {info.height}"}
    assert (p.root / "labeled-data" / small_video.stem).is_dir()
    assert Sidecar.load(p.root).videos_mode == "link"
    assert "dlcflow" not in p.config_path.read_text()  # nothing of ours in config.yaml
    assert not list(wd.glob(".*creating"))


def test_create_multianimal_copy(small_video: Path, tmp_path: Path) -> None:
    p = create_project(
        "fish",
        "me",
        [small_video],
        tmp_path,
        copy_videos=True,
        multianimal=True,
        bodyparts=["head", "tail"],
        unique_bodyparts=["food"],
        individuals=["f1", "f2"],
    )
    assert p.get("bodyparts") == "MULTI!"
    assert (p.bodyparts, p.unique_bodyparts, p.individuals) == (
        ["head", "tail"],
        ["food"],
        ["f1", "f2"],
    )
    copied = p.root / "videos" / small_video.name
    assert not copied.is_symlink() and copied.read_bytes() == small_video.read_bytes()
    reopened = Project.open(p.root)
    assert reopened.all_bodyparts == ["head", "tail", "food"]


def test_bad_video_creates_nothing(small_video: Path, tmp_path: Path) -> None:
    empty = tmp_path / "empty.mp4"
    empty.write_bytes(b"")
    junk = tmp_path / "junk.avi"
    junk.write_bytes(b"RIFF not really a video" * 10)
    for bad, why in ((empty, "empty"), (junk, "cannot be read|no video|no frame")):
        with pytest.raises(VideoError, match=why) as info:
            create_project("t", "s", [small_video, bad], tmp_path)
        assert bad.name in str(info.value)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["empty.mp4", "junk.avi"]


def test_existing_folder_and_bad_names_refused(small_video: Path, tmp_path: Path) -> None:
    create_project("t", "s", [small_video], tmp_path)
    with pytest.raises(FileExistsError, match="exists already"):
        create_project("t", "s", [small_video], tmp_path)
    with pytest.raises(ValueError, match="must not be empty"):
        create_project(" ", "s", [small_video], tmp_path)
    with pytest.raises(ValueError, match="folder name cannot"):
        create_project("a/b", "s", [small_video], tmp_path)
    with pytest.raises(ValueError, match="single"):
        create_project(
            "t2", "s", [small_video], tmp_path, multianimal=True, individuals=["single"]
        )


def test_add_videos_follows_sidecar_mode(small_video: Path, tmp_path: Path) -> None:
    other = tmp_path / "src" / "second clip.mp4"
    other.parent.mkdir()
    other.write_bytes(small_video.read_bytes())
    wd = tmp_path / "wd"
    wd.mkdir()
    p = create_project("t", "s", [small_video], wd, copy_videos=True)
    added = add_videos(p, [other])
    assert added == [p.root / "videos" / "second clip.mp4"]
    assert not added[0].is_symlink()
    assert str(added[0]) in p.videos and p.dirty
    with pytest.raises(FileExistsError):
        add_videos(p, [other])
    p.remove_video(added[0])
    p.save()
    assert str(added[0]) not in Project.open(p.root).videos
    assert added[0].exists()  # removing from the config never deletes the video
