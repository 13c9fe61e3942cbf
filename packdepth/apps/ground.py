"""Metric scale from the camera's height above a fitted ground plane.

A monocular depth network trained self-supervised knows depth only up to one factor. A camera
mounted at a known height above a flat road fixes that factor: back-project the depth, fit the
road plane, and scale the depth so that the plane lies ``camera_height`` below the camera
(KITTI's colour cameras: 1.65 m). The idea is the one of the monocular visual-odometry and depth
literature (Song & Chandraker, "Robust scale estimation in real-time monocular SFM for autonomous
driving", CVPR 2014; Xue et al., "Toward hierarchical self-supervised monocular absolute depth
estimation for autonomous driving applications", IROS 2020; Wagstaff & Kelly, "Self-supervised
scale recovery for monocular depth and egomotion estimation", IROS 2021).

The fit (:func:`fit_ground`; its steps in :mod:`packdepth.apps.ground_ransac`), in the camera
frame (x right, y down, z forward, :mod:`packdepth.geometry.camera`):

1. Candidates: pixels with positive finite depth whose ray points at least
   ``min_angle_deg`` below the optical axis (``y / z > tan(min_angle_deg)``): the lower part of
   the image of a roughly level camera, where the road is; at most ``max_points`` of them (a
   seeded sample).
2. RANSAC (Fischler & Bolles 1981; scikit-learn's :class:`~sklearn.linear_model.RANSACRegressor`,
   seeded) of the plane ``y = a x + b z + c`` on their 3D points, with an inlier threshold of
   ``threshold`` times a first guess of the height (the median ``y`` of the candidates), so the
   same settings serve relative and metric depth; only planes within ``max_tilt_deg`` of
   horizontal are considered.
3. A least-squares refit (total least squares: the plane through the points' centroid, normal
   to their direction of least spread) on the points within ``refit_band`` thresholds of the
   RANSAC plane, which gives the unit normal and the camera's height above the plane, in the
   depth's units. (RANSAC alone picks the densest thin slab, which for depth errors with a
   structure, such as a ripple, is their extreme rather than their middle.)

No plane, and then no scale (the depth stays relative; the result says why): fewer than
``min_inliers`` inliers or an inlier ratio below ``min_inlier_ratio`` (too little ground in
view), inliers along a line rather than over an area (a wall filling the view: its points at one
height form a horizontal strip), a refitted plane tilted more than ``max_tilt_deg`` from
horizontal, or a plane that is not below the camera.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import asdict, dataclass

import numpy as np
import torch

from packdepth.apps.ground_ransac import band, candidates, plane, ransac_inliers, steep_plane, tilt
from packdepth.arrays import to_numpy
from packdepth.geometry import backproject

#: Height of KITTI's colour cameras above the road (metres; Geiger et al., IJRR 2013).
KITTI_CAMERA_HEIGHT = 1.65


@dataclass(frozen=True)
class GroundOptions:
    """Settings of :func:`fit_ground` (see the module docstring).

    Attributes:
        min_angle_deg: candidates look at least this far below the optical axis (degrees).
        max_points: at most this many candidates (a seeded random sample).
        threshold: RANSAC inlier distance as a fraction of the first height guess.
        refit_band: the refit takes the points within ``refit_band x threshold`` of the RANSAC
            plane.
        max_tilt_deg: planes tilted more than this from horizontal (the camera's x-z plane) are
            not the ground.
        min_inliers: fewest inliers of a plane.
        min_inlier_ratio: fewest inliers as a fraction of the candidates.
        min_spread: the inliers' second-largest spread (singular value) must be at least this
            fraction of the largest: an area, not a line.
        max_trials: RANSAC iterations.
        seed: RANSAC's and the sample's random seed (the fit is deterministic).
    """

    min_angle_deg: float = 3.0
    max_points: int = 20000
    threshold: float = 0.02
    refit_band: float = 3.0
    max_tilt_deg: float = 20.0
    min_inliers: int = 100
    min_inlier_ratio: float = 0.1
    min_spread: float = 0.1
    max_trials: int = 200
    seed: int = 0


@dataclass(frozen=True)
class GroundFit:
    """The ground plane of one depth map, and the scale it gives.

    Attributes:
        camera_height: the known height of the camera above the ground (metres).
        height: the camera's height above the fitted plane in the depth's units (before
            scaling), or ``None`` when no plane was found.
        normal: the plane's unit normal pointing up (towards the camera), camera frame, or
            ``None``.
        inliers: points on the plane.
        candidates: points the plane was fitted to.
        reason: why no plane was found (``None`` when one was).
    """

    camera_height: float
    height: float | None
    normal: tuple[float, float, float] | None
    inliers: int
    candidates: int
    reason: str | None = None

    @property
    def found(self) -> bool:
        """Whether a plane was found."""
        return self.reason is None

    @property
    def scale(self) -> float | None:
        """Factor that makes the depth metric (``camera_height / height``), or ``None``."""
        return self.camera_height / self.height if self.found else None

    @property
    def inlier_ratio(self) -> float:
        """Inliers as a fraction of the candidates (0 to 1)."""
        return self.inliers / self.candidates if self.candidates else 0.0

    @property
    def tilt_deg(self) -> float | None:
        """Angle between the plane and the camera's x-z plane (degrees)."""
        return None if self.normal is None else tilt(np.asarray(self.normal))

    def describe(self) -> str:
        """One line: the scale and fit, or why there is none."""
        if not self.found:
            return f"no ground plane: {self.reason}"
        return (f"ground plane {self.height:.4g} below the camera (tilt {self.tilt_deg:.1f}°, "
                f"{self.inliers}/{self.candidates} inliers): scale {self.scale:.4g} for "
                f"{self.camera_height:g} m")

    def as_dict(self) -> dict:
        """JSON-ready fields plus ``scale`` and ``inlier_ratio``."""
        return {**asdict(self), "normal": list(self.normal) if self.normal else None,
                "scale": self.scale, "inlier_ratio": self.inlier_ratio}


def camera_points(depth: np.ndarray | torch.Tensor, K: np.ndarray | torch.Tensor) -> np.ndarray:
    """3D points of every pixel (:func:`packdepth.geometry.backproject`).

    Args:
        depth: ``[H,W]`` depth (metres or relative); non-positive or non-finite = none.
        K: ``[3,3]`` intrinsics in pixels at ``[H,W]``.

    Returns:
        ``[H,W,3]`` float64 points ``(x, y, z)`` in the camera frame, in the depth's units.

    Raises:
        ValueError: ``depth`` not 2-D or ``K`` not 3x3.
    """
    d = to_numpy(depth, np.float64)
    k = to_numpy(K, np.float64)
    if d.ndim != 2 or k.shape != (3, 3):
        raise ValueError(f"expected depth [H,W] and K [3,3], got {list(d.shape)} and "
                         f"{list(k.shape)}")
    pts = backproject(torch.from_numpy(d)[None, None], torch.from_numpy(np.linalg.inv(k))[None])
    return pts[0].permute(1, 2, 0).numpy()


def fit_ground(points: np.ndarray, camera_height: float = KITTI_CAMERA_HEIGHT,
               options: GroundOptions | None = None) -> GroundFit:
    """Fit the ground plane to camera-frame points (see the module docstring for the method).

    Args:
        points: ``[H,W,3]`` or ``[N,3]`` points (x right, y down, z forward), in the depth's units.
        camera_height: the camera's known height above the ground, metres.
        options: :class:`GroundOptions` (defaults when ``None``).

    Returns:
        A :class:`GroundFit`; ``reason`` says why when no plane was found (never raises for
        data: a frame without ground is a result, not an error).

    Raises:
        ValueError: a non-positive ``camera_height``.
    """
    if not (math.isfinite(camera_height) and camera_height > 0):
        raise ValueError(f"camera height: must be a positive number of metres, got "
                         f"{camera_height}")
    opts = options or GroundOptions()
    pts = candidates(np.asarray(points, np.float64), opts.min_angle_deg, opts.max_points,
                     opts.seed)
    n = len(pts)

    def none(reason: str, inliers: int = 0) -> GroundFit:
        steep = (steep_plane(pts, opts.threshold, opts.max_tilt_deg)
                 if n >= opts.min_inliers else None)
        if steep is not None:  # the clearer message: most points on one steep plane
            reason = (f"the points lie on a plane tilted {steep:.0f}° from horizontal (a wall "
                      f"or slope; at most {opts.max_tilt_deg:g}°)")
        return GroundFit(camera_height, None, None, inliers, n, reason)

    if n < opts.min_inliers:
        return none(f"too few points below the horizon ({n}, need {opts.min_inliers})")
    mask = ransac_inliers(pts, opts.threshold, opts.max_tilt_deg, opts.max_trials, opts.seed)
    if mask is None:
        return none(f"no plane within {opts.max_tilt_deg:g}° of horizontal")
    inl = pts[band(pts, mask, opts.refit_band * opts.threshold)]
    if len(inl) < max(opts.min_inliers, opts.min_inlier_ratio * n):
        return none(f"too little ground: {len(inl)} of {n} points on the best plane "
                    f"(need {opts.min_inliers} and {opts.min_inlier_ratio:.0%})", len(inl))
    centre, normal, spread = plane(inl)
    if spread[1] < opts.min_spread * spread[0]:
        return none("the plane's points lie along a line (a wall or one row), not over an area",
                    len(inl))
    slope = tilt(normal)
    if slope > opts.max_tilt_deg:
        return none(f"the plane is tilted {slope:.0f}° from horizontal (at most "
                    f"{opts.max_tilt_deg:g}°)", len(inl))
    height = float(-normal @ centre)
    if not height > 0:
        return none("the plane is not below the camera", len(inl))
    return GroundFit(camera_height, height, tuple(float(v) for v in normal), len(inl), n)


def ground_scale(depth: np.ndarray | torch.Tensor, K: np.ndarray | torch.Tensor,
                 camera_height: float = KITTI_CAMERA_HEIGHT,
                 options: GroundOptions | None = None) -> GroundFit:
    """The factor that puts a depth map's ground plane ``camera_height`` below the camera.

    Args:
        depth: ``[H,W]`` depth, relative or metric (non-positive / non-finite = no value).
        K: ``[3,3]`` intrinsics in pixels at ``[H,W]``.
        camera_height: metres (KITTI: :data:`KITTI_CAMERA_HEIGHT`).
        options: :class:`GroundOptions`.

    Returns:
        A :class:`GroundFit`: ``fit.scale`` multiplies ``depth`` into metres, or is ``None``
        (with ``fit.reason``) when no plane was found: then leave the depth relative.

    Raises:
        ValueError: ``depth`` not ``[H,W]``, ``K`` not ``[3,3]``, a non-positive height.

    Example:
        >>> fit = ground_scale(result.depth, result.K, 1.65)        # doctest: +SKIP
        >>> metric = result.depth * fit.scale if fit.found else None  # doctest: +SKIP
    """
    return fit_ground(camera_points(depth, K), camera_height, options)


def median_scale(fits: Iterable[GroundFit]) -> float | None:
    """Temporal median of the scales of the fits that found a plane, or ``None`` if none did."""
    scales = [f.scale for f in fits if f.found]
    return float(np.median(scales)) if scales else None
