"""Foreign label formats on real files (SLEAP, DLC variants) and on files written from known
data (COCO, per-image CSV), with the bad-input cases."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from numpy.testing import assert_allclose

from napari_dlcflow.core.formats import FormatError, detect_format, per_image_csv, read_foreign
from napari_dlcflow.core.formats import coco as coco_fmt

RNG = np.random.default_rng(5)


def write_png(path: Path, h: int = 40, w: int = 60, value: int = 0) -> None:
    from PIL import Image

    yy, xx = np.mgrid[0:h, 0:w]
    a = np.stack(
        [xx * 255 // max(w - 1, 1), yy * 255 // max(h - 1, 1), np.full_like(xx, 90)], axis=-1
    ).astype(np.uint8)
    a[5, 5, 0] = value  # each image differs from the others here
    Image.fromarray(a).save(path)


def test_sleap_clip_exact_counts_and_coordinates(shared_data: Path) -> None:
    slp = shared_data / "sleap-tests/tracks/clip.slp"
    assert detect_format(slp) == "sleap"
    lab = read_foreign(slp)
    assert lab.format == "sleap" and lab.multianimal
    assert len(lab.frames) == 1500
    assert lab.individuals == ["female", "male"]
    assert lab.bodyparts[:3] == ["head", "thorax", "abdomen"] and len(lab.bodyparts) == 13
    # 3000 user instances x 13 nodes, 637 of them not labeled (checked with sleap-io directly)
    assert lab.n_labeled == 3000 * 13 - 637
    f0 = lab.frames[0]
    assert (f0.video.name, f0.frame_index, f0.group) == ("clip.mp4", 0, "clip")
    male_head = lab.keypoints.index(("male", "head"))
    female_thorax = lab.keypoints.index(("female", "thorax"))
    assert_allclose(lab.xy[0, male_head], [335.25, 444.75])
    assert_allclose(lab.xy[0, female_thorax], [396.25, 422.75])
    assert ("thorax", "head") in lab.skeleton


def test_sleap_predictions_only_when_asked(shared_data: Path) -> None:
    slp = shared_data / "sleap-tests/tracks/clip.predictions.slp"
    with pytest.raises(FormatError, match="no user-labeled instance"):
        read_foreign(slp)
    lab = read_foreign(slp, predictions=True, frames=range(10))
    assert len(lab.frames) == 10 and lab.bodyparts == ["head", "thorax"]
    assert "20 predicted instances taken" in lab.notes
    assert_allclose(
        lab.xy[0, lab.keypoints.index(("female", "head"))], [447.4327, 390.6120], atol=1e-3
    )


def test_sleap_several_skeletons_must_be_chosen(shared_data: Path, tmp_path: Path) -> None:
    import sleap_io as sio

    base = sio.load_slp(str(shared_data / "sleap-tests/tracks/clip.2node.slp"), open_videos=False)
    other = sio.Skeleton(["nose", "tail"], name="other")
    video = base.videos[0]
    lfs = []
    for lf in base.labeled_frames[:3]:
        inst = sio.Instance.from_numpy(np.array([[10.0, 20.0], [30.0, 40.0]]), skeleton=other)
        lfs.append(
            sio.LabeledFrame(
                video=video, frame_idx=lf.frame_idx, instances=[*lf.user_instances, inst]
            )
        )
    two = sio.Labels(
        labeled_frames=lfs,
        videos=[video],
        skeletons=[base.skeletons[0], other],
        tracks=base.tracks,
    )
    path = tmp_path / "two.slp"
    two.save(str(path))
    with pytest.raises(FormatError, match="2 skeletons"):
        read_foreign(path)
    lab = read_foreign(path, skeleton="other")
    assert lab.bodyparts == ["nose", "tail"] and len(lab.frames) == 3
    assert not lab.multianimal
    assert_allclose(lab.xy[:, 1], [[30.0, 40.0]] * 3)
    lab2 = read_foreign(path, skeleton=0)
    assert (
        lab2.individuals == ["female", "male"]
        and "3 instances of other skeletons" in lab2.notes[0]
    )


def test_sleap_repeated_skeleton_edge_names_the_file(shared_data: Path, tmp_path: Path) -> None:
    import sleap_io as sio

    base = sio.load_slp(str(shared_data / "sleap-tests/tracks/clip.2node.slp"), open_videos=False)
    skel = base.skeletons[0]
    a, b = skel.edges[0].source, skel.edges[0].destination
    skel.edges.append(sio.Edge(b, a))  # sleap-io accepts the edge twice; a project does not
    path = tmp_path / "doubled.slp"
    sio.Labels(labeled_frames=base.labeled_frames[:3], videos=base.videos, skeletons=[skel]).save(
        str(path)
    )
    with pytest.raises(
        FormatError, match=rf"doubled\.slp: skeleton edge {b.name}-{a.name} appears"
    ):
        read_foreign(path)


@pytest.mark.parametrize(
    ("name", "n_kp", "n_labeled", "multi"),
    [
        ("dlc_testdata.csv", 3, 8, False),
        ("dlc_testdata_v2.csv", 3, 8, False),
        ("madlc_testdata.csv", 6, 13, True),
        ("madlc_testdata_v2.csv", 6, 13, True),
        ("maudlc_testdata.csv", 8, 17, True),
        ("maudlc_testdata_v2.csv", 8, 17, True),
        ("CollectedData_LM.csv", 8, 17, True),
    ],
)
def test_dlc_variants(
    shared_data: Path, name: str, n_kp: int, n_labeled: int, multi: bool
) -> None:
    path = shared_data / "sleap-tests/dlc/labeled-data/video" / name
    assert detect_format(path) == "dlc"
    lab = read_foreign(path)
    assert len(lab.keypoints) == n_kp and lab.n_labeled == n_labeled
    assert lab.multianimal is multi
    assert [f.name for f in lab.frames] == [f"img00{i}.png" for i in range(4)]
    assert all(f.exists() and f.group == "video" for f in lab.frames)
    assert_allclose(lab.xy[0, 0], [0, 1])
    if multi:
        assert_allclose(lab.xy[1, lab.keypoints.index(("Animal2", "A"))], [17, 18])


def test_dlc_file_copied_out_of_its_folder(shared_data: Path) -> None:
    path = shared_data / "sleap-tests/dlc_multiple_datasets/video2/dlc_dataset_2.csv"
    lab = read_foreign(path)
    assert lab.format == "dlc"
    assert [(f.name, f.group) for f in lab.frames] == [("img002.jpg", "video2")]
    assert lab.frames[0].exists()


def test_lightning_pose_paths_relative_to_csv(tmp_path: Path) -> None:
    (tmp_path / "labeled-data/mouse1").mkdir(parents=True)
    for i in range(2):
        write_png(tmp_path / f"labeled-data/mouse1/img{i:03d}.png")
    (tmp_path / "CollectedData.csv").write_text(
        "scorer,lp,lp,lp,lp\nbodyparts,nose,nose,tail,tail\ncoords,x,y,x,y\n"
        "labeled-data/mouse1/img000.png,1.5,2.5,10,11\n"
        "labeled-data/mouse1/img001.png,3,4,,\n"
    )
    assert detect_format(tmp_path / "CollectedData.csv") == "lightning-pose"
    lab = read_foreign(tmp_path / "CollectedData.csv")
    assert lab.bodyparts == ["nose", "tail"] and lab.n_labeled == 3
    assert all(f.exists() and f.group == "mouse1" for f in lab.frames)
    assert_allclose(lab.xy[0], [[1.5, 2.5], [10, 11]])


def test_lightning_pose_flat_labeled_data_is_named_after_the_dataset(tmp_path: Path) -> None:
    """Lightning Pose keeps images directly in ``labeled-data/``: they must not land in a
    folder called ``labeled-data/labeled-data`` but in one named after the dataset."""
    from napari_dlcflow.core.formats.importing import new_project_for, preview_import

    data = tmp_path / "mirror-mouse"
    (data / "labeled-data").mkdir(parents=True)
    for i in range(2):
        write_png(data / f"labeled-data/img{i:03d}.png")
    (data / "CollectedData.csv").write_text(
        "scorer,lp,lp,lp,lp\nbodyparts,nose,nose,tail,tail\ncoords,x,y,x,y\n"
        "labeled-data/img000.png,1.5,2.5,10,11\n"
        "labeled-data/img001.png,3,4,,\n"
    )
    lab = read_foreign(data / "CollectedData.csv")
    assert {f.group for f in lab.frames} == {"mirror-mouse"}
    (tmp_path / "projects").mkdir()
    project = new_project_for(lab, "mouse", "me", tmp_path / "projects")
    preview = preview_import(data / "CollectedData.csv", project)
    assert "labeled-data/mirror-mouse (2)" in preview.summary()
    assert "labeled-data/labeled-data" not in preview.summary()


def _coco_doc(n_images: int, names: list[str], xy: np.ndarray, vis: np.ndarray) -> dict:
    images = [
        {"id": 10 + i, "file_name": f"frames/pic_{i:02d}.png", "width": 60, "height": 40}
        for i in range(n_images)
    ]
    anns = []
    for i in range(n_images):
        kp = np.concatenate([xy[i], vis[i][:, None]], axis=1).ravel().tolist()
        anns.append(
            {
                "id": i + 1,
                "image_id": 10 + i,
                "category_id": 3,
                "keypoints": kp,
                "num_keypoints": int((vis[i] > 0).sum()),
            }
        )
    return {
        "images": images,
        "annotations": anns,
        "categories": [
            {
                "id": 3,
                "name": "dog",
                "keypoints": names,
                "skeleton": [[k, k + 1] for k in range(1, len(names))],
            }
        ],
    }


def test_coco_import_known_values(tmp_path: Path) -> None:
    (tmp_path / "frames").mkdir()
    for i in range(4):
        write_png(tmp_path / f"frames/pic_{i:02d}.png", value=i)
    names = ["nose", "eye-left-open", "tail"]
    xy = RNG.uniform(1, 39, size=(4, 3, 2))
    vis = np.array([[2, 2, 2], [2, 0, 1], [2, 2, 0], [0, 0, 0]])
    path = tmp_path / "ann.json"
    path.write_text(json.dumps(_coco_doc(4, names, xy, vis)))
    assert detect_format(path) == "coco"
    lab = read_foreign(path)
    assert lab.bodyparts == names and not lab.multianimal
    assert lab.skeleton == [("nose", "eye-left-open"), ("eye-left-open", "tail")]
    assert len(lab.frames) == 4 and all(f.exists() for f in lab.frames)
    assert lab.frames[0].group == "frames"
    want = np.where((vis > 0)[..., None], xy, np.nan)
    assert_allclose(lab.xy, want)
    assert lab.n_labeled == 7
    assert "5 keypoints with visibility 0 left unlabeled" in lab.notes


def test_coco_bad_inputs(tmp_path: Path) -> None:
    names = ["a", "b"]
    doc = _coco_doc(2, names, np.ones((2, 2, 2)), np.full((2, 2), 2))
    doc["annotations"][1]["image_id"] = 99
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps(doc))
    with pytest.raises(FormatError, match="image id 99, which is not in 'images'"):
        read_foreign(bad, "coco")
    doc = _coco_doc(1, names, np.ones((1, 2, 2)), np.full((1, 2), 2))
    doc["annotations"][0]["keypoints"] = [1, 2, 2]
    bad.write_text(json.dumps(doc))
    with pytest.raises(FormatError, match="3 keypoint values, 6 expected"):
        read_foreign(bad, "coco")
    bad.write_text("{not json")
    assert detect_format(bad) is None
    with pytest.raises(FormatError, match="not valid JSON"):
        read_foreign(bad, "coco")
    # images that do not exist on disk are kept as frames (the preview refuses them)
    doc = _coco_doc(2, names, np.ones((2, 2, 2)), np.full((2, 2), 2))
    ok = tmp_path / "ok.json"
    ok.write_text(json.dumps(doc))
    lab = read_foreign(ok)
    assert [f.exists() for f in lab.frames] == [False, False]


@pytest.mark.parametrize(
    ("edges", "problem"),
    [
        ([[1, 2], [2, 3], [1, 2]], "skeleton edge nose-ear appears twice"),
        ([[1, 2], [2, 1]], "skeleton edge ear-nose appears twice"),
        ([[3, 3]], "skeleton edge tail-tail joins a keypoint to itself"),
        ([[0, 1]], r"skeleton edge \[0, 1\] does not name two keypoints"),  # 1-based
    ],
)
def test_coco_skeleton_problems_name_the_file_and_the_edge(
    tmp_path: Path, edges: list[list[int]], problem: str
) -> None:
    """Found by the fuzzer: a repeated edge was read, then creating the project from it
    raised a ValueError naming no file (and index 0 silently named the last keypoint)."""
    from napari_dlcflow.core.formats.importing import new_project_for

    doc = _coco_doc(1, ["nose", "ear", "tail"], np.ones((1, 3, 2)), np.full((1, 3), 2))
    doc["categories"][0]["skeleton"] = edges
    path = tmp_path / "ann.json"
    path.write_text(json.dumps(doc))
    with pytest.raises(FormatError, match=rf"ann\.json: {problem}"):
        new_project_for(read_foreign(path), "t", "me", tmp_path)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["ann.json"]  # no project made


def test_coco_multi_animal_by_track(tmp_path: Path) -> None:
    doc = _coco_doc(1, ["a", "b"], np.array([[[1.0, 2.0], [3.0, 4.0]]]), np.full((1, 2), 2))
    second = dict(doc["annotations"][0], id=2, keypoints=[5, 6, 2, 7, 8, 2], track_id="rex")
    doc["annotations"][0]["track_id"] = "fido"
    doc["annotations"].append(second)
    (tmp_path / "m.json").write_text(json.dumps(doc))
    lab = read_foreign(tmp_path / "m.json")
    assert lab.multianimal and lab.individuals == ["fido", "rex"]
    assert_allclose(lab.xy[0], [[1, 2], [3, 4], [5, 6], [7, 8]])


def make_per_image_set(folder: Path, n: int = 5) -> tuple[list[str], np.ndarray]:
    """Per-image CSVs with a 3-row header, and their images, from known values."""
    folder.mkdir(parents=True, exist_ok=True)
    names = ["nose", "eye-left-open", "eye-right", "tail"]
    xy = np.round(RNG.uniform(1, 39, size=(n, 4, 2)), 2)
    xy[1, 3] = np.nan
    for i in range(n):
        write_png(folder / f"dog_{i + 7:03d}.png", value=10 * i)
        rows = ["# exported by DogLabel 2.1", f"image,dog_{i + 7:03d}.png", "part,x,y,visible"]
        for k, nm in enumerate(names):
            x, y = xy[i, k]
            vis = 0 if (i == 2 and k == 0) else 1
            rows.append(f"{nm},{'' if np.isnan(x) else x},{'' if np.isnan(y) else y},{vis}")
        (folder / f"dog_{i + 7:03d}.csv").write_text("\n".join(rows) + "\n")
    return names, xy


def test_per_image_csv_known_values(tmp_path: Path) -> None:
    names, xy = make_per_image_set(tmp_path / "dogs")
    assert detect_format(tmp_path / "dogs") == "per-image-csv"
    lab = read_foreign(tmp_path / "dogs", visibility_column=3)
    assert lab.bodyparts == names and len(lab.frames) == 5
    assert [f.name for f in lab.frames] == [f"dog_{i:03d}" for i in range(7, 12)]
    assert all(f.exists() and f.group == "dogs" for f in lab.frames)
    want = xy.copy()
    want[2, 0] = np.nan
    assert_allclose(lab.xy, want)
    assert lab.notes == [
        "1 points with visibility 0 left unlabeled",
        "1 points without coordinates left unlabeled",
    ]
    # explicit header rows give the same result
    lab2 = per_image_csv.read(tmp_path / "dogs", header_rows=3)
    assert_allclose(lab2.xy, xy)


def test_per_image_csv_other_columns(tmp_path: Path) -> None:
    f = tmp_path / "frame1.csv"
    f.write_text("x;y;part;score\n12.5;3;nose;0.9\n;;tail;0\n4;5.25;ear;1\n")
    lab = per_image_csv.read(f, name_column=2, x_column=0, y_column=1, header_rows=1)
    assert lab.bodyparts == ["nose", "tail", "ear"]
    assert_allclose(lab.xy[0], [[12.5, 3], [np.nan, np.nan], [4, 5.25]])
    assert not lab.frames[0].exists()  # no frame1.png beside it: the preview will say so


def test_per_image_csv_bad_rows(tmp_path: Path) -> None:
    f = tmp_path / "a.csv"
    f.write_text("part,x,y\nnose,1,2\nnose,3,4\n")
    with pytest.raises(FormatError, match="'nose' is named twice"):
        per_image_csv.read(f)
    f.write_text("part,x,y\nnose,1,2\ntail,abc,4\n")
    with pytest.raises(FormatError, match="not a number"):
        per_image_csv.read(f)
    f.write_text("just a title\n")
    with pytest.raises(FormatError, match="no row with numeric x and y"):
        per_image_csv.read(f)


def test_sniffers_never_raise_on_foreign_files(tmp_path: Path, shared_data: Path) -> None:
    (tmp_path / "empty.csv").write_bytes(b"")
    (tmp_path / "binary.json").write_bytes(b"\x00\xff\xfe" * 100)
    (tmp_path / "fake.slp").write_text("not hdf5")
    (tmp_path / "x.h5").write_bytes(b"")
    for p in [
        *tmp_path.iterdir(),
        shared_data / "sleap-tests/tracks/clip.mp4",
        tmp_path / "absent.json",
    ]:
        assert detect_format(p) is None
    with pytest.raises(FormatError, match="not a label format we know"):
        read_foreign(tmp_path / "fake.slp")


def test_coco_document_round_trip(shared_data: Path, tmp_path: Path) -> None:
    from napari_dlcflow.core.labels.collected import read_labels

    lab = read_labels(shared_data / "dlc-openfield/labeled-data/m4s1/CollectedData_Pranav.h5")
    sizes = {row: (480, 640) for row in lab.images}
    doc = coco_fmt.coco_document([lab], sizes, skeleton=[("snout", "tailbase")])
    assert len(doc["images"]) == 116 and len(doc["annotations"]) == 116
    out = coco_fmt.write(tmp_path / "of.json", doc)
    back = read_foreign(out, image_root=shared_data / "dlc-openfield")
    assert back.bodyparts == lab.bodyparts and back.skeleton == [("snout", "tailbase")]
    assert all(f.exists() for f in back.frames)
    assert_allclose(back.xy, lab.xy)


def test_dlc_analysis_output_is_not_taken_for_labels(tmp_path: Path) -> None:
    import pandas as pd

    cols = pd.MultiIndex.from_product(
        [["DLC_resnet50_testNov24shuffle1_10"], ["nose", "tail"], ["x", "y", "likelihood"]],
        names=["scorer", "bodyparts", "coords"],
    )
    df = pd.DataFrame(np.ones((3, 6)), columns=cols)
    path = tmp_path / "videoDLC_resnet50_testNov24shuffle1_10.h5"
    df.to_hdf(path, key="df_with_missing", format="table")
    assert detect_format(path) == "dlc"
    with pytest.raises(FormatError, match="analysis output"):
        read_foreign(path)
