"""Label QC with image evidence (``core/labels/qc_appearance.py``): a leftover decided by the
patch under it, and a displaced point that does not look like its part. Small images drawn
here: a textured, static background and an animal of 11 discs (one grey level per part) that
walks about 15 px between labeled images."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from _qc_projects import copy_project, replace_labels
from napari_dlcflow.core.example.synthetic import SyntheticSpec
from napari_dlcflow.core.example.truth_labels import make_labeled_synthetic_project
from napari_dlcflow.core.labels.collected import load_folder, write_labels
from napari_dlcflow.core.labels.qc import Finding, QCSettings, check_labels
from napari_dlcflow.core.project.config import Project

SIZE = 192
# one offset (x, y) per body part of the synthetic project, in the animal's frame
BODY = np.array(
    [
        *[(0, y) for y in (-30, -20, -10, 0, 10, 20, 30)],  # nose to tail tip
        *[(-12, -14), (12, -14), (-12, 12), (12, 12)],  # the paws
    ],
    dtype=float,
)
LEVELS = np.linspace(20, 120, len(BODY))  # each part its own grey level, darker than the floor


def _draw(centres: np.ndarray, background: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    img = background + rng.normal(0, 2.0, background.shape)
    yy, xx = np.mgrid[:SIZE, :SIZE]
    for (x, y), level in zip(centres, LEVELS, strict=True):
        img[(xx - x) ** 2 + (yy - y) ** 2 <= 9] = level
    return np.clip(img, 0, 255).astype(np.uint8)


def _save(img: np.ndarray, path: Path) -> None:
    if path.is_symlink() or path.exists():
        path.unlink()
    Image.fromarray(img).save(path)


@pytest.fixture(scope="module")
def walking(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A project (the synthetic one's config and folder) whose 30 images and labels are ours."""
    folder = tmp_path_factory.mktemp("qc-look")
    spec = SyntheticSpec(n_frames=30, height=64, width=64, seed=2)  # its images are replaced
    root = make_labeled_synthetic_project(folder, spec, n_labeled=30).root
    (data,) = [p for p in (root / "labeled-data").iterdir() if p.is_dir()]
    labels = load_folder(data)
    assert labels is not None and len(labels.keypoints) == len(BODY)
    rng = np.random.default_rng(3)
    background = 150 + 40 * rng.random((SIZE, SIZE))  # texture that stays put
    n = len(labels.images)
    t = np.arange(n)
    centre = np.column_stack([96 + 40 * np.sin(t * 0.4), 96 + 40 * np.cos(t * 0.4)])
    xy = np.empty((n, len(BODY), 2))
    for i, row in enumerate(labels.images):
        xy[i] = centre[i] + BODY + rng.normal(0, 0.3, BODY.shape)
        _save(_draw(xy[i], background, rng), data / row[-1])
    out = labels.copy()
    out.xy = xy
    replace_labels(out, data)
    return root


def _on(findings: list[Finding], image: str, part: str, kind: str) -> Finding:
    (hit,) = [f for f in findings if f.image == image and part in f.bodyparts and f.kind == kind]
    return hit


def test_untouched_walk_has_no_findings(walking: Path) -> None:
    assert check_labels(Project.open(walking)) == []


def test_leftover_decided_by_the_patch(walking: Path, tmp_path: Path) -> None:
    root, data = copy_project(walking, tmp_path)
    labels = load_folder(data)
    assert labels is not None
    names = [row[-1] for row in labels.images]
    k = 9  # a hind paw
    out = labels.copy()
    # image 10: the paw label left where it was in image 9 while the paw walked away
    out.xy[10, k] = labels.xy[9, k]
    # image 20: the paw really stayed where it was in image 19 (planted): drawn there
    out.xy[20, k] = labels.xy[19, k]
    prev = np.asarray(Image.open(data / names[19]))
    img = np.asarray(Image.open(data / names[20])).copy()
    x, y = np.round(labels.xy[19, k]).astype(int)
    yy, xx = np.mgrid[:SIZE, :SIZE]
    moved = (xx - labels.xy[20, k, 0]) ** 2 + (yy - labels.xy[20, k, 1]) ** 2 <= 9
    img[moved] = prev[moved]  # the paw is not where the others would put it...
    img[y - 8 : y + 9, x - 8 : x + 9] = prev[y - 8 : y + 9, x - 8 : x + 9]  # ...but still here
    _save(img, data / names[20])
    write_labels(out, data)
    findings = check_labels(Project.open(root))
    left = _on(findings, names[10], "left_hindpaw", "leftover")
    assert left.mistake
    assert "the image under it changed" in left.reason
    planted = _on(findings, names[20], "left_hindpaw", "leftover")
    assert not planted.mistake
    assert "the image under it is unchanged" in planted.reason
    # without the images the geometry alone calls the planted paw a mistake
    plain = check_labels(Project.open(root), settings=QCSettings(appearance=False))
    assert _on(plain, names[20], "left_hindpaw", "leftover").mistake


def test_point_on_the_background_does_not_look_like_its_part(
    walking: Path, tmp_path: Path
) -> None:
    root, data = copy_project(walking, tmp_path)
    labels = load_folder(data)
    assert labels is not None
    names = [row[-1] for row in labels.images]
    out = labels.copy()
    k = 3  # body: moved 8 px sideways, onto the floor between the discs
    out.xy[15, k] = labels.xy[15, k] + np.array([8.0, 0.0])
    write_labels(out, data)
    # a geometry that calls the move doubtful (a note: z about 34 under a threshold of 40)
    s = QCSettings(misplaced_mistake=40.0)
    plain = check_labels(Project.open(root), settings=replace(s, appearance=False))
    assert not [f for f in plain if f.mistake and f.image == names[15]]
    found = _on(check_labels(Project.open(root), settings=s), names[15], "body", "misplaced")
    assert found.mistake
    assert found.reason.endswith("and the image under it does not look like body in other images")


def test_unreadable_image_leaves_the_geometry(walking: Path, tmp_path: Path) -> None:
    root, data = copy_project(walking, tmp_path)
    labels = load_folder(data)
    assert labels is not None
    names = [row[-1] for row in labels.images]
    out = labels.copy()
    out.xy[10, 9] = labels.xy[9, 9]  # the paw left behind, as above
    write_labels(out, data)
    (data / names[10]).write_bytes(b"not a png")  # damaged: no image evidence for it
    left = _on(check_labels(Project.open(root)), names[10], "left_hindpaw", "leftover")
    assert left.mistake and "image" not in left.reason


def _atypical_whole(F: np.ndarray, knn: int) -> np.ndarray:
    """The appearance score from the whole ``N x N x features`` distance array."""
    med = np.median(F, axis=0)
    spread = np.maximum(1.4826 * np.median(np.abs(F - med), axis=0), 0.05 + 0.05 * abs(med))
    Z = np.clip((F - med) / spread, -10.0, 10.0)
    d = np.sqrt(((Z[:, None, :] - Z[None, :, :]) ** 2).mean(axis=2))
    np.fill_diagonal(d, np.inf)
    dk = np.partition(d, knn - 1, axis=1)[:, knn - 1]
    return dk / np.median(d[np.isfinite(d)])


def test_atypical_in_blocks_equals_the_whole_matrix() -> None:
    """The appearance score computed a block of rows at a time (memory bounded for projects of
    thousands of animals) equals the score from the whole distance array: to rounding up to 512
    rows, and within 2 % beyond (the median distance then comes from evenly spaced rows)."""
    from napari_dlcflow.core.labels import qc_appearance as qa

    rng = np.random.default_rng(0)
    F = rng.normal(size=(600, 8))
    F[:40] = F[0]  # repeated images: identical descriptors
    small = F[:300]
    np.testing.assert_allclose(qa._atypical(small), _atypical_whole(small, qa._KNN), atol=1e-6)
    np.testing.assert_allclose(qa._atypical(F), _atypical_whole(F, qa._KNN), rtol=0.02, atol=1e-6)


def test_image_cache_keeps_to_its_bound(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Images read for the evidence are kept between runs, the least recently used dropped
    beyond the cache's bytes."""
    from collections import OrderedDict

    from PIL import Image

    from napari_dlcflow.core.labels import qc_appearance as qa

    monkeypatch.setattr(qa, "_cache", OrderedDict())
    monkeypatch.setattr(qa, "_cache_bytes", 0)
    monkeypatch.setattr(qa, "_CACHE_BYTES", 3 * 100 * 100)
    keys = []
    for i in range(6):
        path = tmp_path / f"img{i}.png"
        Image.fromarray(np.full((100, 100), 40 * i, np.uint8)).save(path)
        keys.append(qa._key(path))
        assert qa._read(keys[-1]) is not None
    assert list(qa._cache) == keys[3:]
    assert qa._cache_bytes == sum(a.nbytes for a, _, _ in qa._cache.values()) == 30_000
