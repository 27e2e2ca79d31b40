"""Winograd convolution for the wide 3x3 layers of a CPU forward.

A ResNet backbone run at output stride 16 (DeepLabCut's default) spends more than half its
multiply-adds in its last two stages: 3x3 convolutions over 256 and 512 channels, the last ones
dilated, on a small feature map. oneDNN computes them directly, near this CPU's fp32 peak (the
dilated ones below it), so no loop around them can go faster; only fewer multiplications can.
Winograd's F(4x4, 3x3) computes a 4x4 output tile from a 6x6 input tile with 36 products per
channel pair instead of 144.

A dilated convolution is split into its ``d * d`` polyphase components (every ``d``-th row and
column), each an ordinary 3x3 convolution with padding 1; their tiles are stacked, so one batched
matrix product per Winograd point does every component, tile and frame of the batch.

The arithmetic is a different order of the same sums: results differ from exact ones by
rounding (up to about 1e-5 of a layer's output range, against 3e-6 for oneDNN's direct
convolution), and the engine's predictions stay within the 0.01 px of DeepLabCut's that
``tests/core/test_inference.py`` checks.

Only the engine's child process uses this; torch is imported inside functions, as everywhere in
``core/engine`` (the module class is made on first use: :func:`winograd_class`).
"""

from __future__ import annotations

from functools import cache
from typing import Any

import numpy as np

# Lavin & Gray (2016), F(4x4, 3x3) with points 0, 1, -1, 2, -2 and infinity.
_BT = np.array(
    [
        [4, 0, -5, 0, 1, 0],
        [0, -4, -4, 1, 1, 0],
        [0, 4, -4, -1, 1, 0],
        [0, -2, -1, 2, 1, 0],
        [0, 2, -1, -2, 1, 0],
        [0, 4, 0, -5, 0, 1],
    ],
    dtype=np.float64,
)
_G = np.array(
    [
        [1 / 4, 0, 0],
        [-1 / 6, -1 / 6, -1 / 6],
        [-1 / 6, 1 / 6, -1 / 6],
        [1 / 24, 1 / 12, 1 / 6],
        [1 / 24, -1 / 12, 1 / 6],
        [0, 0, 1],
    ],
    dtype=np.float64,
)
_AT = np.array(
    [
        [1, 1, 1, 1, 1, 0],
        [0, 1, -1, 2, -2, 0],
        [0, 1, 1, 4, 4, 0],
        [0, 1, -1, 8, -8, 1],
    ],
    dtype=np.float64,
)
M = 4  # output tile
T = M + 2  # input tile

#: The layers :func:`use_winograd` replaces: 3x3, stride 1, "same" padding, at least this many
#: input and output channels (``benchmarks/bench_winograd.py`` on 2 Zen 3 cores, batch 8:
#: 1.05-2.5x oneDNN's speed from 256 channels, 0.96-1.31x at 128; docs/analysis-engine.md).
MIN_CHANNELS = 256

#: Above this size of transformed input (bytes), tiles are done a few images at a time: a
#: 1500x1080 frame's batch of 8 fits (255 MB in the last stage), a 4K one's is split, so the
#: transient memory stays near three times this. Splitting costs 3-10 % (one more copy).
CHUNK_BYTES = 512 << 20


@cache
def winograd_class() -> type:
    """The module class :class:`WinogradConv2d` (made once, on first use: it needs torch)."""
    import torch
    from torch import nn

    class WinogradConv2d(nn.Module):
        """A 3x3, stride-1 convolution with padding equal to its dilation, by Winograd F(4x4, 3x3).

        Parameters
        ----------
        conv : torch.nn.Conv2d
            The convolution to replace (its weights are transformed once, here).
        """

        def __init__(self, conv: Any) -> None:
            super().__init__()
            if not replaceable(conv, min_channels=1):
                raise ValueError(f"not a 3x3 stride-1 'same' convolution: {conv}")
            self.dilation = int(conv.dilation[0])
            self.in_channels = conv.in_channels
            self.out_channels = conv.out_channels
            w = conv.weight.detach().to(torch.float64)  # (K, C, 3, 3)
            g = torch.from_numpy(_G)
            u = torch.einsum("ar,kcrs,bs->abck", g, w, g)  # (6, 6, C, K)
            self.register_buffer("u", u.reshape(T * T, self.in_channels, -1).float().contiguous())
            bt = torch.from_numpy(_BT)
            at = torch.from_numpy(_AT)
            self.register_buffer("bb", torch.kron(bt, bt).float())  # (36, 36)
            self.register_buffer("aa", torch.kron(at, at).float())  # (16, 36)
            bias = conv.bias.detach().float() if conv.bias is not None else None
            self.register_buffer("bias", bias)
            self.direct = conv  # for what this is not faster at: autocast, a GPU, other dtypes
            self.chunk_bytes = CHUNK_BYTES

        def forward(self, x: Any) -> Any:
            """Convolve ``x`` (N, C, H, W); the result is ``channels_last`` like oneDNN's.

            In fp32 on a CPU only; otherwise (autocast, half precision, a GPU) the original
            convolution runs.
            """
            if (
                x.dtype != torch.float32
                or x.device.type != "cpu"
                or torch.is_autocast_enabled(x.device.type)
            ):
                return self.direct(x)
            n, c, height, width = x.shape
            d = self.dilation
            h, w = -(-height // d), -(-width // d)  # a polyphase component's size
            th, tw = -(-h // M), -(-w // M)  # tiles per component
            # the components, zero-padded: 1 before (the convolution's padding), enough after
            padded = x.new_zeros((n, d, d, th * M + 2, tw * M + 2, c))
            nhwc = x.permute(0, 2, 3, 1)
            for a in range(d):
                for b in range(d):
                    part = nhwc[:, a::d, b::d]
                    padded[:, a, b, 1 : 1 + part.shape[1], 1 : 1 + part.shape[2]] = part
            images = padded.view(n * d * d, th * M + 2, tw * M + 2, c)
            k = self.out_channels
            # at most chunk_bytes for each of the transformed input and the products
            per = max(1, self.chunk_bytes // (T * T * th * tw * max(c, k) * 4))
            if per >= len(images):
                y = self._tiles(images)
            else:  # frames of many megapixels: a few images' tiles at a time
                y = x.new_empty((M * M, len(images), th, tw, k))
                for i in range(0, len(images), per):
                    y[:, i : i + per] = self._tiles(images[i : i + per])
            y = y.view(M, M, n, d, d, th, tw, k)
            # row (tile * M + i) * d + a of the output is row i of tile `tile` of component a
            out = y.permute(2, 5, 0, 3, 6, 1, 4, 7).reshape(n, th * M * d, tw * M * d, k)
            out = out[:, :height, :width]
            out = out + self.bias if self.bias is not None else out.contiguous()
            return out.permute(0, 3, 1, 2)

        def _tiles(self, images: Any) -> Any:
            """Output tiles (16, B, th, tw, K) of zero-padded NHWC ``images`` (B, ., ., C)."""
            b, c = images.shape[0], images.shape[-1]
            tiles = images.unfold(1, T, M).unfold(2, T, M)  # (B, th, tw, C, 6, 6), a view
            th, tw = tiles.shape[1], tiles.shape[2]
            p = b * th * tw
            data = tiles.permute(4, 5, 0, 1, 2, 3).reshape(T * T, p * c)  # (36, tiles x C)
            v = torch.mm(self.bb, data).view(T * T, p, c)
            prod = torch.bmm(v, self.u)  # (36, tiles, K): the products, one matmul per point
            return torch.mm(self.aa, prod.view(T * T, p * self.out_channels)).view(
                M * M, b, th, tw, self.out_channels
            )

        def extra_repr(self) -> str:
            return (
                f"{self.in_channels}, {self.out_channels}, F(4x4, 3x3), dilation={self.dilation}"
            )

    return WinogradConv2d


def replaceable(conv: Any, min_channels: int = MIN_CHANNELS) -> bool:
    """Whether ``conv`` is a convolution :class:`WinogradConv2d` computes (and is wide enough)."""
    from torch import nn

    return (
        isinstance(conv, nn.Conv2d)
        and conv.kernel_size == (3, 3)
        and conv.stride == (1, 1)
        and conv.groups == 1
        and conv.dilation[0] == conv.dilation[1]
        and conv.padding == conv.dilation
        and conv.padding_mode == "zeros"
        and min(conv.in_channels, conv.out_channels) >= min_channels
    )


def use_winograd(module: Any, min_channels: int = MIN_CHANNELS) -> list[str]:
    """Replace, in place, every convolution of ``module`` that :func:`replaceable` accepts.

    Returns
    -------
    list of str
        The names of the replaced layers.
    """
    winograd_conv2d = winograd_class()
    done = []
    for name, child in list(module.named_modules()):
        if replaceable(child, min_channels):
            parent_name, _, attr = name.rpartition(".")
            parent = module.get_submodule(parent_name) if parent_name else module
            if isinstance(parent, winograd_conv2d):  # its own fallback
                continue
            setattr(parent, attr, winograd_conv2d(child))
            done.append(name)
    return done
