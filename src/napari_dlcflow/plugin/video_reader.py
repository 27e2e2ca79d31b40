"""npe2 reader: videos and TIFF stacks open as lazy, frame-exact Image layers with a time axis.

The layer's data is a :class:`napari_dlcflow.core.video.reader.FrameSource`; nothing is loaded
until
napari asks for a frame, so a video of any length opens at once.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

from napari_dlcflow.core.video.reader import TIFF_SUFFIXES, VIDEO_SUFFIXES

PathLike = str | os.PathLike

__all__ = ["get_video_reader", "read_video"]


def _handles(path: PathLike) -> bool:
    p = Path(path)
    return p.suffix.lower() in (*VIDEO_SUFFIXES, *TIFF_SUFFIXES) and p.is_file()


def get_video_reader(
    path: PathLike | list[PathLike],
) -> Callable[[Any], list[tuple]] | None:
    """Return a reader for video files and TIFF stacks; None for anything else.

    Parameters
    ----------
    path : path-like or list of path-like
        What napari was asked to open.

    Returns
    -------
    callable or None
        A function that returns napari layer data tuples, or None if some path is not a
        video or TIFF file this reader handles.
    """
    paths = path if isinstance(path, list) else [path]
    if not paths or not all(_handles(p) for p in paths):
        return None
    return read_video


def read_video(path: PathLike | list[PathLike]) -> list[tuple]:
    """Open each path as a lazy Image layer (the npe2 reader function).

    Raises
    ------
    napari_dlcflow.core.video.reader.VideoError
        If a file cannot be read; the message names it.
    """
    paths = path if isinstance(path, list) else [path]
    from napari_dlcflow.napari_common import layer_data_for

    return [layer_data_for(p) for p in paths]
