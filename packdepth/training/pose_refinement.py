"""Pose refinement: the pose net's poses corrected by direct photometric alignment.

The correction is computed with the current depth detached and applied as a constant, so the
pose network keeps its gradient (``loss.align_pose``).
"""

from __future__ import annotations

from torch import Tensor

from packdepth.geometry import invert_pose, make_transform
from packdepth.geometry.align import align_pose
from packdepth.losses.multiscale import inv_depth_to_depth


def refine_poses(
    image: Tensor,
    context: Tensor,
    inv_depth: Tensor,
    K: Tensor,
    poses: Tensor,
    *,
    levels: tuple[int, ...] = (4, 2),
    iterations: int = 3,
    keep_length: bool = False,
) -> Tensor:
    """The pose net's poses, each refined by :func:`~packdepth.geometry.align.align_pose`.

    Args:
        image: ``[B,3,H,W]`` target frames; context: ``[B,N,3,H,W]`` context frames.
        inv_depth: ``[B,1,H,W]`` the target's current inverse depth (detached here).
        K: ``[B,3,3]`` intrinsics at ``H,W``.
        poses: ``[B,N,4,4]`` the pose net's ``T_target_to_context``.
        levels, iterations: the alignment's pyramid (pooling factors, coarse to fine) and
            Gauss-Newton steps per level.
        keep_length: keep each translation's length (velocity supervision: the alignment's
            length follows the current depth's arbitrary scale), taking rotation and direction
            from the alignment.

    Returns:
        ``[B,N,4,4]`` ``correction @ poses``, differentiable in ``poses`` (the correction is a
        constant).
    """
    b, n = poses.shape[:2]
    target = image.unsqueeze(1).expand_as(context).flatten(0, 1)
    depth = inv_depth_to_depth(inv_depth.detach()).unsqueeze(1).expand(-1, n, -1, -1, -1)
    K = K.unsqueeze(1).expand(-1, n, -1, -1).flatten(0, 1)
    flat = poses.flatten(0, 1)
    refined = align_pose(target, context.flatten(0, 1), depth.flatten(0, 1), K, flat,
                         levels=tuple(levels), iterations=iterations)
    correction = refined @ invert_pose(flat.detach())
    composed = correction @ flat
    if keep_length:
        t = composed[:, :3, 3]
        length = flat[:, :3, 3].norm(dim=-1, keepdim=True)
        t = t * (length / t.detach().norm(dim=-1, keepdim=True).clamp_min(1e-9))
        composed = make_transform(composed[:, :3, :3], t)
    return composed.view(b, n, 4, 4)
