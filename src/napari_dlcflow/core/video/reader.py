"""Lazy, frame-exact access to videos, TIFF stacks and image folders.

Frame ``i`` of a :class:`VideoReader` is exactly frame ``i`` of a full sequential decode of the
file, for any ``i`` in any order. Container timestamps are not trusted for that: AVI files with
B-frames deliver timestamps in decode order (see ``VIDEO-FACTS.md``). Instead, opening a video
runs one demux-only pass (no decoding) that records every packet in decode order, which packets
are keyframes and, where the container has trustworthy presentation timestamps (MP4, MOV, MKV,
WebM), the presentation rank of every packet. Reading frame ``i`` seeks to the keyframe before
it, checks by byte position that the demuxer landed there, and counts decoded frames forward.
Stepping forward continues the running decoder instead of seeking, a small LRU cache holds
recent frames, and an optional background thread decodes a few frames ahead while the user
plays or steps through the video.

All objects here are array-like (``shape``, ``dtype``, ``ndim``, ``__getitem__``), so napari
shows them as an Image layer with a time axis without loading the file.
"""

from __future__ import annotations

import bisect
import os
import re
import threading
import warnings
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from napari_dlcflow.core.untrusted import mp4_box_problem, shorten
from napari_dlcflow.core.video.frames import (
    _LRU,
    TIFF_SUFFIXES,
    FrameSource,
    VideoError,
    VideoMeta,
)

__all__ = [
    "IMAGE_SUFFIXES",
    "PLAYBACK_PREFETCH",
    "TIFF_SUFFIXES",
    "VIDEO_SUFFIXES",
    "FrameSource",
    "ImageFolderReader",
    "TiffStackReader",
    "VariableFrameRateWarning",
    "VideoError",
    "VideoMeta",
    "VideoReader",
    "count_frames",
    "image_files",
    "open_frames",
]

VIDEO_SUFFIXES = (
    ".mp4",
    ".avi",
    ".mov",
    ".mkv",
    ".m4v",
    ".webm",
    ".mpg",
    ".mpeg",
    ".wmv",
    ".mj2",
    ".h264",
)
IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".bmp", ".tif", ".tiff")
"""Suffixes of the image files the package reads (image folders, labeled-data, imports)."""


def _is_idr(data: bytes, codec: str) -> bool:
    """True if a keyframe packet holds an IDR picture (H.264 NAL 5; HEVC NAL 19/20), which
    starts a closed GOP. Reads Annex B start codes, else 4-byte length prefixes."""
    types: list[int] = []
    if b"\x00\x00\x01" in data[:64]:
        start = 0
        while True:
            k = data.find(b"\x00\x00\x01", start)
            if k < 0 or k + 3 >= len(data):
                break
            types.append(data[k + 3])
            start = k + 3
    else:
        k = 0
        while k + 4 < len(data):
            size = int.from_bytes(data[k : k + 4], "big")
            types.append(data[k + 4])
            k += 4 + size
    if codec == "h264":
        return any(b & 0x1F == 5 for b in types)
    return any((b >> 1) & 0x3F in (19, 20) for b in types)


# Codecs that may reorder frames (B-frames), so GOPs may be open.
_REORDERING_CODECS = ("h264", "hevc", "mpeg2video", "mpeg4", "vc1", "mpeg1video", "av1", "vp9")
# Containers whose presentation timestamps we trust for ordering packets.
_PTS_FORMATS = ("mov", "mp4", "matroska", "webm")


PLAYBACK_PREFETCH = 8
"""Frames a video layer decodes ahead while the user plays or steps forward (the napari reader's
``VideoReader(prefetch=...)``; ``benchmarks/bench_video.py`` measures this setting)."""


class VariableFrameRateWarning(UserWarning):
    """The video's frame durations vary; frame indices stay the truth, times are approximate."""


def _out_format(pix_fmt: str) -> tuple[str, str, int]:
    """Return (PyAV output format, numpy dtype, channels) for a decoder pixel format."""
    if pix_fmt.startswith(("gray", "y400")):
        if pix_fmt in ("gray", "gray8", "y400a"):
            return "gray", "uint8", 1
        return "gray16le", "uint16", 1
    return "rgb24", "uint8", 3


class _Cursor:
    """A demux/decode position: frames come out in presentation order with their index.

    ``own=False`` borrows the reader's open container (one seek, no re-open); ``own=True``
    opens a private one (for a pass that runs beside the interactive reader).
    """

    def __init__(self, reader: VideoReader, key_pos: int, *, own: bool = False) -> None:
        self.reader = reader
        self.own = own
        self.container = reader._open_container() if own else reader._shared_container()
        self.stream = self.container.streams.video[0]
        if own:
            self.stream.thread_type = reader._thread_type
        self.next_index = reader._key_frame_no[key_pos]
        self.frames = self._generate(key_pos)

    def _reopen(self) -> None:
        r = self.reader
        self.container.close()
        if self.own:
            self.container = r._open_container()
        else:
            r._container = None
            self.container = r._shared_container()
        self.stream = self.container.streams.video[0]
        if self.own:
            self.stream.thread_type = r._thread_type

    def _seek_packets(self, key_pos: int) -> Iterator[Any]:
        """Demux packets starting exactly at keyframe number ``key_pos``."""
        r = self.reader
        want = r._key_decode_idx[key_pos]
        target_ts = r._key_ts[key_pos]
        try:
            if target_ts is None:
                raise ValueError("no timestamp")
            self.container.seek(int(target_ts), stream=self.stream, backward=True)
        except Exception:
            yield from self._from_start_then(want)
            return
        landed = -1
        # Find where we landed by byte position; skip (without decoding) to the keyframe.
        for pkt in self.container.demux(self.stream):
            if pkt.size == 0:
                if landed >= want:
                    yield pkt  # end of stream: flushes the decoder
                continue
            if landed < 0:
                d = r._pos_to_decode_idx.get(pkt.pos) if pkt.pos is not None else None
                if d is None or d > want:
                    # Landed somewhere unknown or past the keyframe: restart from the top.
                    yield from self._from_start_then(want)
                    return
                landed = d
            else:
                landed += 1
            if landed >= want:
                yield pkt

    def _from_start_then(self, want: int) -> Iterator[Any]:
        self._reopen()
        d = -1
        for pkt in self.container.demux(self.stream):
            if pkt.size == 0:
                if d >= want:
                    yield pkt
                continue
            d += 1
            if d >= want:
                yield pkt

    def _generate(self, key_pos: int) -> Iterator[tuple[int, Any]]:
        r = self.reader
        start = r._key_frame_no[key_pos]
        count = start
        by_pts = bool(r._pts_to_index)
        for pkt in self._seek_packets(key_pos):
            for frame in self.stream.codec_context.decode(pkt):
                if by_pts:
                    idx = None if frame.pts is None else r._pts_to_index.get(int(frame.pts))
                    if idx is None or idx < start:
                        continue  # leading frames of an open GOP: not reliable after a seek
                else:
                    idx = count
                    count += 1
                yield idx, frame

    def close(self) -> None:
        self.frames.close()
        if self.own:
            self.container.close()


class VideoReader(FrameSource):
    """Frame-exact, lazy reader of a video file (PyAV).

    Parameters
    ----------
    path : path-like
        The video (mp4, avi, mov, mkv, ...).
    cache_frames : int, default 32
        How many decoded frames to keep (also bounded by ``cache_bytes``).
    cache_bytes : int, default 256 MiB
        Memory bound of the frame cache.
    prefetch : int, default 0
        Frames to decode ahead in a background thread when frames are read in forward order
        (playing, stepping). 0 disables the thread; stepping forward then still continues the
        running decoder without seeking.
    threads : bool, default True
        Let the decoder use frame/slice threads (``thread_type="AUTO"``).

    Raises
    ------
    VideoError
        If the file is missing, empty, truncated, not a video or not decodable; the message
        names the file.

    Warns
    -----
    VariableFrameRateWarning
        When frame durations vary. Frame indices are still exact.
    """

    def __init__(
        self,
        path: str | os.PathLike,
        *,
        cache_frames: int = 32,
        cache_bytes: int = 256 * 2**20,
        prefetch: int = 0,
        threads: bool = True,
    ) -> None:
        self.path = Path(path)
        self._thread_type = "AUTO" if threads else "SLICE"
        self._lock = threading.RLock()
        self._cursor: _Cursor | None = None
        self._container: Any = None
        self._reformatter: Any = None
        self._prefetch = max(0, int(prefetch))
        self._prefetch_thread: threading.Thread | None = None
        self._prefetch_until = -1
        self._prefetch_wake = threading.Condition(self._lock)
        self._closed = False
        self._last_read = -2
        self._waiting = 0
        self._build_index()
        frame_bytes = max(1, self.meta.height * self.meta.width * self.meta.channels)
        frame_bytes *= np.dtype(self.meta.dtype).itemsize
        self._cache = _LRU(max(cache_frames, self._prefetch + 2), max(cache_bytes, frame_bytes))

    # --- opening and indexing ------------------------------------------------------------
    def _open_container(self) -> Any:
        import av

        try:
            return av.open(str(self.path), metadata_errors="ignore")
        except (av.error.FFmpegError, OSError, ValueError) as exc:
            raise VideoError(f"Video {self.path} cannot be opened: {exc}") from exc

    def _shared_container(self) -> Any:
        if self._container is None:
            self._container = self._open_container()
            self._container.streams.video[0].thread_type = self._thread_type
        return self._container

    def _build_index(self) -> None:
        import av

        p = self.path
        if not p.is_file():
            raise VideoError(f"Video {p} does not exist")
        size = p.stat().st_size
        if size == 0:
            raise VideoError(f"Video {p} is empty (0 bytes)")
        container = self._open_container()
        try:
            if not container.streams.video:
                raise VideoError(f"{p} has no video stream")
            stream = container.streams.video[0]
            ctx = stream.codec_context
            if ctx is None:  # FFmpeg has no decoder for it
                raise VideoError(f"Video {p} uses a codec FFmpeg cannot decode")
            fmt_name = container.format.name or ""
            header_frames = int(stream.frames or 0)
            rate = stream.average_rate or stream.guessed_rate or stream.base_rate
            header_fps = float(rate) if rate else 0.0
            time_base = float(stream.time_base) if stream.time_base else 0.0
            dts: list[int | None] = []
            pts: list[int | None] = []
            pos: list[int] = []
            key: list[bool] = []
            all_idr = True
            last_end = 0
            try:
                for pkt in container.demux(stream):
                    if pkt.size == 0:
                        continue
                    dts.append(pkt.dts)
                    pts.append(pkt.pts)
                    pos.append(-1 if pkt.pos is None else int(pkt.pos))
                    key.append(bool(pkt.is_keyframe))
                    if pkt.is_keyframe and all_idr and ctx.name in ("h264", "hevc"):
                        all_idr = _is_idr(bytes(pkt), ctx.name)
                    if pkt.pos is not None:
                        last_end = max(last_end, int(pkt.pos) + int(pkt.size))
            except av.error.FFmpegError as exc:
                raise VideoError(
                    f"Video {p} is damaged or truncated: reading stopped after "
                    f"{len(dts)} frames ({exc})"
                ) from exc
            if not dts:
                raise VideoError(f"Video {p} contains no video frames")
            if last_end > size:
                raise VideoError(
                    f"Video {p} is truncated: its frames extend to byte {last_end} but the file "
                    f"has {size} bytes"
                )
            cut = mp4_box_problem(p) if "mp4" in fmt_name.split(",") else None
            if cut:
                raise VideoError(f"Video {p} is truncated or damaged: {cut}")
            if "mp4" in fmt_name.split(",") and header_frames > len(dts):
                # MP4's sample table lists every frame; fewer readable ones means a cut file.
                raise VideoError(
                    f"Video {p} is truncated: its index lists {header_frames} frames, only "
                    f"{len(dts)} are in the file"
                )
            if "matroska" in fmt_name.split(",") and container.duration and time_base:
                # MKV states its duration in the header; a file cut short ends well before it
                ends = [t for t in pts if t is not None]
                last_s = (max(ends) * time_base) if ends else 0.0
                said_s = container.duration / 1_000_000
                if said_s > 0 and last_s + 2.0 / max(header_fps, 1.0) < 0.95 * said_s:
                    raise VideoError(
                        f"Video {p} is truncated: its header says {said_s:.2f} s, the frames "
                        f"end at {last_s:.2f} s ({len(dts)} frames readable)"
                    )
            if fmt_name == "avi":
                # The RIFF header states the length of the file's first chunk; a file cut short
                # (copy interrupted, recording crashed) is shorter than that.
                with open(p, "rb") as fh:
                    head = fh.read(12)
                if head[:4] == b"RIFF" and head[8:12] == b"AVI ":
                    riff_end = int.from_bytes(head[4:8], "little") + 8
                    if riff_end > size:
                        raise VideoError(
                            f"Video {p} is truncated: its header says {riff_end} bytes, the "
                            f"file has {size} ({len(dts)} frames readable)"
                        )
            if not key[0]:
                # Some streams start without a flagged keyframe; decoding must start there.
                key[0] = True
            codec = ctx.name
            has_b = bool(getattr(ctx, "has_b_frames", True))
            pix_fmt = ctx.pix_fmt or (ctx.format.name if ctx.format else "yuv420p")
        finally:
            container.close()

        n = len(dts)
        use_pts = any(f in fmt_name.split(",") for f in _PTS_FORMATS) and all(
            v is not None for v in pts
        )
        if use_pts and len(set(pts)) != n:
            use_pts = False
        self.exact_by = "pts" if use_pts else "count"
        decode_key = [i for i in range(n) if key[i]]
        if use_pts:
            order = sorted(range(n), key=lambda i: pts[i])  # type: ignore[arg-type,return-value]
            rank = [0] * n
            for r, i in enumerate(order):
                rank[i] = r
            self._pts_to_index = {int(pts[i]): rank[i] for i in range(n)}  # type: ignore[arg-type]
            key_frame_no = [rank[i] for i in decode_key]
        else:
            self._pts_to_index = {}
            key_frame_no = list(decode_key)  # closed GOP: decode count == presentation index
        # Keyframes in presentation order (their frame numbers rise with decode order for
        # well-formed files; sort to be safe).
        kk = sorted(range(len(decode_key)), key=lambda j: key_frame_no[j])
        self._key_decode_idx = [decode_key[j] for j in kk]
        self._key_frame_no = [key_frame_no[j] for j in kk]
        self._key_pts = [pts[decode_key[j]] for j in kk]
        self._key_ts = [(pts[decode_key[j]] if use_pts else dts[decode_key[j]]) for j in kk]
        if not use_pts:
            # Seeking in count mode goes by decode timestamp; without one we decode from 0.
            self._key_ts = [t if t is not None else None for t in self._key_ts]
        self._pos_to_decode_idx = {pos[i]: i for i in range(n) if key[i] and pos[i] >= 0}
        # Counting from a keyframe is exact only for closed GOPs. H.264/HEVC keyframes that are
        # all IDR pictures prove it; otherwise learn the order by one full decode.
        closed = (codec in ("h264", "hevc") and all_idr) or (
            codec not in _REORDERING_CODECS and not has_b
        )
        if not use_pts and len(decode_key) > 1 and not closed:
            if all(v is not None for v in pts) and len(set(pts)) == n:
                n = self._index_by_decoding(pts, dts, decode_key)
            else:
                warnings.warn(
                    f"Video {p}: keyframes may start open GOPs and the container has no "
                    "timestamps to check; frame access assumes closed GOPs",
                    stacklevel=3,
                )

        vfr = False
        fps = header_fps
        if use_pts and n > 2 and time_base:
            spts = np.sort(np.asarray(pts, dtype=np.int64))
            d = np.diff(spts).astype(float)
            med = float(np.median(d))
            if med > 0:
                fps = 1.0 / (med * time_base)
                vfr = bool(np.any(np.abs(d - med) > 0.25 * med))
        elif header_frames and header_fps and header_frames != n:
            fps = header_fps * n / header_frames  # AVI with B-frames doubles both
        out_fmt, dtype, channels = _out_format(pix_fmt)
        self._out_fmt = out_fmt
        # Decode the first frame: proves the file is usable and gives the true size.
        self.meta = VideoMeta(
            path=p,
            n_frames=n,
            height=int(ctx.height) if ctx.height else 0,
            width=int(ctx.width) if ctx.width else 0,
            fps=round(fps, 6),
            codec=codec,
            dtype=dtype,
            channels=channels,
            vfr=vfr,
            n_frames_header=header_frames,
            exact_by=self.exact_by,
        )
        self._cache = _LRU(2, 1 << 30)
        first = self._decode_to(0)
        h, w = first.shape[:2]
        if (h, w) != (self.meta.height, self.meta.width):
            self.meta = VideoMeta(**{**self.meta.__dict__, "height": h, "width": w})
        if vfr:
            warnings.warn(
                f"Video {p} has a variable frame rate; frame numbers are exact, times are "
                "approximate",
                VariableFrameRateWarning,
                stacklevel=3,
            )

    def _scan_output_order(self, stop_after: int | None) -> list[int]:
        """Decode from the start; return the packet timestamps of frames in output order.

        Stops once ``stop_after`` frames came out (None: the whole file).
        """
        import av

        out: list[int] = []
        with av.open(str(self.path), metadata_errors="ignore") as c:
            st = c.streams.video[0]
            st.thread_type = self._thread_type
            try:
                for frame in c.decode(st):
                    out.append(-1 if frame.pts is None else int(frame.pts))
                    if stop_after is not None and len(out) >= stop_after:
                        break
            except av.error.FFmpegError as exc:
                raise VideoError(f"Video {self.path}: decoding failed ({exc})") from exc
        return out

    def _index_by_decoding(self, pts: list[Any], dts: list[Any], decode_key: list[int]) -> int:
        """Learn the exact frame order by one full decode (containers without presentation
        timestamps whose keyframes may start open GOPs). Returns the number of frames."""
        warnings.warn(
            f"Video {self.path} may have open GOPs and its container has no presentation "
            "timestamps; indexing it by one full decode",
            stacklevel=4,
        )
        order = self._scan_output_order(None)
        self._pts_to_index = {t: j for j, t in enumerate(order) if t >= 0}
        if len(self._pts_to_index) != len(order):
            raise VideoError(f"Video {self.path}: frames cannot be told apart for exact access")
        frame_no = [self._pts_to_index.get(int(pts[i]), -1) for i in decode_key]
        kk = sorted(
            (j for j in range(len(decode_key)) if frame_no[j] >= 0), key=lambda j: frame_no[j]
        )
        self._key_decode_idx = [decode_key[j] for j in kk]
        self._key_frame_no = [frame_no[j] for j in kk]
        self._key_pts = [pts[decode_key[j]] for j in kk]
        self._key_ts = [dts[decode_key[j]] for j in kk]
        self.exact_by = "decoded"
        return len(order)

    # --- decoding --------------------------------------------------------------------------
    @property
    def fps(self) -> float:
        """Frame rate."""
        return self.meta.fps

    @property
    def keyframes(self) -> list[int]:
        """Frame numbers of the keyframes, in order."""
        return list(self._key_frame_no)

    def _to_array(self, frame: Any) -> np.ndarray:
        if self._reformatter is None:
            from av.video.reformatter import VideoReformatter

            self._reformatter = VideoReformatter()
        arr = self._reformatter.reformat(frame, format=self._out_fmt).to_ndarray()
        arr.setflags(write=False)
        return arr

    def _key_for(self, index: int) -> int:
        return bisect.bisect_right(self._key_frame_no, index) - 1

    def _decode_to(self, index: int) -> np.ndarray:
        """Decode frame ``index`` with the lock held; caches it."""
        cur = self._cursor
        k = self._key_for(index)
        if cur is None or cur.next_index > index or self._key_frame_no[k] > cur.next_index:
            if cur is not None:
                cur.close()
            self._cursor = cur = _Cursor(self, k)
        retried = False
        while True:
            try:
                idx, frame = next(cur.frames)
            except StopIteration:
                idx, frame = -1, None
            except Exception as exc:
                cur.close()
                self._cursor = None
                raise VideoError(
                    f"Video {self.path}: decoding failed before frame {index} ({exc})"
                ) from exc
            if frame is None:
                cur.close()
                self._cursor = None
                if self._pts_to_index and not retried and k > 0:
                    # Frame missing after this keyframe (open GOP): start one keyframe earlier.
                    k -= 1
                    retried = True
                    self._cursor = cur = _Cursor(self, k)
                    continue
                raise VideoError(
                    f"Video {self.path}: frame {index} could not be decoded (the file holds "
                    f"{self.meta.n_frames} frames by its index; it may be truncated or damaged)"
                )
            cur.next_index = idx + 1
            if idx == index:
                arr = self._to_array(frame)
                self._cache.put(idx, arr)
                return arr
            if idx > index:
                if self._pts_to_index and not retried and k > 0:
                    cur.close()
                    k -= 1
                    retried = True
                    self._cursor = cur = _Cursor(self, k)
                    continue
                raise VideoError(f"Video {self.path}: frame {index} could not be located")

    def frame(self, index: int) -> np.ndarray:
        """Return frame ``index`` (0-based, presentation order) as a read-only array.

        Parameters
        ----------
        index : int
            Frame number, ``0 <= index < len(self)``.

        Returns
        -------
        ndarray of shape (H, W) or (H, W, 3)
            uint8 (or uint16 for high-bit-depth grayscale); do not modify (it is cached).
        """
        n = self.meta.n_frames
        if not 0 <= index < n:
            raise IndexError(f"frame {index} out of range for {n} frames of {self.path}")
        if self._closed:
            raise VideoError(f"Video {self.path} is closed")
        self._waiting += 1
        try:
            with self._lock:
                arr = self._cache.get(index)
                if arr is None:
                    arr = self._decode_to(index)
                forward = index == self._last_read + 1
                self._last_read = index
                if self._prefetch and forward:
                    self._prefetch_until = min(n - 1, index + self._prefetch)
                    self._ensure_prefetcher()
                    self._prefetch_wake.notify()
        finally:
            self._waiting -= 1
        return arr

    def iter_frames(self, start: int = 0, stop: int | None = None) -> Iterator[np.ndarray]:
        """Yield frames ``start`` .. ``stop - 1`` by continuing one decoder (no seeks)."""
        stop = len(self) if stop is None else min(stop, len(self))
        for i in range(start, stop):
            yield self.frame(i)

    def iter_av_frames(self, start: int = 0, stop: int | None = None) -> Iterator[tuple[int, Any]]:
        """Yield ``(index, av.VideoFrame)`` from ``start`` to ``stop - 1`` without converting
        pixels (for pipelines that crop in YUV or encode directly). Bypasses the cache."""
        stop = len(self) if stop is None else min(stop, len(self))
        if start >= stop:
            return
        with self._lock:
            cur = _Cursor(self, self._key_for(start), own=True)
        try:
            expected = start
            for idx, frame in cur.frames:
                if idx < start:
                    continue
                if idx != expected:
                    raise VideoError(
                        f"Video {self.path}: expected frame {expected}, decoder gave {idx}"
                    )
                yield idx, frame
                expected += 1
                if expected >= stop:
                    return
            raise VideoError(
                f"Video {self.path}: stopped after frame {expected - 1} of {stop - 1} (the file "
                "may be truncated or damaged)"
            )
        finally:
            cur.close()

    # --- decode-ahead ----------------------------------------------------------------------
    def _ensure_prefetcher(self) -> None:
        if self._prefetch_thread is None or not self._prefetch_thread.is_alive():
            t = threading.Thread(target=self._prefetch_loop, name="dlcflow-prefetch", daemon=True)
            self._prefetch_thread = t
            t.start()

    def _prefetch_loop(self) -> None:
        with self._lock:
            while not self._closed:
                nxt = self._last_read + 1
                while nxt in self._cache and nxt <= self._prefetch_until:
                    nxt += 1
                if nxt > self._prefetch_until or self._waiting:
                    self._prefetch_wake.wait(timeout=0.05 if self._waiting else 1.0)
                    continue
                try:
                    self._decode_to(nxt)
                except (VideoError, IndexError):
                    self._prefetch_until = -1

    # --- lifetime ----------------------------------------------------------------------------
    def close(self) -> None:
        """Release the file and stop decoding ahead."""
        with self._lock:
            self._closed = True
            self._prefetch_wake.notify_all()
            if self._cursor is not None:
                self._cursor.close()
                self._cursor = None
            if self._container is not None:
                self._container.close()
                self._container = None
            self._cache.clear()
        t = self._prefetch_thread
        if t is not None and t is not threading.current_thread():
            t.join(timeout=2)

    def __del__(self) -> None:
        try:
            if not self._closed:
                self.close()
        except Exception:
            pass


def count_frames(video: str | os.PathLike) -> int:
    """The exact number of frames of a video file, never the header's claim.

    The count is the one :class:`VideoReader` indexes by: every non-empty packet of the video
    stream, checked against truncation, and learnt by one full decode where the container
    cannot prove the frame order (open GOPs without timestamps). AVI files with B-frames,
    whose header states twice the real count (VIDEO-FACTS), are counted right. Costs one
    demux pass and the decode of the first frame (plus the full decode in that rare case).

    Parameters
    ----------
    video : path-like
        The video file.

    Returns
    -------
    int
        Frames a decoder returns, in order: frame ``i`` is row ``i`` of DeepLabCut's output.

    Raises
    ------
    VideoError
        If the file is missing, empty, truncated or not a decodable video (the message names
        it).
    """
    reader = VideoReader(video, cache_frames=1, cache_bytes=1)
    try:
        return int(reader.meta.n_frames)
    finally:
        reader.close()


class TiffStackReader(FrameSource):
    """A multi-page TIFF (microscope stack) read page by page or memory-mapped.

    8- and 16-bit grayscale and RGB keep their sample type; nothing is clipped to 8 bit.
    Pages are time points. A file whose OME or ImageJ metadata declares channels or z-planes,
    or a plain TIFF with more than one leading axis, is refused with the option to pass: such
    files are :class:`~napari_dlcflow.core.video.microscopy.MicroscopySource`'s, never
    channels or planes read as frames.

    Parameters
    ----------
    path : path-like
        A ``.tif`` / ``.tiff`` file.

    Raises
    ------
    VideoError
        If the file is missing, empty or not a readable TIFF, or its frames have no pixels (a
        damaged page without its size).
    """

    def __init__(self, path: str | os.PathLike) -> None:
        import tifffile

        self.path = p = Path(path)
        if not p.is_file():
            raise VideoError(f"TIFF {p} does not exist")
        if p.stat().st_size == 0:
            raise VideoError(f"TIFF {p} is empty (0 bytes)")
        try:
            self._tf = tifffile.TiffFile(str(p))
            series = self._tf.series[0]
            shape = tuple(series.shape)
            dtype = np.dtype(series.dtype)
        except Exception as exc:
            raise VideoError(f"TIFF {p} cannot be read: {shorten(exc)}") from exc
        if dtype.kind not in "ui" or dtype.itemsize > 2:
            raise VideoError(f"TIFF {p}: sample type {dtype} is not supported (8- or 16-bit only)")
        axes = series.axes
        rgb = axes.endswith("S") and shape[-1] in (3, 4)
        frame_shape = shape[-3:] if rgb else shape[-2:]
        lead = shape[: len(shape) - len(frame_shape)]
        lead_axes = axes[: len(lead)]
        declared = series.kind in ("ome", "imagej") or self._tf.is_ome or self._tf.is_imagej
        if declared and (len(lead) > 1 or lead_axes not in ("", "T", "I")):
            self._tf.close()
            raise VideoError(
                f"TIFF {p} has axes {axes} (from its "
                f"{'OME' if self._tf.is_ome else 'ImageJ'} metadata): open it with "
                "open_frames(path, channel=..., z=...) or MicroscopySource, which pick a channel "
                "and z-plane instead of reading them as time points"
            )
        if len(lead) > 1:
            self._tf.close()
            raise VideoError(
                f"TIFF {p} does not declare its axis order (shape "
                f"{'x'.join(map(str, shape))}, no OME or ImageJ metadata): pass axes= with the "
                "letters T, C, Z for each leading axis, then YX, e.g. "
                f"open_frames(path, axes={'TCZ'[: min(len(lead), 3)] + 'YX'!r})"
            )
        n = int(np.prod(lead)) if lead else 1
        if n == 0 or 0 in frame_shape[:2]:
            self._tf.close()
            raise VideoError(
                f"TIFF {p} is damaged: "
                + (
                    "it holds no frames"
                    if n == 0
                    else f"its frames are {frame_shape[1]}x{frame_shape[0]} pixels"
                )
                + " (a page lost its size tags?)"
            )
        self._rgb = rgb
        self._channels_in = shape[-1] if rgb else 1
        self._memmap: np.ndarray | None = None
        try:
            mm = tifffile.memmap(str(p), series=0, mode="r")
            self._memmap = mm.reshape((n, *frame_shape))
        except Exception:
            self._memmap = None
        self._pages = series.pages if self._memmap is None else None
        if self._pages is not None and len(self._pages) != n:
            # One page per frame is the common case; otherwise read the series per frame.
            self._pages = None
            self._series = series
        self._cache = _LRU(16, 256 * 2**20)
        self.meta = VideoMeta(
            path=p,
            n_frames=n,
            height=int(frame_shape[0]),
            width=int(frame_shape[1]),
            fps=0.0,
            codec="tiff",
            dtype=str(dtype),
            channels=3 if rgb else 1,
            n_frames_header=n,
            exact_by="tiff",
        )

    def frame(self, index: int) -> np.ndarray:
        """Return frame ``index`` as a read-only array (uint8 or uint16)."""
        n = self.meta.n_frames
        if not 0 <= index < n:
            raise IndexError(f"frame {index} out of range for {n} frames of {self.path}")
        if self._memmap is not None:
            arr = np.asarray(self._memmap[index])
        else:
            cached = self._cache.get(index)
            if cached is not None:
                return cached
            try:
                if self._pages is not None:
                    arr = self._pages[index].asarray()
                else:
                    whole = self._series.asarray(out="memmap")
                    arr = np.asarray(
                        whole.reshape((n, *whole.shape[-len(self.shape[1:]) :]))[index]
                    )
            except Exception as exc:
                raise VideoError(
                    f"TIFF {self.path}: page {index} cannot be read: {shorten(exc)}"
                ) from exc
            self._cache.put(index, arr)
        if self._rgb and arr.shape[-1] == 4:
            arr = arr[..., :3]
        if arr.flags.writeable:
            arr.setflags(write=False)
        return arr

    def close(self) -> None:
        """Close the file."""
        self._memmap = None
        self._tf.close()


def _natural_key(name: str) -> list[Any]:
    return [int(t) if t.isdigit() else t.lower() for t in re.split(r"(\d+)", name)]


def image_files(folder: str | os.PathLike) -> list[Path]:
    """The image files of a folder (:data:`IMAGE_SUFFIXES`) in natural order
    (``img2.png`` before ``img10.png``): the one order of frames of an image folder, for the
    reader, the Labeling dock and the labels alike. Empty when the folder does not exist."""
    p = Path(folder)
    if not p.is_dir():
        return []
    files = [f for f in p.iterdir() if f.suffix.lower() in IMAGE_SUFFIXES and f.is_file()]
    return sorted(files, key=lambda f: _natural_key(f.name))


class ImageFolderReader(FrameSource):
    """A folder of images (``img0000.png`` ...), one frame per file in natural order.

    All images must have the first image's size and type; a different one raises on read
    (:meth:`check_sizes` looks at every file's header at once). A damaged or truncated image
    raises :class:`VideoError` naming the file.

    Parameters
    ----------
    path : path-like
        The folder.
    files : sequence of path-like, optional
        The images to show, in this order (default: :func:`image_files` of the folder).

    Raises
    ------
    VideoError
        If the folder holds no image, or its first image cannot be decoded. A damaged or
        truncated image later in the folder raises it, naming the file, when its frame is read.
    """

    def __init__(
        self, path: str | os.PathLike, files: Sequence[str | os.PathLike] | None = None
    ) -> None:
        self.path = p = Path(path)
        if not p.is_dir():
            raise VideoError(f"Image folder {p} does not exist")
        self.files = image_files(p) if files is None else [Path(f) for f in files]
        if not self.files:
            raise VideoError(f"Folder {p} holds no images ({', '.join(IMAGE_SUFFIXES)})")
        self._cache = _LRU(32, 256 * 2**20)
        first = self._read(self.files[0])
        self.meta = VideoMeta.of_frames(
            p, len(self.files), first, "images", n_frames_header=len(self.files), exact_by="files"
        )

    @staticmethod
    def _read(f: Path) -> np.ndarray:
        try:
            if f.suffix.lower() in TIFF_SUFFIXES:
                import tifffile

                arr = tifffile.imread(str(f))
            else:
                from PIL import Image

                with Image.open(f) as im:
                    if im.mode not in ("L", "RGB", "I;16", "I;16B", "I;16L"):
                        im = im.convert("RGB")
                    arr = np.asarray(im)
        except Exception as exc:  # PIL: UnidentifiedImageError, OSError (truncated), ...
            raise VideoError(
                f"Image {f} cannot be read (damaged or truncated?): {shorten(exc)}"
            ) from exc
        if arr.ndim == 3 and arr.shape[-1] == 4:
            arr = arr[..., :3]
        if arr.dtype not in (np.uint8, np.uint16):
            raise VideoError(f"Image {f}: sample type {arr.dtype} is not supported")
        arr = np.ascontiguousarray(arr)
        arr.setflags(write=False)
        return arr

    @property
    def cached_frames(self) -> list[int]:
        """Frames decoded and held in memory now."""
        return sorted(self._cache.keys())

    def check_sizes(self) -> None:
        """Read every image's header (not its pixels) and refuse a folder of mixed sizes.

        Raises
        ------
        VideoError
            Naming the first image whose size differs from the first image's, or that cannot
            be read.
        """
        want = self.shape[1:3]
        for f in self.files[1:]:
            try:
                if f.suffix.lower() in TIFF_SUFFIXES:
                    import tifffile

                    with tifffile.TiffFile(str(f)) as tf:
                        size = tuple(tf.pages[0].shape[:2])
                else:
                    from PIL import Image

                    with Image.open(f) as im:  # the header only
                        size = (im.size[1], im.size[0])
            except Exception as exc:
                raise VideoError(
                    f"Image {f} cannot be read (damaged or truncated?): {shorten(exc)}"
                ) from exc
            if size != want:
                raise VideoError(
                    f"Image {f.name} is {size[1]}x{size[0]}, not {want[1]}x{want[0]} like "
                    f"{self.files[0].name} (images of one folder must share a size)"
                )

    def frame(self, index: int) -> np.ndarray:
        """Return frame ``index`` (the ``index``-th file) as a read-only array."""
        n = self.meta.n_frames
        if not 0 <= index < n:
            raise IndexError(f"frame {index} out of range for {n} frames of {self.path}")
        arr = self._cache.get(index)
        if arr is None:
            arr = self._read(self.files[index])
            if arr.shape != self.shape[1:] or arr.dtype != self.dtype:
                raise VideoError(
                    f"Image {self.files[index]} is {arr.shape} {arr.dtype}, unlike the first "
                    f"image of {self.path} ({self.shape[1:]} {self.dtype})"
                )
            self._cache.put(index, arr)
        return arr


_MICROSCOPY_KEYS = ("choice", "channel", "colors", "z", "scene", "axes")


def open_frames(path: str | os.PathLike, **kwargs: Any) -> FrameSource:
    """Open a video file, a TIFF stack, a microscopy file or an image folder as a lazy frame
    source.

    Parameters
    ----------
    path : path-like
        A video (by suffix: mp4, avi, mov, mkv, ...), a ``.tif``/``.tiff`` stack, an OME-TIFF,
        ImageJ hyperstack, OME-Zarr folder, ND2, CZI or LIF file, or a folder of images.
    **kwargs
        ``choice``, ``channel``, ``colors``, ``z``, ``scene``, ``axes`` go to
        :class:`~napari_dlcflow.core.video.microscopy.MicroscopySource` (for microscopy files,
        and for a plain TIFF given ``axes``); the rest to :class:`VideoReader` for videos.

    Returns
    -------
    FrameSource

    Raises
    ------
    VideoError
        If the path cannot be read as frames (the message names it).
    """
    from napari_dlcflow.core.video.microscopy import MicroscopySource, is_microscopy

    p = Path(path)
    micro = {k: kwargs.pop(k) for k in _MICROSCOPY_KEYS if kwargs.get(k) is not None}
    for k in _MICROSCOPY_KEYS:
        kwargs.pop(k, None)
    if is_microscopy(p) or (micro and p.suffix.lower() in TIFF_SUFFIXES):
        return MicroscopySource(p, **micro)
    if p.is_dir():
        return ImageFolderReader(p)
    if p.suffix.lower() in TIFF_SUFFIXES:
        return TiffStackReader(p)
    return VideoReader(p, **kwargs)


ProgressFn = Callable[[int, int], None]
