"""Photometric losses: SSIM, SSIM+L1 error, monodepth2's minimum reprojection with auto-mask."""

from __future__ import annotations

from collections.abc import Sequence

import torch
import torch.nn.functional as F
from torch import Tensor

SSIM_C1 = 0.01**2
SSIM_C2 = 0.03**2
#: Larger than any photometric error (which lies in [0, 1] for images in [0, 1]).
_INVALID_ERROR = 1e3


def _box3(x: Tensor) -> Tensor:
    """Mean over 3x3 windows without padding, ``[...,H,W] → [...,H-2,W-2]``.

    Separable sums of shifted views: the same numbers as ``avg_pool2d(x, 3, 1)``, several times
    faster on CPU (forward and backward).
    """
    rows = x[..., :-2, :] + x[..., 1:-1, :] + x[..., 2:, :]
    return (rows[..., :-2] + rows[..., 1:-1] + rows[..., 2:]) / 9.0


def ssim(x: Tensor, y: Tensor, c1: float = SSIM_C1, c2: float = SSIM_C2) -> Tensor:
    """Per-pixel structural similarity over 3x3 windows (reflection padding).

    Args:
        x, y: ``[B,C,H,W]`` images in [0, 1].

    Returns:
        ``[B,C,H,W]`` SSIM map; 1 where the images agree.
    """
    c = x.shape[1]
    x = F.pad(x, (1, 1, 1, 1), mode="reflect")
    y = F.pad(y, (1, 1, 1, 1), mode="reflect")
    mu_x, mu_y, xx, yy, xy = _box3(torch.cat([x, y, x * x, y * y, x * y], 1)).split(c, 1)
    sigma_x = xx - mu_x * mu_x
    sigma_y = yy - mu_y * mu_y
    sigma_xy = xy - mu_x * mu_y
    num = (2 * mu_x * mu_y + c1) * (2 * sigma_xy + c2)
    den = (mu_x * mu_x + mu_y * mu_y + c1) * (sigma_x + sigma_y + c2)
    return num / den


def photometric_error(pred: Tensor, target: Tensor, alpha: float = 0.85) -> Tensor:
    """``alpha * clamp((1 - SSIM) / 2, 0, 1) + (1 - alpha) * |pred - target|``, channel-averaged.

    Args:
        pred, target: ``[B,C,H,W]``.

    Returns:
        ``[B,1,H,W]``.
    """
    l1 = (pred - target).abs().mean(1, keepdim=True)
    if alpha == 0:
        return l1
    dssim = ((1 - ssim(pred, target)) / 2).clamp(0, 1).mean(1, keepdim=True)
    return alpha * dssim + (1 - alpha) * l1


def identity_errors(target: Tensor, sources: Sequence[Tensor], alpha: float = 0.85) -> Tensor:
    """Errors of the unwarped sources against the target: ``[B,N,H,W]`` (for auto-masking)."""
    return torch.cat([photometric_error(s, target, alpha) for s in sources], 1)


def reprojection_loss(
    target: Tensor,
    warped_list: Sequence[Tensor],
    valid_list: Sequence[Tensor],
    sources: Sequence[Tensor] | None = None,
    automask: bool = True,
    *,
    alpha: float = 0.85,
    identity: Tensor | None = None,
    tie_noise: float = 1e-5,
) -> tuple[Tensor, Tensor]:
    """Minimum reprojection loss over source views with monodepth2's auto-mask.

    Per pixel, the smallest photometric error over the valid warped sources is kept (occlusions
    then usually pick the view that sees the pixel). With ``automask``, a pixel is dropped when an
    unwarped source already matches the target better than every warped one: a static camera, or an
    object moving with the camera. As in monodepth2, the identity errors get ``tie_noise``-scaled
    Gaussian noise from the torch generator (a fixed seed reproduces it), so that exact ties are
    broken at random rather than always toward the same view.

    Dropped pixels (auto-masked, or invalid in every view) give no gradient, but when the unwarped
    sources are known they still count in the mean with their best identity error, a constant.
    So a prediction cannot lower the loss by pushing pixels out of every view or behind the
    cameras (e.g. a depth far too small for the predicted motion), which a mean over the kept
    pixels alone would reward with a loss of 0. Without sources the mean is over kept pixels.

    Args:
        target: ``[B,C,H,W]`` target image.
        warped_list: N tensors ``[B,C,H,W]``, sources warped into the target view.
        valid_list: N tensors ``[B,1,H,W]`` bool, where each warp is valid.
        sources: N unwarped source images ``[B,C,H,W]``; needed for ``automask``
            unless ``identity`` is given.
        automask: drop pixels where an identity error wins.
        identity: precomputed :func:`identity_errors` ``[B,N,H,W]`` (saves work across scales).

    Returns:
        ``loss`` (scalar) and ``mask [B,1,H,W]`` bool: the pixels whose reprojection error counts
        (the pixels with a gradient).
    """
    errors = torch.cat([photometric_error(w, target, alpha) for w in warped_list], 1)
    valid = torch.cat(list(valid_list), 1)
    errors = torch.where(valid, errors, torch.full_like(errors, _INVALID_ERROR))
    best, _ = errors.min(1, keepdim=True)
    mask = valid.any(1, keepdim=True)
    if identity is None and sources is not None:
        identity = identity_errors(target, sources, alpha)
    if identity is None:
        if automask:
            raise ValueError("automask needs the unwarped sources or their identity errors")
        weight = mask.to(best.dtype)
        return (best * weight).sum() / weight.sum().clamp(min=1.0), mask
    best_identity, _ = identity.detach().min(1, keepdim=True)
    if automask:
        noise = torch.randn(identity.shape, dtype=identity.dtype, device=identity.device)
        noisy, _ = (identity.detach() + tie_noise * noise).min(1, keepdim=True)
        mask = mask & (best.detach() < noisy)
    return torch.where(mask, best, best_identity).mean(), mask
