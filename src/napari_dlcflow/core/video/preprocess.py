"""Crop a region of interest and enhance contrast, for one video or many, with a sidecar that
makes every output reproducible.

Contrast methods (all computed on the cropped frames, as the user sees them in napari):

``imagej``
    ImageJ's *Process > Enhance Contrast* (``ij.plugin.ContrastEnhancer``): a histogram
    stretch that saturates ``saturated`` percent of the pixels, split between both ends. See
    :func:`imagej_limits` and :func:`imagej_lut` for the exact mapping, and docs/preprocess.md.
``equalize``
    ImageJ's *Equalize Histogram* (square root of the histogram, Richard Kirk's method), or
    the classic cumulative histogram with ``classic=True``.
``clahe``
    Contrast-limited adaptive histogram equalization (OpenCV when installed, else
    scikit-image), on the grey values or on the lightness of colour frames.
``gamma``
    ``out = max * (in / max) ** gamma``.
``none``
    Crop only.

Outputs are written under a temporary name in the output folder and renamed when complete; a
cancelled or failed video leaves nothing under its final name, and sources are never opened for
writing.
"""

from __future__ import annotations

import contextlib
import json
import os
import platform
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np

from napari_dlcflow.core.safe_io import atomic_write, atomic_writer
from napari_dlcflow.core.video.reader import FrameSource, VideoError, VideoReader
from napari_dlcflow.core.video.source import SourceRef, parse_source_key
from napari_dlcflow.core.video.writer import VideoWriter

__all__ = [
    "METHODS",
    "SIDECAR_SUFFIX",
    "BatchResult",
    "ContrastParams",
    "OutputParams",
    "PreprocessCancelled",
    "PreprocessError",
    "PreprocessSpec",
    "Roi",
    "apply_contrast",
    "crop_string",
    "fit_transform",
    "imagej_histogram",
    "imagej_limits",
    "imagej_lut",
    "output_path_for",
    "preprocess_batch",
    "preprocess_video",
    "read_sidecar",
    "record_crop",
]

METHODS = ("imagej", "equalize", "clahe", "gamma", "none")
SIDECAR_SUFFIX = ".dlcflow.json"
SIDECAR_VERSION = 1


class PreprocessError(ValueError):
    """A preprocessing step cannot be done; the message names the file and the problem."""


class PreprocessCancelled(Exception):
    """The user stopped the job; the output being written was removed."""


# --- parameters ------------------------------------------------------------------------------
@dataclass(frozen=True)
class Roi:
    """A rectangle in pixel units: left ``x``, top ``y``, ``width``, ``height``."""

    x: int
    y: int
    width: int
    height: int

    @classmethod
    def parse(cls, text: str) -> Roi:
        """Parse ``"X,Y,W,H"``."""
        try:
            x, y, w, h = (round(float(v)) for v in text.replace(" ", "").split(","))
        except ValueError as exc:
            raise PreprocessError(f"ROI {text!r}: expected X,Y,WIDTH,HEIGHT in pixels") from exc
        return cls(x, y, w, h)

    def check(self, width: int, height: int, source: str | os.PathLike) -> None:
        """Raise if the ROI is empty or not inside a ``width`` x ``height`` frame."""
        if self.width <= 0 or self.height <= 0:
            raise PreprocessError(f"{source}: ROI {self} is empty")
        if (
            self.x < 0
            or self.y < 0
            or self.x + self.width > width
            or self.y + self.height > height
        ):
            raise PreprocessError(
                f"{source}: ROI x={self.x} y={self.y} {self.width}x{self.height} is outside the "
                f"{width}x{height} frame"
            )

    def even(self) -> Roi:
        """The ROI with width and height rounded down to even numbers (yuv420p needs them)."""
        return Roi(self.x, self.y, self.width - self.width % 2, self.height - self.height % 2)


@dataclass(frozen=True)
class ContrastParams:
    """How to enhance contrast.

    Attributes
    ----------
    method : {"imagej", "equalize", "clahe", "gamma", "none"}
    saturated : float
        ImageJ stretch: percent of pixels allowed to saturate, split between both ends.
    scope : {"video", "frame"}
        ImageJ stretch and equalize: one mapping from the histogram of sampled frames of the
        whole video (ImageJ's "Use stack histogram"), or one per frame ("Process all slices").
    normalize : bool
        ImageJ stretch: ImageJ's "Normalize" mapping instead of its display-range mapping.
    sample_frames : int
        Frames sampled (keyframes of videos, evenly spaced otherwise) for ``scope="video"``.
    classic : bool
        Equalize: classic cumulative histogram instead of ImageJ's square-root weighting.
    clahe_tiles : int
        CLAHE: number of tiles along each axis.
    clahe_clip : float
        CLAHE: clip limit (OpenCV's units: multiples of the mean bin count).
    gamma : float
        Gamma exponent (< 1 brightens dark parts).
    """

    method: str = "imagej"
    saturated: float = 0.35
    scope: str = "video"
    normalize: bool = False
    sample_frames: int = 32
    classic: bool = False
    clahe_tiles: int = 8
    clahe_clip: float = 2.0
    gamma: float = 1.0

    def check(self) -> None:
        """Raise PreprocessError on an invalid value."""
        if self.method not in METHODS:
            raise PreprocessError(f"contrast method {self.method!r}: choose one of {METHODS}")
        if self.scope not in ("video", "frame"):
            raise PreprocessError(f"scope {self.scope!r}: choose 'video' or 'frame'")
        if not 0.0 <= self.saturated < 100.0:
            raise PreprocessError(f"saturated {self.saturated}: must be in [0, 100)")
        if self.gamma <= 0:
            raise PreprocessError(f"gamma {self.gamma}: must be > 0")
        if self.clahe_tiles < 1 or self.clahe_clip <= 0:
            raise PreprocessError("CLAHE needs at least 1 tile and a clip limit > 0")


@dataclass(frozen=True)
class OutputParams:
    """How to write the output.

    Attributes
    ----------
    codec : {"h264", "lossless"}
        H.264 (libx264, yuv420p, MP4), or lossless FFV1 in MKV, which keeps 16-bit grey.
    crf : int
        H.264 quality (0-51, lower is better; 18 is visually lossless for most videos).
    preset : str
        libx264 speed preset.
    suffix : str
        Added to the source's stem to name the output (``video.mp4`` -> ``video_pre.mp4``).
    """

    codec: str = "h264"
    crf: int = 18
    preset: str = "medium"
    suffix: str = "_pre"

    def check(self) -> None:
        """Raise PreprocessError on an invalid value."""
        if self.codec not in ("h264", "lossless"):
            raise PreprocessError(f"codec {self.codec!r}: choose 'h264' or 'lossless'")
        if not 0 <= self.crf <= 51:
            raise PreprocessError(f"CRF {self.crf}: must be 0-51")

    @property
    def extension(self) -> str:
        return ".mp4" if self.codec == "h264" else ".mkv"


@dataclass(frozen=True)
class PreprocessSpec:
    """Everything that defines a preprocessing transform (what the sidecar records)."""

    roi: Roi | None = None
    contrast: ContrastParams = field(default_factory=ContrastParams)
    output: OutputParams = field(default_factory=OutputParams)

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-friendly values."""
        return {
            "roi": None if self.roi is None else asdict(self.roi),
            "contrast": asdict(self.contrast),
            "output": asdict(self.output),
        }

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> PreprocessSpec:
        """Inverse of :meth:`to_dict`."""
        roi = d.get("roi")
        return cls(
            roi=None if roi is None else Roi(**roi),
            contrast=ContrastParams(**d.get("contrast", {})),
            output=OutputParams(**d.get("output", {})),
        )

    def check(self) -> None:
        self.contrast.check()
        self.output.check()


# --- ImageJ's definitions ----------------------------------------------------------------------
def imagej_histogram(frame: np.ndarray) -> np.ndarray:
    """The histogram ImageJ computes for an image.

    8-bit grey: 256 bins. 16-bit grey: 65536 bins (ImageJ's ``histogram16``). RGB: 256 bins of
    ``int(r/3 + g/3 + b/3 + 0.5)`` (``ColorProcessor.getHistogram`` with its default weights).
    """
    a = np.asarray(frame)
    if a.ndim == 3:
        v = (a[..., 0].astype(np.float64) + a[..., 1] + a[..., 2]) * (1.0 / 3.0) + 0.5
        return np.bincount(v.astype(np.int64).ravel(), minlength=256)[:256]
    if a.dtype == np.uint16:
        return np.bincount(a.ravel(), minlength=65536)
    return np.bincount(a.ravel(), minlength=256)


def imagej_limits(histogram: np.ndarray, saturated: float = 0.35) -> tuple[int, int]:
    """``ContrastEnhancer.getMinAndMax``: the bins where the stretch starts and ends.

    ``threshold = int(pixel_count * saturated / 200)``; ``hmin`` is the first bin where the
    count from the bottom exceeds it, ``hmax`` the first from the top.

    Parameters
    ----------
    histogram : ndarray of int
        256 or 65536 bins.
    saturated : float
        Percent of pixels to saturate, split between both ends.

    Returns
    -------
    (hmin, hmax) : tuple of int
    """
    h = np.asarray(histogram, dtype=np.int64)
    count = int(h.sum())
    threshold = int(count * saturated / 200.0) if saturated > 0 else 0
    up = np.cumsum(h)
    hmin = int(np.argmax(up > threshold)) if up[-1] > threshold else len(h) - 1
    down = np.cumsum(h[::-1])
    hmax = len(h) - 1 - int(np.argmax(down > threshold)) if down[-1] > threshold else 0
    return hmin, hmax


def imagej_lut(
    hmin: int, hmax: int, *, in_bits: int = 8, out_bits: int = 8, normalize: bool = False
) -> np.ndarray:
    """The lookup table ImageJ applies for a stretch from ``hmin`` to ``hmax``.

    - 8-bit (and RGB) without normalize: the display-range table of ``ByteProcessor`` /
      ``ColorProcessor.setMinAndMax``: ``int(256 * (v - min) / (max - min))`` clipped to 0-255.
    - with normalize: ``ContrastEnhancer.normalize``: 0 at or below ``min``, the top value at or
      above ``max``, ``int((v - min) / (max - min) * top)`` between.
    - 16-bit into 8 bits (an 8-bit codec): ``ShortProcessor.create8BitImage``:
      ``int((v - min) * 256 / (max - min + 1) + 0.5)`` clipped to 0-255; never wraps.
    - 16-bit into 16 bits: the normalize table with top 65535.

    If ``hmax <= hmin`` ImageJ leaves the image alone: the identity (or the plain 16-to-8-bit
    scaling) is returned.
    """
    size = 1 << in_bits
    v = np.arange(size, dtype=np.float64)
    top = (1 << out_bits) - 1
    out_dtype = np.uint8 if out_bits == 8 else np.uint16
    if hmax <= hmin:
        if in_bits == out_bits:
            return v.astype(out_dtype)
        return np.floor(v / 257.0 + 0.5).clip(0, 255).astype(out_dtype)
    lo, hi = float(hmin), float(hmax)
    if in_bits == 16 and out_bits == 8 and not normalize:
        scale = 256.0 / (hi - lo + 1)
        return np.floor(np.maximum(v - lo, 0) * scale + 0.5).clip(0, 255).astype(out_dtype)
    if normalize or in_bits == 16:
        lut = np.floor((v - lo) / (hi - lo) * top)
        lut[v <= lo] = 0
        lut[v >= hi] = top
        return lut.clip(0, top).astype(out_dtype)
    lut = np.trunc(256.0 * (v - int(lo)) / (hi - lo))
    return lut.clip(0, 255).astype(out_dtype)


def imagej_equalize_lut(histogram: np.ndarray, classic: bool = False) -> np.ndarray:
    """``ContrastEnhancer.equalize``: the table ImageJ builds from a histogram (square root of
    the counts unless ``classic``)."""
    h = np.asarray(histogram, dtype=np.float64)
    top = len(h) - 1
    w = h if classic else np.where(h < 2, h, np.sqrt(h))
    total = w[0] + 2.0 * w[1:top].sum() + w[top]
    if total <= 0:
        return np.arange(len(h), dtype=np.uint8 if top == 255 else np.uint16)
    scale = top / total
    # running sum: lut[i] = round((w0 + 2*sum(w1..w[i-1]) + w[i]) * scale)
    csum = np.concatenate([[0.0], np.cumsum(w[1:top])])  # csum[i] = sum(w1..w[i])
    i = np.arange(1, top)
    lut = np.empty(len(h))
    lut[0] = 0
    lut[1:top] = np.floor((w[0] + 2.0 * csum[i - 1] + w[i]) * scale + 0.5)
    lut[top] = top
    return lut.astype(np.uint8 if top == 255 else np.uint16)


# --- applying ----------------------------------------------------------------------------------
def _to8(a: np.ndarray) -> np.ndarray:
    if a.dtype == np.uint8:
        return a
    return np.floor(a.astype(np.float32) / 257.0 + 0.5).clip(0, 255).astype(np.uint8)


def _clahe(frame: np.ndarray, p: ContrastParams) -> np.ndarray:
    try:
        import cv2
    except ImportError:
        cv2 = None
    if cv2 is not None:
        clahe = cv2.createCLAHE(clipLimit=p.clahe_clip, tileGridSize=(p.clahe_tiles,) * 2)
        if frame.ndim == 2:
            return clahe.apply(np.ascontiguousarray(frame))
        lab = cv2.cvtColor(np.ascontiguousarray(frame), cv2.COLOR_RGB2LAB)
        lab[..., 0] = clahe.apply(lab[..., 0])
        return cv2.cvtColor(lab, cv2.COLOR_LAB2RGB)
    from skimage import exposure

    h, w = frame.shape[:2]
    kernel = (max(1, h // p.clahe_tiles), max(1, w // p.clahe_tiles))
    clip = min(1.0, p.clahe_clip / 100.0)
    out = exposure.equalize_adapthist(frame, kernel_size=kernel, clip_limit=clip)
    top = 65535 if frame.dtype == np.uint16 else 255
    return np.floor(out * top + 0.5).astype(frame.dtype)


class _Transform:
    """A fitted transform: crop + contrast for every frame of one source."""

    def __init__(self, spec: PreprocessSpec, src: FrameSource, out_bits: int) -> None:
        self.spec = spec
        self.p = spec.contrast
        self.in_bits = 16 if src.dtype == np.uint16 else 8
        self.out_bits = out_bits
        self.fixed_lut: np.ndarray | None = None
        self.limits: tuple[int, int] | None = None
        self.roi = spec.roi
        m = self.p.method
        if m == "gamma":
            top_in = (1 << self.in_bits) - 1
            top_out = (1 << out_bits) - 1
            v = np.arange(top_in + 1, dtype=np.float64) / top_in
            self.fixed_lut = np.floor(top_out * v**self.p.gamma + 0.5).astype(
                np.uint8 if out_bits == 8 else np.uint16
            )
        elif m in ("imagej", "equalize") and self.p.scope == "video":
            hist = self._sample_histogram(src)
            self.fixed_lut = self._lut_from_hist(hist)
        elif m == "none" and self.in_bits == 16 and out_bits == 8:
            hist = self._sample_histogram(src)
            nz = np.flatnonzero(hist)
            lo, hi = (int(nz[0]), int(nz[-1])) if nz.size else (0, 65535)
            self.limits = (lo, hi)
            self.fixed_lut = imagej_lut(lo, hi, in_bits=16, out_bits=8)

    def _sample_histogram(self, src: FrameSource) -> np.ndarray:
        n = len(src)
        k = max(1, self.p.sample_frames)
        if isinstance(src, VideoReader):
            keys = src.keyframes
            idx = [keys[int(j)] for j in np.linspace(0, len(keys) - 1, min(k, len(keys)))]
            if len(idx) < min(k, n):  # few keyframes: add evenly spaced frames
                extra = np.linspace(0, n - 1, min(k, n) - len(idx)).astype(int)
                idx = sorted(set(idx) | {int(i) for i in extra})
        else:
            idx = sorted({int(i) for i in np.linspace(0, n - 1, min(k, n))})
        hist = None
        for i in idx:
            h = imagej_histogram(self.crop(src.frame(i)))
            hist = h if hist is None else hist + h
        assert hist is not None
        return hist

    def _lut_from_hist(self, hist: np.ndarray) -> np.ndarray:
        if self.p.method == "equalize":
            lut = imagej_equalize_lut(hist, classic=self.p.classic)
            if self.in_bits == 16 and self.out_bits == 8:
                lut = _to8(lut)
            return lut
        hmin, hmax = imagej_limits(hist, self.p.saturated)
        self.limits = (hmin, hmax)
        return imagej_lut(
            hmin, hmax, in_bits=self.in_bits, out_bits=self.out_bits, normalize=self.p.normalize
        )

    def crop(self, frame: np.ndarray) -> np.ndarray:
        r = self.roi
        if r is None:
            return frame
        return frame[r.y : r.y + r.height, r.x : r.x + r.width]

    def __call__(self, frame: np.ndarray) -> np.ndarray:
        return self.enhance(self.crop(frame))

    def enhance(self, a: np.ndarray) -> np.ndarray:
        """Contrast of an already cropped frame."""
        m = self.p.method
        if self.fixed_lut is not None:
            out = self.fixed_lut[a]
        elif m in ("imagej", "equalize"):
            out = self.fixed_lut_for(a)
        elif m == "clahe":
            out = _clahe(a, self.p)
        else:
            out = a
        if self.out_bits == 8:
            out = _to8(out)
        return np.ascontiguousarray(out)

    def fixed_lut_for(self, a: np.ndarray) -> np.ndarray:
        return self._lut_from_hist(imagej_histogram(a))[a]


def apply_contrast(
    frame: np.ndarray, params: ContrastParams, *, roi: Roi | None = None, out_bits: int = 8
) -> np.ndarray:
    """Crop and enhance one frame on its own (the live preview; per-frame statistics).

    Parameters
    ----------
    frame : ndarray of shape (H, W) or (H, W, 3)
        uint8 or uint16; not modified.
    params : ContrastParams
    roi : Roi, optional
    out_bits : {8, 16}
        8 for what an H.264 output will hold; 16 keeps 16-bit input (lossless output).

    Returns
    -------
    ndarray
        The processed (cropped) frame, uint8 (or uint16 with ``out_bits=16``).
    """
    params.check()
    frame = np.asarray(frame)
    if out_bits == 16 and frame.dtype != np.uint16:
        out_bits = 8
    p = replace(params, scope="frame")
    src = _OneFrame(frame)
    return _Transform(PreprocessSpec(roi=roi, contrast=p), src, out_bits)(frame)


class _OneFrame(FrameSource):
    def __init__(self, frame: np.ndarray) -> None:
        from napari_dlcflow.core.video.reader import VideoMeta

        self._f = frame
        self.meta = VideoMeta.of_frames(Path("<frame>"), 1, frame, "array")

    def frame(self, index: int) -> np.ndarray:
        return self._f


# --- writing -------------------------------------------------------------------------------------
def output_path_for(
    source: str | os.PathLike | SourceRef, out_dir: str | os.PathLike, spec: PreprocessSpec
) -> Path:
    """Where the output of ``source`` goes: ``<out_dir>/<stem><suffix><.mp4|.mkv>``; the stem
    of a source with a channel/z/scene choice carries it (``cells_C1_pre.mp4``)."""
    ref = parse_source_key(source)
    s = ref.path
    stem = ref.stem if s.is_file() or s.suffix else s.name
    return Path(out_dir) / f"{stem}{spec.output.suffix}{spec.output.extension}"


def _sidecar_path(output: Path) -> Path:
    return output.with_name(output.name + SIDECAR_SUFFIX)


def _versions() -> dict[str, str]:
    import av

    from napari_dlcflow.core import __version__

    out = {
        "napari-dlcflow": __version__,
        "numpy": np.__version__,
        "av": av.__version__,
        "ffmpeg": ".".join(str(v) for v in av.library_versions.get("libavcodec", ())),
        "python": platform.python_version(),
    }
    with contextlib.suppress(ImportError):
        import cv2

        out["opencv"] = cv2.__version__
    return out


def read_sidecar(path: str | os.PathLike) -> tuple[PreprocessSpec, dict[str, Any]]:
    """Read an output's sidecar (give the output or the sidecar itself).

    Returns
    -------
    (PreprocessSpec, dict)
        The transform, ready to apply to new videos, and the whole record (source, versions,
        what was measured such as ImageJ's min and max).
    """
    p = Path(path)
    if not p.name.endswith(SIDECAR_SUFFIX):
        p = _sidecar_path(p)
    try:
        record = json.loads(p.read_text(encoding="utf-8"))
        spec = PreprocessSpec.from_dict(record["spec"])
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise PreprocessError(f"{p}: not a readable preprocessing sidecar ({exc})") from exc
    return spec, record


ProgressFn = Callable[[int, int], None]
StopFn = Callable[[], bool]


def preprocess_video(
    source: str | os.PathLike | SourceRef | FrameSource,
    out_dir: str | os.PathLike,
    spec: PreprocessSpec,
    *,
    on_progress: ProgressFn | None = None,
    should_stop: StopFn | None = None,
    threads: int = 0,
    decode_threads: bool = True,
) -> Path:
    """Crop and enhance one video (or TIFF stack, or image folder) into ``out_dir``.

    Parameters
    ----------
    source : path-like or SourceRef
        The input; never modified. A microscopy file with its channel/z/scene choice is a
        :class:`~napari_dlcflow.core.video.source.SourceRef` or its ``video_sets`` key; the
        sidecar records the choice (``"choice"``) so that a rerun reads the same pixels. Open
        frames (an :class:`~napari_dlcflow.core.video.array_source.ArraySource`: a layer with
        no file) are read as they are; the output is named after the array and the sidecar's
        ``"source"`` says ``"napari layer '<name>' (no file)"``.
    out_dir : path-like
        Output folder (created if missing). The output is named by :func:`output_path_for`; a
        sidecar ``<output>.dlcflow.json`` records source, ROI, method, parameters, what was
        measured and library versions.
    spec : PreprocessSpec
        What to do. For H.264 the ROI is rounded down to even width and height (the sidecar
        records the ROI used). 16-bit input to H.264 is scaled to 8 bits by the contrast
        mapping (or by its data range for ``none``), never wrapped; lossless output keeps it.
    on_progress : callable(done, total), optional
        Called after each frame.
    should_stop : callable() -> bool, optional
        Polled before each frame; True cancels (raises :class:`PreprocessCancelled`).
    threads : int
        Encoder threads (0: the encoder's choice).
    decode_threads : bool
        Let the decoder use several threads; False decodes in one (a batch task on a worker
        with one core, where more threads only compete with the other workers).

    Returns
    -------
    Path
        The output video.

    Raises
    ------
    PreprocessError, VideoError
        On bad input or a failed write (disk full, ...), naming the file. Nothing is left
        under the output's name and no temporary file remains.
    PreprocessCancelled
        If ``should_stop`` returned True.
    """
    import av

    spec.check()
    out_folder = Path(out_dir)
    if isinstance(source, FrameSource):  # open frames: an array with no file behind it
        ref = SourceRef(Path(""), "", getattr(source, "origin", "") or str(source.meta.path))
        src_path = Path(ref.origin)
        name = str(getattr(source, "name", "") or source.meta.path.stem)
        out = out_folder / f"{name}{spec.output.suffix}{spec.output.extension}"
        src = source
    else:
        ref = parse_source_key(source)
        src_path = ref.path
        out = output_path_for(ref, out_folder, spec)
        if out.resolve() == src_path.resolve():
            raise PreprocessError(f"{src_path}: the output would overwrite the source")
        src = ref.open(threads=decode_threads)
    try:
        m = src.meta
        lossless = spec.output.codec == "lossless"
        roi = spec.roi or Roi(0, 0, m.width, m.height)
        roi.check(m.width, m.height, src_path)
        if not lossless:
            roi = roi.even()
            if roi.width < 2 or roi.height < 2:
                raise PreprocessError(f"{src_path}: ROI {roi} is too small for H.264")
        spec_used = replace(spec, roi=roi)
        out_bits = 16 if (lossless and src.dtype == np.uint16) else 8
        t0 = time.perf_counter()
        transform = _Transform(spec_used, src, out_bits)
        out_folder.mkdir(parents=True, exist_ok=True)
        if lossless:
            pix_in = "gray16le" if out_bits == 16 else ("gray" if m.channels == 1 else "rgb24")
        else:
            pix_in = "gray" if m.channels == 1 else "rgb24"
        n = len(src)
        try:
            with atomic_writer(out, backup=False) as tmp:
                with VideoWriter(
                    tmp,
                    width=roi.width,
                    height=roi.height,
                    fps=m.fps if m.fps > 0 else 30.0,
                    codec="ffv1" if lossless else "libx264",
                    crf=spec.output.crf,
                    preset=spec.output.preset,
                    input_format=pix_in,
                    threads=threads,
                ) as writer:
                    for i, cropped in enumerate(_cropped_frames(src, roi)):
                        if should_stop is not None and should_stop():
                            raise PreprocessCancelled(f"{src_path}: cancelled at frame {i} of {n}")
                        writer.write(transform.enhance(cropped))
                        if on_progress is not None:
                            on_progress(i + 1, n)
                record = {
                    "dlcflow_preprocess": SIDECAR_VERSION,
                    "source": ref.origin or str(src_path.resolve()),
                    "choice": ref.choice,
                    "source_bytes": (
                        src_path.stat().st_size if not ref.origin and src_path.is_file() else None
                    ),
                    "source_video": m.as_dict(),
                    "output": out.name,
                    "frames": n,
                    "spec": spec_used.to_dict(),
                    "measured": {
                        "imagej_min_max": None
                        if transform.limits is None
                        else list(transform.limits),
                        "out_bits": out_bits,
                        "seconds": round(time.perf_counter() - t0, 3),
                    },
                    "versions": _versions(),
                    "created": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
                }
                text = json.dumps(record, indent=2, ensure_ascii=False) + "\n"
            atomic_write(_sidecar_path(out), text, backup=False)
        except (PreprocessCancelled, PreprocessError, VideoError):
            raise
        except (av.error.FFmpegError, OSError) as exc:
            reason = getattr(exc, "strerror", None) or str(exc)
            raise PreprocessError(
                f"{src_path}: writing {out} failed: {reason}. Nothing was written."
            ) from exc
        return out
    finally:
        if src is not source:  # opened here
            src.close()


_PLANAR8 = ("yuv420p", "yuvj420p", "yuv422p", "yuvj422p", "yuv444p", "yuvj444p", "gray")


def _plane(pl: Any) -> np.ndarray:
    return np.frombuffer(pl, np.uint8).reshape(pl.height, pl.line_size)[:, : pl.width]


def _cropped_frames(src: FrameSource, roi: Roi) -> Iterator[np.ndarray]:
    """Yield the ROI of every frame in order, as the reader would give it cropped.

    For 8-bit planar YUV videos the ROI is cut from the decoded planes before colour
    conversion (converting only the ROI is what makes a small crop of a large video fast); the
    pixels are identical to cropping the converted frame (tests check it). Otherwise frames are
    converted whole and then cropped.
    """
    if isinstance(src, VideoReader) and src.meta.channels == 3:
        import av
        from av.video.reformatter import VideoReformatter

        ref = VideoReformatter()
        fast: bool | None = None
        for _, f in src.iter_av_frames():
            if fast is None:
                y_plane = f.planes[0]
                sy = y_plane.height // max(1, f.planes[-1].height) if len(f.planes) > 1 else 1
                sx = y_plane.width // max(1, f.planes[-1].width) if len(f.planes) > 1 else 1
                fast = (
                    f.format.name in _PLANAR8
                    and roi.x % sx == 0
                    and roi.y % sy == 0
                    and roi.width % sx == 0
                    and roi.height % sy == 0
                )
            if not fast:
                rgb = ref.reformat(f, format="rgb24").to_ndarray()
                yield rgb[roi.y : roi.y + roi.height, roi.x : roi.x + roi.width]
                continue
            out = av.VideoFrame(roi.width, roi.height, f.format.name)
            for k, (pl_in, pl_out) in enumerate(zip(f.planes, out.planes, strict=True)):
                fy, fx = (1, 1) if k == 0 else (sy, sx)
                part = _plane(pl_in)[
                    roi.y // fy : (roi.y + roi.height) // fy,
                    roi.x // fx : (roi.x + roi.width) // fx,
                ]
                buf = np.frombuffer(pl_out, np.uint8).reshape(pl_out.height, pl_out.line_size)
                buf[:, : part.shape[1]] = part
            out.colorspace = f.colorspace
            out.color_range = f.color_range
            yield ref.reformat(out, format="rgb24").to_ndarray()
        return
    for frame in src.iter_frames():
        yield frame[roi.y : roi.y + roi.height, roi.x : roi.x + roi.width]


@dataclass
class BatchResult:
    """What happened to one video of a batch."""

    source: Path
    output: Path | None = None
    error: str | None = None
    cancelled: bool = False

    @property
    def ok(self) -> bool:
        return self.output is not None


def preprocess_batch(
    jobs: Sequence[tuple[str | os.PathLike | FrameSource, PreprocessSpec]],
    out_dir: str | os.PathLike,
    *,
    on_progress: Callable[[int, int, int], None] | None = None,
    should_stop: StopFn | None = None,
    threads: int = 0,
) -> list[BatchResult]:
    """Preprocess several videos, each with its own spec (the same ROI or one per video).

    A video that fails is reported and the batch goes on; cancelling stops the current video
    (its partial output is removed) and marks the rest cancelled.

    Parameters
    ----------
    jobs : sequence of (path, PreprocessSpec)
    out_dir : path-like
    on_progress : callable(video_index, done, total), optional
    should_stop : callable() -> bool, optional

    Returns
    -------
    list of BatchResult
        One per job, in order.
    """
    results: list[BatchResult] = []
    stopped = False
    for k, (path, spec) in enumerate(jobs):
        res = BatchResult(path.meta.path if isinstance(path, FrameSource) else Path(path))
        results.append(res)
        if stopped or (should_stop is not None and should_stop()):
            stopped = True
            res.cancelled = True
            continue

        def progress(done: int, total: int, k: int = k) -> None:
            if on_progress is not None:
                on_progress(k, done, total)

        try:
            res.output = preprocess_video(
                path,
                out_dir,
                spec,
                on_progress=progress,
                should_stop=should_stop,
                threads=threads,
            )
        except PreprocessCancelled:
            res.cancelled = True
            stopped = True
        except (PreprocessError, VideoError, OSError) as exc:
            res.error = str(exc)
    return results


def fit_transform(
    source: FrameSource, spec: PreprocessSpec, *, out_bits: int = 8
) -> Callable[[np.ndarray], np.ndarray]:
    """Fit ``spec`` to ``source`` (the whole-video statistics, if any) and return the function
    that crops and enhances one of its frames, exactly as :func:`preprocess_video` will.

    Parameters
    ----------
    source : FrameSource
        The open video (e.g. the data of a napari layer).
    spec : PreprocessSpec
    out_bits : {8, 16}
        8 for H.264 output; 16 keeps 16-bit input.

    Returns
    -------
    callable(ndarray) -> ndarray
    """
    spec.check()
    if spec.roi is not None:
        spec.roi.check(source.meta.width, source.meta.height, source.meta.path)
    if out_bits == 16 and source.dtype != np.uint16:
        out_bits = 8
    return _Transform(spec, source, out_bits)


def record_crop(project: Any, video: str | os.PathLike, roi: Roi, width: int, height: int) -> None:
    """Record ``roi`` as the video's ``crop`` in the project's ``video_sets`` (in memory; save
    the project to write ``config.yaml``). DeepLabCut then crops by itself (``crop=True``).

    Parameters
    ----------
    project : napari_dlcflow.core.project.config.Project
    video : path-like
        The video as listed (or to be listed) in ``video_sets``.
    roi : Roi
    width, height : int
        The video's frame size.
    """
    roi.check(width, height, video)
    if str(video) not in project.videos:
        project.set_video(video, width, height)
    project.set_video_crop(video, roi.x, roi.x + roi.width, roi.y, roi.y + roi.height)


def crop_string(roi: Roi) -> str:
    """DeepLabCut's ``video_sets`` crop string ``"x1, x2, y1, y2"`` for a ROI."""
    return f"{roi.x}, {roi.x + roi.width}, {roi.y}, {roi.y + roi.height}"
