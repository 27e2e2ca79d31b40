"""Which pretrained weights a shuffle's training needs, whether they are cached, and whether
they can be fetched: said before a job starts, without any download.

DeepLabCut 3 (3.0.2) builds the pose model with ``pretrained_backbone=True`` unless it starts
from a snapshot, and a top-down model's detector with ``pretrained=True`` unless a detector
snapshot is given (``pose_estimation_pytorch/apis/training.py``):

- ``ResNet``/``DLCRNet``/``HRNet``/``HRNetCoAM`` backbones call ``timm.create_model(name,
  pretrained=True)``; timm fetches ``hf_hub_id`` of the model's pretrained config (e.g.
  ``timm/resnet50_gn.a1h_in1k``) into the Hugging Face hub cache (``HF_HUB_CACHE``, else
  ``HF_HOME/hub``, else ``~/.cache/huggingface/hub``).
- ``CSPNeXt`` backbones (RTMPose) download ``<model_name>.pt`` from
  ``DeepLabCut/DeepLabCut-Backbones`` into ``backbones/pretrained_weights`` of the installed
  deeplabcut (or the config's ``backbone_weight_folder``).
- ``FasterRCNN`` detectors load torchvision's COCO weights into the torch hub cache
  (``TORCH_HOME/hub/checkpoints``, default ``~/.cache/torch/hub/checkpoints``); without them
  torchvision still loads ImageNet weights of the detector's backbone, so a FasterRCNN
  detector cannot be trained at all offline unless one of the two is cached. ``SSDLite``
  trains from scratch without any download.

"Online" (:func:`is_online`): ``HF_HUB_OFFLINE`` set to a true value, or an explicit offline
flag, means offline; otherwise a TCP connection to ``huggingface.co:443`` is tried for at most
1.5 s (name lookup included, in a thread). See docs/decisions.md.
"""

from __future__ import annotations

import os
import socket
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

__all__ = [
    "WeightsChoice",
    "WeightsItem",
    "WeightsStatus",
    "choose_weights",
    "choose_weights_in_child",
    "is_online",
    "weights_choice",
    "weights_choice_in_child",
    "weights_status",
]

_HOST = ("huggingface.co", 443)


@dataclass(frozen=True)
class WeightsItem:
    """One file of pretrained weights a training asks for.

    Attributes
    ----------
    role : str
        ``backbone`` or ``detector``.
    name : str
        What DeepLabCut asks for (``resnet50_gn``, ``fasterrcnn_mobilenet_v3_large_fpn``).
    source : str
        Where it comes from (``timm/resnet50_gn.a1h_in1k`` on the hub, a URL).
    cache_path : Path
        Where it is (or would be) cached.
    cached : bool
    """

    role: str
    name: str
    source: str
    cache_path: Path
    cached: bool


@dataclass
class WeightsStatus:
    """What a training with pretrained weights needs, and whether it can have it.

    Attributes
    ----------
    needed : list of WeightsItem
        Weights DeepLabCut would load (empty: nothing to fetch).
    online : bool
        Whether downloads were judged possible (:func:`is_online`).
    available : bool
        Every item is cached, or we are online.
    message : str
        One line for the user (empty when everything is cached).
    detector_offline_ok : bool
        A top-down model's detector can be trained with nothing fetched (SSDLite), or there is
        no detector.
    """

    needed: list[WeightsItem] = field(default_factory=list)
    online: bool = False
    available: bool = True
    message: str = ""
    detector_offline_ok: bool = True

    @property
    def missing(self) -> list[WeightsItem]:
        """The items not cached."""
        return [w for w in self.needed if not w.cached]


def _truthy(value: str | None) -> bool:
    return (value or "").strip().lower() in ("1", "true", "yes", "on")


def is_online(offline: bool = False, timeout: float = 1.5) -> bool:
    """Whether pretrained weights can be downloaded now.

    Parameters
    ----------
    offline : bool
        The user said offline (``--offline``): False at once.
    timeout : float
        Seconds the connection test to ``huggingface.co:443`` may take, name lookup included.
    """
    if offline or _truthy(os.environ.get("HF_HUB_OFFLINE")):
        return False
    ok: list[bool] = []

    def probe() -> None:
        try:
            with socket.create_connection(_HOST, timeout=timeout):
                ok.append(True)
        except OSError:
            pass

    t = threading.Thread(target=probe, daemon=True)
    t.start()
    t.join(timeout)
    return bool(ok)


def hf_hub_cache() -> Path:
    """The Hugging Face hub cache folder, as huggingface_hub resolves it."""
    if os.environ.get("HF_HUB_CACHE"):
        return Path(os.environ["HF_HUB_CACHE"]).expanduser()
    home = os.environ.get("HF_HOME") or os.path.join(
        os.environ.get("XDG_CACHE_HOME") or "~/.cache", "huggingface"
    )
    return Path(home).expanduser() / "hub"


def torch_hub_checkpoints() -> Path:
    """torch.hub's checkpoint folder (``TORCH_HOME/hub/checkpoints``)."""
    home = os.environ.get("TORCH_HOME") or os.path.join(
        os.environ.get("XDG_CACHE_HOME") or "~/.cache", "torch"
    )
    return Path(home).expanduser() / "hub" / "checkpoints"


def _timm_item(name: str) -> WeightsItem:
    """A timm model's pretrained weights in the hub cache (``models--timm--<tag>``)."""
    from timm.models import get_pretrained_cfg

    cfg = get_pretrained_cfg(name)
    repo = getattr(cfg, "hf_hub_id", None) or f"timm/{name}"
    folder = hf_hub_cache() / ("models--" + repo.replace("/", "--"))
    files = ("model.safetensors", "pytorch_model.bin", "open_clip_pytorch_model.bin")
    cached = any(
        f.is_file() for snap in folder.glob("snapshots/*") for f in (snap / n for n in files)
    )
    return WeightsItem("backbone", name, repo, folder, cached)


def _dlc_backbone_item(backbone: dict[str, Any]) -> WeightsItem:
    """A CSPNeXt backbone's file from ``DeepLabCut/DeepLabCut-Backbones``."""
    import importlib.util

    name = str(backbone.get("model_name", "cspnext_m"))
    folder = backbone.get("backbone_weight_folder")
    if folder is None:
        spec = importlib.util.find_spec("deeplabcut")
        base = Path(next(iter(spec.submodule_search_locations))) if spec else Path(".")
        folder = base / "pose_estimation_pytorch" / "models" / "backbones" / "pretrained_weights"
    path = Path(folder) / f"{name}.pt"
    return WeightsItem("backbone", name, "DeepLabCut/DeepLabCut-Backbones", path, path.is_file())


def _backbone_items(backbone: dict[str, Any]) -> list[WeightsItem]:
    kind = str(backbone.get("type", ""))
    if kind == "CondPreNet":
        return _backbone_items(dict(backbone.get("backbone") or {}))
    if kind == "CSPNeXt":
        return [_dlc_backbone_item(backbone)]
    if kind == "HRNetCoAM":
        return [_timm_item(str(backbone.get("base_model_name", "hrnet_w32")))]
    if kind in ("ResNet", "DLCRNet"):
        return [_timm_item(str(backbone.get("model_name", "resnet50")))]
    if kind == "HRNet":
        return [_timm_item(str(backbone.get("model_name", "hrnet_w32")))]
    return []


def _url_item(name: str, url: str) -> WeightsItem:
    path = torch_hub_checkpoints() / url.rsplit("/", 1)[-1]
    return WeightsItem("detector", name, url, path, path.is_file())


def _detector_items(detector: dict[str, Any]) -> tuple[list[WeightsItem], bool]:
    """The detector's COCO weights, and whether it trains offline from scratch."""
    kind = str(detector.get("type", ""))
    if kind != "FasterRCNN":
        return [], True  # SSDLite: weights_backbone=None without pretrained weights
    import inspect

    from torchvision.models import detection, get_model_weights

    variant = str(detector.get("variant", "fasterrcnn_mobilenet_v3_large_fpn"))
    coco = _url_item(variant, get_model_weights(variant)["COCO_V1"].url)
    default_backbone = inspect.signature(getattr(detection, variant)).parameters.get(
        "weights_backbone"
    )
    scratch_ok = coco.cached
    if default_backbone is not None and default_backbone.default is not None:
        bb = _url_item(f"{variant} backbone", default_backbone.default.url)
        scratch_ok = scratch_ok or bb.cached
    return [coco], scratch_ok


def _read_model_config(source: Any) -> dict[str, Any]:
    import yaml

    if isinstance(source, dict):
        return source
    path = Path(source) if isinstance(source, (str, os.PathLike)) else None
    if path is None or path.is_dir() or path.name == "config.yaml":
        from napari_dlcflow.core.engine.dataset import resolve_model

        folder = resolve_model(source).find_train_folder()
        path = folder / "pytorch_config.yaml"
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        raise ValueError(f"cannot read {path}: {exc}") from exc
    if not isinstance(data, dict) or not isinstance(data.get("model"), dict):
        raise ValueError(f"{path} has no 'model' section")
    return data


def weights_status(
    source: Any,
    weights: str = "pretrained",
    *,
    backbone: str | None = None,
    offline: bool = False,
    online: bool | None = None,
) -> WeightsStatus:
    """What training a shuffle needs to fetch, read from its ``pytorch_config.yaml``.

    Parameters
    ----------
    source : ModelRef, path-like or dict
        The model (a :class:`~napari_dlcflow.core.engine.model_ref.ModelRef`, a project's
        config or folder: its last dataset's shuffle), a ``pytorch_config.yaml``, or the
        config as a dict.
    weights : str
        ``pretrained`` (the backbone is needed) or ``scratch`` (only a detector may be).
    backbone : str, optional
        The backbone the training swaps in (``TrainSpec.backbone``).
    offline : bool
        The user said offline.
    online : bool, optional
        Skip the network test (:func:`is_online`) and take this.

    Returns
    -------
    WeightsStatus
    """
    cfg = _read_model_config(source)
    model = cfg["model"]
    needed: list[WeightsItem] = []
    if weights == "pretrained":
        bb = dict(model.get("backbone") or {})
        if backbone:
            bb = {**bb, "type": "ResNet", "model_name": backbone}
        needed += _backbone_items(bb)
    detector_ok = True
    det = (cfg.get("detector") or {}).get("model")
    if isinstance(det, dict):
        items, detector_ok = _detector_items(det)
        needed += items
    st = WeightsStatus(needed=needed, detector_offline_ok=detector_ok)
    if all(w.cached for w in needed):
        st.online = bool(online) if online is not None else False
        return st
    st.online = is_online(offline) if online is None else bool(online)
    st.available = st.online
    missing = st.missing
    names = ", ".join(w.name for w in missing)
    where = ", ".join(sorted({str(w.cache_path) for w in missing}))
    if st.online:
        st.message = f"{names} weights will be downloaded (not in {where})"
    else:
        st.message = f"{names} weights are not available offline (not in {where})"
    return st


def choose_weights(
    source: Any,
    weights: str = "auto",
    *,
    backbone: str | None = None,
    offline: bool = False,
    online: bool | None = None,
) -> tuple[str, str]:
    """Resolve ``weights`` (``auto``, ``pretrained``, ``scratch``) before a job starts.

    ``auto``: pretrained when the weights are cached or can be downloaded, else scratch.

    Returns
    -------
    tuple of str
        ``(weights, message)``: ``pretrained`` or ``scratch``, and one line to show (empty when
        nothing needs saying).

    Raises
    ------
    ValueError
        ``pretrained`` asked for offline without the weights cached, or a top-down model's
        detector that can be neither fetched nor trained from scratch offline.
    """
    if weights not in ("auto", "pretrained", "scratch"):
        raise ValueError(f"weights must be auto, pretrained or scratch, got {weights!r}")
    st = weights_status(
        source,
        "scratch" if weights == "scratch" else "pretrained",
        backbone=backbone,
        offline=offline,
        online=online,
    )
    det_missing = [w for w in st.missing if w.role == "detector"]
    if det_missing and not st.online and not st.detector_offline_ok:
        raise ValueError(
            f"the detector of this top-down model needs {det_missing[0].name} weights, which are "
            f"not available offline (not in {det_missing[0].cache_path}), and cannot be trained "
            "from scratch without them: choose a bottom-up net type (resnet_50, dlcrnet_ms5, "
            "dekr_w32), or connect once to fetch them"
        )
    bb_missing = [w for w in st.missing if w.role == "backbone"]
    if not bb_missing or st.online:
        return ("pretrained" if weights != "scratch" else "scratch"), st.message
    names = ", ".join(w.name for w in bb_missing)
    where = ", ".join(sorted({str(w.cache_path) for w in bb_missing}))
    if weights == "pretrained":
        raise ValueError(
            f"{names} weights are not available offline (not in {where}): train with "
            "--weights scratch (or auto), or connect once to download them"
        )
    return "scratch", (
        f"{names} weights are not available offline (not in {where}): training from scratch; "
        "pass --weights pretrained when online"
    )


@dataclass(frozen=True)
class WeightsChoice:
    """What a dock shows next to its weights choice, and what a start would train with.

    Attributes
    ----------
    asked : str
        ``auto``, ``pretrained`` or ``scratch``.
    weights : str or None
        What :func:`choose_weights` resolved it to (``pretrained`` or ``scratch``); None when
        it refused (``pretrained`` offline with nothing cached, an unfetchable detector).
    message : str
        One line: what the training will start from, or why it is refused.
    note : str
        :func:`choose_weights`' own line (which weights, where they were looked for), for a
        command line or a script to print before the job starts; empty when nothing needs
        saying or when refused.
    """

    asked: str
    weights: str | None
    message: str
    note: str = ""

    @property
    def refused(self) -> bool:
        """Whether no training can start with this choice."""
        return self.weights is None


def weights_choice(
    source: Any,
    weights: str = "auto",
    *,
    backbone: str | None = None,
    offline: bool = False,
    online: bool | None = None,
) -> WeightsChoice:
    """Resolve ``weights`` with :func:`choose_weights` (as the CLI's ``train`` does) and say in
    one line what the training will start from.

    Parameters
    ----------
    source, weights, backbone, offline, online
        As :func:`choose_weights` takes them (``online`` None: :func:`is_online`, asked once).

    Returns
    -------
    WeightsChoice
        ``weights`` None and the refusal as ``message`` where :func:`choose_weights` raises.
    """
    if online is None:
        online = is_online(offline)
    try:
        resolved, note = choose_weights(
            source, weights, backbone=backbone, offline=offline, online=online
        )
    except ValueError as exc:
        if weights not in ("auto", "pretrained", "scratch"):
            raise
        return WeightsChoice(weights, None, str(exc))
    st = weights_status(
        source,
        "scratch" if weights == "scratch" else "pretrained",
        backbone=backbone,
        offline=offline,
        online=online,
    )
    backbones = [w for w in st.needed if w.role == "backbone"]
    missing = [w for w in backbones if not w.cached]
    names = ", ".join(w.name for w in (missing or backbones))
    if resolved == "scratch" and weights != "scratch":
        line = f"{names} weights are not available offline: will train from scratch"
    elif resolved == "scratch":
        line = "from scratch: no pretrained backbone weights needed"
    elif missing:
        where = ", ".join(sorted({str(w.cache_path) for w in missing}))
        line = f"{names} weights will be downloaded when training starts (not in {where})"
    elif backbones:
        line = f"{names} weights are cached: training starts from them"
    else:
        line = "pretrained: nothing to download"
    for det in (w for w in st.missing if w.role == "detector"):
        if st.online:
            line += f"; the detector's {det.name} weights will be downloaded"
        else:
            line += (
                f"; the detector's {det.name} weights are not available offline: it starts "
                "from its backbone's weights"
            )
    return WeightsChoice(weights, resolved, line, note)


def weights_here(
    source: str,
    weights: str = "auto",
    backbone: str | None = None,
    offline: bool = False,
    online: bool | None = None,
) -> None:
    """Engine task ``weights``: emit one ``weights`` event (``asked``, ``weights``,
    ``message``) of :func:`weights_choice` (runs inside the child: imports timm)."""
    from napari_dlcflow.core.jobs import emit

    choice = weights_choice(source, weights, backbone=backbone, offline=offline, online=online)
    emit(
        "weights",
        asked=choice.asked,
        weights=choice.weights,
        message=choice.message,
        note=choice.note,
    )


def weights_choice_in_child(
    source: str | os.PathLike,
    weights: str = "auto",
    *,
    backbone: str | None = None,
    offline: bool = False,
    timeout: float = 120,
) -> WeightsChoice:
    """:func:`weights_choice` in a child process, for a process that must not import timm or
    torchvision (the viewer: see docs/architecture.md); the network is tested here, once.

    Parameters
    ----------
    source : path-like
        The shuffle's ``pytorch_config.yaml`` (or a project's config or folder).
    weights, backbone, offline
        As :func:`choose_weights` takes them.
    timeout : float
        Seconds the child may take.

    Raises
    ------
    RuntimeError
        If the child fails (an unreadable ``pytorch_config.yaml``: the message names it).
    """
    from napari_dlcflow.core.engine.tasks import run_task

    result = run_task(
        "weights",
        timeout=timeout,
        source=str(source),
        weights=weights,
        backbone=backbone,
        offline=offline,
        online=is_online(offline),
    )
    event = result.last("weights")
    if event is None:
        raise RuntimeError(f"could not check the weights of {source}: {result.reason()}")
    return WeightsChoice(
        str(event["asked"]),
        event.get("weights"),
        str(event["message"]),
        str(event.get("note") or ""),
    )


def choose_weights_in_child(
    source: str | os.PathLike,
    weights: str = "auto",
    *,
    backbone: str | None = None,
    offline: bool = False,
) -> tuple[str, str]:
    """:func:`choose_weights`, asked in a child process: what the command line, the Python API
    and the demo call before a training starts.

    A process that drew a napari viewer must not import timm (which imports torch and triton:
    after Mesa's llvmpipe loaded its LLVM, triton's LLVM crashes the process), and a script
    that trains may well have a viewer open.

    Returns
    -------
    tuple of str
        ``(weights, note)`` as :func:`choose_weights` returns them.

    Raises
    ------
    ValueError
        Where :func:`choose_weights` refuses (its message), or ``weights`` is not a choice.
    RuntimeError
        If the child fails (an unreadable ``pytorch_config.yaml``: the message names it).
    """
    if weights not in ("auto", "pretrained", "scratch"):
        raise ValueError(f"weights must be auto, pretrained or scratch, got {weights!r}")
    choice = weights_choice_in_child(source, weights, backbone=backbone, offline=offline)
    if choice.refused:
        raise ValueError(choice.message)
    return str(choice.weights), choice.note
