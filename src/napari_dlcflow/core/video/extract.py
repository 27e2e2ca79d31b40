"""Frame extraction for labeling: uniform over time, k-means on downsampled frames, or manual.

Frames are written as ``labeled-data/<video stem>/img<index>.png`` with the index zero-padded to
the digits of the frame count, exactly as DeepLabCut names them (``int(ceil(log10(n)))``), or
to the width the folder already uses. The video is decoded in one (uniform) or two (k-means)
sequential passes with PyAV and frame indices are counted, never sought, so every file holds
exactly the frame its name says; only downsampled frames are kept in memory. Existing images
and label files are never overwritten: frames already in the folder are not picked again.

Other sources (microscopy files with a channel/z/scene choice, TIFF stacks, image folders, an
array on the viewer) are read through their frame-exact
:class:`~napari_dlcflow.core.video.frames.FrameSource`, as 8-bit RGB
(:class:`~napari_dlcflow.core.video.source.Rgb8Frames`, the pixels analysis feeds the
network). The folder of a source with a choice carries it (``labeled-data/cells_C1``, see
:class:`~napari_dlcflow.core.video.source.SourceRef`); the frame names stay DeepLabCut's
``img<time point>.png``, and :data:`SOURCE_RECORD` in the folder says where the pixels came
from.
"""

from __future__ import annotations

import io
import json
import math
import os
import re
from collections.abc import Callable, Generator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from napari_dlcflow.core.safe_io import atomic_write
from napari_dlcflow.core.video.frames import FrameSource
from napari_dlcflow.core.video.reader import VIDEO_SUFFIXES, count_frames
from napari_dlcflow.core.video.source import Rgb8Frames, SourceRef, parse_source_key

__all__ = [
    "METHODS",
    "SOURCE_RECORD",
    "ExtractionResult",
    "count_frames",
    "existing_indices",
    "extract_frames",
    "frame_name",
    "index_digits",
    "iter_extract_frames",
    "labeled_data_folder",
    "list_sources",
    "parse_crop",
    "pick_uniform",
    "save_frame",
]

METHODS = ("uniform", "kmeans")
SOURCE_RECORD = "dlcflow-source.json"
"""The file in a labeled-data folder that records where its frames came from (``path``,
``choice``, ``pixel_size_um``, ``frame_interval_s``, and ``origin`` for an array with no file);
written by extraction from any source that is not a plain video."""
_IMG = re.compile(r"^img(\d+)\.png$")

Progress = Callable[[int, int], None]
StopCheck = Callable[[], bool]


@dataclass
class ExtractionResult:
    """What an extraction did.

    Attributes
    ----------
    folder : Path
        The ``labeled-data/<video stem>`` folder.
    picked : list of int
        Frame indices chosen (new ones only).
    written : list of Path
        Images written.
    n_frames : int
        Frames in the video (counted).
    already : list of int
        Indices that were already in the folder (left untouched, not picked again).
    cancelled : bool
        Stopped by ``should_stop`` (what was written is complete).
    missing : list of int
        Picked indices the decoder never reached (a truncated video).
    """

    folder: Path
    picked: list[int] = field(default_factory=list)
    written: list[Path] = field(default_factory=list)
    n_frames: int = 0
    already: list[int] = field(default_factory=list)
    cancelled: bool = False
    missing: list[int] = field(default_factory=list)


def index_digits(n_frames: int) -> int:
    """Zero-padding width DeepLabCut uses for a video of ``n_frames`` frames."""
    return max(1, math.ceil(math.log10(n_frames))) if n_frames > 1 else 1


def frame_name(index: int, n_frames: int, digits: int | None = None) -> str:
    """``img<index>.png`` zero-padded like DeepLabCut (or to ``digits``)."""
    return f"img{str(int(index)).zfill(digits or index_digits(n_frames))}.png"


def labeled_data_folder(
    project_root: str | os.PathLike, video: str | os.PathLike | SourceRef
) -> Path:
    """``<project>/labeled-data/<video stem>``; a source with a choice (a
    :class:`~napari_dlcflow.core.video.source.SourceRef` or its ``video_sets`` key) adds it:
    ``labeled-data/cells_C1``."""
    return Path(project_root) / "labeled-data" / parse_source_key(video).stem


def existing_indices(folder: str | os.PathLike) -> tuple[list[int], int | None]:
    """Frame indices of the ``img*.png`` files already in ``folder`` and their padding width
    (None if there are none or widths differ)."""
    f = Path(folder)
    if not f.is_dir():
        return [], None
    found = [m for p in f.iterdir() if (m := _IMG.match(p.name))]
    widths = {len(m.group(1)) for m in found}
    return sorted(int(m.group(1)) for m in found), (widths.pop() if len(widths) == 1 else None)


def parse_crop(value: str | Sequence[int] | None) -> tuple[int, int, int, int] | None:
    """``"x1, x2, y1, y2"`` (``video_sets`` crop) as integers; None for no crop."""
    if value is None:
        return None
    parts = [int(float(v)) for v in (value.split(",") if isinstance(value, str) else value)]
    if len(parts) != 4:
        raise ValueError(f"crop must be x1, x2, y1, y2, got {value!r}")
    x1, x2, y1, y2 = parts
    if x2 <= x1 or y2 <= y1 or x1 < 0 or y1 < 0:
        raise ValueError(f"empty or negative crop {value!r}")
    return x1, x2, y1, y2


def pick_uniform(candidates: Sequence[int], n: int) -> list[int]:
    """``n`` indices evenly spread over ``candidates`` (sorted, distinct)."""
    cand = list(candidates)
    if n <= 0 or not cand:
        return []
    if n >= len(cand):
        return cand
    pos = np.linspace(0, len(cand) - 1, n).round().astype(int)
    return [cand[i] for i in sorted(set(pos.tolist()))]


def _crop(img: np.ndarray, crop: tuple[int, int, int, int] | None) -> np.ndarray:
    if crop is None:
        return img
    x1, x2, y1, y2 = crop
    return img[y1:y2, x1:x2]


def _small(gray: np.ndarray, width: int) -> np.ndarray:
    f = max(1, gray.shape[1] // width)
    h, w = (gray.shape[0] // f) * f, (gray.shape[1] // f) * f
    g = gray[:h, :w].astype(np.float32)
    return g.reshape(h // f, f, w // f, f).mean(axis=(1, 3)).ravel()


def _decode(video: str | os.PathLike) -> Generator[tuple[int, object], None, None]:
    """Every frame of the video in order with its counted index (never seeks)."""
    import av

    with av.open(str(video)) as container:
        stream = container.streams.video[0]
        stream.thread_type = "AUTO"
        yield from enumerate(container.decode(stream))


def _open_source(
    video: str | os.PathLike | SourceRef | FrameSource,
) -> tuple[Rgb8Frames | None, SourceRef | None, bool]:
    """The 8-bit RGB frames of a source that is not a plain video (None for a video, which is
    decoded sequentially with PyAV), its reference, and whether we opened it."""
    if isinstance(video, FrameSource):
        ref = SourceRef(video.meta.path, video.meta.choice, getattr(video, "origin", ""))
        return Rgb8Frames(video), ref, False
    ref = parse_source_key(video)
    if not ref.choice and ref.path.suffix.lower() in VIDEO_SUFFIXES:
        return None, None, False
    return Rgb8Frames(ref.open()), ref, True


def _source_frames(
    video: str | os.PathLike | SourceRef | FrameSource,
    rgb8: Rgb8Frames | None,
    wanted: set[int],
    hi: int,
    fmt: str,
) -> Generator[tuple[int, np.ndarray | None], None, None]:
    """``(index, frame or None)`` up to ``hi``: a video's every frame in order (decoded only
    where wanted), another source's wanted frames by random access; ``fmt`` "gray" or "rgb"."""
    if rgb8 is None:
        for i, frame in _decode(video):  # type: ignore[arg-type]
            if i >= hi:
                break
            fmt_av = "gray" if fmt == "gray" else "rgb24"
            yield i, frame.to_ndarray(format=fmt_av) if i in wanted else None  # type: ignore[attr-defined]
        return
    for i in sorted(j for j in wanted if j < hi):
        rgb = rgb8.frame(i)
        if fmt == "gray":
            yield i, rgb.astype(np.float32) @ np.array([0.299, 0.587, 0.114], np.float32)
        else:
            yield i, rgb


def _write_source_record(folder: Path, ref: SourceRef, meta: object) -> None:
    """Record where the frames of ``folder`` came from (kept if it says the same)."""
    path = folder / SOURCE_RECORD
    record = ref.record(meta)  # type: ignore[arg-type]
    text = json.dumps(record, indent=1, ensure_ascii=False)
    if not path.is_file() or path.read_text(encoding="utf-8") != text:
        atomic_write(path, text, backup=False)


def _png_bytes(img: np.ndarray) -> bytes:
    from PIL import Image

    buf = io.BytesIO()
    Image.fromarray(np.ascontiguousarray(img)).save(buf, format="PNG")
    return buf.getvalue()


def save_frame(
    image: np.ndarray,
    folder: str | os.PathLike,
    index: int,
    n_frames: int,
    *,
    crop: tuple[int, int, int, int] | None = None,
) -> Path | None:
    """Write one frame (manual extraction) as ``img<index>.png``; never overwrites.

    Parameters
    ----------
    image : ndarray of shape (H, W) or (H, W, 3|4)
        The frame as shown (e.g. the current plane of the video's image layer).
    folder : path-like
        The ``labeled-data/<video stem>`` folder (made if needed).
    index, n_frames : int
        The frame's index in the video and the video's frame count (for the padding).
    crop : (x1, x2, y1, y2), optional
        Crop to apply.

    Returns
    -------
    Path or None
        The file written, or None if that frame was already in the folder.
    """
    f = Path(folder)
    f.mkdir(parents=True, exist_ok=True)
    have, width = existing_indices(f)
    path = f / frame_name(index, n_frames, width)
    if int(index) in have or path.exists():
        return None
    img = _crop(np.asarray(image), crop)
    if img.dtype != np.uint8:
        raise ValueError(f"frame {index} is {img.dtype}; only 8-bit frames are written as PNG")
    atomic_write(path, _png_bytes(img), backup=False)
    return path


def iter_extract_frames(
    video: str | os.PathLike | SourceRef | FrameSource,
    folder: str | os.PathLike,
    *,
    method: str = "uniform",
    n: int = 20,
    start: float = 0.0,
    stop: float = 1.0,
    crop: tuple[int, int, int, int] | None = None,
    seed: int = 0,
    resize_width: int = 30,
    max_samples: int = 1000,
    candidates: Sequence[int] | None = None,
) -> Generator[tuple[int, int], None, ExtractionResult]:
    """Extract frames, yielding ``(done, total)`` progress; returns the result.

    A napari worker can run it directly (``yielded`` -> progress bar, ``quit()`` cancels);
    :func:`extract_frames` wraps it with callbacks. ``candidates`` restricts the choice to
    those frame indices (outlier frames); decoding then stops after the last of them.
    ``video`` is a video path, a ``video_sets`` key or
    :class:`~napari_dlcflow.core.video.source.SourceRef` (a microscopy file and its choice), or
    an open :class:`~napari_dlcflow.core.video.frames.FrameSource` (an array on the viewer).
    """
    if method not in METHODS:
        raise ValueError(f"method must be one of {METHODS}, got {method!r}")
    if not (0.0 <= start < stop <= 1.0):
        raise ValueError(f"need 0 <= start < stop <= 1, got start={start}, stop={stop}")
    rgb8, ref, own = _open_source(video)
    try:
        return (
            yield from _extract(
                video, rgb8, ref, Path(folder), method, n, start, stop, crop, seed,
                resize_width, max_samples, candidates,
            )
        )  # fmt: skip
    finally:
        if own and rgb8 is not None:
            rgb8.close()


def _extract(
    video: str | os.PathLike | SourceRef | FrameSource,
    rgb8: Rgb8Frames | None,
    ref: SourceRef | None,
    out: Path,
    method: str,
    n: int,
    start: float,
    stop: float,
    crop: tuple[int, int, int, int] | None,
    seed: int,
    resize_width: int,
    max_samples: int,
    candidates: Sequence[int] | None,
) -> Generator[tuple[int, int], None, ExtractionResult]:
    n_frames = count_frames(video) if rgb8 is None else len(rgb8)  # type: ignore[arg-type]
    result = ExtractionResult(folder=out, n_frames=n_frames)
    if n_frames == 0:
        from napari_dlcflow.core.video.probe import VideoError

        raise VideoError(f"{video}: no frames")
    lo = math.floor(start * n_frames)
    hi = max(lo + 1, math.ceil(stop * n_frames))
    hi = min(hi, n_frames)
    have, width = existing_indices(out)
    result.already = [i for i in have if lo <= i < hi]
    taken = set(have)
    if candidates is not None:
        wanted = {int(i) for i in candidates if lo <= int(i) < hi}
        result.already = sorted(wanted & taken)
        candidates = sorted(wanted - taken)
        hi = candidates[-1] + 1 if candidates else lo
    else:
        candidates = [i for i in range(lo, hi) if i not in taken]
    total = hi if method == "uniform" else 2 * hi
    done = 0
    if method == "uniform":
        picked = pick_uniform(candidates, n)
    else:
        step = max(1, math.ceil(len(candidates) / max_samples))
        sample = set(candidates[::step])
        feats: list[np.ndarray] = []
        idx: list[int] = []
        for i, gray in _source_frames(video, rgb8, sample, hi, "gray"):
            if gray is not None:
                feats.append(_small(_crop(gray, crop), resize_width))
                idx.append(i)
            done = i + 1
            if done % 25 == 0 or rgb8 is not None:
                yield done, total
        done = hi
        yield done, total
        if len(idx) <= n:
            picked = sorted(idx)
        else:
            from sklearn.cluster import MiniBatchKMeans

            x = np.stack(feats)
            x -= x.mean(axis=0)
            km = MiniBatchKMeans(n_clusters=n, random_state=seed, n_init=3, batch_size=256)
            labels = km.fit_predict(x)
            picked = []
            for c in range(n):
                members = np.flatnonzero(labels == c)
                if len(members) == 0:
                    continue
                d = ((x[members] - km.cluster_centers_[c]) ** 2).sum(axis=1)
                picked.append(idx[int(members[np.argmin(d)])])
            picked = sorted(set(picked))
    result.picked = list(picked)
    if not picked:
        return result
    out.mkdir(parents=True, exist_ok=True)
    if ref is not None and rgb8 is not None:
        _write_source_record(out, ref, rgb8.src.meta if hasattr(rgb8.src, "meta") else None)
    want = set(picked)
    last = max(picked)
    base = done
    seen = -1
    for i, rgb in _source_frames(video, rgb8, want, last + 1, "rgb"):
        seen = i
        if rgb is not None:
            path = out / frame_name(i, n_frames, width)
            if not path.exists():
                atomic_write(path, _png_bytes(_crop(rgb, crop)), backup=False)
                result.written.append(path)
        if i % 25 == 0 or rgb8 is not None:
            yield base + i + 1, total
    result.missing = [i for i in picked if i > seen]
    yield total, total
    return result


def extract_frames(
    video: str | os.PathLike | SourceRef | FrameSource,
    folder: str | os.PathLike,
    *,
    method: str = "uniform",
    n: int = 20,
    start: float = 0.0,
    stop: float = 1.0,
    crop: tuple[int, int, int, int] | None = None,
    seed: int = 0,
    on_progress: Progress | None = None,
    should_stop: StopCheck | None = None,
    candidates: Sequence[int] | None = None,
) -> ExtractionResult:
    """Extract ``n`` new frames of ``video`` into ``folder`` (see :func:`iter_extract_frames`).

    Parameters
    ----------
    video : path-like, SourceRef or FrameSource
        The video file, a source with its channel/z/scene choice (or its ``video_sets`` key),
        or open frames (an array on the viewer).
    folder : path-like
        ``labeled-data/<video stem>`` (see :func:`labeled_data_folder`).
    method : {"uniform", "kmeans"}
        Evenly spread over time, or one frame per k-means cluster of downsampled frames.
    n : int
        How many frames (the project's ``numframes2pick``).
    start, stop : float
        Fractions of the video to pick from (``start``/``stop`` in config.yaml).
    crop : (x1, x2, y1, y2), optional
        Crop from ``video_sets`` applied to the written frames.
    seed : int
        Seed of k-means.
    on_progress : callable(done, total), optional
        Progress callback.
    should_stop : callable() -> bool, optional
        Checked often; True stops after the current frame (``cancelled`` is set).
    candidates : sequence of int, optional
        Choose only among these frame indices (e.g. outlier frames).
    """
    before = set(existing_indices(folder)[0])
    gen = iter_extract_frames(
        video,
        folder,
        method=method,
        n=n,
        start=start,
        stop=stop,
        crop=crop,
        seed=seed,
        candidates=candidates,
    )
    try:
        while True:
            done, total = next(gen)
            if on_progress is not None:
                on_progress(done, total)
            if should_stop is not None and should_stop():
                gen.close()
                _have, width = existing_indices(folder)
                new = sorted(set(_have) - before)
                return ExtractionResult(
                    folder=Path(folder),
                    picked=new,
                    written=[Path(folder) / frame_name(i, 10, width) for i in new],
                    cancelled=True,
                )
    except StopIteration as stop_:
        return stop_.value  # type: ignore[no-any-return]


def project_video_crop(
    project: object, video: str | os.PathLike | SourceRef
) -> tuple[int, int, int, int]:
    """The ``video_sets`` crop of ``video`` in ``project`` (a
    :class:`~napari_dlcflow.core.project.config.Project`); KeyError if the video is not listed."""
    sets = project.videos  # type: ignore[attr-defined]
    want = parse_source_key(video)
    same = (want.path.name, want.choice)
    key = next(
        (k for k in sets if (lambda r: (r.path.name, r.choice))(parse_source_key(k)) == same),
        None,
    )
    if key is None:
        raise KeyError(f"{video} is not in video_sets of config.yaml")
    crop = parse_crop(sets[key])
    assert crop is not None
    return crop


def list_sources(project: object, entries: Sequence[tuple[str, int, int]]) -> list[str]:
    """Add each ``(video_sets key, width, height)`` not yet listed to the project's
    ``video_sets`` (in memory; save the project to write ``config.yaml``): DeepLabCut's
    dataset creation finds a labeled-data folder only through these keys. Returns the keys
    added."""
    added = []
    for key, width, height in entries:
        if key not in project.videos:  # type: ignore[attr-defined]
            project.set_video(key, int(width), int(height))  # type: ignore[attr-defined]
            added.append(key)
    return added


def extract_for_project(
    project: object,
    videos: Sequence[str | os.PathLike] | None = None,
    *,
    method: str = "uniform",
    n: int | None = None,
    use_crop: bool = False,
    seed: int = 0,
    on_progress: Progress | None = None,
    should_stop: StopCheck | None = None,
) -> list[ExtractionResult]:
    """Extract frames of a project's videos with its ``numframes2pick``, ``start`` and ``stop``.

    Parameters
    ----------
    project : Project
        The open project.
    videos : list of path-like, optional
        Default: every video in ``video_sets``.
    method, seed, on_progress, should_stop
        As in :func:`extract_frames`.
    n : int, optional
        Default: ``numframes2pick``.
    use_crop : bool, default False
        Apply each video's ``video_sets`` crop (as DeepLabCut's ``crop=True``).
    """
    p = project
    vids = [Path(v) for v in (videos or list(p.videos))]  # type: ignore[attr-defined]
    count = int(n if n is not None else (p.get("numframes2pick") or 20))  # type: ignore[attr-defined]
    start = float(p.get("start") or 0.0)  # type: ignore[attr-defined]
    stop = float(p.get("stop") if p.get("stop") is not None else 1.0)  # type: ignore[attr-defined]
    out = []
    for v in vids:
        crop = project_video_crop(p, v) if use_crop else None
        folder = labeled_data_folder(p.root, v)  # type: ignore[attr-defined]
        out.append(
            extract_frames(
                v,
                folder,
                method=method,
                n=count,
                start=start,
                stop=stop,
                crop=crop,
                seed=seed,
                on_progress=on_progress,
                should_stop=should_stop,
            )
        )
    return out
