"""Occupancy grids (packdepth.apps.navmap) against hand-made scenes and the synthetic world's
labels, and routes on them."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from packdepth.apps.ground import ground_scale
from packdepth.apps.navmap import (
    FREE,
    OCCUPIED,
    UNKNOWN,
    GridSpec,
    GroundFrame,
    NavOptions,
    build_navmap,
)
from packdepth.apps.navmap_eval import occupancy_scores
from packdepth.apps.route import NoRoute, plan_route
from tests.apps.streets import CAMERA_HEIGHT, H, W, street, street_K

GRID = GridSpec(cell=0.2, forward=16.0, lateral=6.0)


def box_scene(K: np.ndarray, wall: tuple[float, float, float, float] = (-1.0, 1.0, 8.0, 1.5)
              ) -> np.ndarray:
    """Depth of flat ground 1.65 m below a level camera and a fronto-parallel board standing on
    it: ``x`` from ``x0`` to ``x1``, at ``z``, ``top`` metres high (ray cast here)."""
    x0, x1, z, top = wall
    v, u = np.mgrid[0:H, 0:W].astype(np.float64)
    rx, ry = (u - K[0, 2]) / K[0, 0], (v - K[1, 2]) / K[1, 1]  # ray (rx, ry, 1)
    ground = np.where(ry > 0, CAMERA_HEIGHT / np.where(ry > 0, ry, 1.0), 0.0)
    y_at_board = ry * z  # y down: the board spans y in [CAMERA_HEIGHT - top, CAMERA_HEIGHT]
    hits = (rx * z >= x0) & (rx * z <= x1) & (y_at_board >= CAMERA_HEIGHT - top) & (
        y_at_board <= CAMERA_HEIGHT)
    return np.where(hits & ((ground == 0) | (ground > z)), z, ground)


def _cell(x: float, z: float) -> tuple[int, int]:
    rows, cols, _ = GRID.cell_of(np.array([x]), np.array([z]))
    return int(rows[0]), int(cols[0])


@pytest.fixture(scope="module")
def box_map():
    K = street_K()
    depth = box_scene(K)
    fit = ground_scale(0.5 * depth, K, CAMERA_HEIGHT)  # relative depth, scaled by the plane
    return build_navmap(0.5 * depth, K, fit, fit.scale, NavOptions(GRID, robot_radius=0.4))


def test_a_board_on_flat_ground_is_occupied_hidden_ground_unknown_seen_ground_free(box_map):
    state = box_map.state
    for x in (-0.8, 0.0, 0.8):
        assert state[_cell(x, 8.05)] == OCCUPIED
    assert state[_cell(0.0, 11.0)] == UNKNOWN  # behind the board
    assert state[_cell(0.0, 7.0)] == FREE and state[_cell(2.5, 10.0)] == FREE
    assert state[_cell(0.0, 1.0)] == FREE  # below the image: the blind zone, taken as free
    assert state[_cell(5.5, 1.0)] == UNKNOWN  # outside the field of view
    assert (state == OCCUPIED).sum() == ((state == OCCUPIED) & (np.abs(
        GRID.centres()[1] - 8.0) < 0.3)).sum()  # nothing else is an obstacle
    # inflation: free cells within 0.4 m of the board, not beyond
    assert box_map.inflated[_cell(0.0, 7.7)] and not box_map.inflated[_cell(0.0, 7.3)]
    assert box_map.inflated[_cell(1.35, 8.05)] and not box_map.inflated[_cell(1.75, 8.05)]


def test_routes_go_around_the_board_and_not_into_the_unseen(box_map):
    route = plan_route(box_map, goal=(1.7, 10.0))  # seen past the board's right end
    assert route.cells[0] == (0, GRID.centre) and route.cells[-1] == _cell(1.7, 10.0)
    at_board = route.points[np.abs(route.points[:, 1] - 8.1) < 0.11, 0]
    assert at_board.size and at_board.min() > 1.0 + 0.4  # past the end, keeping the radius
    assert all(box_map.traversable[c] for c in route.cells)
    assert route.length > np.hypot(1.7, 10.0) - 0.2 and not route.chosen
    with pytest.raises(NoRoute, match="unreachable: its cell is unknown"):
        plan_route(box_map, goal=(0.0, 11.0))
    with pytest.raises(NoRoute, match="outside the map"):
        plan_route(box_map, goal=(0.0, 30.0))
    far = plan_route(box_map)
    assert far.chosen and far.points[-1, 1] == GRID.centres()[1].max()


def test_the_route_projected_into_the_image_lies_on_the_ground(box_map):
    """geometry.project of a ground position, then backproject at the seen depth, gives it back."""
    route = plan_route(box_map, goal=(1.7, 10.0))
    pix, ahead = box_map.project(route.points[:, 0], route.points[:, 1])
    inside = ahead & (pix[:, 1] < H - 0.5)
    assert inside.sum() > 10
    K = torch.from_numpy(street_K())
    depth = torch.from_numpy(box_map.frame.to_camera(route.points[inside, 0],
                                                     route.points[inside, 1])[:, 2])
    u, v = torch.from_numpy(pix[inside, 0]), torch.from_numpy(pix[inside, 1])
    rays = torch.linalg.inv(K) @ torch.stack([u, v, torch.ones_like(u)])
    back = (rays * depth).T.numpy()
    ground = box_map.frame.to_ground(back)
    assert np.allclose(ground[:, 1], 0.0, atol=0.05)  # on the ground
    assert np.allclose(ground[:, [0, 2]], route.points[inside], atol=0.05)


@pytest.mark.parametrize("seed", [3, 8])
def test_occupancy_of_exact_street_depth_against_the_labels(seed: int) -> None:
    """Vehicles, poles and buildings (labels) occupied, road free; the truth's ground frame is
    the camera's pose in the world, not the fit."""
    scores = []
    for frame in street(seed):
        K = street_K()
        fit = ground_scale(0.3 * frame.depth, K, CAMERA_HEIGHT)
        nav = build_navmap(0.3 * frame.depth, K, fit, fit.scale)
        truth = GroundFrame.from_normal(frame.pose[:3, :3].T @ [0.0, -1.0, 0.0], CAMERA_HEIGHT)
        scores.append(occupancy_scores(nav, truth, frame.depth, K, frame.semantic))
        mirrored = occupancy_scores(nav, truth, frame.depth[:, ::-1], K, frame.semantic[:, ::-1])
        assert mirrored.precision < scores[-1].precision - 0.2  # the measure can tell
    precision = np.mean([s.precision for s in scores])
    recall = np.mean([s.recall for s in scores])
    print(f"seed {seed}: precision {precision:.3f}, recall {recall:.3f}")
    assert precision >= 0.85 and recall >= 0.8
    assert min(s.road_free for s in scores) >= 0.99
    assert max(s.road_occupied for s in scores) <= 0.01
    assert min(s.obstacle_cells for s in scores) >= 30


def test_grid_spec_layout() -> None:
    spec = GridSpec(0.5, 10.0, 3.0)
    assert spec.shape == (20, 13) and spec.centre == 6
    rows, cols, inside = spec.cell_of(np.array([0.0, -3.0, 3.3, 0.1]),
                                      np.array([0.1, 9.9, 1.0, -0.1]))
    assert rows.tolist()[:2] == [0, 19] and cols.tolist()[:2] == [6, 0]
    assert inside.tolist() == [True, True, False, False]
    x, z = spec.centres()
    assert x[0, 6] == 0.0 and z[0, 0] == 0.25 and x[0, 0] == -3.0
    with pytest.raises(ValueError):
        GridSpec(0.0)
