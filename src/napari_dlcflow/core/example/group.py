"""A multi-animal variant of the synthetic example: look-alike animals that cross, touch and hide.

Two to four animals of the same look (identity is not visible: only tracking can keep it) walk
in the round arena of :mod:`napari_dlcflow.core.example.synthetic`, each with its own motion
(the same :class:`~napari_dlcflow.core.example.synthetic._Motion`, pose and drawing as the
single animal). On top of that:

- **social goals**: now and then an animal heads for another one (following it as it moves)
  or for the shelter instead of a random place, so paths cross and bodies meet;
- **soft repulsion**: an animal turns away from another body close ahead of its head, so
  bodies touch and overlap a little but rarely for long; where they overlap one animal walks
  over the other (the draw order changes only while an animal touches nobody);
- **a shelter**: an opaque dark roof over one side of the arena (``shelter=True``), drawn over
  the animals. An animal walking under it is partly or fully hidden, and every keypoint under
  the roof is NaN in the truth.

The truth is ``(T, N, K, 2)``: frames, individuals (:func:`individual_names`), the
:data:`~napari_dlcflow.core.example.synthetic.BODYPARTS`, ``x, y``. The truth CSV uses
DeepLabCut's multi-animal layout (header rows ``scorer`` / ``individuals`` / ``bodyparts`` /
``coords``). All randomness derives from ``spec.seed``: the same :class:`GroupSpec` always
gives bit-identical frames and keypoints.
"""

from __future__ import annotations

import math
import os
from collections.abc import Iterator
from dataclasses import dataclass
from numbers import Integral, Real

import numpy as np

from napari_dlcflow.core.example.synthetic import (
    BODYPARTS,
    SKELETON,
    ExampleFiles,
    _arena,
    _background,
    _check_video_fields,
    _draw_animal,
    _finish,
    _Motion,
    _Pose,
    _pose,
    _read_truth_csv,
    _streams,
    _truth_frame,
    _unit,
    _wrap,
    _write_example,
)

__all__ = [
    "GroupSpec",
    "GroupVideo",
    "individual_names",
    "iter_group",
    "read_group_truth",
    "render_group",
    "write_group_example",
]

_VIDEO_NAME = "synthetic_animals.mp4"
_TRUTH_NAME = "synthetic_animals_truth.csv"
_MIN_ANIMALS, _MAX_ANIMALS = 2, 4
_MIN_FRACTION, _MAX_FRACTION = 0.05, 0.25

# Behaviour (times in seconds, distances in body lengths L).
_FOLLOW_SHARE = 0.55  # of new goals: another animal (followed as it moves)
_SHELTER_SHARE = 0.2  # of new goals: a place under the shelter
_REPEL_RANGE = 0.55  # another body closer than this ahead of the head turns the animal away
_REPEL_GAIN = 2.5  # turn (1 / L) at zero distance
_RESTACK_TIME = 3.0  # mean time before an animal touching nobody may come to the top

# Shelter: a rectangle against the wall on the right, as fractions of the smaller side from
# the arena centre.
_SHELTER_X = (0.21, 0.47)
_SHELTER_HALF_HEIGHT = 0.17
_ROOF_COLOUR = np.array([58.0, 52.0, 47.0], dtype=np.float32)
_ROOF_RIM_COLOUR = np.array([104.0, 96.0, 88.0], dtype=np.float32)


def individual_names(n: int) -> tuple[str, ...]:
    """The names of ``n`` animals: ``("mouse1", ..., "mouse<n>")``.

    Examples
    --------
    >>> individual_names(2)
    ('mouse1', 'mouse2')
    """
    return tuple(f"mouse{i + 1}" for i in range(n))


@dataclass(frozen=True)
class GroupSpec:
    """Parameters of a synthetic multi-animal video.

    Parameters
    ----------
    n_animals : int
        Number of animals, 2 to 4.
    n_frames : int
        Number of frames.
    height, width : int
        Frame size in pixels (at least 32 each; even for :func:`write_group_example`).
    fps : float
        Frame rate; the motion is defined in seconds.
    seed : int
        Seed of ``np.random.default_rng``; all randomness derives from it.
    noise_sigma : float
        Standard deviation of the per-frame Gaussian sensor noise, in grey levels.
    body_fraction : float
        Body length (nose to tailbase) relative to the smaller frame side, 0.05 to 0.25 (the
        single animal has 0.25; 0.17 leaves room for four).
    shelter : bool
        Draw the shelter (an opaque roof over one side of the arena).
    """

    n_animals: int = 3
    n_frames: int = 300
    height: int = 256
    width: int = 256
    fps: float = 30.0
    seed: int = 0
    noise_sigma: float = 4.0
    body_fraction: float = 0.17
    shelter: bool = True

    def __post_init__(self) -> None:
        if isinstance(self.n_animals, bool) or not isinstance(self.n_animals, Integral):
            raise TypeError(f"n_animals must be an integer, got {self.n_animals!r}")
        if not _MIN_ANIMALS <= self.n_animals <= _MAX_ANIMALS:
            raise ValueError(
                f"n_animals must be between {_MIN_ANIMALS} and {_MAX_ANIMALS}, "
                f"got {self.n_animals}"
            )
        _check_video_fields(self)
        fraction = self.body_fraction
        if isinstance(fraction, bool) or not isinstance(fraction, Real):
            raise TypeError(f"body_fraction must be a number, got {fraction!r}")
        if not _MIN_FRACTION <= fraction <= _MAX_FRACTION:
            raise ValueError(
                f"body_fraction must be between {_MIN_FRACTION} and {_MAX_FRACTION}, "
                f"got {fraction}"
            )
        if not isinstance(self.shelter, bool):
            raise TypeError(f"shelter must be True or False, got {self.shelter!r}")


_DEFAULT_SPEC = GroupSpec()


@dataclass(frozen=True, eq=False)
class GroupVideo:
    """A rendered multi-animal video and its ground truth.

    Parameters
    ----------
    frames : ndarray of uint8, shape (T, H, W, 3)
        RGB frames.
    keypoints : ndarray of float64, shape (T, N, K, 2)
        ``x, y`` of each keypoint of each animal in each frame; NaN where it is hidden (under
        the shelter or outside the image).
    visible : ndarray of bool, shape (T, N, K)
        Where ``keypoints`` is not NaN.
    individuals : tuple of str
        The N animal names (:func:`individual_names`).
    bodyparts : tuple of str
        Keypoint names (:data:`~napari_dlcflow.core.example.synthetic.BODYPARTS`).
    skeleton : tuple of (str, str)
        Connected keypoint pairs.
    fps : float
        Frame rate.
    """

    frames: np.ndarray
    keypoints: np.ndarray
    visible: np.ndarray
    individuals: tuple[str, ...]
    bodyparts: tuple[str, ...]
    skeleton: tuple[tuple[str, str], ...]
    fps: float


# ---------------------------------------------------------------------------------------------
# Shelter
# ---------------------------------------------------------------------------------------------


class _Shelter:
    """The opaque roof: whole pixels ``[c0, c1) x [r0, r1)``, drawn over the animals."""

    def __init__(self, height: int, width: int) -> None:
        side = min(height, width)
        cx, cy = (width - 1) / 2.0, (height - 1) / 2.0
        self.c0 = max(round(cx + _SHELTER_X[0] * side), 0)
        self.c1 = min(round(cx + _SHELTER_X[1] * side) + 1, width)
        self.r0 = max(round(cy - _SHELTER_HALF_HEIGHT * side), 0)
        self.r1 = min(round(cy + _SHELTER_HALF_HEIGHT * side) + 1, height)
        h, w = self.r1 - self.r0, self.c1 - self.c0
        rim = max(1, round(0.012 * side))
        yy, xx = np.mgrid[0:h, 0:w]
        edge = np.minimum(np.minimum(xx, w - 1 - xx), np.minimum(yy, h - 1 - yy))
        planks = 1.0 + 0.06 * np.sign(np.sin(2.0 * math.pi * yy / max(0.05 * side, 2.0)))
        roof = _ROOF_COLOUR[None, None, :] * planks[..., None].astype(np.float32)
        self.roof = np.where((edge < rim)[..., None], _ROOF_RIM_COLOUR, roof).astype(np.float32)
        # A soft contact shadow on the floor around the box.
        reach = max(2.0, 0.03 * side)
        gy, gx = np.mgrid[0:height, 0:width].astype(np.float32)
        dx = np.maximum(np.maximum(self.c0 - gx, gx - (self.c1 - 1)), 0.0)
        dy = np.maximum(np.maximum(self.r0 - gy, gy - (self.r1 - 1)), 0.0)
        dist = np.hypot(dx, dy)
        self.shade = (1.0 - 0.35 * np.clip(1.0 - dist / reach, 0.0, 1.0) ** 2).astype(np.float32)

    def centre(self) -> np.ndarray:
        """``x, y`` of the middle of the roof."""
        return np.array([(self.c0 + self.c1 - 1) / 2.0, (self.r0 + self.r1 - 1) / 2.0])

    def hides(self, points: np.ndarray) -> np.ndarray:
        """Whether each ``x, y`` point (``(..., 2)``) lies in a roof pixel."""
        col = np.floor(points[..., 0] + 0.5)
        row = np.floor(points[..., 1] + 0.5)
        return (col >= self.c0) & (col < self.c1) & (row >= self.r0) & (row < self.r1)

    def cover(self, img: np.ndarray) -> None:
        """Darken the floor around the box and paint the roof over ``img`` in place."""
        img *= self.shade[..., None]
        img[self.r0 : self.r1, self.c0 : self.c1] = self.roof


# ---------------------------------------------------------------------------------------------
# Motion of the group
# ---------------------------------------------------------------------------------------------


class _GroupMotion(_Motion):
    """One animal of a group: its goals may be another animal or the shelter.

    Parameters
    ----------
    herd : list of _GroupMotion
        All animals of the group (this one included, at ``index``).
    index : int
        This animal's place in ``herd``.
    hideout : ndarray, shape (2,) or None
        A place under the shelter, or None without one.
    *args
        As :class:`~napari_dlcflow.core.example.synthetic._Motion`.
    """

    def __init__(
        self,
        herd: list[_GroupMotion],
        index: int,
        hideout: np.ndarray | None,
        *args: object,
        **kwargs: object,
    ) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        self.herd = herd
        self.index = index
        self.hideout = hideout
        self.follow: int | None = None  # index of the animal being approached

    def pick_goal(self) -> np.ndarray:
        """Another animal, the shelter, or (else) a random place of the open field."""
        u = float(self.rng.random())
        if u < _FOLLOW_SHARE:
            others = [m.index for m in self.herd if m is not self]
            self.follow = others[int(self.rng.integers(len(others)))]
            return self.herd[self.follow].pos.copy()
        if self.hideout is not None and u < _FOLLOW_SHARE + _SHELTER_SHARE:
            jitter = _unit(self.rng.uniform(-math.pi, math.pi)) * (0.3 * self.length)
            return self.hideout + jitter
        return super().pick_goal()

    def spine(self) -> np.ndarray:
        """Neck, middle of the back and rump: ``(3, 2)``."""
        arcs = np.array([0.0, 0.32, 0.6]) * self.length
        return self.trail.sample(self.pos, arcs)


def _repulsion(me: _GroupMotion, spines: list[np.ndarray]) -> float:
    """Turn (1 / L) away from other bodies close ahead of ``me``'s head."""
    big_l = me.length
    heading = _unit(me.theta)
    front = np.stack([me.pos, me.pos + 0.3 * big_l * heading])
    steer = 0.0
    for other in me.herd:
        if other is me:
            continue
        gaps = front[:, None, :] - spines[other.index][None, :, :]
        dists = np.hypot(gaps[..., 0], gaps[..., 1])
        i, j = np.unravel_index(int(np.argmin(dists)), dists.shape)
        d = float(dists[i, j])
        if d >= _REPEL_RANGE * big_l:
            continue
        to_other = -gaps[i, j]
        rel = _wrap(math.atan2(to_other[1], to_other[0]) - me.theta)
        if abs(rel) < 0.5 * math.pi:
            side = math.copysign(1.0, rel) if abs(rel) > 1e-6 else 1.0
            steer -= side * _REPEL_GAIN * (1.0 - d / (_REPEL_RANGE * big_l))
    return steer


def _step_group(herd: list[_GroupMotion]) -> None:
    """Advance every animal by one frame (steering from the state before anyone moved)."""
    spines = [m.spine() for m in herd]
    steers = [_repulsion(m, spines) for m in herd]
    for m, steer in zip(herd, steers, strict=True):
        m.steer = steer
        if m.follow is not None and m.goal is not None:
            m.goal = herd[m.follow].pos.copy()
    for m in herd:
        m.step()
        if m.goal is None:
            m.follow = None


def _touching(a: _Pose, b: _Pose) -> bool:
    """Whether the trunks of two poses overlap or touch."""
    gaps = a.trunk.points[:, None, :] - b.trunk.points[None, :, :]
    dists = np.hypot(gaps[..., 0], gaps[..., 1])
    return bool(np.any(dists < a.trunk.radii[:, None] + b.trunk.radii[None, :] + 0.5))


def _restack(order: list[int], poses: list[_Pose], rng: np.random.Generator, dt: float) -> None:
    """Now and then bring an animal that touches nobody to the top of the draw order."""
    for i in range(len(poses)):
        if rng.random() < dt / _RESTACK_TIME and not any(
            _touching(poses[i], poses[j]) for j in range(len(poses)) if j != i
        ):
            order.remove(i)
            order.append(i)


def _make_herd(
    spec: GroupSpec,
    motion_rng: np.random.Generator,
    length: float,
    centre: np.ndarray,
    radius: float,
    hideout: np.ndarray | None,
) -> tuple[list[_GroupMotion], np.random.Generator]:
    """The animals, spread around the centre and warmed up together; and the group's rng."""
    seeds = motion_rng.integers(0, 2**63, size=spec.n_animals + 1)
    group_rng = np.random.default_rng(seeds[-1])
    base = float(group_rng.uniform(-math.pi, math.pi))
    herd: list[_GroupMotion] = []
    for i in range(spec.n_animals):
        angle = base + 2.0 * math.pi * i / spec.n_animals
        start = centre + 0.55 * radius * _unit(angle)
        rng = np.random.default_rng(seeds[i])
        herd.append(
            _GroupMotion(herd, i, hideout, rng, length, centre, radius, spec.fps, start=start)
        )
    # Walk together until the initial straight paths are (mostly) replaced by real ones.
    dt = 1.0 / spec.fps
    walked = np.zeros(spec.n_animals)
    steps = 0
    max_steps = math.ceil(20.0 / dt)
    while (walked.min() < 2.0 * length or steps * dt < 1.0) and steps < max_steps:
        before = np.stack([m.pos for m in herd])
        _step_group(herd)
        after = np.stack([m.pos for m in herd])
        walked += np.hypot(*(after - before).T)
        steps += 1
    return herd, group_rng


def iter_group(spec: GroupSpec = _DEFAULT_SPEC) -> Iterator[tuple[np.ndarray, np.ndarray]]:
    """Render a synthetic multi-animal video one frame at a time.

    Parameters
    ----------
    spec : GroupSpec
        What to render.

    Yields
    ------
    frame : ndarray of uint8, shape (H, W, 3)
        RGB frame.
    keypoints : ndarray of float64, shape (N, K, 2)
        ``x, y`` of each keypoint of each animal, NaN where hidden under the shelter or
        outside the image.
    """
    motion_rng, texture_rng, noise_rng = _streams(spec.seed)
    length, centre, radius = _arena(spec.height, spec.width, spec.body_fraction)
    background = _background(spec.height, spec.width, texture_rng)
    shelter = _Shelter(spec.height, spec.width) if spec.shelter else None
    hideout = None
    if shelter is not None:
        hideout = shelter.centre()
        offset = hideout - centre
        reach = float(np.hypot(*offset))
        if reach > 0.9 * radius:  # a goal the neck can reach
            hideout = centre + offset * (0.9 * radius / reach)
    herd, group_rng = _make_herd(spec, motion_rng, length, centre, radius, hideout)
    order = list(range(spec.n_animals))
    dt = 1.0 / spec.fps
    for _ in range(spec.n_frames):
        poses = [_pose(m) for m in herd]
        _restack(order, poses, group_rng, dt)
        img = background.copy()
        for i in order:
            _draw_animal(img, poses[i], length)
        keypoints = np.stack([p.keypoints for p in poses])
        x, y = keypoints[..., 0], keypoints[..., 1]
        hidden = (x < -0.5) | (y < -0.5) | (x >= spec.width - 0.5) | (y >= spec.height - 0.5)
        if shelter is not None:
            shelter.cover(img)
            hidden |= shelter.hides(keypoints)
        keypoints[hidden] = np.nan
        yield _finish(img, noise_rng, spec.noise_sigma), keypoints
        _step_group(herd)


def render_group(spec: GroupSpec = _DEFAULT_SPEC) -> GroupVideo:
    """Render a whole synthetic multi-animal video into memory.

    Parameters
    ----------
    spec : GroupSpec
        What to render.

    Returns
    -------
    GroupVideo
        Frames ``(T, H, W, 3)`` uint8 and keypoints ``(T, N, K, 2)`` float64 (NaN = hidden).
    """
    frames = np.empty((spec.n_frames, spec.height, spec.width, 3), dtype=np.uint8)
    keypoints = np.empty((spec.n_frames, spec.n_animals, len(BODYPARTS), 2), dtype=np.float64)
    for i, (frame, kp) in enumerate(iter_group(spec)):
        frames[i] = frame
        keypoints[i] = kp
    return GroupVideo(
        frames=frames,
        keypoints=keypoints,
        visible=~np.isnan(keypoints).any(axis=-1),
        individuals=individual_names(spec.n_animals),
        bodyparts=BODYPARTS,
        skeleton=SKELETON,
        fps=spec.fps,
    )


# ---------------------------------------------------------------------------------------------
# Files
# ---------------------------------------------------------------------------------------------


def write_group_example(
    folder: str | os.PathLike[str], spec: GroupSpec = _DEFAULT_SPEC
) -> ExampleFiles:
    """Write the multi-animal video as an MP4 together with its ground-truth CSV.

    The video is encoded as :func:`~napari_dlcflow.core.example.synthetic.write_synthetic_example`
    encodes the single animal (H.264, every frame decodable exactly). The truth CSV has
    DeepLabCut's multi-animal 4-row header (``scorer`` = ``ground_truth``, ``individuals``,
    ``bodyparts``, ``coords``), one row per frame, and empty cells (NaN) for hidden keypoints.
    Both files are written under temporary names and then renamed.

    Parameters
    ----------
    folder : str or os.PathLike
        Where to write ``synthetic_animals.mp4`` and ``synthetic_animals_truth.csv``; created
        if missing. Existing files of those names are replaced.
    spec : GroupSpec
        What to render; ``height`` and ``width`` must be even.

    Returns
    -------
    ExampleFiles
        The paths written and the spec.

    Raises
    ------
    ValueError
        If the frame size is odd.
    """
    individuals = individual_names(spec.n_animals)
    return _write_example(
        folder,
        spec,
        (_VIDEO_NAME, _TRUTH_NAME),
        iter_group(spec),
        lambda keypoints: _truth_frame(keypoints, BODYPARTS, individuals),
    )


def read_group_truth(
    path: str | os.PathLike[str],
) -> tuple[np.ndarray, tuple[str, ...], tuple[str, ...]]:
    """Read a multi-animal ground-truth CSV written by :func:`write_group_example`.

    Parameters
    ----------
    path : str or os.PathLike
        The CSV file.

    Returns
    -------
    keypoints : ndarray of float64, shape (T, N, K, 2)
        ``x, y`` of each body part of each animal in each frame (NaN = hidden).
    individuals : tuple of str
        The N animal names, in column order.
    bodyparts : tuple of str
        The K body part names, in column order.

    Raises
    ------
    FileNotFoundError
        If the file does not exist.
    ValueError
        If the file is not a multi-animal truth CSV (the message names the file).
    """
    _, df, values, bad = _read_truth_csv(path, ("scorer", "individuals", "bodyparts", "coords"))
    columns = df.columns
    inds = list(columns.get_level_values("individuals"))
    parts = list(columns.get_level_values("bodyparts"))
    coords = list(columns.get_level_values("coords"))
    individuals = tuple(dict.fromkeys(inds))
    bodyparts = tuple(dict.fromkeys(parts))
    expected = [(i, b, c) for i in individuals for b in bodyparts for c in ("x", "y")]
    if list(zip(inds, parts, coords, strict=True)) != expected:
        raise bad("columns are not x, y pairs per body part, grouped by individual")
    return (
        values.reshape(len(df), len(individuals), len(bodyparts), 2),
        individuals,
        bodyparts,
    )
