"""A ground-plane depth prior for a forward-looking camera at a known height (driving data).

Self-supervised training from scratch can fall into a far-depth collapse before it finds the
scene's structure: all depths drift to the network's maximum, where the sigmoid saturates and no
gradient is left. A short warm-up towards a coarse prior avoids it: pixels below the horizon
lie on a flat road, ``depth = fy · h / (v − cy)``; pixels above it are left free (walls, cars
and sky have no such prior). The prior is only a starting point: its weight decays to zero within
the first training steps.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import Tensor

from packdepth.losses.term import LossInputs


def ground_plane_depth(
    K: Tensor, height: int, width: int, camera_height: float = 1.65, max_depth: float = 80.0
) -> Tensor:
    """Depth of a flat ground ``camera_height`` below a level camera, capped at ``max_depth``.

    Args:
        K: ``[B,3,3]`` intrinsics at ``height x width``.

    Returns:
        ``[B,1,H,W]`` depth; rows at or above the horizon (``v <= cy``) get ``max_depth``.
    """
    v = torch.arange(height, dtype=K.dtype, device=K.device).view(1, 1, height, 1)
    fy, cy = K[:, 1, 1].view(-1, 1, 1, 1), K[:, 1, 2].view(-1, 1, 1, 1)
    below = v - cy
    ground = fy * camera_height / below.clamp(min=1e-6)
    depth = torch.where(below > 0, ground.clamp(max=max_depth), torch.full_like(ground, max_depth))
    return depth.expand(-1, 1, height, width)


def log_depth_prior_loss(
    depth: Tensor,
    prior: Tensor,
    scale_invariant: bool,
    max_depth: float = 80.0,
    mask: Tensor | None = None,
) -> Tensor:
    """Mean ``|log depth − log prior|`` over the ground pixels (``prior < max_depth``) or over
    ``mask``; with ``scale_invariant`` the per-image median of the log ratio is removed first
    (for self-supervision, whose scale is free).

    Args:
        depth, prior: ``[B,1,H,W]``, positive (``prior`` from :func:`ground_plane_depth`, or a
            reference model's depth for the fitting anchor).
        mask: ``[B,1,H,W]`` bool, the pixels that count (default: the ground pixels).
    """
    ground = prior < max_depth if mask is None else mask
    diff = torch.log(depth) - torch.log(prior)
    if scale_invariant:
        rows = []
        for d, g in zip(diff, ground):
            rows.append(d - (d[g].median().detach() if g.any() else 0.0))
        diff = torch.stack(rows)
    weight = ground.to(diff.dtype)
    return (diff.abs() * weight).sum() / weight.sum().clamp(min=1.0)


def prior_weight(step: int, weight: float, steps: int) -> float:
    """Linear decay from ``weight`` at step 0 to 0 at ``steps``."""
    if steps <= 0 or weight <= 0:
        return 0.0
    return weight * max(0.0, 1.0 - step / steps)


@dataclass(frozen=True)
class GroundPriorTerm:
    """The warm-up towards the ground-plane prior: :func:`log_depth_prior_loss` of the depth
    against :func:`ground_plane_depth` at ``camera_height`` metres, weighted by
    :func:`prior_weight` (``weight`` decaying to 0 over ``steps`` steps; nothing once it is 0);
    scale-invariant unless depth is metric. Logs ``prior``."""

    weight: float
    steps: int
    camera_height: float
    scale_invariant: bool = True

    def __call__(self, inputs: LossInputs) -> tuple[Tensor, dict[str, Tensor]] | None:
        weight = prior_weight(inputs.step, self.weight, self.steps)
        if weight <= 0:
            return None
        depth = inputs.depth
        prior = ground_plane_depth(inputs.batch["K"], *depth.shape[-2:], self.camera_height)
        value = log_depth_prior_loss(depth, prior, self.scale_invariant)
        return weight * value, {"prior": value}
