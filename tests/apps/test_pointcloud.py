"""Point clouds against exact geometry: a synthetic frame's road lands on the road plane and every
point re-projects onto its pixel; PLY files re-read equal; voxel down-sampling, range filtering and
flying-pixel removal match hand-computed cases."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from packdepth.apps.pointcloud import (
    PointCloud,
    depth_to_cloud,
    flying_pixels,
    read_ply,
    voxel_downsample,
    write_ply,
)
from packdepth.apps.pointcloud_views import render_views
from packdepth.data.synthetic import ClassId, SynthParams, kitti_intrinsics, render_sequence
from packdepth.geometry import project

plyfile = pytest.importorskip("plyfile")


@pytest.fixture(scope="module")
def frame():
    """One synthetic frame whose camera is pitched/rolled by the path's jitter (t = 1 s)."""
    params = SynthParams(height=48, width=160, frames=11, seed=3)
    return list(render_sequence(params))[-1], kitti_intrinsics(48, 160)


def test_road_pixels_land_on_the_road_plane_in_the_world(frame):
    f, K = frame
    cloud = depth_to_cloud(f.depth, K, f.rgb, cam_to_world=f.pose)
    has_depth = f.depth > 0
    assert len(cloud) == has_depth.sum() and (~has_depth).any()  # sky has no points
    road = np.isin(f.semantic[has_depth], [ClassId.ROAD, ClassId.LANE_MARKING])
    assert road.mean() > 0.15
    # the world frame of the synthetic street puts the road surface at y = 1.65 m exactly
    np.testing.assert_allclose(cloud.points[road, 1], 1.65, atol=5e-3)
    assert np.abs(cloud.points[~road, 1] - 1.65).max() > 1.0  # facades, cars, poles stand up
    np.testing.assert_array_equal(cloud.colors, f.rgb[has_depth])


def test_points_reproject_onto_their_pixels(frame):
    f, K = frame
    cloud = depth_to_cloud(f.depth, K)
    rows, cols = np.nonzero(f.depth > 0)
    points = torch.from_numpy(cloud.points.T.astype(np.float64))[None, :, :, None]  # [1,3,N,1]
    pix, z = project(points, torch.from_numpy(K)[None], return_depth=True)
    np.testing.assert_allclose(pix[0, :, 0, 0].numpy(), cols, atol=1e-3)
    np.testing.assert_allclose(pix[0, :, 0, 1].numpy(), rows, atol=1e-3)
    np.testing.assert_allclose(z[0, 0, :, 0].numpy(), f.depth[rows, cols], rtol=1e-6)


def test_ply_round_trip_is_binary_with_float_positions_and_byte_colours(tmp_path: Path):
    rng = np.random.default_rng(0)
    cloud = PointCloud(rng.normal(size=(500, 3)) * 10, rng.integers(0, 256, (500, 3)))
    write_ply(tmp_path / "c.ply", cloud)
    data = plyfile.PlyData.read(str(tmp_path / "c.ply"))
    assert not data.text and data.byte_order == "<"
    vertex = data["vertex"].data
    assert [(n, vertex.dtype[n].str) for n in vertex.dtype.names] == [
        ("x", "<f4"), ("y", "<f4"), ("z", "<f4"), ("red", "|u1"), ("green", "|u1"), ("blue", "|u1")]
    np.testing.assert_array_equal(np.stack([vertex[n] for n in "xyz"], 1), cloud.points)
    back = read_ply(tmp_path / "c.ply")
    np.testing.assert_array_equal(back.points, cloud.points)
    np.testing.assert_array_equal(back.colors, cloud.colors)
    assert [p.name for p in tmp_path.iterdir()] == ["c.ply"]  # no temporary file left


def test_voxel_downsampling_averages_each_occupied_voxel():
    cloud = PointCloud(
        [[0.1, 0.1, 0.1], [0.3, 0.2, 0.4], [0.6, 0.1, 0.1], [-0.1, 0.0, 0.0], [0.2, 0.3, 0.1]],
        [[10, 20, 30], [20, 40, 50], [0, 0, 0], [255, 255, 255], [30, 0, 10]],
    )
    down = voxel_downsample(cloud, 0.5)
    # voxels (-1,0,0), (0,0,0) with three points, (1,0,0), in that (sorted) order
    np.testing.assert_allclose(
        down.points, [[-0.1, 0.0, 0.0], [0.2, 0.2, 0.2], [0.6, 0.1, 0.1]], atol=1e-7)
    np.testing.assert_array_equal(down.colors, [[255, 255, 255], [20, 20, 30], [0, 0, 0]])
    assert len(voxel_downsample(cloud, 0.01)) == 5
    with pytest.raises(ValueError, match="voxel size must be positive"):
        voxel_downsample(cloud, 0.0)


def test_range_filter_keeps_depths_inside_the_closed_interval():
    depth = np.array([[0.0, 0.5, 1.0, 2.0], [5.0, np.nan, np.inf, -1.0]])
    K = np.array([[1.0, 0.0, 1.5], [0.0, 1.0, 0.5], [0.0, 0.0, 1.0]])
    cloud = depth_to_cloud(depth, K, min_depth=1.0, max_depth=2.0)
    np.testing.assert_allclose(cloud.points[:, 2], [1.0, 2.0])
    # pixel (u=2, v=0) at depth 1: x = (2 - 1.5) * 1, y = (0 - 0.5) * 1
    np.testing.assert_allclose(cloud.points[0], [0.5, -0.5, 1.0])
    assert len(depth_to_cloud(depth, K)) == 4  # every finite positive depth


def test_flying_pixels_at_a_step_edge_go_and_flat_areas_stay():
    depth = np.full((6, 10), 2.0)
    depth[:, 5:] = 10.0
    depth[:, 5] = 6.0  # blurred across the edge: floats between the two surfaces
    mask = flying_pixels(depth, 0.1)
    assert mask[:, 4:7].all() and not mask[:, :4].any() and not mask[:, 7:].any()
    # a slanted plane (1 % deeper per row, like a road) and missing depth (0) flag nothing
    slope = 5.0 * 1.01 ** np.arange(40)[:, None] * np.ones((1, 8))
    slope[10:12, 3:5] = 0.0
    assert not flying_pixels(slope, 0.05).any()
    K = np.array([[5.0, 0.0, 4.5], [0.0, 5.0, 2.5], [0.0, 0.0, 1.0]])
    assert len(depth_to_cloud(depth, K, edge_threshold=0.1)) == 6 * 7
    assert len(depth_to_cloud(depth, K)) == 60


def _reprojection_error(world: PointCloud, f, K: np.ndarray) -> float:
    """Median relative difference between world points seen from frame ``f`` and its depth."""
    cam = world.transformed(np.linalg.inv(f.pose)).points.astype(np.float64)
    uvz = cam @ K.T
    z = uvz[:, 2]
    u = np.round(uvz[:, 0] / z).astype(int)
    v = np.round(uvz[:, 1] / z).astype(int)
    h, w = f.depth.shape
    inside = (z > 0) & (u >= 0) & (u < w) & (v >= 0) & (v < h)
    seen = f.depth[v[inside], u[inside]]
    ok = seen > 0
    return float(np.median(np.abs(z[inside][ok] - seen[ok]) / seen[ok]))


def test_fused_frames_agree_with_each_others_depth():
    """Frame 4's points moved to the world with its pose are where frame 0 sees them; moved with
    frame 0's pose (fusion without poses) or the inverse pose they are not."""
    f0, *_, f4 = render_sequence(SynthParams(height=48, width=160, frames=5, seed=3))
    K = kitti_intrinsics(48, 160)
    opts = {"max_depth": 40.0, "edge_threshold": 0.1}
    fused = PointCloud.concatenate([depth_to_cloud(f.depth, K, cam_to_world=f.pose, **opts)
                                    for f in (f0, f4)])
    n0 = int(((f0.depth > 0) & (f0.depth <= 40) & ~flying_pixels(f0.depth, 0.1)).sum())
    world4 = PointCloud(fused.points[n0:], fused.colors[n0:])
    assert _reprojection_error(world4, f0, K) < 0.012  # measured 0.006
    unposed = depth_to_cloud(f4.depth, K, cam_to_world=f0.pose, **opts)
    inverse = depth_to_cloud(f4.depth, K, cam_to_world=np.linalg.inv(f4.pose), **opts)
    assert _reprojection_error(unposed, f0, K) > 0.04  # measured 0.061
    assert _reprojection_error(inverse, f0, K) > 0.04  # measured 0.094


def test_picture_of_views(tmp_path: Path, frame):
    f, K = frame
    cloud = depth_to_cloud(f.depth, K, f.rgb)
    render_views(tmp_path / "v.png", [("a", cloud), ("b", cloud.transformed(np.eye(4)))],
                 attribution="KITTI, CC BY-NC-SA 3.0")
    with Image.open(tmp_path / "v.png") as img:
        arr = np.asarray(img.convert("RGB"))
    assert img.format == "PNG" and arr.shape[1] > arr.shape[0] > 100
    assert arr.std() > 10  # not blank
