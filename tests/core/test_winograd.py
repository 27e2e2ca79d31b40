"""Winograd F(4x4, 3x3) convolution (core/engine/winograd.py) against torch's direct one."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from napari_dlcflow.core.engine.winograd import replaceable, use_winograd, winograd_class

WinogradConv2d = winograd_class()


@pytest.mark.parametrize(
    ("channels", "dilation", "size", "bias"),
    [
        ((8, 5), 1, (7, 9), True),  # sizes that are not whole tiles
        ((16, 16), 1, (8, 8), False),  # exactly two tiles a side
        ((8, 6), 2, (25, 26), True),  # dilated: odd and even polyphase components
        ((4, 4), 3, (10, 11), True),  # any dilation
        ((4, 4), 2, (1, 3), True),  # smaller than a tile
    ],
)
def test_equals_the_direct_convolution(
    channels: tuple[int, int], dilation: int, size: tuple[int, int], bias: bool
) -> None:
    torch.manual_seed(0)
    conv = nn.Conv2d(*channels, 3, padding=dilation, dilation=dilation, bias=bias)
    x = torch.randn(3, channels[0], *size).to(memory_format=torch.channels_last)
    exact = conv.double()(x.double())
    conv.float()
    wino = WinogradConv2d(conv)
    with torch.inference_mode():
        ours = wino(x)
        wino.chunk_bytes = 1  # as for frames of many megapixels: one image's tiles at a time
        chunked = wino(x)
    assert ours.shape == exact.shape and ours.dtype == torch.float32
    assert ours.is_contiguous(memory_format=torch.channels_last)  # what oneDNN's next layer takes
    scale = exact.abs().max().item()
    assert (ours.double() - exact).abs().max().item() < 3e-5 * scale
    assert (chunked.double() - exact).abs().max().item() < 3e-5 * scale
    # and not by chance: another weight gives another result
    conv.weight.data[0, 0, 1, 1] += 1.0
    assert (WinogradConv2d(conv)(x).double() - exact).abs().max().item() > 0.1


def test_wide_layers_of_a_network_are_replaced_once() -> None:
    torch.manual_seed(1)
    net = nn.Sequential(
        nn.Conv2d(3, 16, 3, padding=1),  # too narrow
        nn.Sequential(
            nn.Conv2d(16, 16, 3, padding=2, dilation=2),
            nn.ReLU(),
            nn.Conv2d(16, 16, 3, stride=2, padding=1),  # strided: not ours
            nn.Conv2d(16, 16, 1),  # 1x1
            nn.Conv2d(16, 16, 3, padding=1, dilation=2),  # padding is not "same"
            nn.Conv2d(16, 16, 3, padding=1),
        ),
    ).eval()
    x = torch.randn(2, 3, 20, 22)
    before = net(x)
    assert use_winograd(net, min_channels=16) == ["1.0", "1.5"]
    assert isinstance(net[1][0], WinogradConv2d) and isinstance(net[1][5], WinogradConv2d)
    assert not replaceable(net[1][2], 1) and not replaceable(net[1][3], 1)
    assert not replaceable(net[1][4], 1)
    torch.testing.assert_close(net(x), before, rtol=1e-4, atol=1e-5)
    assert use_winograd(net, min_channels=16) == []  # not the fallback inside it


def test_half_precision_and_autocast_run_the_direct_convolution() -> None:
    torch.manual_seed(2)
    conv = nn.Conv2d(8, 8, 3, padding=2, dilation=2)
    wino = WinogradConv2d(conv)
    x = torch.randn(2, 8, 12, 12)
    with torch.inference_mode(), torch.autocast("cpu", dtype=torch.bfloat16):
        y = wino(x)
        direct = conv(x)
    assert y.dtype == torch.bfloat16
    assert torch.equal(y, direct)
    with pytest.raises(ValueError, match="not a 3x3 stride-1"):
        WinogradConv2d(nn.Conv2d(8, 8, 3, stride=2, padding=1))
