"""Building blocks of the synthetic world against hand-computed values: ray-primitive hits, culling,
road coordinates, the camera path and the procedural textures."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from packdepth.data.synthetic import build_world, kitti_intrinsics
from packdepth.data.synthetic.camera_path import CameraPath
from packdepth.data.synthetic.primitives import Kind
from packdepth.data.synthetic.raycast import RayGrid, cast, hit_box, hit_cylinder, hit_ground
from packdepth.data.synthetic.road import Road
from packdepth.data.synthetic.textures import NoiseTable, box_band, fbm, pulses, value_noise


def _rays(*directions: tuple[float, float, float]) -> tuple[torch.Tensor, ...]:
    d = torch.tensor(directions, dtype=torch.float32)
    return d[:, 0], d[:, 1], d[:, 2]


def test_box_hits_match_hand_computed_depths():
    o = np.zeros(3)
    d = _rays((0, 0, 1), (0.5, 0, 1), (0, 0, -1), (0.05, 0, 1))
    t = hit_box(o, d, np.array([0.0, 0.0, 10.0]), 0.0, np.array([1.0, 1.0, 1.0]))
    assert t[0] == pytest.approx(9.0)
    assert torch.isinf(t[1]) and torch.isinf(t[2])  # misses to the side, box behind
    assert t[3] == pytest.approx(9.0)
    # rotated 45 degrees about y: the straight-ahead ray meets the vertical edge at 10 - sqrt(2)
    t = hit_box(o, d, np.array([0.0, 0.0, 10.0]), np.pi / 4, np.array([1.0, 1.0, 1.0]))
    assert t[0] == pytest.approx(10.0 - np.sqrt(2.0), abs=1e-5)


def test_cylinder_side_and_cap_hits():
    d = _rays((0, 0, 1), (0, 1, 0), (0.0, 0.2, 1.0), (0.3, 0, 1))
    center = np.array([0.0, 0.0, 10.0])
    t = hit_cylinder(np.zeros(3), d, center, 1.0, 1.0)
    assert t[0] == pytest.approx(9.0)
    # ray (0, 0.2, 1) passes y = 1.8 at z = 9: above the side's y-range (|y| <= 1): no hit
    assert torch.isinf(t[2]) and torch.isinf(t[3]) and torch.isinf(t[1])
    # from above (y = -5, y points down) looking down onto the top cap at y = -1
    t = hit_cylinder(np.array([0.0, -5.0, 10.0]), d, center, 1.0, 1.0)
    assert t[1] == pytest.approx(4.0)


def test_ground_hit_is_the_plane_depth():
    t = hit_ground(np.zeros(3), _rays((0, 0.5, 1), (0, -0.1, 1), (0.2, 0.25, 1)), 1.65)
    assert t[0] == pytest.approx(3.3)
    assert torch.isinf(t[1])
    assert t[2] == pytest.approx(6.6)


def test_screen_space_culling_changes_nothing():
    """Bounding-rectangle culling is an optimisation only: same depths and ids as brute force."""
    world = build_world(4, 0, 3.0, dynamic=True)
    K = kitti_intrinsics(24, 80)
    grid = RayGrid.half_pixel(K, 24, 80)
    for t in (0.0, 2.0):
        prims, pose = world.primitives_at(t), world.path.pose(t)
        fast = cast(prims, pose, K, grid, 80.0, world.camera_height)
        slow = cast(prims, pose, K, grid, 80.0, world.camera_height, cull=False)
        assert torch.equal(fast[1], slow[1])
        assert torch.equal(fast[0], slow[0])
        assert (fast[1] >= 0).float().mean() > 0.5


def _curvy_road() -> Road:
    return Road(3.5, 2.2, 3.0, 0.14, (7.6, -2.7), (2 * np.pi / 300, 2 * np.pi / 180), 400.0)


def test_road_coordinates_invert_the_centreline():
    road = _curvy_road()
    assert road.max_curvature > 1 / 155  # as curved as the generated streets get
    s = np.linspace(0.0, 300.0, 25)
    for lateral in (-9.0, -1.75, 0.0, 4.0, 12.0):
        x, z, _ = road.frame_at(s, lateral)
        lat, along = road.road_coords(torch.from_numpy(x), torch.from_numpy(z))
        np.testing.assert_allclose(lat.numpy(), lateral, atol=1e-3)
        np.testing.assert_allclose(along.numpy(), road.z_at(s), atol=1e-3)
    # arc length: consecutive points 12.5 m apart along the curve
    x, z, _ = road.frame_at(np.linspace(0.0, 300.0, 241), 0.0)
    np.testing.assert_allclose(np.hypot(np.diff(x), np.diff(z)), 1.25, rtol=1e-4)


@pytest.mark.parametrize("seed", [0, 1, 2, 3])
def test_camera_path_is_kitti_like(seed):
    road = _curvy_road()
    path = CameraPath.random(np.random.default_rng(seed), road, 1.65)
    poses = np.stack([path.pose(t) for t in np.arange(0, 10, 0.1)])
    np.testing.assert_allclose(poses[0, :3, 3], 0.0, atol=1e-9)  # world origin: first camera
    R = poses[:, :3, :3]
    np.testing.assert_allclose(R @ R.transpose(0, 2, 1), np.broadcast_to(np.eye(3), R.shape),
                               atol=1e-12)
    np.testing.assert_allclose(poses[:, 1, 3], 0.0, atol=1e-12)  # always 1.65 m above the road
    speeds = np.array([path.speed(t) for t in np.arange(0, 10, 0.1)])
    assert speeds.min() >= 4.9 and speeds.max() <= 15.1
    step = np.linalg.norm(np.diff(poses[:, :3, 3], axis=0), axis=1)
    np.testing.assert_allclose(step, 0.05 * (speeds[1:] + speeds[:-1]), rtol=0.01)
    # pitch (camera z vs horizontal) and roll stay below 1.5 degrees
    forward_y, right_y = R[:, 1, 2], R[:, 1, 0]
    assert np.degrees(np.abs(np.arcsin(forward_y))).max() < 1.5
    assert np.degrees(np.abs(np.arcsin(right_y))).max() < 1.5
    assert np.degrees(np.abs(np.arcsin(forward_y))).max() > 0.05  # but there is jitter


def test_value_noise_interpolates_the_lattice():
    table = NoiseTable.from_rng(np.random.default_rng(0))
    ia, ib = torch.tensor([0, 3, -2, 300]), torch.tensor([0, 7, 5, -1])
    np.testing.assert_allclose(value_noise(table, ia.float(), ib.float()), table.lattice(ia, ib))
    # wraps every 256 cells
    assert table.lattice(torch.tensor([300]), torch.tensor([-1])) == table.lattice(
        torch.tensor([44]), torch.tensor([255]))
    x = torch.linspace(0, 50, 20001)
    n = value_noise(table, x, 0.37 * x)
    assert n.min() >= 0 and n.max() < 1
    assert (n[1:] - n[:-1]).abs().max() < 0.01  # continuous


def test_fbm_fades_to_its_mean_beyond_the_pixel_footprint():
    table = NoiseTable.from_rng(np.random.default_rng(1))
    a = torch.linspace(0, 100, 5000)
    b = torch.sin(a) * 30
    sharp = fbm(table, a, b, torch.full_like(a, 1e-3), 0.5, 6)
    coarse = fbm(table, a, b, torch.full_like(a, 0.5), 0.5, 6)  # only the 0.5 c/m octave stays
    blurred = fbm(table, a, b, torch.full_like(a, 2.0), 0.5, 6)  # all octaves too fine
    assert sharp.std() > 0.05
    assert 0.0 < coarse.std() < sharp.std()
    np.testing.assert_allclose(blurred, 0.5)
    # the same samples in another order (and mixed footprints) give the same values
    perm = torch.randperm(5000)
    fp = torch.rand(5000) * 0.2
    np.testing.assert_allclose(fbm(table, a, b, fp, 0.5, 6)[perm],
                               fbm(table, a[perm], b[perm], fp[perm], 0.5, 6), atol=1e-6)


def test_box_band_is_a_box_filtered_indicator():
    x = torch.tensor([0.0, 0.5, 1.0, 0.25, 0.0])
    fp = torch.tensor([1.0, 1.0, 1.0, 1.0, 10.0])
    # |x| < 0.5 seen through a 1-wide box filter: full inside, half on the edge, none outside;
    # a band 1 wide seen through a 10-wide filter covers 10% of it
    np.testing.assert_allclose(box_band(x, 0.5, fp), [1.0, 0.5, 0.0, 0.75, 0.1], atol=1e-6)


def test_pulses_keep_their_duty_cycle():
    x = torch.linspace(0, 30, 300001)
    sharp = pulses(x, 3.0, 0.5, 0.3, torch.full_like(x, 0.01))
    assert sharp.mean() == pytest.approx(0.2, abs=2e-3)  # 0.6 / 3.0
    assert sharp[(x - 0.5).abs() < 0.2].min() == pytest.approx(1.0)
    far = pulses(x, 3.0, 0.5, 0.3, torch.full_like(x, 2.0))  # period < 2 footprints: mean only
    np.testing.assert_allclose(far, 0.2, atol=1e-6)


def test_world_kinds_and_ground():
    world = build_world(0, 0, 5.0)
    assert (world.static.kind == Kind.GROUND).sum() == 1
    assert {Kind.BOX, Kind.CYLINDER} <= set(world.static.kind.tolist())
    assert len(world.primitives_at(1.0)) == len(world.static)  # static world: no traffic
