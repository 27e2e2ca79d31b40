"""Identity proofreading of multi-animal tracks: edits, the editing session, where to look.

- :mod:`.edits`: the identity edits (swap, give, delete, fill, merge) as pure functions on
  arrays;
- :mod:`.session`: :class:`TrackSession`, the tracks being proofread, with undo and redo, a
  replayable history and a safe save (DeepLabCut's tracked ``.h5``, a backup, the edit log);
- :mod:`.candidates`: :func:`find_candidates`, the frames most likely to hold an identity
  problem, ranked;
- :mod:`.to_labels`: :func:`send_to_labels`, the corrected frames into the labeled data (the
  refine loop for several animals).

Qt-free; imports core.predictions, core.formats, core.refine and core.safe_io.
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
    original_version,
    read_edit_log,
    saved_edits,
    sleap_save_path,
)
from napari_dlcflow.core.proofread.to_labels import corrected_frames, send_to_labels

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
    "corrected_frames",
    "edits_path",
    "find_candidates",
    "original_version",
    "plan_edit",
    "read_edit_log",
    "saved_edits",
    "send_to_labels",
    "sleap_save_path",
]
