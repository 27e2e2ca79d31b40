"""Read tracks (identities over a video) from DeepLabCut or SLEAP files: :func:`load_tracks`.

The :class:`~napari_dlcflow.core.predictions.tracks.Tracks` and the metrics on them live in
:mod:`napari_dlcflow.core.predictions.tracks`; this module sits in ``core.formats`` because the
SLEAP reader (:func:`napari_dlcflow.core.formats.sleap.read_tracks`) is here, above
``core.predictions``.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

from napari_dlcflow.core.formats._model import FormatError
from napari_dlcflow.core.predictions.tracks import Tracks, read_dlc_tracks
from napari_dlcflow.core.safe_io import backed_up_name

__all__ = ["TRACK_FILE_SUFFIXES", "load_tracks"]

#: The suffixes :func:`load_tracks` reads.
TRACK_FILE_SUFFIXES = (".h5", ".hdf5", ".csv", ".slp")


def load_tracks(path: str | os.PathLike) -> Tracks:
    """Read tracks from a DeepLabCut ``.h5``/``.csv`` or a SLEAP ``.slp``.

    DeepLabCut: tracked output (``<video><scorer>_el.h5``, ``_bx.h5``, ``_sk.h5``, and
    ``_filtered``), single-animal analysis files (one individual) and tables of ``x, y`` only
    indexed by frame number (a truth). Unique body parts (individual ``single``) are left out,
    with a note. SLEAP: tracks are the individuals, user-labeled instances are taken over
    predicted ones, instances without a track are ignored (counted in a warning and the notes).

    A backup (``.dlcflow-backups/<name>.<timestamp>.bak``, e.g. the version before
    proofreading) is read as the file it was made of.

    Parameters
    ----------
    path : path-like
        The file.

    Returns
    -------
    Tracks

    Raises
    ------
    FileNotFoundError
        If it does not exist.
    ValueError
        If it is not a tracks file, has no individuals or cannot be read (the message names
        the file and the problem).
    """
    p = Path(path)
    if not p.is_file():
        raise FileNotFoundError(f"no such tracks file: {p}")
    original = backed_up_name(p)
    if original is not None:  # a backup (safe_io): read it under its file's name
        with tempfile.TemporaryDirectory() as tmp:
            copy = Path(tmp) / original
            shutil.copyfile(p, copy)
            tracks = load_tracks(copy)
        tracks.source = p
        return tracks
    suffix = p.suffix.lower()
    if suffix == ".slp":
        from napari_dlcflow.core.formats import sleap

        return sleap.read_tracks(p)
    if suffix in TRACK_FILE_SUFFIXES:
        return read_dlc_tracks(p)
    expected = ", ".join(TRACK_FILE_SUFFIXES)
    raise FormatError(p, f"not a tracks file: expected one of {expected} (DeepLabCut, SLEAP)")
