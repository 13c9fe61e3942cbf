"""Multi-scale view-synthesis loss: truth scores best, and descent on it recovers the depth."""

from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F

from packdepth.losses import multiscale_photometric
from tests.geometry.scenes import default_camera, relative_transform, render, rot_y

H, W = 48, 96


def _scene():
    K = default_camera(H, W)
    target = render(K, np.eye(3), np.zeros(3), H, W)
    poses, sources = [], []
    for c, yaw in ((np.array([0.05, 0.0, -0.8]), -0.02), (np.array([-0.05, 0.0, 0.8]), 0.02)):
        sources.append(render(K, rot_y(yaw), c, H, W).image)
        poses.append(relative_transform(np.eye(3), np.zeros(3), rot_y(yaw), c))
    f = lambda t: t.float()  # noqa: E731
    return (
        f(target.image),
        f(torch.stack(sources, 1)),
        f(target.depth),
        f(torch.cat(poses)[None]),
        f(torch.from_numpy(K)[None]),
    )


def _pyramid(inv_depth: torch.Tensor) -> list[torch.Tensor]:
    return [
        F.interpolate(inv_depth, scale_factor=0.5**s, mode="bilinear", align_corners=False)
        if s
        else inv_depth
        for s in range(4)
    ]


def test_true_depth_scores_better_than_wrong_depth():
    target, sources, depth, poses, K = _scene()
    true = multiscale_photometric(target, sources, _pyramid(1 / depth), poses, K)
    wrong = multiscale_photometric(target, sources, _pyramid(0.5 / depth), poses, K)
    flat = multiscale_photometric(target, sources, _pyramid(torch.full_like(depth, 0.1)), poses, K)
    assert true.photometric < 0.5 * wrong.photometric
    assert true.photometric < 0.5 * flat.photometric
    assert len(true.masks) == 4 and true.masks[0].shape == (1, 1, H, W)
    assert true.warped.shape == (1, 2, 3, H, W)
    assert true.smoothness > 0 and torch.isclose(true.total, true.photometric + true.smoothness)


def test_gradient_descent_on_inverse_depth_recovers_the_scene():
    target, sources, depth, poses, K = _scene()
    log_inv = torch.full((1, 1, H // 4, W // 4), float(np.log(1 / 6.0)), requires_grad=True)
    opt = torch.optim.Adam([log_inv], lr=0.05)
    losses = []
    for _ in range(150):
        inv = F.interpolate(log_inv.exp(), size=(H, W), mode="bilinear", align_corners=False)
        out = multiscale_photometric(target, sources, _pyramid(inv), poses, K, automask=False)
        opt.zero_grad()
        out.total.backward()
        opt.step()
        losses.append(out.photometric.item())
    assert losses[-1] < 0.5 * losses[0]
    est = 1 / F.interpolate(
        log_inv.detach().exp(), size=(H, W), mode="bilinear", align_corners=False
    )
    rel = ((est - depth).abs() / depth)[:, :, 4:-4, 4:-4].median()
    assert rel < 0.1, rel
