"""Labeled video export: frames, points drawn only above the p-cutoff, cancel, CLI."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from napari_dlcflow.core.example.synthetic import (
    BODYPARTS,
    SKELETON,
    SyntheticSpec,
    read_truth,
    write_synthetic_example,
)
from napari_dlcflow.core.layers.labeled_video import default_output, render_labeled_video
from napari_dlcflow.core.predictions.analysis_files import (
    Predictions,
    scorer_name,
    simulate_predictions,
    write_predictions,
)
from napari_dlcflow.core.video.probe import read_frames

SCORER = scorer_name("resnet_50", "synthetic", "Nov24", 1, "best-3")


@pytest.fixture(scope="module")
def example(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, Predictions]:
    folder = tmp_path_factory.mktemp("labeled video")
    files = write_synthetic_example(folder, SyntheticSpec(n_frames=24, height=160, width=160))
    truth, _ = read_truth(files.truth_csv)
    pred = simulate_predictions(truth, BODYPARTS, scorer=SCORER, noise_px=0.0, seed=4)
    pred.data[..., 2] = 0.9
    pred.data[[3, 9], :, 2] = 0.3  # two frames where nothing passes the p-cutoff
    h5 = folder / f"{files.video.stem}{SCORER}.h5"
    write_predictions(pred, h5)
    return files.video, h5, pred


def test_points_drawn_only_above_pcutoff(example: tuple[Path, Path, Predictions]) -> None:
    video, h5, pred = example
    out = render_labeled_video(video, h5, pcutoff=0.6, codec="mjpeg", crf=2, radius=3)
    assert out == default_output(h5, 0.6) == h5.with_name(f"{h5.stem}_p60_labeled.mp4")
    # the same export with nothing above the cut-off: the same encoder noise, no dots
    bare = render_labeled_video(
        video, h5, h5.with_name("bare.mp4"), pcutoff=2.0, codec="mjpeg", crf=2, radius=3
    )
    src, lab = read_frames(bare), read_frames(out)
    assert lab.shape == src.shape == read_frames(video).shape
    diff = np.abs(lab.astype(int) - src.astype(int)).mean(axis=3)
    low = pred.data[..., 2] < 0.6
    for t in range(24):
        if low[t].all():
            # mjpeg is intra-only: a frame with nothing to draw is bit-identical
            assert diff[t].max() == 0, t
            continue
        for k in np.flatnonzero(~low[t]):
            x, y, _ = pred.data[t, k]
            r, c = round(y), round(x)
            # the dot covers the keypoint: its colour, not the video
            assert diff[t, r - 1 : r + 2, c - 1 : c + 2].mean() > 30, (t, k)
    assert low.all(axis=1).sum() == 2
    # nothing else changed far from every keypoint
    assert np.median(diff) == 0


def test_skeleton_trails_and_cancel(
    example: tuple[Path, Path, Predictions], tmp_path: Path
) -> None:
    video, h5, _ = example
    out = tmp_path / "with skeleton & trails.mp4"
    seen: list[tuple[int, int]] = []
    written = render_labeled_video(
        video,
        h5,
        out,
        skeleton=SKELETON,
        trail_length=5,
        on_progress=lambda d, t: seen.append((d, t)),
    )
    assert written == out and len(read_frames(out)) == 24
    assert seen[0] == (0, 24) and seen[-1] == (24, 24)
    # cancel after 5 frames: nothing is left behind
    before = set(tmp_path.iterdir())
    target = tmp_path / "cancelled.mp4"
    calls = iter(range(100))
    assert render_labeled_video(video, h5, target, should_stop=lambda: next(calls) >= 5) is None
    assert set(tmp_path.iterdir()) == before


def test_cli_labeled_video_and_filter(example: tuple[Path, Path, Predictions]) -> None:
    video, h5, _ = example
    run = [sys.executable, "-m", "napari_dlcflow"]
    f = subprocess.run(
        [*run, "filter", str(h5), "--method", "median"], capture_output=True, text=True
    )
    assert f.returncode == 0, f.stderr
    filtered = h5.with_name(f"{h5.stem}_filtered.h5")
    assert f.stdout.strip() == str(filtered) and filtered.is_file()
    r = subprocess.run(
        [
            *run,
            "labeled-video",
            str(video),
            "--filtered",
            "--pcutoff",
            "0.3",
            "--trail",
            "3",
            "--codec",
            "mpeg4",
            "--crf",
            "4",
        ],
        capture_output=True,
        text=True,
    )
    assert r.returncode == 0, r.stderr
    out = filtered.with_name(f"{filtered.stem}_p30_labeled.mp4")
    assert r.stdout.strip().splitlines()[-1] == str(out)
    assert len(read_frames(out)) == 24
    bad = subprocess.run(
        [*run, "labeled-video", str(video.with_name("nope.mp4"))], capture_output=True, text=True
    )
    assert bad.returncode == 2 and "nope.mp4" in bad.stderr
