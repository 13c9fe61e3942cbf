"""Velocity supervision (PackNet's scale-aware mode): the predicted translation's length must
equal the distance actually travelled, which fixes the metric scale of depth and pose."""

from __future__ import annotations

from torch import Tensor


def velocity_loss(poses: Tensor, translation_gt: Tensor) -> Tensor:
    """``mean |‖t̂‖ − ‖t‖|`` over the batch and context frames.

    Args:
        poses: ``[B,N,4,4]`` predicted ``T_target_to_context``.
        translation_gt: ``[B,N]`` metres travelled between the target and each context frame
            (e.g. speed · |Δt| or the norm of a GT relative translation).

    Returns:
        Scalar loss in metres.
    """
    pred = poses[..., :3, 3].norm(dim=-1)
    return (pred - translation_gt.to(pred.dtype)).abs().mean()
