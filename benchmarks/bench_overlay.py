"""Opening a DLC analysis file of 100k frames x 32 body parts as napari layers.

Compares our route (numpy reshape of the table into points, skeleton vectors and trails;
:mod:`napari_dlcflow.core.predictions.analysis_files`) with the pandas ``DataFrame.stack`` route
that
napari-deeplabcut-style readers take (long table per frame and body part, then a Points layer
coloured through a categorical property). Each route runs in its own process, so its peak
memory is its own; the file is written once, in DLC's exact format.

Run: ``python benchmarks/bench_overlay.py [--frames 100000] [--bodyparts 32] [--repeat 3]``
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np


def _status_mib(field: str) -> float:
    """A memory figure of this process from ``/proc/self/status`` in MiB (NaN if absent)."""
    with open("/proc/self/status") as fh:
        for line in fh:
            if line.startswith(f"{field}:"):
                return int(line.split()[1]) / 1024
    return float("nan")


def _peak_rss_mib() -> float:
    return _status_mib("VmHWM")


def _rss_mib() -> float:
    return _status_mib("VmRSS")


def make_file(path: Path, n_frames: int, n_bodyparts: int, seed: int = 0) -> None:
    from napari_dlcflow.core.predictions.analysis_files import Predictions, write_predictions

    rng = np.random.default_rng(seed)
    xy = np.cumsum(rng.normal(0, 2, (n_frames, n_bodyparts, 2)), axis=0) + 500
    # a trained network: mostly confident, with a tail of misses
    lik = 1.0 - rng.beta(0.5, 5.0, (n_frames, n_bodyparts, 1))
    names = tuple(f"bodypart{i:02d}" for i in range(n_bodyparts))
    pred = Predictions(
        np.concatenate([xy, lik], axis=2),
        names,
        ("",) * n_bodyparts,
        "DLC_Resnet50_benchNov24shuffle1_snapshot_best-200",
        np.arange(n_frames),
    )
    write_predictions(pred, path)


def route_ours(path: Path) -> dict[str, float]:
    import napari.layers
    from napari.components import ViewerModel

    from napari_dlcflow.core.layers.data import predictions_layers
    from napari_dlcflow.core.predictions.analysis_files import read_predictions
    from napari_dlcflow.napari_common import finish_layer_data
    from napari_dlcflow.widgets.overlay.layers import WINDOW_FRAMES, WINDOWED_ABOVE

    viewer = ViewerModel()
    t0 = time.perf_counter()
    pred = read_predictions(path)
    t_read = time.perf_counter()
    names = pred.unique_bodyparts
    skeleton = [(names[i], names[i + 1]) for i in range(len(names) - 1)] + [(names[0], names[-1])]
    # as the Overlay dock does: skeleton and trails for a window of frames on long videos
    big = pred.data.shape[0] * pred.data.shape[1] > WINDOWED_ABOVE
    window = (0, WINDOW_FRAMES) if big else None
    layer_data = finish_layer_data(
        predictions_layers(pred, skeleton, pcutoff=0.6, tail_length=30, window=window)
    )
    t_data = time.perf_counter()
    layers = {}
    for data, kwargs, kind in layer_data:
        layers[kind] = viewer.add_layer(getattr(napari.layers, kind.capitalize())(data, **kwargs))
    t_layers = time.perf_counter()
    # a p-cutoff change: the shown mask of every point
    layers["points"].shown = layers["points"].features["likelihood"].to_numpy() >= 0.8
    t_cut = time.perf_counter()
    return {
        "read": t_read - t0,
        "layer data": t_data - t_read,
        "napari layers": t_layers - t_data,
        "total": t_layers - t0,
        "p-cutoff change": t_cut - t_layers,
        "points": float(len(layers["points"].data)),
        "layers": "points+skeleton+trails" + (f" ({WINDOW_FRAMES}-frame window)" if big else ""),
    }


def route_pandas_stack(path: Path) -> dict[str, float]:
    import napari.layers
    import pandas as pd
    from napari.components import ViewerModel

    from napari_dlcflow.core.layers.colors import palette

    viewer = ViewerModel()
    t0 = time.perf_counter()
    df = pd.read_hdf(path, "df_with_missing")
    t_read = time.perf_counter()
    df = df.droplevel("scorer", axis=1)
    long = df.stack("bodyparts", future_stack=True).dropna(subset=["x", "y"])
    frames = long.index.get_level_values(0).to_numpy()
    labels = long.index.get_level_values("bodyparts").to_numpy()
    data = np.column_stack([frames, long["y"].to_numpy(), long["x"].to_numpy()])
    properties = {"label": labels, "likelihood": long["likelihood"].to_numpy()}
    t_data = time.perf_counter()
    n = len(df.columns.get_level_values("bodyparts").unique())
    points = viewer.add_layer(
        napari.layers.Points(
            data,
            properties=properties,
            face_color="label",
            face_color_cycle=list(palette(n)),
            size=6,
        )
    )
    t_layers = time.perf_counter()
    return {
        "read": t_read - t0,
        "layer data": t_data - t_read,
        "napari layers": t_layers - t_data,
        "total": t_layers - t0,
        "p-cutoff change": float("nan"),
        "points": float(len(points.data)),
        "layers": "points only",
    }


ROUTES = {"ours (numpy reshape)": route_ours, "pandas stack": route_pandas_stack}


def _child(route: str, path: str) -> None:
    import napari.layers
    import pandas  # noqa: F401

    # napari imports parts of itself (units, colour managers) on first use: warm them up, as
    # in a running viewer, so that they are not timed
    tiny = np.zeros((4, 3))
    napari.layers.Points(tiny, features={"a": np.arange(4)}, face_color=np.ones((4, 4)))
    napari.layers.Vectors(np.zeros((2, 2, 3)))
    napari.layers.Tracks(np.array([[0, 0, 1, 1], [0, 1, 2, 2]], dtype=float))
    base = _rss_mib()
    result = ROUTES[route](Path(path))
    result["peak MiB over baseline"] = _peak_rss_mib() - base
    print("@bench " + json.dumps(result))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--frames", type=int, default=100_000)
    parser.add_argument("--bodyparts", type=int, default=32)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--child", nargs=2, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        _child(*args.child)
        return
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "videoDLC_Resnet50_benchNov24shuffle1_snapshot_best-200.h5"
        t0 = time.perf_counter()
        make_file(path, args.frames, args.bodyparts)
        print(
            f"{args.frames} frames x {args.bodyparts} body parts: "
            f"{path.stat().st_size / 2**20:.0f} MiB h5 written in {time.perf_counter() - t0:.2f} s"
        )
        rows = []
        for name in ROUTES:
            best: dict | None = None
            for _ in range(args.repeat):
                out = subprocess.run(
                    [sys.executable, __file__, "--child", name, str(path)],
                    capture_output=True,
                    text=True,
                    check=True,
                )
                line = next(s for s in out.stdout.splitlines() if s.startswith("@bench "))
                res = json.loads(line[len("@bench ") :])
                if best is None or res["total"] < best["total"]:
                    best = res
            rows.append((name, best))
    head = ("route", "read s", "data s", "layers s", "total s", "peak MiB", "cutoff s", "layers")
    print(f"{head[0]:<22}" + "".join(f"{h:>10}" for h in head[1:-1]) + f"  {head[-1]}")
    for name, r in rows:
        print(
            f"{name:<22}{r['read']:>10.2f}{r['layer data']:>10.2f}{r['napari layers']:>10.2f}"
            f"{r['total']:>10.2f}{r['peak MiB over baseline']:>10.0f}{r['p-cutoff change']:>10.3f}"
            f"  {r['layers']}"
        )
    n_points = int(rows[0][1]["points"])
    print(f"(best of {args.repeat} runs, each route in a fresh process; {n_points} points)")


if __name__ == "__main__":
    main()
