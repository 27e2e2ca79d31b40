"""The whole multi-animal loop through the command line, with default options, on the synthetic
group example: labeled from the truth, dataset, training (weights said first, offline), evaluation,
analysis with tracking (DeepLabCut's detections, tracklets and stitched tracks), a rerun that
redoes nothing, a changed tracking setting that redoes only the tracking, and ``compare-tracks``
against the truth."""

from __future__ import annotations

import json

import pandas as pd
import pytest

from _ma_trained import cli, ma_trained

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("multi_animal")]


def test_multi_animal_loop_through_the_cli_with_default_options(tmp_path_factory, monkeypatch):
    run = ma_trained(tmp_path_factory)
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    # the weights were said before the job started: nothing cached, no network -> scratch
    assert "not available offline" in run.train_said and "from scratch" in run.train_said
    assert "training finished" in run.train_said

    code, said = cli("evaluate", run.config.parent)
    assert code == 0, said
    assert "RMSE" in said and "mAP" in said

    code, said = cli("analyze", run.config.parent, run.video)  # the project folder is accepted
    assert code == 0, said
    assert "tracking: box tracker" in said
    for stage in ("detections: done", "tracklets: done", "tracks: done"):
        assert stage in said
    folder = run.video.parent
    scorer = next(folder.glob("synthetic_animals*_full.pickle")).name
    scorer = scorer.removeprefix("synthetic_animals").removesuffix("_full.pickle")
    for suffix in ("_full.pickle", "_meta.pickle", "_assemblies.pickle", "_bx.pickle", "_bx.h5"):
        assert (folder / f"synthetic_animals{scorer}{suffix}").is_file(), suffix
    tracked = folder / f"synthetic_animals{scorer}_bx.h5"
    df = pd.read_hdf(tracked)
    assert len(df) == 120  # one row per frame of the video
    assert list(df.columns.names) == ["scorer", "individuals", "bodyparts", "coords"]
    assert sorted(set(df.columns.get_level_values("individuals"))) == ["mouse1", "mouse2"]

    code, said = cli("analyze", run.config, run.video)
    assert code == 0 and "already complete" in said, said

    # another tracking setting: the detections are kept, only the tracking is redone
    code, said = cli("analyze", run.config, run.video, "--max-age", "3")
    assert code == 0, said
    assert "detections: already done" in said and "tracklets: done" in said

    code, said = cli("compare-tracks", tracked, run.truth, "--json")
    assert code == 0, said
    scores = json.loads(said)
    assert scores["frames"] == 120
    # a 30-epoch network on 38 frames: the tracks must follow both animals more often than
    # not, not be perfect (the benchmark's model is closer)
    assert scores["idf1"] > 0.45, scores
    assert scores["all_found"] > 0.5, scores  # both animals found in most frames
    per = {p["individual"]: p for p in scores["per_individual"]}
    assert set(per) == {"mouse1", "mouse2"}
    assert sorted(scores["mapping"].values()) == ["mouse1", "mouse2"], scores  # two tracks
    assert all(p["median_px"] is not None and p["median_px"] < 15 for p in per.values())

    code, said = cli("track-report", tracked)
    assert code == 0 and "2 identities" in said, said


def test_changed_individuals_and_a_shorter_video_on_the_trained_model(
    tmp_path_factory, tmp_path, monkeypatch
):
    run = ma_trained(tmp_path_factory)
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    import cv2

    from napari_dlcflow.core.video.reader import count_frames

    # the config's individuals changed after training: named, nothing analysed
    original = run.config.read_bytes()
    text = original.decode()
    assert "- mouse2\n" in text
    try:
        run.config.write_text(text.replace("- mouse2\n", "- mouse2\n- mouse3\n", 1))
        code, said = cli("analyze", run.config, run.video, "--destfolder", tmp_path / "changed")
    finally:
        run.config.write_bytes(original)
    assert code != 0
    assert str(run.config) in said and "trained with ['mouse1', 'mouse2']" in said, said
    assert not list((tmp_path / "changed").glob("*.h5"))

    # a video replaced by a shorter one under the same name: its detections are redone, the
    # tracks have one row per frame of the new video
    out = tmp_path / "short"
    code, said = cli("analyze", run.config, run.video, "--destfolder", out)
    assert code == 0, said
    short = out / run.video.name  # beside the detections of the 120-frame video
    src = cv2.VideoCapture(str(run.video))
    frame = src.read()[1]
    writer = cv2.VideoWriter(str(short), cv2.VideoWriter_fourcc(*"mp4v"), 30, frame.shape[1::-1])
    for _ in range(60):
        writer.write(frame)
        frame = src.read()[1]
    writer.release()
    src.release()
    assert count_frames(short) == 60
    code, said = cli("analyze", run.config, short, "--destfolder", out)
    assert code == 0, said
    assert "detections: done" in said and "already" not in said, said
    tracked = next(out.glob("synthetic_animals*_bx.h5"))
    assert len(pd.read_hdf(tracked)) == 60
