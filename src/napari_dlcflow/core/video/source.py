"""A frame source's identity: a file plus its channel/z/scene choice, as one value.

A :class:`SourceRef` is what every step after opening keeps of a source: the file and the
:class:`~napari_dlcflow.core.video.microscopy.Choice` text (``"C1"``, ``"S0_C1_Zmax"``; ``""``
for a video or a single-channel file). Every name made from a source comes from here:

- :attr:`SourceRef.stem`: ``cells_C1`` for channel 1 of ``cells.ome.tif`` (``.ome`` dropped),
  the plain ``Path(path).stem`` without a choice. It names the labeled-data folder and
  DeepLabCut's analysis outputs (``cells_C1DLC_<scorer>.h5``).
- :attr:`SourceRef.key`: how the source is written where DeepLabCut keeps a video path
  (``config.yaml`` ``video_sets``). Without a choice it is the path itself. With one it is a
  name *under* the file: ``/data/cells.ome.tif/cells_C1.tif``. DeepLabCut takes a labeled-data
  folder as ``Path(key).stem`` (``merge_annotateddatasets`` via ``parse_video_filenames``, the
  leave-one-folder-out split), which gives ``cells_C1``: dataset creation finds the folder.
  No file can exist at that name (its parent is a file), so the key never names another
  video, and :func:`parse_source_key` reads it back from the text alone.

:func:`source_key` and :func:`parse_source_key` are the one format/parse pair.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path, PurePath
from typing import Any

import numpy as np

from napari_dlcflow.core.video.frames import FrameSource, VideoMeta

__all__ = [
    "NO_FILE",
    "Rgb8Frames",
    "SourceRef",
    "base_stem",
    "parse_source_key",
    "source_key",
]

NO_FILE = "napari layer {name!r} (no file)"
"""How a source with no file behind it (an array on the viewer) is recorded."""


def base_stem(path: str | os.PathLike) -> str:
    """The file name without its suffix and without ``.ome`` (``cells.ome.tif`` -> ``cells``,
    ``cells.ome.zarr`` -> ``cells``, ``mouse.avi`` -> ``mouse``)."""
    stem = PurePath(path).stem
    return stem[: -len(".ome")] if stem.lower().endswith(".ome") else stem


def _checked_choice(choice: str) -> str:
    from napari_dlcflow.core.video.microscopy import parse_choice

    text = str(choice or "").strip()
    return parse_choice(text).text if text else ""


@dataclass(frozen=True)
class SourceRef:
    """A file and the channel/z/scene choice that makes its frames.

    Attributes
    ----------
    path : Path
        The file (or OME-Zarr / image folder).
    choice : str
        :attr:`~napari_dlcflow.core.video.microscopy.Choice.text` (``""`` for none).
    origin : str
        Where the pixels came from when that is not ``path`` alone (``"napari layer 'x' (no
        file)"`` for an array written to ``path``); ``""`` otherwise.
    """

    path: Path
    choice: str = ""
    origin: str = ""

    def __post_init__(self) -> None:
        object.__setattr__(self, "path", Path(self.path))
        object.__setattr__(self, "choice", _checked_choice(self.choice))

    @property
    def stem(self) -> str:
        """The name stem of everything made from this source (``cells_C1``, ``mouse``)."""
        if not self.choice:
            return self.path.stem
        return f"{base_stem(self.path)}_{self.choice}"

    @property
    def key(self) -> str:
        """The ``config.yaml`` ``video_sets`` key (:func:`source_key`)."""
        return source_key(self.path, self.choice)

    def open(self, **kwargs: Any) -> FrameSource:
        """The frames (:func:`~napari_dlcflow.core.video.reader.open_frames` with the choice).

        Raises
        ------
        VideoError
            If the file cannot be read with this choice (the message names it).
        """
        from napari_dlcflow.core.video.reader import open_frames

        if self.choice:
            kwargs["choice"] = self.choice
        return open_frames(self.path, **kwargs)

    def record(self, meta: VideoMeta | None = None) -> dict[str, Any]:
        """Where the pixels came from, as plain JSON: ``path``, ``choice`` and, from ``meta``,
        ``pixel_size_um`` and ``frame_interval_s`` (None where unknown); ``origin`` if set."""
        out: dict[str, Any] = {
            "path": str(self.path),
            "choice": self.choice,
            "pixel_size_um": getattr(meta, "pixel_size_um", None),
            "frame_interval_s": getattr(meta, "frame_interval_s", None),
        }
        if self.origin:
            out["origin"] = self.origin
        return out

    def __str__(self) -> str:
        return self.key


def source_key(path: str | os.PathLike, choice: str = "") -> str:
    """The ``video_sets`` key of ``path`` with ``choice``: the path itself without a choice,
    else ``<path>/<base stem>_<choice><suffix>`` (``/d/cells.ome.tif/cells_C1.tif``).

    Raises
    ------
    ValueError
        If ``choice`` is not a choice text.
    """
    p = Path(path)
    text = _checked_choice(choice)
    if not text:
        return str(p)
    return str(p / f"{base_stem(p)}_{text}{p.suffix}")


def parse_source_key(key: str | os.PathLike | SourceRef) -> SourceRef:
    """Read a ``video_sets`` key (or any video path) back as a :class:`SourceRef`, from the
    text alone (the file need not exist): a key made by :func:`source_key` gives its file and
    choice, anything else the path with no choice."""
    if isinstance(key, SourceRef):
        return key
    p = Path(key)
    parent = p.parent
    suffix = parent.suffix
    head = f"{base_stem(parent)}_"
    if suffix and p.suffix == suffix and p.stem.startswith(head):
        try:
            choice = _checked_choice(p.stem[len(head) :])
        except ValueError:
            choice = ""
        if choice:
            return SourceRef(parent, choice)
    return SourceRef(p)


# --- 8-bit RGB frames, the same for labeling and analysis ------------------------------------
class Rgb8Frames(FrameSource):
    """Frames of any source as 8-bit RGB, the pixels the network is trained on and analyses.

    8-bit sources pass through (grayscale repeated into three channels). Other sample types
    (16-bit microscopy) are scaled linearly from fixed limits, the 0.1 and 99.9 percentiles
    of three frames (first, middle, last), so frame extraction and analysis of the same
    source give the same pixels on every run.

    Parameters
    ----------
    src : FrameSource or array-like
        The frames (``(T, H, W)`` or ``(T, H, W, 3)``).
    limits : (float, float), optional
        The limits to scale from (default: measured as above).
    """

    def __init__(self, src: Any, limits: tuple[float, float] | None = None) -> None:
        self.src = src
        n = len(src)
        if np.dtype(src.dtype) == np.uint8:
            self.limits: tuple[float, float] | None = None
        elif limits is not None:
            self.limits = (float(limits[0]), float(limits[1]))
        else:
            sample = np.stack([np.asarray(src[i]) for i in sorted({0, n // 2, n - 1})])
            lo, hi = (float(v) for v in np.percentile(sample, [0.1, 99.9]))
            self.limits = (lo, max(hi, lo + 1.0))
        inner = getattr(src, "meta", None)
        h, w = int(src.shape[1]), int(src.shape[2])
        base = inner or VideoMeta(Path(""), n, h, w, 0.0, "array", "uint8", 3)
        from dataclasses import replace

        self.meta = replace(base, dtype="uint8", channels=3)

    def frame(self, index: int) -> np.ndarray:
        """Frame ``index`` as ``(H, W, 3)`` uint8."""
        a = np.asarray(self.src[index])
        if self.limits is not None:
            lo, hi = self.limits
            f = (a.astype(np.float32) - lo) * (255.0 / (hi - lo))
            a = np.rint(np.clip(f, 0.0, 255.0)).astype(np.uint8)
        if a.ndim == 2:
            a = np.repeat(a[..., None], 3, axis=-1)
        elif a.shape[-1] == 4:
            a = a[..., :3]
        return a

    def close(self) -> None:
        """Close the wrapped source."""
        close = getattr(self.src, "close", None)
        if close is not None:
            close()
