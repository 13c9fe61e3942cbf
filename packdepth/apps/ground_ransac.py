"""The steps of the ground-plane fit: candidates, RANSAC, the refit band, the plane and its tilt.

Camera frame (x right, y down, z forward, :mod:`packdepth.geometry.camera`); distances in the
depth's units. :func:`packdepth.apps.ground.fit_ground` chains them (the method, its sources and
the meaning of every setting are in :mod:`packdepth.apps.ground` and
:class:`~packdepth.apps.ground.GroundOptions`). RANSAC: Fischler & Bolles 1981, by scikit-learn's
:class:`~sklearn.linear_model.RANSACRegressor`; the refit: total least squares by SVD.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Callable

import numpy as np
from sklearn.exceptions import UndefinedMetricWarning
from sklearn.linear_model import LinearRegression, RANSACRegressor


def candidates(points: np.ndarray, min_angle_deg: float, max_points: int,
               seed: int) -> np.ndarray:
    """``[N,3]`` points with positive finite depth at least ``min_angle_deg`` below the optical
    axis (``y / z > tan(min_angle_deg)``), at most ``max_points`` (a sample seeded by ``seed``,
    kept in order) of the ``[..., 3]`` ``points``."""
    flat = points.reshape(-1, 3)
    z = flat[:, 2]
    ok = np.isfinite(flat).all(1) & (z > 0)
    ok[ok] &= flat[ok, 1] > z[ok] * math.tan(math.radians(min_angle_deg))
    chosen = flat[ok]
    if len(chosen) > max_points:
        rng = np.random.default_rng(seed)
        chosen = chosen[np.sort(rng.choice(len(chosen), max_points, replace=False))]
    return chosen


def _tilt_ok(max_tilt_deg: float) -> Callable[[LinearRegression, np.ndarray, np.ndarray], bool]:
    limit = math.tan(math.radians(max_tilt_deg))

    def valid(estimator: LinearRegression, X: np.ndarray, y: np.ndarray) -> bool:
        a, b = estimator.coef_  # y = a x + b z + c: normal ∝ (a, -1, b)
        return bool(math.hypot(a, b) <= limit)

    return valid


def ransac_inliers(pts: np.ndarray, threshold: float, max_tilt_deg: float, max_trials: int,
                   seed: int) -> np.ndarray | None:
    """``[N]`` boolean inlier mask of the RANSAC plane ``y = a x + b z + c`` of ``[N,3]`` ``pts``
    (inlier distance ``threshold`` times their median ``y``; planes within ``max_tilt_deg`` of
    horizontal only), or ``None`` when no valid plane is found in ``max_trials``."""
    guess = float(np.median(pts[:, 1]))
    ransac = RANSACRegressor(
        LinearRegression(), min_samples=3, residual_threshold=threshold * guess,
        is_model_valid=_tilt_ok(max_tilt_deg), max_trials=max_trials, random_state=seed,
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UndefinedMetricWarning)
        try:
            ransac.fit(pts[:, [0, 2]], pts[:, 1])
        except ValueError:  # no valid consensus set in max_trials
            return None
    return ransac.inlier_mask_


def band(pts: np.ndarray, mask: np.ndarray, width: float) -> np.ndarray:
    """``[N]`` mask of the points within ``width`` times the median ``y`` of ``pts``
    (orthogonal distance) of the plane through the inliers ``mask``: the set the least-squares
    refit uses."""
    centre, normal, _ = plane(pts[mask])
    return np.abs((pts - centre) @ normal) < width * float(np.median(pts[:, 1]))


def plane(pts: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Total least squares of ``[N,3]`` points: centroid ``[3]``, unit normal ``[3]`` pointing
    up (-y), singular values ``[3]`` (largest first)."""
    centre = pts.mean(0)
    _, spread, axes = np.linalg.svd(pts - centre, full_matrices=False)
    return centre, (axes[2] if axes[2][1] < 0 else -axes[2]), spread


def tilt(normal: np.ndarray) -> float:
    """Angle (degrees) between the plane of unit ``normal`` (pointing up) and the camera's x-z
    plane."""
    return math.degrees(math.acos(min(1.0, -float(normal[1]))))


def steep_plane(pts: np.ndarray, threshold: float, max_tilt_deg: float) -> float | None:
    """The tilt (degrees) of one plane holding most of ``pts`` (within ``threshold`` times their
    median ``y``), when it is steeper than ``max_tilt_deg`` (so that the message can say so),
    else ``None``."""
    centre, normal, _ = plane(pts)
    near = np.abs((pts - centre) @ normal) < threshold * float(np.median(pts[:, 1]))
    slope = tilt(normal)
    return slope if near.mean() >= 0.5 and slope > max_tilt_deg else None
