"""Load and save of DeepLabCut labels: napari-dlcflow vs pandas as DeepLabCut does it.

1,000 frames x 32 body parts (10 % not labeled), saved as CollectedData h5 + csv, then loaded.
Also: how soon a 500-image labeled-data folder shows its first frame (lazy stack).

Run: ``.venv/bin/python benchmarks/bench_labels.py [--repeat 5]``; prints a table (median s).
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np


def _time(fn: Callable[[], object], repeat: int) -> float:
    out = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        out.append(time.perf_counter() - t0)
    return statistics.median(out)


def main() -> None:
    import pandas as pd
    from PIL import Image

    from napari_dlcflow.core.labels.collected import (
        Labels,
        labels_to_dataframe,
        read_labels,
        write_labels,
    )
    from napari_dlcflow.core.video.reader import ImageFolderReader

    ap = argparse.ArgumentParser()
    ap.add_argument("--repeat", type=int, default=5)
    args = ap.parse_args()
    rng = np.random.default_rng(0)
    n_img, n_bp = 1000, 32
    xy = rng.uniform(0, 640, (n_img, n_bp, 2))
    xy[rng.random((n_img, n_bp)) < 0.1] = np.nan
    labels = Labels(
        scorer="bench",
        keypoints=[("", f"part{k:02d}") for k in range(n_bp)],
        images=[("labeled-data", "vid", f"img{i:04d}.png") for i in range(n_img)],
        xy=xy,
    )
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        ours = Path(tmp) / "ours" / "vid"
        ours.mkdir(parents=True)
        dlc = Path(tmp) / "dlc"
        dlc.mkdir()
        df = labels_to_dataframe(labels)

        def dlc_save() -> None:  # what DeepLabCut's GUI does: in place, no backup
            df.to_hdf(dlc / "CollectedData_bench.h5", key="df_with_missing", mode="w")
            df.to_csv(dlc / "CollectedData_bench.csv")

        stamp = [write_labels(labels, ours).stamp]

        def our_save() -> None:  # as the dock saves: the file on disk is the one it read
            stamp[0] = write_labels(labels, ours, expected_stamp=stamp[0]).stamp

        rows.append(("save h5+csv", _time(our_save, args.repeat), _time(dlc_save, args.repeat)))
        rows.append(
            (
                "save h5 only",
                _time(lambda: write_labels(labels, ours, csv_too=False), args.repeat),
                _time(
                    lambda: df.to_hdf(dlc / "x.h5", key="df_with_missing", mode="w"), args.repeat
                ),
            )
        )
        h5 = ours / "CollectedData_bench.h5"
        rows.append(
            (
                "load h5",
                _time(lambda: read_labels(h5), args.repeat),
                _time(lambda: pd.read_hdf(dlc / "CollectedData_bench.h5"), args.repeat),
            )
        )
        csv = ours / "CollectedData_bench.csv"
        rows.append(
            (
                "load csv",
                _time(lambda: read_labels(csv), args.repeat),
                _time(
                    lambda: pd.read_csv(
                        dlc / "CollectedData_bench.csv", header=[0, 1, 2], index_col=[0, 1, 2]
                    ),
                    args.repeat,
                ),
            )
        )
        assert read_labels(h5).equals(labels)

        imgs = Path(tmp) / "imgs"
        imgs.mkdir()
        frame = rng.integers(0, 255, (480, 640, 3), dtype=np.uint8)
        png = imgs / "img000.png"
        Image.fromarray(frame).save(png)
        data = png.read_bytes()
        paths = [imgs / f"img{i:03d}.png" for i in range(500)]
        for p in paths[1:]:
            p.write_bytes(data)

        def first_frame() -> None:
            stack = ImageFolderReader(imgs, files=paths)
            stack.check_sizes()
            np.asarray(stack[0])

        def eager() -> None:
            np.stack([np.asarray(Image.open(p)) for p in paths])

        rows.append(
            ("500-image folder: first frame", _time(first_frame, args.repeat), _time(eager, 1))
        )
    print(
        f"{'operation (1,000 frames x 32 parts)':<36} {'napari-dlcflow':>15} {'pandas/eager':>13}"
    )
    for name, a, b in rows:
        print(f"{name:<36} {a:>14.3f}s {b:>12.3f}s")
    print("napari-dlcflow saves atomically with a backup generation; pandas writes in place.")
    print("Last row: lazy stack (first frame shown) vs reading all 500 images.")
    print(f"load average while measuring: {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")


if __name__ == "__main__":
    main()
