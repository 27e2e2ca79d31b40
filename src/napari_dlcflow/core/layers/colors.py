"""The one colour rule: a colour per body part (or per individual) from the project's colormap.

Every place that draws keypoints (the Labeling and Overlay docks, the label and analysis-file
readers, the sample data, the Plots dock and the labeled video) asks this module, so the same
body part has the same colour everywhere.

The rule: the colour groups are the body parts, or the individuals in multi-animal data
(``color_by="auto"``), in the order they first appear in the keypoint columns (the order of the
project's ``config.yaml``, which DeepLabCut keeps in every file it writes). Group ``i`` of ``n``
gets the project's ``colormap`` (``rainbow`` when there is none) sampled at ``i / (n - 1)``,
as DeepLabCut does; a single group sits in the middle of the colormap.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence

import numpy as np

__all__ = [
    "COLORMAPS",
    "DEFAULT_COLORMAP",
    "color_groups",
    "colormap_rgba",
    "group_colors",
    "keypoint_colors",
    "palette",
    "to_rgb8",
]

DEFAULT_COLORMAP = "rainbow"
"""DeepLabCut's default ``colormap`` in ``config.yaml``."""

COLORMAPS = ("rainbow", "jet", "viridis", "plasma", "turbo", "hsv", "tab10", "tab20", "cool")
"""Colormaps offered in the Project dock (any matplotlib name works when it is installed)."""

_LUT = 256  # matplotlib's lookup-table size: the numpy colormaps below match it exactly

# piecewise-linear segments (x, value) of matplotlib's jet, per channel
_JET = (
    ((0.0, 0.0), (0.35, 0.0), (0.66, 1.0), (0.89, 1.0), (1.0, 0.5)),
    ((0.0, 0.0), (0.125, 0.0), (0.375, 1.0), (0.64, 1.0), (0.91, 0.0), (1.0, 0.0)),
    ((0.0, 0.5), (0.11, 1.0), (0.34, 1.0), (0.65, 0.0), (1.0, 0.0)),
)


def _numpy_colormap(name: str, x: np.ndarray) -> np.ndarray | None:
    """``rainbow``, ``jet`` and ``cool`` without matplotlib (None for other names)."""
    if name == "rainbow":  # gnuplot formulae 33, 13, 10
        rgb = [np.abs(2 * x - 0.5), np.sin(np.pi * x), np.cos(np.pi * x / 2)]
    elif name == "jet":
        rgb = [np.interp(x, [p[0] for p in seg], [p[1] for p in seg]) for seg in _JET]
    elif name == "cool":
        rgb = [x, 1 - x, np.ones_like(x)]
    else:
        return None
    return np.column_stack([np.clip(np.asarray(c, dtype=float), 0, 1) for c in rgb] + [x * 0 + 1])


def colormap_rgba(name: str, positions: Sequence[float] | np.ndarray) -> np.ndarray:
    """RGBA of the colormap ``name`` at ``positions`` in 0..1.

    ``rainbow``, ``jet`` and ``cool`` are computed here (the same values as matplotlib's
    256-entry tables); other names are looked up in matplotlib when it is installed. An unknown
    name, or one that needs matplotlib when it is not installed, warns and uses ``rainbow``.

    Returns
    -------
    ndarray of shape (len(positions), 4)
        RGBA in 0..1.
    """
    pos = np.clip(np.asarray(positions, dtype=float).reshape(-1), 0.0, 1.0)
    # the entry of a 256-colour table that matplotlib would pick for each position
    x = np.minimum((pos * _LUT).astype(int), _LUT - 1) / (_LUT - 1)
    out = _numpy_colormap(name, x)
    if out is not None:
        return out
    try:
        import matplotlib

        return np.asarray(matplotlib.colormaps[name](pos), dtype=float).reshape(-1, 4)
    except (ImportError, KeyError, ValueError):
        warnings.warn(
            f"colormap {name!r} is unknown (or needs matplotlib); using {DEFAULT_COLORMAP!r}",
            UserWarning,
            stacklevel=2,
        )
        return colormap_rgba(DEFAULT_COLORMAP, pos)


def palette(n: int, colormap: str = DEFAULT_COLORMAP) -> np.ndarray:
    """``n`` colours evenly spaced along ``colormap`` (one per colour group).

    Returns
    -------
    ndarray of float32 of shape (n, 4)
        RGBA in 0..1; group ``i`` is at ``i / (n - 1)``, a single group at 0.5.
    """
    pos = np.linspace(0.0, 1.0, n) if n > 1 else np.full(n, 0.5)
    return colormap_rgba(colormap, pos).astype(np.float32)


def color_groups(
    individuals: Sequence[str],
    bodyparts: Sequence[str],
    color_by: str = "auto",
    *,
    multi_animal: bool | None = None,
) -> tuple[np.ndarray, list[str]]:
    """Colour group of each keypoint column, and the group names in first-seen order.

    Parameters
    ----------
    individuals, bodyparts : sequence of str
        Individual and body part of each column.
    color_by : {"auto", "bodypart", "individual"}
        ``auto`` colours by individual in multi-animal data, else by body part.
    multi_animal : bool, optional
        Whether the data are multi-animal; default: more than one distinct individual.

    Returns
    -------
    group : ndarray of int of shape (N,)
        Index into ``names`` of each column.
    names : list of str
        The groups (body parts or individuals).
    """
    if color_by not in ("auto", "bodypart", "individual"):
        raise ValueError(f"color_by must be 'auto', 'bodypart' or 'individual', not {color_by!r}")
    if multi_animal is None:
        multi_animal = len(set(individuals)) > 1
    by_individual = color_by == "individual" or (color_by == "auto" and multi_animal)
    values = list(individuals if by_individual else bodyparts)
    names = list(dict.fromkeys(values))
    lookup = {n: i for i, n in enumerate(names)}
    return np.array([lookup[v] for v in values], dtype=int), names


def keypoint_colors(
    individuals: Sequence[str],
    bodyparts: Sequence[str],
    *,
    color_by: str = "auto",
    multi_animal: bool | None = None,
    colormap: str = DEFAULT_COLORMAP,
) -> np.ndarray:
    """RGBA colour of each keypoint column under the one rule (see the module docstring).

    Returns
    -------
    ndarray of float32 of shape (N, 4)
    """
    group, names = color_groups(individuals, bodyparts, color_by, multi_animal=multi_animal)
    return palette(len(names), colormap)[group].reshape(-1, 4)


def group_colors(
    individuals: Sequence[str],
    bodyparts: Sequence[str],
    *,
    color_by: str = "auto",
    multi_animal: bool | None = None,
    colormap: str = DEFAULT_COLORMAP,
) -> dict[str, np.ndarray]:
    """The colour of each group name (body part or individual): the legend of a layer."""
    _, names = color_groups(individuals, bodyparts, color_by, multi_animal=multi_animal)
    return dict(zip(names, palette(len(names), colormap), strict=True))


def to_rgb8(rgba: np.ndarray) -> np.ndarray:
    """RGBA in 0..1 as ``uint8`` RGB (for drawing onto video frames)."""
    return np.rint(np.asarray(rgba, dtype=float)[..., :3] * 255).astype(np.uint8)
