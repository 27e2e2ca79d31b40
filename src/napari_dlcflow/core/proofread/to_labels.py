"""Proofread frames into the labeled data: the refine loop for several animals.

The frames where identities were corrected are the frames a network got wrong; labeling them
and retraining is how the next network gets them right. :func:`send_to_labels` extracts them
from the video into the project's ``labeled-data/<video>/`` folder and writes the corrected
tracks of every individual there as the iteration's machine labels, through the outlier step's
manual criterion (:func:`~napari_dlcflow.core.refine.outliers.extract_outliers`), so the
Labeling dock reviews them like any other machine labels and the merge into ``CollectedData``
is the usual one.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

from napari_dlcflow.core.proofread.edits import Edit, edit_range
from napari_dlcflow.core.proofread.session import TrackSession

__all__ = ["corrected_frames", "send_to_labels"]


def corrected_frames(history: Sequence[Edit], n_frames: int) -> list[int]:
    """The frames an identity was corrected at: the first frame of each edit, and the last
    frame of an edit over a range (a swap "from here on" corrects one moment, its first frame;
    a range has two ends where the network went wrong). Sorted, each once.

    Parameters
    ----------
    history : sequence of Edit
        The edits applied (:attr:`TrackSession.history`).
    n_frames : int
        The video's frame count (an edit with no ``stop`` runs to it).
    """
    frames: set[int] = set()
    for edit in history:
        lo, hi = edit_range(edit, n_frames)
        frames.add(lo)
        if edit.stop is not None and hi - 1 > lo:
            frames.add(hi - 1)
    return sorted(f for f in frames if 0 <= f < n_frames)


def send_to_labels(
    project: Any,
    video: str | os.PathLike,
    session: TrackSession,
    frames: Iterable[int] | None = None,
) -> Any:
    """Extract the corrected frames of ``video`` into the project's labeled data, with the
    session's (saved) tracks of every individual as machine labels.

    Parameters
    ----------
    project : Project
        The open project the video belongs to (its ``iteration`` names the machine-label file;
        its individuals must be the tracks' identities).
    video : path-like
        The video the tracks are of.
    session : TrackSession
        The proofread tracks; saved, so that the labels come from the file on disk.
    frames : iterable of int, optional
        The frames to send (default: :func:`corrected_frames` of the session's history).

    Returns
    -------
    OutlierResult
        What was extracted (``picked``, ``written``, ``machine_labels``).

    Raises
    ------
    ValueError
        If the session has unsaved edits, no frame is given or corrected, the tracks'
        identities are not the project's individuals, or a frame is outside the video.
    """
    from napari_dlcflow.core.refine.outliers import OutlierSpec, extract_outliers

    where = session.save_path or session.path
    if session.dirty or where is None or not Path(where).is_file():
        raise ValueError(f"{where}: save the proofread tracks before sending frames to labels")
    chosen = sorted({int(f) for f in frames}) if frames is not None else None
    if chosen is None:
        chosen = corrected_frames(session.history, session.n_frames)
    if not chosen:
        raise ValueError(f"{where}: no corrected frame to send (no edit in this session)")
    outside = [f for f in chosen if not 0 <= f < session.n_frames]
    if outside:
        raise ValueError(
            f"{where}: frames {outside[:5]} are outside the video (0 to {session.n_frames - 1})"
        )
    wanted = [str(i) for i in (project.get("individuals") or [])]
    if wanted and list(session.individuals) != wanted:
        raise ValueError(
            f"{where}: its identities ({', '.join(session.individuals)}) are not the project's "
            f"individuals ({', '.join(wanted)}); rename them (merge) or use the matching project"
        )
    spec = OutlierSpec(criteria=("manual",), frames=tuple(chosen), n=len(chosen))
    return extract_outliers(project, video, spec, analysis=where)
