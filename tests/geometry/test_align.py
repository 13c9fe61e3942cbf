"""align_pose against analytic scenes with a known relative pose."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from packdepth.geometry import invert_pose, pose_vec_to_mat
from packdepth.geometry.align import align_pose
from packdepth.geometry.warp import inverse_warp
from tests.geometry.scenes import default_camera, relative_transform, render, rot_y

H, W = 96, 192


def _pose_errors(T: torch.Tensor, T_true: torch.Tensor) -> tuple[float, float]:
    """Rotation error (degrees) and translation error (fraction of the true translation)."""
    D = invert_pose(T_true) @ T
    cos = ((torch.diagonal(D[:, :3, :3], dim1=1, dim2=2).sum(-1) - 1) / 2).clamp(-1, 1)
    rot = float(torch.rad2deg(torch.acos(cos)).max())
    trans = float(((T[:, :3, 3] - T_true[:, :3, 3]).norm(dim=-1)
                   / T_true[:, :3, 3].norm(dim=-1)).max())
    return rot, trans


def _scene(c_s: np.ndarray, yaw: float):
    K = default_camera(H, W)
    target = render(K, np.eye(3), np.zeros(3), H, W)
    source = render(K, rot_y(yaw), c_s, H, W)
    T = relative_transform(np.eye(3), np.zeros(3), rot_y(yaw), c_s).float()
    return target, source, T, torch.from_numpy(K).float()[None]


def test_recovers_the_true_pose_from_a_perturbed_start():
    target, source, T_true, K = _scene(np.array([0.2, -0.05, 1.0]), yaw=0.03)
    # Start 1.5° and 25 % of the motion away from the truth.
    noise = pose_vec_to_mat(torch.tensor([[0.15, 0.05, -0.2, 0.01, -0.02, 0.015]]))
    T_start = noise @ T_true
    T = align_pose(target.image.float(), source.image.float(), target.depth.float(), K, T_start,
                   levels=(4, 2, 1), iterations=5)
    rot0, trans0 = _pose_errors(T_start, T_true)
    rot, trans = _pose_errors(T, T_true)
    assert rot0 > 1.0 and trans0 > 0.2
    assert rot < 0.05 and trans < 0.02, (rot, trans)


def test_depth_scale_scales_the_translation_only():
    """Depth known up to a factor s: the aligned pose is the truth with translation x s."""
    target, source, T_true, K = _scene(np.array([-0.1, 0.0, 0.8]), yaw=-0.02)
    s = 0.1
    T_start = T_true.clone()
    T_start[:, :3, 3] *= s * 0.7
    T = align_pose(target.image.float(), source.image.float(), s * target.depth.float(), K,
                   T_start, levels=(4, 2, 1), iterations=5)
    T_expected = T_true.clone()
    T_expected[:, :3, 3] *= s
    rot, trans = _pose_errors(T, T_expected)
    assert rot < 0.05 and trans < 0.02, (rot, trans)


def test_never_ends_worse_and_ignores_an_outlier_region():
    target, source, T_true, K = _scene(np.array([0.1, 0.0, 1.0]), yaw=0.02)
    corrupted = source.image.float().clone()
    gen = torch.Generator().manual_seed(0)
    corrupted[..., :, : W // 5] = torch.rand(1, 3, H, W // 5, generator=gen)  # e.g. a passing car
    noise = pose_vec_to_mat(torch.tensor([[0.05, 0.0, 0.1, 0.0, 0.01, 0.0]]))
    T = align_pose(target.image.float(), corrupted, target.depth.float(), K, noise @ T_true,
                   levels=(4, 2, 1), iterations=5)
    rot, trans = _pose_errors(T, T_true)
    assert rot < 0.1 and trans < 0.05, (rot, trans)
    # Batched: a sample that starts at the truth stays there (no step may raise its error).
    both = align_pose(target.image.float().expand(2, -1, -1, -1),
                      source.image.float().expand(2, -1, -1, -1),
                      target.depth.float().expand(2, -1, -1, -1), K.expand(2, 3, 3),
                      torch.cat([T_true, noise @ T_true]), levels=(2, 1), iterations=3)
    assert _pose_errors(both[:1], T_true)[0] < 0.02


def test_factored_normal_equations_equal_the_explicit_jacobian():
    from packdepth.geometry.align import Jacobian

    gen = torch.Generator().manual_seed(1)
    m, c, p = 2, 3, 50
    gx, gy, r, weight = (torch.randn(m, c, p, generator=gen, dtype=torch.float64)
                         for _ in range(4))
    ju, jv = (torch.randn(m, p, 6, generator=gen, dtype=torch.float64) for _ in range(2))
    weight = weight.abs()
    J = (gx.unsqueeze(-1) * ju.unsqueeze(1) + gy.unsqueeze(-1) * jv.unsqueeze(1)).flatten(1, 2)
    w = weight.flatten(1).unsqueeze(-1)
    H, g = Jacobian(gx, gy, ju, jv).normal_equations(r, weight)
    torch.testing.assert_close(H, J.transpose(1, 2) @ (w * J))
    torch.testing.assert_close(g, J.transpose(1, 2) @ (w * r.flatten(1).unsqueeze(-1)))


def test_runs_in_float32_inside_a_bf16_autocast_region():
    """Mixed-precision training calls the alignment under autocast: the result must not change."""
    target, source, T_true, K = _scene(np.array([0.2, -0.05, 1.0]), yaw=0.03)
    noise = pose_vec_to_mat(torch.tensor([[0.1, 0.05, -0.1, 0.01, -0.01, 0.01]]))
    args = (target.image.float(), source.image.float(), target.depth.float(), K, noise @ T_true)
    plain = align_pose(*args)
    with torch.autocast("cpu", dtype=torch.bfloat16):
        mixed = align_pose(*args)
    assert mixed.dtype == torch.float32
    torch.testing.assert_close(mixed, plain)


def test_sorted_median_equals_torchs_median_and_nanmedian():
    """The GPU path of the alignment's medians (sorting: deterministic on CUDA, where median
    with indices is not) gives torch's values: the lower middle value for even counts, NaN
    propagation for median, NaN skipping (all-NaN: NaN) for nanmedian."""
    from packdepth.geometry.align import lower_median, sorted_median

    gen = torch.Generator().manual_seed(0)
    for shape, dim in [((6, 7), 1), ((6, 8), 1), ((5, 1), 1), ((4, 6, 9), 0), ((4, 6, 10), 2)]:
        x = torch.randint(0, 6, shape, generator=gen).float()  # many ties
        with_nan = torch.where(torch.rand(shape, generator=gen) < 0.3, float("nan"), x)
        with_nan.select(dim, 0).fill_(float("nan"))  # some slices hold a NaN ...
        if dim == 1:
            with_nan[0] = float("nan")  # ... and one slice only NaNs
        for ignore_nan, reference in ((False, torch.median), (True, torch.nanmedian)):
            for values in (x, with_nan):
                expected = reference(values, dim).values
                for fn in (sorted_median, lower_median):
                    got = fn(values, dim, ignore_nan=ignore_nan)
                    torch.testing.assert_close(got, expected, rtol=0, atol=0, equal_nan=True)
    even = torch.tensor([[4.0, 1.0, 3.0, 2.0]])
    assert sorted_median(even, 1).item() == 2.0  # the lower of 2 and 3, as torch.median


def test_no_syncing_linalg_and_the_same_poses(monkeypatch):
    """align_pose and inverse_warp use inv_ex/solve_ex (no host synchronisation for an error
    check on a GPU): the poses equal those of the syncing linalg.inv/solve exactly, and neither
    is called any more."""
    target, source, T_true, K = _scene(np.array([0.2, -0.05, 1.0]), yaw=0.03)
    T_start = pose_vec_to_mat(torch.tensor([[0.1, 0.05, -0.1, 0.01, -0.02, 0.01]])) @ T_true
    args = (target.image.float(), source.image.float(), target.depth.float(), K, T_start)
    with monkeypatch.context() as patched:  # the former calls, as the reference
        patched.setattr(torch.linalg, "inv_ex", lambda A: torch.return_types.linalg_inv_ex(
            (torch.linalg.inv(A), torch.zeros(A.shape[:-2], dtype=torch.int32))))
        patched.setattr(torch.linalg, "solve_ex", lambda A, B: torch.return_types.linalg_solve_ex(
            (torch.linalg.solve(A, B), torch.zeros(A.shape[:-2], dtype=torch.int32))))
        reference = align_pose(*args)
    for name in ("inv", "solve"):
        monkeypatch.setattr(torch.linalg, name, lambda *a, **k: pytest.fail("a syncing call"))
    assert torch.equal(align_pose(*args), reference)
    assert not torch.allclose(reference, T_start)  # it moved
    warped, valid = inverse_warp(source.image.float(), target.depth.float(), T_true, K)
    assert valid.float().mean() > 0.5 and warped.shape == source.image.shape
