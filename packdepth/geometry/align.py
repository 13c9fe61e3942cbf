"""Direct photometric pose alignment: refine a relative pose given the target's depth.

With the target view's depth known (up to the depth's own scale), the pose that maps it onto a
context view minimises the colour difference between the target and the context image sampled
where the target's points land. :func:`align_pose` minimises it by robust Gauss-Newton
(Levenberg-Marquardt damping; Huber weights by iteratively reweighted least squares, so moving
objects and occlusions count less), coarse to fine on an image pyramid, with the analytic
Jacobian: the context's image gradient, sampled with it, times the projection's derivative.

Rotation is pinned by the far pixels whatever the depth's errors; translation comes out in the
depth's own scale. Self-supervised training uses it to hand the depth network the pose that is
consistent with its current depth instead of a pose network's noisier guess.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import Tensor

from packdepth.geometry.camera import (
    backproject,
    pixels_to_grid,
    project,
    scale_intrinsics,
    transform_points,
)
from packdepth.geometry.pose import pose_vec_to_mat

#: Huber threshold in robust standard deviations (1.345: 95 % efficiency on Gaussian noise).
HUBER_K = 1.345


def _image_gradients(image: Tensor) -> tuple[Tensor, Tensor]:
    """Central differences in pixels, ``[M,C,H,W]`` each (one-sided at the borders)."""
    pad = F.pad(image, (1, 1, 1, 1), mode="replicate")
    gx = 0.5 * (pad[..., 1:-1, 2:] - pad[..., 1:-1, :-2])
    gy = 0.5 * (pad[..., 2:, 1:-1] - pad[..., :-2, 1:-1])
    return gx, gy


def _linearise(
    target: Tensor, context_stack: Tensor, points: Tensor, T: Tensor, K: Tensor, scale: Tensor
) -> tuple[Tensor, Jacobian, Tensor]:
    """Residuals ``r [M,C,P]``, their Jacobian (factored) and validity ``[M,1,P]`` at ``T``.

    ``points [M,3,h,w]`` are the target pixels back-projected; the parameters are a left
    increment ``(t / scale, ω)``: ``T ← exp(δ) T``.
    """
    m, c, h, w = target.shape
    moved = transform_points(points, T)  # [M,3,h,w] in the context frame
    pix = project(moved, K)  # [M,h,w,2]
    p = moved.flatten(2)
    x, y, z = p[:, 0], p[:, 1], p[:, 2]
    zs = z.clamp(min=1e-6)
    fx, fy = K[:, 0, 0:1], K[:, 1, 1:2]
    u, v = pix[..., 0].flatten(1), pix[..., 1].flatten(1)
    sampled = F.grid_sample(context_stack, pixels_to_grid(pix, h, w), mode="bilinear",
                            padding_mode="border", align_corners=False).flatten(2)
    warped, gx, gy = sampled.split(c, dim=1)
    inside = (u >= 0) & (u <= w - 1) & (v >= 0) & (v <= h - 1) & (z > 1e-3)
    # d(u,v)/dp, then dp/dδ = [scale·I, -[p]x]
    zero = torch.zeros_like(z)
    du_dp = torch.stack([fx / zs, zero, -fx * x / zs**2], -1)  # [M,P,3]
    dv_dp = torch.stack([zero, fy / zs, -fy * y / zs**2], -1)
    s = scale.view(m, 1, 1)
    def dpix(d: Tensor) -> Tensor:  # [M,P,3] → [M,P,6]
        rot = torch.stack([y * d[..., 2] - z * d[..., 1],  # p x d
                           z * d[..., 0] - x * d[..., 2],
                           x * d[..., 1] - y * d[..., 0]], -1)
        return torch.cat([d * s, rot], -1)
    return warped - target.flatten(2), Jacobian(gx, gy, dpix(du_dp), dpix(dv_dp)), \
        inside.unsqueeze(1)


@dataclass
class Jacobian:
    """The residuals' Jacobian ``J[m,c,p] = gx[m,c,p]·ju[m,p] + gy[m,c,p]·jv[m,p]`` (``[6]``
    rows), kept factored: the image gradients ``gx, gy [M,C,P]`` and the pixel motion per
    parameter ``ju, jv [M,P,6]``. The normal equations then never build ``[M,C,P,6]``."""

    gx: Tensor
    gy: Tensor
    ju: Tensor
    jv: Tensor

    def normal_equations(self, r: Tensor, weight: Tensor) -> tuple[Tensor, Tensor]:
        """``JᵀWJ [M,6,6]`` and ``JᵀWr [M,6,1]`` for residuals and weights ``[M,C,P]``."""
        wgx, wgy = weight * self.gx, weight * self.gy
        a = (wgx * self.gx).sum(1, keepdim=True).transpose(1, 2)  # [M,P,1]
        b = (wgx * self.gy).sum(1, keepdim=True).transpose(1, 2)
        c = (wgy * self.gy).sum(1, keepdim=True).transpose(1, 2)
        ju_t, jv_t = self.ju.transpose(1, 2), self.jv.transpose(1, 2)  # [M,6,P]
        cross = ju_t @ (b * self.jv)
        H = ju_t @ (a * self.ju) + cross + cross.transpose(1, 2) + jv_t @ (c * self.jv)
        g = ju_t @ (wgx * r).sum(1).unsqueeze(-1) + jv_t @ (wgy * r).sum(1).unsqueeze(-1)
        return H, g


def lower_median(x: Tensor, dim: int = -1, ignore_nan: bool = False) -> Tensor:
    """``torch.median(x, dim).values`` (with ``ignore_nan``: ``torch.nanmedian``) on any device,
    deterministically.

    The lower of the two middle values for an even count; NaN where the slice holds a NaN (with
    ``ignore_nan``: where it holds nothing else). On a CPU torch's own kernels (deterministic
    there, and 3x faster than sorting); elsewhere by sorting (:func:`sorted_median`): the CUDA
    kernel of ``median``/``nanmedian`` along a dimension has no deterministic implementation
    (its index output; ``torch.use_deterministic_algorithms`` raises or warns).

    Args:
        x: a floating-point tensor.
        dim: the dimension to reduce.
        ignore_nan: skip NaNs, as ``torch.nanmedian``.

    Returns:
        ``x``'s shape without ``dim``.
    """
    if x.device.type == "cpu":
        return (torch.nanmedian if ignore_nan else torch.median)(x, dim).values
    return sorted_median(x, dim, ignore_nan)


def sorted_median(x: Tensor, dim: int = -1, ignore_nan: bool = False) -> Tensor:
    """:func:`lower_median` by sorting and gathering, which are deterministic on every device."""
    ordered = x.sort(dim).values  # NaN sorts last
    nan = x.isnan()
    if ignore_nan:
        count = (~nan).sum(dim, keepdim=True)
        return ordered.gather(dim, (count - 1).clamp(min=0) // 2).squeeze(dim)  # all NaN: NaN
    middle = ordered.select(dim, (x.shape[dim] - 1) // 2)
    return torch.where(nan.any(dim), torch.full_like(middle, float("nan")), middle)


def _robust_weights(r: Tensor, valid: Tensor) -> Tensor:
    """Huber IRLS weights ``[M,C,P]`` with a per-sample robust scale (MAD of valid residuals)."""
    mask = valid.expand_as(r)
    absr = r.abs()
    masked = torch.where(mask, absr, torch.full_like(absr, float("nan"))).flatten(1)
    sigma = 1.4826 * torch.nan_to_num(lower_median(masked, 1, ignore_nan=True), nan=1.0)
    thresh = (HUBER_K * sigma.clamp(min=1e-4)).view(-1, 1, 1)
    weight = torch.where(absr <= thresh, torch.ones_like(absr), thresh / absr.clamp(min=1e-12))
    return weight * mask


def align_pose(
    target: Tensor,
    context: Tensor,
    depth: Tensor,
    K: Tensor,
    T_init: Tensor,
    *,
    levels: tuple[int, ...] = (4, 2),
    iterations: int = 3,
    damping: float = 1e-4,
) -> Tensor:
    """Refine ``T_target_to_context`` by robust Gauss-Newton on the photometric error.

    Args:
        target: ``[M,C,H,W]`` target images.
        context: ``[M,C,H,W]`` context images (one per pose).
        depth: ``[M,1,H,W]`` target depth, positive (any consistent scale).
        K: ``[M,3,3]`` intrinsics at ``H x W``.
        T_init: ``[M,4,4]`` initial ``T_target_to_context`` (e.g. a pose network's).
        levels: average-pooling factors of the pyramid, coarse to fine.
        iterations: Gauss-Newton steps per level.
        damping: Levenberg-Marquardt damping, relative to the normal matrix's diagonal.

    Returns:
        ``[M,4,4]`` refined transforms, detached. A step that raises a sample's robust error is
        undone (and the damping raised), so no sample ends worse than it started at a level.
    """
    # float32 throughout, also inside a bf16/fp16 autocast region (mixed-precision training):
    # in bf16, pixel coordinates near 300 are off by a pixel and the normal equations lose the
    # small rotations, which made the aligned poses ~3x worse.
    with torch.no_grad(), torch.autocast(target.device.type, enabled=False):
        target, context, depth, K = (x.detach().float() for x in (target, context, depth, K))
        T = T_init.detach().float().clone()
        m = T.shape[0]
        scale = lower_median(depth.flatten(1), 1).clamp(min=1e-6)
        for factor in levels:
            tgt, ctx, dep = (F.avg_pool2d(x, factor, ceil_mode=True) if factor > 1 else x
                             for x in (target, context, depth))
            h, w = tgt.shape[-2:]
            k = scale_intrinsics(K, w / target.shape[-1], h / target.shape[-2])
            points = backproject(dep, torch.linalg.inv_ex(k).inverse)  # [M,3,h,w]
            stack = torch.cat([ctx, *_image_gradients(ctx)], 1)
            best = torch.full((m,), float("inf"), device=T.device)
            lam = torch.full((m,), damping, device=T.device)
            T_prev = T.clone()
            for it in range(iterations + 1):
                r, J, valid = _linearise(tgt, stack, points, T, k, scale)
                weight = _robust_weights(r, valid)
                n = valid.flatten(1).sum(1).clamp(min=1)
                cost = (weight * r * r).flatten(1).sum(1) / n
                worse = cost > best
                T = torch.where(worse.view(m, 1, 1), T_prev, T)
                lam = torch.where(worse, lam * 10.0, (lam * 0.3).clamp(min=damping))
                best = torch.where(worse, best, cost)
                if it == iterations:
                    break
                if worse.any():  # relinearise at the restored poses
                    r, J, valid = _linearise(tgt, stack, points, T, k, scale)
                    weight = _robust_weights(r, valid)
                H, g = J.normal_equations(r, weight)
                diag = torch.diagonal(H, dim1=1, dim2=2)
                H = H + torch.diag_embed(lam.view(m, 1) * diag + 1e-12)
                # solve_ex: no host sync for the error check; H is positive definite (the
                # damping adds at least 1e-12 to its diagonal)
                delta = -torch.linalg.solve_ex(H, g).result.squeeze(-1)
                T_prev = T
                vec = torch.cat([delta[:, :3] * scale[:, None], delta[:, 3:]], 1)
                T = pose_vec_to_mat(vec) @ T
        return T
