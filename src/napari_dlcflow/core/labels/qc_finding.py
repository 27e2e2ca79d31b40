"""What label QC reports: :class:`Finding` (with its severity and a one-sentence why), the
kinds of check and the thresholds (:class:`QCSettings`).

Scores are comparable across kinds: each is the evidence divided by that kind's threshold for
a *likely mistake*, so 1.0 is at the threshold, 2.0 twice as strong; a finding scored below 1
(or of a kind that is never a mistake by itself, such as ``missing``) is a *note*.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = [
    "KINDS",
    "MISTAKE",
    "NOTE",
    "NOTE_KINDS",
    "SEVERITIES",
    "Finding",
    "QCSettings",
    "grade",
]

KINDS: tuple[str, ...] = (
    "outside",
    "duplicate",
    "overlap",
    "identity",
    "leftover",
    "swap",
    "crossed",
    "views",
    "misplaced",
    "skeleton",
    "missing",
    "model",
)
MISTAKE = "mistake"
NOTE = "note"
SEVERITIES: tuple[str, ...] = (MISTAKE, NOTE)
#: Kinds that are notes whatever their score (an unlabeled part: occlusion is normal practice).
NOTE_KINDS: frozenset[str] = frozenset({"missing"})

_WHY_MISTAKE = {
    "outside": "DeepLabCut drops a point outside the image, so this label is lost at training.",
    "duplicate": "Two labels on one spot usually mean one part was clicked twice and the other "
    "is missing or wrong.",
    "overlap": "Two animals labeled on top of each other teach the network one animal twice.",
    "identity": "The two animals' labels trade places from the previous labeled frame, which "
    "breaks identities across frames.",
    "leftover": "A point left where it was in the previous image while the animal moved was "
    "probably never placed.",
    "swap": "A left/right pair on the wrong sides teaches the network the wrong side.",
    "crossed": "A point of one animal placed on another animal mixes two animals in one pose.",
    "views": "The two views of this part do not show the same point, so one of the two labels "
    "is misplaced.",
    "misplaced": "The point is far from where the rest of this pose puts it, farther than this "
    "part ever is in the project.",
    "skeleton": "This edge is far longer or more turned than anywhere else in the project.",
    "model": "A trained model confidently puts this part elsewhere; one of the two is wrong.",
}
_WHY_NOTE = {
    "missing": "Unlabeled parts are normal where the part is hidden; label it if it is visible.",
    "duplicate": "These two parts are often this close in this project or in the images "
    "around (touching paws, folded wings, a labeling habit): look before fixing.",
    "leftover": "The point did not move while the animal barely did (or it happens in many "
    "images in a row): possibly a planted paw, worth a look.",
    "misplaced": "An unusual but possible pose, or one held over several images: worth a look.",
    "skeleton": "An unusual edge, possibly a real stretch or one held over several images: "
    "worth a look.",
    "swap": "The pair could be either way round: worth a look.",
    "crossed": "The point is nearer another animal than usual: worth a look.",
    "views": "The two views of this part agree less well than usual (or in many images in a "
    "row): worth a look.",
    "identity": "The animals moved a lot between these frames: possibly an identity swap.",
}


@dataclass(frozen=True)
class Finding:
    """One likely labeling mistake or one note.

    Attributes
    ----------
    kind : str
        One of :data:`KINDS`.
    folder : str
        The ``labeled-data`` folder (video stem).
    image : str
        The image file name (``img0042.png``).
    individual : str
        The animal (``""`` in a single-animal project, ``"single"`` for unique body parts).
    bodyparts : tuple of str
        The body parts involved (a swap names its pair, left first; ``identity`` and
        ``overlap`` name the parts both animals have in the image).
    score : float
        How suspicious, comparable across kinds: 1.0 is the threshold of a likely mistake.
    reason : str
        One line saying what was seen.
    severity : str
        ``"mistake"`` (likely mistake: fix before training) or ``"note"`` (worth a look).
    other : str
        The second animal of an ``identity``, ``overlap`` or ``crossed`` finding.
    """

    kind: str
    folder: str
    image: str
    individual: str
    bodyparts: tuple[str, ...]
    score: float
    reason: str
    severity: str = MISTAKE
    other: str = ""

    @property
    def key(self) -> str:
        """Stable identity used to remember a dismissal."""
        parts = [self.kind, self.folder, self.image, self.individual, "+".join(self.bodyparts)]
        if self.other:
            parts.append(self.other)
        return "|".join(parts)

    @property
    def row(self) -> tuple[str, str, str]:
        """The CollectedData row index of the image."""
        return ("labeled-data", self.folder, self.image)

    @property
    def mistake(self) -> bool:
        """Whether this is a likely mistake (not a note)."""
        return self.severity == MISTAKE

    @property
    def why(self) -> str:
        """One sentence: why this finding matters."""
        table = _WHY_MISTAKE if self.mistake else _WHY_NOTE
        return table.get(self.kind) or _WHY_MISTAKE.get(self.kind, "Worth a look.")


def grade(kind: str, score: float) -> str:
    """The severity of a finding of ``kind`` with (comparable) ``score``."""
    return NOTE if kind in NOTE_KINDS or score < 1.0 else MISTAKE


@dataclass(frozen=True)
class QCSettings:
    """Thresholds of the checks (defaults tuned with ``benchmarks/bench_label_qc.py``).

    A finding is made at the *finding* threshold of its check; its score is its evidence over
    the *likely mistake* threshold (``*_mistake``), so findings between the two are notes.

    Attributes
    ----------
    outside_margin : float
        Pixels; a point must be at least this far inside the border to pass.
    duplicate_px, duplicate_frac : float
        Two points closer than ``tol = max(duplicate_px, duplicate_frac * size)`` are a
        duplicate when the pair is normally at least ``duplicate_apart`` times that far apart.
    duplicate_apart, duplicate_mistake : float
        The usual distance over ``tol`` of a finding and of a likely mistake.
    duplicate_close, duplicate_same_px : float
        A pair closer than ``2 * tol`` in at least this fraction of the project's poses is
        often close for real (touching paws): its duplicates are notes, unless the two points
        are within ``duplicate_same_px`` pixels (one spot clicked twice).
    leftover_px : float
        A point within this many pixels of the previous image's counts as identical.
    leftover_moved, leftover_mistake : float
        The other points moved by at least this fraction of the animal's size (median
        displacement): a finding, a likely mistake; and by ``leftover_moved_px`` pixels.
    leftover_moved_px : float
    swap_ratio, swap_mistake : float
        Flag a swap when, with the pair exchanged, its distance to where the other points put
        it (shape model) is at least this many times smaller (finding, likely mistake)...
    swap_min : float
        ...and smaller by at least this much (fraction of the animal's size).
    misplaced_z, misplaced_mistake, misplaced_min : float
        Robust z-score of a point's leave-one-out residual (finding, likely mistake), and the
        residual's minimum as a fraction of the animal's size.
    skeleton_z, skeleton_mistake, skeleton_min : float
        Robust z-score of an edge's deviation (its vector, in the animal's frame and size,
        minus the edge's median vector), and that deviation's minimum in body sizes.
    missing_fraction : float
        A part labeled in at least this fraction of its folder's poses is expected.
    model_px, model_frac, model_likelihood : float
        A label farther than ``max(model_px, model_frac * size)`` from a prediction with at
        least this likelihood.
    min_poses : int
        Poses needed before a shape model is built (fewer: only the model-free checks run).
    run_length : int
        The same finding (kind, animal, parts) in this many consecutive labeled images of a
        folder is a behaviour or a labeling habit: a note.
    views_z, views_mistake : float
        Robust z of the distance of a pair of views of one part from the views' relation
        (finding, likely mistake).
    identity_ratio, identity_min, identity_gap : float
        Two animals' labels are exchanged between consecutive labeled frames (at most
        ``identity_gap`` frames apart) when exchanging them makes the motion this many times
        smaller and by ``identity_min`` body sizes.
    overlap_frac : float
        Two animals whose common points lie within this many body sizes (median) overlap.
    crossed_ratio, crossed_min : float
        A point at least ``crossed_min`` body sizes from where its animal puts it and this
        many times closer to where another animal puts that part.
    scene_ratio : float
        A part whose image position moves, relative to the median of the animal's other
        parts, this many times as much as the typical part does is a scene part (an
        obstacle, a joystick): checked apart from the animal
        (:mod:`~napari_dlcflow.core.labels.qc_scene`).
    skeleton_quantile : float
        An edge's spread is at least what this quantile of its deviations says under a normal
        law (legs and tails, with heavy tails, are scaled by them).
    leftover_z : float
        A leftover of a part that often stays put (``leftover_habit``) is a likely mistake only
        when the carried point is this implausible where it is (robust z of its leave-one-out
        residual under the shape model); else a note.
    leftover_habit, leftover_habit_n : float, int
        A part that stays put in at least this fraction (and number) of the pairs of
        consecutive images where the animal moved (planted legs, a labeling habit) gets the
        ``leftover_z`` test.
    border_px : float
        A point within this many pixels of the image border marks a part leaving the frame
        (a labeling convention): findings on it are notes.
    appearance : bool
        Use the images as evidence (:mod:`~napari_dlcflow.core.labels.qc_appearance`).
    leftover_contrast, leftover_changed, leftover_still, leftover_radius : float
        A leftover is decided from the image when the patches (radius ``leftover_radius``
        times the part spacing radius) the animal's other parts moved away from change at
        least ``leftover_contrast`` times as much as the patches that follow their part
        (``same``). Its own patch changed by ``here``: a likely mistake when ``here`` is at
        least ``leftover_contrast * same`` and ``leftover_changed`` of the way from ``same``
        to ``away``; a note when ``here`` is at most ``leftover_still * same`` (the part
        stayed: a planted leg); else the geometry decides.
    appearance_geo : float
        Robust z of a ``misplaced`` point or a ``skeleton`` edge (below the mistake threshold)
        at which the appearance is asked.
    appearance_atypical : float
        Appearance score (distance of the point's ring descriptor to its nearest ones of the
        same part, in units of the group's 90th percentile) of a point that does not look
        like its part: a doubtful ``misplaced``/``skeleton`` point over it is a likely
        mistake, scored appearance over this.
    appearance_typical, appearance_keep : float
        A ``misplaced``/``skeleton`` likely mistake scored under ``appearance_keep`` whose
        point looks typical (appearance under ``appearance_typical``) is a note (off: 0).
    appearance_scene : float
        A scene point (an object that looks the same in every image) whose appearance score
        is over this is ``misplaced`` on the image evidence alone.
    """

    outside_margin: float = 0.0
    duplicate_px: float = 2.0
    duplicate_frac: float = 0.05
    duplicate_apart: float = 4.0
    duplicate_mistake: float = 4.0
    duplicate_close: float = 0.05
    duplicate_same_px: float = 1.0
    leftover_px: float = 0.01
    leftover_moved: float = 0.02
    leftover_mistake: float = 0.02
    leftover_moved_px: float = 0.5
    swap_ratio: float = 1.5
    swap_mistake: float = 1.5
    swap_min: float = 0.05
    misplaced_z: float = 6.0
    misplaced_mistake: float = 6.0
    misplaced_min: float = 0.25
    skeleton_z: float = 6.0
    skeleton_mistake: float = 6.0
    skeleton_min: float = 0.3
    missing_fraction: float = 0.9
    model_px: float = 10.0
    model_frac: float = 0.3
    model_likelihood: float = 0.9
    min_poses: int = 8
    run_length: int = 3
    views_z: float = 6.0
    views_mistake: float = 6.0
    identity_ratio: float = 2.0
    identity_min: float = 0.3
    identity_gap: float = 10.0
    overlap_frac: float = 0.25
    crossed_ratio: float = 3.0
    crossed_min: float = 0.5
    scene_ratio: float = 2.0
    skeleton_quantile: float = 0.9
    leftover_z: float = 2.5
    leftover_habit: float = 0.02
    leftover_habit_n: int = 5
    border_px: float = 1.5
    appearance: bool = True
    leftover_contrast: float = 1.5
    leftover_changed: float = 0.5
    leftover_still: float = 0.5
    leftover_radius: float = 0.5
    appearance_geo: float = 3.0
    appearance_atypical: float = 3.5
    appearance_typical: float = 1.0
    appearance_keep: float = 0.0
    appearance_scene: float = 2.0
