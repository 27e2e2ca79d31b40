"""napari layers of the Labeling dock: a lazy image stack, the labels (Points) and the skeleton
(Vectors) of the current frame."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from napari_dlcflow.core.layers.coords import keypoints_to_points

if TYPE_CHECKING:
    import napari

    from napari_dlcflow.core.labels.session import LabelModel


def keypoint_colors(
    keypoints: list[tuple[str, str]], colormap: str, by_individual: bool
) -> np.ndarray:
    """RGBA colour of each keypoint from the config's colormap (``jet``, ``rainbow``, ...).

    Single-animal projects colour by body part; multi-animal ones by individual.
    """
    groups = [ind for ind, _ in keypoints] if by_individual else [bp for _, bp in keypoints]
    uniq = list(dict.fromkeys(groups))
    n = max(len(uniq), 1)
    pos = np.linspace(0.0, 1.0, n) if n > 1 else np.array([0.5])
    try:
        import matplotlib

        cmap = matplotlib.colormaps[colormap]
        table = np.asarray(cmap(pos), dtype=float)
    except (ImportError, KeyError, ValueError):
        from napari.utils.colormaps import ensure_colormap

        try:
            cm = ensure_colormap(colormap)
        except (KeyError, ValueError):
            cm = ensure_colormap("turbo")
        table = np.asarray(cm.map(pos), dtype=float)
    return np.array([table[uniq.index(g)] for g in groups]).reshape(-1, 4)


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


PREDICTED_BORDER = np.array([1.0, 0.84, 0.0, 1.0])
"""Border of a prediction not accepted yet (gold)."""
LOW_BORDER = np.array([1.0, 0.19, 0.19, 1.0])
"""Border of a prediction below the p-cutoff (red)."""
LABEL_BORDER = np.array([0.0, 0.0, 0.0, 1.0])


def points_payload(
    model: LabelModel, colors: np.ndarray, pcutoff: float = 0.6
) -> tuple[np.ndarray, pd.DataFrame, np.ndarray, np.ndarray]:
    """``(data, features, face colours, border colours)`` of the Points layer drawn from
    ``model``.

    Labels are filled with their keypoint's colour and a black border. Predictions not accepted
    yet are half transparent with a gold border, or a red one below ``pcutoff``, and their name
    ends with ``?`` (or ``?!``).
    """
    data, t, k = keypoints_to_points(model.xy)
    t = t.astype(int)
    k = k.astype(int)
    predicted = model.predicted[t, k] if len(k) else np.zeros(0, dtype=bool)
    lik = model.likelihood[t, k] if len(k) else np.zeros(0)
    with np.errstate(invalid="ignore"):
        low = predicted & (lik < pcutoff)
    names = [model.keypoints[i][1] for i in k]
    label = [
        n + ("?!" if lo else "?" if pr else "")
        for n, pr, lo in zip(names, predicted, low, strict=True)
    ]
    feats = pd.DataFrame(
        {
            "keypoint": k,
            "individual": [model.keypoints[i][0] for i in k],
            "bodypart": names,
            "label": label,
            "predicted": predicted,
            "likelihood": lik,
        }
    )
    face = colors[k].copy() if len(k) else np.zeros((0, 4))
    if len(k):
        face[predicted, 3] = 0.45
    border = np.tile(LABEL_BORDER, (len(k), 1))
    border[predicted] = PREDICTED_BORDER
    border[low] = LOW_BORDER
    return data, feats, face, border


def skeleton_vectors(model: LabelModel, t: int, edges: list[tuple[str, str]]) -> np.ndarray:
    """Vectors ``(N, 2, 3)`` (start, direction) of the skeleton edges in frame ``t``; an edge is
    drawn when both ends are labeled, per individual for multi-animal projects."""
    out = []
    index = {kp: i for i, kp in enumerate(model.keypoints)}
    individuals = list(dict.fromkeys(ind for ind, _ in model.keypoints))
    for ind in individuals:
        for a, b in edges:
            ia = index.get((ind, a))
            ib = index.get((ind, b))
            if ia is None or ib is None:
                continue
            pa, pb = model.xy[t, ia], model.xy[t, ib]
            if np.isnan(pa).any() or np.isnan(pb).any():
                continue
            start = (t, pa[1], pa[0])
            out.append([start, (0.0, pb[1] - pa[1], pb[0] - pa[0])])
    return np.asarray(out, dtype=float).reshape(-1, 2, 3)


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
    data, feats, face, border = points_payload(model, colors)
    points = viewer.add_points(
        data,
        ndim=3,
        features=feats,
        face_color=face if len(face) else "white",
        border_color=border if len(border) else "black",
        border_width=0.15,
        size=dotsize,
        name=f"{name} labels",
        text={
            "string": "{label}",
            "size": 9,
            "color": "white",
            "anchor": "upper_left",
            "translation": (0, -4, 4),
        },
    )
    skeleton = viewer.add_vectors(
        np.zeros((0, 2, 3)),
        ndim=3,
        edge_width=max(dotsize / 5.0, 1.0),
        edge_color="white",
        vector_style="line",
        name=f"{name} skeleton",
        opacity=0.9,
    )
    viewer.layers.selection.active = points
    return image, points, skeleton
