"""Pose vectors, rotations, inversion and composition (property tests)."""

from __future__ import annotations

import math

import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from packdepth.geometry import (
    axis_angle_to_rotation,
    euler_to_rotation,
    invert_pose,
    pose_mat_to_vec,
    pose_vec_to_mat,
    relative_pose,
)

floats = st.floats(-3.0, 3.0, allow_nan=False)
angles = st.floats(-1.4, 1.4, allow_nan=False)  # |r2| < pi/2 keeps Euler angles unique
vecs = st.tuples(floats, floats, floats, angles, angles, angles).map(
    lambda v: torch.tensor([v], dtype=torch.float64)
)


def _is_rotation(R: torch.Tensor) -> bool:
    eye = torch.eye(3, dtype=R.dtype)
    return torch.allclose(R.transpose(-1, -2) @ R, eye, atol=1e-10) and torch.allclose(
        torch.linalg.det(R), torch.ones(1, dtype=R.dtype), atol=1e-10
    )


def test_euler_single_axis_matrices():
    a = 0.3
    c, s = math.cos(a), math.sin(a)
    ex = torch.tensor([[1, 0, 0], [0, c, -s], [0, s, c]], dtype=torch.float64)
    ey = torch.tensor([[c, 0, s], [0, 1, 0], [-s, 0, c]], dtype=torch.float64)
    ez = torch.tensor([[c, -s, 0], [s, c, 0], [0, 0, 1]], dtype=torch.float64)
    for i, expected in enumerate((ex, ey, ez)):
        angles = torch.zeros(3, dtype=torch.float64)
        angles[i] = a
        torch.testing.assert_close(euler_to_rotation(angles), expected)
        # single-axis rotations agree with axis-angle
        torch.testing.assert_close(axis_angle_to_rotation(angles), expected)


def test_euler_order_is_x_then_y_then_z_matrix_product():
    r = torch.tensor([0.2, -0.4, 0.7], dtype=torch.float64)
    Rx = euler_to_rotation(torch.tensor([0.2, 0, 0], dtype=torch.float64))
    Ry = euler_to_rotation(torch.tensor([0, -0.4, 0], dtype=torch.float64))
    Rz = euler_to_rotation(torch.tensor([0, 0, 0.7], dtype=torch.float64))
    torch.testing.assert_close(euler_to_rotation(r), Rx @ Ry @ Rz)


def test_axis_angle_quarter_turn_and_axis_invariance():
    R = axis_angle_to_rotation(torch.tensor([0, 0, math.pi / 2], dtype=torch.float64))
    torch.testing.assert_close(
        R @ torch.tensor([1.0, 0, 0], dtype=torch.float64),
        torch.tensor([0.0, 1.0, 0], dtype=torch.float64),
    )
    axis = torch.tensor([0.3, -0.5, 0.8], dtype=torch.float64)
    R = axis_angle_to_rotation(axis * 0.9)
    torch.testing.assert_close(R @ axis, axis)


def test_axis_angle_gradient_finite_at_identity():
    v = torch.zeros(1, 3, dtype=torch.float64, requires_grad=True)
    axis_angle_to_rotation(v).sum().backward()
    assert torch.isfinite(v.grad).all()
    assert torch.autograd.gradcheck(
        axis_angle_to_rotation, (torch.full((1, 3), 1e-5, dtype=torch.float64, requires_grad=True),)
    )


def test_translation_first_then_rotation():
    vec = torch.tensor([[1.0, 2.0, 3.0, 0.1, 0.2, 0.3]], dtype=torch.float64)
    T = pose_vec_to_mat(vec)
    torch.testing.assert_close(T[0, :3, 3], vec[0, :3])
    torch.testing.assert_close(T[0, 3], torch.tensor([0, 0, 0, 1.0], dtype=torch.float64))


@settings(max_examples=60, deadline=None)
@given(vecs)
def test_euler_round_trip_and_inverse(vec):
    T = pose_vec_to_mat(vec, "euler")
    assert _is_rotation(T[0, :3, :3])
    torch.testing.assert_close(pose_mat_to_vec(T, "euler"), vec, atol=1e-9, rtol=0)
    torch.testing.assert_close(invert_pose(T) @ T, torch.eye(4, dtype=torch.float64)[None])
    torch.testing.assert_close(T @ invert_pose(T), torch.eye(4, dtype=torch.float64)[None])


@settings(max_examples=60, deadline=None)
@given(st.tuples(floats, floats, floats, angles, angles, angles))
def test_axis_angle_round_trip(v):
    vec = torch.tensor([v], dtype=torch.float64)
    if vec[0, 3:].norm() > 3.0:  # keep the angle below pi, where axis-angle is unique
        vec[0, 3:] *= 3.0 / vec[0, 3:].norm()
    T = pose_vec_to_mat(vec, "axis_angle")
    assert _is_rotation(T[0, :3, :3])
    torch.testing.assert_close(pose_mat_to_vec(T, "axis_angle"), vec, atol=1e-7, rtol=0)


@settings(max_examples=40, deadline=None)
@given(vecs, vecs, st.tuples(floats, floats, floats))
def test_composition_and_relative_pose(a, b, p):
    Ta, Tb = pose_vec_to_mat(a), pose_vec_to_mat(b)
    point = torch.tensor([[*p, 1.0]], dtype=torch.float64).T
    # composing transforms = applying them in turn
    torch.testing.assert_close((Ta @ Tb) @ point, Ta @ (Tb @ point))
    # relative pose from camera-to-world poses maps a's frame into b's frame
    world = Ta @ point
    torch.testing.assert_close(relative_pose(Ta, Tb) @ point, invert_pose(Tb) @ world)


def test_batched_shapes():
    vec = torch.randn(5, 6)
    assert pose_vec_to_mat(vec).shape == (5, 4, 4)
    assert pose_vec_to_mat(vec.reshape(5, 1, 6), "axis_angle").shape == (5, 1, 4, 4)
