"""napari adapters named in ``napari.yaml``: readers, the labels writer and sample data.

They turn files into layer data through :mod:`napari_dlcflow.core` and never import Qt at module
level (npe2 imports them lazily); readers return ``None`` for files they do not handle.
"""

from __future__ import annotations

import os

PathLike = str | os.PathLike
"""What npe2 passes a reader: one path (or a list of them)."""


def single_path(path: PathLike | list[PathLike]) -> PathLike | None:
    """The one path a reader that opens one thing at a time was given.

    npe2 passes a path, or a list of paths when several files are dropped together.

    Parameters
    ----------
    path : path-like or list of path-like
        A reader's argument.

    Returns
    -------
    path-like or None
        ``path`` itself, the only item of a list of one, or None for a list of any other length.
    """
    if isinstance(path, list):
        return path[0] if len(path) == 1 else None
    return path
