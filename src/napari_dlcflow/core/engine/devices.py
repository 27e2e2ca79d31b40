"""Which devices torch can train on, asked in a child process, and what to do when one fails.

Importing torch takes seconds and initialising CUDA in the viewer's process can hang or crash
it, so :func:`list_devices` asks a child (the engine task ``devices``); :func:`gpu_summary`
puts its answer in one line for ``napari-dlcflow info``.
"""

from __future__ import annotations

import importlib.util
import re
from dataclasses import dataclass

from napari_dlcflow.core.jobs import emit

__all__ = [
    "Device",
    "device_choices",
    "devices_here",
    "gpu_summary",
    "is_out_of_memory",
    "list_devices",
    "no_gpu_message",
    "oom_hint",
]

_OOM_PATTERNS = (
    r"CUDA out of memory",
    r"OutOfMemoryError",
    r"CUDA error: out of memory",
    r"CUBLAS_STATUS_ALLOC_FAILED",
    r"MPS backend out of memory",
)


@dataclass(frozen=True)
class Device:
    """A device torch can use.

    Attributes
    ----------
    id : str
        What to pass as ``device``: ``"cuda:0"``, ``"mps"`` or ``"cpu"``.
    name : str
        The card's name (or ``"CPU"``).
    memory_gib : float or None
        Total memory of a GPU in GiB.
    """

    id: str
    name: str
    memory_gib: float | None = None

    @property
    def label(self) -> str:
        """One line for a menu: ``"cuda:0 - NVIDIA H100 (79.6 GiB)"``."""
        if self.id == "cpu":
            return "CPU (slow: hours for a real dataset)"
        mem = f" ({self.memory_gib:.1f} GiB)" if self.memory_gib else ""
        return f"{self.id} - {self.name}{mem}"


def devices_here() -> None:
    """Engine task ``devices``: emit a ``torch`` event (versions) and one ``device`` event per
    device torch sees (runs inside the child)."""
    import torch

    emit("torch", version=torch.__version__, cuda=torch.version.cuda)

    if torch.cuda.is_available():
        for i in range(torch.cuda.device_count()):
            props = torch.cuda.get_device_properties(i)
            emit("device", id=f"cuda:{i}", name=props.name, memory_gib=props.total_memory / 2**30)
    mps = getattr(torch.backends, "mps", None)
    if mps is not None and mps.is_available():
        emit("device", id="mps", name="Apple GPU (MPS)", memory_gib=None)
    emit("device", id="cpu", name="CPU", memory_gib=None)


def list_devices(timeout: float = 120) -> list[Device]:
    """GPUs torch sees (name and memory), then the CPU; asked in a child process.

    Raises
    ------
    RuntimeError
        If torch cannot be imported in the child.
    """
    from napari_dlcflow.core.engine.tasks import run_task

    result = run_task("devices", timeout=timeout)
    found = [
        Device(str(e["id"]), str(e["name"]), e.get("memory_gib"))
        for e in result.events
        if e.get("event") == "device"
    ]
    if not found:
        raise RuntimeError(f"could not ask torch for devices: {result.reason()}")
    return found


def gpu_summary(timeout: float = 120) -> str:
    """GPUs that torch sees, or why none, in one line (asks a child: a few seconds)."""
    if importlib.util.find_spec("torch") is None:
        return "torch not installed (training needs the [dlc] extra)"
    from napari_dlcflow.core.engine.tasks import run_task

    result = run_task("devices", timeout=timeout)
    found = [e for e in result.events if e.get("event") == "device"]
    if not found:
        return f"could not ask torch: {result.reason()}"
    cuda = [e for e in found if str(e["id"]).startswith("cuda")]
    if cuda:
        torch_event = result.last("torch") or {}
        return f"CUDA {torch_event.get('cuda')}: " + ", ".join(str(e["name"]) for e in cuda)
    if any(e["id"] == "mps" for e in found):
        return "Apple MPS"
    return "none: training and analysis will run on the CPU"


def no_gpu_message(devices: list[Device]) -> str:
    """A plain sentence about the GPUs found, or their absence and what it means for time."""
    gpus = [d for d in devices if d.id != "cpu"]
    if gpus:
        return f"{len(gpus)} GPU(s): " + ", ".join(d.label for d in gpus)
    return (
        "No GPU found: training runs on the CPU, typically 10-50 times slower (a real dataset "
        "takes many hours). Small backbones (resnet18) and small frames help."
    )


def device_choices(devices: list[Device]) -> list[tuple[str, str]]:
    """``(label, device id)`` pairs for a menu: "auto", each GPU, all GPUs together, the CPU."""
    gpus = [d for d in devices if d.id.startswith("cuda")]
    out = [("auto (GPU if there is one)", "auto")]
    out += [(d.label, d.id) for d in devices if d.id != "cpu"]
    if len(gpus) > 1:
        out.append((f"all {len(gpus)} GPUs", "cuda:all"))
    out.append((Device("cpu", "CPU").label, "cpu"))
    return out


def is_out_of_memory(text: str) -> bool:
    """Whether an error message or log says that a GPU ran out of memory."""
    return any(re.search(p, text) for p in _OOM_PATTERNS)


def oom_hint(text: str, batch_size: int | None) -> str:
    """Advice after a GPU out-of-memory error: a smaller batch size (and where it was short).

    Parameters
    ----------
    text : str
        The error message or log.
    batch_size : int, optional
        The batch size the job used.

    Returns
    -------
    str
        Empty when ``text`` is not an out-of-memory error.
    """
    if not is_out_of_memory(text):
        return ""
    need = re.search(r"Tried to allocate ([\d.]+ [KMGT]i?B)", text)
    free = re.search(r"([\d.]+ [KMGT]i?B) free", text)
    detail = ""
    if need:
        detail = f" It needed {need.group(1)} more"
        detail += f" with {free.group(1)} free." if free else "."
    if batch_size and batch_size > 1:
        smaller = max(1, batch_size // 2)
        return (
            f"The GPU ran out of memory at batch size {batch_size}.{detail} "
            f"Try batch size {smaller}, a smaller crop size or a smaller backbone."
        )
    return (
        f"The GPU ran out of memory even at batch size 1.{detail} Use a smaller backbone, "
        "smaller training crops, or another GPU."
    )
