"""The frame-source protocol every reader follows: :class:`VideoError`, :class:`VideoMeta`,
the array-like :class:`FrameSource` base (``(T, H, W)`` or ``(T, H, W, 3)``, read lazily) and a
small LRU of frames. Readers live in :mod:`~napari_dlcflow.core.video.reader` (videos, TIFF
stacks, image folders) and :mod:`~napari_dlcflow.core.video.microscopy` (microscopy
time-lapses)."""

from __future__ import annotations

import abc
from collections import OrderedDict
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

__all__ = ["TIFF_SUFFIXES", "FrameSource", "VideoError", "VideoMeta"]

TIFF_SUFFIXES = (".tif", ".tiff")


class VideoError(ValueError):
    """A video file cannot be used; the message names the file and the problem."""


@dataclass(frozen=True)
class VideoMeta:
    """What we know about a frame source.

    Attributes
    ----------
    path : Path
        The file or folder.
    n_frames : int
        Number of frames, counted from the packet index (never from the header).
    height, width : int
        Frame size in pixels.
    fps : float
        Frame rate (0.0 when unknown, e.g. for an image folder).
    codec : str
        Decoder name (``h264``, ``mjpeg``, ...), ``tiff`` or ``images``.
    dtype : str
        Sample type of the frames as returned (``uint8`` or ``uint16``).
    channels : int
        1 for grayscale, 3 for RGB.
    vfr : bool
        True when frame durations vary (variable frame rate).
    n_frames_header : int
        The count the container header states (0 when absent); may differ from ``n_frames``.
    exact_by : str
        How frames are located: ``"pts"`` (presentation timestamps), ``"count"`` (counting
        decoded frames from a keyframe, for containers such as AVI), ``"tiff"``, ``"files"``
        or ``"planes"`` (a microscopy file's time points).
    pixel_size_um : float or None
        Physical size of a pixel in µm, where the file states it (microscopy files).
    frame_interval_s : float or None
        Time between frames in seconds, where the file states it (microscopy files).
    choice : str
        The channel/z/scene choice of a microscopy source (``C1``, ``C0+C1``, ``Zmax``; see
        :mod:`napari_dlcflow.core.video.microscopy`); ``""`` for everything else.
    """

    path: Path
    n_frames: int
    height: int
    width: int
    fps: float
    codec: str
    dtype: str
    channels: int
    vfr: bool = False
    n_frames_header: int = 0
    exact_by: str = "count"
    pixel_size_um: float | None = None
    frame_interval_s: float | None = None
    choice: str = ""

    @classmethod
    def of_frames(
        cls, path: Path, n_frames: int, first: np.ndarray, codec: str, **extra: Any
    ) -> VideoMeta:
        """The metadata of frames held as arrays (images, an array): no frame rate, and the
        size, sample type and channels of ``first``, a frame as the source returns it.

        Parameters
        ----------
        path : Path
            The file or folder (a placeholder for an array).
        n_frames : int
            Number of frames.
        first : ndarray
            One frame, ``(H, W)`` or ``(H, W, 3)``.
        codec : str
            ``images``, ``array``, ...
        **extra
            Other fields (``n_frames_header``, ``exact_by``).
        """
        return cls(
            path=path,
            n_frames=n_frames,
            height=first.shape[0],
            width=first.shape[1],
            fps=0.0,
            codec=codec,
            dtype=str(first.dtype),
            channels=1 if first.ndim == 2 else 3,
            **extra,
        )

    def as_dict(self) -> dict[str, Any]:
        """The metadata as plain JSON-friendly values (the physical units and the choice only
        where they are set, as for a microscopy file)."""
        out = {
            "path": str(self.path),
            "n_frames": self.n_frames,
            "height": self.height,
            "width": self.width,
            "fps": self.fps,
            "codec": self.codec,
            "dtype": self.dtype,
            "channels": self.channels,
            "vfr": self.vfr,
            "n_frames_header": self.n_frames_header,
            "exact_by": self.exact_by,
        }
        for key in ("pixel_size_um", "frame_interval_s", "choice"):
            if getattr(self, key):
                out[key] = getattr(self, key)
        return out


class FrameSource(abc.ABC):
    """Array-like base of every reader: ``(T, H, W)`` or ``(T, H, W, 3)``, read lazily.

    Subclasses implement :meth:`frame` (abstract: a reader without it cannot be made) and set
    ``meta``.
    """

    meta: VideoMeta

    # --- array protocol -------------------------------------------------------------------
    @property
    def shape(self) -> tuple[int, ...]:
        m = self.meta
        base = (m.n_frames, m.height, m.width)
        return base if m.channels == 1 else (*base, m.channels)

    @property
    def dtype(self) -> np.dtype:
        return np.dtype(self.meta.dtype)

    @property
    def ndim(self) -> int:
        return len(self.shape)

    @property
    def size(self) -> int:
        return int(np.prod(self.shape))

    @property
    def rgb(self) -> bool:
        """True when frames have a trailing colour axis of 3."""
        return self.meta.channels == 3

    def __len__(self) -> int:
        return self.meta.n_frames

    def __array__(self, dtype: Any = None, copy: Any = None) -> np.ndarray:
        out = np.stack([self.frame(i) for i in range(len(self))])
        return out.astype(dtype) if dtype is not None else out

    def __getitem__(self, key: Any) -> np.ndarray:
        if not isinstance(key, tuple):
            key = (key,)
        if any(k is Ellipsis for k in key):
            pos = next(i for i, k in enumerate(key) if k is Ellipsis)
            fill = self.ndim - (len(key) - 1)
            key = key[:pos] + (slice(None),) * fill + key[pos + 1 :]
        t, rest = key[0], key[1:]
        n = len(self)
        if isinstance(t, (int, np.integer)):
            i = int(t)
            if i < 0:
                i += n
            if not 0 <= i < n:
                raise IndexError(f"frame {t} out of range for {n} frames of {self.meta.path}")
            return self.frame(i)[rest] if rest else self.frame(i)
        if isinstance(t, slice):
            idx = range(*t.indices(n))
        else:
            idx = [int(j) + n if int(j) < 0 else int(j) for j in np.asarray(t).ravel()]
        frames = [self.frame(i)[rest] if rest else self.frame(i) for i in idx]
        if not frames:
            sub = np.empty(self.shape[1:], self.dtype)[rest] if rest else None
            shape = (0, *(sub.shape if sub is not None else self.shape[1:]))
            return np.empty(shape, self.dtype)
        return np.stack(frames)

    @abc.abstractmethod
    def frame(self, index: int) -> np.ndarray:
        """Return frame ``index`` (0-based) as a read-only array."""

    def iter_frames(self, start: int = 0, stop: int | None = None) -> Iterator[np.ndarray]:
        """Yield frames ``start`` .. ``stop - 1`` in order (fast path for sequential reads)."""
        stop = len(self) if stop is None else min(stop, len(self))
        for i in range(start, stop):
            yield self.frame(i)

    def close(self) -> None:  # noqa: B027 - optional: readers without open files keep it
        """Release the file."""

    def __enter__(self) -> FrameSource:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        m = self.meta
        return (
            f"{type(self).__name__}({str(m.path)!r}, frames={m.n_frames}, "
            f"size={m.width}x{m.height}, codec={m.codec}, dtype={m.dtype})"
        )


class _LRU:
    """A small frame cache bounded by count and bytes."""

    def __init__(self, max_frames: int, max_bytes: int) -> None:
        self.max_frames = max(1, max_frames)
        self.max_bytes = max_bytes
        self._d: OrderedDict[int, np.ndarray] = OrderedDict()
        self._bytes = 0

    def get(self, i: int) -> np.ndarray | None:
        a = self._d.get(i)
        if a is not None:
            self._d.move_to_end(i)
        return a

    def __contains__(self, i: int) -> bool:
        return i in self._d

    def keys(self) -> list[int]:
        return list(self._d)

    def put(self, i: int, a: np.ndarray) -> None:
        if i in self._d:
            self._d.move_to_end(i)
            return
        self._d[i] = a
        self._bytes += a.nbytes
        while len(self._d) > self.max_frames or (
            self._bytes > self.max_bytes and len(self._d) > 1
        ):
            _, old = self._d.popitem(last=False)
            self._bytes -= old.nbytes

    def clear(self) -> None:
        self._d.clear()
        self._bytes = 0
