"""npe2 writer: a Points layer of keypoints back to DeepLabCut's ``CollectedData`` h5 + csv.

The layer needs ``bodypart`` (and, for multi-animal, ``individual``) features and knows its
images from the ``dlcflow`` metadata that the reader and the Labeling dock put on it. Writing to
the file the layer came from replaces it (deleted points stay deleted); writing to another
existing file (e.g. refined machine labels promoted to ground truth) merges and never deletes a
label there. ``likelihood`` is never written. Like the Labeling dock, the writer refuses to
replace a file that another program changed after the layer was read (the reader records the
file's stamp in the layer's metadata).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np


def layer_to_labels(data: Any, meta: dict) -> Any:
    """Build :class:`~napari_dlcflow.core.labels.collected.Labels` from a Points layer's data and
    meta."""
    from napari_dlcflow.core.labels.collected import Labels
    from napari_dlcflow.core.layers.coords import points_to_keypoints

    info = (meta.get("metadata") or {}).get("dlcflow")
    if not info:
        raise ValueError(
            "this Points layer has no DeepLabCut metadata (open labels with the DLCflow "
            "reader or the Labeling dock first)"
        )
    feats = meta.get("features")
    keypoints = [tuple(k) for k in info["keypoints"]]
    images = list(info["images"])
    pts = np.asarray(data, dtype=float).reshape(-1, 3)
    if feats is None or "bodypart" not in feats:
        raise ValueError("the layer has no 'bodypart' feature")
    inds = list(feats["individual"]) if "individual" in feats else [""] * len(pts)
    bps = list(feats["bodypart"])
    index = {kp: i for i, kp in enumerate(keypoints)}
    k = []
    for ind, bp in zip(inds, bps, strict=True):
        key = (str(ind) if info.get("multianimal") else "", str(bp))
        if key not in index:
            raise ValueError(f"point with unknown body part {key!r}")
        k.append(index[key])
    xy = points_to_keypoints(pts, np.asarray(k, dtype=int), len(images), len(keypoints))
    stem = info.get("stem", "")
    return Labels(
        scorer=info["scorer"],
        keypoints=keypoints,
        images=[("labeled-data", stem, n) for n in images],
        xy=xy,
        multianimal=bool(info.get("multianimal")),
    )


def write_points(path: str, data: Any, meta: dict) -> list[str]:
    """Write a Points layer as ``CollectedData_<scorer>.h5`` (+ ``.csv``) at ``path``.

    Raises
    ------
    LabelsChangedOnDiskError
        If ``path`` is the file the layer was read from and another program changed it since.
    ValueError
        If the layer has no DeepLabCut metadata, or ``path`` is not a ``CollectedData_*.h5``.
    """
    from napari_dlcflow.core.labels.collected import merge_labels, read_labels, write_labels

    target = Path(path)
    if target.suffix.lower() != ".h5":
        target = target.with_suffix(".h5")
    labels = layer_to_labels(data, meta)
    info = meta["metadata"]["dlcflow"]
    if not target.name.startswith("CollectedData_"):
        raise ValueError(f"{target.name}: DeepLabCut reads labels only from CollectedData_*.h5")
    scorer = target.stem[len("CollectedData_") :]
    labels.scorer = scorer
    # every row of a ground-truth layer is kept (as in its file); a machine layer adds only the
    # rows that have a label
    keep = np.ones(len(labels.images), dtype=bool)
    if info.get("machine"):
        keep = ~np.isnan(labels.xy).any(axis=-1).all(axis=-1)
    labels.images = [r for r, h in zip(labels.images, keep, strict=True) if h]
    labels.xy = labels.xy[keep]
    same_file = Path(info.get("source", "")).resolve() == target.resolve()
    expected = None
    if target.exists() and not same_file:
        existing = read_labels(target, folder_stem=target.parent.name)
        labels = merge_labels(existing, labels, overwrite=False)
        expected = existing.stamp
    elif same_file and info.get("stamp"):
        expected = tuple(info["stamp"])
    saved = write_labels(labels, target.parent, scorer=scorer, expected_stamp=expected)
    return [str(saved.h5)] + ([str(saved.csv)] if saved.csv else [])
