"""Edge-aware smoothness."""

from __future__ import annotations

import torch

from packdepth.losses import smoothness_loss


def test_constant_disparity_is_free():
    img = torch.rand(2, 3, 16, 16)
    assert smoothness_loss(torch.full((2, 1, 16, 16), 0.3), img).item() == 0.0


def test_disparity_step_costs_less_on_an_image_edge():
    img = torch.zeros(1, 3, 16, 16)
    img[..., 8:] = 1.0  # vertical image edge between columns 7 and 8
    disp_on_edge = torch.ones(1, 1, 16, 16)
    disp_on_edge[..., 8:] = 2.0
    disp_off_edge = torch.ones(1, 1, 16, 16)
    disp_off_edge[..., 4:] = 2.0  # same step, inside the flat region
    on, off = smoothness_loss(disp_on_edge, img), smoothness_loss(disp_off_edge, img)
    assert off.item() > 2 * on.item() > 0
    # hand values: a step of 1 on a mean disparity of 1.75 (off) or 1.5 (on) in each of 16 rows,
    # averaged over 15 * 16 x-differences; on the edge it is weighted by exp(-1)
    assert abs(off.item() - (16 / 1.75) / (15 * 16)) < 1e-6
    assert abs(on.item() - (16 / 1.5) * torch.exp(torch.tensor(-1.0)).item() / (15 * 16)) < 1e-6


def test_invariant_to_disparity_scale():
    img = torch.rand(1, 3, 12, 12)
    disp = torch.rand(1, 1, 12, 12) + 0.1
    torch.testing.assert_close(smoothness_loss(disp, img), smoothness_loss(7 * disp, img))
