"""Seeded fuzzer over every reader of napari-dlcflow.

Each case mutates a real (or known-good generated) input file with a seeded random mutation
(byte flips, truncation, inserted or zeroed bytes, duplicated chunks; for text: deleted,
repeated or swapped lines, special values such as ``inf``, ``1e308``, ``-1``, ``nan``, empty
cells, a huge cell, deep nesting), then runs the reader on it in a forked child process with a
time limit. The outcome of each case is one of:

``load``
    The reader returned.
``error``
    The reader raised one of the project's documented errors and the message names the file.
``raw``
    Any other exception, or a documented error that does not name the file (a bug).
``crash``
    The child died (segfault, abort, ...) (a bug).
``hang``
    The child did not finish within the limit (a bug).

Run ``python tests/fuzz/fuzz_readers.py --cases 20000`` for a long run; it prints a table of
outcomes per reader and exits non-zero on any bug. ``tests/fuzz/test_fuzz.py`` runs a bounded
number of cases in the test suite.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import random
import shutil
import sys
import tempfile
import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[1]
SHARED = Path(os.environ.get("DLCFLOW_SHARED_DATA") or REPO.parent / "shared" / "data")

OUTCOMES = ("load", "error", "raw", "crash", "hang")
BUGS = ("raw", "crash", "hang")
#: Longest documented error message, the file's path left out: a message that quotes more of
#: the file than this is a bug (``raw``), like one that does not name the file.
MAX_MESSAGE = 2_000


# ---------------------------------------------------------------------------------- readers
def _documented() -> tuple[type[BaseException], ...]:
    from napari_dlcflow.core.formats import FormatError
    from napari_dlcflow.core.labels.collected import LabelsError
    from napari_dlcflow.core.predictions.analysis_files import PredictionsError
    from napari_dlcflow.core.project.config import ConfigError
    from napari_dlcflow.core.untrusted import UntrustedFileError
    from napari_dlcflow.core.video.probe import VideoError

    return (
        LabelsError,
        FormatError,
        PredictionsError,
        ConfigError,
        VideoError,
        UntrustedFileError,
        FileNotFoundError,
    )


def _read_labels(path: Path) -> None:
    from napari_dlcflow.core.labels.collected import read_labels

    read_labels(path)


def _read_predictions(path: Path) -> None:
    from napari_dlcflow.core.predictions.analysis_files import is_analysis_file, read_predictions

    is_analysis_file(path)  # documented as never raising
    read_predictions(path)


def _read_config(path: Path) -> None:
    from napari_dlcflow.core.project.config import Project

    p = Project.open(path)
    # every typed property must work on a config that opened
    _ = (p.pcutoff, p.dotsize, p.iteration, p.videos, p.skeleton, p.training_fractions)
    _ = (p.bodyparts, p.individuals, p.unique_bodyparts, p.colormap, p.project_path_ok)


def _read_video(path: Path) -> None:
    from napari_dlcflow.napari_common import layer_data_for

    # napari's path: the reader, then the contrast limits sampled from a few frames
    src = layer_data_for(path, prefetch=0)[0]
    try:
        n = len(src)
        for i in sorted({0, n // 2, n - 1}):
            src[i]
    finally:
        close = getattr(src, "close", None)
        if close:
            close()


def _read_foreign(fmt: str) -> Callable[[Path], None]:
    def read(path: Path) -> None:
        from napari_dlcflow.core.formats import read_foreign

        target = path.parent if fmt == "per-image-csv" else path
        read_foreign(target, format=fmt)

    return read


# ---------------------------------------------------------------------------------- seeds
def _png(path: Path, value: int = 0) -> None:
    from PIL import Image

    yy, xx = np.mgrid[0:40, 0:60]
    a = np.stack([xx * 4, yy * 6, np.full_like(xx, 90)], axis=-1).astype(np.uint8)
    a[5, 5, 0] = value
    Image.fromarray(a).save(path)


def _seed_predictions(d: Path) -> Path:
    from napari_dlcflow.core.predictions.analysis_files import (
        simulate_predictions,
        write_predictions,
    )

    truth = np.random.default_rng(1).uniform(5, 35, size=(20, 2, 2))
    pred = simulate_predictions(truth, ("nose", "tail"), seed=1)
    out = d / "videoDLC_Resnet50_fuzzNov24shuffle1_snapshot_best-10.h5"
    write_predictions(pred, out, csv=True)
    return out


def _seed_tiff(d: Path) -> Path:
    import tifffile

    out = d / "stack.tif"
    tifffile.imwrite(out, (np.arange(5 * 24 * 32) % 65535).reshape(5, 24, 32).astype(np.uint16))
    return out


def _seed_video(d: Path) -> Path:
    src = SHARED / "sleap-tests" / "videos" / "small_robot.mp4"
    if src.is_file() and src.stat().st_size < 2_000_000:
        out = d / "video.mp4"
        shutil.copy(src, out)
        return out
    import av

    out = d / "video.mp4"
    with av.open(str(out), "w") as c:
        s = c.add_stream("mpeg4", rate=30)
        s.width, s.height, s.pix_fmt = 64, 48, "yuv420p"
        for i in range(30):
            f = av.VideoFrame.from_ndarray(np.full((48, 64, 3), i * 8, np.uint8), format="rgb24")
            for pkt in s.encode(f):
                c.mux(pkt)
        for pkt in s.encode():
            c.mux(pkt)
    return out


def _seed_coco(d: Path) -> Path:
    (d / "frames").mkdir()
    images, anns = [], []
    for i in range(3):
        _png(d / "frames" / f"pic_{i}.png", i)
        images.append({"id": i, "file_name": f"frames/pic_{i}.png", "width": 60, "height": 40})
        anns.append(
            {
                "id": i + 1,
                "image_id": i,
                "category_id": 1,
                "keypoints": [10 + i, 12, 2, 30, 20 + i, 2, 0, 0, 0],
                "num_keypoints": 2,
            }
        )
    doc = {
        "images": images,
        "annotations": anns,
        "categories": [{"id": 1, "name": "dog", "keypoints": ["nose", "ear", "tail"]}],
    }
    out = d / "ann.json"
    out.write_text(json.dumps(doc, indent=1))
    return out


def _seed_per_image(d: Path) -> Path:
    folder = d / "dogs"
    folder.mkdir()
    for i in range(3):
        _png(folder / f"dog_{i}.png", i)
        rows = ["image,dog.png", "part,x,y,visible", f"nose,{3 + i},4.5,1", "tail,20,30.25,1"]
        (folder / f"dog_{i}.csv").write_text("\n".join(rows) + "\n")
    return folder / "dog_0.csv"


def _seed_lightning(d: Path) -> Path:
    (d / "labeled-data" / "mouse1").mkdir(parents=True)
    for i in range(2):
        _png(d / "labeled-data" / "mouse1" / f"img{i:03d}.png", i)
    out = d / "CollectedData.csv"
    out.write_text(
        "scorer,lp,lp,lp,lp\nbodyparts,nose,nose,tail,tail\ncoords,x,y,x,y\n"
        "labeled-data/mouse1/img000.png,1.5,2.5,10,11\n"
        "labeled-data/mouse1/img001.png,3,4,,\n"
    )
    return out


def _seed_sleap(d: Path) -> Path:
    """The first 12 labeled frames of SLEAP's real ``clip.slp`` (the whole file takes seconds to
    read, which would make every case slow)."""
    import sleap_io as sio

    full = sio.load_slp(str(SHARED / "sleap-tests/tracks/clip.slp"), open_videos=False)
    small = sio.Labels(
        labeled_frames=full.labeled_frames[:12],
        videos=full.videos,
        skeletons=full.skeletons,
        tracks=full.tracks,
    )
    out = d / "clip.slp"
    sio.save_slp(small, str(out))
    return out


def _copy(src: Path, name: str | None = None) -> Callable[[Path], Path]:
    def make(d: Path) -> Path:
        out = d / (name or src.name)
        shutil.copy(src, out)
        return out

    return make


@dataclass(frozen=True)
class Reader:
    name: str
    seed: Callable[[Path], Path]
    read: Callable[[Path], None]
    text: bool  # mutate lines and tokens too


def readers() -> list[Reader]:
    m4 = SHARED / "dlc-openfield" / "labeled-data" / "m4s1"
    return [
        Reader("labels-h5", _copy(m4 / "CollectedData_Pranav.h5"), _read_labels, False),
        Reader("labels-csv", _copy(m4 / "CollectedData_Pranav.csv"), _read_labels, True),
        Reader("predictions-h5", _seed_predictions, _read_predictions, False),
        Reader(
            "predictions-csv",
            lambda d: _seed_predictions(d).with_suffix(".csv"),
            _read_predictions,
            True,
        ),
        Reader("config", _copy(SHARED / "dlc-openfield" / "config.yaml"), _read_config, True),
        Reader("video", _seed_video, _read_video, False),
        Reader("tiff", _seed_tiff, _read_video, False),
        Reader("sleap", _seed_sleap, _read_foreign("sleap"), False),
        Reader("coco", _seed_coco, _read_foreign("coco"), True),
        Reader("per-image-csv", _seed_per_image, _read_foreign("per-image-csv"), True),
        Reader("lightning-pose", _seed_lightning, _read_foreign("lightning-pose"), True),
    ]


# ---------------------------------------------------------------------------------- mutations
_SPECIAL = [
    "inf", "-inf", "nan", "1e308", "-1", "0", "", "1.5", "-0", "1e-320", "true", "null", "[]",
    "{}", "~", "'", '"', ",", "\x00", "é", "\ufeff", "99999999999999999999", "x" * 200_000,
]  # fmt: skip


def _alias_bomb(levels: int, fan: int = 9) -> str:
    """One line of YAML whose aliases expand to ``fan ** levels`` values."""
    value = "&a0 [" + ", ".join(["1"] * fan) + "]"
    for k in range(1, levels):
        value = f"[{value}, &a{k} [" + ", ".join([f"*a{k - 1}"] * fan) + "]]"
    return value


def mutate(data: bytes, rng: random.Random, text: bool) -> tuple[bytes, str]:
    """One seeded mutation of ``data`` and its short description."""
    kinds = ["flip", "truncate", "insert", "zero", "duplicate"]
    if text:
        kinds += ["line-delete", "line-repeat", "line-swap", "token", "token", "nest", "alias"]
    kind = rng.choice(kinds)
    b = bytearray(data)
    n = len(b)
    if kind == "flip":
        k = rng.randint(1, 4)
        for _ in range(k):
            i = rng.randrange(n)
            b[i] = rng.randrange(256)
        return bytes(b), f"flip x{k}"
    if kind == "truncate":
        cut = rng.randrange(n)
        return bytes(b[:cut]), f"truncate at {cut}/{n}"
    if kind == "insert":
        i = rng.randrange(n + 1)
        junk = bytes(rng.randrange(256) for _ in range(rng.randint(1, 64)))
        return bytes(b[:i] + junk + b[i:]), f"insert {len(junk)} at {i}"
    if kind == "zero":
        i = rng.randrange(n)
        k = rng.randint(1, 512)
        b[i : i + k] = bytes(len(b[i : i + k]))
        return bytes(b), f"zero {k} at {i}"
    if kind == "duplicate":
        i = rng.randrange(n)
        k = rng.randint(1, 1024)
        return bytes(b[:i] + b[i : i + k] + b[i:]), f"duplicate {k} at {i}"
    lines = data.decode("utf-8", errors="replace").split("\n")
    j = rng.randrange(len(lines))
    if kind == "line-delete":
        del lines[j]
    elif kind == "line-repeat":
        lines.insert(j, lines[j])
    elif kind == "line-swap":
        k = rng.randrange(len(lines))
        lines[j], lines[k] = lines[k], lines[j]
    elif kind == "token":
        import re

        toks = list(re.finditer(r"[^\s,:;\[\]{}\"']+", lines[j]))
        special = rng.choice(_SPECIAL)
        if toks:
            t = rng.choice(toks)
            lines[j] = lines[j][: t.start()] + special + lines[j][t.end() :]
        else:
            lines[j] = special
        kind = f"token {special[:12]!r}"
    elif kind == "nest":
        depth = rng.choice([10, 100, 1000])
        lines.insert(j, "[" * depth + "]" * depth)
        kind = f"nest {depth}"
    elif kind == "alias":  # a YAML "billion laughs" as the value of line j (9**8 values)
        head, colon, _ = lines[j].partition(":")
        lines[j] = (head + colon + " " if colon else "") + _alias_bomb(8)
        kind = "alias bomb"
    return "\n".join(lines).encode("utf-8"), f"{kind} line {j}"


# ---------------------------------------------------------------------------------- running
def _case_child(conn, reader: Reader, path: str) -> None:  # type: ignore[no-untyped-def]
    import faulthandler
    import warnings

    faulthandler.disable()  # a crash is an outcome the parent counts, not a report to print
    warnings.simplefilter("ignore")
    reader_name = reader.name
    p = Path(path)
    try:
        reader.read(p)
        conn.send(("load", ""))
    except _documented() as exc:
        msg = str(exc)
        own = len(msg.replace(str(p), "").replace(str(p.parent), ""))
        if own > MAX_MESSAGE:
            conn.send(
                ("raw", f"a message of {own:,} characters: {type(exc).__name__}: {msg[:300]}")
            )
        elif p.name in msg or (str(p.parent.name) in msg and reader_name == "per-image-csv"):
            conn.send(("error", f"{type(exc).__name__}: {msg[:300]}"))
        else:
            conn.send(("raw", f"does not name the file: {type(exc).__name__}: {msg[:300]}"))
    except BaseException as exc:
        tb = traceback.format_exc(limit=-3)
        conn.send(("raw", f"{type(exc).__name__}: {str(exc)[:300]}\n{tb[-1500:]}"))
    conn.close()


def run_case(reader: Reader, path: Path, timeout: float) -> tuple[str, str]:
    """Run ``reader`` on ``path`` in a forked child; its outcome and detail."""
    ctx = multiprocessing.get_context("fork")
    recv, send = ctx.Pipe(duplex=False)
    proc = ctx.Process(target=_case_child, args=(send, reader, str(path)))
    proc.start()
    send.close()
    result: tuple[str, str] | None = None
    if recv.poll(timeout):
        try:
            result = recv.recv()
        except EOFError:
            result = None
    else:
        proc.kill()
        proc.join()
        recv.close()
        return ("hang", f"no answer within {timeout:g} s")
    proc.join(timeout)
    if proc.is_alive():
        proc.kill()
        proc.join()
    recv.close()
    if result is None:
        return ("crash", f"child died with exit code {proc.exitcode}")
    return result


def preload() -> None:
    """Import what the readers use once, so each forked case costs little."""
    import av  # noqa: F401
    import pandas  # noqa: F401
    import sleap_io  # noqa: F401
    import tables  # noqa: F401
    import tifffile  # noqa: F401
    from ruamel.yaml import YAML  # noqa: F401

    import napari_dlcflow.core.formats.coco
    import napari_dlcflow.core.formats.dlc
    import napari_dlcflow.core.formats.per_image_csv
    import napari_dlcflow.core.formats.sleap
    import napari_dlcflow.core.labels.collected
    import napari_dlcflow.core.predictions.analysis_files
    import napari_dlcflow.core.project.config
    import napari_dlcflow.core.video.reader  # noqa: F401


def fuzz(
    cases: int,
    seed: int = 0,
    timeout: float = 60.0,
    only: list[str] | None = None,
    budget_s: float | None = None,
    log: Callable[[str], None] | None = None,
    jobs: int = 1,
) -> tuple[dict[str, dict[str, int]], list[str]]:
    """Run ``cases`` cases spread evenly over the readers (``jobs`` worker processes).

    Returns
    -------
    (dict, list)
        Outcome counts per reader, and one line per bug (reader, mutation, detail).
    """
    preload()
    chosen = [r for r in readers() if not only or r.name in only]
    if jobs <= 1:
        return _fuzz_share(cases, seed, timeout, chosen, budget_s, log, 0, 1)
    ctx = multiprocessing.get_context("fork")
    queue = ctx.Queue()
    workers = [
        ctx.Process(
            target=lambda k=k: queue.put(
                _fuzz_share(cases, seed, timeout, chosen, budget_s, log, k, jobs)
            )
        )
        for k in range(jobs)
    ]
    for w in workers:
        w.start()
    parts = [queue.get() for _ in workers]
    for w in workers:
        w.join()
    table = {r.name: dict.fromkeys(OUTCOMES, 0) for r in chosen}
    bugs: list[str] = []
    for t, b in parts:
        for name, counts in t.items():
            for o, n in counts.items():
                table[name][o] += n
        bugs += b
    return table, bugs


def _fuzz_share(
    cases: int,
    seed: int,
    timeout: float,
    chosen: list[Reader],
    budget_s: float | None,
    log: Callable[[str], None] | None,
    part: int,
    parts: int,
) -> tuple[dict[str, dict[str, int]], list[str]]:
    table = {r.name: dict.fromkeys(OUTCOMES, 0) for r in chosen}
    bugs: list[str] = []
    work = Path(tempfile.mkdtemp(prefix="dlcflow-fuzz-"))
    t0 = time.monotonic()
    try:
        seeds: dict[str, tuple[Path, bytes]] = {}
        for r in chosen:
            d = work / f"seed-{r.name}"
            d.mkdir()
            path = r.seed(d)
            seeds[r.name] = (path, path.read_bytes())
        for i in range(part, cases, parts):
            if budget_s is not None and time.monotonic() - t0 > budget_s:
                break
            r = chosen[i % len(chosen)]
            rng = random.Random(f"{seed}-{r.name}-{i}")
            src, data = seeds[r.name]
            case_dir = work / "case"
            if case_dir.exists():
                shutil.rmtree(case_dir)
            shutil.copytree(src.parent, case_dir)
            # the mutated copy must not be trusted as our own write: drop hash records
            shutil.rmtree(case_dir / ".dlcflow-backups", ignore_errors=True)
            mutated, what = mutate(data, rng, r.text)
            target = case_dir / src.name
            target.write_bytes(mutated)
            outcome, detail = run_case(r, target, timeout)
            table[r.name][outcome] += 1
            if outcome in BUGS:
                line = f"{r.name} case {i} ({what}): {outcome}: {detail}"
                bugs.append(line)
                if log:
                    log(line)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return table, bugs


def format_table(table: dict[str, dict[str, int]]) -> str:
    """Markdown table of outcomes per reader, with a total row."""
    head = "| reader | cases | " + " | ".join(OUTCOMES) + " |"
    sep = "|" + "---|" * (len(OUTCOMES) + 2)
    rows = [head, sep]
    total = dict.fromkeys(OUTCOMES, 0)
    for name, counts in table.items():
        n = sum(counts.values())
        rows.append(f"| {name} | {n} | " + " | ".join(str(counts[o]) for o in OUTCOMES) + " |")
        for o in OUTCOMES:
            total[o] += counts[o]
    cells = " | ".join(str(total[o]) for o in OUTCOMES)
    rows.append(f"| **all** | {sum(total.values())} | {cells} |")
    return "\n".join(rows)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--cases", type=int, default=550, help="cases in all (spread over readers)")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--timeout", type=float, default=60.0, help="seconds per case")
    ap.add_argument("--reader", action="append", help="only these readers (repeatable)")
    ap.add_argument("--jobs", type=int, default=1, help="worker processes")
    args = ap.parse_args(argv)
    t0 = time.monotonic()
    table, bugs = fuzz(
        args.cases,
        args.seed,
        args.timeout,
        args.reader,
        log=lambda s: print(s, file=sys.stderr, flush=True),
        jobs=args.jobs,
    )
    print(format_table(table))
    n = sum(sum(c.values()) for c in table.values())
    print(f"\n{n} cases in {time.monotonic() - t0:.0f} s, seed {args.seed}; {len(bugs)} bugs")
    return 1 if bugs else 0


if __name__ == "__main__":
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    sys.exit(main())
