"""Batch preprocessing on Dask: a plain loop vs 1 and 2 local workers; overhead; retry; memory.

In one run:

1. ``N`` synthetic videos preprocessed (ImageJ contrast, H.264, one encoder thread: CPU-bound)
   by a plain loop in this process, by a 1-worker and by a 2-worker local cluster, interleaved,
   ``--repeat`` times: median wall time, frames/s, speed-up, and whether every output is
   byte-identical to the plain loop's.
2. The per-task overhead of the queue: the same tasks again when their outputs are complete
   (each task then only checks and skips), 1 worker vs the plain loop, per task; set against
   preprocessing a one-minute (1,800-frame) video at the measured rate.
3. The time to notice a killed worker and start its task again elsewhere (kill at frame 20),
   and the whole task's extra time.
4. A worker's peak resident memory (worker process and its children, sampled every 50 ms) on
   a short and a 10x longer video.

The machine's load (1-minute load average, and the CPU share other processes took during the
timed runs) is printed with the table: on a shared machine, read the speed-up with it.

Run: ``.venv/bin/python benchmarks/bench_batch.py [--videos 4 --frames 200 --repeat 3]``.
"""

from __future__ import annotations

import argparse
import os
import signal
import statistics
import tempfile
import time
from pathlib import Path


def _load() -> float:
    return os.getloadavg()[0]


class _OthersCpu:
    """CPU seconds used by processes that are not this one or its children, over a span."""

    def __init__(self) -> None:
        import psutil

        self.psutil = psutil

    def _mine(self) -> set[int]:
        me = self.psutil.Process()
        return {me.pid, *(c.pid for c in me.children(recursive=True))}

    def total(self) -> float:
        t = self.psutil.cpu_times()
        return t.user + t.system + getattr(t, "nice", 0.0)

    def mine(self) -> float:
        out = 0.0
        for pid in self._mine():
            try:
                c = self.psutil.Process(pid).cpu_times()
                out += c.user + c.system + c.children_user + c.children_system
            except self.psutil.Error:
                pass
        return out


def main() -> None:
    from napari_dlcflow.core.batch.cluster import open_cluster
    from napari_dlcflow.core.batch.runner import run_batch, run_plain
    from napari_dlcflow.core.batch.tasks import VideoTask
    from napari_dlcflow.core.example.synthetic import SyntheticSpec, write_synthetic_example
    from napari_dlcflow.core.video.preprocess import ContrastParams, PreprocessSpec

    ap = argparse.ArgumentParser()
    ap.add_argument("--videos", type=int, default=4)
    ap.add_argument("--frames", type=int, default=200)
    ap.add_argument("--size", type=int, default=256)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--memory-frames", type=int, default=200, help="short video, memory test")
    args = ap.parse_args()
    spec = PreprocessSpec(contrast=ContrastParams(method="imagej")).to_dict()
    cpu = _OthersCpu()
    n_cores = os.cpu_count() or 1

    with tempfile.TemporaryDirectory(prefix="bench-batch-") as tmp:
        root = Path(tmp)
        videos = []
        for i in range(args.videos):
            f = write_synthetic_example(
                root / f"v{i}",
                SyntheticSpec(n_frames=args.frames, height=args.size, width=args.size, seed=i),
            )
            videos.append(f.video.rename(f.video.with_name(f"video{i}.mp4")))
        n_frames = args.videos * args.frames

        def tasks(out: Path) -> list:
            return [VideoTask("preprocess", str(v), str(out), spec, threads=1) for v in videos]

        times: dict[str, list[float]] = {"plain loop": [], "1 worker": [], "2 workers": []}
        others: list[float] = []
        loads: list[float] = [_load()]
        identical = True
        t_start = time.monotonic()
        with open_cluster("local", n_workers=1) as one, open_cluster("local", n_workers=2) as two:
            startup = time.monotonic() - t_start
            clients = {"1 worker": one.client, "2 workers": two.client}
            for rep in range(args.repeat):
                order = ["plain loop", "1 worker", "2 workers"]
                order = order[rep % 3 :] + order[: rep % 3]  # interleaved, rotated
                for name in order:
                    out = root / f"out-{name.replace(' ', '-')}-{rep}"
                    total0, mine0, t0 = cpu.total(), cpu.mine(), time.perf_counter()
                    if name == "plain loop":
                        res = run_plain(tasks(out))
                    else:
                        res = run_batch(tasks(out), clients[name])
                    wall = time.perf_counter() - t0
                    assert res.ok, res.rows
                    times[name].append(wall)
                    # other processes' CPU share (mine includes the worker processes)
                    mine = cpu.mine() - mine0
                    others.append(max(0.0, (cpu.total() - total0 - mine)) / (wall * n_cores))
                    loads.append(_load())
                    plain_out = root / f"out-plain-loop-{rep}"
                    if plain_out.exists() and name != "plain loop":
                        for r in res.rows:
                            ref = plain_out / Path(r["output"]).name
                            identical &= ref.read_bytes() == Path(r["output"]).read_bytes()
            # 2. per-task overhead: tasks whose outputs are complete only check and skip
            done_dir = root / "out-plain-loop-0"
            skip_plain, skip_one = [], []
            for _ in range(max(3, args.repeat)):
                t0 = time.perf_counter()
                r = run_plain(tasks(done_dir))
                skip_plain.append(time.perf_counter() - t0)
                assert all(x["state"] == "skipped" for x in r.rows)
                t0 = time.perf_counter()
                r = run_batch(tasks(done_dir), one.client)
                skip_one.append(time.perf_counter() - t0)
                assert all(x["state"] == "skipped" for x in r.rows)
            overhead = (statistics.median(skip_one) - statistics.median(skip_plain)) / len(videos)
            # 3. a killed worker: time to notice and start again, and the task's extra time
            # (a fresh 2-worker cluster each time: the nanny's restart is not what is measured)
            notice, extra = [], []
            for k in range(max(3, args.repeat)):
                out = root / f"out-kill-{k}"
                mark: dict[str, float] = {}

                def kill(table, row, mark=mark) -> None:
                    if "kill" not in mark and row.state == "running" and row.frames_done >= 20:
                        mark["kill"] = time.perf_counter()
                        os.kill(row.pid, signal.SIGKILL)
                    if "kill" in mark and "again" not in mark and row.state == "retrying":
                        mark["again"] = time.perf_counter()

                with open_cluster("local", n_workers=2) as fresh:
                    t0 = time.perf_counter()
                    res = run_batch(tasks(out)[:1], fresh.client, on_progress=kill)
                    wall = time.perf_counter() - t0
                assert res.ok and res.rows[0]["attempts"] == 2, res.rows
                notice.append(mark["again"] - mark["kill"])
                extra.append(wall)
            single = run_plain(tasks(root / "out-single")[:1]).rows[0]["seconds"]
        # 4. memory on a short and a 10x longer video, each on a fresh worker
        mem = {}
        for label, n in (("short", args.memory_frames), ("10x longer", 10 * args.memory_frames)):
            f = write_synthetic_example(
                root / f"mem-{n}",
                SyntheticSpec(n_frames=n, height=args.size, width=args.size, seed=99),
            )
            with open_cluster("local", n_workers=1) as c:
                import psutil

                base = max(c.client.run(lambda: psutil.Process().memory_info().rss).values())
                res = run_batch(
                    [VideoTask("preprocess", str(f.video), str(root / f"mem-out-{n}"), spec)],
                    c.client,
                )
            mem[label] = (n, base / 2**20, res.rows[0]["peak_mb"])

    med = {k: statistics.median(v) for k, v in times.items()}
    print(
        f"\n{args.videos} videos x {args.frames} frames ({args.size}x{args.size}, ImageJ "
        f"contrast, H.264 1 thread), {n_cores} cores, medians of {args.repeat} interleaved runs"
    )
    print(
        f"load: 1-min load average {min(loads):.2f}..{max(loads):.2f} during the runs; other "
        f"processes took {100 * statistics.median(others):.0f} % of the CPUs (median)"
    )
    print(f"{'':<12}{'wall s':>9}{'frames/s':>10}{'vs loop':>9}{'vs 1 worker':>13}")
    for name in times:
        print(
            f"{name:<12}{med[name]:>9.2f}{n_frames / med[name]:>10.1f}"
            f"{med['plain loop'] / med[name]:>8.2f}x{med['1 worker'] / med[name]:>12.2f}x"
        )
    print(f"outputs byte-identical to the plain loop: {identical}")
    print(f"cluster start-up (both clusters): {startup:.1f} s (not in the times above)")
    one_minute = 1800 / (args.frames / single)
    print(
        f"per-task overhead of the queue: {1000 * overhead:.0f} ms "
        f"(= {100 * overhead / one_minute:.2f} % of preprocessing a 1,800-frame video here, "
        f"{one_minute:.0f} s)"
    )
    print(
        f"killed worker: noticed and task started again after {statistics.median(notice):.2f} s "
        f"(median; min {min(notice):.2f}, max {max(notice):.2f}); the whole killed task took "
        f"{statistics.median(extra):.2f} s vs {single:.2f} s unkilled"
    )
    for label, (n, base, peak) in mem.items():
        print(
            f"peak memory, {label} video ({n} frames): {peak:.0f} MB "
            f"(worker at rest {base:.0f} MB)"
        )


if __name__ == "__main__":
    main()
