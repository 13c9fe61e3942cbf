"""A* on occupancy grids (packdepth.apps.astar) against scipy's Dijkstra on an independently built
graph, and the moves it may not make."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy.sparse import lil_matrix
from scipy.sparse.csgraph import dijkstra

from packdepth.apps.astar import farthest_ahead, grid_graph, octile, shortest_path


def _dijkstra_costs(ok: np.ndarray, start: tuple[int, int]) -> np.ndarray:
    """Shortest 8-connected costs from ``start`` with no corner cutting, by scipy, on a graph
    built here cell by cell (no shared code with grid_graph)."""
    rows, cols = ok.shape
    adj = lil_matrix((rows * cols, rows * cols))
    for r in range(rows):
        for c in range(cols):
            if not ok[r, c]:
                continue
            for dr in (-1, 0, 1):
                for dc in (-1, 0, 1):
                    rr, cc = r + dr, c + dc
                    if (dr, dc) == (0, 0) or not (0 <= rr < rows and 0 <= cc < cols):
                        continue
                    if not ok[rr, cc] or (dr and dc and not (ok[r + dr, c] and ok[r, c + dc])):
                        continue
                    adj[r * cols + c, rr * cols + cc] = math.sqrt(2) if dr and dc else 1.0
    costs = dijkstra(adj.tocsr(), indices=start[0] * cols + start[1])
    return costs.reshape(rows, cols)


@pytest.mark.parametrize("seed", range(6))
def test_astar_costs_equal_scipy_dijkstra_on_random_grids(seed: int) -> None:
    rng = np.random.default_rng(seed)
    ok = rng.random((14, 17)) > 0.3
    start = (0, 8)
    ok[start] = True
    truth = _dijkstra_costs(ok, start)
    graph = grid_graph(ok)
    checked = 0
    for goal in zip(*np.nonzero(ok)):
        goal = (int(goal[0]), int(goal[1]))
        path = shortest_path(graph, start, goal)
        if not np.isfinite(truth[goal]):
            assert path is None
            continue
        checked += 1
        assert path.cost == pytest.approx(truth[goal], abs=1e-9)
        assert path.cells[0] == start and path.cells[-1] == goal
        for a, b in zip(path.cells, path.cells[1:]):  # legal moves only
            assert ok[b] and max(abs(a[0] - b[0]), abs(a[1] - b[1])) == 1
            if a[0] != b[0] and a[1] != b[1]:
                assert ok[a[0], b[1]] and ok[b[0], a[1]]
    assert checked > 50


def test_a_wall_with_a_one_cell_gap_is_passed_through_the_gap() -> None:
    ok = np.ones((9, 11), bool)
    ok[4, :] = False
    ok[4, 9] = True  # the gap, far to the right
    path = shortest_path(grid_graph(ok), (0, 1), (8, 1))
    assert (4, 9) in path.cells
    assert all(ok[c] for c in path.cells)
    assert path.cost == pytest.approx(_dijkstra_costs(ok, (0, 1))[8, 1])


def test_no_diagonal_squeeze_between_two_blocked_corners() -> None:
    ok = np.ones((2, 2), bool)
    ok[0, 1] = ok[1, 0] = False  # (0,0) and (1,1) touch only at a corner
    assert shortest_path(grid_graph(ok), (0, 0), (1, 1)) is None
    ok = np.ones((3, 3), bool)
    ok[1, 1] = False  # one blocked corner: the diagonal around it is refused too
    path = shortest_path(grid_graph(ok), (0, 1), (1, 2))
    assert path.cells == [(0, 1), (0, 2), (1, 2)] and path.cost == 2.0


def test_octile_is_the_free_grid_cost_and_farthest_ahead_is_reachable() -> None:
    ok = np.ones((6, 7), bool)
    graph = grid_graph(ok)
    assert shortest_path(graph, (0, 0), (5, 3)).cost == pytest.approx(octile((0, 0), (5, 3)))
    ok[3, :] = False
    ok[3, 0] = True
    graph = grid_graph(ok)
    assert farthest_ahead(graph, (0, 3)) == (5, 3)
    ok[3, 0] = False
    assert farthest_ahead(grid_graph(ok), (0, 3)) == (2, 3)
    assert farthest_ahead(grid_graph(ok), (3, 3)) is None
