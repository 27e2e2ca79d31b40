"""One convolution layer: our Winograd F(4x4, 3x3) (core/engine/winograd.py) against oneDNN's.

For each layer shape of a ResNet's last stages (the feature-map sizes of a 128x128, 200x200,
396x406 and 1500x1080 frame at output stride 16), both run on the same input in one process,
taking turns, in fp32 on the CPU in ``channels_last``; each figure is the median of the turns.
Run it in the analysis child's environment (the heap settings) for the engine's numbers::

    MALLOC_MMAP_MAX_=0 MALLOC_TRIM_THRESHOLD_=1099511627776 \\
        .venv/bin/python benchmarks/bench_winograd.py [--batch 8] [--turns 9]

Prints one table: ms per batch each way and the ratio (above 1: Winograd is faster), and the
largest difference from a float64 convolution relative to the output's range, each way.
"""

from __future__ import annotations

import argparse
import os
import statistics
import time

import torch
from torch import nn

from napari_dlcflow.core.engine.winograd import winograd_class

# (in, out, dilation, feature-map sizes): 128->128 at stage 2 (twice the size)
LAYERS = [
    (512, 512, 2, [(8, 8), (13, 13), (26, 25), (68, 94)]),
    (256, 512, 1, [(8, 8), (13, 13), (26, 25), (68, 94)]),
    (256, 256, 1, [(8, 8), (13, 13), (26, 25), (68, 94)]),
    (128, 128, 1, [(16, 16), (26, 26), (51, 50), (136, 188)]),
]


def measure(
    cin: int, cout: int, dilation: int, size: tuple[int, int], batch: int, turns: int
) -> tuple[float, float, float, float]:
    """(direct ms, winograd ms, direct error, winograd error) for one layer."""
    torch.manual_seed(0)
    conv = nn.Conv2d(cin, cout, 3, padding=dilation, dilation=dilation).eval()
    conv.to(memory_format=torch.channels_last)
    wino = winograd_class()(conv)
    x = torch.randn(batch, cin, *size).to(memory_format=torch.channels_last)
    times: dict[str, list[float]] = {"direct": [], "winograd": []}
    with torch.inference_mode():
        exact = nn.functional.conv2d(
            x.double(),
            conv.weight.double(),
            conv.bias.double(),
            padding=dilation,
            dilation=dilation,
        )
        scale = exact.abs().max().item()
        err = [(f(x).double() - exact).abs().max().item() / scale for f in (conv, wino)]
        for _ in range(turns):
            for name, f in (("direct", conv), ("winograd", wino)):
                t = time.perf_counter()
                f(x)
                times[name].append((time.perf_counter() - t) * 1000)
    return statistics.median(times["direct"]), statistics.median(times["winograd"]), *err


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--batch", type=int, default=8)
    ap.add_argument("--turns", type=int, default=9)
    args = ap.parse_args()
    load0 = os.getloadavg()
    t0 = time.time()
    rows = []
    for cin, cout, d, sizes in LAYERS:
        for size in sizes:
            direct, wino, e_direct, e_wino = measure(cin, cout, d, size, args.batch, args.turns)
            rows.append(
                f"| {cin} -> {cout}{', dilation 2' if d == 2 else ''} | {size[0]}x{size[1]} | "
                f"{direct:.1f} | {wino:.1f} | {direct / wino:.2f}x | {e_direct:.1e} | "
                f"{e_wino:.1e} |"
            )
            print(rows[-1], flush=True)
    load1 = os.getloadavg()
    print()
    print(
        f"{time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime(t0))}, {os.cpu_count()} CPUs, "
        f"{torch.get_num_threads()} threads, torch {torch.__version__}, batch {args.batch}, "
        f"medians of {args.turns} turns; 1-min load {load0[0]:.1f} at start, {load1[0]:.1f} at "
        f"the end; heap settings {'on' if os.environ.get('MALLOC_MMAP_MAX_') == '0' else 'off'}"
    )
    print("| layer | map | direct ms | Winograd ms | ratio | direct error | Winograd error |")
    print("|---|---|---|---|---|---|---|")
    print("\n".join(rows))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
