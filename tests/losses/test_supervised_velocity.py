"""Supervised depth losses and velocity supervision against hand-computed values."""

from __future__ import annotations

import math

import pytest
import torch

from packdepth.geometry import pose_vec_to_mat
from packdepth.losses.supervised import berhu_loss, l1_depth_loss, silog_loss, supervised_depth_loss
from packdepth.losses.velocity import velocity_loss

GT = torch.tensor([[[[2.0, 0.0], [4.0, 8.0]]]])  # one pixel without GT
PRED = torch.tensor([[[[3.0, 100.0], [4.0, 4.0]]]])


def test_l1_ignores_missing_gt():
    assert l1_depth_loss(PRED, GT).item() == pytest.approx((1 + 0 + 4) / 3)


def test_berhu_hand_value():
    # errors 1, 0, 4; c = 0.2 * 4 = 0.8: 1 -> (1 + 0.64) / 1.6, 0 -> 0, 4 -> (16 + 0.64) / 1.6
    expected = ((1 + 0.64) / 1.6 + 0 + (16 + 0.64) / 1.6) / 3
    assert berhu_loss(PRED, GT).item() == pytest.approx(expected)


def test_silog_hand_value_and_scale_invariance():
    d = torch.tensor([math.log(3 / 2), 0.0, math.log(4 / 8)])
    expected = math.sqrt((d**2).mean() - 0.85 * d.mean() ** 2)
    assert silog_loss(PRED, GT).item() == pytest.approx(expected, rel=1e-5)
    exact = GT.clone()
    assert silog_loss(exact * 3.0, GT, variance_focus=1.0).item() <= 1.01e-3  # sqrt(eps) floor
    assert supervised_depth_loss(exact, GT, "l1").item() == 0.0
    with pytest.raises(ValueError, match="unknown supervised loss"):
        supervised_depth_loss(PRED, GT, "l3")


def test_no_gt_gives_zero_with_gradient():
    pred = PRED.clone().requires_grad_()
    loss = berhu_loss(pred, torch.zeros_like(GT))
    loss.backward()
    assert loss.item() == 0.0 and pred.grad is not None


def test_velocity_loss_hand_value():
    vec = torch.tensor([[[0.0, 0.0, 3.0, 0.1, 0, 0], [0.0, 4.0, 3.0, 0, 0.2, 0]]])  # |t| = 3, 5
    poses = pose_vec_to_mat(vec)
    assert velocity_loss(poses, torch.tensor([[3.0, 5.0]])).item() == pytest.approx(0.0, abs=1e-6)
    assert velocity_loss(poses, torch.tensor([[2.0, 7.0]])).item() == pytest.approx(1.5)
