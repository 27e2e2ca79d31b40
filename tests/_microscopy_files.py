"""Microscopy test files written with the maintained writers (tifffile's OME and ImageJ
writers, zarr with ome-zarr-models' metadata) from real video frames: 16-bit, 2 channels,
20 time points, 0.65 µm pixels, 0.5 s per frame (issue 25)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import tifffile

from napari_dlcflow.core.video.reader import open_frames

PX_UM, DT_S = 0.65, 0.5


def real_tcyx(shared_data: Path) -> np.ndarray:
    """(20, 2, 48, 64) uint16 from 20 real frames: channel 0 the brightness x 200 + t, channel 1
    the inverted brightness x 150 + 7 t (so every time point and channel differ)."""
    with open_frames(shared_data / "sleap-tests/videos/centered_pair_small.mp4") as video:
        gray = video[0:20, 150:198, 150:214].mean(axis=-1).astype(np.uint16)
    t = np.arange(20, dtype=np.uint16)[:, None, None]
    return np.stack([gray * 200 + t, (255 - gray) * 150 + 7 * t], axis=1)


def write_ome_tiff(path: Path, data: np.ndarray, axes: str = "TCYX") -> Path:
    """An OME-TIFF by tifffile's OME writer, with the pixel size, frame interval and (for a
    channel axis) the channel names GFP, RFP."""
    meta = {
        "axes": axes,
        "PhysicalSizeX": PX_UM,
        "PhysicalSizeY": PX_UM,
        "PhysicalSizeXUnit": "µm",
        "PhysicalSizeYUnit": "µm",
        "TimeIncrement": DT_S,
        "TimeIncrementUnit": "s",
    }
    if "C" in axes:
        meta["Channel"] = {"Name": ["GFP", "RFP"][: data.shape[axes.index("C")]]}
    tifffile.imwrite(path, data, ome=True, photometric="minisblack", metadata=meta)
    return path


def write_imagej(path: Path, data: np.ndarray, axes: str = "TCYX") -> Path:
    """An ImageJ hyperstack by tifffile's ImageJ writer (resolution in µm, ``finterval``)."""
    tifffile.imwrite(
        path,
        data,
        imagej=True,
        resolution=(1 / PX_UM, 1 / PX_UM),
        metadata={"axes": axes, "unit": "um", "finterval": DT_S},
    )
    return path


def write_ome_zarr(
    path: Path, data: np.ndarray, names: str = "tcyx", tile: int | None = None
) -> Path:
    """An OME-Zarr 0.5 image (metadata by ome-zarr-models, one chunk per plane, or per
    ``tile`` x ``tile`` piece of a plane) with axes ``names`` and their units."""
    import zarr
    from ome_zarr_models.v05.axes import Axis
    from ome_zarr_models.v05.image import Image
    from pydantic_zarr.v3 import ArraySpec

    kinds = {"t": ("time", "second"), "c": ("channel", None), "z": ("space", "micrometer")}
    kinds |= {"y": ("space", "micrometer"), "x": ("space", "micrometer")}
    axes = [Axis(name=n, type=kinds[n][0], unit=kinds[n][1]) for n in names]
    scale = [{"t": DT_S, "c": 1.0, "z": 2.0}.get(n, PX_UM) for n in names]
    chunks = tuple(
        1 if n in "tcz" else (tile or s) for n, s in zip(names, data.shape, strict=True)
    )
    spec = ArraySpec.from_array(
        data,
        chunk_grid={"name": "regular", "configuration": {"chunk_shape": chunks}},
        dimension_names=list(names),
    )
    image = Image.new(
        array_specs=[spec], paths=["0"], axes=axes, scales=[scale], translations=[None]
    )
    group = image.to_zarr(zarr.storage.LocalStore(str(path)), path="")
    group["0"][:] = data
    return path
