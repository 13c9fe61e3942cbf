"""Vectorised ray-primitive intersection with screen-space culling (torch, CPU).

Rays start at the camera centre ``o`` and run along ``d = R K^-1 (u, v, 1)``, so the ray parameter
``t`` of a hit *is* its depth (z along the optical axis). Each primitive is only tested against
the rays inside the screen rectangle that bounds its projection (its bounding box clipped to the
near plane), so the cost is proportional to the screen area primitives cover, not to
``pixels x primitives``. Per rectangle the nearest hit wins (strict ``<``, so ties keep the earlier
primitive: deterministic).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
from torch import Tensor

from packdepth.data.synthetic.primitives import Kind, Primitives

NEAR = 0.05
_EDGES = np.array([(i, i ^ bit) for i in range(8) for bit in (1, 2, 4) if i < i ^ bit])


@dataclass(frozen=True)
class RayGrid:
    """Sample positions: ``xs [Ws]``, ``ys [Hs]`` camera-frame ray slopes ``(u - cx) / fx`` etc."""

    xs: Tensor
    ys: Tensor

    @classmethod
    def half_pixel(cls, K: np.ndarray, height: int, width: int) -> RayGrid:
        """Rays at every half pixel, ``(2H+1) x (2W+1)``: pixel centres at odd indices, pixel
        corners at even ones (column ``k`` is at ``u = k / 2 - 0.5``)."""
        u = np.arange(2 * width + 1) / 2.0 - 0.5
        v = np.arange(2 * height + 1) / 2.0 - 0.5
        xs = (u - K[0, 2]) / K[0, 0]
        ys = (v - K[1, 2]) / K[1, 1]
        return cls(torch.from_numpy(xs.astype(np.float32)), torch.from_numpy(ys.astype(np.float32)))

    def directions(self, R: np.ndarray) -> tuple[Tensor, Tensor, Tensor]:
        """World ray directions ``dx, dy, dz`` ``[Hs,Ws]`` for camera-to-world rotation ``R``."""
        R = R.astype(np.float32)
        x, y = self.xs[None, :], self.ys[:, None]
        return tuple(
            (float(R[i, 0]) * x + float(R[i, 1]) * y) + float(R[i, 2]) for i in range(3)
        )


def screen_rects(prims: Primitives, pose: np.ndarray, K: np.ndarray, grid_h: int, grid_w: int,
                 max_depth: float) -> tuple[np.ndarray, np.ndarray]:
    """Grid rectangles that can contain a primitive's hits.

    Returns:
        ``indices [M]`` of primitives that may be visible (the ground always is) and
        ``rects [M,4]`` inclusive ``row0, row1, col0, col1`` in the half-pixel grid.
    """
    corners = prims.corners()
    cam = (corners - pose[:3, 3]) @ pose[:3, :3]  # R^T (X - o), [P,8,3]
    p0, p1 = cam[:, _EDGES[:, 0]], cam[:, _EDGES[:, 1]]
    z0, z1 = p0[..., 2], p1[..., 2]
    crosses = (z0 - NEAR) * (z1 - NEAR) < 0
    alpha = np.where(crosses, (NEAR - z0) / np.where(crosses, z1 - z0, 1.0), 0.0)
    clipped = p0 + alpha[..., None] * (p1 - p0)
    pts = np.concatenate([cam, clipped], 1)
    valid = np.concatenate([cam[..., 2] >= NEAR, crosses], 1)
    z = np.maximum(pts[..., 2], NEAR)
    u = K[0, 0] * pts[..., 0] / z + K[0, 2]
    v = K[1, 1] * pts[..., 1] / z + K[1, 2]
    big = 1e9
    col0 = np.floor(2 * (np.where(valid, u, big).min(1) + 0.5)) - 1
    col1 = np.ceil(2 * (np.where(valid, u, -big).max(1) + 0.5)) + 1
    row0 = np.floor(2 * (np.where(valid, v, big).min(1) + 0.5)) - 1
    row1 = np.ceil(2 * (np.where(valid, v, -big).max(1) + 0.5)) + 1
    visible = valid.any(1) & (cam[..., 2].min(1) < max_depth)
    visible &= (col1 >= 0) & (col0 <= grid_w - 1) & (row1 >= 0) & (row0 <= grid_h - 1)
    ground = prims.kind == Kind.GROUND
    rects = np.stack([
        np.clip(row0, 0, grid_h - 1), np.clip(row1, 0, grid_h - 1),
        np.clip(col0, 0, grid_w - 1), np.clip(col1, 0, grid_w - 1),
    ], 1)
    rects[ground] = (0, grid_h - 1, 0, grid_w - 1)
    keep = np.nonzero(visible | ground)[0]
    return keep, rects[keep].astype(np.int64)


def _nonzero(d: Tensor) -> Tensor:
    return torch.where(d == 0, torch.full_like(d, 1e-20), d)


def hit_ground(o: np.ndarray, d: tuple[Tensor, ...], plane_y: float) -> Tensor:
    """Depth of the ray's hit with the plane ``y = plane_y`` (``inf`` when looking up)."""
    dy = d[1]
    t = (plane_y - float(o[1])) / _nonzero(dy)
    return torch.where(t > 0, t, torch.full_like(t, torch.inf))


def hit_box(o: np.ndarray, d: tuple[Tensor, ...], center: np.ndarray, yaw: float,
            half: np.ndarray) -> Tensor:
    """Slab test against a box rotated by ``yaw`` about y; ``inf`` where missed."""
    c, s = np.cos(yaw), np.sin(yaw)
    rel = o - center
    lo = (c * rel[0] - s * rel[2], rel[1], s * rel[0] + c * rel[2])
    dx, dy, dz = d
    ld = (c * dx - s * dz, dy, s * dx + c * dz)
    t_near = t_far = None
    for axis in range(3):
        inv = 1.0 / _nonzero(ld[axis])
        t0 = (-half[axis] - lo[axis]) * inv
        t1 = (half[axis] - lo[axis]) * inv
        lo_t, hi_t = torch.minimum(t0, t1), torch.maximum(t0, t1)
        t_near = lo_t if t_near is None else torch.maximum(t_near, lo_t)
        t_far = hi_t if t_far is None else torch.minimum(t_far, hi_t)
    hit = (t_near <= t_far) & (t_near > 0)
    return torch.where(hit, t_near, torch.full_like(t_near, torch.inf))


def hit_cylinder(o: np.ndarray, d: tuple[Tensor, ...], center: np.ndarray, radius: float,
                 half_height: float) -> Tensor:
    """Vertical capped cylinder (axis along y); ``inf`` where missed. The camera is outside."""
    ox, oy, oz = (float(v) for v in o - center)
    dx, dy, dz = d
    a = (dx * dx + dz * dz).clamp_min(1e-12)
    b = ox * dx + oz * dz
    c = ox * ox + oz * oz - radius * radius
    disc = b * b - a * c
    t_side = (-b - torch.sqrt(disc.clamp_min(0.0))) / a
    y_side = oy + t_side * dy
    side = (disc >= 0) & (t_side > 0) & (y_side.abs() <= half_height)
    t = torch.where(side, t_side, torch.full_like(t_side, torch.inf))
    if abs(oy) > half_height:  # the camera sees the top or bottom cap
        cap_y = -half_height if oy < 0 else half_height
        t_cap = (cap_y - oy) / _nonzero(dy)
        cx, cz = ox + t_cap * dx, oz + t_cap * dz
        cap = (t_cap > 0) & (cx * cx + cz * cz <= radius * radius)
        t = torch.where(cap & (t_cap < t), t_cap, t)
    return t


Directions = tuple[Tensor, Tensor, Tensor]


def cast(prims: Primitives, pose: np.ndarray, K: np.ndarray, grid: RayGrid, max_depth: float,
         ground_y: float, cull: bool = True) -> tuple[Tensor, Tensor, Directions]:
    """Nearest hit of every grid ray.

    ``cull=False`` tests every primitive against every ray (slow; the reference that screen-space
    culling must reproduce exactly).

    Returns:
        ``depth [Hs,Ws]`` (``max_depth`` where nothing was hit closer), ``index [Hs,Ws]`` long
        primitive index (-1 = none) and the world directions ``(dx, dy, dz)``.
    """
    o = pose[:3, 3]
    d = grid.directions(pose[:3, :3])
    hs, ws = d[0].shape
    depth = torch.full((hs, ws), float(max_depth))
    index = torch.full((hs, ws), -1, dtype=torch.long)
    if cull:
        keep, rects = screen_rects(prims, pose, K, hs, ws, max_depth)
    else:
        keep = np.arange(len(prims))
        rects = np.tile(np.array([0, hs - 1, 0, ws - 1]), (len(prims), 1))
    for pid, (r0, r1, c0, c1) in zip(keep.tolist(), rects.tolist()):
        sl = (slice(r0, r1 + 1), slice(c0, c1 + 1))
        ds = tuple(v[sl] for v in d)
        kind = prims.kind[pid]
        if kind == Kind.GROUND:
            t = hit_ground(o, ds, ground_y)
        elif kind == Kind.BOX:
            t = hit_box(o, ds, prims.center[pid], float(prims.yaw[pid]), prims.half[pid])
        else:
            t = hit_cylinder(o, ds, prims.center[pid], float(prims.half[pid, 0]),
                             float(prims.half[pid, 1]))
        current = depth[sl]
        closer = t < current
        current.copy_(torch.where(closer, t, current))
        index[sl].masked_fill_(closer, pid)
    return depth, index, d
