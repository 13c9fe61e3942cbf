"""Ground-plane scale (packdepth.apps.ground) against the synthetic world's exact geometry."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from packdepth.apps.ground import (
    GroundFit,
    GroundOptions,
    camera_points,
    fit_ground,
    ground_scale,
    median_scale,
)
from packdepth.evaluation.depth import entry_intrinsics, load_gt_depth
from packdepth.evaluation.splits import SplitEntry
from tests.apps.streets import CAMERA_HEIGHT, plane_depth, street, street_K, wall_depth


@pytest.mark.parametrize("seed", [3, 8])
def test_exact_street_depth_gives_the_cameras_height(seed: int) -> None:
    """The renderer puts the camera 1.65 m above its road: the fit finds that height (2 %)."""
    for frame in street(seed):
        fit = ground_scale(frame.depth, street_K(), CAMERA_HEIGHT)
        assert fit.found, fit.reason
        assert fit.height == pytest.approx(CAMERA_HEIGHT, rel=0.02)
        assert fit.scale == pytest.approx(1.0, rel=0.02)
        assert fit.tilt_deg < 3.0  # the camera's own jitter is a fraction of a degree
        assert 0.1 <= fit.inlier_ratio <= 1.0 and fit.inliers <= fit.candidates


def test_depth_scaled_by_0_3_is_rescaled_back() -> None:
    frame = street()[0]
    fit = ground_scale(0.3 * frame.depth, street_K(), CAMERA_HEIGHT)
    assert fit.height == pytest.approx(0.3 * CAMERA_HEIGHT, rel=0.02)
    rescaled = 0.3 * frame.depth * fit.scale
    road = frame.depth > 0
    assert np.median(rescaled[road] / frame.depth[road]) == pytest.approx(1.0, rel=0.02)


def test_the_fitted_normal_is_the_roads_up_direction_in_the_camera_frame() -> None:
    """The world's up (−y of the world, the road's normal) seen from the camera (pose⁻¹)."""
    frame = street()[1]
    up_world = np.array([0.0, -1.0, 0.0])
    up_camera = frame.pose[:3, :3].T @ up_world
    fit = ground_scale(frame.depth, street_K(), CAMERA_HEIGHT)
    assert np.degrees(np.arccos(np.clip(np.dot(fit.normal, up_camera), -1, 1))) < 1.0


def test_a_tilted_plane_is_measured_and_a_steep_one_refused() -> None:
    K = street_K()
    tilt = math.radians(8.0)  # a road pitched 8° towards the camera: still ground
    normal = np.array([0.0, -math.cos(tilt), math.sin(tilt)])
    fit = ground_scale(plane_depth(K, normal, 2.0), K, CAMERA_HEIGHT)
    assert fit.height == pytest.approx(2.0, rel=1e-3) and fit.tilt_deg == pytest.approx(8, abs=0.1)
    steep = math.radians(40.0)  # a slope rising 40° ahead of the camera
    normal = np.array([0.0, -math.cos(steep), -math.sin(steep)])
    fit = ground_scale(plane_depth(K, normal, 2.0), K, CAMERA_HEIGHT)
    assert not fit.found and fit.scale is None and "tilted 40° from horizontal" in fit.reason


def test_a_wall_filling_the_view_gives_no_scale_and_says_why() -> None:
    fit = ground_scale(wall_depth(), street_K(), CAMERA_HEIGHT)
    assert not fit.found and fit.scale is None and fit.height is None
    assert fit.describe().startswith("no ground plane: ") and "\n" not in fit.describe()
    assert "plane tilted 90° from horizontal (a wall" in fit.reason


def test_too_few_ground_pixels_gives_no_scale() -> None:
    depth = np.zeros((48, 160))  # nothing seen (sky)
    depth[-2:, :20] = 5.0
    fit = ground_scale(depth, street_K(), CAMERA_HEIGHT)
    assert not fit.found and "too few points" in fit.reason and fit.candidates == 40


def test_the_fit_is_deterministic_and_takes_tensors() -> None:
    frame = street()[2]
    noisy = frame.depth * np.exp(np.random.default_rng(0).normal(0, 0.05, frame.depth.shape))
    first = ground_scale(noisy, street_K())
    assert ground_scale(noisy, street_K()) == first
    assert ground_scale(torch.from_numpy(noisy), torch.from_numpy(street_K())) == first


def test_camera_points_go_through_backproject_convention() -> None:
    """Pixel (u, v) at depth d is d K⁻¹ (u, v, 1): integer pixel centres (geometry.camera)."""
    K = street_K()
    depth = np.full((48, 160), 2.0)
    pts = camera_points(depth, K)
    row = int(np.rint(K[1, 2]))
    assert pts[row, 0] == pytest.approx(
        [2.0 * (0 - K[0, 2]) / K[0, 0], 2.0 * (row - K[1, 2]) / K[1, 1], 2.0])
    with pytest.raises(ValueError):
        camera_points(depth[None], K)


def test_median_scale_skips_frames_without_a_plane() -> None:
    found = [GroundFit(1.65, h, (0.0, -1.0, 0.0), 500, 1000) for h in (0.5, 0.55, 0.6)]
    none = GroundFit(1.65, None, None, 0, 10, "too few points")
    assert median_scale([*found, none]) == pytest.approx(1.65 / 0.55)
    assert median_scale([none]) is None
    with pytest.raises(ValueError):
        fit_ground(np.zeros((10, 3)), camera_height=-1.0)
    assert GroundOptions().seed == 0


def test_kitti_velodyne_depth_puts_the_camera_1_65_m_above_the_road(kitti_tiny) -> None:
    """Real roads: the fit on KITTI's Velodyne depth finds the published camera height (1.65 m,
    Geiger et al. 2013) within 3 % in every scanned frame of kitti_tiny."""
    for index in range(0, 40, 4):
        entry = SplitEntry("2011_09_26/2011_09_26_drive_9999_sync", index)
        depth, _ = load_gt_depth(kitti_tiny, entry)
        fit = ground_scale(depth, entry_intrinsics(kitti_tiny, entry, depth.shape))
        assert fit.found and fit.height == pytest.approx(CAMERA_HEIGHT, rel=0.03), fit.describe()
        assert fit.tilt_deg < 2.0
