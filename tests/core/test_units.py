"""Physical units of predictions (meta, project, fps) and kinematics (speed, distance)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from numpy.testing import assert_allclose

from napari_dlcflow.core.predictions.analysis_files import (
    Predictions,
    output_files,
    read_predictions,
    scorer_name,
    write_meta,
    write_predictions,
)
from napari_dlcflow.core.predictions.kinematics import kinematics_table, track_kinematics
from napari_dlcflow.core.predictions.units import (
    PIXELS_FRAMES,
    AxisUnits,
    Units,
    positions_table,
    store_units,
    stored_units,
    units_of,
    video_key,
)
from napari_dlcflow.core.project.sidecar import Sidecar

SCORER = scorer_name("resnet_50", "cells", "Dec7", 1, "best-5")
UM_S = AxisUnits("um", "s")


def _line(n: int = 11, vx: float = 3.0, vy: float = 4.0) -> Predictions:
    """One body part moving at a constant 5 px/frame (3, 4 per frame), likelihood 0.9."""
    t = np.arange(n, dtype=float)
    data = np.stack([10 + vx * t, 20 + vy * t, np.full(n, 0.9)], axis=1)[:, None, :]
    return Predictions(data, ("nose",), ("",), SCORER, np.arange(n))


def _write(
    folder: Path, pred: Predictions, meta: dict | None, video: str = "cells.ome.tif"
) -> Path:
    """The analysis files of ``video`` (its stem prefixes them, as in DeepLabCut)."""
    folder.mkdir(parents=True, exist_ok=True)
    files = output_files(folder / video, SCORER)
    write_predictions(pred, files["h5"])
    if meta is not None:
        write_meta(files["meta"], meta)
    return files["h5"]


def _project(root: Path) -> Path:
    root.mkdir(parents=True, exist_ok=True)
    (root / "config.yaml").write_text("Task: cells\nbodyparts:\n- nose\n", encoding="utf-8")
    (root / "videos").mkdir(exist_ok=True)
    return root


def test_units_from_the_analysis_metadata(tmp_path: Path) -> None:
    source = {"path": "/data/cells.ome.tif", "choice": "C1", "pixel_size_um": 0.65}
    h5 = _write(
        tmp_path, _line(), {"fps": 30.0, "dlcflow_source": {**source, "frame_interval_s": 0.5}}
    )
    u = units_of(read_predictions(h5))
    assert (u.pixel_size_um, u.frame_interval_s) == (0.65, 0.5)
    assert (u.pixel_from, u.time_from) == ("file", "file")
    assert u.physical and u.default() == UM_S
    assert u.image_units() == (0.65, 0.5)
    assert "0.65 µm (from the file)" in u.describe()
    # a frame interval the file does not give falls back to the fps; a bad value is noted
    h5 = _write(
        tmp_path, _line(), {"fps": 20.0, "dlcflow_source": {**source, "frame_interval_s": -1}}
    )
    u = units_of(read_predictions(h5))
    assert (u.frame_interval_s, u.time_from) == (0.05, "fps")
    assert u.image_units() == (0.65, None)  # the image layer's time is not scaled
    assert "frame_interval_s -1" in u.notes[0]


def test_units_stored_in_the_project_and_from_fps(tmp_path: Path) -> None:
    root = _project(tmp_path / "proj")
    video = root / "videos" / "cells.ome.tif"
    source = {"path": str(video), "choice": "", "pixel_size_um": None, "frame_interval_s": None}
    h5 = _write(root / "videos", _line(), {"fps": 25.0, "dlcflow_source": source})
    # nothing stored, nothing in the file: time from the fps, pixels only
    u = units_of(read_predictions(h5))
    assert (u.pixel_size_um, u.frame_interval_s, u.time_from) == (None, 0.04, "fps")
    assert u.choices() == [PIXELS_FRAMES, AxisUnits("px", "s")]
    assert u.default() == PIXELS_FRAMES
    with pytest.raises(ValueError, match="pixel size is not known"):
        positions_table(read_predictions(h5), {"nose"}, u, UM_S)
    # entered once for the file (every channel of it); found for its analysis files
    assert (video_key(h5), video_key(video), u.video) == ("cells.ome", "cells", "cells")
    store_units(root, video, pixel_size_um=1.3, frame_interval_s=2)
    u = units_of(read_predictions(h5))
    assert (u.pixel_size_um, u.frame_interval_s) == (1.3, 2.0)
    assert (u.pixel_from, u.time_from) == ("project", "project")
    assert u.image_units() == (None, None)  # a project value is not the image layer's
    channel = _write(
        root / "videos", _line(), {"dlcflow_source": source}, video="cells_C1.tif"
    )  # channel 1: "cells_C1DLC_..."
    assert units_of(read_predictions(channel)).pixel_size_um == 1.3
    # a plain video's analysis: the key is the video's stem
    store_units(root, root / "videos" / "mouse.mp4", pixel_size_um=2.0, frame_interval_s=None)
    mouse = _write(root / "videos", _line(), {"fps": 25.0}, video="mouse.mp4")
    u = units_of(read_predictions(mouse))
    assert (u.pixel_size_um, u.pixel_from, u.time_from, u.video) == (
        2.0,
        "project",
        "fps",
        "mouse",
    )
    assert stored_units(root, "cells") == {"pixel_size_um": 1.3, "frame_interval_s": 2.0}
    text = Sidecar.path_for(root).read_text(encoding="utf-8")
    assert "units:" in text and "cells:" in text
    # the file's own metadata wins over the project
    h5 = _write(root / "videos", _line(), {"dlcflow_source": {**source, "pixel_size_um": 0.5}})
    u = units_of(read_predictions(h5), root)
    assert (u.pixel_size_um, u.pixel_from, u.time_from) == (0.5, "file", "project")
    # no meta, no project: nothing known
    bare = _write(tmp_path / "elsewhere", _line(), None)
    u = units_of(read_predictions(bare))
    assert (u.pixel_from, u.time_from, u.choices()) == ("unknown", "unknown", [PIXELS_FRAMES])
    # both None removes the entry; the section disappears
    store_units(root, "cells", pixel_size_um=None, frame_interval_s=None)
    store_units(root, "mouse", pixel_size_um=None, frame_interval_s=None)
    assert "units" not in Sidecar.path_for(root).read_text(encoding="utf-8")


def test_bad_units_are_refused_naming_the_file(tmp_path: Path) -> None:
    root = _project(tmp_path / "proj")
    for bad in (0, -2.0, float("nan"), "big"):
        with pytest.raises(ValueError, match="pixel_size_um must be a positive number"):
            store_units(root, "cells", pixel_size_um=bad, frame_interval_s=None)  # type: ignore[arg-type]
    assert not Sidecar.path_for(root).exists()  # nothing written
    Sidecar.path_for(root).write_text(
        "units:\n  cells:\n    pixel_size_um: -1\n", encoding="utf-8"
    )
    with pytest.raises(ValueError, match=r"dlcflow.yaml: units of 'cells': pixel_size_um"):
        Sidecar.load(root)
    # units_of skips an unreadable sidecar and says why
    h5 = _write(root / "videos", _line(), {"fps": 10})
    u = units_of(read_predictions(h5))
    assert u.time_from == "fps" and "dlcflow.yaml" in u.notes[0]


def test_kinematics_of_a_constant_speed_track() -> None:
    pred = _line(n=11)
    px = 0.65
    units = Units(px, 0.5, "file", "file")
    df = kinematics_table(pred, {"nose"}, units, UM_S)
    assert list(df.columns) == [("nose", "speed_um_per_s"), ("nose", "distance_um")]
    assert df.index.names == ["frame", "time_s"]
    assert_allclose(df.index.get_level_values("time_s"), np.arange(11) * 0.5)
    speed = df[("nose", "speed_um_per_s")].to_numpy()
    assert np.isnan(speed[0])
    assert_allclose(speed[1:], 5 * px / 0.5)  # 5 px per frame, 0.65 µm, 0.5 s
    assert_allclose(df[("nose", "distance_um")], 5 * px * np.arange(11))
    px_frame = kinematics_table(pred, {"nose"}, units, PIXELS_FRAMES)
    assert list(px_frame.columns.get_level_values(1)) == ["speed_px_per_frame", "distance_px"]
    assert_allclose(px_frame.iloc[1:, 0], 5.0)
    # positions in µm: DLC's layout with the unit in the coordinate names
    pos = positions_table(pred, {"nose"}, units, UM_S)
    assert list(pos.columns.get_level_values(-1)) == ["x_um", "y_um", "likelihood"]
    assert_allclose(pos.iloc[:, 0], (10 + 3 * np.arange(11)) * px)
    assert_allclose(pos.iloc[:, 2], 0.9)
    assert positions_table(pred, {"nose"}, units).equals(pred.to_dataframe())


def test_kinematics_gaps_and_likelihood() -> None:
    t = np.arange(8, dtype=float)
    xy = np.stack([2.0 * t, np.zeros(8)], axis=1)  # 2 px/frame along x
    xy[3] = np.nan  # one missing frame
    xy[5:7] = np.nan  # two missing frames
    frames = np.arange(8)
    speed, dist = track_kinematics(xy, frames)
    assert_allclose(speed, [np.nan, 2, 2, np.nan, np.nan, np.nan, np.nan, np.nan])
    # steps across gaps are not counted; the distance is held through them
    assert_allclose(dist, [0, 2, 4, 4, 4, 4, 4, 4])
    speed, dist = track_kinematics(xy, frames, max_gap=1)
    assert_allclose(speed, [np.nan, 2, 2, np.nan, 2, np.nan, np.nan, np.nan])
    assert_allclose(dist, [0, 2, 4, 4, 8, 8, 8, 8])
    speed, dist = track_kinematics(xy, frames, max_gap=2)
    assert_allclose(dist, [0, 2, 4, 4, 8, 8, 8, 14])
    assert_allclose(speed[7], 2.0)
    # rows may skip frame numbers: the speed is per frame, not per row
    speed, _ = track_kinematics(np.array([[0.0, 0], [6, 8]]), np.array([0, 2]), max_gap=1)
    assert_allclose(speed, [np.nan, 5.0])
    # low likelihood counts as untracked; before the first tracked frame: NaN
    valid = np.array([False, True, True, True, True, True, True, True])
    _, dist = track_kinematics(2.0 * np.stack([t, t], 1), frames, valid)
    assert np.isnan(dist[0]) and dist[1] == 0
    assert np.isnan(track_kinematics(np.full((3, 2), np.nan), np.arange(3))[1]).all()


def test_kinematics_per_individual() -> None:
    n = 6
    t = np.arange(n, dtype=float)
    a = np.stack([t, np.zeros(n), np.ones(n)], 1)  # 1 px/frame
    b = np.stack([np.zeros(n), 3 * t, np.ones(n)], 1)  # 3 px/frame
    pred = Predictions(
        np.stack([a, b], 1), ("nose", "nose"), ("mus1", "mus2"), SCORER, np.arange(n), True
    )
    df = kinematics_table(
        pred, set(pred.labels), Units(None, 0.1, "unknown", "fps"), AxisUnits("px", "s")
    )
    assert list(df.columns.get_level_values(0)) == [
        "mus1/nose",
        "mus1/nose",
        "mus2/nose",
        "mus2/nose",
    ]
    assert_allclose(df[("mus1/nose", "speed_px_per_s")].iloc[1:], 10.0)
    assert_allclose(df[("mus2/nose", "distance_px")].iloc[-1], 15.0)
    assert isinstance(df.index, pd.MultiIndex)


def test_units_entered_once_on_the_command_line(
    openfield_project: Path, capsys: pytest.CaptureFixture
) -> None:
    from napari_dlcflow.cli import main
    from napari_dlcflow.core.predictions.units import stored_units

    video = str(openfield_project / "videos" / "m3v1mp4.mp4")
    with pytest.raises(SystemExit):
        main(["units", str(openfield_project), video, "--pixel-size-um", "0,5"])
    assert "invalid float" in capsys.readouterr().err  # argparse names the option
    assert main(["units", str(openfield_project), video, "--pixel-size-um", "0.5"]) == 0
    assert main(["units", str(openfield_project), video, "--frame-interval-s", "0.04"]) == 0
    out = capsys.readouterr().out
    assert "m3v1mp4: pixel size 0.5 µm, frame interval 0.04 s" in out
    assert stored_units(openfield_project, video) == {
        "pixel_size_um": 0.5,
        "frame_interval_s": 0.04,
    }
    assert main(["units", str(openfield_project), video, "--pixel-size-um", "-1"]) == 2
    assert "positive" in capsys.readouterr().err
    assert stored_units(openfield_project, video)["pixel_size_um"] == 0.5  # unchanged
    assert main(["units", str(openfield_project), video, "--clear"]) == 0
    assert "not stored, frame interval not stored" in capsys.readouterr().out
