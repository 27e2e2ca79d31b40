"""Our video-analysis engine: DeepLabCut's own model and post-processing in a faster loop.

The model, its weights, its preprocessing and its post-processing are DeepLabCut's: the snapshot
and its ``pytorch_config.yaml`` are loaded through DLC's API
(``get_pose_inference_runner``), so any DLC 3 single-animal bottom-up model works, and the
output files are written by DLC's own functions (same names, key, columns and pickles). What is
ours is the loop around them (``../shared/ANALYSIS-FACTS.md`` measured where DLC's time goes):

- frames come from our frame-exact PyAV reader (:class:`~napari_dlcflow.core.video.reader.
  VideoReader`) in a background thread that decodes into a few batch buffers allocated once
  and reused (a bounded queue), so decoding runs while the model computes;
- the model runs in ``channels_last`` with batch norm folded into the convolutions;
- on a CPU in fp32, the 3x3 convolutions of 256 channels and more (a ResNet's last two
  stages, more than half the multiply-adds) run as Winograd F(4x4, 3x3)
  (:mod:`~napari_dlcflow.core.engine.winograd`): fewer multiplications, the same sums in
  another order;
- normalisation happens on the batch in place (on the device when there is a GPU: uint8 is
  uploaded, 4x fewer bytes than DLC's float32), and results come back once per batch;
- the child runs with :data:`~napari_dlcflow.core.engine.analysis.HEAP_ENV` (set by
  :func:`~napari_dlcflow.core.engine.analysis.analyze`): large activation buffers then come
  from a heap that is kept, instead of fresh mappings that page-fault on every batch;
- the output has one row per frame the decoder delivered, whatever the header claims;
- a source that is not a plain video (a microscopy file with its channel/z/scene choice, a TIFF
  stack; :class:`~napari_dlcflow.core.video.source.SourceRef`) is read through its frame
  source as 8-bit RGB (:class:`~napari_dlcflow.core.video.source.Rgb8Frames`, the pixels frame
  extraction wrote for labeling); its outputs are named with the choice
  (``cells_C1DLC_...h5``, beside the file) and its ``_meta.pickle`` data dict gets
  ``"dlcflow_source"``: ``{"path", "choice", "pixel_size_um", "frame_interval_s"}``.

fp32 (the default) gives DLC's predictions (the tests hold it to 0.01 px and 1e-4 likelihood).
The opt-in fast mode (bf16 autocast on a CPU, fp16 on a GPU) is not the same predictions;
:func:`fast_mode_report` measures how far it moves them on the project's labeled frames.

Everything here runs in the analysis child process (``_engine analyze``); torch and deeplabcut are
imported inside functions only.
"""

from __future__ import annotations

import copy
import os
import pickle
import queue
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

__all__ = [
    "EngineModel",
    "FastReport",
    "UnsupportedModelError",
    "analyze_video",
    "crop_box",
    "fast_mode_report",
    "load_model",
]

_SLOTS = 3  # batch buffers: one being decoded into, one waiting, one in the model


class UnsupportedModelError(RuntimeError):
    """The model is of a kind our engine does not run (DeepLabCut's loop is used instead)."""


@dataclass
class EngineModel:
    """A loaded model, ready to analyse videos (child process only).

    Attributes
    ----------
    config : str
        The project's ``config.yaml``.
    runner : deeplabcut PoseInferenceRunner
        DLC's runner: its model (optimised in place), preprocessor and postprocessor.
    loader : deeplabcut DLCLoader
        The project and model configuration.
    scorer : str
        DLC's scorer name (the output files' names).
    snapshot : str
        The snapshot file.
    batch_size : int
        Frames per batch.
    device : str
        The torch device.
    fast : bool
        Half-precision autocast (bf16 on a CPU, fp16 on a GPU).
    folded : bool
        Whether batch norm was folded into the convolutions.
    default_cropping : list of int or None
        The project's crop box when its config asks for cropping (DLC uses it when no
        ``cropping`` is given).
    fast_unavailable : str
        Why the fast mode asked for is off (a CPU without native bf16, where bf16 is several
        times slower than fp32); empty otherwise.
    winograd : list of str
        The convolutions computed by Winograd's algorithm (empty: all direct).
    """

    config: str
    runner: Any
    loader: Any
    scorer: str
    snapshot: str
    batch_size: int
    device: str
    fast: bool = False
    folded: bool = False
    default_cropping: list[int] | None = None
    fast_unavailable: str = ""
    winograd: list[str] = field(default_factory=list)

    @property
    def net(self) -> Any:
        return self.runner.model

    @property
    def precision(self) -> str:
        """``"fp32"``, or the fast mode's ``"bf16"`` (CPU) / ``"fp16"`` (GPU)."""
        if not self.fast:
            return "fp32"
        return "fp16" if self.device.startswith("cuda") else "bf16"

    def autocast(self) -> Any:
        """The precision context of a forward pass (a no-op in fp32)."""
        import contextlib

        import torch

        if not self.fast:
            return contextlib.nullcontext()
        kind = torch.device(self.device).type
        dtype = torch.float16 if kind == "cuda" else torch.bfloat16
        return torch.autocast(device_type=kind, dtype=dtype)


def load_model(
    config: str | os.PathLike,
    *,
    shuffle: int = 1,
    trainset_index: int = 0,
    snapshot_index: int | str | None = None,
    device: str | None = None,
    batch_size: int | None = None,
    fast: bool = False,
    fold_batch_norm: bool = True,
    winograd: bool | None = None,
) -> EngineModel:
    """Load a trained model through DeepLabCut's API and prepare it for our loop.

    Parameters
    ----------
    config : path-like
        The project's ``config.yaml``.
    shuffle, trainset_index : int
        Which trained model.
    snapshot_index : int or str or None
        As DLC's ``snapshot_index`` (None: the config's ``snapshotindex``).
    device : str, optional
        ``"cpu"``, ``"cuda"``, ... (None: the model's setting).
    batch_size : int, optional
        Frames per batch (None: the config's ``batch_size``, as DLC).
    fast : bool
        Half-precision autocast.
    fold_batch_norm : bool
        Fold batch norm into the convolutions (the benchmark can turn it off).
    winograd : bool or None
        Compute the wide 3x3 convolutions (at least
        :data:`~napari_dlcflow.core.engine.winograd.MIN_CHANNELS` channels) by Winograd's
        algorithm. None: on a CPU only (a GPU's cuDNN chooses its own algorithm).

    Returns
    -------
    EngineModel

    Raises
    ------
    UnsupportedModelError
        For multi-animal projects and top-down, conditional top-down or detector models,
        naming what is not supported.
    """
    import torch
    from deeplabcut.pose_estimation_pytorch.apis import utils
    from deeplabcut.pose_estimation_pytorch.data import DLCLoader
    from deeplabcut.pose_estimation_pytorch.task import Task

    loader = DLCLoader(str(config), trainset_index=trainset_index, shuffle=shuffle)
    if loader.project_cfg.get("multianimalproject"):
        raise UnsupportedModelError(
            f"{config}: multi-animal projects are not supported by the dlcflow engine yet "
            "(tracking and assembly are DeepLabCut's)"
        )
    if loader.pose_task != Task.BOTTOM_UP:
        raise UnsupportedModelError(
            f"{config}: {loader.pose_task.name.lower().replace('_', '-')} models are not "
            "supported by the dlcflow engine (only single-animal bottom-up models)"
        )
    index, _ = utils.parse_snapshot_index_for_analysis(
        loader.project_cfg, loader.model_cfg, snapshot_index, None
    )
    snapshot = utils.get_model_snapshots(index, loader.model_folder, loader.pose_task)[0]
    if device is not None:
        loader.model_cfg["device"] = device
    if batch_size is None:
        batch_size = int(loader.project_cfg.get("batch_size", 1) or 1)
    metadata = loader.model_cfg["metadata"]
    runner = utils.get_pose_inference_runner(
        model_config=loader.model_cfg,
        snapshot_path=snapshot.path,
        max_individuals=len(metadata["individuals"]),
        batch_size=int(batch_size),
    )
    folded = False
    net = runner.model
    if fold_batch_norm:
        try:
            from torch.fx.experimental.optimization import fuse

            net.backbone = fuse(net.backbone)
            folded = True
        except Exception:  # a backbone fx cannot trace: run it unfolded, same results
            folded = False
    net.to(memory_format=torch.channels_last)
    net.eval()
    replaced: list[str] = []
    if winograd if winograd is not None else runner.device == "cpu":
        from napari_dlcflow.core.engine.winograd import use_winograd

        replaced = use_winograd(net)
    unavailable = ""
    if fast and runner.device == "cpu" and not torch.ops.mkldnn._is_mkldnn_bf16_supported():
        unavailable = (
            "the fast mode is off: this CPU has no native bf16 instructions (AVX-512 BF16 or "
            "AMX), where bf16 runs several times slower than fp32; analysing in fp32"
        )
        fast = False
    cfg = loader.project_cfg
    default_crop = [cfg["x1"], cfg["x2"], cfg["y1"], cfg["y2"]] if cfg.get("cropping") else None
    return EngineModel(
        config=str(config),
        runner=runner,
        loader=loader,
        scorer=loader.scorer(snapshot),
        snapshot=str(Path(snapshot.path).resolve()),
        batch_size=int(batch_size),
        device=str(runner.device),
        fast=bool(fast),
        folded=folded,
        default_cropping=default_crop,
        fast_unavailable=unavailable,
        winograd=replaced,
    )


# ----------------------------------------------------------------------------- frames in


def crop_box(cropping: Sequence[int], width: int, height: int) -> tuple[int, int, int, int]:
    """The pixel box DeepLabCut's video reader cuts for ``cropping = [x1, x2, y1, y2]``.

    DLC stores the box relative to the frame size and converts it back with ``int``; we do
    the same arithmetic so that a box that does not divide evenly lands on DLC's pixels.

    Raises
    ------
    ValueError
        If the box is empty or does not have four values.
    """
    if len(cropping) != 4:
        raise ValueError(f"cropping needs four values [x1, x2, y1, y2], got {list(cropping)}")
    x1, x2, y1, y2 = (float(v) for v in cropping)
    if x2 <= x1 or y2 <= y1:
        raise ValueError(f"cropping {list(cropping)} is empty: need x1 < x2 and y1 < y2")
    rel = [min(x1 / width, 1.0), min(x2 / width, 1.0), min(y1 / height, 1.0)]
    rel.append(min(y2 / height, 1.0))
    return (int(width * rel[0]), int(width * rel[1]), int(height * rel[2]), int(height * rel[3]))


class _Feeder(threading.Thread):
    """Decode a video into reused batch buffers, ahead of the model.

    ``ready`` yields ``(slot, first_frame, n_frames)``, then ``None`` at the end or the
    exception that stopped decoding; the consumer gives each slot back through ``free``.
    """

    def __init__(self, reader: Any, slots: list[np.ndarray], box: tuple[int, int, int, int]):
        super().__init__(name="dlcflow-decode", daemon=True)
        self.reader = reader
        self.slots = slots
        self.box = box
        self.free: queue.Queue[int] = queue.Queue()
        for i in range(len(slots)):
            self.free.put(i)
        self.ready: queue.Queue[Any] = queue.Queue()
        self.stop = threading.Event()
        self.seconds = 0.0

    def run(self) -> None:
        from av.video.reformatter import VideoReformatter

        x1, x2, y1, y2 = self.box
        batch = self.slots[0].shape[0]
        t0 = time.perf_counter()
        try:
            if hasattr(self.reader, "iter_av_frames"):
                convert = VideoReformatter()
                frames = (
                    convert.reformat(f, format="rgb24").to_ndarray()
                    for _, f in self.reader.iter_av_frames()
                )
            else:  # another source as 8-bit RGB (Rgb8Frames)
                frames = self.reader.iter_frames()
            slot, start, j = self.free.get(), 0, 0
            for rgb in frames:
                if self.stop.is_set():
                    return
                self.slots[slot][j] = rgb[y1:y2, x1:x2]
                j += 1
                if j == batch:
                    self.ready.put((slot, start, j))
                    start += j
                    j = 0
                    slot = self.free.get()
                    if self.stop.is_set():
                        return
            if j:
                self.ready.put((slot, start, j))
            self.ready.put(None)
        except BaseException as exc:  # handed to the consumer, which raises it
            self.ready.put(exc)
        finally:
            self.seconds = time.perf_counter() - t0


def _plain_normalize(transform: Any) -> tuple[np.ndarray, np.ndarray] | None:
    """``(mean, std)`` in pixel units when DLC's inference transform only normalises."""
    import albumentations as A

    steps = list(getattr(transform, "transforms", [transform]))
    if len(steps) != 1 or not isinstance(steps[0], A.Normalize):
        return None
    norm = steps[0]
    scale = float(norm.max_pixel_value or 1.0)
    mean = np.asarray(norm.mean, dtype=np.float64) * scale
    std = np.asarray(norm.std, dtype=np.float64) * scale
    if mean.shape != (3,) or std.shape != (3,):
        return None
    return mean, std


def _transform_of(runner: Any) -> Any:
    for part in getattr(runner.preprocessor, "components", []):
        if hasattr(part, "transform"):
            return part.transform
    return None


# ---------------------------------------------------------------------------- the batch loop


class _Batcher:
    """Preallocated model input, normalised in place; DLC's preprocessor as the fallback."""

    def __init__(self, model: EngineModel, height: int, width: int, first: np.ndarray) -> None:
        import torch

        self.model = model
        self.device = torch.device(model.device)
        runner = model.runner
        ref, context = runner.preprocessor(first.copy(), {})
        self.context = context
        self.shape = tuple(ref.shape[1:])
        self.inputs = torch.empty(
            (model.batch_size, *self.shape), dtype=torch.float32, device=self.device
        ).to(memory_format=torch.channels_last)
        self.plain = False
        norm = _plain_normalize(_transform_of(runner))
        if norm is not None and self.shape == (3, height, width):
            mean, std = norm
            self.mean = torch.tensor(mean, dtype=torch.float32, device=self.device).view(
                1, 3, 1, 1
            )
            self.inv_std = torch.tensor(1.0 / std, dtype=torch.float32, device=self.device).view(
                1, 3, 1, 1
            )
            if self.device.type != "cpu":
                self.upload = torch.empty(
                    (model.batch_size, height, width, 3), dtype=torch.uint8, device=self.device
                )
            mine = self._normalise(torch.from_numpy(first[None].copy()), 1).cpu()
            # our arithmetic must give DLC's input tensor, else DLC's preprocessor is used
            self.plain = bool(torch.allclose(mine, ref, rtol=0, atol=1e-5))

    def _normalise(self, frames: Any, n: int) -> Any:
        """uint8 ``(n, H, W, 3)`` -> normalised float ``(n, 3, H, W)`` in the input buffer."""
        if self.device.type != "cpu":
            self.upload[:n].copy_(frames[:n], non_blocking=True)
            frames = self.upload
        out = self.inputs[:n]
        out.copy_(frames[:n].permute(0, 3, 1, 2))
        out.sub_(self.mean).mul_(self.inv_std)
        return out

    def fill(self, frames: Any, n: int) -> tuple[Any, list[dict]]:
        """The model input for ``n`` frames and each frame's context for DLC's postprocessor."""
        if self.plain:
            return self._normalise(frames, n), [copy.deepcopy(self.context) for _ in range(n)]
        contexts = []
        for j in range(n):
            x, ctx = self.model.runner.preprocessor(frames[j].numpy().copy(), {})
            self.inputs[j].copy_(x[0])
            contexts.append(ctx)
        return self.inputs[:n], contexts


def _predict(model: EngineModel, inputs: Any) -> list[dict[str, dict[str, np.ndarray]]]:
    """DLC's raw per-image predictions of one batch (results copied back once)."""
    import torch

    net = model.net
    with torch.inference_mode():
        with model.autocast():
            outputs = net(inputs)
        if model.fast:
            outputs = {h: {k: v.float() for k, v in head.items()} for h, head in outputs.items()}
        raw = net.get_predictions(outputs)
    host = {h: {k: v.cpu().numpy() for k, v in head.items()} for h, head in raw.items()}
    return [
        {h: {k: v[b] for k, v in head.items()} for h, head in host.items()}
        for b in range(len(inputs))
    ]


@dataclass
class VideoRun:
    """How one video went.

    Attributes
    ----------
    rows : int
        Frames decoded and analysed (rows of the h5).
    header_frames : int or None
        The frame count the container's header claims (None when it has none).
    seconds : float
        Wall time of the loop (decode + model + post-processing).
    decode_wait : float
        Seconds the model waited for decoded frames.
    h5 : str
        The analysis file.
    preprocess : str
        ``"ours"`` (normalised in place, checked equal to DLC's on the first frame) or
        ``"dlc"`` (DLC's preprocessor per frame, for transforms beyond normalisation).
    """

    rows: int
    header_frames: int | None
    seconds: float
    decode_wait: float
    h5: str
    preprocess: str = "ours"


def _temp(path: Path) -> Path:
    return path.with_name(f".{path.name}.{os.getpid()}.part")


def _pickle_atomic(obj: Any, path: Path) -> None:
    from napari_dlcflow.core.safe_io import atomic_writer

    with atomic_writer(path, backup=False) as tmp, tmp.open("wb") as f:
        pickle.dump(obj, f, pickle.HIGHEST_PROTOCOL)


class _VideoFacts:
    """What DLC's ``_generate_metadata`` reads of a video, from our reader."""

    def __init__(self, fps: float, width: int, height: int, n_frames: int) -> None:
        self.fps = fps
        self.dimensions = (width, height)
        self._n = n_frames

    def get_n_frames(self, robust: bool = False) -> int:
        return self._n


def analyze_video(
    model: EngineModel,
    video: str | os.PathLike,
    *,
    destfolder: str | os.PathLike | None = None,
    cropping: Sequence[int] | None = None,
    save_as_csv: bool = False,
    on_progress: Callable[[int, int, float], None] | None = None,
    should_stop: Callable[[], bool] | None = None,
) -> VideoRun:
    """Analyse one video and write DeepLabCut's output files for it.

    Parameters
    ----------
    model : EngineModel
        From :func:`load_model`.
    video : path-like or SourceRef
        The video, or another source with its channel/z/scene choice (or its ``video_sets``
        key, :func:`~napari_dlcflow.core.video.source.source_key`).
    destfolder : path-like, optional
        Output folder (default: beside the video, as DLC).
    cropping : sequence of int, optional
        ``[x1, x2, y1, y2]``: analyse only this region, as DLC's ``cropping`` (coordinates are
        then in the cropped frame, as DLC writes them).
    save_as_csv : bool
        Also write the ``.csv``.
    on_progress : callable, optional
        ``on_progress(frames_done, frames_total, frames_per_second)``, about twice a second.
    should_stop : callable, optional
        Polled once per batch; True stops before anything is written (``InterruptedError``).

    Returns
    -------
    VideoRun

    Raises
    ------
    VideoError
        If the video cannot be opened or decoding fails (the message names the file).
    ValueError
        If ``cropping`` is not a box inside the frame.
    """
    import torch

    from napari_dlcflow.core.predictions.analysis_files import output_files
    from napari_dlcflow.core.video.reader import VIDEO_SUFFIXES, VideoReader
    from napari_dlcflow.core.video.source import Rgb8Frames, parse_source_key

    ref = parse_source_key(video)
    video = ref.path
    folder = Path(destfolder) if destfolder is not None else video.parent
    folder.mkdir(parents=True, exist_ok=True)
    plain = not ref.choice and video.suffix.lower() in VIDEO_SUFFIXES
    reader: Any = VideoReader(video, cache_frames=1) if plain else Rgb8Frames(ref.open())
    try:
        meta = reader.meta
        total = int(meta.n_frames)
        if cropping is None:
            cropping = model.default_cropping
        box = crop_box(cropping, meta.width, meta.height) if cropping else None
        if box is None:
            box = (0, meta.width, 0, meta.height)
        x1, x2, y1, y2 = box
        h, w = y2 - y1, x2 - x1
        if h <= 0 or w <= 0:
            raise ValueError(f"cropping {list(cropping or [])} is outside the frames of {video}")
        first = np.ascontiguousarray(reader.frame(0)[y1:y2, x1:x2])
        if first.ndim == 2:  # grayscale video: DLC's reader gives three equal channels
            raise ValueError(f"{video}: grayscale videos are not supported by the engine")
        batcher = _Batcher(model, h, w, first)
        pin = batcher.device.type == "cuda"
        tensors = [
            torch.empty((model.batch_size, h, w, 3), dtype=torch.uint8, pin_memory=pin)
            for _ in range(_SLOTS)
        ]
        feeder = _Feeder(reader, [t.numpy() for t in tensors], box)
        post = model.runner.postprocessor
        predictions: list[dict[str, np.ndarray]] = []
        t0 = last = time.perf_counter()
        waited = 0.0
        feeder.start()
        try:
            while True:
                tw = time.perf_counter()
                item = feeder.ready.get()
                waited += time.perf_counter() - tw
                if item is None:
                    break
                if isinstance(item, BaseException):
                    raise item
                slot, _, n = item
                inputs, contexts = batcher.fill(tensors[slot], n)
                raw = _predict(model, inputs)
                feeder.free.put(slot)
                for pred, ctx in zip(raw, contexts, strict=True):
                    out, _ = post([pred], ctx)
                    predictions.append(out)
                now = time.perf_counter()
                first_batch = len(predictions) == n
                if on_progress and (now - last > 0.5 or first_batch or len(predictions) >= total):
                    on_progress(len(predictions), total, len(predictions) / (now - t0))
                    last = now
                if should_stop and should_stop():
                    done = len(predictions)
                    raise InterruptedError(f"analysis of {video} stopped at frame {done}")
        finally:
            feeder.stop.set()
            feeder.free.put(0)
            feeder.join(timeout=10)
        seconds = time.perf_counter() - t0
        if not predictions:
            raise ValueError(f"{video}: the decoder delivered no frames")
        files = output_files(ref.key, model.scorer, folder)
        _write_outputs(
            model,
            predictions,
            files,
            box,
            (meta.width, meta.height),
            cropping,
            fps=meta.fps,
            runtime=(time.time() - seconds, time.time()),
            save_as_csv=save_as_csv,
            source=None if plain else ref.record(reader.src.meta),
        )
        return VideoRun(
            rows=len(predictions),
            header_frames=_header_frames(video) if plain else None,
            seconds=seconds,
            decode_wait=waited,
            h5=str(files["h5"]),
            preprocess="ours" if batcher.plain else "dlc",
        )
    finally:
        reader.close()


def _header_frames(video: Path) -> int | None:
    """The frame count the container claims (what a header-trusting reader would use)."""
    import av

    try:
        with av.open(str(video), metadata_errors="ignore") as c:
            n = int(c.streams.video[0].frames or 0)
    except Exception:
        return None
    return n or None


def _write_outputs(
    model: EngineModel,
    predictions: list[dict[str, np.ndarray]],
    files: dict[str, Path],
    box: tuple[int, int, int, int],
    frame_size: tuple[int, int],
    cropping: Sequence[int] | None,
    *,
    fps: float,
    runtime: tuple[float, float],
    save_as_csv: bool,
    source: dict[str, Any] | None = None,
) -> None:
    """DLC's meta pickle, full pickle and h5 (+ csv), each written whole then renamed;
    ``source`` (where the pixels came from) goes into the meta's data dict as
    ``"dlcflow_source"`` (plain videos keep DLC's meta exactly: None)."""
    from deeplabcut.pose_estimation_pytorch.apis import videos as dlc_videos
    from deeplabcut.utils import auxiliaryfunctions

    loader = model.loader
    x1, x2, y1, y2 = box
    facts = _VideoFacts(round(float(fps), 2), x2 - x1, y2 - y1, len(predictions))
    metadata = dlc_videos._generate_metadata(
        cfg=loader.project_cfg,
        pytorch_config=loader.model_cfg,
        dlc_scorer=model.scorer,
        train_fraction=loader.train_fraction,
        batch_size=model.batch_size,
        cropping=list(cropping) if cropping else None,
        runtime=runtime,
        video=facts,
    )
    if source is not None:
        metadata["data"]["dlcflow_source"] = dict(source)
    _pickle_atomic(metadata, files["meta"])
    pose_cfg = auxiliaryfunctions.read_plainconfig(
        loader.model_folder.parent / "test" / "pose_cfg.yaml"
    )
    _pickle_atomic(dlc_videos._generate_output_data(pose_cfg, predictions), files["full"])
    h5 = files["h5"]
    # DeepLabCut's writer names its files itself (<prefix>.h5/.csv), so they are written under
    # a hidden prefix and renamed, rather than through safe_io.atomic_writer's temporary path
    tmp = _temp(h5).with_suffix(".h5")
    tmp_csv = tmp.with_suffix(".csv")
    try:
        dlc_videos.create_df_from_prediction(
            predictions=predictions,
            multi_animal=False,
            model_cfg=loader.model_cfg,
            dlc_scorer=model.scorer,
            output_path=tmp.parent,
            output_prefix=tmp.stem,
            save_as_csv=save_as_csv,
        )
        if save_as_csv:
            os.replace(tmp_csv, files["csv"])
        os.replace(tmp, h5)
    finally:
        tmp.unlink(missing_ok=True)
        tmp_csv.unlink(missing_ok=True)


# ------------------------------------------------------------------------ the fast mode report


@dataclass
class FastReport:
    """How far the fast mode moves predictions on the project's labeled frames.

    Attributes
    ----------
    images : int
        Labeled frames compared.
    keypoints : int
        Keypoints compared (every body part of every frame).
    median_px, p99_px, max_px : float
        Distance between the fp32 and the fast prediction of the same keypoint.
    within_1px : float
        Fraction of keypoints that moved less than 1 px.
    max_likelihood : float
        Largest change of a likelihood.
    error_fp32_px, error_fast_px : float
        Median distance to the human labels, for each precision (NaN without labels).
    precision : str
        ``"bf16"`` or ``"fp16"``.
    """

    images: int
    keypoints: int
    median_px: float
    p99_px: float
    max_px: float
    within_1px: float
    max_likelihood: float
    error_fp32_px: float
    error_fast_px: float
    precision: str
    notes: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)

    def summary(self) -> str:
        """One line for a log or a status bar."""
        return (
            f"fast mode ({self.precision}) on {self.images} labeled frames: "
            f"{100 * self.within_1px:.1f} % of keypoints within 1 px of fp32, median "
            f"{self.median_px:.3f} px, max {self.max_px:.1f} px; error to labels "
            f"{self.error_fp32_px:.2f} px (fp32) vs {self.error_fast_px:.2f} px (fast)"
        )


def _labeled_frames(config: Path, limit: int) -> list[tuple[Path, np.ndarray]]:
    """Up to ``limit`` labeled images of the project, with their labels (n_keypoints, 2)."""
    from napari_dlcflow.core.labels.collected import load_folder

    out: list[tuple[Path, np.ndarray]] = []
    root = config.parent / "labeled-data"
    folders = sorted(p for p in root.iterdir() if p.is_dir()) if root.is_dir() else []
    for folder in folders:
        try:
            labels = load_folder(folder)
        except Exception:
            continue
        if labels is None:
            continue
        for row, xy in zip(labels.images, labels.xy, strict=True):
            image = folder / row[-1]
            if image.is_file() and np.isfinite(xy).any():
                out.append((image, xy))
    if len(out) > limit:
        pick = np.linspace(0, len(out) - 1, limit).round().astype(int)
        out = [out[i] for i in pick]
    return out


def fast_mode_report(model: EngineModel, *, max_images: int = 64) -> FastReport:
    """Compare fp32 and the fast mode on the project's labeled frames.

    Parameters
    ----------
    model : EngineModel
        The loaded model (its ``fast`` flag is restored afterwards).
    max_images : int
        Compare at most this many frames, spread over the labeled ones.

    Returns
    -------
    FastReport
    """
    import torch
    from PIL import Image

    frames = _labeled_frames(Path(model.config), max_images)
    kind = torch.device(model.device).type
    precision = "fp16" if kind == "cuda" else "bf16"
    runner = model.runner
    per_mode: dict[bool, list[np.ndarray]] = {False: [], True: []}
    was = model.fast
    try:
        for path, _ in frames:
            rgb = np.asarray(Image.open(path).convert("RGB"))
            x, ctx = runner.preprocessor(rgb.copy(), {})
            x = x.to(model.device).contiguous(memory_format=torch.channels_last)
            for fast in (False, True):
                model.fast = fast
                out, _ = runner.postprocessor(_predict(model, x), copy.deepcopy(ctx))
                per_mode[fast].append(np.asarray(out["bodyparts"][0], dtype=np.float64))
    finally:
        model.fast = was
    if not frames:
        nan = float("nan")
        return FastReport(
            0,
            0,
            nan,
            nan,
            nan,
            nan,
            nan,
            nan,
            nan,
            precision,
            notes=["no labeled frames found in the project"],
        )
    a, b = np.stack(per_mode[False]), np.stack(per_mode[True])
    moved = np.hypot(*(a[..., :2] - b[..., :2]).transpose(2, 0, 1)).ravel()
    labels = np.stack([xy for _, xy in frames])
    n = min(labels.shape[1], a.shape[1])

    def error(pred: np.ndarray) -> float:
        d = np.hypot(*(pred[:, :n, :2] - labels[:, :n]).transpose(2, 0, 1))
        return float(np.nanmedian(d)) if np.isfinite(d).any() else float("nan")

    return FastReport(
        images=len(frames),
        keypoints=int(moved.size),
        median_px=float(np.median(moved)),
        p99_px=float(np.percentile(moved, 99)),
        max_px=float(moved.max()),
        within_1px=float(np.mean(moved < 1.0)),
        max_likelihood=float(np.abs(a[..., 2] - b[..., 2]).max()),
        error_fp32_px=error(a),
        error_fast_px=error(b),
        precision=precision,
    )
