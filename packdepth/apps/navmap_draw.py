"""Pictures of a :class:`~packdepth.apps.navmap.NavMap` and its route (matplotlib, Agg).

Left: the image (or the depth's colours when the image is not at hand) with the obstacle pixels
tinted red and the route projected back into it on the ground (:func:`packdepth.geometry.project`
through :meth:`NavMap.project`). Right: the bird's-eye grid, forward up, lateral right, in metres:
free light, unknown grey, occupied black, within the robot's radius of an obstacle pink; the
route in blue from the camera (triangle) to the goal (star).
"""

from __future__ import annotations

import numpy as np
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.colors import ListedColormap
from matplotlib.figure import Figure

from packdepth.apps.navmap import FREE, OCCUPIED, UNKNOWN, GridSpec, NavMap
from packdepth.apps.route import Route

#: Display values of the bird's-eye picture: unknown, free, inflated free, occupied.
_SHOWN = ListedColormap(["#9a9a9a", "#f4f4f0", "#f2b8c6", "#111111"])
_ROUTE = "#1f5fd6"
PANEL_HEIGHT_IN, DPI = 2.8, 100


def _shown(nav: NavMap | None, spec: GridSpec) -> np.ndarray:
    if nav is None:
        return np.zeros(spec.shape)
    shown = np.select([nav.state == OCCUPIED, (nav.state == FREE) & nav.inflated,
                       nav.state == FREE, nav.state == UNKNOWN], [3, 2, 1, 0])
    return shown.astype(np.float64)


def _image_panel(ax, nav: NavMap | None, route: Route | None, picture: np.ndarray) -> None:
    h, w = picture.shape[:2]
    shown = picture.astype(np.float64) / 255.0
    if nav is not None and nav.obstacle_pixels is not None:
        tint = nav.obstacle_pixels[..., None]
        shown = np.where(tint, 0.55 * shown + 0.45 * np.array([1.0, 0.1, 0.1]), shown)
    ax.imshow(shown, extent=(-0.5, w - 0.5, h - 0.5, -0.5), interpolation="nearest")
    if nav is not None and route is not None and len(route.points):
        pix, ahead = nav.project(route.points[:, 0], route.points[:, 1])
        pix = pix[ahead]
        ax.plot(pix[:, 0], pix[:, 1], color=_ROUTE, lw=2.0)
        if ahead[-1]:
            ax.plot(*pix[-1], marker="*", ms=11, color=_ROUTE, mec="white", mew=0.8)
    ax.set_xlim(-0.5, w - 0.5)
    ax.set_ylim(h - 0.5, -0.5)
    ax.set_axis_off()


def _grid_panel(ax, nav: NavMap | None, spec: GridSpec, route: Route | None) -> None:
    rows, cols = spec.shape
    half = (cols / 2) * spec.cell
    ax.imshow(_shown(nav, spec), cmap=_SHOWN, vmin=0, vmax=3, origin="lower",
              extent=(-half, half, 0.0, rows * spec.cell), interpolation="nearest")
    ax.plot(0.0, 0.0, marker="^", ms=9, color=_ROUTE, mec="white", mew=0.8, clip_on=False)
    if route is not None:
        ax.plot(route.points[:, 0], route.points[:, 1], color=_ROUTE, lw=1.8)
        ax.plot(*route.points[-1], marker="*", ms=11, color=_ROUTE, mec="white", mew=0.8)
    ax.set_xlabel("x (m, right)", fontsize=7)
    ax.set_ylabel("z (m, ahead)", fontsize=7)
    ax.tick_params(labelsize=6)


def draw_navmap(nav: NavMap | None, route: Route | None, picture: np.ndarray, *,
                spec: GridSpec | None = None, title: str = "", note: str | None = None,
                credit: str | None = None) -> np.ndarray:
    """The picture of a map (module docstring).

    Args:
        nav: the occupancy grid, or ``None`` (no map: an all-unknown grid of ``spec``).
        route: the route to draw, or ``None`` (e.g. none found: say why in ``note``).
        picture: ``[H,W,3]`` uint8 at the depth map's size: the image, or depth colours.
        spec: the grid of an absent ``nav`` (default: ``nav.spec``).
        title: above the picture.
        note: a line drawn over the grid panel (e.g. why there is no route).
        credit: small print at the bottom (e.g. the data's licence).

    Returns:
        ``[h,w,3]`` uint8 RGB; the same size for every map of one grid and image size.
    """
    spec = nav.spec if nav is not None else spec
    h, w = picture.shape[:2]
    rows, cols = spec.shape
    widths = (PANEL_HEIGHT_IN * w / h, PANEL_HEIGHT_IN * cols / rows)
    left, gap, right, bottom, top = 0.1, 0.75, 0.15, 0.55, 0.3  # margins, inches
    fig_w, fig_h = left + sum(widths) + gap + right, bottom + PANEL_HEIGHT_IN + top
    fig = Figure(figsize=(fig_w, fig_h), dpi=DPI)
    FigureCanvasAgg(fig)
    grid = fig.add_gridspec(1, 2, width_ratios=widths, left=left / fig_w,
                            right=1 - right / fig_w, bottom=bottom / fig_h, top=1 - top / fig_h,
                            wspace=gap / (sum(widths) / 2))
    _image_panel(fig.add_subplot(grid[0]), nav, route, picture)
    ax = fig.add_subplot(grid[1])
    _grid_panel(ax, nav, spec, route)
    if note:
        ax.text(0.5, 0.5, note, transform=ax.transAxes, ha="center", va="center", fontsize=7,
                wrap=True, bbox={"fc": "white", "ec": "#c00", "alpha": 0.9})
    if title:
        fig.suptitle(title, fontsize=8, x=left / fig_w, ha="left")
    if credit:
        fig.text(left / fig_w, 0.02, credit, fontsize=6, color="#444")
    fig.canvas.draw()
    return np.asarray(fig.canvas.buffer_rgba())[..., :3].copy()
