"""A route on a :class:`~packdepth.apps.navmap.NavMap`: from the camera's cell to a goal given in
metres, or to the farthest reachable free cell ahead, by A* (:mod:`packdepth.apps.astar`)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from packdepth.apps.astar import Cell, farthest_ahead, grid_graph, shortest_path
from packdepth.apps.navmap import OCCUPIED, STATE_NAMES, NavMap
from packdepth.errors import PackdepthError


class NoRoute(PackdepthError):
    """No route to the goal (one line saying why)."""


@dataclass(frozen=True)
class Route:
    """A route in the ground frame.

    Attributes:
        cells: ``(row, col)`` grid cells from the camera's to the goal's.
        points: ``[N,2]`` cell centres ``(x right, z ahead)`` in metres; the first is the camera's
            cell.
        length: metres along the path (8-connected, cell centre to cell centre).
        goal: the goal ``(x, z)`` in metres as asked for, or the chosen cell's centre.
        chosen: the goal was chosen (the farthest reachable cell ahead), not given.
    """

    cells: list[Cell]
    points: np.ndarray
    length: float
    goal: tuple[float, float]
    chosen: bool

    def as_dict(self) -> dict:
        """JSON-ready: ``path_m`` ``[[x, z], ...]`` metres, ``length_m``, ``goal_m``, ``cells``."""
        return {"path_m": [[round(float(x), 4), round(float(z), 4)] for x, z in self.points],
                "length_m": self.length, "goal_m": list(self.goal), "goal_chosen": self.chosen,
                "cells": [list(c) for c in self.cells]}


def _cell_name(nav: NavMap, cell: Cell) -> str:
    if nav.inflated[cell] and nav.state[cell] != OCCUPIED:
        return "within the robot's radius of an obstacle"
    return STATE_NAMES[int(nav.state[cell])]


def plan_route(nav: NavMap, goal: tuple[float, float] | None = None) -> Route:
    """The shortest route from the camera's cell (row 0, centre column) to ``goal``.

    Args:
        nav: the occupancy grid.
        goal: ``(x, z)`` metres (x right, z ahead, on the ground); ``None``: the reachable free
            cell farthest ahead (nearest the camera's column among equals).

    Returns:
        A :class:`Route`.

    Raises:
        NoRoute: the camera's cell is not traversable, the goal lies outside the grid or in a cell
            that is not traversable, or it cannot be reached.
    """
    spec = nav.spec
    start = (0, spec.centre)
    graph = grid_graph(nav.traversable)
    if start not in graph:
        raise NoRoute(f"the camera's own cell is not traversable ({_cell_name(nav, start)})")
    if goal is None:
        target = farthest_ahead(graph, start)
        if target == start:
            raise NoRoute("no free cell reachable ahead of the camera")
    else:
        rows, cols, inside = spec.cell_of(np.array([goal[0]]), np.array([goal[1]]))
        if not inside[0]:
            raise NoRoute(f"goal ({goal[0]:g}, {goal[1]:g}) m lies outside the map "
                          f"(x within ±{spec.lateral:g} m, z within 0-{spec.forward:g} m)")
        target = (int(rows[0]), int(cols[0]))
        if target not in graph:
            raise NoRoute(f"goal ({goal[0]:g}, {goal[1]:g}) m is unreachable: its cell is "
                          f"{_cell_name(nav, target)}")
    path = shortest_path(graph, start, target)
    if path is None:
        raise NoRoute(f"goal ({goal[0]:g}, {goal[1]:g}) m is unreachable: obstacles or unseen "
                      "space cut it off from the camera")
    x, z = spec.centres()
    points = np.array([[x[c], z[c]] for c in path.cells])
    chosen = goal is None
    return Route(path.cells, points, path.cost * spec.cell,
                 (float(x[target]), float(z[target])) if chosen else tuple(map(float, goal)),
                 chosen)
