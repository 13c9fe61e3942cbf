"""Ground contact: nothing lies below the road (driving data, a level camera at a known height).

A ray through pixel row ``v`` below the horizon (``v > cy``) meets a flat road at depth
``g(v) = fy · h / (v − cy)``; whatever the pixel shows stands on the road in front of that point,
so its depth is at most ``g(v)``. A car that drives ahead at the camera's speed is explained
equally well by view synthesis at any depth, and self-supervision drifts it to far depth
(monodepth2, Godard et al. ICCV 2019, Sec. 3.3): the ceiling keeps it, as every object, no farther
than the road beneath it. A one-sided version of the contact constraints of Gordon et al. (ICCV
2019, "Depth from Videos in the Wild") and of the ground-plane priors of driving depth
(e.g. Xue et al., IROS 2020, "Toward hierarchical self-supervised monocular absolute depth
estimation").

Without metric scale (self-supervision), the road's scale in the prediction is measured on the
bottom centre of the image, road in driving video: the median of ``depth / g(v)`` there.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch
from torch import Tensor

from packdepth.losses.prior import ground_plane_depth
from packdepth.losses.term import LossInputs

#: The part of the image whose pixels set the road scale: rows (fractions of the height) and
#: columns (fractions of the width): the bottom centre, in front of the car.
ROAD_ROWS = (0.85, 1.0)
ROAD_COLUMNS = (0.3, 0.7)


def road_scale(depth: Tensor, road: Tensor) -> Tensor:
    """Per-image median of ``depth / road`` over :data:`ROAD_ROWS` x :data:`ROAD_COLUMNS`.

    Args:
        depth: ``[B,1,H,W]`` predicted depth (any scale).
        road: ``[B,1,H,W]`` from :func:`road_depth`, the road's depth in metres.

    Returns:
        ``[B]``, detached: the factor from metres to the prediction's units (1 where the region
        holds no pixel below the horizon).
    """
    h, w = depth.shape[-2:]
    r0, r1 = int(ROAD_ROWS[0] * h), max(int(ROAD_ROWS[1] * h), int(ROAD_ROWS[0] * h) + 1)
    c0, c1 = int(ROAD_COLUMNS[0] * w), max(int(ROAD_COLUMNS[1] * w), int(ROAD_COLUMNS[0] * w) + 1)
    ratio = (depth[..., r0:r1, c0:c1] / road[..., r0:r1, c0:c1]).detach().flatten(1)
    scales = []
    for row in ratio:
        valid = row[torch.isfinite(row) & (row > 0)]
        scales.append(valid.median() if valid.numel() else row.new_tensor(1.0))
    return torch.stack(scales)


def road_depth(K: Tensor, height: int, width: int, camera_height: float) -> Tensor:
    """``[B,1,H,W]`` depth (metres) at which each pixel's ray meets a flat road
    ``camera_height`` below a level camera (``K [B,3,3]`` at ``height x width``), ``inf`` at and
    above the horizon: :func:`~packdepth.losses.prior.ground_plane_depth` without its cap."""
    return ground_plane_depth(K, height, width, camera_height, max_depth=math.inf)


def ground_contact_loss(
    depth: Tensor, K: Tensor, camera_height: float, scale_invariant: bool,
    tolerance: float = 0.05,
) -> Tensor:
    """Mean over the pixels below the horizon of ``relu(log depth − log(s · g) − log(1 + tol))``.

    ``g`` is :func:`road_depth`, ``s`` the road scale (:func:`road_scale`, or 1 for metric
    depth); ``tolerance`` (fraction) allows for a slightly tilted camera or road.

    Args:
        depth: ``[B,1,H,W]`` positive depth.
        K: ``[B,3,3]`` intrinsics at ``H x W``.
        camera_height: metres.
        scale_invariant: measure the road scale on the prediction (self-supervision) instead of
            taking the depth as metres.

    Returns:
        A scalar, 0 when no pixel is deeper than the road beneath it.
    """
    road = road_depth(K, *depth.shape[-2:], camera_height).to(depth.dtype)
    if scale_invariant:
        road = road * road_scale(depth, road).view(-1, 1, 1, 1)
    below = torch.isfinite(road)
    excess = torch.log(depth) - torch.log(torch.where(below, road, depth))
    excess = torch.relu(excess - math.log1p(tolerance))
    weight = below.to(depth.dtype)
    return (excess * weight).sum() / weight.sum().clamp(min=1.0)


@dataclass(frozen=True)
class GroundContactTerm:
    """``weight`` × :func:`ground_contact_loss` at ``camera_height`` metres over the whole run;
    scale-invariant unless depth is metric. Logs ``ground_contact``."""

    weight: float
    camera_height: float
    scale_invariant: bool = True

    def __call__(self, inputs: LossInputs) -> tuple[Tensor, dict[str, Tensor]]:
        value = ground_contact_loss(inputs.depth, inputs.batch["K"], self.camera_height,
                                    self.scale_invariant)
        return self.weight * value, {"ground_contact": value}
