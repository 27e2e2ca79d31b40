"""``filter``, ``labeled-video`` and ``extract-outliers`` on a multi-animal tracked file
(``<stem><scorer>_el.h5``) from the command line."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from _tracked_group import JUMP_FRAME, SCORER, Group, make_group
from napari_dlcflow.cli import main
from napari_dlcflow.core.labels.machine import read_machine_labels


@pytest.fixture
def group(tmp_path: Path) -> Group:
    return make_group(tmp_path)


def test_filter_takes_the_tracked_file(group: Group, capsys: pytest.CaptureFixture[str]) -> None:
    untracked = group.video.with_name(f"{group.video.stem}{SCORER}.h5")
    # a shell glob gives both: the tracked one is filtered, the untracked one skipped
    assert main(["filter", str(untracked), str(group.tracked), "--method", "median"]) == 0
    captured = capsys.readouterr()
    out = group.tracked.with_name(group.tracked.stem + "_filtered.h5")
    assert captured.out.strip() == str(out)
    assert f"{untracked}: skipped" in captured.err
    assert not untracked.with_name(untracked.stem + "_filtered.h5").exists()
    df = pd.read_hdf(out, key="df_with_missing")
    assert list(df.columns.names) == ["scorer", "individuals", "bodyparts", "coords"]
    assert list(dict.fromkeys(df.columns.get_level_values("individuals"))) == [
        "mouse1",
        "mouse2",
    ]

    # the untracked file alone is refused with the reason, unless asked for
    assert main(["filter", str(untracked)]) != 0
    err = capsys.readouterr().err
    assert "untracked multi-animal" in err and group.tracked.name in err
    assert main(["filter", str(untracked), "--untracked"]) == 0


def test_labeled_video_of_the_tracked_file(group: Group) -> None:
    config = str(group.project.config_path)
    out = group.video.parent / "labeled.mp4"
    args = ["labeled-video", str(group.video), "--config", config, "--out", str(out)]
    assert main(args) == 0
    assert out.is_file() and out.stat().st_size > 0
    # default name: DeepLabCut's, from the tracked file (found before the newer untracked one)
    assert main(["labeled-video", str(group.video), "--config", config]) == 0
    assert group.tracked.with_name(group.tracked.stem + "_p60_labeled.mp4").is_file()


def test_extract_outliers_of_the_tracked_file(
    group: Group, capsys: pytest.CaptureFixture[str]
) -> None:
    root = str(group.project.root)
    args = ["extract-outliers", root, "--epsilon", str(group.epsilon), "--selection", "uniform"]
    assert main([*args, "--individuals", "mouse1"]) == 0
    assert "0 outlier frame(s)" in capsys.readouterr().out
    assert main(args) == 0
    out = capsys.readouterr().out
    assert "2 outlier frame(s) (jump 2)" in out and "2 extracted" in out
    assert "By individual: mouse2 2" in out
    folder = group.project.root / "labeled-data" / group.video.stem
    machine = read_machine_labels(folder)
    assert machine is not None and machine.multianimal
    assert [r[-1] for r in machine.images] == [f"img{JUMP_FRAME}.png", f"img{JUMP_FRAME + 1}.png"]
    assert {i for i, _ in machine.keypoints} == {"mouse1", "mouse2"}
