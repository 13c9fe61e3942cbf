"""SSIM, photometric error and minimum reprojection with auto-mask."""

from __future__ import annotations

import numpy as np
import torch

from packdepth.geometry import inverse_warp
from packdepth.losses import photometric_error, reprojection_loss, ssim
from tests.geometry.scenes import default_camera, relative_transform, render, rot_y


def _ssim_numpy(x: np.ndarray, y: np.ndarray, c1=0.01**2, c2=0.03**2) -> np.ndarray:
    """Independent per-pixel SSIM: explicit 3x3 windows on reflect-padded single-channel images."""
    xp, yp = np.pad(x, 1, mode="reflect"), np.pad(y, 1, mode="reflect")
    out = np.zeros_like(x)
    for i in range(x.shape[0]):
        for j in range(x.shape[1]):
            a, b = xp[i : i + 3, j : j + 3].ravel(), yp[i : i + 3, j : j + 3].ravel()
            ma, mb = a.mean(), b.mean()
            va, vb = (a * a).mean() - ma * ma, (b * b).mean() - mb * mb
            cov = (a * b).mean() - ma * mb
            out[i, j] = ((2 * ma * mb + c1) * (2 * cov + c2)) / (
                (ma**2 + mb**2 + c1) * (va + vb + c2)
            )
    return out


def test_ssim_identical_is_one():
    x = torch.rand(2, 3, 9, 11)
    torch.testing.assert_close(ssim(x, x), torch.ones_like(x))
    assert photometric_error(x, x).abs().max() < 1e-6


def test_ssim_hand_computed_3x3():
    x = np.array([[0.1, 0.5, 0.9], [0.3, 0.2, 0.7], [0.8, 0.6, 0.4]])
    y = np.array([[0.2, 0.5, 0.7], [0.1, 0.4, 0.6], [0.9, 0.3, 0.5]])
    got = ssim(torch.tensor(x)[None, None], torch.tensor(y)[None, None])[0, 0].numpy()
    np.testing.assert_allclose(got, _ssim_numpy(x, y), rtol=1e-10)
    # the centre window is the whole image: one number worth writing down
    a, b = x.ravel(), y.ravel()
    ma, mb = a.mean(), b.mean()
    num = (2 * ma * mb + 1e-4) * (2 * ((a - ma) * (b - mb)).mean() + 9e-4)
    den = (ma**2 + mb**2 + 1e-4) * (a.var() + b.var() + 9e-4)
    assert abs(got[1, 1] - num / den) < 1e-12


def test_photometric_error_formula():
    g = torch.Generator().manual_seed(1)
    x = torch.rand(1, 3, 6, 8, generator=g, dtype=torch.float64)
    y = torch.rand(1, 3, 6, 8, generator=g, dtype=torch.float64)
    s = np.stack([_ssim_numpy(x[0, c].numpy(), y[0, c].numpy()) for c in range(3)])
    expected = (0.85 * np.clip((1 - s) / 2, 0, 1) + 0.15 * np.abs((x[0] - y[0]).numpy())).mean(0)
    np.testing.assert_allclose(photometric_error(x, y)[0, 0].numpy(), expected, rtol=1e-10)
    torch.testing.assert_close(photometric_error(x, y, alpha=0.0), (x - y).abs().mean(1, True))


def test_min_reprojection_picks_best_valid_view():
    target = torch.zeros(1, 1, 4, 4)
    a = torch.full_like(target, 0.2)
    b = torch.full_like(target, 0.6)
    b[..., :2] = 0.1  # view b is better on the left half...
    valid_a = torch.ones_like(target, dtype=torch.bool)
    valid_b = valid_a.clone()
    valid_b[..., 0] = False  # ...but invalid in the first column
    loss, mask = reprojection_loss(target, [a, b], [valid_a, valid_b], automask=False, alpha=0.0)
    expected = (4 * 0.2 + 4 * 0.1 + 8 * 0.2) / 16  # col 0 -> a, col 1 -> b, cols 2-3 -> a
    assert abs(loss.item() - expected) < 1e-6
    assert mask.all()
    # pixels invalid in every view do not count
    none = torch.zeros_like(valid_a)
    loss, mask = reprojection_loss(target, [a, b], [valid_b, none], automask=False, alpha=0.0)
    assert not mask[..., 0].any() and mask[..., 1:].all()
    assert abs(loss.item() - 0.2) < 1e-6  # only view a remains: 0.2 on the 12 pixels it sees


def _scene_pair(c_s, yaw=0.0):
    H, W = 48, 96
    K = default_camera(H, W)
    target = render(K, np.eye(3), np.zeros(3), H, W)
    source = render(K, rot_y(yaw), c_s, H, W)
    T = relative_transform(np.eye(3), np.zeros(3), rot_y(yaw), c_s)
    return target, source, T, torch.from_numpy(K)[None]


def test_automask_static_camera_masks_almost_everything():
    # Identical consecutive frames (a stopped car): whatever small motion the pose net guesses,
    # the unwarped frame matches better, so auto-masking removes (almost) every pixel.
    target, _, _, K = _scene_pair(np.zeros(3))
    guessed = relative_transform(np.eye(3), np.zeros(3), rot_y(0.01), np.array([0.05, 0, 0.3]))
    sources = [target.image, target.image]
    warps = [inverse_warp(s, target.depth, guessed, K) for s in sources]
    _, mask = reprojection_loss(target.image, [w for w, _ in warps], [v for _, v in warps], sources)
    assert mask.float().mean() < 0.05


def test_automask_moving_camera_keeps_most_pixels():
    target, source, T, K = _scene_pair(np.array([0.2, 0.0, 1.0]), yaw=0.03)
    warped, valid = inverse_warp(source.image, target.depth, T, K)
    loss, mask = reprojection_loss(target.image, [warped], [valid], [source.image])
    assert mask.float().mean() > 0.6
    kept_error = (warped - target.image).abs().mean(1, keepdim=True)[mask].mean()
    assert kept_error < 2e-3
    identity = photometric_error(source.image, target.image).mean()
    assert loss < 0.6 * identity


def test_pushing_every_pixel_out_of_view_is_not_rewarded():
    # A depth far too small for the motion sends every pixel out of the source view. That must
    # not score better than the truth (a mean over kept pixels alone would give it 0).
    target, source, T, K = _scene_pair(np.array([0.2, 0.0, 1.0]), yaw=0.03)
    true, _ = reprojection_loss(
        target.image, *[[x] for x in inverse_warp(source.image, target.depth, T, K)], [source.image]
    )
    tiny = target.depth * 0.01
    warped, valid = inverse_warp(source.image, tiny, T, K)
    assert not valid.any()
    loss, mask = reprojection_loss(target.image, [warped], [valid], [source.image])
    assert not mask.any()
    identity = photometric_error(source.image, target.image).mean()
    assert abs(loss.item() - identity.item()) < 1e-3
    assert true < 0.6 * loss


def test_tie_noise_follows_the_torch_seed():
    x = torch.rand(1, 3, 8, 8)
    valid = [torch.ones(1, 1, 8, 8, dtype=torch.bool)]
    torch.manual_seed(5)
    _, m1 = reprojection_loss(x, [x], valid, [x])
    torch.manual_seed(5)
    _, m2 = reprojection_loss(x, [x], valid, [x])
    assert torch.equal(m1, m2)
