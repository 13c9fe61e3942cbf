"""Supervised depth losses on sparse ground truth (LiDAR, annotations), for semi-supervision.

All losses compare a predicted depth with a GT depth at the same resolution and ignore pixels
whose GT is 0 (no measurement).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import torch
from torch import Tensor

from packdepth.losses.multiscale import inv_depth_to_depth, resize_to
from packdepth.losses.term import LossInputs

SupervisedKind = Literal["l1", "berhu", "silog"]


def _valid(pred: Tensor, gt: Tensor) -> tuple[Tensor, Tensor]:
    mask = gt > 0
    return pred[mask], gt[mask]


def l1_depth_loss(pred: Tensor, gt: Tensor) -> Tensor:
    """Mean absolute error on valid pixels (``[B,1,H,W]`` each), in metres."""
    p, g = _valid(pred, gt)
    return (p - g).abs().mean() if g.numel() else pred.sum() * 0


def berhu_loss(pred: Tensor, gt: Tensor, threshold: float = 0.2) -> Tensor:
    """Reverse Huber (Laina et al. 2016): L1 below ``c = threshold · max|e|``, scaled L2 above."""
    p, g = _valid(pred, gt)
    if not g.numel():
        return pred.sum() * 0
    err = (p - g).abs()
    c = (threshold * err.max().detach()).clamp(min=1e-6)
    return torch.where(err <= c, err, (err * err + c * c) / (2 * c)).mean()


def silog_loss(pred: Tensor, gt: Tensor, variance_focus: float = 0.85, eps: float = 1e-6) -> Tensor:
    """Scale-invariant log error (Eigen et al. 2014): ``sqrt(mean(d²) − λ mean(d)²)``,
    ``d = log pred − log gt``; ``λ = 1`` is fully scale-invariant, ``λ = 0`` is the log RMSE."""
    p, g = _valid(pred, gt)
    if not g.numel():
        return pred.sum() * 0
    d = torch.log(p.clamp(min=eps)) - torch.log(g)
    return torch.sqrt(((d * d).mean() - variance_focus * d.mean() ** 2).clamp(min=eps))


SUPERVISED_LOSSES = {"l1": l1_depth_loss, "berhu": berhu_loss, "silog": silog_loss}


def supervised_depth_loss(pred: Tensor, gt: Tensor, kind: SupervisedKind = "l1") -> Tensor:
    """Dispatch to one of :data:`SUPERVISED_LOSSES`; ``pred`` is resized to ``gt`` by the caller."""
    if kind not in SUPERVISED_LOSSES:
        raise ValueError(
            f"unknown supervised loss {kind!r}; choose from {sorted(SUPERVISED_LOSSES)}"
        )
    return SUPERVISED_LOSSES[kind](pred, gt)


@dataclass(frozen=True)
class SupervisedTerm:
    """``weight`` × :func:`supervised_depth_loss` of the full-resolution depth (resized to the
    GT's resolution) against the batch's sparse ``depth_gt``; logs ``supervised``."""

    weight: float
    kind: SupervisedKind = "l1"

    def __call__(self, inputs: LossInputs) -> tuple[Tensor, dict[str, Tensor]]:
        gt = inputs.require("depth_gt", "loss.supervised_weight > 0", "depth GT")
        pred = inv_depth_to_depth(resize_to(inputs.inv_depths[0], tuple(gt.shape[-2:])))
        value = supervised_depth_loss(pred, gt, self.kind)
        return self.weight * value, {"supervised": value}
