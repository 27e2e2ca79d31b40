"""napari layers of the Labeling dock: a lazy image stack, the labels (Points) and the skeleton
(Vectors) of the current frame. Their data, colours and styles come from ``core.layers``."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from napari_dlcflow.core.layers.data import editing_points
from napari_dlcflow.core.layers.style import PointsStyle, VectorsStyle

if TYPE_CHECKING:
    import napari

    from napari_dlcflow.core.labels.session import LabelModel


class LazyImageStack:
    """A read-only array of shape (T, H, W[, C]) whose frames are image files read on demand.

    napari needs only ``shape``, ``dtype``, ``ndim`` and ``__getitem__``; a frame is read when
    it is shown (the last few are cached), so a folder of any size opens at once.
    """

    def __init__(self, paths: list[Path], first: np.ndarray, cache: int = 16) -> None:
        self.paths = list(paths)
        self.dtype = first.dtype
        self.shape = (len(paths), *first.shape)
        self.ndim = len(self.shape)
        self.size = int(np.prod(self.shape))
        self._cache: dict[int, np.ndarray] = {0: first}
        self._order = [0]
        self._keep = cache

    def __len__(self) -> int:
        return self.shape[0]

    @property
    def cached_frames(self) -> list[int]:
        """Frames decoded and held in memory now."""
        return sorted(self._cache)

    def frame(self, t: int) -> np.ndarray:
        """Frame ``t`` (read from its file unless cached)."""
        t = int(t) % self.shape[0]
        img = self._cache.get(t)
        if img is None:
            from PIL import Image

            with Image.open(self.paths[t]) as im:
                img = np.asarray(im)
            if img.shape != self.shape[1:]:
                raise ValueError(
                    f"{self.paths[t].name} has shape {img.shape}, not {self.shape[1:]}"
                )
            self._cache[t] = img
            self._order.append(t)
            while len(self._order) > self._keep:
                self._cache.pop(self._order.pop(0), None)
        return img

    def __getitem__(self, key: object) -> np.ndarray:
        if not isinstance(key, tuple):
            key = (key,)
        first, rest = key[0], key[1:]
        if isinstance(first, (int, np.integer)):
            return self.frame(int(first))[rest] if rest else self.frame(int(first))
        idx = range(self.shape[0])[first] if isinstance(first, slice) else np.asarray(first)
        frames = (
            np.stack([self.frame(int(t)) for t in idx])
            if len(idx)
            else np.empty((0, *self.shape[1:]), self.dtype)
        )
        return frames[(slice(None), *rest)] if rest else frames

    def __array__(self, dtype: object = None, copy: object = None) -> np.ndarray:
        out = self[:]
        return out.astype(dtype) if dtype is not None else out


def lazy_stack(paths: list[Path]) -> tuple[LazyImageStack, tuple[int, ...]]:
    """A lazy stack of the images (read on demand); returns it and the first image's shape.

    Raises
    ------
    ValueError
        If the images differ in size (naming the first that differs).
    """
    from PIL import Image

    with Image.open(paths[0]) as im0:
        first = np.asarray(im0)
        size0 = im0.size
    for p in paths[1:]:
        with Image.open(p) as im:  # header only
            if im.size != size0:
                raise ValueError(
                    f"{p.name} is {im.size[0]}x{im.size[1]}, not "
                    f"{size0[0]}x{size0[1]} like {paths[0].name}"
                )
    return LazyImageStack(paths, first), first.shape


def add_layers(
    viewer: napari.Viewer,
    stack: object,
    model: LabelModel,
    colors: np.ndarray,
    dotsize: float,
    name: str,
) -> tuple[object, object, object]:
    """Add the image stack, the labels and the skeleton layers; returns them."""
    # known limits spare napari a pass over every frame; 16-bit frames use the first frame's
    dtype = np.dtype(getattr(stack, "dtype", np.uint8))
    if dtype == np.uint8:
        limits: tuple[float, float] | None = (0.0, 255.0)
    else:
        first = np.asarray(stack[0])  # type: ignore[index]
        lo, hi = float(first.min()), float(first.max())
        limits = (lo, hi if hi > lo else lo + 1.0)
    image = viewer.add_image(stack, name=f"{name} images", contrast_limits=limits)
    data, feats, face, border = editing_points(model, colors)
    points_style = PointsStyle(
        name=f"{name} labels",
        size=dotsize,
        face_color=face if len(face) else "white",
        border_color=border if len(border) else "black",
        border_width=0.15,
        text={
            "string": "{label}",
            "size": 9,
            "color": "white",
            "anchor": "upper_left",
            "translation": (0, -4, 4),
        },
    )
    points = viewer.add_points(data, ndim=3, features=feats, **points_style.as_kwargs())
    skeleton_style = VectorsStyle(
        name=f"{name} skeleton", edge_width=max(dotsize / 5.0, 1.0), opacity=0.9
    )
    skeleton = viewer.add_vectors(np.zeros((0, 2, 3)), ndim=3, **skeleton_style.as_kwargs())
    viewer.layers.selection.active = points
    return image, points, skeleton
