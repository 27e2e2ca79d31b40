"""Minimal video access: probe a file (size, rate, codec) with a clear error when it is unusable,
and decode a short video into memory."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from napari_dlcflow.core.video.frames import TIFF_SUFFIXES, VideoError

__all__ = ["VideoError", "VideoInfo", "probe_video", "read_frames"]


@dataclass(frozen=True)
class VideoInfo:
    """What the container says about a video.

    Attributes
    ----------
    path : Path
        The file.
    width, height : int
        Frame size in pixels.
    fps : float
        Average frame rate from the container (0.0 when unknown).
    n_frames_header : int
        Frame count from the header (0 when unknown). Not trusted for indexing: AVI files with
        B-frames report twice the real count.
    codec : str
        Decoder name, e.g. ``h264``.
    """

    path: Path
    width: int
    height: int
    fps: float
    n_frames_header: int
    codec: str


def probe_video(path: str | os.PathLike) -> VideoInfo:
    """Open a video and decode its first frame to prove it is usable (a TIFF stack or
    microscopy file: read its metadata; time points are frames, never channels or planes).

    Parameters
    ----------
    path : path-like
        A video file (mp4, avi, mov, mkv, ...).

    Returns
    -------
    VideoInfo

    Raises
    ------
    VideoError
        If the file is missing, empty, not a video, or no frame can be decoded.
    """
    import av  # PyAV: imported here to keep ``import napari_dlcflow`` light

    p = Path(path)
    if p.suffix.lower() in TIFF_SUFFIXES or p.is_dir() or _is_microscopy(p):
        return _probe_frames(p)
    if not p.is_file():
        raise VideoError(f"Video {p} does not exist")
    if p.stat().st_size == 0:
        raise VideoError(f"Video {p} is empty (0 bytes)")
    try:
        with av.open(str(p)) as container:
            if not container.streams.video:
                raise VideoError(f"{p} has no video stream")
            stream = container.streams.video[0]
            first = next(container.decode(stream), None)
            if first is None:
                raise VideoError(f"Video {p}: no frame could be decoded")
            fps = float(stream.average_rate) if stream.average_rate else 0.0
            return VideoInfo(
                path=p,
                width=int(first.width),
                height=int(first.height),
                fps=fps,
                n_frames_header=int(stream.frames or 0),
                codec=stream.codec_context.name,
            )
    except VideoError:
        raise
    except (av.error.FFmpegError, OSError, ValueError) as exc:
        raise VideoError(f"Video {p} cannot be read: {exc}") from exc


def _is_microscopy(p: Path) -> bool:
    from napari_dlcflow.core.video.microscopy import is_microscopy

    return is_microscopy(p)


def _probe_frames(p: Path) -> VideoInfo:
    """Probe a TIFF stack or microscopy file by its metadata: the size, the number of time
    points (never channels or planes counted as frames) and the frame rate the file states
    (0.0 when it states none)."""
    from napari_dlcflow.core.video.microscopy import describe, is_microscopy
    from napari_dlcflow.core.video.reader import TiffStackReader

    if is_microscopy(p):
        info = describe(p)
        dt = info.frame_interval_s
        return VideoInfo(
            path=p,
            width=info.size("X"),
            height=info.size("Y"),
            fps=1.0 / dt if dt else 0.0,
            n_frames_header=info.size("T"),
            codec=info.format,
        )
    if p.is_dir():
        raise VideoError(f"{p} is a folder, not a video or microscopy file")
    with TiffStackReader(p) as src:
        m = src.meta
        return VideoInfo(p, m.width, m.height, 0.0, m.n_frames, "tiff")


def read_frames(path: str | os.PathLike, max_frames: int | None = None) -> np.ndarray:
    """Decode a short video from the start into memory, in presentation order.

    For small videos (the built-in example, tests). Long videos should be read lazily.

    Parameters
    ----------
    path : path-like
        The video.
    max_frames : int, optional
        Stop after this many frames.

    Returns
    -------
    ndarray of shape (T, H, W, 3), uint8
        RGB frames.

    Raises
    ------
    VideoError
        If the file cannot be decoded.
    """
    import av

    p = Path(path)
    probe_video(p)
    frames = []
    try:
        with av.open(str(p)) as container:
            stream = container.streams.video[0]
            stream.thread_type = "AUTO"
            for frame in container.decode(stream):
                frames.append(frame.to_ndarray(format="rgb24"))
                if max_frames is not None and len(frames) >= max_frames:
                    break
    except av.error.FFmpegError as exc:
        raise VideoError(f"Video {p}: decoding failed after {len(frames)} frames: {exc}") from exc
    return np.stack(frames)
