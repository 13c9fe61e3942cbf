"""The fitting anchor: keep the depth near a frozen initial model's prediction.

Fitting a pretrained model to one hard sequence (vehicles moving with the camera, which view
synthesis explains best at infinite depth) otherwise collapses; see ``loss.anchor_weight``.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import Tensor

from packdepth.losses.multiscale import inv_depth_to_depth
from packdepth.losses.prior import log_depth_prior_loss
from packdepth.losses.term import LossInputs


@dataclass(frozen=True)
class AnchorTerm:
    """``weight`` × :func:`~packdepth.losses.prior.log_depth_prior_loss` of the depth against the
    anchor's (``inputs.anchor_inv_depth``) over all pixels; scale-invariant unless depth is
    metric. Logs ``anchor``.

    Raises:
        ValueError: the step computed no anchor prediction.
    """

    weight: float
    scale_invariant: bool = True

    def __call__(self, inputs: LossInputs) -> tuple[Tensor, dict[str, Tensor]]:
        if inputs.anchor_inv_depth is None:
            raise ValueError("the anchor term needs the anchor net's prediction")
        depth = inputs.depth
        everywhere = torch.ones_like(depth, dtype=torch.bool)
        anchor = inv_depth_to_depth(inputs.anchor_inv_depth)
        value = log_depth_prior_loss(depth, anchor, self.scale_invariant, mask=everywhere)
        return self.weight * value, {"anchor": value}
