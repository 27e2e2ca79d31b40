"""Identity proofreading of multi-animal tracks: edits, the editing session, where to look.

- :mod:`.edits`: the identity edits (swap, give, delete, fill, merge) as pure functions on
  arrays;
- :mod:`.session`: :class:`TrackSession`, the tracks being proofread, with undo and redo, a
  replayable history and a safe save (DeepLabCut's tracked ``.h5``, a backup, the edit log);
- :mod:`.candidates`: :func:`find_candidates`, the frames most likely to hold an identity
  problem, ranked.

Qt-free; imports core.predictions, core.formats and core.safe_io.
"""

from napari_dlcflow.core.proofread.candidates import CANDIDATE_KINDS, Candidate, find_candidates
from napari_dlcflow.core.proofread.edits import (
    EDIT_KINDS,
    FILL_LIKELIHOOD,
    Edit,
    EditError,
    Patch,
    apply_edit,
    plan_edit,
)
from napari_dlcflow.core.proofread.session import (
    SLEAP_SCORER,
    TracksChangedOnDiskError,
    TrackSession,
    edits_path,
    read_edit_log,
    saved_edits,
    sleap_save_path,
)

__all__ = [
    "CANDIDATE_KINDS",
    "EDIT_KINDS",
    "FILL_LIKELIHOOD",
    "SLEAP_SCORER",
    "Candidate",
    "Edit",
    "EditError",
    "Patch",
    "TrackSession",
    "TracksChangedOnDiskError",
    "apply_edit",
    "edits_path",
    "find_candidates",
    "plan_edit",
    "read_edit_log",
    "saved_edits",
    "sleap_save_path",
]
