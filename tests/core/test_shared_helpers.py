"""The small helpers that give one home to logic that was written twice (issue 22).

Each test drives the helper on real data shapes and checks every value it returns, so a
helper that drops or reorders anything fails here, not only in the callers' tests.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from napari_dlcflow.core.formats import ForeignLabels
from napari_dlcflow.core.formats._model import FrameRef


def _foreign() -> ForeignLabels:
    frames = [
        FrameRef(name=f"img{i}.png", group="g", image=Path(f"/x/img{i}.png")) for i in range(4)
    ]
    keypoints = [("a", "nose"), ("a", "tail"), ("b", "nose"), ("b", "tail")]
    xy = np.arange(4 * 4 * 2, dtype=float).reshape(4, 4, 2)
    return ForeignLabels(
        format="coco",
        source=Path("/x/file.json"),
        keypoints=keypoints,
        frames=frames,
        xy=xy,
        multianimal=True,
        skeleton=[("nose", "tail")],
        scorer="someone",
        notes=["a note"],
        likelihood=np.linspace(0, 1, 16).reshape(4, 4),
    )


def test_take_rows_keeps_the_rows_asked_for_in_order() -> None:
    labels = _foreign()
    out = labels.take_rows([3, 1])
    assert [f.name for f in out.frames] == ["img3.png", "img1.png"]
    np.testing.assert_array_equal(out.xy, labels.xy[[3, 1]])
    np.testing.assert_array_equal(out.likelihood, labels.likelihood[[3, 1]])
    assert out.keypoints == labels.keypoints
    assert (out.format, out.source, out.scorer, out.multianimal) == (
        "coco",
        Path("/x/file.json"),
        "someone",
        True,
    )
    assert out.skeleton == [("nose", "tail")]
    out.notes.append("more")
    assert labels.notes == ["a note"]  # a copy: the original is not touched
    assert labels.n_rows == 4
    assert labels.take_rows([]).xy.shape == (0, 4, 2)


def test_take_columns_keeps_the_columns_and_the_given_skeleton() -> None:
    labels = _foreign()
    out = labels.take_columns([2, 0])
    assert out.keypoints == [("b", "nose"), ("a", "nose")]
    np.testing.assert_array_equal(out.xy, labels.xy[:, [2, 0]])
    np.testing.assert_array_equal(out.likelihood, labels.likelihood[:, [2, 0]])
    assert out.frames == labels.frames and out.frames is not labels.frames
    assert out.skeleton == [("nose", "tail")]  # unchanged unless given
    assert labels.take_columns([0], skeleton=[]).skeleton == []
    assert labels.n_keypoints == 4


def _png(path: Path) -> None:
    from PIL import Image

    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(np.zeros((8, 8, 3), np.uint8)).save(path)


def test_dlc_and_lightning_pose_readers_leave_likelihood_out_with_a_note(tmp_path: Path) -> None:
    """Both DeepLabCut-table readers turn the table into ForeignLabels the same way."""
    from napari_dlcflow.core.formats import read_foreign

    header = (
        "scorer,m,m,m,m,m,m\nbodyparts,nose,nose,nose,tail,tail,tail\n"
        "coords,x,y,likelihood,x,y,likelihood\n"
    )
    dlc_header = "".join(line.replace(",", ",,,", 1) + "\n" for line in header.splitlines())
    folder = tmp_path / "proj/labeled-data/vid"
    for i in range(2):
        _png(folder / f"img{i:03d}.png")
    dlc = folder / "machinelabels-iter0.csv"
    dlc.write_text(
        dlc_header + "labeled-data,vid,img000.png,1,2,0.9,3,4,0.8\n"
        "labeled-data,vid,img001.png,5,6,0.7,,,\n"
    )
    lp = tmp_path / "proj/CollectedData.csv"
    lp.write_text(
        header + "labeled-data/vid/img000.png,1,2,0.9,3,4,0.8\n"
        "labeled-data/vid/img001.png,5,6,0.7,,,\n"
    )
    for path, fmt in ((dlc, "dlc"), (lp, "lightning-pose")):
        lab = read_foreign(path, fmt)
        assert lab.format == fmt and lab.source == path
        assert lab.keypoints == [("", "nose"), ("", "tail")]
        np.testing.assert_allclose(lab.xy, [[[1, 2], [3, 4]], [[5, 6], [np.nan, np.nan]]])
        assert lab.likelihood is None
        assert lab.notes[-1] == "machine labels: likelihood left out"
        assert lab.scorer == "m" and lab.multianimal is False
        assert [f.name for f in lab.frames][-1].endswith("img001.png")
        assert all(f.exists() for f in lab.frames)


def test_video_meta_of_frames_for_an_image_folder_and_one_array(tmp_path: Path) -> None:
    """The image-folder reader and the one-frame source of the contrast preview describe their
    frames the same way: size, type and channels of a frame, no frame rate."""
    from PIL import Image

    from napari_dlcflow.core.video.preprocess import ContrastParams, Roi, apply_contrast
    from napari_dlcflow.core.video.reader import ImageFolderReader, VideoMeta

    for i in range(3):
        Image.fromarray(np.full((6, 10), 40 * i, np.uint8)).save(tmp_path / f"img{i}.png")
    meta = ImageFolderReader(tmp_path).meta
    assert meta.as_dict() == {
        "path": str(tmp_path),
        "n_frames": 3,
        "height": 6,
        "width": 10,
        "fps": 0.0,
        "codec": "images",
        "dtype": "uint8",
        "channels": 1,
        "vfr": False,
        "n_frames_header": 3,
        "exact_by": "files",
    }
    rgb = np.zeros((5, 7, 3), np.uint16)
    one = VideoMeta.of_frames(Path("<frame>"), 1, rgb, "array")
    assert (one.height, one.width, one.channels, one.dtype, one.fps) == (5, 7, 3, "uint16", 0.0)
    assert (one.n_frames_header, one.exact_by) == (0, "count")  # the defaults
    # the contrast preview builds its one-frame source with it: a crop of a 16-bit RGB frame
    out = apply_contrast(
        np.arange(5 * 7 * 3, dtype=np.uint16).reshape(5, 7, 3) * 300,
        ContrastParams(method="imagej"),
        roi=Roi(1, 2, 4, 3),
        out_bits=16,
    )
    assert out.shape == (3, 4, 3) and out.dtype == np.uint16
