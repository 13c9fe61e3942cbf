"""The ground-plane warm-up prior."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from packdepth.losses.prior import ground_plane_depth, log_depth_prior_loss, prior_weight
from tests.geometry.scenes import GROUND_Y, default_camera, render


def test_ground_plane_matches_ray_cast_road():
    # The analytic test scene: a level camera GROUND_Y above a flat ground (and a wall far away).
    H, W = 48, 96
    K = default_camera(H, W)
    view = render(K, np.eye(3), np.zeros(3), H, W)
    prior = ground_plane_depth(torch.from_numpy(K)[None], H, W, camera_height=GROUND_Y,
                               max_depth=1e3)
    on_ground = np.abs(view.world[..., 1] - GROUND_Y) < 1e-9
    np.testing.assert_allclose(prior[0, 0].numpy()[on_ground], view.depth[0, 0].numpy()[on_ground],
                               rtol=1e-9)
    # rows at or above the horizon get the cap
    cy = K[1, 2]
    assert (prior[0, 0, : int(np.floor(cy)) + 1] == 1e3).all()


def test_loss_uses_ground_pixels_and_can_ignore_scale():
    K = torch.tensor([[[100.0, 0, 31.5], [0, 100.0, 7.5], [0, 0, 1]]])
    prior = ground_plane_depth(K, 16, 64, camera_height=1.5, max_depth=80.0)
    ground = prior < 80
    assert 0 < ground.float().mean() < 0.6
    depth = prior.clone()
    depth[~ground] = 3.0  # above the horizon anything goes
    assert log_depth_prior_loss(depth, prior, scale_invariant=False).item() == pytest.approx(0.0)
    assert log_depth_prior_loss(2 * depth, prior, scale_invariant=True).item() == pytest.approx(
        0.0, abs=1e-6)
    expected = float(np.log(2.0))
    assert log_depth_prior_loss(2 * depth, prior, scale_invariant=False).item() == pytest.approx(
        expected, rel=1e-5)
    # an explicit mask (the fitting anchor: every pixel) also counts the pixels above the horizon
    everywhere = torch.ones_like(ground)
    off = (3.0 / prior).log().abs()[~ground].sum() / ground.numel()
    assert log_depth_prior_loss(depth, prior, False, mask=everywhere).item() == pytest.approx(
        off.item(), rel=1e-5)


def test_weight_decays_to_zero():
    assert prior_weight(0, 0.1, 300) == 0.1
    assert prior_weight(150, 0.1, 300) == pytest.approx(0.05)
    assert prior_weight(300, 0.1, 300) == prior_weight(10_000, 0.1, 300) == 0.0
    assert prior_weight(0, 0.0, 300) == prior_weight(0, 0.1, 0) == 0.0
