"""The ground-contact ceiling against analytic road geometry."""

from __future__ import annotations

import math

import pytest
import torch

from packdepth.geometry import intrinsics_matrix
from packdepth.losses.ground_contact import ground_contact_loss, road_depth, road_scale

H, W, HEIGHT = 48, 160, 1.65


def kitti_like_K(batch: int = 1) -> torch.Tensor:
    return intrinsics_matrix(92.0, 92.0, 79.5, 21.5).expand(batch, 3, 3).clone()


def test_road_depth_is_where_the_ray_meets_the_road():
    K = kitti_like_K()
    road = road_depth(K, H, W, HEIGHT)[0, 0]
    # row 40 is 18.5 px below the principal point: a ray dropping 18.5/92 per metre
    assert road[40, 7].item() == pytest.approx(92.0 * HEIGHT / 18.5)
    # the 3-D point of that pixel at that depth lies exactly camera_height below the camera
    v, depth = 40.0, road[40, 7].item()
    assert depth * (v - 21.5) / 92.0 == pytest.approx(HEIGHT)
    assert torch.isinf(road[:22]).all() and torch.isfinite(road[22:]).all()


def test_a_flat_road_and_things_standing_on_it_cost_nothing():
    K = kitti_like_K()
    road = road_depth(K, H, W, HEIGHT)
    depth = torch.where(torch.isfinite(road), road, torch.full_like(road, 80.0)).clone()
    depth[..., 25:40, 10:40] = 6.0  # a wall standing on the road, nearer than the road behind it
    for scale in (1.0, 0.01, 37.0):  # the prediction's scale is free
        assert ground_contact_loss(depth * scale, K, HEIGHT, True).item() == 0.0
    assert ground_contact_loss(depth, K, HEIGHT, False).item() == 0.0


def test_a_car_drifting_to_far_depth_is_pulled_back_to_the_road_beneath_it():
    K = kitti_like_K()
    road = road_depth(K, H, W, HEIGHT)
    depth = torch.where(torch.isfinite(road), road, torch.full_like(road, 80.0)).clone()
    depth[..., 30:36, 60:100] = 60.0  # beyond the road at rows 30..35 (9.4 m .. 17.9 m)
    depth.requires_grad_(True)
    loss = ground_contact_loss(depth * 2.0, K, HEIGHT, True, tolerance=0.0)
    loss.backward()
    rows = torch.arange(30, 36, dtype=torch.float64)
    expected = torch.log(60.0 / (92.0 * HEIGHT / (rows - 21.5))).sum() * 40
    below = (H - 22) * W
    assert loss.item() == pytest.approx(expected.item() / below, rel=1e-5)
    grad = depth.grad[0, 0]
    assert (grad[30:36, 60:100] > 0).all()  # only the violating pixels are pushed, nearer
    grad[30:36, 60:100] = 0
    assert (grad == 0).all()


def test_the_tolerance_allows_a_slightly_tilted_road():
    K = kitti_like_K()
    road = road_depth(K, H, W, HEIGHT)
    depth = torch.where(torch.isfinite(road), road * 1.04, torch.full_like(road, 80.0))
    assert ground_contact_loss(depth, K, HEIGHT, False, tolerance=0.05).item() == 0.0
    loss = ground_contact_loss(depth, K, HEIGHT, False, tolerance=0.0).item()
    assert loss == pytest.approx(math.log(1.04), rel=1e-5)


def test_the_road_scale_is_read_on_the_bottom_centre_of_each_image():
    K = kitti_like_K(2)
    road = road_depth(K, H, W, HEIGHT)
    depth = torch.where(torch.isfinite(road), road, torch.full_like(road, 80.0))
    depth = depth * torch.tensor([3.0, 0.5]).view(2, 1, 1, 1)
    depth[0, :, :, :40] = 1.0  # a truck alongside, outside the road region, changes nothing
    assert road_scale(depth, road).tolist() == pytest.approx([3.0, 0.5])


def test_real_kitti_depth_lies_on_or_above_the_road(kitti_tiny) -> None:
    """The premise on real data: KITTI's Velodyne depth (10 frames of kitti_tiny, camera 1.65 m
    above the road) is almost never deeper than the road beneath it, and the bottom centre of
    the image is road at exactly the camera height."""
    from packdepth.data.kitti.splits import SplitEntry
    from packdepth.evaluation.depth import entry_intrinsics, load_gt_depth
    from tests.evaluation.helpers import KITTI_TINY_DRIVE

    for frame in range(0, 40, 4):
        entry = SplitEntry(KITTI_TINY_DRIVE, frame)
        gt = torch.as_tensor(load_gt_depth(kitti_tiny, entry)[0], dtype=torch.float64)
        K = torch.as_tensor(entry_intrinsics(kitti_tiny, entry, tuple(gt.shape)))[None]
        road = road_depth(K.double(), *gt.shape, HEIGHT)[0, 0]
        seen = (gt > 0) & torch.isfinite(road)
        ratio = gt[seen] / road[seen]
        assert (ratio > 1.2).double().mean() < 0.02  # measured: at most 1.7 %
        rows = torch.nonzero(seen)[:, 0]
        bottom = ratio[rows >= int(0.85 * gt.shape[0])]
        assert bottom.median().item() == pytest.approx(1.0, abs=0.02)  # measured 1.000-1.010
