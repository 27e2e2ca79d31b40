"""A deterministic synthetic behaviour video with exact ground-truth keypoints.

The video shows a top-down view of a mouse-like animal walking in a round open-field arena.
Every keypoint in :data:`BODYPARTS` is computed from the same geometry that is rendered, so it
sits exactly on a visible landmark of the animal: the pink nose tip, the skull between the ears,
the neck, the middle of the back, the root of the tail where it leaves the rump, the middle and
the tip of the tail, and the centre of each paw.

Conventions
-----------
Keypoints are ``x`` (column) then ``y`` (row) in pixels, and an integer value is the centre of a
pixel, as in DeepLabCut. "Left" and "right" are the animal's own sides as seen from above by a
camera whose image is not mirrored.

Motion
------
The neck follows a smooth, curvature-limited random walk: the path curvature and the walking
speed are slowly varying random processes, the animal pauses now and then, and it steers away
from the arena wall before reaching it. The back and the tail are laid along the path the neck
has travelled, so the body bends with the path and the tail lags behind. The head turns
relative to the body (more during pauses), the tail sways a little, and the four paws swing in
a diagonal (trotting) gait whose phase advances with the distance walked.

All randomness comes from ``np.random.default_rng(spec.seed)``: the same
:class:`SyntheticSpec` always gives bit-identical frames and keypoints.
"""

from __future__ import annotations

import math
import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from numbers import Integral, Real
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

import numpy as np

from napari_dlcflow.core.safe_io import atomic_writer
from napari_dlcflow.core.video.writer import VideoWriter

if TYPE_CHECKING:
    import pandas as pd

__all__ = [
    "BODYPARTS",
    "SKELETON",
    "TRUTH_SCORER",
    "ExampleFiles",
    "SyntheticSpec",
    "SyntheticVideo",
    "VideoSpec",
    "iter_synthetic",
    "read_truth",
    "render_synthetic",
    "write_synthetic_example",
]

BODYPARTS: tuple[str, ...] = (
    "nose",
    "head",
    "neck",
    "body",
    "tailbase",
    "tailmid",
    "tailtip",
    "left_forepaw",
    "right_forepaw",
    "left_hindpaw",
    "right_hindpaw",
)
"""Names of the keypoints, in the order of the keypoint axis."""

SKELETON: tuple[tuple[str, str], ...] = (
    ("nose", "head"),
    ("head", "neck"),
    ("neck", "body"),
    ("body", "tailbase"),
    ("tailbase", "tailmid"),
    ("tailmid", "tailtip"),
    ("neck", "left_forepaw"),
    ("neck", "right_forepaw"),
    ("tailbase", "left_hindpaw"),
    ("tailbase", "right_hindpaw"),
)
"""Pairs of connected keypoints."""

TRUTH_SCORER = "ground_truth"
"""The scorer name written in the header of the truth CSV."""

_VIDEO_NAME = "synthetic_animal.mp4"
_TRUTH_NAME = "synthetic_animal_truth.csv"
_KEYFRAME_INTERVAL = 30
_MIN_SIDE = 32

# ---------------------------------------------------------------------------------------------
# Body plan. Lengths are in body lengths L (nose to tailbase along the spine); L is a quarter of
# the smaller frame side. Arc lengths along the head run forwards from the neck, arc lengths
# along the back and the tail run backwards from the neck along the travelled path.
# ---------------------------------------------------------------------------------------------
_BODY_FRACTION = 0.25  # L / min(height, width)
_HEAD_LEN = 0.30  # neck -> nose
_HEAD_KP = 0.15  # neck -> head keypoint (between the ears)
_EYE_AT = 0.21
_BODY_KP = 0.32  # neck -> body keypoint (widest part of the back)
_RUMP_END = 0.55  # last spine point of the trunk; its radius rounds the rump off at the tailbase
_TAILBASE = 0.70  # neck -> tailbase (= _RUMP_END + trunk radius there)
_TAIL_LEN = 0.85
_TAIL_HIDDEN = 0.62  # the tail starts under the rump so that it joins the body seamlessly
_FOREPAW_AT = 0.10
_HINDPAW_AT = 0.50
_TRAIL_KEEP = 1.75  # how much travelled path is remembered (> tail end + tangent step)

# Half-widths (in L) along the head (forwards from the neck) and along the trunk (backwards).
_HEAD_PROFILE = (
    (0.0, 0.06, 0.15, 0.22, 0.27, _HEAD_LEN),
    (0.115, 0.12, 0.105, 0.075, 0.045, 0.022),
)
_TRUNK_PROFILE = (
    (0.0, 0.08, 0.20, _BODY_KP, 0.45, _RUMP_END),
    (0.115, 0.13, 0.16, 0.172, 0.168, _TAILBASE - _RUMP_END),
)
_TAIL_RADIUS = (0.035, 0.012)  # at the tailbase and at the tip
_EAR_RADIUS = 0.055
_EAR_SIDE = 0.10
_EYE_RADIUS = 0.018
_EYE_SIDE = 0.065
_NOSE_RADIUS = 0.025
_FOREPAW_RADIUS = 0.04
_HINDPAW_RADIUS = 0.05
_FOREPAW_SWING = 0.06
_HINDPAW_SWING = 0.08
_STRIDE = 0.5  # body lengths walked per gait cycle
_TAIL_SWAY = 0.05

# Arena, as fractions of the smaller frame side.
_FLOOR_RADIUS = 0.46
_WALL_RADIUS = 0.495

# Colours (RGB, 0..255).
_FUR = np.array([84.0, 74.0, 66.0], dtype=np.float32)
_TAIL_COLOUR = np.array([122.0, 101.0, 98.0], dtype=np.float32)
_PAW_COLOUR = np.array([186.0, 138.0, 132.0], dtype=np.float32)
_EAR_COLOUR = np.array([146.0, 112.0, 108.0], dtype=np.float32)
_EYE_COLOUR = np.array([22.0, 18.0, 18.0], dtype=np.float32)
_NOSE_COLOUR = np.array([192.0, 128.0, 126.0], dtype=np.float32)
_FLOOR_COLOUR = np.array([203.0, 201.0, 194.0], dtype=np.float32)
_WALL_COLOUR = np.array([92.0, 95.0, 100.0], dtype=np.float32)
_OUTSIDE_COLOUR = np.array([48.0, 47.0, 45.0], dtype=np.float32)


@dataclass(frozen=True)
class SyntheticSpec:
    """Parameters of a synthetic video.

    Parameters
    ----------
    n_frames : int
        Number of frames.
    height, width : int
        Frame size in pixels (at least 32 each; even for :func:`write_synthetic_example`).
    fps : float
        Frame rate; the animal's motion is defined in seconds, so it looks the same at any rate.
    seed : int
        Seed of ``np.random.default_rng``; all randomness derives from it.
    noise_sigma : float
        Standard deviation of the per-frame Gaussian sensor noise, in grey levels.
    """

    n_frames: int = 300
    height: int = 320
    width: int = 320
    fps: float = 30.0
    seed: int = 0
    noise_sigma: float = 4.0

    def __post_init__(self) -> None:
        _check_video_fields(self)


def _check_video_fields(spec: VideoSpec) -> None:
    """Check the fields every synthetic spec has: ``n_frames``, ``height``, ``width``,
    ``seed`` (integers), ``fps`` and ``noise_sigma`` (finite numbers).

    Raises
    ------
    TypeError, ValueError
        Naming the field and its value.
    """
    for name in ("n_frames", "height", "width", "seed"):
        value = getattr(spec, name)
        if isinstance(value, bool) or not isinstance(value, Integral):
            raise TypeError(f"{name} must be an integer, got {value!r}")
    if spec.n_frames < 1:
        raise ValueError(f"n_frames must be at least 1, got {spec.n_frames}")
    if spec.height < _MIN_SIDE or spec.width < _MIN_SIDE:
        raise ValueError(
            f"height and width must be at least {_MIN_SIDE}, got {spec.height}x{spec.width}"
        )
    if spec.seed < 0:
        raise ValueError(f"seed must be non-negative, got {spec.seed}")
    for name in ("fps", "noise_sigma"):
        value = getattr(spec, name)
        if isinstance(value, bool) or not isinstance(value, Real) or not math.isfinite(value):
            raise TypeError(f"{name} must be a finite number, got {value!r}")
    if spec.fps <= 0:
        raise ValueError(f"fps must be positive, got {spec.fps}")
    if spec.noise_sigma < 0:
        raise ValueError(f"noise_sigma must be non-negative, got {spec.noise_sigma}")


_DEFAULT_SPEC = SyntheticSpec()


class VideoSpec(Protocol):
    """What every synthetic spec (:class:`SyntheticSpec`, the multi-animal
    :class:`~napari_dlcflow.core.example.group.GroupSpec`) has."""

    @property
    def n_frames(self) -> int: ...
    @property
    def height(self) -> int: ...
    @property
    def width(self) -> int: ...
    @property
    def fps(self) -> float: ...
    @property
    def seed(self) -> int: ...
    @property
    def noise_sigma(self) -> float: ...


@dataclass(frozen=True, eq=False)
class SyntheticVideo:
    """A rendered synthetic video and its ground truth.

    Parameters
    ----------
    frames : ndarray of uint8, shape (T, H, W, 3)
        RGB frames.
    keypoints : ndarray of float64, shape (T, K, 2)
        ``x, y`` of each of the K :attr:`bodyparts` in each frame, in pixels.
    bodyparts : tuple of str
        Keypoint names (:data:`BODYPARTS`).
    skeleton : tuple of (str, str)
        Connected keypoint pairs (:data:`SKELETON`).
    fps : float
        Frame rate.
    """

    frames: np.ndarray
    keypoints: np.ndarray
    bodyparts: tuple[str, ...]
    skeleton: tuple[tuple[str, str], ...]
    fps: float


@dataclass(frozen=True)
class ExampleFiles:
    """Files written by :func:`write_synthetic_example` (or by
    :func:`~napari_dlcflow.core.example.group.write_group_example`).

    Parameters
    ----------
    video : Path
        The H.264 MP4 video, ``<folder>/synthetic_animal.mp4`` (``synthetic_animals.mp4``).
    truth_csv : Path
        The ground-truth keypoints, ``<folder>/synthetic_animal_truth.csv``
        (``synthetic_animals_truth.csv``).
    spec : SyntheticSpec or GroupSpec
        The spec the files were made from.
    """

    video: Path
    truth_csv: Path
    spec: VideoSpec


# ---------------------------------------------------------------------------------------------
# Motion
# ---------------------------------------------------------------------------------------------


def _unit(angle: np.ndarray | float) -> np.ndarray:
    """Unit vector(s) ``(cos, sin)`` along the last axis."""
    return np.stack([np.cos(angle), np.sin(angle)], axis=-1)


def _wrap(angle: float) -> float:
    """Wrap an angle to ``[-pi, pi)``."""
    return (angle + math.pi) % (2.0 * math.pi) - math.pi


class _Trail:
    """The path travelled by the neck, newest point last, laid out by arc length.

    Parameters
    ----------
    points : ndarray, shape (N, 2)
        Initial path, oldest first.
    spacing : float
        A new point is stored once the neck is this far (pixels) from the newest stored one.
    keep : float
        Length of path (pixels) kept behind the neck; older points are dropped.
    """

    def __init__(self, points: np.ndarray, spacing: float, keep: float) -> None:
        self._x = [float(p) for p in points[:, 0]]
        self._y = [float(p) for p in points[:, 1]]
        self._spacing = spacing
        self._keep = keep

    def push(self, point: np.ndarray) -> None:
        """Record the neck position if it moved far enough from the newest stored point."""
        if math.hypot(point[0] - self._x[-1], point[1] - self._y[-1]) >= self._spacing:
            self._x.append(float(point[0]))
            self._y.append(float(point[1]))

    def sample(self, head: np.ndarray, arc: np.ndarray) -> np.ndarray:
        """Points at arc lengths ``arc`` (pixels) behind ``head`` along the path.

        Parameters
        ----------
        head : ndarray, shape (2,)
            Current neck position, the start of the path.
        arc : ndarray, shape (M,)
            Arc lengths; values past the stored path give its oldest point.

        Returns
        -------
        ndarray, shape (M, 2)
        """
        xs = np.concatenate([[head[0]], self._x[::-1]])
        ys = np.concatenate([[head[1]], self._y[::-1]])
        cum = np.concatenate([[0.0], np.cumsum(np.hypot(np.diff(xs), np.diff(ys)))])
        # Forget what lies beyond the kept length (keeping one point past it).
        beyond = int(np.searchsorted(cum, self._keep)) + 1
        if beyond < len(cum) - 1:
            n_drop = len(cum) - 1 - beyond
            del self._x[:n_drop]
            del self._y[:n_drop]
        return np.stack([np.interp(arc, cum, xs), np.interp(arc, cum, ys)], axis=-1)


class _Motion:
    """The animal's locomotion state, advanced one frame at a time.

    Parameters
    ----------
    rng : numpy.random.Generator
        Source of randomness.
    length : float
        Body length L in pixels.
    centre : ndarray, shape (2,)
        Arena centre ``x, y``.
    radius : float
        The neck stays within this distance of the centre.
    fps : float
        Frame rate.
    start : ndarray, shape (2,), optional
        Where the neck starts (default: the centre).

    Attributes
    ----------
    steer : float
        An extra turn (in 1 / L) added to the free wandering at the next :meth:`step`; set
        from outside, e.g. to keep clear of other animals (zero for a lone animal).
    """

    def __init__(
        self,
        rng: np.random.Generator,
        length: float,
        centre: np.ndarray,
        radius: float,
        fps: float,
        start: np.ndarray | None = None,
    ) -> None:
        self.rng = rng
        self.length = length
        self.centre = centre
        self.radius = radius
        self.dt = 1.0 / fps
        self.theta = float(rng.uniform(-math.pi, math.pi))
        self.pos = (centre if start is None else np.asarray(start, dtype=float)).copy()
        self.steer = 0.0
        self.curvature = 0.0  # in 1 / L
        self.speed = 0.0  # in L / s
        self.cruise = float(rng.uniform(0.7, 1.8))
        self.pause_left = 0.0  # seconds
        self.yaw_drive = 0.0
        self.yaw = 0.0  # head angle relative to the body, radians
        self.gait_phase = float(rng.uniform(0.0, 2.0 * math.pi))
        self.sway_phase = float(rng.uniform(0.0, 2.0 * math.pi))
        self.goal: np.ndarray | None = None  # a place the animal heads for, if any
        self.goal_left = 0.0  # seconds
        # Start with a straight path through the centre; walking replaces it (see warm_up).
        back = np.linspace(0.0, _TRAIL_KEEP * length, int(_TRAIL_KEEP * length) + 2)
        initial = self.pos - back[::-1, None] * _unit(self.theta)
        self.trail = _Trail(initial, spacing=0.5, keep=_TRAIL_KEEP * length)

    def warm_up(self) -> None:
        """Walk until the initial straight path is (mostly) replaced by a real one."""
        walked = 0.0
        steps = 0
        max_steps = math.ceil(20.0 / self.dt)
        while (walked < 2.0 * self.length or steps * self.dt < 1.0) and steps < max_steps:
            before = self.pos.copy()
            self.step()
            walked += float(np.hypot(*(self.pos - before)))
            steps += 1

    def step(self) -> None:
        """Advance the state by one frame."""
        rng = self.rng
        dt = self.dt
        big_l = self.length

        # Behaviour: occasional pauses, and a cruising speed that changes now and then.
        if self.pause_left > 0.0:
            self.pause_left -= dt
            target_speed = 0.0
        else:
            if rng.random() < dt / 4.0:
                self.pause_left = float(rng.uniform(0.4, 1.6))
            if rng.random() < dt / 1.5:
                self.cruise = float(rng.uniform(0.5, 2.2))
            target_speed = self.cruise

        # Near the wall, turn to walk along it (slightly inwards), as mice do: look ahead along
        # the heading and steer harder the closer that point comes to the boundary.
        ahead = self.pos + _unit(self.theta) * (0.8 * big_l)
        r_ahead = float(np.hypot(*(ahead - self.centre)))
        urgency = min(max((r_ahead - (self.radius - 0.2 * big_l)) / (0.7 * big_l), 0.0), 1.0)
        wall_turn = 0.0
        if urgency > 0.0:
            out = self.pos - self.centre
            out_angle = math.atan2(out[1], out[0])
            rel = _wrap(self.theta - out_angle)
            side = math.copysign(1.0, rel if abs(rel) > 1e-3 else self.curvature)
            desired = out_angle + side * (0.5 * math.pi + 0.35)
            wall_turn = 4.0 * urgency * _wrap(desired - self.theta)
            target_speed *= 1.0 - 0.3 * urgency * max(0.0, math.cos(rel))

        # Exploration: now and then the animal heads for a random place in the arena, which
        # makes it leave the wall and cross the open field.
        goal_turn = 0.0
        if self.goal is None and rng.random() < dt / 2.5:
            self.goal = self.pick_goal()
            self.goal_left = float(rng.uniform(1.0, 3.0))
        if self.goal is not None:
            to_goal = self.goal - self.pos
            self.goal_left -= dt
            if self.goal_left <= 0.0 or float(np.hypot(*to_goal)) < 0.5 * big_l:
                self.goal = None
            else:
                goal_turn = 1.0 * _wrap(math.atan2(to_goal[1], to_goal[0]) - self.theta)

        # Free wandering: the path curvature is a slowly varying random process (an
        # Ornstein-Uhlenbeck process with a 0.7 s memory and a spread of 0.9 / L).
        keep = math.exp(-dt / 0.7)
        kick = 0.9 * math.sqrt(1.0 - keep**2) * float(rng.standard_normal())
        self.curvature = self.curvature * keep + kick
        # Near the wall its steering takes over; |turn| <= 1.8 / L keeps the turning radius
        # above 0.55 L, so the body never folds.
        free = self.curvature + goal_turn
        if self.steer:
            free += self.steer
        turn = float(np.clip(free * (1.0 - urgency) + wall_turn, -1.8, 1.8))

        self.speed += (target_speed - self.speed) * (1.0 - math.exp(-dt / 0.3))
        ds = self.speed * big_l * dt  # pixels
        dtheta = turn * self.speed * dt  # curvature (1/L) times distance (L)
        step_dir = _unit(self.theta + 0.5 * dtheta)
        new_pos = self.pos + step_dir * ds
        offset = new_pos - self.centre
        dist = float(np.hypot(*offset))
        if dist > self.radius:  # hard limit: slide along the boundary
            new_pos = self.centre + offset * (self.radius / dist)
            moved = new_pos - self.pos
            if float(np.hypot(*moved)) > 1e-9:
                self.theta = math.atan2(moved[1], moved[0])
            ds = float(np.hypot(*moved))
        else:
            self.theta += dtheta
        self.theta = _wrap(self.theta)
        self.pos = new_pos
        self.trail.push(self.pos)

        # Head yaw relative to the body: looks into turns, scans more during pauses. A random
        # drive relaxes quickly and the yaw follows it smoothly.
        moving = min(self.speed / 0.6, 1.0)
        sigma = 0.25 * moving + 0.6 * (1.0 - moving)
        bias = 0.12 * turn * moving
        keep = math.exp(-dt / 0.4)
        kick = sigma * math.sqrt(1.0 - keep**2) * float(rng.standard_normal())
        self.yaw_drive = bias + (self.yaw_drive - bias) * keep + kick
        self.yaw_drive = float(np.clip(self.yaw_drive, -1.0, 1.0))
        self.yaw += (self.yaw_drive - self.yaw) * (1.0 - math.exp(-dt / 0.15))

        self.gait_phase = (self.gait_phase + 2.0 * math.pi * ds / (_STRIDE * big_l)) % (
            2.0 * math.pi
        )
        self.sway_phase = (self.sway_phase + 2.0 * math.pi * 0.8 * dt) % (2.0 * math.pi)

    def pick_goal(self) -> np.ndarray:
        """A new place to head for: a random point of the open field."""
        angle = self.rng.uniform(-math.pi, math.pi)
        dist = 0.7 * self.radius * math.sqrt(self.rng.random())
        return self.centre + dist * _unit(angle)


# ---------------------------------------------------------------------------------------------
# Pose: keypoints and drawable primitives
# ---------------------------------------------------------------------------------------------


@dataclass
class _Chain:
    """Tapered capsules joining consecutive points; ``radii`` per point (pixels)."""

    points: np.ndarray
    radii: np.ndarray

    def capsules(self) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """Start points, end points, start radii and end radii of the capsules."""
        if len(self.points) == 1:
            return self.points, self.points, self.radii, self.radii
        return self.points[:-1], self.points[1:], self.radii[:-1], self.radii[1:]


@dataclass
class _Pose:
    """Everything needed to draw one frame of the animal."""

    keypoints: np.ndarray
    trunk: _Chain
    tail: _Chain
    paws: tuple[np.ndarray, np.ndarray, np.ndarray]  # capsule starts, ends and radii
    ears: np.ndarray
    eyes: np.ndarray
    nose: np.ndarray
    ear_radius: float
    eye_radius: float
    nose_radius: float


def _left_of(tangent: np.ndarray) -> np.ndarray:
    """The animal's left for a forward direction, in image coordinates (y down)."""
    return np.stack([tangent[..., 1], -tangent[..., 0]], axis=-1)


def _normalise(v: np.ndarray) -> np.ndarray:
    """Rows of ``v`` scaled to unit length."""
    norm = np.hypot(v[..., 0], v[..., 1])[..., None]
    return v / np.maximum(norm, 1e-12)


def _pose(motion: _Motion) -> _Pose:
    """Lay the body out along the travelled path for the current motion state."""
    big_l = motion.length
    neck = motion.pos
    trail = motion.trail
    min_r = 0.6

    def along(arc_l: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Points and forward unit tangents at arc lengths (in L) behind the neck."""
        arc = np.asarray(arc_l, dtype=float) * big_l
        step = 0.04 * big_l
        pts = trail.sample(neck, arc)
        fwd = trail.sample(neck, np.maximum(arc - step, 0.0))
        bwd = trail.sample(neck, arc + step)
        return pts, _normalise(fwd - bwd)

    # Head: bends by the yaw angle over the first part of its length.
    n_head = 11  # samples every 0.03 L, so index 5 is the head keypoint and 10 the nose
    a = np.linspace(0.0, _HEAD_LEN, n_head)
    back = trail.sample(neck, np.array([0.12 * big_l]))[0]
    base_dir = neck - back
    base_angle = math.atan2(base_dir[1], base_dir[0])
    mid = 0.5 * (a[:-1] + a[1:])
    angles = base_angle + motion.yaw * np.clip(mid / 0.12, 0.0, 1.0)
    steps = _unit(angles) * (np.diff(a) * big_l)[:, None]
    head_pts = np.vstack([neck, neck + np.cumsum(steps, axis=0)])
    head_r = np.interp(a, *_HEAD_PROFILE) * big_l
    i_head = round(_HEAD_KP / (_HEAD_LEN / (n_head - 1)))
    i_eye = round(_EYE_AT / (_HEAD_LEN / (n_head - 1)))
    head_dir = _unit(angles[min(i_head, len(angles) - 1)])
    eye_dir = _unit(angles[min(i_eye, len(angles) - 1)])

    # Trunk from the neck back to the rump.
    s_trunk = np.linspace(0.0, _RUMP_END, 12)
    trunk_pts, _ = along(s_trunk)
    trunk_r = np.interp(s_trunk, *_TRUNK_PROFILE) * big_l
    body_pts = np.vstack([head_pts[::-1], trunk_pts[1:]])
    body_r = np.concatenate([head_r[::-1], trunk_r[1:]])

    # Tail, swaying sideways more and more towards its tip.
    s_tail = np.concatenate([[_TAIL_HIDDEN], np.linspace(_TAILBASE, _TAILBASE + _TAIL_LEN, 15)])
    tail_pts, tail_tan = along(s_tail)
    u = np.clip((s_tail - _TAILBASE) / _TAIL_LEN, 0.0, 1.0)
    sway = _TAIL_SWAY * big_l * u**1.5 * np.sin(2.0 * math.pi * 0.9 * u - motion.sway_phase)
    tail_pts = tail_pts + _left_of(tail_tan) * sway[:, None]
    tail_r = np.maximum(np.interp(u, [0.0, 1.0], _TAIL_RADIUS) * big_l, min_r * np.ones_like(u))

    # Paws: diagonal pairs swing together; the swing fades out when the animal stands still.
    moving = min(motion.speed / 0.6, 1.0)
    phase = motion.gait_phase
    paw_specs = (  # (base arc, side (+1 left), swing, radius, phase offset, elongation)
        (_FOREPAW_AT, 1.0, _FOREPAW_SWING, _FOREPAW_RADIUS, 0.0, 0.4),
        (_FOREPAW_AT, -1.0, _FOREPAW_SWING, _FOREPAW_RADIUS, math.pi, 0.4),
        (_HINDPAW_AT, 1.0, _HINDPAW_SWING, _HINDPAW_RADIUS, math.pi, 0.8),
        (_HINDPAW_AT, -1.0, _HINDPAW_SWING, _HINDPAW_RADIUS, 0.0, 0.8),
    )
    paw_arc = np.array(
        [b - sw * moving * math.sin(phase + off) for b, _, sw, _, off, _ in paw_specs]
    )
    paw_on_spine, paw_tan = along(paw_arc)
    sides = np.array([p[1] for p in paw_specs])
    paw_r = np.array([max(p[3] * big_l, min_r) for p in paw_specs])
    lateral = np.interp(paw_arc, *_TRUNK_PROFILE) * big_l + 0.45 * paw_r
    paw_centres = paw_on_spine + _left_of(paw_tan) * (sides * lateral)[:, None]
    half = np.array([p[5] for p in paw_specs]) * paw_r
    paw_a = paw_centres - paw_tan * half[:, None]
    paw_b = paw_centres + paw_tan * half[:, None]

    # Ears beside the head keypoint, eyes a little further forward, the nose at the tip.
    head_kp = head_pts[i_head]
    ear_offset = _left_of(head_dir) * (_EAR_SIDE * big_l)
    ear_back = head_dir * (0.02 * big_l)
    ears = np.stack([head_kp + ear_offset - ear_back, head_kp - ear_offset - ear_back])
    eye_offset = _left_of(eye_dir) * (_EYE_SIDE * big_l)
    eyes = np.stack([head_pts[i_eye] + eye_offset, head_pts[i_eye] - eye_offset])

    kp_arcs = np.array([_BODY_KP, _TAILBASE])
    kp_spine, _ = along(kp_arcs)
    keypoints = np.vstack(
        [
            head_pts[-1],  # nose
            head_kp,  # head
            neck,  # neck
            kp_spine[0],  # body
            kp_spine[1],  # tailbase (sway is zero there)
            tail_pts[8],  # tailmid: index 8 is u = 0.5
            tail_pts[-1],  # tailtip
            paw_centres,  # left fore, right fore, left hind, right hind
        ]
    ).astype(np.float64)
    return _Pose(
        keypoints=keypoints,
        trunk=_Chain(body_pts, np.maximum(body_r, min_r)),
        tail=_Chain(tail_pts, tail_r),
        paws=(paw_a, paw_b, paw_r),
        ears=ears,
        eyes=eyes,
        nose=head_pts[-1:],
        ear_radius=max(_EAR_RADIUS * big_l, min_r),
        eye_radius=max(_EYE_RADIUS * big_l, 0.5),
        nose_radius=max(_NOSE_RADIUS * big_l, min_r),
    )


# ---------------------------------------------------------------------------------------------
# Rendering
# ---------------------------------------------------------------------------------------------


def _capsule_sdf(
    sdf: np.ndarray,
    origin: tuple[int, int],
    starts: np.ndarray,
    ends: np.ndarray,
    r_start: np.ndarray,
    r_end: np.ndarray,
    margin: float,
) -> None:
    """Lower ``sdf`` to the signed distance (pixels) of a union of tapered capsules.

    Parameters
    ----------
    sdf : ndarray of float32, shape (h, w)
        Distance field of a box whose pixel ``[0, 0]`` is at ``origin = (x0, y0)``; updated in
        place with ``min``.
    origin : (int, int)
        ``x, y`` of the box's first pixel centre.
    starts, ends : ndarray, shape (n, 2)
        Capsule axis end points ``x, y``.
    r_start, r_end : ndarray, shape (n,)
        Radius at each end (linearly interpolated in between).
    margin : float
        How far outside each capsule (pixels) the field must be correct.
    """
    x0, y0 = origin
    h, w = sdf.shape
    for (ax, ay), (bx, by), ra, rb in zip(starts, ends, r_start, r_end, strict=True):
        reach = max(ra, rb) + margin
        c0 = max(math.floor(min(ax, bx) - reach) - x0, 0)
        c1 = min(math.ceil(max(ax, bx) + reach) - x0 + 1, w)
        r0 = max(math.floor(min(ay, by) - reach) - y0, 0)
        r1 = min(math.ceil(max(ay, by) + reach) - y0 + 1, h)
        if c0 >= c1 or r0 >= r1:
            continue
        px = np.arange(c0, c1, dtype=np.float32)[None, :] + np.float32(x0 - ax)
        py = np.arange(r0, r1, dtype=np.float32)[:, None] + np.float32(y0 - ay)
        dx = np.float32(bx - ax)
        dy = np.float32(by - ay)
        len2 = float(dx * dx + dy * dy)
        if len2 > 1e-9:
            t = np.clip((px * dx + py * dy) * np.float32(1.0 / len2), 0.0, 1.0)
            dist = np.hypot(px - t * dx, py - t * dy) - (np.float32(ra) + t * np.float32(rb - ra))
        else:
            dist = np.hypot(px, py) - np.float32(ra)
        region = sdf[r0:r1, c0:c1]
        np.minimum(region, dist, out=region)


def _paint(region: np.ndarray, sdf: np.ndarray, colour: np.ndarray) -> None:
    """Alpha-blend ``colour`` into ``region`` where ``sdf < 0``, with a 1 pixel soft edge."""
    alpha = np.clip(0.5 - sdf, 0.0, 1.0)[..., None]
    region += (colour - region) * alpha


def _background(height: int, width: int, rng: np.random.Generator) -> np.ndarray:
    """The empty arena: textured, unevenly lit floor, a wall ring and the bench outside it."""
    from skimage.filters import gaussian

    side = min(height, width)
    yy, xx = np.mgrid[0:height, 0:width].astype(np.float32)
    cx, cy = (width - 1) / 2.0, (height - 1) / 2.0
    r = np.hypot(xx - cx, yy - cy)
    r_floor = _FLOOR_RADIUS * side
    r_wall = _WALL_RADIUS * side

    def smooth_noise(sigma: float) -> np.ndarray:
        field = gaussian(rng.standard_normal((height, width)), sigma=sigma, mode="reflect")
        return (field / max(float(field.std()), 1e-12)).astype(np.float32)

    grain = 3.5 * smooth_noise(0.7)  # fine grain of the floor material
    blotch = 2.5 * smooth_noise(side / 30.0)  # faint stains and wear
    wall_grain = 2.0 * smooth_noise(0.8)

    # Illumination: vignetting plus a gentle, random large-scale gradient.
    angle = rng.uniform(0.0, 2.0 * math.pi)
    gradient = np.cos(angle) * (xx - cx) + np.sin(angle) * (yy - cy)
    illum = 1.0 - 0.20 * (r / (0.5 * side)) ** 2 + 0.05 * gradient / (0.5 * side)

    floor = _FLOOR_COLOUR[None, None, :] + (grain + blotch)[..., None]
    # Contact shadow along the foot of the wall.
    inside = np.clip(r_floor - r, 0.0, None)
    floor = floor * (1.0 - 0.22 * np.exp(-inside / (0.02 * side)))[..., None]

    # Wall seen from above: darker inner face, lighter rim; lit from one side.
    rim = np.clip((r - (r_floor + 0.6 * (r_wall - r_floor))) / (0.4 * (r_wall - r_floor)), 0, 1)
    light = np.cos(np.arctan2(yy - cy, xx - cx) - angle)
    wall = _WALL_COLOUR[None, None, :] + (28.0 * rim + 8.0 * light + wall_grain)[..., None]
    outside = _OUTSIDE_COLOUR[None, None, :] + wall_grain[..., None]

    a_wall = np.clip(r_wall - r + 0.5, 0.0, 1.0)[..., None]
    a_floor = np.clip(r_floor - r + 0.5, 0.0, 1.0)[..., None]
    img = outside + (wall - outside) * a_wall
    img = img + (floor - img) * a_floor
    return (img * illum[..., None]).astype(np.float32)


def _draw_animal(img: np.ndarray, pose: _Pose, length: float) -> None:
    """Draw the animal (with a soft shadow) into the float image ``img`` in place."""
    height, width = img.shape[:2]
    shadow_reach = max(3.0, 0.07 * length)
    margin = shadow_reach + 2.0
    pts = np.vstack([pose.trunk.points, pose.tail.points, *pose.paws[:2], pose.ears])
    reach = float(pose.trunk.radii.max()) + margin
    x0 = max(math.floor(pts[:, 0].min() - reach), 0)
    x1 = min(math.ceil(pts[:, 0].max() + reach) + 1, width)
    y0 = max(math.floor(pts[:, 1].min() - reach), 0)
    y1 = min(math.ceil(pts[:, 1].max() + reach) + 1, height)
    if x0 >= x1 or y0 >= y1:
        return
    shape = (y1 - y0, x1 - x0)
    origin = (x0, y0)
    region = img[y0:y1, x0:x1]

    def field(
        starts: np.ndarray, ends: np.ndarray, ra: np.ndarray, rb: np.ndarray, m: float
    ) -> np.ndarray:
        sdf = np.full(shape, np.inf, dtype=np.float32)
        _capsule_sdf(sdf, origin, starts, ends, ra, rb, m)
        return sdf

    trunk = field(*pose.trunk.capsules(), margin)
    tail = field(*pose.tail.capsules(), margin)
    paw_a, paw_b, paw_r = pose.paws
    paws = field(paw_a, paw_b, paw_r, paw_r, margin)
    ear_r = np.full(len(pose.ears), pose.ear_radius)
    ears = field(pose.ears, pose.ears, ear_r, ear_r, 2.0)
    eye_r = np.full(len(pose.eyes), pose.eye_radius)
    eyes = field(pose.eyes, pose.eyes, eye_r, eye_r, 2.0)
    nose_r = np.array([pose.nose_radius])
    nose = field(pose.nose, pose.nose, nose_r, nose_r, 2.0)

    union = np.minimum(np.minimum(trunk, tail), paws)
    shadow = 0.3 * np.clip(1.0 - union / shadow_reach, 0.0, 1.0) ** 2
    region *= (1.0 - shadow)[..., None]

    _paint(region, paws, _PAW_COLOUR)
    _paint(region, tail, _TAIL_COLOUR)
    # Fur: a little lighter along the back than at the flanks.
    depth = np.clip(-trunk / (0.1 * length), 0.0, 1.0)
    fur = _FUR * (0.8 + 0.3 * np.sqrt(depth))[..., None]
    alpha = np.clip(0.5 - trunk, 0.0, 1.0)[..., None]
    region += (fur - region) * alpha
    _paint(region, ears, _EAR_COLOUR)
    _paint(region, eyes, _EYE_COLOUR)
    _paint(region, nose, _NOSE_COLOUR)


def iter_synthetic(
    spec: SyntheticSpec = _DEFAULT_SPEC,
) -> Iterator[tuple[np.ndarray, np.ndarray]]:
    """Render a synthetic video one frame at a time.

    Only one frame is held at a time, so arbitrarily long videos can be streamed.

    Parameters
    ----------
    spec : SyntheticSpec
        What to render.

    Yields
    ------
    frame : ndarray of uint8, shape (H, W, 3)
        RGB frame.
    keypoints : ndarray of float64, shape (K, 2)
        ``x, y`` of each of the :data:`BODYPARTS` in pixels (integer = pixel centre).
    """
    motion_rng, texture_rng, noise_rng = _streams(spec.seed)
    length, centre, radius = _arena(spec.height, spec.width, _BODY_FRACTION)
    background = _background(spec.height, spec.width, texture_rng)
    motion = _Motion(motion_rng, length, centre, radius, spec.fps)
    motion.warm_up()
    for _ in range(spec.n_frames):
        pose = _pose(motion)
        img = background.copy()
        _draw_animal(img, pose, length)
        yield _finish(img, noise_rng, spec.noise_sigma), pose.keypoints
        motion.step()


def _streams(seed: int) -> tuple[np.random.Generator, np.random.Generator, np.random.Generator]:
    """Independent random streams for the motion, the arena's texture and the sensor noise,
    so that e.g. the noise level does not change the motion."""
    root = np.random.default_rng(seed)
    motion_rng, texture_rng, noise_rng = (
        np.random.default_rng(s) for s in root.integers(0, 2**63, size=3)
    )
    return motion_rng, texture_rng, noise_rng


def _arena(height: int, width: int, body_fraction: float) -> tuple[float, np.ndarray, float]:
    """Body length L (pixels), arena centre ``x, y`` and the radius the neck stays within."""
    side = min(height, width)
    length = body_fraction * side
    centre = np.array([(width - 1) / 2.0, (height - 1) / 2.0])
    # Keep the neck far enough from the floor's edge that the nose, ears and paws stay inside.
    reach = max(_HEAD_LEN, math.hypot(_HEAD_KP, _EAR_SIDE + _EAR_RADIUS)) + 0.1
    radius = _FLOOR_RADIUS * side - reach * length
    return length, centre, radius


def _finish(img: np.ndarray, noise_rng: np.random.Generator, noise_sigma: float) -> np.ndarray:
    """Add sensor noise to the float image ``img`` (in place) and round it to ``uint8``."""
    if noise_sigma > 0:
        noise = noise_rng.standard_normal(img.shape[:2], dtype=np.float32)
        img += (noise * np.float32(noise_sigma))[..., None]  # luminance noise (monochrome sensor)
    np.clip(img, 0.0, 255.0, out=img)
    img += 0.5
    return img.astype(np.uint8)


def render_synthetic(spec: SyntheticSpec = _DEFAULT_SPEC) -> SyntheticVideo:
    """Render a whole synthetic video into memory.

    Parameters
    ----------
    spec : SyntheticSpec
        What to render.

    Returns
    -------
    SyntheticVideo
        Frames ``(T, H, W, 3)`` uint8 and keypoints ``(T, K, 2)`` float64.
    """
    frames = np.empty((spec.n_frames, spec.height, spec.width, 3), dtype=np.uint8)
    keypoints = np.empty((spec.n_frames, len(BODYPARTS), 2), dtype=np.float64)
    for i, (frame, kp) in enumerate(iter_synthetic(spec)):
        frames[i] = frame
        keypoints[i] = kp
    return SyntheticVideo(
        frames=frames, keypoints=keypoints, bodyparts=BODYPARTS, skeleton=SKELETON, fps=spec.fps
    )


# ---------------------------------------------------------------------------------------------
# Files
# ---------------------------------------------------------------------------------------------


def _write_example(
    folder: str | os.PathLike[str],
    spec: VideoSpec,
    names: tuple[str, str],
    frames: Iterator[tuple[np.ndarray, np.ndarray]],
    truth_table: Callable[[np.ndarray], pd.DataFrame],
) -> ExampleFiles:
    """Stream ``frames`` into an H.264 MP4 and their keypoints into a truth CSV, atomically.

    Parameters
    ----------
    folder : path-like
        Where to write; created if missing.
    spec : SyntheticSpec or GroupSpec
        Frame size and rate (the size must be even).
    names : (str, str)
        File names of the video and the truth CSV.
    frames : iterator of (frame, keypoints)
        What to write, e.g. :func:`iter_synthetic`.
    truth_table : callable
        Turns the stacked keypoints into the truth table.
    """
    if spec.height % 2 or spec.width % 2:
        raise ValueError(f"H.264 yuv420p needs an even frame size, got {spec.height}x{spec.width}")
    out = Path(folder)
    out.mkdir(parents=True, exist_ok=True)
    video = out / names[0]
    truth = out / names[1]
    # the truth is put in place first (inner block), then the video it describes
    with (
        atomic_writer(video, backup=False) as tmp_video,
        atomic_writer(truth, backup=False) as tmp_truth,
    ):
        keypoints = []
        with VideoWriter(
            tmp_video,
            width=spec.width,
            height=spec.height,
            fps=spec.fps,
            codec="libx264",
            crf=17,
            preset="veryfast",
            keyframe_interval=_KEYFRAME_INTERVAL,
        ) as writer:
            for frame, kp in frames:
                keypoints.append(kp)
                writer.write(frame)
        truth_table(np.stack(keypoints)).to_csv(tmp_truth)
    return ExampleFiles(video=video, truth_csv=truth, spec=spec)


def _truth_frame(
    keypoints: np.ndarray, bodyparts: tuple[str, ...], individuals: tuple[str, ...] = ()
) -> pd.DataFrame:
    """The keypoints as a DeepLabCut-style DataFrame: 3-level columns for ``(T, K, 2)``
    keypoints, 4-level (with ``individuals``) for ``(T, N, K, 2)``."""
    import pandas as pd

    levels: list[list[str]] = [[TRUTH_SCORER], list(bodyparts), ["x", "y"]]
    names = ["scorer", "bodyparts", "coords"]
    if individuals:
        levels.insert(1, list(individuals))
        names.insert(1, "individuals")
    columns = pd.MultiIndex.from_product(levels, names=names)
    n_frames = keypoints.shape[0]
    return pd.DataFrame(
        keypoints.reshape(n_frames, -1), columns=columns, index=pd.RangeIndex(n_frames)
    )


def write_synthetic_example(
    folder: str | os.PathLike[str], spec: SyntheticSpec = _DEFAULT_SPEC
) -> ExampleFiles:
    """Write the synthetic video as an MP4 together with its ground-truth CSV.

    The video is H.264 (libx264, yuv420p, CRF 17) with a closed GOP, a keyframe every 30 frames
    and no B-frames, so every frame can be decoded exactly and seeking is cheap. The truth CSV
    has DeepLabCut's 3-row header (``scorer`` = ``ground_truth``, ``bodyparts``, ``coords``)
    and one row per frame. Each file is written under a temporary name in ``folder`` and then
    renamed, so an interrupted run never leaves a partial file under the final name.

    Parameters
    ----------
    folder : str or os.PathLike
        Where to write ``synthetic_animal.mp4`` and ``synthetic_animal_truth.csv``; created if
        missing. Existing files of those names are replaced.
    spec : SyntheticSpec
        What to render; ``height`` and ``width`` must be even (a yuv420p requirement).

    Returns
    -------
    ExampleFiles
        The paths written and the spec.

    Raises
    ------
    ValueError
        If the frame size is odd.
    """
    return _write_example(
        folder,
        spec,
        (_VIDEO_NAME, _TRUTH_NAME),
        iter_synthetic(spec),
        lambda keypoints: _truth_frame(keypoints, BODYPARTS),
    )


def read_truth(path: str | os.PathLike[str]) -> tuple[np.ndarray, tuple[str, ...]]:
    """Read a ground-truth CSV written by :func:`write_synthetic_example`.

    Parameters
    ----------
    path : str or os.PathLike
        The CSV file.

    Returns
    -------
    keypoints : ndarray of float64, shape (T, K, 2)
        ``x, y`` of each body part in each frame.
    bodyparts : tuple of str
        The K body part names, in column order.

    Raises
    ------
    FileNotFoundError
        If the file does not exist.
    ValueError
        If the file is not a truth CSV of this layout (the message names the file).
    """
    _, df, values, bad = _read_truth_csv(path, ("scorer", "bodyparts", "coords"))
    columns = df.columns
    parts = list(columns.get_level_values("bodyparts"))
    coords = list(columns.get_level_values("coords"))
    bodyparts = tuple(parts[0::2])
    if parts[1::2] != list(bodyparts) or coords != ["x", "y"] * len(bodyparts):
        raise bad("columns are not x, y pairs per body part")
    if len(set(bodyparts)) != len(bodyparts):
        raise bad("a body part appears twice")
    return values.reshape(len(df), len(bodyparts), 2), bodyparts


def _read_truth_csv(
    path: str | os.PathLike[str], levels: tuple[str, ...]
) -> tuple[Path, pd.DataFrame, np.ndarray, Callable[[str], ValueError]]:
    """Read a truth CSV whose header rows are ``levels``; check what all truth files share.

    Returns
    -------
    file : Path
    df : pandas.DataFrame
        The table (columns checked for the levels, the scorer and x, y pairs).
    values : ndarray of float64, shape (T, C)
    bad : callable
        Makes the ValueError naming the file for a reason.

    Raises
    ------
    FileNotFoundError
        If the file does not exist.
    ValueError
        If the file is not a truth CSV of this layout (the message names the file).
    """
    import pandas as pd

    file = Path(path)
    if not file.is_file():
        raise FileNotFoundError(f"no such truth file: {file}")

    def bad(reason: str) -> ValueError:
        return ValueError(f"{file} is not a synthetic ground-truth CSV: {reason}")

    try:
        df = pd.read_csv(
            file, header=list(range(len(levels))), index_col=0, float_precision="round_trip"
        )
    except (ValueError, IndexError, UnicodeDecodeError, pd.errors.ParserError) as exc:
        raise bad(f"cannot parse it ({exc})") from exc

    columns = df.columns
    if not isinstance(columns, pd.MultiIndex) or list(columns.names) != list(levels):
        raise bad(f"its header is not the {len(levels)} rows {' / '.join(levels)}")
    if df.shape[1] == 0 or df.shape[1] % 2:
        raise bad(f"it has {df.shape[1]} data columns, expected x, y pairs")
    scorers = set(columns.get_level_values("scorer"))
    if scorers != {TRUTH_SCORER}:
        raise bad(f"scorer is {sorted(scorers)}, expected {TRUTH_SCORER!r}")
    n_frames = len(df)
    try:
        index = np.asarray(df.index, dtype=np.int64)
    except (TypeError, ValueError) as exc:
        raise bad("the index is not frame numbers") from exc
    if not np.array_equal(index, np.arange(n_frames)) or not np.array_equal(
        index, np.asarray(df.index, dtype=float)
    ):
        raise bad("the index is not the frame numbers 0, 1, 2, ...")
    try:
        values = df.to_numpy(dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise bad("it holds non-numeric coordinates") from exc
    return file, df, values, bad
