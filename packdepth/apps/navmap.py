"""A bird's-eye occupancy grid from one depth map: what a robot on the ground may drive over.

From metric depth (or depth scaled by the camera height, :mod:`packdepth.apps.ground`) and the
intrinsics ``K``:

1. Every pixel becomes a 3D point (:func:`packdepth.geometry.backproject`), expressed in the
   ground frame of the fitted plane (:class:`GroundFrame`): lateral ``x`` (right), forward ``z``
   along the camera's heading, both on the ground, and the height above it.
2. Points between ``obstacle_min`` and ``obstacle_max`` above the ground (default 0.2–2 m:
   kerbs and road markings pass, overhanging branches and signs do not count) are obstacles:
   a cell with ``min_hits`` of them is **occupied**.
3. A cell is **free** when the ground there is seen: its centre on the ground plane, projected
   into the image (:func:`packdepth.geometry.project`), lands on a pixel whose depth agrees within
   ``depth_tol`` (nothing in front of it), or ground points fall in it. The ground right in front
   of the camera, below the image's lower edge (the blind zone inside the horizontal field of
   view), is taken as free (``assume_blind_free``): the robot stands on it and drove over it.
4. Everything else is **unknown** (never seen: occluded, outside the view or beyond the range).
5. Cells closer than ``robot_radius`` to an occupied cell are **inflated**
   (``scipy.ndimage.distance_transform_edt``): the robot, planned as a point, keeps its radius
   from obstacles (the configuration-space construction of Lozano-Pérez, 1983).

Grid layout: row ``i`` covers forward ``[i, i+1) x cell`` metres, column ``j`` lateral
``[(j - c - 1/2), (j - c + 1/2)) x cell`` with ``c`` the centre column (the camera's, ``x = 0``);
the camera stands in cell ``(0, c)``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
import torch
from scipy import ndimage

from packdepth.apps.ground import GroundFit, camera_points
from packdepth.geometry import project

UNKNOWN, FREE, OCCUPIED = 0, 1, 2
STATE_NAMES = {UNKNOWN: "unknown", FREE: "free", OCCUPIED: "occupied"}


@dataclass(frozen=True)
class GridSpec:
    """The grid's cells: ``cell`` metres square, ``forward`` metres ahead, ``lateral`` metres to
    each side (rounded up to whole cells)."""

    cell: float = 0.2
    forward: float = 20.0
    lateral: float = 10.0

    def __post_init__(self) -> None:
        if not (self.cell > 0 and self.forward >= self.cell and self.lateral >= 0):
            raise ValueError(f"grid: need cell > 0, forward >= cell, lateral >= 0, got "
                             f"{self.cell}, {self.forward}, {self.lateral}")

    @property
    def centre(self) -> int:
        """The camera's column."""
        return math.ceil(self.lateral / self.cell - 1e-9)

    @property
    def shape(self) -> tuple[int, int]:
        """``(rows, cols)``: forward cells, lateral cells (odd: the camera's column in the
        middle)."""
        return math.ceil(self.forward / self.cell - 1e-9), 2 * self.centre + 1

    def cell_of(self, x: np.ndarray, z: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Row, column and inside-the-grid mask of ground positions ``x, z`` (metres)."""
        rows = np.floor(np.asarray(z) / self.cell).astype(np.int64)
        cols = np.floor(np.asarray(x) / self.cell + 0.5).astype(np.int64) + self.centre
        inside = (rows >= 0) & (rows < self.shape[0]) & (cols >= 0) & (cols < self.shape[1])
        return rows, cols, inside

    def centres(self) -> tuple[np.ndarray, np.ndarray]:
        """``x [R,C], z [R,C]``: the cell centres in metres."""
        rows, cols = np.mgrid[0 : self.shape[0], 0 : self.shape[1]].astype(np.float64)
        return (cols - self.centre) * self.cell, (rows + 0.5) * self.cell


@dataclass(frozen=True)
class NavOptions:
    """Settings of :func:`build_navmap` (see the module docstring); metres unless said."""

    grid: GridSpec = field(default_factory=GridSpec)
    obstacle_min: float = 0.2
    obstacle_max: float = 2.0
    min_hits: int = 2
    depth_tol: float = 0.1
    robot_radius: float = 0.4
    assume_blind_free: bool = True


@dataclass(frozen=True)
class GroundFrame:
    """Camera frame → ground frame of a fitted plane (metric).

    Attributes:
        right: unit lateral axis (camera frame), on the plane.
        up: the plane's unit normal pointing to the camera's side.
        ahead: unit forward axis: the optical axis projected on the plane.
        height: the camera's height above the plane (metres).
    """

    right: np.ndarray
    up: np.ndarray
    ahead: np.ndarray
    height: float

    @classmethod
    def from_normal(cls, up: np.ndarray, height: float) -> GroundFrame:
        """The frame of the plane with unit normal ``up`` (camera frame, pointing to the camera's
        side) lying ``height`` metres below the camera."""
        up = np.asarray(up, np.float64) / np.linalg.norm(up)
        ahead = np.array([0.0, 0.0, 1.0]) - up[2] * up
        ahead /= np.linalg.norm(ahead)
        return cls(np.cross(ahead, up), up, ahead, float(height))

    @classmethod
    def from_fit(cls, fit: GroundFit, scale: float) -> GroundFrame:
        """The frame of ``fit``'s plane for depth multiplied by ``scale``."""
        if not fit.found:
            raise ValueError(f"no ground plane: {fit.reason}")
        return cls.from_normal(np.asarray(fit.normal), fit.height * scale)

    def to_ground(self, points: np.ndarray) -> np.ndarray:
        """``[...,3]`` camera-frame points → ``[...,3]`` ``(x right, height, z ahead)``."""
        return np.stack([points @ self.right, points @ self.up + self.height,
                         points @ self.ahead], -1)

    def to_camera(self, x: np.ndarray, z: np.ndarray, height: float = 0.0) -> np.ndarray:
        """Ground positions (metres) at ``height`` above the plane → ``[...,3]`` camera frame."""
        x, z = np.asarray(x, np.float64)[..., None], np.asarray(z, np.float64)[..., None]
        return x * self.right + z * self.ahead + (height - self.height) * self.up


@dataclass
class NavMap:
    """An occupancy grid (see the module docstring).

    Attributes:
        state: ``[R,C]`` uint8, :data:`UNKNOWN`, :data:`FREE` or :data:`OCCUPIED`.
        inflated: ``[R,C]`` bool, within ``robot_radius`` of an occupied cell (these included).
        spec: the grid's :class:`GridSpec`.
        frame: the :class:`GroundFrame` (to project positions back into the image).
        K: ``[3,3]`` intrinsics of the depth map.
        image_size: ``(H, W)`` of the depth map.
        obstacle_pixels: ``[H,W]`` bool, the pixels whose points are obstacles (for pictures).
    """

    state: np.ndarray
    inflated: np.ndarray
    spec: GridSpec
    frame: GroundFrame
    K: np.ndarray
    image_size: tuple[int, int]
    obstacle_pixels: np.ndarray | None = None

    @property
    def traversable(self) -> np.ndarray:
        """``[R,C]`` bool: free and not inflated."""
        return (self.state == FREE) & ~self.inflated

    def project(self, x: np.ndarray, z: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Pixels ``[N,2]`` (u, v) of ground positions ``x, z`` ``[N]`` (metres) and whether each
        lies in front of the camera."""
        pts = np.ascontiguousarray(self.frame.to_camera(x, z).reshape(-1, 3).T)  # [3,N]
        pix, depth = project(torch.from_numpy(pts).reshape(1, 3, 1, -1),
                             torch.from_numpy(self.K)[None], return_depth=True)
        return pix[0, 0].numpy(), depth[0, 0, 0].numpy() > 0

    def counts(self) -> dict[str, int]:
        """Cells per state: ``{"unknown": n, "free": n, "occupied": n}``."""
        return {name: int((self.state == s).sum()) for s, name in STATE_NAMES.items()}


def _hits(spec: GridSpec, ground_pts: np.ndarray) -> np.ndarray:
    """``[R,C]`` number of the ``[N,3]`` ground-frame points in each cell."""
    rows, cols, inside = spec.cell_of(ground_pts[:, 0], ground_pts[:, 2])
    out = np.zeros(spec.shape, np.int64)
    np.add.at(out, (rows[inside], cols[inside]), 1)
    return out


def _seen_ground(nav: NavMap, depth: np.ndarray, opts: NavOptions) -> np.ndarray:
    """``[R,C]`` bool: the cell centre's ground point is visible (or in the blind zone)."""
    x, z = nav.spec.centres()
    pix, ahead = nav.project(x.ravel(), z.ravel())
    h, w = nav.image_size
    u, v = np.rint(pix[:, 0]).astype(np.int64), np.rint(pix[:, 1]).astype(np.int64)
    in_image = ahead & (u >= 0) & (u < w) & (v >= 0) & (v < h)
    expected = nav.frame.to_camera(x.ravel(), z.ravel())[:, 2]
    seen = np.zeros(u.shape, bool)
    observed = depth[v[in_image], u[in_image]]
    seen[in_image] = np.abs(observed / expected[in_image] - 1.0) < opts.depth_tol
    if opts.assume_blind_free:
        seen |= ahead & (pix[:, 1] > h - 0.5) & (pix[:, 0] >= -0.5) & (pix[:, 0] <= w - 0.5)
    return seen.reshape(nav.spec.shape)


def build_navmap(depth: np.ndarray, K: np.ndarray, fit: GroundFit, scale: float = 1.0,
                 options: NavOptions | None = None) -> NavMap:
    """The occupancy grid of one depth map.

    Args:
        depth: ``[H,W]`` depth (non-positive / non-finite = none); multiplied by ``scale`` it
            must be metres.
        K: ``[3,3]`` intrinsics in pixels at ``[H,W]``.
        fit: the ground plane of ``depth`` (:func:`packdepth.apps.ground.ground_scale`; found).
        scale: the factor making ``depth`` metric (``fit.scale`` for relative depth, 1 for
            metric depth).
        options: :class:`NavOptions`.

    Returns:
        A :class:`NavMap`.

    Raises:
        ValueError: ``fit`` found no plane; ``depth``/``K`` of the wrong shape.
    """
    opts = options or NavOptions()
    metric = np.asarray(depth, np.float64) * scale
    frame = GroundFrame.from_fit(fit, scale)
    pts = frame.to_ground(camera_points(metric, K)).reshape(-1, 3)
    valid = np.isfinite(pts).all(1) & (metric.reshape(-1) > 0)
    height = np.where(valid, pts[:, 1], np.nan)
    with np.errstate(invalid="ignore"):
        obstacle = (height >= opts.obstacle_min) & (height <= opts.obstacle_max)
        ground = np.abs(height) < opts.obstacle_min
    spec = opts.grid
    state = np.full(spec.shape, UNKNOWN, np.uint8)
    nav = NavMap(state, np.zeros(spec.shape, bool), spec, frame, np.asarray(K, np.float64),
                 metric.shape, obstacle.reshape(metric.shape))
    metric_seen = np.where(np.isfinite(metric) & (metric > 0), metric, np.inf)
    state[_seen_ground(nav, metric_seen, opts) | (_hits(spec, pts[ground]) > 0)] = FREE
    occupied = _hits(spec, pts[obstacle]) >= opts.min_hits
    state[occupied] = OCCUPIED
    if occupied.any():
        distance = ndimage.distance_transform_edt(~occupied, sampling=spec.cell)
        nav.inflated[:] = distance <= opts.robot_radius
    return nav
