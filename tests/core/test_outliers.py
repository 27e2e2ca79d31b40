"""Outlier criteria on known data, and extraction of outlier frames with machine labels."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from napari_dlcflow.core.example.synthetic import BODYPARTS, SyntheticSpec, render_synthetic
from napari_dlcflow.core.example.truth_labels import make_labeled_synthetic_project
from napari_dlcflow.core.labels.collected import load_folder, read_labels
from napari_dlcflow.core.labels.machine import (
    frame_index_of,
    machine_labels_path,
    read_machine_labels,
)
from napari_dlcflow.core.predictions.analysis_files import (
    Predictions,
    simulate_predictions,
    write_predictions,
)
from napari_dlcflow.core.refine.outliers import (
    OutlierSpec,
    extract_outliers,
    find_outliers,
    fit_deviation,
    jump_distance,
    uncertain_mask,
)
from napari_dlcflow.core.video.extract import labeled_data_folder
from napari_dlcflow.core.video.reader import open_frames

SPEC = SyntheticSpec(n_frames=60, height=96, width=96, seed=3)
SCORER = "DLC_Resnet50_syntheticNov24shuffle1_snapshot_best-10"


def _smooth(n: int = 50, k: int = 3) -> np.ndarray:
    t = np.arange(n)[:, None, None]
    xy = np.concatenate([np.broadcast_to(t * 1.0, (n, k, 1)), np.full((n, k, 1), 10.0)], axis=2)
    return np.concatenate([xy, np.full((n, k, 1), 0.95)], axis=2)


def test_jump_flags_only_the_step_larger_than_epsilon() -> None:
    data = _smooth()
    data[20:, 1, 0] += 30  # keypoint 1 jumps 30 px between frames 19 and 20 and stays
    d = jump_distance(data[..., :2])
    assert d[0] == 0
    assert np.flatnonzero(d > 20).tolist() == [20]
    data[5, 2, :2] = np.nan  # a missing point is not a jump
    assert np.flatnonzero(jump_distance(data[..., :2]) > 20).tolist() == [20]


def test_uncertain_is_any_keypoint_below_p_bound() -> None:
    lik = np.full((6, 3), 0.9)
    lik[2, 1] = 0.005
    lik[4, 0] = np.nan  # missing, not uncertain
    assert np.flatnonzero(uncertain_mask(lik, 0.01)).tolist() == [2]


@pytest.mark.parametrize("fit", ["median", "arima"])
def test_fitting_flags_a_spike_but_not_smooth_motion(fit: str) -> None:
    data = _smooth(80)
    data[40, :, 1] += 50  # every keypoint off by 50 px in one frame
    dev = fit_deviation(data, 0.01, fit=fit, window=7)
    assert dev[40] > 20
    others = np.delete(dev, 40)
    assert np.median(others) < 3


def test_find_outliers_combines_criteria_and_checks_manual_frames() -> None:
    data = _smooth()
    data[10, 0, 2] = 0.001
    data[30:, 0, 0] += 40
    n = data.shape[1]
    pred = Predictions(data, ("a", "b", "c")[:n], ("",) * n, "s", np.arange(len(data)))
    got = find_outliers(pred, OutlierSpec(criteria=("jump", "uncertain", "manual"), frames=(3,)))
    assert got == {3: ["manual"], 10: ["uncertain"], 30: ["jump"]}
    only_b = find_outliers(pred, OutlierSpec(criteria=("jump", "uncertain"), bodyparts=("b",)))
    assert only_b == {}
    with pytest.raises(ValueError, match="not in the analysis"):
        find_outliers(pred, OutlierSpec(criteria=("manual",), frames=(999,)))
    with pytest.raises(ValueError, match="no body part"):
        find_outliers(pred, OutlierSpec(bodyparts=("tail",)))
    with pytest.raises(ValueError, match="criteria"):
        OutlierSpec(criteria=("wobble",))
    with pytest.raises(ValueError, match="mark at least one frame"):
        OutlierSpec(criteria=("manual",))


# ------------------------------------------------------------------------------ extraction


@pytest.fixture
def analysed(tmp_path: Path) -> tuple:
    """A labeled synthetic project whose video has an 'analysis' with known errors."""
    project = make_labeled_synthetic_project(tmp_path, SPEC, n_labeled=6)
    truth = render_synthetic(SPEC).keypoints
    pred = simulate_predictions(truth, BODYPARTS, scorer=SCORER, low_fraction=0.0, seed=2)
    data = pred.data.copy()
    for f in (17, 33, 47):  # the model "loses" the nose in three frames
        data[f, 0, :2] += 40
    pred = pred.with_data(data)
    video = next(iter(project.videos))
    h5 = Path(video).parent / f"{Path(video).stem}{SCORER}.h5"
    write_predictions(pred, h5)
    return project, Path(video), h5, pred, truth


def test_extract_outliers_writes_exact_frames_and_machine_labels(analysed: tuple) -> None:
    project, video, h5, pred, _ = analysed
    folder = labeled_data_folder(project.root, video)
    ground_before = load_folder(folder)
    spec = OutlierSpec(criteria=("jump",), epsilon=25, selection="uniform", n=10)
    result = extract_outliers(project, video, spec)
    # the jump flags the frame where the nose leaves and the one where it comes back
    assert result.candidates == [17, 18, 33, 34, 47, 48]
    assert result.analysis == h5
    labeled = {frame_index_of(r[-1]) for r in ground_before.images}
    assert result.already == sorted(labeled & set(result.candidates))
    assert result.picked == [c for c in result.candidates if c not in labeled]
    names = [p.name for p in result.written]
    assert names == [f"img{i:02d}.png" for i in result.picked]  # DeepLabCut's naming
    # every image is exactly the frame its name says
    from PIL import Image

    with open_frames(video) as frames:
        for p in result.written:
            np.testing.assert_array_equal(
                np.asarray(Image.open(p).convert("RGB")), frames[frame_index_of(p.name)]
            )
    # machine labels: the predictions of those frames, with likelihood, the network's scorer
    machine = read_machine_labels(folder)
    assert machine is not None
    assert machine.scorer == SCORER
    assert [r[-1] for r in machine.images] == names
    np.testing.assert_allclose(machine.xy, pred.xy[result.picked])
    np.testing.assert_allclose(machine.likelihood, pred.likelihood[result.picked])
    assert machine_labels_path(folder, 0).is_file()
    assert (folder / "machinelabels.csv").is_file()
    # ground truth untouched
    assert load_folder(folder).equals(ground_before)
    assert "6 outlier frame(s) (jump 6)" in result.format()


def test_extract_outliers_again_keeps_earlier_frames_and_machine_labels(analysed: tuple) -> None:
    """Regression: a second extraction in the same iteration must not drop the first one's
    machine labels, nor rewrite frames that are already in the folder."""
    project, video, _h5, _pred, _ = analysed
    folder = labeled_data_folder(project.root, video)
    first = extract_outliers(project, video, OutlierSpec(criteria=("manual",), frames=(5, 9)))
    assert [p.name for p in first.written] == ["img05.png", "img09.png"]
    stamp = (folder / "img05.png").stat().st_mtime_ns
    second = extract_outliers(project, video, OutlierSpec(criteria=("manual",), frames=(5, 21)))
    assert second.already == [5]
    assert [p.name for p in second.written] == ["img21.png"]
    assert (folder / "img05.png").stat().st_mtime_ns == stamp
    machine = read_machine_labels(folder)
    assert [r[-1] for r in machine.images] == ["img05.png", "img09.png", "img21.png"]


def test_extract_outliers_never_takes_a_labeled_frame(analysed: tuple) -> None:
    project, video, _h5, _pred, _ = analysed
    folder = labeled_data_folder(project.root, video)
    labeled = [frame_index_of(r[-1]) for r in load_folder(folder).images]
    result = extract_outliers(project, video, OutlierSpec(criteria=("manual",), frames=labeled))
    assert result.written == [] and result.machine_labels is None
    assert result.already == sorted(labeled)
    assert read_machine_labels(folder) is None


def test_kmeans_picks_n_among_the_candidates(analysed: tuple) -> None:
    project, video, _h5, _pred, _ = analysed
    spec = OutlierSpec(criteria=("uncertain",), p_bound=0.99, selection="kmeans", n=4)
    result = extract_outliers(project, video, spec)
    assert len(result.picked) == 4
    assert set(result.picked) <= set(result.candidates)
    assert not set(result.picked) & set(result.already)


def test_cropped_frames_get_machine_labels_in_crop_coordinates(analysed: tuple) -> None:
    project, video, _h5, pred, _ = analysed
    key = next(iter(project.videos))
    project.set_video_crop(key, 10, 90, 20, 80)
    project.save()
    spec = OutlierSpec(criteria=("manual",), frames=(40,), use_crop=True)
    result = extract_outliers(project, video, spec)
    from PIL import Image

    assert Image.open(result.written[0]).size == (80, 60)
    machine = read_machine_labels(result.folder)
    np.testing.assert_allclose(machine.xy[0], pred.xy[40] - [10, 20])


def test_missing_or_broken_analysis_is_reported_with_its_name(analysed: tuple) -> None:
    project, video, h5, _pred, _ = analysed
    h5.unlink()
    with pytest.raises(FileNotFoundError, match="analyze the video first"):
        extract_outliers(project, video)
    h5.write_bytes(b"not an hdf5 file")
    from napari_dlcflow.core.predictions.analysis_files import PredictionsError

    with pytest.raises(PredictionsError, match=h5.name):
        extract_outliers(project, video, analysis=h5)
    folder = labeled_data_folder(project.root, video)
    assert read_machine_labels(folder) is None


def test_machine_labels_file_of_an_unreadable_kind_is_not_overwritten(analysed: tuple) -> None:
    project, video, _h5, _pred, _ = analysed
    folder = labeled_data_folder(project.root, video)
    bad = machine_labels_path(folder, 0)
    bad.write_bytes(b"")
    from napari_dlcflow.core.labels.collected import LabelsError

    with pytest.raises(LabelsError, match=bad.name):
        extract_outliers(project, video, OutlierSpec(criteria=("manual",), frames=(13,)))
    assert bad.read_bytes() == b""
    assert not (folder / "img13.png").exists()  # stopped before writing any frame
    # the CollectedData still reads
    assert read_labels(next(folder.glob("CollectedData_*.h5"))).n_labeled > 0
