"""An array with time as its first axis (numpy, dask, zarr: anything with ``shape``, ``dtype``
and ``__getitem__``) as a frame source, read lazily frame by frame.

This is how an image layer with no file behind it (an array a script put on the viewer)
becomes a source for frame extraction and, written to a file first, for analysis
(:func:`write_array_tiff`). Qt-free: the widgets hand over ``layer.data`` and the layer name.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from napari_dlcflow.core.video.frames import FrameSource, VideoError, VideoMeta
from napari_dlcflow.core.video.source import NO_FILE

__all__ = ["ArraySource", "write_array_tiff", "written_from"]


class ArraySource(FrameSource):
    """Frames of an array ``(T, H, W)`` or ``(T, H, W, 3|4)``; frame ``i`` is ``data[i]``.

    Parameters
    ----------
    data : array-like
        numpy, dask or any array-like; only the frames asked for are computed.
    name : str
        What the array is called (a layer name), recorded as its origin.

    Raises
    ------
    VideoError
        If the array is not a time series of 2-D or RGB frames (the message names it).
    """

    def __init__(self, data: Any, name: str = "array") -> None:
        self.data = data
        self.name = name
        self.origin = NO_FILE.format(name=name)
        shape = tuple(int(s) for s in getattr(data, "shape", ()))
        rgb = len(shape) == 4 and shape[-1] in (3, 4)
        if not (len(shape) == 3 or rgb) or shape[0] < 1:
            raise VideoError(
                f"{self.origin}: shape {shape} is not frames over time: need (T, H, W) or "
                "(T, H, W, 3) with time as the first axis"
            )
        dtype = np.dtype(data.dtype)
        if dtype.kind not in "uif":
            raise VideoError(f"{self.origin}: {dtype} pixels are not an image")
        self.meta = VideoMeta(
            path=Path(f"<{name}>"),
            n_frames=shape[0],
            height=shape[1],
            width=shape[2],
            fps=0.0,
            codec="array",
            dtype=str(dtype),
            channels=3 if rgb else 1,
            exact_by="count",
        )

    def frame(self, index: int) -> np.ndarray:
        """Frame ``index`` (``data[index]``, computed if lazy; alpha dropped)."""
        n = self.meta.n_frames
        if not 0 <= index < n:
            raise IndexError(f"frame {index} out of range for {n} frames of {self.origin}")
        a = np.asarray(self.data[index])
        if a.ndim == 3 and a.shape[-1] == 4:
            a = a[..., :3]
        return a


def write_array_tiff(
    src: FrameSource,
    path: str | os.PathLike,
    *,
    chunk: int = 64,
    on_progress: Callable[[int, int], None] | None = None,
) -> Path:
    """Stream ``src`` to a TIFF frame by frame, atomically (one page per frame, one series:
    what :class:`~napari_dlcflow.core.video.reader.TiffStackReader` reads back frame for frame);
    ``on_progress(done, total)`` every ``chunk`` frames. The TIFF's description records the
    array's origin (``dlcflow_origin``: ``"napari layer 'x' (no file)"``).

    Used to analyse an array in a child process, which cannot see the viewer's memory.

    Returns
    -------
    Path
        The file written (nothing is left at ``path`` if writing fails).
    """
    import tifffile

    from napari_dlcflow.core.safe_io import atomic_writer

    out = Path(path)
    out.parent.mkdir(parents=True, exist_ok=True)
    n = len(src)
    rgb = src.meta.channels == 3

    def pages() -> Any:
        for i in range(n):
            yield np.ascontiguousarray(src.frame(i))
            if on_progress is not None and ((i + 1) % chunk == 0 or i + 1 == n):
                on_progress(i + 1, n)

    shape = (n, src.meta.height, src.meta.width, 3) if rgb else (n, *src.shape[1:3])
    with atomic_writer(out, backup=False) as tmp, tifffile.TiffWriter(tmp, bigtiff=True) as tw:
        tw.write(
            pages(),
            shape=shape,
            dtype=src.dtype,
            photometric="rgb" if rgb else "minisblack",
            metadata={"dlcflow_origin": getattr(src, "origin", "")},
        )
    return out


def written_from(path: str | os.PathLike) -> tuple[str, tuple[int, ...]] | None:
    """The origin and shape :func:`write_array_tiff` recorded in a TIFF (None for any other
    file, or one that cannot be read): whether an array was written there already."""
    import tifffile

    try:
        with tifffile.TiffFile(str(path)) as tf:
            meta = (tf.shaped_metadata or ({},))[0]
    except Exception:
        return None
    origin = meta.get("dlcflow_origin")
    return (str(origin), tuple(int(n) for n in meta.get("shape", ()))) if origin else None
