"""The one video encoder set-up: frames in, an H.264, FFV1, MPEG-4 or MJPEG file out (PyAV).

:class:`VideoWriter` streams frames one at a time (memory stays flat for any length). Every
video this package writes goes through it: the synthetic example, preprocessed videos and
labeled videos. It writes exactly the path it is given; callers that must not leave a partial
file write to the temporary path of :func:`~napari_dlcflow.core.safe_io.atomic_writer`, which is
why the container format comes from the codec, not from the file name.

=============  ===========  =============================================================
codec          container    pixels
=============  ===========  =============================================================
``libx264``    MP4          yuv420p, ``crf`` (0 lossless .. 51 worst) and ``preset``
``ffv1``       Matroska     lossless: gray, gray16le (16-bit kept) or RGB (stored bgr0)
``mpeg4``      MP4          yuv420p, ``crf`` used as the quantiser scale (2 best .. 31)
``mjpeg``      MP4          yuvj420p, ``crf`` used as the quantiser scale (2 best .. 31)
=============  ===========  =============================================================
"""

from __future__ import annotations

import contextlib
import os
from fractions import Fraction
from pathlib import Path
from types import TracebackType
from typing import Any

import numpy as np

__all__ = ["CODECS", "VideoWriter"]

CODECS = ("libx264", "ffv1", "mpeg4", "mjpeg")
_CONTAINER = {"libx264": "mp4", "ffv1": "matroska", "mpeg4": "mp4", "mjpeg": "mp4"}
_FFV1_PIXELS = {"gray16le": "gray16le", "gray": "gray", "rgb24": "bgr0"}


class VideoWriter:
    """Encode frames into a video file.

    Parameters
    ----------
    path : path-like
        The file to write (replaced if it exists). Its name need not end in ``.mp4``/``.mkv``.
    width, height : int
        Frame size in pixels; even for the 4:2:0 codecs (all but ``ffv1``).
    fps : float or Fraction
        Frame rate; a float is turned into a fraction with a denominator up to 1001.
    codec : {"libx264", "ffv1", "mpeg4", "mjpeg"}
        The encoder (see the module's table).
    crf : int, default 17
        x264 constant rate factor, or the quantiser scale of ``mpeg4``/``mjpeg`` (clamped to
        2..31); unused by ``ffv1``.
    preset : str, default "veryfast"
        x264 speed preset.
    input_format : {"rgb24", "gray", "gray16le"}
        The layout of the arrays given to :meth:`write`: ``(H, W, 3)`` uint8, ``(H, W)`` uint8
        or ``(H, W)`` uint16.
    keyframe_interval : int, optional
        x264 only: a keyframe every this many frames, closed GOPs and no B-frames, so that
        every frame decodes exactly and seeking is cheap.
    threads : int, optional
        Encoder threads (default: the encoder's choice).
    format : str, optional
        Container format name for PyAV; default from the codec.

    Raises
    ------
    ValueError
        If the codec or input format is unknown, or a 4:2:0 codec is given an odd size.

    Examples
    --------
    >>> with VideoWriter(tmp, width=64, height=48, fps=30) as out:  # doctest: +SKIP
    ...     for frame in frames:
    ...         out.write(frame)
    """

    def __init__(
        self,
        path: str | os.PathLike,
        *,
        width: int,
        height: int,
        fps: float | Fraction,
        codec: str = "libx264",
        crf: int = 17,
        preset: str = "veryfast",
        input_format: str = "rgb24",
        keyframe_interval: int | None = None,
        threads: int | None = None,
        format: str | None = None,
    ) -> None:
        import av

        self.path = Path(path)
        if codec not in CODECS:
            raise ValueError(f"{self.path}: unknown codec {codec!r}; one of {', '.join(CODECS)}")
        if input_format not in _FFV1_PIXELS:
            raise ValueError(
                f"{self.path}: unknown input format {input_format!r}; one of "
                f"{', '.join(_FFV1_PIXELS)}"
            )
        if codec != "ffv1" and (width % 2 or height % 2):
            raise ValueError(
                f"{self.path}: {codec} with 4:2:0 chroma needs an even frame size, got "
                f"{height}x{width}"
            )
        if codec != "ffv1" and input_format == "gray16le":
            raise ValueError(f"{self.path}: 16-bit frames need the lossless ffv1 codec")
        self.codec = codec
        self.input_format = input_format
        self.rate = fps if isinstance(fps, Fraction) else Fraction(fps).limit_denominator(1001)
        self.frames_written = 0
        options: dict[str, str] = {}
        if codec == "libx264":
            options = {"crf": str(crf), "preset": preset}
            # cpu-independent: x264's AVX-512 code (mbtree) gives a different stream on every
            # run on some CPUs (AMD Zen 4 measured); this keeps outputs byte-identical between
            # runs and machines, at no measured cost, so reruns and batches can be compared.
            x264 = ["cpu-independent=1"]
            if keyframe_interval:
                k = int(keyframe_interval)
                options |= {"bf": "0", "g": str(k)}
                x264.append(f"keyint={k}:min-keyint={k}:scenecut=0:open-gop=0")
            options["x264-params"] = ":".join(x264)
        elif codec in ("mpeg4", "mjpeg"):
            options = {"qscale": str(max(2, min(int(crf), 31)))}
        if codec == "ffv1":
            pix_fmt = _FFV1_PIXELS[input_format]
        else:
            pix_fmt = "yuvj420p" if codec == "mjpeg" else "yuv420p"
        container_format = format or _CONTAINER[codec]
        self._container: Any = av.open(str(self.path), mode="w", format=container_format)
        try:
            self._stream = self._container.add_stream(codec, rate=self.rate, options=options)
            self._stream.width, self._stream.height = int(width), int(height)
            self._stream.pix_fmt = pix_fmt
            if threads:
                self._stream.codec_context.thread_count = int(threads)
            self._stream.thread_type = "AUTO"
        except BaseException:
            self._container.close()
            raise

    def write(self, frame: np.ndarray) -> None:
        """Encode one frame (in the layout of ``input_format``)."""
        import av

        vf = av.VideoFrame.from_ndarray(np.ascontiguousarray(frame), format=self.input_format)
        vf.pts = self.frames_written
        vf.time_base = 1 / self.rate
        self._container.mux(self._stream.encode(vf))
        self.frames_written += 1

    def close(self) -> None:
        """Flush the encoder and close the file (safe to call twice)."""
        if self._container is None:
            return
        try:
            self._container.mux(self._stream.encode(None))
        finally:
            self._container.close()
            self._container = None

    def abort(self) -> None:
        """Close the file without flushing the encoder (after an error; the file is partial)."""
        if self._container is not None:
            with contextlib.suppress(Exception):  # the first error is the one to report
                self._container.close()
            self._container = None

    def __enter__(self) -> VideoWriter:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if exc_type is None:
            self.close()
        else:
            self.abort()
