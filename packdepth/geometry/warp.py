"""View synthesis by inverse warping."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor

from packdepth.geometry.camera import backproject, pixels_to_grid, project


def inverse_warp(
    source: Tensor,
    depth_target: Tensor,
    T_target_to_source: Tensor,
    K: Tensor,
    K_source: Tensor | None = None,
    *,
    min_depth: float = 1e-3,
) -> tuple[Tensor, Tensor]:
    """Synthesise the target view by sampling the source image.

    Every target pixel is back-projected with its depth, moved into the source camera by
    ``T_target_to_source`` and projected into the source image, which is sampled bilinearly
    (``align_corners=False``, see :mod:`packdepth.geometry.camera`).

    Args:
        source: ``[B,C,H_s,W_s]`` source image.
        depth_target: ``[B,1,H,W]`` depth of the target view.
        T_target_to_source: ``[B,4,4]`` maps target-frame points into the source frame.
        K: ``[B,3,3]`` target intrinsics (at the resolution of ``depth_target``).
        K_source: ``[B,3,3]`` source intrinsics at the source's resolution; defaults to ``K``.
        min_depth: points closer than this to the source camera plane count as behind it.

    Returns:
        ``warped [B,C,H,W]`` and ``valid [B,1,H,W]`` (bool): true where the point lies in front of
        the source camera and projects within the source's pixel centres ``[0, W_s-1] x [0, H_s-1]``
        (to within 1e-3 px)
        (so bilinear sampling needs no padding). Invalid pixels hold border-clamped samples.
    """
    hs, ws = source.shape[-2:]
    K = K.to(depth_target.dtype)
    K_source = K if K_source is None else K_source.to(depth_target.dtype)
    points = backproject(depth_target, torch.linalg.inv_ex(K).inverse)  # no host sync (see align)
    pix, z = project(points, K_source, T_target_to_source, return_depth=True)
    grid = pixels_to_grid(pix, hs, ws)
    warped = F.grid_sample(
        source, grid.to(source.dtype), mode="bilinear", padding_mode="border", align_corners=False
    )
    u, v = pix[..., 0], pix[..., 1]
    tol = 1e-3  # pixels: absorbs round-off, e.g. an identity warp landing at -1e-15
    inside = (u >= -tol) & (u <= ws - 1 + tol) & (v >= -tol) & (v <= hs - 1 + tol)
    valid = inside.unsqueeze(1) & (z > min_depth)
    return warped, valid
