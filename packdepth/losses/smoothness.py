"""Edge-aware smoothness of inverse depth."""

from __future__ import annotations

import torch
from torch import Tensor


def smoothness_loss(disp: Tensor, image: Tensor, eps: float = 1e-7) -> Tensor:
    """First-order edge-aware smoothness on mean-normalised disparity.

    ``mean(|∂x d*| exp(-mean_c |∂x I|)) + mean(|∂y d*| exp(-mean_c |∂y I|))`` with
    ``d* = d / mean(d)`` per image, so the loss does not reward shrinking the disparity.

    Args:
        disp: ``[B,1,H,W]`` inverse depth.
        image: ``[B,C,H,W]`` image at the same resolution.

    Returns:
        Scalar loss.
    """
    disp = disp / (disp.mean(dim=(2, 3), keepdim=True) + eps)
    grad_disp_x = (disp[..., :, :-1] - disp[..., :, 1:]).abs()
    grad_disp_y = (disp[..., :-1, :] - disp[..., 1:, :]).abs()
    grad_img_x = (image[..., :, :-1] - image[..., :, 1:]).abs().mean(1, keepdim=True)
    grad_img_y = (image[..., :-1, :] - image[..., 1:, :]).abs().mean(1, keepdim=True)
    return (grad_disp_x * torch.exp(-grad_img_x)).mean() + (
        grad_disp_y * torch.exp(-grad_img_y)
    ).mean()
