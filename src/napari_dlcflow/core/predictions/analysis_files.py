"""DeepLabCut analysis output (predicted tracks): read and write (layers: ``core.layers``).

DeepLabCut 3 writes the predictions of one video as ``<video stem><scorer>.h5`` beside the video,
where the scorer is ``DLC_<Net>_<Task><date>shuffle<N>_snapshot_<k>``. The file holds one pandas
table (HDF key ``df_with_missing``, ``format="table"``), one row per frame with the integer frame
index ``0 .. T-1``, and MultiIndex columns ``scorer / bodyparts / coords`` with coords ``x, y,
likelihood`` (multi-animal: ``scorer / individuals / bodyparts / coords``, unique body parts under
the individual ``single``). Filtering writes ``<...>_filtered.h5``; ``save_as_csv`` adds the same
table as ``.csv``; ``<...>_meta.pickle`` holds ``{"data": {fps, nframes, frame_dimensions, ...}}``.

Multi-animal analysis with tracking adds the *tracked* file ``<video stem><scorer>_el.h5``
(``_bx``, ``_sk`` for the other trackers; HDF key ``tracks``): the same layout, but each
individual is one animal from frame to frame, where the untracked ``<video stem><scorer>.h5``
beside it holds the detections in assembly order. Every later step (filtering, labeled videos,
outliers, machine labels) takes the tracked file when a video has both
(:func:`find_analysis_files` lists it first); its filtered version is
``<...>_el_filtered.h5`` (key ``df_with_missing``), as DeepLabCut's ``filterpredictions``
writes it.

In memory a :class:`Predictions` (a :class:`~napari_dlcflow.core.keypoints.Keypoints`) is one
``(T, N, 3)`` array of ``x, y, likelihood`` over N keypoint columns, each naming its individual
and body part. Its napari layer data are built in :mod:`napari_dlcflow.core.layers.data`.
"""

from __future__ import annotations

import os
import pickle
from collections.abc import Collection, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import numpy.typing as npt

from napari_dlcflow.core.keypoints.model import HDF_KEY, Keypoints
from napari_dlcflow.core.safe_io import atomic_writer
from napari_dlcflow.core.untrusted import (
    check_csv_text,
    check_values,
    named_errors,
    read_hdf_table,
    shorten,
)

if TYPE_CHECKING:
    import pandas as pd

__all__ = [
    "HDF_KEY",
    "TRACKS_KEY",
    "TRACK_SUFFIXES",
    "NotAnalysisFileError",
    "Predictions",
    "PredictionsError",
    "crop_offset",
    "edge_columns",
    "filtered_path",
    "find_analysis_files",
    "is_analysis_file",
    "keypoint_columns",
    "output_files",
    "prefer_tracked",
    "raw_path",
    "read_meta",
    "read_predictions",
    "scorer_name",
    "simulate_predictions",
    "skeleton_table",
    "tracked_sibling",
    "tracker_of",
    "untracked_animals",
    "video_for",
    "video_stem",
    "write_meta",
    "write_predictions",
]

COORDS = ("x", "y", "likelihood")
TRACK_SUFFIXES = {"ellipse": "_el", "box": "_bx", "skeleton": "_sk"}
"""DeepLabCut's multi-animal trackers and the suffix of their tracklets and tracks files."""
TRACKS_KEY = "tracks"
"""The HDF key of DeepLabCut's stitched (tracked) files ``<stem><scorer>_el.h5``."""


class PredictionsError(ValueError):
    """An analysis file cannot be read; the message names the file and the problem."""


class NotAnalysisFileError(PredictionsError):
    """A readable DLC table that is not analysis output (e.g. CollectedData labels)."""


@dataclass(eq=False)
class Predictions(Keypoints):
    """Predicted keypoints of one video; a :class:`~napari_dlcflow.core.keypoints.Keypoints`.

    Stored as DeepLabCut's table is: one array of ``x, y, likelihood``. The model's names are
    views of it: ``xy`` is ``data[..., :2]``, ``likelihood`` ``data[..., 2]``, ``keypoints``
    the ``(individual, bodypart)`` pairs, ``multianimal`` and ``source`` are
    ``multi_animal`` and ``path``.

    Attributes
    ----------
    data : ndarray of float of shape (frames, keypoints, 3)
        ``x, y, likelihood`` per frame (axis 0) and keypoint column (axis 1); NaN: no prediction.
    bodyparts : tuple of str
        Body part of each of the keypoint columns.
    individuals : tuple of str
        Individual of each keypoint column (``""`` in single-animal files).
    scorer : str
        The scorer (network) name from the file's header.
    frames : ndarray of int of shape (frames,)
        Frame index of each row.
    multi_animal : bool
        Whether the file has an ``individuals`` column level.
    path : Path or None
        The file it was read from.
    meta : dict
        The ``data`` dict of the ``_meta.pickle`` beside it, if one was read.
    notes : list of str
        What reading met.
    """

    data: np.ndarray
    bodyparts: tuple[str, ...]
    individuals: tuple[str, ...]
    scorer: str
    frames: np.ndarray
    multi_animal: bool = False
    path: Path | None = None
    meta: dict[str, Any] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.data = np.asarray(self.data, dtype=float)
        if self.data.ndim != 3 or self.data.shape[2] != 3:
            raise ValueError(f"data must have shape (T, N, 3), got {self.data.shape}")
        n = self.data.shape[1]
        if len(self.bodyparts) != n or len(self.individuals) != n:
            raise ValueError(
                f"{n} keypoint columns but {len(self.bodyparts)} body parts and "
                f"{len(self.individuals)} individuals"
            )
        self.frames = np.asarray(self.frames, dtype=np.int64)
        if self.frames.shape != (self.data.shape[0],):
            raise ValueError(f"frames must have shape ({self.data.shape[0]},)")

    # the model's names, as views of the table
    @property
    def keypoints(self) -> list[tuple[str, str]]:  # type: ignore[override]
        """``(individual, bodypart)`` of each column."""
        return list(zip(self.individuals, self.bodyparts, strict=True))

    @property
    def multianimal(self) -> bool:  # type: ignore[override]
        """:attr:`multi_animal`, the model's name."""
        return self.multi_animal

    @property
    def source(self) -> Path | None:  # type: ignore[override]
        """:attr:`path`, the model's name."""
        return self.path

    @property
    def n_rows(self) -> int:
        """Number of rows (frames)."""
        return int(self.data.shape[0])

    @property
    def row_names(self) -> list[str]:
        """The frame numbers as text."""
        return [str(int(f)) for f in self.frames]

    @property
    def n_frames(self) -> int:
        """Number of rows (frames)."""
        return self.n_rows

    @property
    def xy(self) -> np.ndarray:  # type: ignore[override]
        """``(frames, keypoints, 2)`` view of ``x, y``."""
        return self.data[..., :2]

    @property
    def likelihood(self) -> np.ndarray:  # type: ignore[override]
        """``(frames, keypoints)`` view of the likelihoods."""
        return self.data[..., 2]

    @property
    def unique_bodyparts(self) -> tuple[str, ...]:
        """Body part names in column order, each once (:attr:`~Keypoints.bodypart_names`)."""
        return tuple(self.bodypart_names)

    @property
    def unique_individuals(self) -> tuple[str, ...]:
        """Individual names in column order, each once (``""`` included: single animal)."""
        return tuple(dict.fromkeys(self.individuals))

    @property
    def labels(self) -> list[str]:
        """A display name per column: ``bodypart`` or ``individual/bodypart``."""
        return self.keypoint_labels

    def with_data(self, data: np.ndarray) -> Predictions:
        """A copy with other values (same columns, frames and scorer); ``path`` is dropped."""
        return Predictions(
            data=np.array(data, dtype=float),
            bodyparts=self.bodyparts,
            individuals=self.individuals,
            scorer=self.scorer,
            frames=self.frames.copy(),
            multi_animal=self.multi_animal,
            meta=dict(self.meta),
        )

    def to_dataframe(self) -> pd.DataFrame:
        """The table exactly as DeepLabCut writes it (columns and integer frame index)."""
        import pandas as pd

        tuples = []
        for ind, bp in zip(self.individuals, self.bodyparts, strict=True):
            for c in COORDS:
                tuples.append(
                    (self.scorer, ind, bp, c) if self.multi_animal else (self.scorer, bp, c)
                )
        names = (
            ["scorer", "individuals", "bodyparts", "coords"]
            if self.multi_animal
            else [
                "scorer",
                "bodyparts",
                "coords",
            ]
        )
        columns = pd.MultiIndex.from_tuples(tuples, names=names)
        return pd.DataFrame(
            self.data.reshape(self.n_frames, -1),
            columns=columns,
            index=pd.Index(self.frames, dtype=np.int64),
        )


# --------------------------------------------------------------------------------- file names


def scorer_name(net_type: str, task: str, date: str, shuffle: int, snapshot: str) -> str:
    """DeepLabCut 3's scorer name, e.g. ``DLC_Resnet50_openfieldOct30shuffle1_snapshot_best-10``.

    Parameters
    ----------
    net_type : str
        The model's ``net_type`` (``resnet_50`` becomes ``Resnet50``).
    task, date : str
        From the project's config.
    shuffle : int
        The shuffle index.
    snapshot : str
        The snapshot's id (``"010"``, ``"best-010"``).
    """
    name = "".join(p.capitalize() for p in net_type.split("_"))
    return f"DLC_{name}_{task}{date}shuffle{shuffle}_snapshot_{snapshot}"


def filtered_path(path: str | os.PathLike) -> Path:
    """``<stem>_filtered.h5`` (or ``.csv``) beside an analysis file."""
    p = Path(path)
    if p.stem.endswith("_filtered"):
        return p
    return p.with_name(f"{p.stem}_filtered{p.suffix}")


def raw_path(path: str | os.PathLike) -> Path:
    """The raw analysis file of ``path``: itself, or the file a ``_filtered`` one was made from
    (its name without ``_filtered``, which may not exist)."""
    p = Path(path)
    if p.stem.endswith("_filtered"):
        return p.with_name(p.name.replace("_filtered", "", 1))
    return p


def tracker_of(path: str | os.PathLike) -> str | None:
    """The multi-animal tracker (a key of :data:`TRACK_SUFFIXES`) whose tracked file ``path``
    is, raw or ``_filtered`` (``<stem><scorer>_el.h5`` -> ``"ellipse"``); None for an
    untracked analysis file."""
    stem = Path(path).stem.removesuffix("_filtered")
    if "DLC" not in stem:
        return None
    for tracker, suffix in TRACK_SUFFIXES.items():
        if stem.endswith(suffix):
            return tracker
    return None


def untracked_animals(pred: Predictions, path: str | os.PathLike | None = None) -> bool:
    """Whether ``pred`` holds several animals that were not tracked: more than one individual
    (unique body parts, ``single``, aside) read from a file (``path``, default ``pred.path``)
    whose name has no tracker suffix. There an individual is a detection slot that may hold a
    different animal from frame to frame, so per-individual steps would mix animals."""
    where = path if path is not None else pred.path
    several = len(set(pred.individuals) - {"single"}) > 1
    return bool(pred.multi_animal and several and where is not None and not tracker_of(where))


def _is_skeleton_output(path: Path) -> bool:
    """DeepLabCut's ``analyzeskeleton`` output (``<...>_skeleton.h5``), not predictions."""
    return path.stem.removesuffix("_filtered").endswith("_skeleton")


def video_stem(path: str | os.PathLike) -> str:
    """The video's stem in a DeepLabCut analysis file name (``<stem>DLC_<net>...h5``)."""
    return Path(path).stem.split("DLC")[0]


def video_for(path: str | os.PathLike) -> Path | None:
    """The video an analysis file was made from, when it sits beside it under its own name
    (any of the readers' :data:`~napari_dlcflow.core.video.reader.VIDEO_SUFFIXES`), else None."""
    from napari_dlcflow.core.video.reader import VIDEO_SUFFIXES

    p = Path(path)
    stem = video_stem(p)
    for suffix in VIDEO_SUFFIXES:
        for cand in (p.with_name(stem + suffix), p.with_name(stem + suffix.upper())):
            if cand.is_file():
                return cand
    return None


def _output_folder(video: str | os.PathLike, destfolder: str | os.PathLike | None) -> Path:
    return Path(destfolder) if destfolder is not None else Path(video).parent


def output_files(
    video: str | os.PathLike,
    scorer: str,
    destfolder: str | os.PathLike | None = None,
    *,
    tracker: str | None = None,
) -> dict[str, Path]:
    """DeepLabCut's output files of one video and scorer (they may not exist).

    Parameters
    ----------
    video : path-like
        The video.
    scorer : str
        The model's scorer name.
    destfolder : path-like, optional
        The output folder (default: beside the video).
    tracker : str, optional
        A multi-animal tracker (:data:`TRACK_SUFFIXES`): adds its ``tracklets`` pickle and the
        stitched ``tracks`` ``.h5`` (and ``tracks_csv``).

    Returns
    -------
    dict of str to Path
        ``h5``, ``csv``, ``meta``, ``full``, ``assemblies`` and, with a tracker,
        ``tracklets``, ``tracks``, ``tracks_csv``.
    """
    prefix = Path(video).stem + scorer
    folder = _output_folder(video, destfolder)
    files = {
        "h5": folder / f"{prefix}.h5",
        "csv": folder / f"{prefix}.csv",
        "meta": folder / f"{prefix}_meta.pickle",
        "full": folder / f"{prefix}_full.pickle",
        "assemblies": folder / f"{prefix}_assemblies.pickle",
    }
    if tracker is not None:
        if tracker not in TRACK_SUFFIXES:
            raise ValueError(f"unknown tracker {tracker!r}: one of {', '.join(TRACK_SUFFIXES)}")
        suffix = TRACK_SUFFIXES[tracker]
        files["tracklets"] = folder / f"{prefix}{suffix}.pickle"
        files["tracks"] = folder / f"{prefix}{suffix}.h5"
        files["tracks_csv"] = folder / f"{prefix}{suffix}.csv"
    return files


def find_analysis_files(
    video: str | os.PathLike, folder: str | os.PathLike | None = None, *, filtered: bool = False
) -> list[Path]:
    """Analysis h5 files of ``video`` (``<stem>DLC*.h5``), the one to use first.

    Models are ordered newest first (by their newest file); within one model (scorer) the
    tracked files (``_el``, ``_bx``, ``_sk``: :func:`tracker_of`) come before the untracked
    one, so a multi-animal video that was analysed with tracking gives its tracked file first.
    DeepLabCut's skeleton analysis (``_skeleton.h5``) is not listed.

    Parameters
    ----------
    video : path-like
        The video, or a ``video_sets`` key with a channel/z/scene choice (only the stem of
        what it names is used: ``cells_C1``).
    folder : path-like, optional
        Where to look; defaults to the video's folder (DLC's default ``destfolder``).
    filtered : bool
        Return the ``_filtered.h5`` files instead of the raw ones.
    """
    from napari_dlcflow.core.video.source import parse_source_key

    ref = parse_source_key(video)  # a channel of a microscopy file: its file's folder
    where = Path(folder) if folder is not None else ref.path.parent
    found: list[tuple[Path, int]] = []
    for p in where.glob(f"{_glob_escape(ref.stem)}DLC*.h5"):
        if p.name.startswith(".") or p.stem.endswith("_filtered") != filtered:
            continue
        if _is_skeleton_output(p):
            continue
        try:
            found.append((p, p.stat().st_mtime_ns))
        except OSError:
            continue
    models: dict[str, int] = {}
    for p, mtime in found:
        model = _model_key(p)
        models[model] = max(models.get(model, mtime), mtime)
    found.sort(
        key=lambda pm: (
            -models[_model_key(pm[0])],
            _model_key(pm[0]),
            tracker_of(pm[0]) is None,
            -pm[1],
        )
    )
    return [p for p, _ in found]


def prefer_tracked(paths: Sequence[str | os.PathLike]) -> list[Path]:
    """The analysis files a later step should take from ``paths`` (in their order): an
    untracked file whose tracked file (:func:`tracked_sibling`) is also among them is left out,
    as is DeepLabCut's skeleton analysis (``_skeleton.h5``)."""
    given = [Path(p) for p in paths]
    names = {p.resolve() for p in given}
    out = []
    for p in given:
        sibling = tracked_sibling(p)
        if _is_skeleton_output(p) or (sibling is not None and sibling.resolve() in names):
            continue
        out.append(p)
    return out


def _model_key(path: Path) -> str:
    """The file's name without ``_filtered`` and the tracker suffix: one per video and scorer."""
    stem = path.stem.removesuffix("_filtered")
    tracker = tracker_of(path)
    return stem.removesuffix(TRACK_SUFFIXES[tracker]) if tracker else stem


def tracked_sibling(path: str | os.PathLike) -> Path | None:
    """The tracked file of the same video and scorer beside an untracked analysis file
    (``<stem><scorer>.h5`` -> ``<stem><scorer>_el.h5``, newest of the trackers), else None.

    A ``_filtered`` file's sibling is the tracked ``_filtered`` file. None for a file that is
    itself tracked.
    """
    p = Path(path)
    if tracker_of(p) is not None:
        return None
    filtered = p.stem.endswith("_filtered")
    base = p.stem.removesuffix("_filtered")
    found = []
    for suffix in TRACK_SUFFIXES.values():
        cand = p.with_name(f"{base}{suffix}{'_filtered' if filtered else ''}{p.suffix}")
        if cand.is_file():
            found.append(cand)
    return max(found, key=lambda c: c.stat().st_mtime_ns) if found else None


def _glob_escape(text: str) -> str:
    import glob

    return glob.escape(text)


# ----------------------------------------------------------------------------------- reading


def _read_table(path: Path, *, nrows: int | None = None) -> pd.DataFrame:
    import pandas as pd

    suffix = path.suffix.lower()
    if suffix in (".h5", ".hdf5", ".hdf"):
        return read_hdf_table(  # in a child process unless we wrote this very file
            path, any_key=True, nrows=nrows, error=lambda m: PredictionsError(f"{path}: {m}")
        )[0]
    if suffix == ".csv":
        try:
            with path.open(encoding="utf-8", errors="replace") as fh:
                head = [fh.readline() for _ in range(4)]
        except OSError as exc:
            raise PredictionsError(f"{path} cannot be read: {shorten(exc)}") from exc
        if len(head) < 3 or not head[0].lower().startswith("scorer"):
            raise PredictionsError(f"{path} is not a DLC csv: its first row is not 'scorer,...'")
        n_header = 4 if head[1].lower().startswith("individuals") else 3
        check_csv_text(path, path.read_bytes(), lambda m: PredictionsError(f"{path}: {m}"))
        try:
            return pd.read_csv(
                path,
                header=list(range(n_header)),
                index_col=0,
                nrows=nrows,
                float_precision="round_trip",
            )
        except Exception as exc:
            raise PredictionsError(
                f"{path} cannot be parsed as a DLC csv: {shorten(exc)}"
            ) from exc
    raise PredictionsError(f"{path}: not an .h5 or .csv file")


def _from_dataframe(
    df: pd.DataFrame, path: Path | None, *, xy_only: bool = False, frame_index: bool = False
) -> Predictions:
    import pandas as pd

    where = f"{path}" if path is not None else "the table"
    cols = df.columns
    if not isinstance(cols, pd.MultiIndex) or cols.nlevels not in (3, 4):
        raise PredictionsError(f"{where}: columns are not DLC's scorer/bodyparts/coords levels")
    coords = [str(c) for c in cols.get_level_values(-1)]
    step = 3
    if "likelihood" not in coords:
        if not xy_only:
            raise NotAnalysisFileError(
                f"{where} has no likelihood column: it holds labels (x, y), not predictions"
            )
        if len(coords) % 2 or coords != ["x", "y"] * (len(coords) // 2):
            raise PredictionsError(f"{where}: columns are not x, y pairs")
        step = 2
    elif len(coords) % 3 or coords != list(COORDS) * (len(coords) // 3):
        raise PredictionsError(f"{where}: columns are not x, y, likelihood triplets")
    multi = cols.nlevels == 4
    scorers = list(dict.fromkeys(str(s) for s in cols.get_level_values(0)))
    if len(scorers) != 1:
        raise PredictionsError(f"{where}: more than one scorer ({shorten(', '.join(scorers))})")
    bps = [str(b) for b in cols.get_level_values(-2)[::step]]
    inds = [str(i) for i in cols.get_level_values(1)[::step]] if multi else [""] * len(bps)
    keys = list(zip(inds, bps, strict=True))
    if len(set(keys)) != len(keys):
        raise PredictionsError(f"{where}: a body part appears twice for the same individual")
    try:
        values = df.to_numpy(dtype=float).reshape(len(df), len(bps), step)
    except (TypeError, ValueError) as exc:
        raise PredictionsError(f"{where}: holds non-numeric values") from exc
    if step == 2:  # x, y only (labels): no likelihood
        values = np.concatenate([values, np.full((*values.shape[:2], 1), np.nan)], axis=2)
    try:
        frames = np.asarray(df.index, dtype=np.int64)
    except (TypeError, ValueError):
        if frame_index:
            first = shorten(str(df.index[0])) if len(df) else ""
            raise PredictionsError(
                f"{where}: its rows are not frame numbers (e.g. {first!r})"
            ) from None
        # a flat string or tuple index (machine labels): use the row number
        frames = np.arange(len(df), dtype=np.int64)
    return Predictions(
        data=values,
        bodyparts=tuple(bps),
        individuals=tuple(inds),
        scorer=scorers[0],
        frames=frames,
        multi_animal=multi,
        path=path,
    )


def read_predictions(
    path: str | os.PathLike,
    *,
    meta: bool = True,
    xy_only: bool = False,
    frame_index: bool = False,
) -> Predictions:
    """Read a DLC analysis file (``.h5`` or ``.csv``; raw, filtered or machine labels).

    Parameters
    ----------
    path : path-like
        The file.
    meta : bool
        Also read ``<stem>_meta.pickle`` beside it when present (ignored if unreadable).
    xy_only : bool
        Also accept a table of ``x, y`` columns without likelihoods (hand-made tracks, a ground
        truth); its likelihoods are NaN.
    frame_index : bool
        Refuse a table whose index is not frame numbers (by default such rows are numbered
        ``0 .. T-1``).

    Returns
    -------
    Predictions

    Raises
    ------
    FileNotFoundError
        If the file does not exist.
    NotAnalysisFileError
        If it is a DLC table without likelihoods (labels) and ``xy_only`` is False.
    PredictionsError
        If it is empty, corrupt or not in DLC's layout (the message names the file).
    """
    p = Path(path)
    if not p.is_file():
        raise FileNotFoundError(f"no such analysis file: {p}")
    if p.stat().st_size == 0:
        raise PredictionsError(f"{p} is empty (0 bytes)")
    with named_errors(p, lambda m: PredictionsError(f"{p}: {m}"), (PredictionsError,)):
        pred = _from_dataframe(_read_table(p), p, xy_only=xy_only, frame_index=frame_index)
    check_values(pred.xy, pred.likelihood, lambda m: PredictionsError(f"{p}: {m}"))
    if meta:
        stem = p.stem.removesuffix("_filtered")
        meta_file = p.with_name(f"{stem}_meta.pickle")
        if meta_file.is_file():
            try:
                pred.meta = read_meta(meta_file)
            except PredictionsError:
                pred.meta = {}
    return pred


def is_analysis_file(path: str | os.PathLike) -> bool:
    """Whether ``path`` is a DLC analysis table (x, y, likelihood columns); never raises."""
    p = Path(path)
    try:
        if not p.is_file() or p.suffix.lower() not in (".h5", ".hdf5", ".hdf", ".csv"):
            return False
        _from_dataframe(_read_table(p, nrows=2), p)
    except Exception:
        return False
    return True


_SAFE_PICKLE_MODULES = ("collections", "datetime", "pathlib", "copyreg")
_SAFE_BUILTINS = {"set", "frozenset", "complex", "slice", "range", "bytearray"}
_SAFE_NUMPY = {"_reconstruct", "scalar", "dtype", "ndarray", "_frombuffer"}


class _Opaque:
    """Stands in for a class a meta pickle names but we will not import (DLC's own)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        self.args = args

    def __setstate__(self, state: Any) -> None:
        self.state = state


class _MetaUnpickler(pickle.Unpickler):
    """Unpickles plain data only: classes outside a short allow-list become :class:`_Opaque`.

    DLC's meta pickle holds its model config, whose objects would import deeplabcut (and torch)
    into the viewer's process, which DLC-FACTS shows can crash it; and a pickle from elsewhere
    could run any code. The ``data`` values we read (fps, frame size, cropping) are plain.
    """

    def find_class(self, module: str, name: str) -> Any:
        root = module.split(".")[0]
        if (
            root in _SAFE_PICKLE_MODULES
            or (module == "builtins" and name in _SAFE_BUILTINS)
            or (root == "numpy" and name in _SAFE_NUMPY)
        ):
            return super().find_class(module, name)
        return _Opaque


def read_meta(path: str | os.PathLike) -> dict[str, Any]:
    """The ``data`` dict of a DLC ``_meta.pickle``, without importing any class it names
    beyond plain Python, numpy and pathlib types.

    Raises
    ------
    PredictionsError
        If it cannot be unpickled or has no ``data`` dict.
    """
    p = Path(path)
    try:
        with p.open("rb") as fh:
            obj = _MetaUnpickler(fh).load()
    except Exception as exc:
        raise PredictionsError(f"{p} cannot be read as a DLC meta pickle: {shorten(exc)}") from exc
    if not isinstance(obj, dict) or not isinstance(obj.get("data"), dict):
        raise PredictionsError(f"{p} is not a DLC meta pickle (no 'data' dict)")
    return dict(obj["data"])


# ----------------------------------------------------------------------------------- writing


def write_predictions(
    pred: Predictions, path: str | os.PathLike, *, csv: bool = False, backup: bool = False
) -> list[Path]:
    """Write predictions as DeepLabCut does (h5 table, key ``df_with_missing``), atomically.

    A tracked file's name (``<stem><scorer>_el.h5``, :func:`tracker_of`) gets the key
    ``tracks`` (:data:`TRACKS_KEY`), as DeepLabCut's stitching writes it; its ``_filtered``
    version keeps ``df_with_missing``, as DeepLabCut's filtering writes it.

    Parameters
    ----------
    pred : Predictions
        What to write.
    path : path-like
        The ``.h5`` file; replaced atomically (temp file in the same folder, then rename).
        A ``.csv`` path writes the CSV table alone.
    csv : bool
        Also write the same table as ``.csv`` beside the ``.h5``.
    backup : bool
        Keep the previous version of each file replaced as a backup generation
        (:func:`~napari_dlcflow.core.safe_io.list_backups`).

    Returns
    -------
    list of Path
        The files written.
    """
    final = Path(path)
    df = pred.to_dataframe()
    if final.suffix.lower() == ".csv":  # the CSV alone, as DLC's save_as_csv writes it
        with atomic_writer(final, backup=backup) as tmp:
            df.to_csv(tmp)
        return [final]
    with atomic_writer(final, backup=backup) as tmp:
        tracked = tracker_of(final) is not None and not final.stem.endswith("_filtered")
        df.to_hdf(tmp, key=TRACKS_KEY if tracked else HDF_KEY, format="table", mode="w")
    written = [final]
    if csv:
        out = final.with_suffix(".csv")
        with atomic_writer(out, backup=backup) as tmp:
            df.to_csv(tmp)
        written.append(out)
    return written


def write_meta(path: str | os.PathLike, data: dict[str, Any]) -> Path:
    """Write a DLC-style ``_meta.pickle`` (``{"data": data}``) atomically."""
    final = Path(path)
    with atomic_writer(final, backup=False) as tmp, open(tmp, "wb") as fh:
        pickle.dump({"data": dict(data)}, fh, pickle.HIGHEST_PROTOCOL)
    return final


def crop_offset(pred: Predictions) -> tuple[float, float]:
    """``(x1, y1)`` to add to the coordinates of an analysis run on a cropped region.

    DeepLabCut's ``analyze_videos(..., cropping=[x1, x2, y1, y2])`` writes coordinates in the
    crop and records the crop in the ``_meta.pickle`` (``cropping``, ``cropping_parameters``);
    ``(0, 0)`` when there was no crop or no meta file.
    """
    meta = pred.meta or {}
    params = meta.get("cropping_parameters")
    if meta.get("cropping") and params is not None and len(params) == 4:
        return float(params[0]), float(params[2])
    return 0.0, 0.0


# ------------------------------------------------------------------------ skeleton analysis


def _column_index(pred: Predictions) -> dict[tuple[str, str], int]:
    pairs = zip(pred.individuals, pred.bodyparts, strict=True)
    return {(i, b): c for c, (i, b) in enumerate(pairs)}


def skeleton_table(pred: Predictions, skeleton: Sequence[tuple[str, str]]) -> pd.DataFrame:
    """Per-frame length, orientation and likelihood of every skeleton edge (``analyzeskeleton``).

    Orientation is the angle of the vector from the first to the second body part, in degrees,
    ``atan2(dy, dx)`` in image coordinates (y down). The likelihood is the smaller of the two.

    Returns
    -------
    DataFrame
        Index: frame. Columns: MultiIndex ``(edge, quantity)`` with edge ``"a_b"`` (prefixed
        by the individual in multi-animal files) and quantity ``length``, ``orientation``,
        ``likelihood``.
    """
    import pandas as pd

    index = _column_index(pred)
    cols: dict[tuple[str, str], np.ndarray] = {}
    for ind in pred.unique_individuals:
        for a, b in skeleton:
            ca, cb = index.get((ind, a)), index.get((ind, b))
            if ca is None or cb is None:
                continue
            d = pred.data[:, cb, :2] - pred.data[:, ca, :2]
            edge = f"{a}_{b}" if not ind else f"{ind}/{a}_{b}"
            cols[(edge, "length")] = np.hypot(d[:, 0], d[:, 1])
            cols[(edge, "orientation")] = np.degrees(np.arctan2(d[:, 1], d[:, 0]))
            cols[(edge, "likelihood")] = np.fmin(pred.data[:, ca, 2], pred.data[:, cb, 2])
    df = pd.DataFrame(cols, index=pd.Index(pred.frames, name="frame"))
    if cols:
        df.columns = pd.MultiIndex.from_tuples(list(cols), names=["edge", "quantity"])
    return df


def keypoint_columns(pred: Predictions, chosen: Collection[str]) -> pd.DataFrame:
    """The ``x, y, likelihood`` columns (DeepLabCut's layout) of the chosen keypoints.

    Parameters
    ----------
    pred : Predictions
    chosen : collection of str
        Display names (:attr:`Predictions.labels`: ``bodypart`` or ``individual/bodypart``);
        the columns keep the file's order.
    """
    df = pred.to_dataframe()
    keep = [i for i, name in enumerate(pred.labels) if name in chosen]
    return df.iloc[:, [3 * i + j for i in keep for j in range(3)]]


def edge_columns(
    pred: Predictions,
    skeleton: Sequence[tuple[str, str]],
    chosen: Collection[tuple[str, str]],
    quantity: str,
) -> pd.DataFrame:
    """One quantity (``length`` or ``orientation``) and the likelihood of the chosen skeleton
    edges, per frame, from :func:`skeleton_table` (every individual's copy of an edge).

    Raises
    ------
    ValueError
        If ``quantity`` is neither ``length`` nor ``orientation``.
    """
    if quantity not in ("length", "orientation"):
        raise ValueError(f"quantity must be 'length' or 'orientation', not {quantity!r}")
    df = skeleton_table(pred, skeleton)
    names = {f"{a}_{b}" for a, b in chosen}
    wanted = (quantity, "likelihood")
    cols = [c for c in df.columns if c[0].split("/")[-1] in names and c[1] in wanted]
    return df[cols]


# ------------------------------------------------------------------------ simulated output


def simulate_predictions(
    keypoints: npt.ArrayLike,
    bodyparts: Sequence[str],
    *,
    scorer: str = "DLC_Resnet50_syntheticNov24shuffle1_snapshot_best-10",
    noise_px: float = 1.5,
    low_fraction: float = 0.1,
    seed: int = 0,
    individuals: Sequence[str] | None = None,
) -> Predictions:
    """Make network-like predictions from known keypoints (for tests, demos and benchmarks).

    Each coordinate gets Gaussian noise of ``noise_px``; likelihoods are high (0.8-1.0) except
    for a ``low_fraction`` of entries, which get a low likelihood (0-0.3) and a larger error
    (5 x ``noise_px``), as a network's misses do.

    Parameters
    ----------
    keypoints : array-like of shape (T, K, 2), or (T, N, K, 2) with ``individuals``
        True ``x, y`` (multi-animal: NaN where an animal's body part is hidden, which stays
        NaN with a NaN likelihood, as in DeepLabCut's tracked files).
    bodyparts : sequence of str
        The K names.
    scorer : str
        Scorer name for the header.
    noise_px, low_fraction : float
        Noise level and share of low-likelihood entries.
    seed : int
        Seed of ``np.random.default_rng``.
    individuals : sequence of str, optional
        The N animals of a ``(T, N, K, 2)`` array: multi-animal predictions (columns
        individual by individual, as in DeepLabCut's tracked files).

    Returns
    -------
    Predictions
        Predictions of frames ``0 .. T-1`` (single-animal without ``individuals``).

    Raises
    ------
    ValueError
        If the array's shape does not match the names.
    """
    kp = np.asarray(keypoints, dtype=float)
    if individuals is not None:
        if kp.ndim != 4 or kp.shape[1:3] != (len(individuals), len(bodyparts)):
            raise ValueError(
                f"keypoints of shape {kp.shape} do not match {len(individuals)} individuals "
                f"and {len(bodyparts)} body parts: need (T, N, K, 2)"
            )
        single = simulate_predictions(
            kp.reshape(len(kp), -1, 2),
            [b for _ in individuals for b in bodyparts],
            scorer=scorer,
            noise_px=noise_px,
            low_fraction=low_fraction,
            seed=seed,
        )
        data = single.data
        data[np.isnan(data[..., 0]), 2] = np.nan
        return Predictions(
            data=data,
            bodyparts=single.bodyparts,
            individuals=tuple(i for i in individuals for _ in bodyparts),
            scorer=scorer,
            frames=single.frames,
            multi_animal=True,
        )
    if kp.ndim != 3 or kp.shape[1] != len(bodyparts):
        raise ValueError(f"keypoints of shape {kp.shape} do not match {len(bodyparts)} body parts")
    rng = np.random.default_rng(seed)
    n_frames, n_kp, _ = kp.shape
    low = rng.random((n_frames, n_kp)) < low_fraction
    lik = np.where(
        low, rng.uniform(0.0, 0.3, (n_frames, n_kp)), rng.uniform(0.8, 1.0, (n_frames, n_kp))
    )
    scale = np.where(low, 5.0 * noise_px, noise_px)[..., None]
    xy = kp + rng.standard_normal(kp.shape) * scale
    return Predictions(
        data=np.concatenate([xy, lik[..., None]], axis=2),
        bodyparts=tuple(bodyparts),
        individuals=("",) * n_kp,
        scorer=scorer,
        frames=np.arange(n_frames),
    )
