"""Frame extraction: DLC names, exact frames, no overwrite, start/stop, crop, k-means."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from napari_dlcflow.core.video.extract import (
    count_frames,
    existing_indices,
    extract_frames,
    frame_name,
    index_digits,
    parse_crop,
    pick_uniform,
    save_frame,
)
from napari_dlcflow.core.video.probe import read_frames


def _png(path: Path) -> np.ndarray:
    return np.asarray(Image.open(path))


def test_names_like_deeplabcut() -> None:
    # DLC: str(index).zfill(int(np.ceil(np.log10(nframes))))
    for n in (9, 10, 11, 99, 100, 101, 2330, 10_000):
        assert index_digits(n) == int(np.ceil(np.log10(n)))
    assert frame_name(42, 2330) == "img0042.png"
    assert frame_name(7, 40) == "img07.png"
    assert frame_name(7, 40, digits=3) == "img007.png"
    assert pick_uniform(range(10), 3) == [0, 4, 9] or pick_uniform(range(10), 3) == [0, 5, 9]
    assert pick_uniform(range(3), 5) == [0, 1, 2]
    assert parse_crop("0, 640, 10, 480") == (0, 640, 10, 480)
    with pytest.raises(ValueError):
        parse_crop("10, 5, 0, 4")


def test_uniform_frames_are_exact_and_never_overwritten(small_video: Path, tmp_path: Path) -> None:
    frames = read_frames(small_video)
    assert count_frames(small_video) == len(frames) == 40
    folder = tmp_path / "labeled-data" / small_video.stem
    folder.mkdir(parents=True)
    (folder / "img00.png").write_bytes(b"user's own file")  # frame 0 already there
    (folder / "CollectedData_me.csv").write_text("labels")
    seen: list[tuple[int, int]] = []
    res = extract_frames(small_video, folder, n=5, on_progress=lambda d, t: seen.append((d, t)))
    assert res.already == [0] and 0 not in res.picked and len(res.picked) == 5
    assert [p.name for p in res.written] == [frame_name(i, 40) for i in res.picked]
    for i, p in zip(res.picked, res.written, strict=True):
        np.testing.assert_array_equal(_png(p), frames[i])  # exactly the frame its name says
    assert (folder / "img00.png").read_bytes() == b"user's own file"
    assert (folder / "CollectedData_me.csv").read_text() == "labels"
    assert seen[-1] == (40, 40)
    # a second run adds new frames only
    again = extract_frames(small_video, folder, n=5)
    assert not set(again.picked) & set(res.picked) and len(again.written) == 5
    assert len(existing_indices(folder)[0]) == 11


def test_start_stop_crop_and_kmeans(small_video: Path, tmp_path: Path) -> None:
    frames = read_frames(small_video)
    folder = tmp_path / "f"
    res = extract_frames(small_video, folder, n=4, start=0.5, stop=0.75, crop=(10, 110, 20, 80))
    assert all(20 <= i < 30 for i in res.picked) and len(res.picked) == 4
    for i, p in zip(res.picked, res.written, strict=True):
        np.testing.assert_array_equal(_png(p), frames[i, 20:80, 10:110])
    km = extract_frames(small_video, tmp_path / "k", method="kmeans", n=6, seed=1)
    assert len(km.picked) == 6 and len(set(km.picked)) == 6
    for i, p in zip(km.picked, km.written, strict=True):
        np.testing.assert_array_equal(_png(p), frames[i])
    # same seed, same picks
    km2 = extract_frames(small_video, tmp_path / "k2", method="kmeans", n=6, seed=1)
    assert km2.picked == km.picked


def test_cancel_and_manual(small_video: Path, tmp_path: Path) -> None:
    frames = read_frames(small_video)
    res = extract_frames(small_video, tmp_path / "c", n=10, should_stop=lambda: True)
    assert res.cancelled
    p = save_frame(frames[17], tmp_path / "m", 17, 40)
    assert p is not None and p.name == "img17.png"
    np.testing.assert_array_equal(_png(p), frames[17])
    assert save_frame(frames[3], tmp_path / "m", 17, 40) is None  # never overwrites
    np.testing.assert_array_equal(_png(p), frames[17])


def test_real_video_names(shared_data: Path, tmp_path: Path) -> None:
    video = shared_data / "dlc-openfield/videos/m3v1mp4.mp4"
    res = extract_frames(video, tmp_path / "m3v1mp4", n=3, stop=0.02)
    assert res.n_frames == 2330
    assert [p.name for p in res.written] == ["img0000.png", "img0023.png", "img0046.png"]
    assert _png(res.written[0]).shape == (480, 640, 3)


def test_cli_extract_frames(small_video: Path, tmp_path: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    from napari_dlcflow.cli import main
    from napari_dlcflow.core.project.create import create_project

    project = create_project("t", "me", [small_video], tmp_path, copy_videos=True)
    assert main(["extract-frames", str(project.config_path), "--n", "4", "--crop"]) == 0
    folder = project.root / "labeled-data" / small_video.stem
    assert len(existing_indices(folder)[0]) == 4
    assert "4 new frame(s) of 40" in capsys.readouterr().out
    assert main(["extract-frames", str(project.root), "--n", "2", "--method", "kmeans"]) == 0
    assert len(existing_indices(folder)[0]) == 6
