"""How right an occupancy grid is, against exact depth and per-pixel class labels (the synthetic
world's, :mod:`packdepth.data.synthetic`).

The truth of a cell comes from the labelled pixels whose exact 3D points fall in it (in the
ground frame of the exact depth's own plane):

- an **obstacle cell** holds a pixel of an obstacle class (vehicles, poles, buildings) between
  the map's obstacle heights (the part of the object a robot would hit);
- a **road cell** holds road or lane-marking pixels and no pixel of any other class.

Scores: ``precision`` = occupied cells holding a pixel of any non-ground class between the
obstacle heights (vegetation included: hedges and trunks are obstacles too) / occupied cells;
``recall`` = obstacle cells marked occupied / obstacle cells;
``road_free`` = road cells marked free / road cells; ``road_occupied`` = road cells marked
occupied / road cells. With a ``tolerance`` (metres), an occupied cell counts as right when an
obstacle cell lies within it, and an obstacle cell as found when an occupied one does (the
usual allowance for depth errors of a cell or two).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass

import numpy as np
from scipy import ndimage

from packdepth.apps.ground import camera_points
from packdepth.apps.navmap import FREE, OCCUPIED, GridSpec, GroundFrame, NavMap
from packdepth.data.synthetic import ClassId

OBSTACLE_CLASSES = (ClassId.BUILDING, ClassId.POLE, ClassId.VEHICLE, ClassId.MOVING_VEHICLE)
ROAD_CLASSES = (ClassId.ROAD, ClassId.LANE_MARKING)
GROUND_CLASSES = (*ROAD_CLASSES, ClassId.SIDEWALK, ClassId.SKY)


@dataclass(frozen=True)
class OccupancyScores:
    """See the module docstring; ``*_cells`` are the counts behind the ratios."""

    precision: float
    recall: float
    road_free: float
    road_occupied: float
    occupied_cells: int
    obstacle_cells: int
    road_cells: int

    def as_dict(self) -> dict:
        """JSON-ready fields."""
        return asdict(self)


def _cells_with(spec: GridSpec, pts: np.ndarray, keep: np.ndarray) -> np.ndarray:
    rows, cols, inside = spec.cell_of(pts[keep, 0], pts[keep, 2])
    out = np.zeros(spec.shape, bool)
    out[rows[inside], cols[inside]] = True
    return out


def _near(cells: np.ndarray, tolerance: float, cell: float) -> np.ndarray:
    """``cells`` grown by ``tolerance`` metres (a disk)."""
    r = int(tolerance / cell + 1e-9)
    if r == 0:
        return cells
    yy, xx = np.mgrid[-r : r + 1, -r : r + 1]
    return ndimage.binary_dilation(cells, structure=(yy**2 + xx**2) <= r * r)


def _ratio(num: int, den: int) -> float:
    return num / den if den else float("nan")


def occupancy_scores(
    nav: NavMap, truth: GroundFrame, depth: np.ndarray, K: np.ndarray, labels: np.ndarray, *,
    band: tuple[float, float] = (0.2, 2.0),
    tolerance: float = 0.0,
    obstacle_classes: Sequence[int] = OBSTACLE_CLASSES,
    road_classes: Sequence[int] = ROAD_CLASSES,
    ground_classes: Sequence[int] = GROUND_CLASSES,
) -> OccupancyScores:
    """Scores of ``nav`` against the labelled exact geometry (module docstring).

    Args:
        nav: the grid to score.
        truth: the ground frame of the exact depth's plane (metric).
        depth: ``[H,W]`` exact depth in metres (0 = none), ``K`` its ``[3,3]`` intrinsics.
        labels: ``[H,W]`` class ids.
        band: obstacle heights above the ground, metres.
        tolerance: metres (module docstring).
    """
    pts = truth.to_ground(camera_points(depth, K)).reshape(-1, 3)
    lab = np.asarray(labels).reshape(-1)
    seen = np.isfinite(pts).all(1) & (np.asarray(depth).reshape(-1) > 0)
    in_band = seen & (pts[:, 1] >= band[0]) & (pts[:, 1] <= band[1])
    spec = nav.spec
    obstacle = _cells_with(spec, pts, in_band & np.isin(lab, obstacle_classes))
    solid = _cells_with(spec, pts, in_band & ~np.isin(lab, ground_classes))
    other = _cells_with(spec, pts, seen & ~np.isin(lab, ground_classes))
    road = _cells_with(spec, pts, seen & np.isin(lab, road_classes)) & ~other
    occupied = nav.state == OCCUPIED
    near_solid = _near(solid, tolerance, spec.cell)
    near_occupied = _near(occupied, tolerance, spec.cell)
    return OccupancyScores(
        precision=_ratio(int((occupied & near_solid).sum()), int(occupied.sum())),
        recall=_ratio(int((near_occupied & obstacle).sum()), int(obstacle.sum())),
        road_free=_ratio(int((road & (nav.state == FREE)).sum()), int(road.sum())),
        road_occupied=_ratio(int((road & occupied).sum()), int(road.sum())),
        occupied_cells=int(occupied.sum()), obstacle_cells=int(obstacle.sum()),
        road_cells=int(road.sum()),
    )
