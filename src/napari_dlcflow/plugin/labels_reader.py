"""npe2 reader: DeepLabCut label files and labeled-data folders as napari layers.

- ``CollectedData_<scorer>.h5/.csv``: one Points layer (frame, y, x) with ``individual`` and
  ``bodypart`` features.
- ``machinelabels*.h5``: its own Points layer with a ``likelihood`` feature (never merged into
  CollectedData by reading).
- a labeled-data folder: the images as a lazy stack plus the layers of its label files.

Frame ``t`` of a layer is the position of the row's image among the folder's images in name
order (the stack's frame axis), so labels always sit on their own image.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from napari_dlcflow.plugin import PathLike, single_path


def _is_label_file(p: Path) -> bool:
    name = p.name
    return p.is_file() and (
        (name.startswith("CollectedData_") and p.suffix.lower() in (".h5", ".csv"))
        or (name.startswith("machinelabels") and p.suffix.lower() == ".h5")
    )


def _label_files(folder: Path) -> list[Path]:
    h5 = sorted(folder.glob("CollectedData_*.h5"))
    csvs = [
        c for c in sorted(folder.glob("CollectedData_*.csv")) if c.with_suffix(".h5") not in h5
    ]
    return h5 + csvs + sorted(folder.glob("machinelabels*.h5"))


def get_reader(path: PathLike | list[PathLike]) -> Callable[[Any], list[tuple]] | None:
    """Return a reader for a DLC label file or a labeled-data folder; None for anything else."""
    one = single_path(path)
    if one is None:
        return None
    p = Path(one)
    if p.is_dir():
        if not _label_files(p):
            return None
        return lambda _p: read_folder(p)
    if _is_label_file(p):
        return lambda _p: read_label_layers(p)
    return None


def labels_layer_data(path: Path, image_names: list[str] | None = None) -> tuple:
    """A Points layer data tuple of one label file, coloured by its project's colormap."""
    from napari_dlcflow.core.labels.collected import read_labels
    from napari_dlcflow.core.layers.data import labels_points
    from napari_dlcflow.core.layers.style import PointsStyle, display_settings

    labels = read_labels(path, folder_stem=path.parent.name)
    names = image_names if image_names else [r[-1] for r in labels.images]
    where = {n: t for t, n in enumerate(names)}
    frames = np.array([where.get(r[-1], -1) for r in labels.images], dtype=int)
    data, features, face = labels_points(labels, frames, colormap=display_settings(path).colormap)
    machine = labels.likelihood is not None
    meta = {
        "dlcflow": {
            "source": str(path),
            "scorer": labels.scorer,
            "keypoints": [list(kp) for kp in labels.keypoints],
            "multianimal": labels.multianimal,
            "images": names,
            "stem": path.parent.name,
            "machine": machine,
            "skipped_rows": int((frames < 0).sum()),
            # what the h5 was when read: the writer refuses to replace it if it changed since
            "stamp": list(labels.stamp) if labels.stamp and path.suffix == ".h5" else None,
        }
    }
    kind = "machine" if machine else "labels"
    style = PointsStyle(
        name=f"{path.stem} ({kind})",
        face_color=face if len(face) else "white",
        text={"string": "{bodypart}", "size": 8, "color": "white"},
    )
    return (
        data,
        {**style.as_kwargs(), "features": features, "metadata": meta, "ndim": 3},
        "points",
    )


def read_label_layers(path: Path) -> list[tuple]:
    """Layers of one label file (frames matched to the images beside it, if any)."""
    from napari_dlcflow.core.labels.collected import folder_images

    names = [p.name for p in folder_images(path.parent)] or None
    return [labels_layer_data(path, names)]


def read_folder(folder: Path) -> list[tuple]:
    """The images of a labeled-data folder (lazy) and the layers of its label files."""
    from napari_dlcflow.core.labels.collected import folder_images

    images = folder_images(folder)
    names = [p.name for p in images]
    out: list[tuple] = []
    if images:
        from napari_dlcflow.core.video.reader import ImageFolderReader

        stack = ImageFolderReader(folder, files=images)
        stack.check_sizes()
        out.append((stack, {"name": f"{folder.name} images", "rgb": stack.rgb}, "image"))
    for f in _label_files(folder):
        out.append(labels_layer_data(f, names or None))
    return out
