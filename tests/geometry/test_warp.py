"""inverse_warp against exact ray casting of an analytic scene."""

from __future__ import annotations

import numpy as np
import torch

from packdepth.geometry import inverse_warp, pose_vec_to_mat
from tests.geometry.scenes import default_camera, relative_transform, render, rot_y

H, W = 48, 96


def _pair(c_s: np.ndarray, yaw_s: float = 0.0):
    K = default_camera(H, W)
    R_t, c_t = np.eye(3), np.zeros(3)
    R_s = rot_y(yaw_s)
    target = render(K, R_t, c_t, H, W)
    source = render(K, R_s, c_s, H, W)
    T = relative_transform(R_t, c_t, R_s, c_s)
    return target, source, T, torch.from_numpy(K)[None]


def test_true_depth_and_pose_reproduce_target():
    target, source, T, K = _pair(np.array([0.3, -0.05, 1.2]), yaw_s=0.04)
    warped, valid = inverse_warp(source.image, target.depth, T, K)
    err = (warped - target.image).abs()[valid.expand_as(warped)]
    assert valid.float().mean() > 0.6
    # Bilinear resampling of a smooth texture: mean error well below one grey level (1/255).
    assert err.mean() < 2e-3, err.mean()
    assert torch.quantile(err, 0.5) < 1e-3 and torch.quantile(err, 0.95) < 5e-3
    # A wrong pose is clearly visible.
    T_wrong = T.clone()
    T_wrong[0, 0, 3] += 0.5
    warped_bad, valid_bad = inverse_warp(source.image, target.depth, T_wrong, K)
    assert (warped_bad - target.image).abs()[valid_bad.expand_as(warped)].mean() > 10 * err.mean()


def test_valid_is_where_source_sees_the_point():
    c_s = np.array([1.0, 0.0, 0.5])  # sideways and forward: part of the target leaves the source
    target, source, T, K = _pair(c_s)
    _, valid = inverse_warp(source.image, target.depth, T, K)
    # Truth from world coordinates: the source (no rotation) sees X when its pinhole projection
    # falls within the pixel-centre hull [0, W-1] x [0, H-1].
    Kn = default_camera(H, W)
    rel = target.world - c_s
    u = Kn[0, 0] * rel[..., 0] / rel[..., 2] + Kn[0, 2]
    v = Kn[1, 1] * rel[..., 1] / rel[..., 2] + Kn[1, 2]
    seen = (rel[..., 2] > 0) & (u >= 0) & (u <= W - 1) & (v >= 0) & (v <= H - 1)
    assert 0.2 < seen.mean() < 0.95
    np.testing.assert_array_equal(valid[0, 0].numpy(), seen)


def test_points_behind_the_source_are_invalid():
    target, _, _, K = _pair(np.zeros(3))
    T = torch.eye(4, dtype=torch.float64)[None]
    T[0, 2, 3] = -20.0  # the source camera is 20 m ahead: the whole scene is behind it
    _, valid = inverse_warp(target.image, target.depth, T, K)
    assert not valid.any()


def test_identity_pose_returns_source_and_any_batch_size():
    target, _, _, K = _pair(np.zeros(3))
    for b in (1, 3):
        img = target.image.expand(b, -1, -1, -1)
        depth = target.depth.expand(b, -1, -1, -1)
        T = torch.eye(4, dtype=torch.float64).expand(b, 4, 4)
        warped, valid = inverse_warp(img, depth, T, K.expand(b, 3, 3))
        assert warped.shape == (b, 3, H, W) and valid.all()
        torch.testing.assert_close(warped, img, atol=1e-9, rtol=0)


def test_source_at_another_resolution():
    target, _, T, K = _pair(np.array([0.2, 0.0, 0.8]))
    K_half = K.clone()
    K_half[:, :2, :2] /= 2
    K_half[:, :2, 2] = (K[:, :2, 2] + 0.5) / 2 - 0.5
    src_half = render(K_half[0].numpy(), np.eye(3), np.array([0.2, 0.0, 0.8]), H // 2, W // 2)
    warped, valid = inverse_warp(src_half.image, target.depth, T, K, K_source=K_half)
    assert valid.float().mean() > 0.5
    assert (warped - target.image).abs()[valid.expand_as(warped)].mean() < 6e-3


def _warp_error(scale: int, shift: float = 0.0) -> float:
    h, w = H * scale, W * scale
    K = default_camera(h, w)
    c_s, R_s = np.array([0.3, -0.05, 1.2]), rot_y(0.04)
    target = render(K, np.eye(3), np.zeros(3), h, w)
    source = render(K, R_s, c_s, h, w)
    K_used = torch.from_numpy(K)[None].clone()
    K_used[:, :2, 2] += shift
    warped, valid = inverse_warp(
        source.image, target.depth, relative_transform(np.eye(3), np.zeros(3), R_s, c_s), K_used
    )
    return (warped - target.image).abs()[valid.expand_as(warped)].mean().item()


def test_error_is_pure_interpolation_error():
    # Bilinear interpolation error shrinks with the square of the pixel size; any half-pixel
    # convention slip would leave an error that only shrinks linearly.
    e1, e2 = _warp_error(1), _warp_error(2)
    assert e1 / e2 > 3.5, (e1, e2)
    s1, s2 = _warp_error(1, shift=0.5), _warp_error(2, shift=0.5)
    assert s1 > 1.5 * e1 and s1 / s2 < 2.5, (s1, s2)


def test_gradcheck_depth_and_pose():
    g = torch.Generator().manual_seed(3)
    h, w = 5, 7
    source = torch.rand(1, 2, h, w, generator=g, dtype=torch.float64)
    depth = (4.0 + torch.rand(1, 1, h, w, generator=g, dtype=torch.float64)).requires_grad_()
    vec = torch.tensor([[0.05, -0.02, 0.1, 0.01, -0.02, 0.015]], dtype=torch.float64)
    vec.requires_grad_()
    K = torch.tensor([[[6.0, 0, 3.1], [0, 6.0, 2.2], [0, 0, 1]]], dtype=torch.float64)

    def fn(d, p):
        return inverse_warp(source, d, pose_vec_to_mat(p), K)[0]

    assert torch.autograd.gradcheck(fn, (depth, vec), eps=1e-6, atol=1e-5)
