"""Velocity supervision (PackNet's scale-aware mode): the predicted translation's length must
equal the distance actually travelled, which fixes the metric scale of depth and pose."""

from __future__ import annotations

from dataclasses import dataclass

from torch import Tensor

from packdepth.losses.term import LossInputs


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


@dataclass(frozen=True)
class VelocityTerm:
    """``weight`` × :func:`velocity_loss` against the batch's ``translation_gt``; logs
    ``velocity`` (metres)."""

    weight: float

    def __call__(self, inputs: LossInputs) -> tuple[Tensor, dict[str, Tensor]]:
        gt = inputs.require("translation_gt", "loss.velocity_weight > 0", "speed or poses")
        value = velocity_loss(inputs.poses, gt)
        return self.weight * value, {"velocity": value}
