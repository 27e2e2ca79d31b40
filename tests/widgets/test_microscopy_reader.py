"""The plugin's reader on microscopy time-lapses in a real napari viewer: one layer per channel,
20 time points, the pixel size and frame interval as the layer's scale and units; a bad file is
a named error and the viewer stays up."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest

from _microscopy_files import (
    DT_S,
    PX_UM,
    real_tcyx,
    write_imagej,
    write_ome_tiff,
    write_ome_zarr,
)
from napari_dlcflow.core.video.microscopy import MicroscopySource
from napari_dlcflow.core.video.reader import VideoError
from napari_dlcflow.plugin.video_reader import get_video_reader

pytestmark = pytest.mark.gui


def test_channels_open_as_scaled_layers(
    make_napari_viewer: Any, shared_data: Path, tmp_path: Path, save_screenshot: Any
) -> None:
    tcyx = real_tcyx(shared_data)
    ome = write_ome_tiff(tmp_path / "cells.ome.tif", tcyx)
    ij = write_imagej(tmp_path / "hyperstack.tif", tcyx)
    zarr_path = write_ome_zarr(tmp_path / "cells.ome.zarr", tcyx)
    viewer = make_napari_viewer()
    viewer.open(str(ome), plugin="napari-dlcflow")
    viewer.open(str(ij), plugin="napari-dlcflow")
    viewer.open(str(zarr_path), plugin="napari-dlcflow")  # a folder: the microscopy reader
    names = [layer.name for layer in viewer.layers]
    assert names[:4] == ["cells [GFP]", "cells [RFP]", "hyperstack [C0]", "hyperstack [C1]"]
    assert names[4:] == ["cells [C0]", "cells [C1]"]  # OME-Zarr: no channel names
    assert len(viewer.layers) == 6  # one per channel: never 40 frames alternating
    for k, layer in enumerate(viewer.layers):
        c = k % 2
        src = layer.data
        assert isinstance(src, MicroscopySource) and src.identity == f"C{c}"
        assert src.shape == (20, 48, 64) and layer.ndim == 3 and not layer.rgb
        np.testing.assert_allclose(layer.scale, [DT_S, PX_UM, PX_UM])
        assert [str(u) for u in layer.units] == ["second", "micrometer", "micrometer"]
        assert layer.blending == "additive"
        assert layer.metadata["dlcflow_choice"] == f"C{c}"
        assert layer.metadata["dlcflow_video"]["pixel_size_um"] == pytest.approx(PX_UM)
        np.testing.assert_array_equal(np.asarray(layer.data[13]), tcyx[13, c])
    assert [viewer.layers[k].colormap.name for k in (2, 3)] == ["green", "magenta"]
    # the time axis is in seconds: 3 s is time point 6
    viewer.dims.set_point(0, 6 * DT_S)
    assert viewer.dims.current_step[0] == 6
    assert viewer.dims.range[0].step == pytest.approx(DT_S)
    # the OME-TIFF's two channels over each other, green and magenta, at 3 s
    for layer in list(viewer.layers)[2:]:
        layer.visible = False
    viewer.reset_view()
    assert save_screenshot(viewer, "microscopy-channels").is_file()


def test_bad_microscopy_file_is_a_named_error(
    make_napari_viewer: Any, shared_data: Path, tmp_path: Path
) -> None:
    import tifffile

    viewer = make_napari_viewer()
    zyx = real_tcyx(shared_data)[:8, 0]
    zstack = write_ome_tiff(tmp_path / "just z.ome.tif", zyx, "ZYX")
    plain = tmp_path / "plain 4d.tif"
    tifffile.imwrite(plain, real_tcyx(shared_data)[:4])
    for path, what in ((zstack, "has no time axis"), (plain, "does not declare its axis order")):
        with pytest.raises(VideoError, match=rf"{path.name} {what}"):
            get_video_reader(str(path))(str(path))  # type: ignore[misc]
    with pytest.raises(Exception, match=r"just z\.ome\.tif"):
        viewer.open(str(zstack), plugin="napari-dlcflow")
    assert len(viewer.layers) == 0  # nothing half-opened, and the viewer is still there
    viewer.open(
        str(write_ome_tiff(tmp_path / "fine.ome.tif", zyx, "TYX")), plugin="napari-dlcflow"
    )
    assert viewer.layers[0].data.shape == (8, 48, 64)
