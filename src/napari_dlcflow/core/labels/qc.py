"""Label quality control: find the likely labeling mistakes in a project's CollectedData.

:func:`check_labels` reads every ``labeled-data`` folder of a project (single and multi-animal)
and returns :class:`Finding` objects, most suspicious first. Reading never writes. The checks
(details and benchmark in ``docs/label-qc.md``):

``outside``
    A point not strictly inside the image (DeepLabCut drops it); sizes from the image headers.
``duplicate``
    Two body parts of one animal at (nearly) the same spot, while that pair is normally apart;
    or the same spot given to two animals.
``overlap``
    Two animals labeled on top of each other (multi-animal).
``identity``
    Two animals' labels exchanged from one labeled frame to the next (multi-animal; fixed with
    :func:`identity_fix`).
``leftover``
    A point identical to the one in the previous labeled image of the same folder while the
    animal's other points moved (a point that was not moved on). A note when the part stays
    put in the image across the project (a head-fixed nose), or when the part often stays put
    (planted legs: ``leftover_habit``) and the carried point is plausible where it is.
``swap``
    A left/right pair (from the names: ``left``/``right``, ``L``/``R``, ``_l``/``_r`` ... or
    declared in the sidecar) whose exchange makes the pose fit the project's shape model much
    better: the pair sits on the wrong side of the body axis.
``crossed``
    A point of one animal that belongs to another animal's body (multi-animal).
``views``
    The same part in two views of one image (``nose_top``, ``nose_bot``) at places that do not
    correspond (robust fit of the views' epipolar relation): one of the two is misplaced.
``misplaced``
    A point far from where the other points of the pose put it under the project's robust
    shape model (generalized Procrustes: similarity-aligned median pose, rotation without
    reflection, leave-one-out prediction).
``skeleton``
    A skeleton edge (``config.yaml``'s, else the minimum spanning tree of the mean pose) whose
    length or direction, relative to the animal's size and orientation in that image, is far
    from that edge's distribution over the project.
``missing``
    One body part unlabeled in one image although the neighbouring images of its folder label
    it and it is labeled almost everywhere else (an accidental NaN).
``model``
    A label a trained model confidently disagrees with (when evaluation predictions exist).

Each finding is a *likely mistake* or a *note* (``Finding.severity``; ``missing`` and
findings below a kind's mistake threshold are notes) and says why in one sentence
(``Finding.why``). Scores are comparable across kinds: the evidence over the kind's threshold
of a likely mistake (1.0 at the threshold). Thresholds are in :class:`QCSettings`, tuned on
seeded injected mistakes (``benchmarks/bench_label_qc.py``).

Scene parts (an obstacle, a joystick: points that do not move with the animal; from the
sidecar, ``label_qc: scene_parts``, else found from the motion by
:mod:`~napari_dlcflow.core.labels.qc_scene`) are taken out of the animal's shape model,
skeleton and leftover checks and checked among themselves (their offsets to each other).
Findings on a point within ``border_px`` of the image border (a part leaving the frame) are
notes. A duplicate in one view that the other view confirms (both parts labeled there,
each agreeing with its counterpart) is a real overlap: a note.

The images are evidence too (:mod:`~napari_dlcflow.core.labels.qc_appearance`; off with
``QCSettings.appearance``): a leftover whose patch changed as much as the ones the animal's
other parts moved away from is a likely mistake, one whose patch did not change (a planted
leg) a note; a doubtful ``misplaced``/``skeleton`` point whose image does not look like that
part elsewhere in the project is a likely mistake; a scene point that does not look like
itself is ``misplaced``. An image that cannot be read leaves the geometry alone.

Images that hold several views (a mirror, tiled cameras) are checked per view: views from the
sidecar (``label_qc: views``), from the body-part names (``nose_top``/``nose_bot``,
``cam1_nose``...), else from the positions: groups of parts that one fixed line (a mirror edge,
a tile border) separates in nearly every image (:mod:`napari_dlcflow.core.labels.qc_views`;
``label_qc: {views: {}}`` turns that off); views found so are said in a run-level note.
Findings dismissed by the user are remembered in the sidecar (``label_qc: dismissed``).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import replace
from typing import TYPE_CHECKING

import numpy as np

from napari_dlcflow.core.labels.qc_appearance import (
    Images,
    appearance_scores,
    leftover_evidence,
    scene_appearance,
    weigh_shape,
)
from napari_dlcflow.core.labels.qc_checks import (
    check_duplicates,
    check_leftovers,
    check_missing,
    check_model,
    check_outside,
    check_scene,
    check_views,
)
from napari_dlcflow.core.labels.qc_finding import (
    KINDS,
    MISTAKE,
    NOTE,
    SEVERITIES,
    Finding,
    QCSettings,
    grade,
)
from napari_dlcflow.core.labels.qc_identity import identity_checks, identity_fix
from napari_dlcflow.core.labels.qc_notes import (
    border_notes,
    overlap_in_one_view,
    plausible_leftovers,
    runs_are_notes,
    seen_in_another_view,
)
from napari_dlcflow.core.labels.qc_pairs import swap_fix, symmetric_pairs
from napari_dlcflow.core.labels.qc_poses import (
    by_view,
    frame_number,
    image_size,
    pose_groups,
    project_labels,
    split_scene,
    without_outside,
)
from napari_dlcflow.core.labels.qc_report import findings_csv, format_findings, summary
from napari_dlcflow.core.labels.qc_scene import fixed_parts
from napari_dlcflow.core.labels.qc_shape import ShapeModel as _ShapeModel
from napari_dlcflow.core.labels.qc_shape_checks import check_shape, check_sparse_edges
from napari_dlcflow.core.labels.qc_sidecar import (
    declared_pairs,
    declared_scene_parts,
    declared_views,
    dismiss,
    dismissed_keys,
)
from napari_dlcflow.core.labels.qc_views import found_views, views_note

if TYPE_CHECKING:
    from napari_dlcflow.core.predictions.evaluated import EvalFrames
    from napari_dlcflow.core.project.config import Project

__all__ = [
    "KINDS",
    "MISTAKE",
    "NOTE",
    "SEVERITIES",
    "Finding",
    "QCSettings",
    "check_labels",
    "declared_pairs",
    "declared_scene_parts",
    "declared_views",
    "dismiss",
    "dismissed_keys",
    "findings_csv",
    "format_findings",
    "identity_fix",
    "summary",
    "swap_fix",
    "symmetric_pairs",
]

# the label QC benchmark (benchmarks/bench_label_qc.py) reads these two from here
_frame_number = frame_number
_image_size = image_size


def check_labels(
    project: Project,
    kinds: Iterable[str] | None = None,
    *,
    settings: QCSettings | None = None,
    pairs: Iterable[Sequence[str]] | None = None,
    include_dismissed: bool = False,
    evaluation: EvalFrames | None = None,
    notes: list[str] | None = None,
) -> list[Finding]:
    """Look for likely labeling mistakes in every ``labeled-data`` folder of ``project``.

    Parameters
    ----------
    project : Project
        The open project (its CollectedData files are read, nothing is written).
    kinds : iterable of str, optional
        Checks to run (default: all of :data:`KINDS`).
    settings : QCSettings, optional
        Thresholds.
    pairs : iterable of (str, str), optional
        Left/right pairs to use in addition to the sidecar's and those found from the names.
    include_dismissed : bool, default False
        Also return findings the user dismissed.
    evaluation : EvalFrames, optional
        A trained model's predictions on the labeled images (the engine's
        ``latest_frames(config)``); the ``model`` check runs only when it is given.
    notes : list of str, optional
        Receives the run-level notes (views found from the positions), one line each.

    Returns
    -------
    list of Finding
        Likely mistakes first, then notes; each most suspicious (highest score) first.

    Raises
    ------
    ValueError
        If ``kinds`` names an unknown check.
    LabelsError
        If a CollectedData file cannot be read (the message names the file).
    """
    s = settings or QCSettings()
    want = list(KINDS if kinds is None else kinds)
    unknown = [k for k in want if k not in KINDS]
    if unknown:
        raise ValueError(f"unknown check(s): {', '.join(unknown)} (known: {', '.join(KINDS)})")
    tables = project_labels(project)
    out: list[Finding] = []
    if "outside" in want:
        check_outside(tables, s, out)
    outside = list(out)
    declared = [*declared_pairs(project.root), *(pairs or [])]
    between = [k for k in ("identity", "overlap") if k in want]
    groups = pose_groups(tables)
    views = declared_views(project.root)
    animal = groups.get("animal")
    found = found_views(animal.array(), animal.parts, views) if animal else {}
    if found:  # used as declared ones from here on
        views = found
        if notes is not None:
            notes.append(views_note(found))
    views = views or {}
    bodies, scenes = split_scene(groups, declared_scene_parts(project.root), views, s)
    images = Images([folder for folder, _ in tables])
    for scene in scenes.values():
        check_scene(scene, outside, want, s, out)
        if s.appearance and "misplaced" in want:
            scene_appearance(scene, without_outside(scene, outside), images, s, out)
    views_of_all = by_view(groups, views)
    for gname, group in by_view(bodies, views).items():
        X = group.array()
        index = {(p.folder, p.image, p.individual): i for i, p in enumerate(group.poses)}
        Xo = X.copy()  # without the points outside the image
        for f in outside:
            i = index.get((f.folder, f.image, f.individual))
            if i is not None and f.bodyparts[0] in group.parts:
                Xo[i, group.parts.index(f.bodyparts[0])] = np.nan + 0j
        before = len(out)
        if "duplicate" in want:  # on all parts, the scene's too (a hand on the joystick)
            full = views_of_all.get(gname)
            if full is not None:
                check_duplicates(full, without_outside(full, outside), s, out)
        habit: set[str] = set()
        if "leftover" in want:
            fixed = fixed_parts(group, Xo, s.scene_ratio, s.min_poses)
            habit = check_leftovers(group, Xo, s, out, fixed)
        decided: set[int] = set()
        if s.appearance and "leftover" in want:
            decided = leftover_evidence(out, before, group, Xo, images, s)
        if "missing" in want:
            check_missing(group, X, s, out)
        if between and gname.startswith("animal"):
            identity_checks(group, Xo, None, between, s, set(), frame_number, out)
        shape_kinds = {"swap", "misplaced", "skeleton", "crossed"} & set(want)
        if "skeleton" in want and gname.startswith("animal"):
            told = {
                (f.folder, f.image, f.individual, bp)
                for f in [*outside, *out[before:]]
                for bp in f.bodyparts
            }
            check_sparse_edges(group, Xo, list(project.skeleton), s, told, out)
        labeled = int((np.isfinite(X).sum(axis=1) >= 3).sum())
        if not shape_kinds or labeled < s.min_poses or len(group.parts) < 3:
            continue
        # points already explained (outside, duplicate, leftover) do not feed the shape checks
        busy: set[tuple[int, int]] = set()
        Xs = X.copy()
        for f in [*outside, *out[before:]]:
            if f.kind == "duplicate" and not set(f.bodyparts) <= set(group.parts):
                continue
            i = index.get((f.folder, f.image, f.individual))
            if i is None or f.kind not in ("outside", "duplicate", "leftover"):
                continue
            for bp in f.bodyparts:
                if bp not in group.parts:
                    continue
                k = group.parts.index(bp)
                busy.add((i, k))
                Xs[i, k] = np.nan + 0j
        model = _ShapeModel(Xs)
        if not model.valid:
            continue
        plausible_leftovers(out, before, group.parts, habit, index, Xo, Xs, model, s, decided)
        skeleton = list(project.skeleton) if gname.startswith("animal") else []
        found: list[Finding] = []
        if "crossed" in want and gname.startswith("animal"):
            identity_checks(group, Xs, model.ref, ["crossed"], s, busy, frame_number, found)
        weak: list[Finding] | None = [] if s.appearance else None
        check_shape(
            group,
            Xs,
            model,
            symmetric_pairs(group.parts, declared),
            skeleton,
            s,
            busy,
            found,
            weak,
            s.appearance_geo,
        )
        found = [f for f in found if f.kind in shape_kinds]
        weak = [f for f in weak or [] if f.kind in shape_kinds]
        doubtful = any(f.kind in ("misplaced", "skeleton") and f.score < 1.0 for f in found)
        if s.appearance and (weak or doubtful or s.appearance_keep > 0):
            A = appearance_scores(group, Xs, images)
            found = weigh_shape(found, weak, group, A, s)
        out.extend(found)
    if "model" in want and evaluation is not None:
        check_model(evaluation, s, out)
    if not include_dismissed:
        gone = dismissed_keys(project.root)
        out = [f for f in out if f.key not in gone]
    if "views" in want:
        check_views(groups, views, s, out)
    out = seen_in_another_view(out, groups, views)
    out = overlap_in_one_view(out, groups, views, s)
    out = runs_are_notes(out, tables, s)
    out = border_notes(out, tables, s)
    out = [replace(f, severity=grade(f.kind, f.score)) for f in out]
    order = {k: n for n, k in enumerate(KINDS)}
    out.sort(
        key=lambda f: (SEVERITIES.index(f.severity), -f.score, order[f.kind], f.folder, f.image)
    )
    return out
