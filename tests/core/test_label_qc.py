"""Label quality control: exact findings on a synthetic project with known truth and on the
real openfield project, plain and with mistakes put in by hand."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import numpy as np
import pytest

from napari_dlcflow.core.example.synthetic import SyntheticSpec
from napari_dlcflow.core.example.truth_labels import make_labeled_synthetic_project
from napari_dlcflow.core.labels.collected import (
    CorruptLabelsError,
    load_folder,
    read_labels,
    write_labels,
)
from napari_dlcflow.core.labels.qc import (
    KINDS,
    Finding,
    check_labels,
    declared_pairs,
    dismiss,
    dismissed_keys,
    findings_csv,
    format_findings,
    swap_fix,
    symmetric_pairs,
)
from napari_dlcflow.core.project.config import Project
from napari_dlcflow.core.project.sidecar import Sidecar


def _summary(findings: list[Finding]) -> set[tuple[str, str, tuple[str, ...]]]:
    return {(f.kind, f.image, f.bodyparts) for f in findings}


def test_pairs_from_names_and_declared() -> None:
    assert symmetric_pairs(["snout", "leftear", "rightear", "tailbase"]) == [
        ("leftear", "rightear")
    ]
    names = ["head", "wingL", "wingR", "forelegL4", "forelegR4", "eyeL", "eyeR", "lear", "rear"]
    assert symmetric_pairs(names) == [
        ("wingL", "wingR"),
        ("forelegL4", "forelegR4"),
        ("eyeL", "eyeR"),
    ]
    assert symmetric_pairs(["paw_l", "paw_r", "L_ear", "R_ear", "LeftHand", "RightHand"]) == [
        ("paw_l", "paw_r"),
        ("L_ear", "R_ear"),
        ("LeftHand", "RightHand"),
    ]
    # a declared pair comes first and takes its parts out of the name matching
    assert symmetric_pairs(["lear", "rear", "eyeL", "eyeR"], [("lear", "rear"), ("x", "y")]) == [
        ("lear", "rear"),
        ("eyeL", "eyeR"),
    ]
    assert symmetric_pairs(["center", "tail", "real", "leal"]) == []


@pytest.fixture(scope="module")
def synthetic(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A synthetic project labeled from the truth: 30 images, 11 body parts, two L/R pairs."""
    folder = tmp_path_factory.mktemp("qc")
    spec = SyntheticSpec(n_frames=120, height=128, width=128, seed=2)
    return make_labeled_synthetic_project(folder, spec, n_labeled=30).root


def test_truth_labels_have_no_findings(synthetic: Path) -> None:
    assert check_labels(Project.open(synthetic)) == []


def test_each_mistake_is_found_where_it_was_made(synthetic: Path, tmp_path: Path) -> None:
    import shutil

    root = tmp_path / "p"
    shutil.copytree(synthetic, root)
    folder = root / "labeled-data" / "synthetic_animal"
    labels = load_folder(folder)
    assert labels is not None
    parts = labels.bodyparts
    k = parts.index
    xy = labels.xy
    names = labels.image_names
    xy[5, [k("left_forepaw"), k("right_forepaw")]] = xy[5, [k("right_forepaw"), k("left_forepaw")]]
    xy[8, k("tailtip")] += (25.0, -20.0)  # about 1.5 body sizes
    xy[11, k("body")] = xy[11, k("tailmid")] + 0.3  # labeled twice
    xy[19, k("nose")] = xy[18, k("nose")]  # not moved on from the previous image
    xy[17, k("tailbase"), 0] = -2.5  # outside
    xy[22, k("neck")] = np.nan  # one missing point in a run where it is always there
    write_labels(labels, folder)
    found = check_labels(Project.open(root))
    assert _summary(found) == {
        ("swap", names[5], ("left_forepaw", "right_forepaw")),
        # the tail tip bends a lot in this animal: the tail's last edge is what stands out
        ("skeleton", names[8], ("tailmid", "tailtip")),
        ("duplicate", names[11], ("body", "tailmid")),
        ("leftover", names[19], ("nose",)),
        ("outside", names[17], ("tailbase",)),
        ("missing", names[22], ("neck",)),
    }
    # likely mistakes first, most suspicious first (scores are comparable across kinds); the
    # unlabeled part is a note, last; every finding says why in one sentence
    print([(f.kind, f.severity, f.score) for f in found])
    assert [f.severity for f in found] == ["mistake"] * 5 + ["note"]
    assert found[-1].kind == "missing" and "hidden" in found[-1].why
    scores = [f.score for f in found[:5]]
    assert scores == sorted(scores, reverse=True) and min(scores) >= 1.0
    assert all(f.why.endswith(".") and f.why.count(". ") == 0 for f in found)
    assert all(f.reason and "\n" not in f.reason and f.folder == "synthetic_animal" for f in found)
    outside = next(f for f in found if f.kind == "outside")
    assert "outside the 128x128 image" in outside.reason
    # only the chosen checks run
    assert _summary(check_labels(Project.open(root), kinds=["swap", "outside"])) == {
        ("swap", names[5], ("left_forepaw", "right_forepaw")),
        ("outside", names[17], ("tailbase",)),
    }
    with pytest.raises(ValueError, match=r"unknown check.*typo"):
        check_labels(Project.open(root), kinds=["typo"])
    # the swap fix exchanges exactly the pair in exactly that image
    swap = next(f for f in found if f.kind == "swap")
    fixed = swap_fix(labels, swap)
    assert np.array_equal(fixed.xy[5], load_folder(synthetic / "labeled-data" / folder.name).xy[5])
    assert np.array_equal(np.delete(fixed.xy, 5, 0), np.delete(labels.xy, 5, 0), equal_nan=True)
    with pytest.raises(ValueError, match="only a swap"):
        swap_fix(labels, outside)
    # table and CSV
    text = format_findings(found)
    assert text.splitlines()[0].split()[:3] == ["severity", "kind", "folder/image"]
    assert "1 note: missing 1" in text
    assert "why missing (note): " in text
    rows = list(csv.DictReader(io.StringIO(findings_csv(found))))
    assert list(rows[0]) == [
        "severity",
        "kind",
        "folder",
        "image",
        "individual",
        "other",
        "bodyparts",
        "score",
        "reason",
        "why",
        "key",
    ]
    assert [r["severity"] for r in rows] == ["mistake"] * 5 + ["note"]
    swap_row = next(r for r in rows if r["kind"] == "swap")
    assert (swap_row["image"], swap_row["bodyparts"]) == (names[5], "left_forepaw+right_forepaw")


def test_dismissed_findings_are_remembered_in_the_sidecar(synthetic: Path, tmp_path: Path) -> None:
    import shutil

    root = tmp_path / "p"
    shutil.copytree(synthetic, root)
    folder = root / "labeled-data" / "synthetic_animal"
    labels = load_folder(folder)
    assert labels is not None
    labels.xy[3, 0, 0] = 500.0
    write_labels(labels, folder)
    project = Project.open(root)
    (finding,) = check_labels(project, kinds=["outside"])
    assert dismiss(root, [finding]) == {finding.key}
    assert dismissed_keys(root) == {finding.key}
    assert Sidecar.load(root).label_qc == {"dismissed": [finding.key]}
    assert "label_qc" not in (root / "config.yaml").read_text()
    assert check_labels(project, kinds=["outside"]) == []
    assert check_labels(project, kinds=["outside"], include_dismissed=True) == [finding]
    # other sidecar settings survive, and pairs can be declared there
    side = Sidecar.load(root)
    side.label_qc["pairs"] = [["nose", "tailtip"]]
    side.save(root)
    assert declared_pairs(root) == [("nose", "tailtip")]
    assert dismissed_keys(root) == {finding.key}


def test_openfield_findings(openfield_project: Path) -> None:
    before = {p: p.read_bytes() for p in openfield_project.rglob("*") if p.is_file()}
    found = check_labels(Project.open(openfield_project))
    # what the check finds on the real labels as shipped (see docs/label-qc.md for a look at
    # each image)
    assert _summary(found) == OPENFIELD_FINDINGS
    assert {p: p.read_bytes() for p in openfield_project.rglob("*") if p.is_file()} == before
    # swap both ears of one image and put a point outside another one: both are found
    folder = openfield_project / "labeled-data" / "m4s1"
    labels = read_labels(folder / "CollectedData_Pranav.h5")
    labels.xy[50, [1, 2]] = labels.xy[50, [2, 1]]
    labels.xy[60, 3] = (641.0, 200.0)
    write_labels(labels, folder)
    found = check_labels(Project.open(openfield_project))
    assert _summary(found) - OPENFIELD_FINDINGS == {
        ("swap", "img0050.png", ("leftear", "rightear")),
        ("outside", "img0060.png", ("tailbase",)),
    }


def test_unreadable_labels_name_the_file(openfield_project: Path) -> None:
    h5 = openfield_project / "labeled-data" / "m4s1" / "CollectedData_Pranav.h5"
    h5.write_bytes(b"")
    with pytest.raises(CorruptLabelsError, match=r"CollectedData_Pranav\.h5"):
        check_labels(Project.open(openfield_project))


def test_kinds_are_documented() -> None:
    import napari_dlcflow.core.labels.qc as qc

    assert all(f"``{k}``" in (qc.__doc__ or "") for k in KINDS)


OPENFIELD_FINDINGS = {
    ("swap", "img0102.png", ("leftear", "rightear")),
    ("misplaced", "img0097.png", ("snout",)),
    ("misplaced", "img0041.png", ("snout",)),
}


def test_model_disagreement_from_evaluation_predictions(synthetic: Path, tmp_path: Path) -> None:
    """DeepLabCut's evaluation writes its predictions on every labeled image beside the
    results CSV; a label far from a confident prediction is a finding, an unsure one is not."""
    import shutil

    from napari_dlcflow.core.engine.evaluation import evaluation_folder, latest_frames
    from napari_dlcflow.core.labels.collected import labels_to_dataframe

    root = tmp_path / "p"
    shutil.copytree(synthetic, root)
    project = Project.open(root)
    folder = root / "labeled-data" / "synthetic_animal"
    labels = load_folder(folder)
    assert labels is not None
    scorer = f"DLC_Resnet50_{project.task}{project.date}shuffle1_snapshot_best-010"
    pred = labels.copy()
    pred.scorer = scorer
    pred.likelihood = np.full(pred.xy.shape[:2], 0.99)
    k = labels.bodyparts.index
    pred.likelihood[6, k("nose")] = 0.2
    out = evaluation_folder(project.config_path)
    out.mkdir(parents=True)
    (out / f"{scorer}-results.csv").write_text("train rmse,test rmse\n1.0,2.0\n")
    labels_to_dataframe(pred, with_likelihood=True).to_hdf(
        out / f"{scorer}.h5", key="df_with_missing"
    )
    assert check_labels(project, kinds=["model"], evaluation=latest_frames(root)) == []
    labels.xy[4, k("body")] += (15.0, 0.0)  # the model says otherwise, confidently
    labels.xy[6, k("nose")] += (15.0, 0.0)  # the model is unsure there
    write_labels(labels, folder)
    assert check_labels(project, kinds=["model"]) == []  # QC alone never reads the engine's files
    (found,) = check_labels(project, kinds=["model"], evaluation=latest_frames(root))
    assert (found.kind, found.image) == ("model", labels.image_names[4])
    assert found.bodyparts == ("body",)
    assert "15 px away with likelihood 0.99" in found.reason
    assert "snapshot_best-010" not in found.reason and "snapshot-best-010" in found.reason
