"""Outlier frames: napari-dlcflow against DeepLabCut 3's own ``extract_outlier_frames``.

Two parts, in one run, reported as ratios:

1. **Finding candidates on a long analysis** (default 300,000 frames x 11 keypoints, DLC's h5
   format): ``find_outliers`` (jump, uncertain, fitting with a running median) against the
   code DeepLabCut runs for the same criteria: the pandas expressions inside
   ``extract_outlier_frames`` (copied from its source, checked line by line against the
   installed version before they run) and its ``compute_deviations`` (SARIMAX, timed on a
   slice and extrapolated). Also DLC's whole ``extract_outlier_frames`` up to the point where
   it starts extracting (its frame extraction is swapped for a recorder of the candidates),
   against ``read_predictions`` + ``find_outliers``.
2. **End to end on a small project** (600 frames, 256x256): the project's MP4 and the same
   frames as H.264 with B-frames in AVI (remuxed with PyAV as ``ffmpeg -c copy`` does), each
   with a simulated analysis that has known glitch frames; ``extract_outlier_frames(...,
   outlieralgorithm="jump", automatic=True, extractionalgorithm="uniform")`` in one copy of
   the project and ``extract_outliers`` in another. Every written PNG is compared with a
   sequential PyAV decode of the frame its name says (zero difference allowed), and every
   machine-label row with the analysis row of that frame.

Run from the repository root (not part of the test suite)::

    .venv/bin/python benchmarks/bench_outliers.py            # about 3 minutes on 2 cores
    .venv/bin/python benchmarks/bench_outliers.py --quick    # 100k frames, short SARIMAX slice
    .venv/bin/python benchmarks/bench_outliers.py --keep DIR # keep the projects for a look
"""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import inspect
import io
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import tracemalloc
import warnings
from collections.abc import Callable
from fractions import Fraction
from pathlib import Path
from typing import Any

import av
import numpy as np
import pandas as pd
from _table import Table

from napari_dlcflow.core.example.synthetic import BODYPARTS, SyntheticSpec, read_truth
from napari_dlcflow.core.example.truth_labels import choose_frames, make_labeled_synthetic_project
from napari_dlcflow.core.predictions.analysis_files import (
    Predictions,
    read_predictions,
    scorer_name,
    simulate_predictions,
    write_meta,
    write_predictions,
)
from napari_dlcflow.core.project.config import Project
from napari_dlcflow.core.refine.outliers import (
    OutlierSpec,
    extract_outliers,
    find_outliers,
    fit_deviation,
)

TABLE = Table("DeepLabCut 3", "DLC ")
row = TABLE.row
EPSILON = 20.0  # DLC's default, jump and fitting
FIT_EPSILON = 10.0  # fitting: mean deviation over the 11 keypoints
P_BOUND = 0.01  # DLC's default
FPS = 30.0

# The code inside deeplabcut.refine_training_dataset.outlier_frames.extract_outlier_frames
# (3.0.2) that computes the candidates; each line is checked against the installed source.
DLC_SELECT = """\
df = df.iloc[Index]
mask = df.columns.get_level_values("bodyparts").isin(bodyparts)
df_temp = df.loc[:, mask]
"""
DLC_UNCERTAIN = """\
p = df_temp.xs("likelihood", level="coords", axis=1)
ind = df_temp.index[(p < p_bound).any(axis=1)].tolist()
"""
DLC_JUMP = """\
temp_dt = df_temp.diff(axis=0) ** 2
temp_dt.drop("likelihood", axis=1, level="coords", inplace=True)
sum_ = temp_dt.T.groupby(level="bodyparts").sum().T
ind = df_temp.index[(sum_ > epsilon**2).any(axis=1)].tolist()
"""
DLC_FITTING = """\
d, o = compute_deviations(df_temp, dataname, p_bound, alpha, ARdegree, MAdegree)
ind = np.flatnonzero(d > epsilon)
"""


def median_time(fn: Callable[[], Any], repeat: int) -> tuple[float, Any]:
    times, out = [], None
    for _ in range(repeat):
        t = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - t)
    return statistics.median(times), out


def take_turns(
    ours: Callable[[], Any], theirs: Callable[[], Any], repeat: int
) -> tuple[float, Any, float, Any]:
    """Median times of two functions that take turns (after one untimed warm-up call each),
    so that machine drift and allocator warm-up hit both alike."""
    out_a, out_b = ours(), theirs()
    ta, tb = [], []
    for _ in range(repeat):
        t = time.perf_counter()
        out_a = ours()
        ta.append(time.perf_counter() - t)
        t = time.perf_counter()
        out_b = theirs()
        tb.append(time.perf_counter() - t)
    return statistics.median(ta), out_a, statistics.median(tb), out_b


def peak_mib(fn: Callable[[], Any]) -> float:
    """Peak memory traced while ``fn`` runs (numpy and pandas buffers included)."""
    tracemalloc.start()
    try:
        fn()
        return tracemalloc.get_traced_memory()[1] / 2**20
    finally:
        tracemalloc.stop()


def quiet(fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
    """Call ``fn`` with its prints and warnings swallowed (DLC prints a lot)."""
    with contextlib.redirect_stdout(io.StringIO()), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return fn(*args, **kwargs)


def ratio(ours: float, theirs: float) -> str:
    if ours <= 0 or theirs <= 0:
        return "-"
    r = theirs / ours
    if 0.9 <= r <= 1.1:
        return "about the same"
    k = max(r, 1 / r)
    k_text = f"{k:,.0f}" if k >= 10 else f"{k:.1f}"
    return f"ours {k_text}x {'faster' if r > 1 else 'slower'}"


def import_time(statement: str, module: str) -> tuple[float, bool]:
    """Seconds to run ``statement`` in a fresh interpreter, and whether ``module`` got loaded."""
    code = (
        "import sys, time; t = time.perf_counter(); "
        f"{statement}; print(time.perf_counter() - t, {module!r} in sys.modules)"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout.split()
    return float(out[-2]), out[-1] == "True"


# ------------------------------------------------------------------------- DLC's own code


def dlc_code(source_of: Any) -> dict[str, Any]:
    """Compile the DLC snippets after checking that every line is in DLC's installed source."""
    src = {line.split("  #")[0].strip() for line in inspect.getsource(source_of).splitlines()}
    missing = [
        line
        for snippet in (DLC_SELECT, DLC_UNCERTAIN, DLC_JUMP, DLC_FITTING)
        for line in snippet.splitlines()
        if line.strip() not in src
    ]
    if missing:
        raise RuntimeError(f"DeepLabCut's extract_outlier_frames changed: {missing}")
    return {
        name: compile(snippet, f"<dlc {name}>", "exec")
        for name, snippet in (
            ("select", DLC_SELECT),
            ("uncertain", DLC_UNCERTAIN),
            ("jump", DLC_JUMP),
            ("fitting", DLC_FITTING),
        )
    }


def dlc_candidates(
    code: dict[str, Any], df: pd.DataFrame, criterion: str, out: dict | None = None, **ns: Any
) -> list:
    """Run DLC's selection and one criterion on ``df``; ``out`` receives its variables."""
    scope: dict[str, Any] = {
        "df": df,
        "Index": np.arange(len(df)),
        "bodyparts": list(BODYPARTS),
        "p_bound": P_BOUND,
        "epsilon": EPSILON,
        "np": np,
        **ns,
    }
    exec(code["select"], scope)
    exec(code[criterion], scope)
    if out is not None:
        out.update(scope)
    return list(scope["ind"])


# ------------------------------------------------------------------------------- data


def long_trajectory(n_frames: int, seed: int = 0) -> np.ndarray:
    """A smooth walk of an 11-keypoint body (under 6 px per frame), shape (T, 11, 2)."""
    rng = np.random.default_rng(seed)
    t = np.arange(n_frames) / FPS
    cx = 320 + 200 * np.sin(2 * np.pi * t / 23) + 60 * np.sin(2 * np.pi * t / 5.1)
    cy = 240 + 150 * np.sin(2 * np.pi * t / 31 + 1) + 40 * np.sin(2 * np.pi * t / 3.7)
    heading = 0.8 * np.sin(2 * np.pi * t / 11)
    off = rng.uniform(-40, 40, (len(BODYPARTS), 2))
    c, s = np.cos(heading)[:, None], np.sin(heading)[:, None]
    x = cx[:, None] + c * off[:, 0] - s * off[:, 1]
    y = cy[:, None] + s * off[:, 0] + c * off[:, 1]
    return np.stack([x, y], axis=-1)


def inject_glitches(
    pred: Predictions, frames: np.ndarray, seed: int, *, min_kp: int = 1, max_kp: int = 4
) -> None:
    """A network's confident mistakes: 1-4 keypoints thrown 40-100 px away for one frame."""
    rng = np.random.default_rng(seed)
    n_kp = pred.data.shape[1]
    for f in frames:
        kps = rng.choice(n_kp, size=rng.integers(min_kp, max_kp + 1), replace=False)
        angle = rng.uniform(0, 2 * np.pi, len(kps))
        dist = rng.uniform(40, 100, len(kps))
        pred.data[f, kps, 0] += dist * np.cos(angle)
        pred.data[f, kps, 1] += dist * np.sin(angle)


def glitch_frames(n_frames: int, count: int, seed: int, avoid: set[int] = frozenset()) -> list:
    """``count`` frames at least 4 apart, away from the ends and from ``avoid`` (+-1)."""
    rng = np.random.default_rng(seed)
    chosen: list[int] = []
    blocked = {a + d for a in avoid for d in (-1, 0, 1)}
    while len(chosen) < count:
        f = int(rng.integers(5, n_frames - 5))
        if f in blocked or any(abs(f - c) < 4 for c in chosen):
            continue
        chosen.append(f)
    return sorted(chosen)


def analysis_meta(n_frames: int, size: tuple[int, int]) -> dict[str, Any]:
    """The ``data`` dict DLC 3 writes to ``<video><scorer>_meta.pickle``."""
    h, w = size
    return {
        "start": time.time(),
        "stop": time.time(),
        "run_duration": 0.0,
        "Scorer": "",
        "fps": FPS,
        "batch_size": 1,
        "frame_dimensions": (h, w),
        "nframes": n_frames,
        "iteration (active-learning)": 0,
        "cropping": False,
        "cropping_parameters": [0, w, 0, h],
    }


def write_bframes_avi(mp4: Path, avi: Path, gop: int = 60) -> None:
    """Re-encode ``mp4`` as H.264 with 3 B-frames, then copy the stream into AVI the way
    ``ffmpeg -i x.mp4 -c copy x.avi`` does (Annex B, timestamps shifted to start at zero, the
    AVI time base 1/(2 fps) of H.264's two ticks per frame)."""
    tmp = avi.with_suffix(".bframes.mp4")
    with av.open(str(mp4)) as src, av.open(str(tmp), "w") as out:
        s_in = src.streams.video[0]
        s = out.add_stream("libx264", rate=int(FPS))
        s.width, s.height, s.pix_fmt = s_in.width, s_in.height, "yuv420p"
        s.options = {"bf": "3", "g": str(gop), "crf": "18", "preset": "veryfast"}
        for f in src.decode(s_in):
            img = f.to_ndarray(format="rgb24")
            for p in s.encode(av.VideoFrame.from_ndarray(img, format="rgb24")):
                out.mux(p)
        for p in s.encode():
            out.mux(p)
    from av.bitstream import BitStreamFilterContext

    with av.open(str(tmp)) as src, av.open(str(avi), "w") as out:
        s_in = src.streams.video[0]
        s_out = out.add_stream_from_template(s_in)
        s_out.time_base = Fraction(1, int(2 * FPS))
        bsf = BitStreamFilterContext("h264_mp4toannexb", s_in, s_out)
        shift = None
        for p in src.demux(s_in):
            for q in bsf.filter(p if p.dts is not None else None):
                if shift is None:
                    shift = -min(q.dts, q.pts)
                q.pts += shift
                q.dts += shift
                q.stream = s_out
                out.mux(q)
    tmp.unlink()


def decode_all(video: Path) -> np.ndarray:
    """Every frame, in order, by a plain sequential PyAV decode (the truth)."""
    with av.open(str(video)) as c:
        return np.stack([f.to_ndarray(format="rgb24") for f in c.decode(video=0)])


def opencv_header(video: Path) -> str:
    try:
        import cv2
    except ImportError:
        return "cv2 missing"
    cap = cv2.VideoCapture(str(video))
    n, fps = cap.get(cv2.CAP_PROP_FRAME_COUNT), cap.get(cv2.CAP_PROP_FPS)
    cap.release()
    return f"{n:.0f} frames at {fps:.0f} fps"


def fix_project_path(root: Path) -> None:
    cfg = root / "config.yaml"
    text = re.sub(r"(?m)^project_path: .*$", f"project_path: {root}", cfg.read_text("utf-8"))
    cfg.write_text(text, "utf-8")


# ------------------------------------------------------------------------ verification


def frame_of(name: str) -> int:
    m = re.search(r"(\d+)\.png$", name)
    assert m, name
    return int(m.group(1))


def check_images(paths: list[Path], truth: np.ndarray) -> tuple[int, str]:
    """How many PNGs are exactly (zero difference) the frame their name says, and a summary of
    which frames the others are (the nearest frame by mean absolute difference)."""
    from PIL import Image

    flat = truth.reshape(len(truth), -1).astype(np.int16)
    exact, offsets, example = 0, [], ""
    for p in paths:
        i = frame_of(p.name)
        img = np.asarray(Image.open(p).convert("RGB"))
        if i < len(truth) and img.shape == truth[i].shape and np.array_equal(img, truth[i]):
            exact += 1
            continue
        d = np.abs(flat - img.reshape(1, -1).astype(np.int16)).mean(axis=1)
        j = int(d.argmin())
        if d[j] < 1:  # frames differ by about 3 grey levels on average (sensor noise)
            offsets.append(j - i)
            example = example or f"{p.name} is frame {j}"
        else:
            example = example or f"{p.name} is no frame of the video"
    text = f"{exact}/{len(paths)} exact"
    if exact < len(paths):
        text += f"; {len(paths) - exact} wrong"
        if offsets:
            text += f", off by {min(offsets):+d} to {max(offsets):+d} frames"
        text += f" ({example})"
    return exact, text


def check_machine_labels(h5: Path | None, pred: Predictions, images: list[Path]) -> str:
    """Rows whose x, y equal the analysis row of the frame in the image name, and rows without
    an image (or images without a row)."""
    if h5 is None or not h5.is_file():
        return "no machine-label file"
    df = pd.read_hdf(h5)
    names = [str(ix[-1] if isinstance(ix, tuple) else ix).split("/")[-1] for ix in df.index]
    xs = df.xs("x", level="coords", axis=1)
    ys = df.xs("y", level="coords", axis=1)
    xs.columns = xs.columns.get_level_values("bodyparts")
    ys.columns = ys.columns.get_level_values("bodyparts")
    bps = list(pred.bodyparts)
    xy = np.stack([xs[bps].to_numpy(float), ys[bps].to_numpy(float)], axis=-1)
    equal = sum(
        np.array_equal(xy[k], pred.data[frame_of(n), :, :2], equal_nan=True)
        for k, n in enumerate(names)
    )
    have = {p.name for p in images}
    no_image = sum(n not in have for n in names)
    no_row = len(have - set(names))
    text = f"{equal}/{len(names)} rows equal the analysis"
    if no_image or no_row:
        text += f", {no_image} rows without image, {no_row} images without row"
    return text


# ------------------------------------------------------------------------------ part 1


def part_long(
    work: Path, dlc_root: Path, scorer: str, n_frames: int, fit_frames: int, repeat: int
) -> None:
    import deeplabcut
    from deeplabcut.refine_training_dataset import outlier_frames as dlc_of

    print(f"\n== finding candidates: {n_frames:,} frames x {len(BODYPARTS)} keypoints")
    folder = work / "long"
    folder.mkdir()
    n_glitch = max(10, n_frames // 100)
    kp = long_trajectory(n_frames)
    pred = simulate_predictions(kp, BODYPARTS, scorer=scorer, low_fraction=0.02, seed=1)
    glitches = np.array(glitch_frames(n_frames, n_glitch, seed=2))
    inject_glitches(pred, glitches, seed=3)
    video = folder / "long_analysis.mp4"
    video.write_bytes(b"")  # never opened: DLC's extraction step is replaced below
    h5 = folder / f"{video.stem}{scorer}.h5"
    write_predictions(pred, h5)
    write_meta(folder / f"{video.stem}{scorer}_meta.pickle", analysis_meta(n_frames, (480, 640)))
    pred = read_predictions(h5)  # as both tools see it
    df = pd.read_hdf(h5)  # what DLC's load_analyzed_data returns
    code = dlc_code(dlc_of.extract_outlier_frames)
    print(f"  {n_glitch} injected glitch frames; h5 {h5.stat().st_size / 2**20:.0f} MiB")

    for crit in ("jump", "uncertain"):
        spec = OutlierSpec(criteria=(crit,), epsilon=EPSILON, p_bound=P_BOUND)
        t_ours, ours, t_dlc, theirs = take_turns(
            lambda spec=spec: find_outliers(pred, spec),
            lambda c=crit: dlc_candidates(code, df, c),
            repeat,
        )
        m_ours = peak_mib(lambda spec=spec: find_outliers(pred, spec))
        m_dlc = peak_mib(lambda c=crit: dlc_candidates(code, df, c))
        same = "same frames" if sorted(ours) == sorted(int(i) for i in theirs) else "DIFFERENT"
        row(
            f"{crit}: find candidates (s; peak MiB)",
            f"{t_ours:.3f} s; {m_ours:.0f} MiB",
            f"{t_dlc:.3f} s; {m_dlc:.0f} MiB",
            f"{ratio(t_ours, t_dlc)}, {m_dlc / max(m_ours, 1e-9):.1f}x less memory; "
            f"{len(ours)} vs {len(theirs)} candidates, {same}",
        )
        if crit == "jump":
            hit = np.isin(glitches, list(ours)).mean()
            print(f"  jump finds {hit:.0%} of the injected glitch frames (both tools)")

    # fitting: ours (running median) on everything; DLC's SARIMAX on a slice
    spec = OutlierSpec(criteria=("fitting",), epsilon=FIT_EPSILON, p_bound=P_BOUND, fit="median")
    t_med, ours = median_time(lambda: find_outliers(pred, spec), repeat)
    m_med = peak_mib(lambda: find_outliers(pred, spec))
    sl = slice(0, min(fit_frames, n_frames))
    df_sl = df.iloc[sl]
    sl_pred = dataclasses.replace(pred, data=pred.data[sl], frames=pred.frames[sl])
    t_sl_ours, ours_sl = median_time(lambda: find_outliers(sl_pred, spec), 1)
    dev_ours = float(np.median(fit_deviation(sl_pred.data, P_BOUND, fit="median")))
    ns = {
        "compute_deviations": dlc_of.compute_deviations,
        "dataname": str(h5),
        "alpha": 0.01,
        "ARdegree": 3,
        "MAdegree": 1,
        "epsilon": FIT_EPSILON,
    }
    n_sl = sl.stop - sl.start
    g_sl = glitches[glitches < sl.stop]

    def recall(found: Any) -> str:
        found = {int(f) for f in found}
        hit = sum(int(g) in found for g in g_sl)
        return f"{hit}/{len(g_sl)} glitches, {len(found - set(g_sl.tolist()))} other"

    t = time.perf_counter()
    try:
        dlc_vars: dict[str, Any] = {}
        theirs_sl = quiet(dlc_candidates, code, df_sl, "fitting", out=dlc_vars, **ns)
        dev_dlc = float(np.median(dlc_vars["d"]))
        failed = ""
    except Exception as exc:  # DLC's SARIMAX fallback can itself raise
        theirs_sl, failed = [], f"{type(exc).__name__}: {exc}"
    t_sl_dlc = time.perf_counter() - t
    if failed:
        row(
            f"fitting, all {n_frames:,} frames (s; peak MiB)",
            f"median fit {t_med:.2f} s; {m_med:.0f} MiB",
            "not extrapolated: SARIMAX failed on the slice",
            f"ours {len(ours)} candidates",
        )
        row(
            f"fitting, frames 0-{n_sl - 1}",
            f"median fit {t_sl_ours:.3f} s; {recall(ours_sl)}",
            f"compute_deviations FAILED after {t_sl_dlc:.1f} s: {failed}",
            "try another --fit-frames",
        )
    else:
        t_dlc_full = t_sl_dlc * n_frames / n_sl
        row(
            f"fitting, all {n_frames:,} frames (s; peak MiB)",
            f"median fit {t_med:.2f} s; {m_med:.0f} MiB",
            f"SARIMAX ~{t_dlc_full / 3600:.1f} h (extrapolated from {n_sl:,} frames)",
            f"ours ~{t_dlc_full / t_med:,.0f}x faster; ours {len(ours)} candidates",
        )
        row(
            f"fitting, frames 0-{n_sl - 1} (s; candidates at {FIT_EPSILON:g} px)",
            f"median fit {t_sl_ours:.3f} s; {recall(ours_sl)}; median deviation {dev_ours:.1f} px",
            f"SARIMAX {t_sl_dlc:.1f} s; {recall(theirs_sl)}; median deviation {dev_dlc:.1f} px",
            f"{ratio(t_sl_ours, t_sl_dlc)}; SARIMAX not traced for memory",
        )

    # the whole route from the h5 file: ours read + find, DLC's extract_outlier_frames up to
    # the extraction, whose function is swapped for a recorder of the candidates it gets
    t_read_ours, _, t_read_dlc, _ = take_turns(
        lambda: read_predictions(h5), lambda: pd.read_hdf(h5), repeat
    )
    row(
        "read the analysis h5 (s)",
        f"{t_read_ours:.3f} s (read_predictions)",
        f"{t_read_dlc:.3f} s (pd.read_hdf, as load_analyzed_data)",
        ratio(t_read_ours, t_read_dlc),
    )
    spec = OutlierSpec(criteria=("jump",), epsilon=EPSILON, p_bound=P_BOUND)
    got: list[list[int]] = []
    real = dlc_of.ExtractFramesbasedonPreselection
    dlc_of.ExtractFramesbasedonPreselection = lambda Index, *a, **k: got.append(list(Index))
    try:
        t_ours, ours, t_dlc, _ = take_turns(
            lambda: find_outliers(read_predictions(h5), spec),
            lambda: quiet(
                deeplabcut.extract_outlier_frames,
                str(dlc_root / "config.yaml"),
                [str(video)],
                outlieralgorithm="jump",
                epsilon=EPSILON,
                automatic=True,
                extractionalgorithm="uniform",
            ),
            repeat,
        )
    finally:
        dlc_of.ExtractFramesbasedonPreselection = real
    same = got and sorted(ours) == sorted(int(i) for i in got[-1])
    row(
        "jump from the h5 file: read + find (s)",
        f"{t_ours:.3f} s (read_predictions + find_outliers)",
        f"{t_dlc:.3f} s (extract_outlier_frames, extraction step recorded)",
        f"{ratio(t_ours, t_dlc)}; {'same frames' if same else 'DIFFERENT frames'}",
    )


# ------------------------------------------------------------------------------ part 2


def part_project(work: Path) -> tuple[Path, Path, str]:
    """The synthetic project with an MP4, a B-frame AVI and an analysis of each, copied into
    ``dlc/`` (plus the model folder DLC needs to name the scorer) and ``ours/``."""
    import deeplabcut

    spec = SyntheticSpec(n_frames=600, height=256, width=256)
    src_proj = make_labeled_synthetic_project(work / "src", spec)
    src = src_proj.root
    mp4 = src / "videos" / "synthetic_animal.mp4"
    avi = src / "videos" / "synthetic_animal_bframes.avi"
    write_bframes_avi(mp4, avi)
    kp, bps = read_truth(work / "src" / "example" / "synthetic_animal_truth.csv")
    task, date = str(src_proj.get("Task")), str(src_proj.get("date"))
    scorer = scorer_name("resnet_50", task, date, 1, "best-10")
    labeled = set(choose_frames(spec.n_frames, 20))
    for k, video in enumerate((mp4, avi)):
        pred = simulate_predictions(kp, bps, scorer=scorer, low_fraction=0.0, seed=10 + k)
        inject_glitches(pred, np.array(glitch_frames(spec.n_frames, 10, 20 + k, labeled)), 30)
        write_predictions(pred, video.with_name(f"{video.stem}{scorer}.h5"))
        meta = analysis_meta(spec.n_frames, (spec.height, spec.width))
        write_meta(video.with_name(f"{video.stem}{scorer}_meta.pickle"), meta)
    roots = {}
    for name in ("ours", "dlc"):
        roots[name] = work / name
        shutil.copytree(src, roots[name])
        fix_project_path(roots[name])
    # DLC names the analysis after the shuffle's model: it reads the net type from the
    # shuffle's pytorch_config.yaml and the snapshot name from the train folder. So: DLC's own
    # create_training_dataset, and an empty snapshot-best-010.pt (its name is all DLC reads).
    quiet(
        deeplabcut.create_training_dataset,
        str(roots["dlc"] / "config.yaml"),
        Shuffles=[1],
        net_type="resnet_50",
    )
    trains = list((roots["dlc"] / "dlc-models-pytorch").glob("iteration-0/*shuffle1/train"))
    (trains[0] / "snapshot-best-010.pt").write_bytes(b"")
    return roots["ours"], roots["dlc"], scorer


def dlc_scorer_of(dlc_root: Path) -> str:
    """The scorer name DeepLabCut itself resolves for shuffle 1 of the project."""
    from deeplabcut.utils import auxiliaryfunctions as af

    cfg = af.read_config(str(dlc_root / "config.yaml"))
    return str(quiet(af.get_scorer_name, cfg, 1, cfg["TrainingFraction"][0])[0])


def new_files(folder: Path, before: set[Path]) -> list[Path]:
    return sorted(p for p in folder.rglob("*") if p.is_file() and p not in before)


def run_project(ours_root: Path, dlc_root: Path, scorer: str, repeat: int) -> None:
    """Both tools on each video, ``repeat`` times (files written by all but the last run are
    removed, so each run starts from the same folder); the last run's files are checked."""
    import deeplabcut

    print("\n== end to end: extract_outlier_frames (jump, uniform) vs extract_outliers")
    dlc_scorer = dlc_scorer_of(dlc_root)
    print(f"  analysis files named {scorer}; DeepLabCut resolves {dlc_scorer}")
    spec = OutlierSpec(
        criteria=("jump",), epsilon=EPSILON, p_bound=P_BOUND, selection="uniform", n=20
    )
    for stem, suffix, label in (
        ("synthetic_animal", ".mp4", "MP4 (H.264, no B-frames)"),
        ("synthetic_animal_bframes", ".avi", "AVI (H.264, 3 B-frames)"),
    ):
        ours_video = ours_root / "videos" / f"{stem}{suffix}"
        dlc_video = dlc_root / "videos" / f"{stem}{suffix}"
        truth = decode_all(ours_video)
        pred = read_predictions(ours_video.with_name(f"{stem}{scorer}.h5"))
        jumps = np.hypot(*np.moveaxis(np.diff(pred.data[..., :2], axis=0), -1, 0)).max(axis=1)
        known = sorted(int(f) + 1 for f in np.flatnonzero(jumps > EPSILON))
        if suffix == ".avi":
            row(
                "AVI (B-frames): frame count and rate in the header",
                f"{len(truth)} frames decoded (PyAV)",
                f"OpenCV reads {opencv_header(ours_video)}",
                "DeepLabCut's reader (OpenCV) trusts the header and seeks by it",
            )

        ours_folder = ours_root / "labeled-data" / stem
        dlc_folder = dlc_root / "labeled-data" / stem
        t_ours, t_dlc, dlc_out = [], [], ""
        for k in range(repeat):
            before = set(ours_folder.rglob("*")) if ours_folder.is_dir() else set()
            t = time.perf_counter()
            res = extract_outliers(Project.open(ours_root), ours_video, spec)
            t_ours.append(time.perf_counter() - t)

            dlc_before = set(dlc_folder.rglob("*")) if dlc_folder.is_dir() else set()
            np.random.seed(k)  # noqa: NPY002 - DLC's uniform choice uses the global generator
            out = io.StringIO()
            t = time.perf_counter()
            with contextlib.redirect_stdout(out), warnings.catch_warnings():
                warnings.simplefilter("ignore")
                deeplabcut.extract_outlier_frames(
                    str(dlc_root / "config.yaml"),
                    [str(dlc_video)],
                    outlieralgorithm="jump",
                    epsilon=EPSILON,
                    p_bound=P_BOUND,
                    automatic=True,
                    extractionalgorithm="uniform",
                )
            t_dlc.append(time.perf_counter() - t)
            dlc_out = out.getvalue()
            dlc_imgs = [p for p in new_files(dlc_folder, dlc_before) if p.suffix == ".png"]
            if k < repeat - 1:
                for p in new_files(ours_folder, before) + new_files(dlc_folder, dlc_before):
                    p.unlink()

        m = re.search(r"found\s+(\d+)\s+putative", dlc_out)
        row(
            f"{label}: wall time of the call (s, median of {repeat})",
            f"{statistics.median(t_ours):.2f} s",
            f"{statistics.median(t_dlc):.2f} s (import not counted)",
            ratio(statistics.median(t_ours), statistics.median(t_dlc)),
        )
        row(
            f"{label}: candidates (known glitch frames: {len(known)})",
            f"{len(res.candidates)}{', = known' if res.candidates == known else ', NOT known'}",
            m.group(1) if m else "?",
            "",
        )
        checked = {}
        for who, imgs in (("ours", list(res.written)), ("dlc", dlc_imgs)):
            exact, text = check_images(imgs, truth)
            outside = sum(frame_of(p.name) not in known for p in imgs)
            checked[who] = (exact, text + (f", {outside} not a candidate" if outside else ""))
        wrong = len(dlc_imgs) - checked["dlc"][0]
        row(
            f"{label}: PNG is the frame its name says (0 tolerance)",
            checked["ours"][1],
            checked["dlc"][1],
            f"DLC: {wrong} images carry another frame's machine labels" if wrong else "",
        )
        row(
            f"{label}: machine labels vs analysis row of that frame",
            check_machine_labels(res.machine_labels, pred, list(res.written)),
            check_machine_labels(dlc_folder / "machinelabels-iter0.h5", pred, dlc_imgs),
            "",
        )


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--frames", type=int, default=300_000, help="length of the long analysis")
    ap.add_argument("--fit-frames", type=int, default=20_000, help="SARIMAX slice (frames)")
    ap.add_argument("--repeat", type=int, default=3, help="timings are medians of this many")
    ap.add_argument(
        "--quick", action="store_true", help="100k frames, 2,000-frame SARIMAX slice, 1 repeat"
    )
    ap.add_argument("--keep", type=Path, help="work folder to keep (must not exist)")
    args = ap.parse_args(argv)
    if args.quick:
        args.frames, args.fit_frames, args.repeat = 100_000, 2000, 1
    t_start = time.perf_counter()
    t_ours_imp, dlc_loaded = import_time(
        "from napari_dlcflow.core import outliers, frames, machine_labels, predictions",
        "deeplabcut",
    )
    t_dlc_imp, _ = import_time("import deeplabcut", "deeplabcut")
    import deeplabcut
    import statsmodels

    try:
        import cv2

        cv = cv2.__version__
    except ImportError:
        cv = "missing"
    print(
        f"python {sys.version.split()[0]}, DeepLabCut {deeplabcut.__version__}, "
        f"numpy {np.__version__}, pandas {pd.__version__}, statsmodels {statsmodels.__version__}, "
        f"PyAV {av.__version__}, OpenCV {cv}; {os.cpu_count()} CPU cores"
    )
    row(
        "import, fresh process (s)",
        f"{t_ours_imp:.1f} s (core modules{', loads deeplabcut' if dlc_loaded else ''})",
        f"{t_dlc_imp:.1f} s (import deeplabcut)",
        "once per process; not counted in the other rows",
    )
    with tempfile.TemporaryDirectory() as tmp:
        work = args.keep or Path(tmp)
        work.mkdir(parents=True, exist_ok=work == Path(tmp))
        t = time.perf_counter()
        ours_root, dlc_root, scorer = part_project(work)
        print(f"set up the projects in {time.perf_counter() - t:.0f} s")
        part_long(work, dlc_root, scorer, args.frames, args.fit_frames, args.repeat)
        run_project(ours_root, dlc_root, scorer, args.repeat)
    print(
        f"\nwhole run {time.perf_counter() - t_start:.0f} s; load average "
        f"{os.getloadavg()[0]:.1f} on {os.cpu_count()} cores"
    )
    print(TABLE.markdown())
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
