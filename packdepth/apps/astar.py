"""Shortest paths on an occupancy grid: A* (Hart, Nilsson & Raphael, 1968) with networkx.

The graph (:func:`grid_graph`): one node ``(row, col)`` per traversable cell, edges to the 8
neighbours, weight 1 straight and √2 diagonal (in cells), and **no corner cutting**: a diagonal
step is allowed only when both cells it passes between are traversable too, so a path never
squeezes between two blocked corners. The search is :func:`networkx.astar_path` with the octile
distance, the exact cost of the obstacle-free 8-connected path, as heuristic: admissible and
consistent, so the path found is a shortest one.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from itertools import pairwise

import networkx as nx
import numpy as np

Cell = tuple[int, int]
#: The 8 moves ``(drow, dcol)`` and their costs (cells).
MOVES = tuple((dr, dc, math.hypot(dr, dc)) for dr in (-1, 0, 1) for dc in (-1, 0, 1)
              if (dr, dc) != (0, 0))


def grid_graph(traversable: np.ndarray) -> nx.Graph:
    """The 8-connected graph of the ``[R,C]`` bool grid's traversable cells (module docstring)."""
    ok = np.asarray(traversable, bool)
    rows, cols = ok.shape
    graph = nx.Graph()
    graph.add_nodes_from(zip(*map(np.ndarray.tolist, np.nonzero(ok))))
    for dr, dc, cost in MOVES:
        if (dr, dc) < (0, 0):  # each undirected edge once
            continue
        r0, r1 = max(0, -dr), rows - max(0, dr)
        c0, c1 = max(0, -dc), cols - max(0, dc)
        both = ok[r0:r1, c0:c1] & ok[r0 + dr : r1 + dr, c0 + dc : c1 + dc]
        if dr and dc:  # no corner cutting
            both &= ok[r0 + dr : r1 + dr, c0:c1] & ok[r0:r1, c0 + dc : c1 + dc]
        r, c = np.nonzero(both)
        r, c = (r + r0).tolist(), (c + c0).tolist()
        graph.add_weighted_edges_from(
            ((a, b), (a + dr, b + dc), cost) for a, b in zip(r, c))
    return graph


def octile(a: Cell, b: Cell) -> float:
    """The octile distance between two cells (in cells): the 8-connected cost without obstacles."""
    dr, dc = abs(a[0] - b[0]), abs(a[1] - b[1])
    return max(dr, dc) + (math.sqrt(2) - 1) * min(dr, dc)


@dataclass(frozen=True)
class GridPath:
    """A path on the grid: ``cells`` from start to goal and its ``cost`` in cells."""

    cells: list[Cell]
    cost: float


def shortest_path(graph: nx.Graph, start: Cell, goal: Cell) -> GridPath | None:
    """The A* path from ``start`` to ``goal`` on a :func:`grid_graph`, or ``None`` when the goal
    cannot be reached (or either cell is not traversable)."""
    if start not in graph or goal not in graph:
        return None
    try:
        cells = nx.astar_path(graph, start, goal, heuristic=octile, weight="weight")
    except nx.NetworkXNoPath:
        return None
    cost = sum(graph.edges[a, b]["weight"] for a, b in pairwise(cells))
    return GridPath([tuple(c) for c in cells], float(cost))


def farthest_ahead(graph: nx.Graph, start: Cell) -> Cell | None:
    """The reachable cell farthest ahead (largest row) of ``start``; of those, the one nearest
    the start's column; ``None`` when ``start`` is not traversable."""
    if start not in graph:
        return None
    reachable = nx.node_connected_component(graph, start)
    return max(reachable, key=lambda c: (c[0], -abs(c[1] - start[1]), -c[1]))
