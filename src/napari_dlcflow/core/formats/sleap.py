"""SLEAP projects (``.slp``), read with sleap-io.

User-labeled instances are imported; predicted instances only when asked (``predictions=True``,
for a frame without a user instance of that track). Tracks name the individuals; instances
without a track are ``animal1``, ``animal2``, ... in the order SLEAP stores them on each frame.
One instance per frame and no tracks gives single-animal data. A file with several skeletons
needs ``skeleton=`` (its name or index): instances of other skeletons are left out and counted.
Frames are frames of the project's videos (``FrameRef.video`` + ``frame_index``); a video path
that does not exist where SLEAP stored it is looked up beside the ``.slp`` file. Files with
embedded images (``.pkg.slp``) are refused: their frames are not in a video we can read.

SLEAP and DeepLabCut use the same image pixel coordinates, so values are not shifted.
"""

from __future__ import annotations

import os
from pathlib import Path, PurePosixPath, PureWindowsPath
from typing import Any

import numpy as np

from napari_dlcflow.core.formats._model import ForeignLabels, FormatError, FrameRef, skeleton_edges
from napari_dlcflow.core.keypoints.model import is_hdf5
from napari_dlcflow.core.predictions.tracks import Tracks
from napari_dlcflow.core.untrusted import quoted, shorten

__all__ = ["NAME", "read", "read_tracks", "sniff"]

NAME = "sleap"


def sniff(path: str | os.PathLike) -> bool:
    """Whether ``path`` is a SLEAP ``.slp`` file (HDF5 with that suffix). Never raises."""
    try:
        p = Path(path)
        if p.suffix.lower() != ".slp" or not p.is_file():
            return False
        return is_hdf5(p)
    except Exception:
        return False


def _video_path(slp: Path, video: Any) -> Path:
    name = str(video.filename if not isinstance(video.filename, list) else video.filename[0])
    p = Path(name)
    if p.is_file():
        return p
    if not p.is_absolute() and (slp.parent / p).is_file():
        return slp.parent / p
    base = (PureWindowsPath(name) if "\\" in name else PurePosixPath(name)).name
    if (slp.parent / base).is_file():
        return slp.parent / base
    return p


def _load(p: Path) -> Any:
    """sleap-io's ``Labels`` of ``p`` (videos not opened)."""
    try:
        import sleap_io as sio
    except ImportError:
        raise FormatError(
            p, "reading SLEAP files needs sleap-io: pip install 'napari-dlcflow[formats]'"
        ) from None
    if not p.is_file():
        raise FileNotFoundError(f"{p}: no such file")
    try:
        return sio.load_slp(str(p), open_videos=False)
    except Exception as exc:
        raise FormatError(
            p, f"sleap-io cannot read it ({type(exc).__name__}: {shorten(exc)})"
        ) from None


def _pick_skeleton(p: Path, labels: Any, skeleton: str | int | None) -> Any:
    """The skeleton to read: the only one, or the one named or indexed by ``skeleton``."""
    skels = list(labels.skeletons)
    if not skels:
        raise FormatError(p, "no skeleton in the file")
    if skeleton is None:
        if len(skels) > 1:
            names = shorten(
                ", ".join(f"{i}: {s.name} ({len(s.nodes)} nodes)" for i, s in enumerate(skels))
            )
            raise FormatError(p, f"{len(skels)} skeletons ({names}); choose one")
        return skels[0]
    found = [s for i, s in enumerate(skels) if skeleton in (s.name, i)]
    if not found:
        raise FormatError(p, f"no skeleton {skeleton!r}")
    return found[0]


def _instances(
    lf: Any, skel: Any, predictions: bool
) -> tuple[list[tuple[str | None, np.ndarray]], int, int]:
    """One labeled frame's ``(track name or None, (K, 2) xy)`` instances of ``skel``.

    User-labeled instances first; predicted ones (when ``predictions``) only for a track no user
    instance of the frame has (an untracked one only when the frame has no other). Also returns
    the number of user instances of other skeletons and of predicted instances taken.
    """
    insts: list[tuple[str | None, np.ndarray]] = []
    user_tracks = set()
    other = n_pred = 0
    for inst in lf.user_instances:
        if inst.skeleton is not skel:
            other += 1
            continue
        track = inst.track.name if inst.track is not None else None
        user_tracks.add(track)
        insts.append((track, inst.numpy()[:, :2]))
    if predictions:
        for inst in lf.predicted_instances:
            if inst.skeleton is not skel:
                continue
            track = inst.track.name if inst.track is not None else None
            if track is not None and track in user_tracks:
                continue
            if track is None and insts:
                continue
            insts.append((track, inst.numpy()[:, :2]))
            n_pred += 1
    return insts, other, n_pred


def read(
    path: str | os.PathLike,
    *,
    predictions: bool = False,
    skeleton: str | int | None = None,
    frames: Any = None,
) -> ForeignLabels:
    """Read a SLEAP project.

    Parameters
    ----------
    path : path-like
        The ``.slp`` file.
    predictions : bool, default False
        Also take predicted instances (where a frame has no user instance of that track).
    skeleton : str or int, optional
        Which skeleton to read when the file has several.
    frames : iterable of int, optional
        Only these frame indices (of every video).

    Raises
    ------
    FormatError
        Not readable by sleap-io, several skeletons and none chosen, embedded images, or no
        labeled instance at all.
    """
    p = Path(path)
    labels = _load(p)
    skel = _pick_skeleton(p, labels, skeleton)
    names = list(skel.node_names)
    edges = skeleton_edges(p, skel.edge_names)
    wanted = None if frames is None else {int(f) for f in frames}
    rows: list[tuple[Any, int, list[tuple[str | None, np.ndarray]]]] = []
    other = 0
    n_pred = 0
    for lf in labels.labeled_frames:
        if wanted is not None and lf.frame_idx not in wanted:
            continue
        insts, n_other, n_taken = _instances(lf, skel, predictions)
        other += n_other
        n_pred += n_taken
        if insts:
            rows.append((lf.video, int(lf.frame_idx), insts))
    if not rows:
        what = "user-labeled or predicted" if predictions else "user-labeled"
        raise FormatError(p, f"no {what} instance of skeleton {quoted(skel.name)}")
    for video in {id(v): v for v, _, _ in rows}.values():
        if getattr(video.backend, "__class__", type(None)).__name__ == "HDF5Video" or str(
            video.filename
        ) == str(p):
            raise FormatError(
                p,
                "the frames are embedded in the .slp (a package); "
                "export the video or images from SLEAP first",
            )
    max_inst = max(len(i) for _, _, i in rows)
    tracked = any(t is not None for _, _, insts in rows for t, _ in insts)
    multi = max_inst > 1 or tracked
    if multi:
        track_names = [t.name for t in labels.tracks]
        used = list(dict.fromkeys(t for _, _, insts in rows for t, _ in insts if t is not None))
        individuals = [t for t in track_names if t in used] + [
            t for t in used if t not in track_names
        ]
        n_untracked = max(sum(t is None for t, _ in insts) for _, _, insts in rows)
        individuals += [f"animal{i + 1}" for i in range(n_untracked)]
        keypoints = [(ind, b) for ind in individuals for b in names]
    else:
        individuals = []
        keypoints = [("", b) for b in names]
    xy = np.full((len(rows), len(keypoints), 2), np.nan)
    refs = []
    vid_paths: dict[int, Path] = {}
    for r, (video, fidx, insts) in enumerate(rows):
        vp = vid_paths.setdefault(id(video), _video_path(p, video))
        refs.append(FrameRef(name=f"{vp.name}#{fidx}", group=vp.stem, video=vp, frame_index=fidx))
        k_untracked = 0
        for track, pts in insts:
            if multi:
                if track is None:
                    k_untracked += 1
                    ind = f"animal{k_untracked}"
                else:
                    ind = track
                off = individuals.index(ind) * len(names)
            else:
                off = 0
            xy[r, off : off + len(names)] = pts
    notes = []
    if other:
        notes.append(f"{other} instances of other skeletons left out")
    if n_pred:
        notes.append(f"{n_pred} predicted instances taken")
    return ForeignLabels(
        format=NAME,
        source=p,
        keypoints=keypoints,
        frames=refs,
        xy=xy,
        multianimal=multi,
        skeleton=edges,
        notes=notes,
    )


def read_tracks(path: str | os.PathLike, *, skeleton: str | int | None = None) -> Tracks:
    """Read the tracks (identities) of a SLEAP ``.slp`` as :class:`Tracks`.

    SLEAP's tracks are the individuals. In each frame a user-labeled instance of a track is
    taken over a predicted one of the same track; instances without a track are ignored and
    counted in the notes (and a warning). Frames are the video's frame indices ``0 .. last``
    labeled frame; frames the file has no instance for are absent (``covered`` False). The
    file must hold one video.

    Parameters
    ----------
    path : path-like
        The ``.slp`` file.
    skeleton : str or int, optional
        Which skeleton to read when the file has several.

    Raises
    ------
    FormatError
        (a ValueError) Not readable, several videos or skeletons, no tracks, or no tracked
        instance; the message names the file.
    """
    import warnings

    p = Path(path)
    labels = _load(p)
    skel = _pick_skeleton(p, labels, skeleton)
    if len(labels.videos) > 1:
        raise FormatError(p, f"{len(labels.videos)} videos; tracks are read from one video")
    names = [t.name for t in labels.tracks]
    if not names:
        raise FormatError(p, "no tracks (identities): it holds no tracked animals")
    if len(set(names)) != len(names):
        raise FormatError(p, "two tracks have the same name")
    found: list[tuple[int, list[tuple[str | None, np.ndarray]]]] = []
    untracked = n_pred = 0
    for lf in labels.labeled_frames:
        insts, _, taken = _instances(lf, skel, True)
        n_pred += taken
        untracked += sum(t is None for t, _ in insts)
        found.append((int(lf.frame_idx), [(t, xy) for t, xy in insts if t is not None]))
    if not any(insts for _, insts in found):
        raise FormatError(p, f"no tracked instance of skeleton {quoted(skel.name)}")
    n_t = max(f for f, _ in found) + 1
    kp = np.full((n_t, len(names), len(skel.node_names), 2), np.nan)
    covered = np.zeros(n_t, dtype=bool)
    for fidx, insts in found:
        covered[fidx] = True
        for track, xy in insts:
            kp[fidx, names.index(track)] = xy
    notes = []
    if untracked:
        note = f"{untracked} instances without a track ignored"
        notes.append(note)
        warnings.warn(f"{p}: {note}", stacklevel=2)
    if n_pred:
        notes.append(f"{n_pred} predicted instances taken (no user instance of their track)")
    return Tracks(
        keypoints=kp,
        likelihood=None,
        individuals=tuple(names),
        bodyparts=tuple(skel.node_names),
        source=p,
        covered=covered,
        notes=notes,
    )
