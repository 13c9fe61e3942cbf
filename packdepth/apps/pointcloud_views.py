"""Pictures of point clouds: a bird's-eye and a side view per cloud (matplotlib, Agg, no window).

Both views put the camera's forward axis ``z`` to the right. Bird's-eye: looking down (along
``+y``; camera frame y down), the camera's left (``−x``) up the page; points nearer the viewer
(higher, smaller ``y``) are drawn last. Side: looking from the camera's right (along ``−x``), up
(``−y``) up the page; points with larger ``x`` drawn last. Clouds in a world frame are drawn in
its axes: move them into a camera's frame first (``PointCloud.transformed``) for these names to
hold.
"""

from __future__ import annotations

import os
from collections.abc import Sequence

import numpy as np
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from PIL import Image

from packdepth.apps.pointcloud import PointCloud
from packdepth.io.atomic import atomic_path


def _limits(values: list[np.ndarray], margin: float = 0.05) -> tuple[float, float]:
    """The 1st-99th percentile range of all ``values``, widened by ``margin`` on each side."""
    joined = np.concatenate([v for v in values if len(v)] or [np.zeros(1)])
    lo, hi = np.percentile(joined, [1.0, 99.0])
    pad = margin * max(hi - lo, 1e-3)
    return float(lo - pad), float(hi + pad)


def _subsample(cloud: PointCloud, max_points: int) -> PointCloud:
    if len(cloud) <= max_points:
        return cloud
    keep = np.sort(np.random.default_rng(0).choice(len(cloud), max_points, replace=False))
    return PointCloud(cloud.points[keep], cloud.colors[keep])


def render_views(
    path: str | os.PathLike,
    panels: Sequence[tuple[str, PointCloud]],
    *,
    attribution: str | None = None,
    max_points: int = 60_000,
    width_in: float = 4.2,
    dpi: int = 90,
    units: str = "m",
) -> None:
    """Write a PNG (atomically): one column per ``(title, cloud)``, rows bird's-eye and side.

    Axes are shared across the columns (1st-99th percentile of all points), so the clouds compare
    at a glance. A view much flatter or taller than wide is stretched vertically (the factor is
    in its axis label) and the picture is stored with a 256-colour palette (small files).
    ``attribution`` is printed at the bottom of the figure (a data licence, e.g. "KITTI, CC
    BY-NC-SA 3.0").

    Args:
        panels: titles and clouds (camera frame, see the module docstring).
        max_points: points drawn per cloud (a fixed-seed random subset beyond that).
        units: the coordinates' unit in the axis labels (e.g. "scale-free").
    """
    clouds = [_subsample(c, max_points) for _, c in panels]
    z_lim = _limits([c.points[:, 2] for c in clouds])
    x_lim = _limits([-c.points[:, 0] for c in clouds])
    y_lim = _limits([-c.points[:, 1] for c in clouds])
    span = z_lim[1] - z_lim[0]
    true_ratios = [(x_lim[1] - x_lim[0]) / span, (y_lim[1] - y_lim[0]) / span]
    ratios = [min(max(r, 0.25), 1.2) for r in true_ratios]
    plot_w = width_in - 0.7  # minus the axis labels
    height = plot_w * sum(ratios) + 1.0 + (0.2 if attribution else 0.0)
    fig = Figure(figsize=(width_in * len(panels), height), dpi=dpi, layout="constrained")
    FigureCanvasAgg(fig)
    axes = fig.subplots(2, len(panels), squeeze=False, height_ratios=ratios)
    for col, ((title, _), cloud) in enumerate(zip(panels, clouds)):
        p, rgb = cloud.points, cloud.colors / 255.0
        for row, (order, vertical, v_lim, label) in enumerate((
            (np.argsort(-p[:, 1]), -p[:, 0], x_lim, "bird's-eye: −x (left)"),
            (np.argsort(p[:, 0]), -p[:, 1], y_lim, "side: −y (up)"),
        )):
            ax = axes[row, col]
            ax.scatter(p[order, 2], vertical[order], c=rgb[order], s=0.6, marker="s",
                       linewidths=0, rasterized=True)
            ax.set_xlim(*z_lim)
            ax.set_ylim(*v_lim)
            stretch = ratios[row] / true_ratios[row]
            ax.set_aspect(stretch, adjustable="box")  # 1 = true proportions
            if abs(stretch - 1.0) > 1e-6:
                label += f", ×{stretch:.1f}"
            ax.tick_params(labelsize=7)
            ax.set_ylabel(f"{label} ({units})", fontsize=7)
            if row == 0:
                ax.set_title(f"{title} ({len(panels[col][1]):,} points)", fontsize=8)
            else:
                ax.set_xlabel(f"z forward ({units})", fontsize=7)
    if attribution:
        fig.get_layout_engine().set(rect=(0.0, 0.03, 1.0, 0.97))  # room below the axes
        fig.text(0.99, 0.005, attribution, ha="right", va="bottom", fontsize=7, color="0.3")
    fig.canvas.draw()
    rgba = np.asarray(fig.canvas.buffer_rgba())
    picture = Image.fromarray(rgba[..., :3]).quantize(256, dither=Image.Dither.NONE)
    with atomic_path(path) as tmp:
        picture.save(tmp, format="PNG", optimize=True)
