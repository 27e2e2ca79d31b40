"""Labeled video: the video with predicted points, skeleton and trails drawn on, streamed.

Frames are decoded with PyAV one at a time (in presentation order; row ``i`` of the analysis
file is decoded frame ``i``, as in DeepLabCut), drawn on with scikit-image and encoded again,
so memory stays flat for any video length. In multi-animal files each animal's name is written
above it in its colour (with Pillow, which scikit-image brings; without it the names are left
out and the colours alone tell the animals apart). The output goes to a temporary file in the
target folder and is renamed only when complete; a cancelled or failed export leaves nothing
behind. The default name follows DeepLabCut: ``<analysis stem>_p<pcutoff x 100>_labeled.mp4``.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Callable, Iterator, Sequence
from fractions import Fraction
from pathlib import Path
from typing import Any

import numpy as np

from napari_dlcflow.core.layers.colors import keypoint_colors, to_rgb8
from napari_dlcflow.core.layers.data import individual_centres
from napari_dlcflow.core.layers.skeleton import skeleton_edges
from napari_dlcflow.core.predictions.analysis_files import (
    Predictions,
    crop_offset,
    read_predictions,
)
from napari_dlcflow.core.safe_io import atomic_writer
from napari_dlcflow.core.video.writer import VideoWriter

__all__ = [
    "CODECS",
    "default_output",
    "draw_frame",
    "draw_names",
    "render_labeled_video",
    "video_colors",
]

CODECS = ("libx264", "mpeg4", "mjpeg")


def default_output(analysis: str | os.PathLike, pcutoff: float) -> Path:
    """DeepLabCut's name for the labeled video of an analysis file."""
    a = Path(analysis)
    return a.with_name(f"{a.stem}_p{round(pcutoff * 100)}_labeled.mp4")


def video_colors(
    pred: Predictions, *, color_by: str = "auto", colormap: str | None = None
) -> np.ndarray:
    """``uint8`` RGB of each keypoint column, by the colour rule of every layer.

    ``colormap=None`` takes the colormap of the project the analysis file belongs to
    (``rainbow`` without one), so the video matches the overlay in napari.
    """
    if colormap is None:
        from napari_dlcflow.core.layers.style import display_settings

        colormap = display_settings(pred.path).colormap if pred.path else "rainbow"
    rgba = keypoint_colors(
        pred.individuals,
        pred.bodyparts,
        color_by=color_by,
        multi_animal=pred.multi_animal,
        colormap=colormap,
    )
    return to_rgb8(rgba)


def _line(
    img: np.ndarray, p0: np.ndarray, p1: np.ndarray, color: np.ndarray, alpha: float
) -> None:
    from skimage.draw import line_aa

    h, w = img.shape[:2]
    r0, c0, r1, c1 = np.rint([p0[1], p0[0], p1[1], p1[0]]).astype(int)
    rr, cc, val = line_aa(r0, c0, r1, c1)
    ok = (rr >= 0) & (rr < h) & (cc >= 0) & (cc < w)
    rr, cc, val = rr[ok], cc[ok], (val[ok] * alpha)[:, None]
    img[rr, cc] = (img[rr, cc] * (1 - val) + color * val).astype(np.uint8)


def draw_names(
    img: np.ndarray,
    names: Sequence[tuple[str, float, float, np.ndarray]],
    *,
    size: int = 12,
) -> bool:
    """Write names centred above points, in place.

    Parameters
    ----------
    img : ndarray of uint8 of shape (H, W, 3)
        The frame (changed in place).
    names : sequence of (str, float, float, ndarray)
        ``(text, x, y, uint8 RGB)``: the text is centred ``size`` pixels above ``(x, y)``.
    size : int
        Font size in pixels.

    Returns
    -------
    bool
        Whether text could be drawn (False without Pillow).
    """
    try:
        from PIL import Image, ImageDraw, ImageFont
    except ImportError:
        return False
    if not names:
        return True
    pil = Image.fromarray(img)
    draw = ImageDraw.Draw(pil)
    try:
        font: Any = ImageFont.load_default(size=size)
    except (TypeError, OSError):  # Pillow < 10.1, or without FreeType: the bitmap font
        font = ImageFont.load_default()
    for text, x, y, color in names:
        fill = tuple(int(c) for c in np.asarray(color)[:3])
        draw.text(
            (x, y - size),
            text,
            fill=fill,
            font=font,
            anchor="ms",
            stroke_width=1,
            stroke_fill=(0, 0, 0),
        )
    img[...] = np.asarray(pil)
    return True


def draw_frame(
    img: np.ndarray,
    row: np.ndarray,
    colors: np.ndarray,
    *,
    pcutoff: float,
    edges: Sequence[tuple[int, int]] = (),
    trail: np.ndarray | None = None,
    radius: float = 4.0,
    names: Sequence[tuple[str, float, float, np.ndarray]] = (),
) -> np.ndarray:
    """Draw one frame's keypoints (and skeleton and trails) onto a copy of ``img``.

    Parameters
    ----------
    img : ndarray of uint8 of shape (H, W, 3)
        The frame.
    row : ndarray of shape (N, 3)
        ``x, y, likelihood`` per keypoint column in this frame.
    colors : ndarray of uint8 of shape (N, 3)
        Colour per column.
    pcutoff : float
        Keypoints below it are not drawn; edges and trail segments need both ends at or above.
    edges : sequence of (int, int)
        Skeleton edges as column pairs.
    trail : ndarray of shape (L, N, 3), optional
        The previous L frames' rows, oldest first; drawn as fading lines.
    radius : float
        Dot radius in pixels.
    names : sequence of (str, float, float, ndarray)
        Animals' names to write, ``(text, x, y, RGB)`` (:func:`draw_names`).
    """
    from skimage.draw import disk

    out = img.copy()
    with np.errstate(invalid="ignore"):
        ok = ~np.isnan(row[:, :2]).any(axis=1) & (row[:, 2] >= pcutoff)
    if trail is not None and len(trail) > 1:
        with np.errstate(invalid="ignore"):
            tok = ~np.isnan(trail[..., :2]).any(axis=2) & (trail[..., 2] >= pcutoff)
        n = len(trail)
        for k in range(1, n):
            alpha = 0.25 + 0.75 * k / (n - 1)
            both = tok[k - 1] & tok[k]
            for c in np.flatnonzero(both):
                _line(out, trail[k - 1, c], trail[k, c], colors[c], alpha)
    for a, b in edges:
        if ok[a] and ok[b]:
            _line(out, row[a], row[b], np.array([255, 255, 255], np.uint8), 0.9)
    for c in np.flatnonzero(ok):
        rr, cc = disk((row[c, 1], row[c, 0]), radius, shape=out.shape[:2])
        out[rr, cc] = colors[c]
    if names:
        draw_names(out, names, size=max(12, round(3 * radius)))
    return out


def render_labeled_video(
    video: str | os.PathLike,
    analysis: str | os.PathLike | Predictions,
    out: str | os.PathLike | None = None,
    *,
    pcutoff: float = 0.6,
    skeleton: Sequence[tuple[str, str]] = (),
    trail_length: int = 0,
    radius: float | None = None,
    codec: str = "libx264",
    crf: int = 23,
    color_by: str = "auto",
    colormap: str | None = None,
    names: bool = True,
    on_progress: Callable[[int, int], None] | None = None,
    should_stop: Callable[[], bool] | None = None,
) -> Path | None:
    """Write the video with the predictions drawn on it.

    Parameters
    ----------
    video : path-like
        The analysed video.
    analysis : path-like or Predictions
        Its analysis file (raw or ``_filtered``), or predictions already read.
    out : path-like, optional
        Output file; default :func:`default_output` beside the analysis file.
    pcutoff : float
        Keypoints below this likelihood are not drawn.
    skeleton : sequence of (str, str)
        Edges to draw.
    trail_length : int
        Frames of trail behind each keypoint (0: none).
    radius : float, optional
        Dot radius; default 1/120 of the smaller frame side (at least 2 px).
    codec : {"libx264", "mpeg4", "mjpeg"}
        Encoder. ``crf`` is the x264 constant rate factor (0 lossless .. 51 worst), or the
        quantiser scale (2 best .. 31) for ``mpeg4`` and ``mjpeg``.
    color_by : {"auto", "bodypart", "individual"}
        Colour groups, as in the overlay.
    colormap : str, optional
        Colormap of the colour rule; default the project's (see :func:`video_colors`).
    names : bool
        In multi-animal files, write each animal's name above the mean of its keypoints at or
        above ``pcutoff``, in its colour.
    on_progress : callable, optional
        ``on_progress(done, total)`` after each frame (and once at the start).
    should_stop : callable, optional
        Polled each frame; True cancels, removes the partial file and returns None.

    Returns
    -------
    Path or None
        The written video, or None if cancelled.
    """
    import av

    from napari_dlcflow.core.video.probe import VideoError

    if codec not in CODECS:
        raise ValueError(f"unknown codec {codec!r}; choose one of {', '.join(CODECS)}")
    pred = analysis if isinstance(analysis, Predictions) else read_predictions(analysis)
    x1, y1 = crop_offset(pred)
    if x1 or y1:  # analysed on a crop: draw on the full frame
        shifted = pred.data.copy()
        shifted[..., 0] += x1
        shifted[..., 1] += y1
        source_path = pred.path
        pred = pred.with_data(shifted)
        pred.path = source_path
    src = Path(video)
    if out is None:
        if pred.path is None:
            raise ValueError("give an output path for predictions that were not read from a file")
        out = default_output(pred.path, pcutoff)
    final = Path(out)
    if not final.parent.is_dir():
        raise FileNotFoundError(f"output folder {final.parent} does not exist")
    colors = video_colors(pred, color_by=color_by, colormap=colormap)
    edges = skeleton_edges(pred.individuals, pred.bodyparts, skeleton)
    centres, animals = (
        individual_centres(pred, pcutoff=pcutoff) if names and pred.multi_animal else (None, [])
    )
    animal_colors = [colors[pred.individuals.index(a)] for a in animals]
    rows = {int(f): i for i, f in enumerate(pred.frames)}
    total = pred.n_frames
    done = 0
    try:
        with atomic_writer(final, backup=False) as tmp, _rgb_frames(src) as (w, h, fps, frames):
            r = radius if radius is not None else max(2.0, min(w, h) / 120)
            width, height = w + w % 2, h + h % 2
            rate = Fraction(fps).limit_denominator(1001) if fps > 0 else Fraction(30)
            with VideoWriter(
                tmp, width=width, height=height, fps=rate, codec=codec, crf=crf
            ) as outv:
                if on_progress:
                    on_progress(0, total)
                for i, img in enumerate(frames):
                    if should_stop and should_stop():
                        raise _Cancelled
                    if img.shape[:2] != (height, width):
                        padded = np.zeros((height, width, 3), np.uint8)
                        padded[: img.shape[0], : img.shape[1]] = img
                        img = padded
                    row_i = rows.get(i)
                    if row_i is not None:
                        trail = None
                        if trail_length > 0:
                            trail = pred.data[max(0, row_i - trail_length) : row_i + 1]
                        shown = []
                        if centres is not None:
                            shown = [
                                (a, *centres[row_i, j], animal_colors[j])
                                for j, a in enumerate(animals)
                                if not np.isnan(centres[row_i, j]).any()
                            ]
                        img = draw_frame(
                            img,
                            pred.data[row_i],
                            colors,
                            pcutoff=pcutoff,
                            edges=edges,
                            trail=trail,
                            radius=r,
                            names=shown,
                        )
                    outv.write(img)
                    done = i + 1
                    if on_progress:
                        on_progress(min(done, total), total)
            if done == 0:
                raise VideoError(f"Video {src}: no frame could be decoded")
    except _Cancelled:
        return None
    except av.error.FFmpegError as exc:
        raise VideoError(f"Video {src}: failed after {done} frames: {exc}") from exc
    return final


class _Cancelled(Exception):
    pass


@contextlib.contextmanager
def _rgb_frames(
    video: Path,
) -> Iterator[tuple[int, int, float, Iterator[np.ndarray]]]:
    """``(width, height, fps, frames)`` of ``video`` as 8-bit RGB: a video decoded by PyAV in
    order, any other source (a microscopy file's chosen channel, a TIFF stack, an image folder:
    ``core/video/source.py``) read as the network saw it (:class:`Rgb8Frames`), its frame
    interval as the rate."""
    import av

    from napari_dlcflow.core.video.probe import probe_video
    from napari_dlcflow.core.video.reader import VIDEO_SUFFIXES
    from napari_dlcflow.core.video.source import Rgb8Frames, parse_source_key

    ref = parse_source_key(video)
    if not ref.choice and ref.path.suffix.lower() in VIDEO_SUFFIXES:
        info = probe_video(ref.path)
        with av.open(str(ref.path)) as inp:
            stream = inp.streams.video[0]
            stream.thread_type = "AUTO"
            decoded = (f.to_ndarray(format="rgb24") for f in inp.decode(stream))
            yield info.width, info.height, info.fps, decoded
        return
    with ref.open() as src:
        rgb = Rgb8Frames(src)
        dt = src.meta.frame_interval_s
        fps = 1.0 / dt if dt else float(src.meta.fps or 0.0)
        yield rgb.meta.width, rgb.meta.height, fps, (rgb.frame(i) for i in range(len(rgb)))
