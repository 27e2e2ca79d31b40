"""COCO keypoints JSON: import, and export of a project's labels.

Import reads ``images`` (``id``, ``file_name``, ``width``, ``height``), ``annotations``
(``image_id``, ``category_id``, ``keypoints`` as flat ``x, y, v`` triplets, optional
``track_id``/``instance_id``) and ``categories`` (``keypoints`` names, 1-based ``skeleton``).
Visibility 0 means "not labeled" (COCO writes 0, 0 there); 1 (labeled, occluded) and 2 are kept.
Several annotations on one image make multi-animal data: individuals are ``animal1``,
``animal2``, ... in the order of the annotations of each image, or named by a ``track_id``.
Image files are looked up relative to the JSON file (or ``image_root``), also under ``images/``
and by base name; a missing image stays in the frames (the import preview lists it).

COCO coordinates are pixel coordinates of the image, the same convention DeepLabCut uses, so
values are not shifted.
"""

from __future__ import annotations

import json
import math
import os
from collections.abc import Mapping, Sequence
from pathlib import Path, PurePosixPath, PureWindowsPath
from typing import TYPE_CHECKING, Any

import numpy as np

from napari_dlcflow.core.formats._model import ForeignLabels, FormatError, FrameRef, skeleton_edges
from napari_dlcflow.core.untrusted import quoted, shorten

if TYPE_CHECKING:
    from napari_dlcflow.core.labels.collected import Labels

__all__ = ["NAME", "coco_document", "read", "sniff", "write"]

NAME = "coco"


def sniff(path: str | os.PathLike) -> bool:
    """Whether ``path`` is a COCO keypoints JSON file. Never raises."""
    try:
        p = Path(path)
        if p.suffix.lower() != ".json" or not p.is_file():
            return False
        with open(p, "rb") as fh:
            head = fh.read(1 << 16)
        if b'"annotations"' not in head and b'"images"' not in head:
            return False
        doc = json.loads(p.read_text(encoding="utf-8"))
        return (
            isinstance(doc, dict)
            and all(isinstance(doc.get(k), list) for k in ("images", "annotations", "categories"))
            and any("keypoints" in c for c in doc["categories"] if isinstance(c, dict))
        )
    except Exception:
        return False


def _find_image(root: Path, file_name: str) -> Path:
    rel = PureWindowsPath(file_name) if "\\" in file_name else PurePosixPath(file_name)
    cands = [root / Path(*rel.parts), root / "images" / rel.name, root / rel.name]
    for c in cands:
        if c.is_file():
            return c
    return cands[0]


def read(
    path: str | os.PathLike,
    *,
    image_root: str | os.PathLike | None = None,
    category: str | int | None = None,
    group: str | None = None,
) -> ForeignLabels:
    """Read a COCO keypoints file.

    Parameters
    ----------
    path : path-like
        The JSON file.
    image_root : path-like, optional
        Folder that ``file_name`` is relative to (default: the JSON file's folder).
    category : str or int, optional
        Which keypoint category to read when there are several (name or id).
    group : str, optional
        ``labeled-data`` folder to suggest for every image (default: the folder each image
        is in, or the JSON file's stem).

    Raises
    ------
    FormatError
        Invalid JSON, no keypoint category, several categories and none chosen, an annotation
        for an image id that ``images`` lacks, or a keypoint list of the wrong length.
    """
    p = Path(path)
    try:
        doc = json.loads(p.read_text(encoding="utf-8"))
    except json.JSONDecodeError as exc:
        raise FormatError(p, f"not valid JSON (line {exc.lineno}: {exc.msg})") from None
    except UnicodeDecodeError as exc:
        raise FormatError(p, f"not UTF-8 text ({exc.reason})") from None
    if not isinstance(doc, dict):
        raise FormatError(p, "not a COCO file (the top level is not an object)")
    cats = [c for c in doc.get("categories") or [] if isinstance(c, dict) and c.get("keypoints")]
    if not cats:
        raise FormatError(p, "no category with keypoint names")
    if category is not None:
        cats = [c for c in cats if category in (c.get("name"), c.get("id"))]
        if not cats:
            raise FormatError(p, f"no keypoint category {quoted(category)}")
    if len(cats) > 1:
        names = shorten(", ".join(str(c.get("name", c.get("id"))) for c in cats))
        raise FormatError(p, f"several keypoint categories ({names}); choose one")
    cat = cats[0]
    names = [str(n) for n in cat["keypoints"]]
    if len(set(names)) != len(names):
        raise FormatError(p, "a keypoint name appears twice in the category")
    skeleton = []
    for edge in cat.get("skeleton") or []:
        try:
            a, b = (int(i) - 1 for i in edge)
            if not (0 <= a < len(names) and 0 <= b < len(names)):
                raise IndexError  # 1-based: 0 would silently name the last keypoint
            skeleton.append((names[a], names[b]))
        except (ValueError, TypeError, IndexError):
            raise FormatError(
                p, f"skeleton edge {quoted(edge)} does not name two keypoints"
            ) from None
    skeleton = skeleton_edges(p, skeleton)
    root = Path(image_root) if image_root else p.parent
    images = {}
    for im in doc.get("images") or []:
        if not isinstance(im, dict) or "id" not in im or "file_name" not in im:
            raise FormatError(p, f"an image entry lacks id or file_name: {quoted(im)}")
        images[im["id"]] = im
    per_image: dict[Any, list[dict[str, Any]]] = {}
    for k, ann in enumerate(doc.get("annotations") or []):
        if ann.get("category_id", cat.get("id")) != cat.get("id"):
            continue
        if ann.get("image_id") not in images:
            raise FormatError(
                p,
                f"annotation {quoted(ann.get('id', k))} is for image id "
                f"{quoted(ann.get('image_id'))}, "
                "which is not in 'images'",
            )
        kp = ann.get("keypoints") or []
        if len(kp) != 3 * len(names):
            raise FormatError(
                p,
                f"annotation {quoted(ann.get('id', k))} has {len(kp)} keypoint values, "
                f"{3 * len(names)} expected ({len(names)} keypoints x 3)",
            )
        per_image.setdefault(ann["image_id"], []).append(ann)
    n_inst = max((len(v) for v in per_image.values()), default=1)
    tracked = any("track_id" in a or "instance_id" in a for v in per_image.values() for a in v)
    multi = n_inst > 1
    individuals: list[str] = []
    if multi:
        if tracked:
            tids = [a.get("track_id", a.get("instance_id")) for v in per_image.values() for a in v]
            individuals = [
                f"animal{t}" if isinstance(t, int) else str(t) for t in dict.fromkeys(tids)
            ]
        else:
            individuals = [f"animal{i + 1}" for i in range(n_inst)]
        keypoints = [(ind, b) for ind in individuals for b in names]
    else:
        keypoints = [("", b) for b in names]
    ids = list(per_image)
    xy = np.full((len(ids), len(keypoints), 2), np.nan)
    frames = []
    hidden = 0
    for r, iid in enumerate(ids):
        im = images[iid]
        img = _find_image(root, str(im["file_name"]))
        grp = group or (img.parent.name if img.parent != root else p.stem)
        frames.append(FrameRef(name=str(im["file_name"]), group=grp, image=img))
        for j, ann in enumerate(per_image[iid]):
            if multi:
                if tracked:
                    t = ann.get("track_id", ann.get("instance_id"))
                    ind = f"animal{t}" if isinstance(t, int) else str(t)
                else:
                    ind = individuals[j]
                off = individuals.index(ind) * len(names)
            else:
                off = 0
            kp = np.asarray(ann["keypoints"], dtype=float).reshape(-1, 3)
            for b, (x, y, v) in enumerate(kp):
                if v == 0 or math.isnan(x) or math.isnan(y):
                    hidden += int(v == 0)
                    continue
                xy[r, off + b] = (x, y)
    notes = [f"{hidden} keypoints with visibility 0 left unlabeled"] if hidden else []
    unlabeled = [im for iid, im in images.items() if iid not in per_image]
    if unlabeled:
        notes.append(f"{len(unlabeled)} images without annotations not imported")
    return ForeignLabels(
        format=NAME,
        source=p,
        keypoints=keypoints,
        frames=frames,
        xy=xy,
        multianimal=multi,
        skeleton=skeleton,
        notes=notes,
    )


def coco_document(
    tables: Sequence[Labels],
    sizes: Mapping[tuple[str, ...], tuple[int, int]],
    *,
    skeleton: Sequence[tuple[str, str]] = (),
    category: str = "animal",
) -> dict[str, Any]:
    """A COCO keypoints document of DeepLabCut label tables.

    Parameters
    ----------
    tables : sequence of Labels
        One table per ``labeled-data`` folder (same body parts).
    sizes : mapping
        Row tuple -> ``(height, width)`` of its image.
    skeleton : sequence of (str, str)
        Edges, written 1-based as COCO wants.
    category : str
        Name of the keypoint category.

    Returns
    -------
    dict
        With ``images`` (``file_name`` relative to the project, ``labeled-data/<stem>/<img>``),
        ``annotations`` (one per individual with a label on the image; missing keypoints are
        ``0, 0, 0``, others ``x, y, 2``; ``bbox`` around the points) and ``categories``.
        Unique body parts of a multi-animal project get their own category ``single``.
    """
    bodyparts: list[str] = []
    uniques: list[str] = []
    for t in tables:
        for ind, bp in t.keypoints:
            target = uniques if ind == "single" else bodyparts
            if bp not in target:
                target.append(bp)
    cats = [
        {
            "id": 1,
            "name": category,
            "supercategory": category,
            "keypoints": bodyparts,
            "skeleton": [
                [bodyparts.index(a) + 1, bodyparts.index(b) + 1]
                for a, b in skeleton
                if a in bodyparts and b in bodyparts
            ],
        }
    ]
    if uniques:
        cats.append(
            {
                "id": 2,
                "name": "single",
                "supercategory": category,
                "keypoints": uniques,
                "skeleton": [],
            }
        )
    images: list[dict[str, Any]] = []
    anns: list[dict[str, Any]] = []
    for t in tables:
        inds = list(dict.fromkeys(i for i, _ in t.keypoints))
        for r, row in enumerate(t.images):
            h, w = sizes[row]
            iid = len(images) + 1
            images.append(
                {"id": iid, "file_name": "/".join(row), "width": int(w), "height": int(h)}
            )
            for ind in inds:
                cat_id, names = (2, uniques) if ind == "single" else (1, bodyparts)
                kp = np.zeros((len(names), 3))
                for k, (i2, bp) in enumerate(t.keypoints):
                    if i2 == ind and not np.isnan(t.xy[r, k]).any():
                        kp[names.index(bp)] = (*t.xy[r, k], 2)
                n = int((kp[:, 2] > 0).sum())
                if n == 0:
                    continue
                pts = kp[kp[:, 2] > 0, :2]
                x0, y0 = pts.min(axis=0)
                x1, y1 = pts.max(axis=0)
                ann: dict[str, Any] = {
                    "id": len(anns) + 1,
                    "image_id": iid,
                    "category_id": cat_id,
                    "keypoints": [float(v) for v in kp.ravel()],
                    "num_keypoints": n,
                    "bbox": [float(x0), float(y0), float(x1 - x0), float(y1 - y0)],
                    "area": float((x1 - x0) * (y1 - y0)),
                    "iscrowd": 0,
                }
                if ind:
                    ann["track_id"] = ind
                anns.append(ann)
    return {
        "info": {"description": "exported by napari-dlcflow"},
        "images": images,
        "annotations": anns,
        "categories": cats,
    }


def write(path: str | os.PathLike, document: Mapping[str, Any]) -> Path:
    """Write a COCO document atomically (temp file, then replace; old file kept as backup)."""
    from napari_dlcflow.core.safe_io import atomic_write

    out = Path(path)
    atomic_write(out, json.dumps(document, indent=1), keep=3)
    return out
