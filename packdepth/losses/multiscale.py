"""Multi-scale self-supervised view-synthesis loss (monodepth2 v2 / packnet-sfm).

Every scale's inverse depth is upsampled to full resolution before warping, so all scales are
judged against the full-resolution images (this removes the texture-copy artefacts of judging
coarse scales on downsampled images). Smoothness is applied at each scale's own resolution,
weighted ``smoothness_weight / 2^s``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import torch
import torch.nn.functional as F
from torch import Tensor

from packdepth.geometry.warp import inverse_warp
from packdepth.losses.photometric import identity_errors, reprojection_loss
from packdepth.losses.smoothness import smoothness_loss


def inv_depth_to_depth(inv_depth: Tensor, eps: float = 1e-6) -> Tensor:
    """Depth from inverse depth, ``1 / max(inv_depth, eps)``."""
    return 1.0 / inv_depth.clamp(min=eps)


def resize_to(x: Tensor, size: tuple[int, int]) -> Tensor:
    """Bilinear resize ``[B,C,h,w]`` to ``size = (H, W)`` (``align_corners=False``); no-op if equal.

    Downsampling is antialiased, so a reduced image is the average of the pixels it covers.
    """
    if tuple(x.shape[-2:]) == tuple(size):
        return x
    shrink = size[0] < x.shape[-2] or size[1] < x.shape[-1]
    return F.interpolate(x, size=size, mode="bilinear", align_corners=False, antialias=shrink)


@dataclass
class ViewSynthesisLoss:
    """Result of :func:`multiscale_photometric`.

    Attributes:
        total: photometric + weighted smoothness (scalar, differentiable).
        photometric: mean over scales of the min-reprojection loss.
        smoothness: the weighted smoothness sum over scales.
        masks: per scale, ``[B,1,H,W]`` bool of the pixels that contributed.
        warped: the full-resolution warps of scale 0, ``[B,N,C,H,W]`` (for logging).
    """

    total: Tensor
    photometric: Tensor
    smoothness: Tensor
    masks: list[Tensor] = field(default_factory=list)
    warped: Tensor | None = None


def multiscale_photometric(
    target: Tensor,
    sources: Tensor,
    inv_depths: Sequence[Tensor],
    poses: Tensor,
    K: Tensor,
    *,
    automask: bool = True,
    smoothness_weight: float = 1e-3,
    alpha: float = 0.85,
) -> ViewSynthesisLoss:
    """Self-supervised loss of a depth and a pose prediction.

    Args:
        target: ``[B,3,H,W]`` target image (clean, not augmented).
        sources: ``[B,N,3,H,W]`` context images.
        inv_depths: per scale ``s``, ``[B,1,H/2^s,W/2^s]`` predicted inverse depth of the target.
        poses: ``[B,N,4,4]`` predicted ``T_target_to_source``.
        K: ``[B,3,3]`` intrinsics at full resolution ``H x W``.

    Returns:
        A :class:`ViewSynthesisLoss`.
    """
    size = target.shape[-2:]
    n = sources.shape[1]
    source_list = [sources[:, i] for i in range(n)]
    identity = identity_errors(target, source_list, alpha)
    photometric = target.new_zeros(())
    smoothness = target.new_zeros(())
    masks: list[Tensor] = []
    warped_full: Tensor | None = None
    for scale, inv_depth in enumerate(inv_depths):
        depth = inv_depth_to_depth(resize_to(inv_depth, size))
        warps = [inverse_warp(source_list[i], depth, poses[:, i], K) for i in range(n)]
        loss, mask = reprojection_loss(
            target,
            [w for w, _ in warps],
            [v for _, v in warps],
            automask=automask,
            alpha=alpha,
            identity=identity,
        )
        photometric = photometric + loss
        masks.append(mask)
        if scale == 0:
            warped_full = torch.stack([w for w, _ in warps], 1).detach()
        if smoothness_weight > 0:
            image_s = resize_to(target, tuple(inv_depth.shape[-2:]))
            smoothness = smoothness + smoothness_weight / 2**scale * smoothness_loss(
                inv_depth, image_s
            )
    photometric = photometric / len(inv_depths)
    smoothness = smoothness / len(inv_depths)
    return ViewSynthesisLoss(photometric + smoothness, photometric, smoothness, masks, warped_full)


@dataclass(frozen=True)
class ViewSynthesisTerm:
    """The self-supervised core of every run: :func:`multiscale_photometric` on the first
    ``num_scales`` scales; logs ``photometric``, ``smoothness`` and ``automask_kept`` (the
    fraction of pixels the auto-mask keeps at scale 0)."""

    num_scales: int = 4
    automask: bool = True
    smoothness_weight: float = 1e-3
    alpha: float = 0.85

    def __call__(self, inputs) -> tuple[Tensor, dict[str, Tensor]]:
        batch = inputs.batch
        view = multiscale_photometric(
            batch["image"],
            batch["context"],
            inputs.inv_depths[: self.num_scales],
            inputs.poses,
            batch["K"],
            automask=self.automask,
            smoothness_weight=self.smoothness_weight,
            alpha=self.alpha,
        )
        named = {
            "photometric": view.photometric,
            "smoothness": view.smoothness,
            "automask_kept": view.masks[0].float().mean(),
        }
        return view.total, named
