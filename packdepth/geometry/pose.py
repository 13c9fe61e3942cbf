"""Rigid-body poses: 6-DoF vectors to 4x4 matrices, inversion, composition.

A pose vector is ``(tx, ty, tz, r1, r2, r3)``: translation first, then rotation, either as Euler
angles (packnet-sfm's convention, ``R = Rx(r1) @ Ry(r2) @ Rz(r3)``) or as an axis-angle vector
(monodepth2's convention, rotation by ``|r|`` radians about ``r / |r|``). The matrix is
``T = [[R, t], [0, 1]]``, so ``T @ X`` rotates, then translates.

In packdepth, pose networks predict ``T_target_to_source``: it maps a point from the target
camera's frame into the source camera's frame.
"""

from __future__ import annotations

from typing import Literal

import torch
from torch import Tensor

Rotation = Literal["euler", "axis_angle"]


def _rot_x(a: Tensor) -> Tensor:
    c, s, o, z = torch.cos(a), torch.sin(a), torch.ones_like(a), torch.zeros_like(a)
    return torch.stack([o, z, z, z, c, -s, z, s, c], dim=-1).reshape(*a.shape, 3, 3)


def _rot_y(a: Tensor) -> Tensor:
    c, s, o, z = torch.cos(a), torch.sin(a), torch.ones_like(a), torch.zeros_like(a)
    return torch.stack([c, z, s, z, o, z, -s, z, c], dim=-1).reshape(*a.shape, 3, 3)


def _rot_z(a: Tensor) -> Tensor:
    c, s, o, z = torch.cos(a), torch.sin(a), torch.ones_like(a), torch.zeros_like(a)
    return torch.stack([c, -s, z, s, c, z, z, z, o], dim=-1).reshape(*a.shape, 3, 3)


def euler_to_rotation(angles: Tensor) -> Tensor:
    """Euler XYZ angles ``[...,3]`` (radians) to rotations ``[...,3,3]``: ``Rx @ Ry @ Rz``."""
    return _rot_x(angles[..., 0]) @ _rot_y(angles[..., 1]) @ _rot_z(angles[..., 2])


def axis_angle_to_rotation(axis_angle: Tensor, eps: float = 1e-7) -> Tensor:
    """Axis-angle vectors ``[...,3]`` to rotation matrices ``[...,3,3]`` (Rodrigues' formula).

    Uses the Taylor expansions of ``sin(θ)/θ`` and ``(1-cos θ)/θ²`` near zero so that the result
    and its gradient are exact and finite at the identity.
    """
    theta2 = (axis_angle * axis_angle).sum(-1, keepdim=True).unsqueeze(-1)  # [...,1,1]
    small = theta2 < eps
    theta2_safe = torch.where(small, torch.ones_like(theta2), theta2)
    theta = torch.sqrt(theta2_safe)
    a = torch.where(small, 1.0 - theta2 / 6.0, torch.sin(theta) / theta)
    b = torch.where(small, 0.5 - theta2 / 24.0, (1.0 - torch.cos(theta)) / theta2_safe)
    x, y, z = axis_angle[..., 0], axis_angle[..., 1], axis_angle[..., 2]
    zero = torch.zeros_like(x)
    skew = torch.stack([zero, -z, y, z, zero, -x, -y, x, zero], dim=-1)
    skew = skew.reshape(*axis_angle.shape[:-1], 3, 3)
    eye = torch.eye(3, dtype=axis_angle.dtype, device=axis_angle.device)
    return eye + a * skew + b * (skew @ skew)


def rotation_to_axis_angle(R: Tensor) -> Tensor:
    """Rotation matrices ``[...,3,3]`` to axis-angle vectors ``[...,3]`` (angles in ``[0, π)``)."""
    cos = ((R[..., 0, 0] + R[..., 1, 1] + R[..., 2, 2] - 1.0) / 2.0).clamp(-1.0, 1.0)
    theta = torch.acos(cos)
    vec = torch.stack(
        [R[..., 2, 1] - R[..., 1, 2], R[..., 0, 2] - R[..., 2, 0], R[..., 1, 0] - R[..., 0, 1]], -1
    )
    sin = torch.sin(theta)
    scale = torch.where(sin.abs() < 1e-7, 0.5 + theta**2 / 12.0, theta / (2.0 * sin))
    return vec * scale.unsqueeze(-1)


def rotation_to_euler(R: Tensor) -> Tensor:
    """Inverse of :func:`euler_to_rotation` for ``|r2| < π/2``: ``[...,3,3]`` to ``[...,3]``."""
    r2 = torch.asin(R[..., 0, 2].clamp(-1.0, 1.0))
    r1 = torch.atan2(-R[..., 1, 2], R[..., 2, 2])
    r3 = torch.atan2(-R[..., 0, 1], R[..., 0, 0])
    return torch.stack([r1, r2, r3], dim=-1)


def make_transform(R: Tensor, t: Tensor) -> Tensor:
    """Assemble ``[...,4,4]`` transforms from rotations ``[...,3,3]``, translations ``[...,3]``."""
    top = torch.cat([R, t.unsqueeze(-1)], dim=-1)
    bottom = torch.zeros(*R.shape[:-2], 1, 4, dtype=R.dtype, device=R.device)
    bottom[..., 0, 3] = 1.0
    return torch.cat([top, bottom], dim=-2)


def pose_vec_to_mat(vec: Tensor, rotation: Rotation = "euler") -> Tensor:
    """6-DoF pose vectors to transforms.

    Args:
        vec: ``[B,6]`` (or ``[...,6]``): ``(tx, ty, tz, r1, r2, r3)``.
        rotation: ``"euler"`` (packnet-sfm, ``R = Rx Ry Rz``) or ``"axis_angle"`` (monodepth2).

    Returns:
        ``[B,4,4]`` (or ``[...,4,4]``) transforms ``[[R, t], [0, 1]]``.
    """
    if rotation == "euler":
        R = euler_to_rotation(vec[..., 3:])
    elif rotation == "axis_angle":
        R = axis_angle_to_rotation(vec[..., 3:])
    else:
        raise ValueError(f"unknown rotation parametrisation {rotation!r}")
    return make_transform(R, vec[..., :3])


def pose_mat_to_vec(T: Tensor, rotation: Rotation = "euler") -> Tensor:
    """Inverse of :func:`pose_vec_to_mat`: ``[...,4,4]`` to ``[...,6]``."""
    R = T[..., :3, :3]
    rot = rotation_to_euler(R) if rotation == "euler" else rotation_to_axis_angle(R)
    return torch.cat([T[..., :3, 3], rot], dim=-1)


def invert_pose(T: Tensor) -> Tensor:
    """Inverse of rigid transforms ``[...,4,4]``: ``[[R^T, -R^T t], [0, 1]]``."""
    R_t = T[..., :3, :3].transpose(-1, -2)
    t = -(R_t @ T[..., :3, 3:]).squeeze(-1)
    return make_transform(R_t, t)


def relative_pose(T_a_to_world: Tensor, T_b_to_world: Tensor) -> Tensor:
    """Transform from frame ``a`` to frame ``b`` given both camera-to-world poses.

    With KITTI-style camera-to-world poses ``P_t``, ``relative_pose(P_target, P_source)`` is
    ``T_target_to_source = P_source^-1 @ P_target``.
    """
    return invert_pose(T_b_to_world) @ T_a_to_world
