"""Coloured point clouds from depth maps: back-projection, filters, voxel down-sampling, PLY files.

Points are lifted with :func:`packdepth.geometry.backproject` (pixel centres at integer
coordinates, camera x right / y down / z forward, :mod:`packdepth.geometry.camera`), in the
depth's units: metres for metric depth, else metres times one unknown factor.

Flying pixels: a depth network (and any upsampled or filtered depth map) blurs depth across
occlusion boundaries, so pixels there land in the empty space between foreground and background.
ZoeDepth's image-to-3D demo drops pixels whose depth gradient exceeds a threshold
(``depth_edges_mask`` in isl-org/ZoeDepth ``ui/gradio_im_to_3d.py``, ``|∇d| > 0.05`` on metric
depth); :func:`flying_pixels` uses the relative form, which does not depend on the depth's scale:
a pixel goes when its depth and a 4-neighbour's differ by more than ``threshold`` times the
smaller of the two (both sides of a discontinuity go).

PLY files are binary little-endian with ``x, y, z`` float32 and ``red, green, blue`` uchar per
vertex (written with ``plyfile``; readable by Open3D, MeshLab, CloudCompare).
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from packdepth.errors import PackdepthError
from packdepth.geometry import backproject
from packdepth.io.atomic import atomic_path
from packdepth.io.viz import colorize_depth

PLY_DTYPE = np.dtype([("x", "<f4"), ("y", "<f4"), ("z", "<f4"),
                      ("red", "u1"), ("green", "u1"), ("blue", "u1")])


def _apply(T: np.ndarray, points: np.ndarray) -> np.ndarray:
    """``R p + t`` for ``[N,3]`` points and a ``[4,4]`` transform, in float64."""
    T = np.asarray(T, dtype=np.float64)
    return np.asarray(points, dtype=np.float64) @ T[:3, :3].T + T[:3, 3]


@dataclass
class PointCloud:
    """Points and their colours.

    Attributes:
        points: ``[N,3]`` float32 positions (metres, or the depth's units).
        colors: ``[N,3]`` uint8 RGB.
    """

    points: np.ndarray
    colors: np.ndarray

    def __post_init__(self) -> None:
        self.points = np.asarray(self.points, dtype=np.float32).reshape(-1, 3)
        self.colors = np.asarray(self.colors, dtype=np.uint8).reshape(-1, 3)
        if len(self.points) != len(self.colors):
            raise ValueError(f"{len(self.points)} points but {len(self.colors)} colours")

    def __len__(self) -> int:
        return len(self.points)

    def transformed(self, T: np.ndarray) -> PointCloud:
        """The cloud moved by a rigid ``[4,4]`` transform (``R p + t``, computed in float64)."""
        return PointCloud(_apply(T, self.points), self.colors)

    @classmethod
    def concatenate(cls, clouds: Sequence[PointCloud]) -> PointCloud:
        """All points of ``clouds`` in one cloud."""
        if not clouds:
            return cls(np.zeros((0, 3)), np.zeros((0, 3)))
        return cls(np.concatenate([c.points for c in clouds]),
                   np.concatenate([c.colors for c in clouds]))


def flying_pixels(depth: np.ndarray, threshold: float) -> np.ndarray:
    """Pixels at depth discontinuities (see the module docstring).

    Args:
        depth: ``[H,W]``; pixels that are 0, negative or not finite have no depth and are never
            compared.
        threshold: relative difference, e.g. ``0.1`` = 10 %.

    Returns:
        ``[H,W]`` bool, True where ``|d_p − d_q| > threshold · min(d_p, d_q)`` for a
        4-neighbour ``q`` with depth.
    """
    d = np.asarray(depth, dtype=np.float64)
    valid = np.isfinite(d) & (d > 0)
    d = np.where(valid, d, 0.0)
    mask = np.zeros(d.shape, dtype=bool)
    for a, b, va, vb, ma, mb in (
        (d[:, :-1], d[:, 1:], valid[:, :-1], valid[:, 1:], mask[:, :-1], mask[:, 1:]),
        (d[:-1], d[1:], valid[:-1], valid[1:], mask[:-1], mask[1:]),
    ):
        jump = va & vb & (np.abs(a - b) > threshold * np.minimum(a, b))
        ma |= jump  # views into mask
        mb |= jump
    return mask


def depth_to_cloud(
    depth: np.ndarray,
    K: np.ndarray,
    image: np.ndarray | None = None,
    *,
    min_depth: float = 0.0,
    max_depth: float = float("inf"),
    edge_threshold: float = 0.0,
    cam_to_world: np.ndarray | None = None,
) -> PointCloud:
    """Back-project a depth map into a coloured point cloud.

    Args:
        depth: ``[H,W]`` depth (z along the optical axis); 0, negative and non-finite = none.
        K: ``[3,3]`` intrinsics of the depth map's pixels.
        image: ``[H,W,3]`` uint8 colours of the same pixels; ``None`` colours by inverse depth.
        min_depth, max_depth: keep ``min_depth <= depth <= max_depth``.
        edge_threshold: drop :func:`flying_pixels` at this relative jump; 0 = keep them.
        cam_to_world: ``[4,4]`` camera-to-world pose applied to the points (fusion).

    Returns:
        the cloud of the kept pixels, in row-major pixel order.

    Raises:
        ValueError: ``depth`` not ``[H,W]``, ``image`` not ``[H,W,3]``, ``K`` not ``[3,3]``.
    """
    depth = np.asarray(depth, dtype=np.float64)
    K = np.asarray(K, dtype=np.float64)
    if depth.ndim != 2:
        raise ValueError(f"depth must be [H,W], got {depth.shape}")
    if K.shape != (3, 3):
        raise ValueError(f"K must be [3,3], got {K.shape}")
    if image is None:
        image = colorize_depth(depth)
    image = np.asarray(image)
    if image.shape != (*depth.shape, 3):
        raise ValueError(f"image must be [H,W,3] = {(*depth.shape, 3)}, got {image.shape}")
    keep = np.isfinite(depth) & (depth > 0) & (depth >= min_depth) & (depth <= max_depth)
    if edge_threshold > 0:
        keep &= ~flying_pixels(depth, edge_threshold)
    K_inv = torch.from_numpy(np.linalg.inv(K))[None]
    grid = backproject(torch.from_numpy(np.where(keep, depth, 0.0))[None, None], K_inv)
    points = grid[0].permute(1, 2, 0).numpy()[keep]
    if cam_to_world is not None:
        points = _apply(cam_to_world, points)
    return PointCloud(points, image[keep])


def voxel_downsample(cloud: PointCloud, voxel: float) -> PointCloud:
    """One point per occupied ``voxel``-sized cube: the mean position and mean colour of its
    points (colours rounded). Cubes are aligned to the origin: ``floor(p / voxel)``.

    Raises:
        ValueError: ``voxel <= 0``.
    """
    if not voxel > 0:
        raise ValueError(f"voxel size must be positive, got {voxel}")
    if len(cloud) == 0:
        return cloud
    points = cloud.points.astype(np.float64)
    keys = np.floor(points / voxel).astype(np.int64)
    _, inverse, counts = np.unique(keys, axis=0, return_inverse=True, return_counts=True)
    inverse = inverse.reshape(-1)

    def mean(values: np.ndarray) -> np.ndarray:
        return np.stack([np.bincount(inverse, values[:, i]) for i in range(3)], 1) / counts[:, None]

    colors = np.clip(np.round(mean(cloud.colors.astype(np.float64))), 0, 255)
    return PointCloud(mean(points), colors.astype(np.uint8))


def _plyfile():
    try:
        import plyfile
    except ImportError:
        raise PackdepthError(
            "PLY files need plyfile: pip install 'packdepth[pointcloud]'") from None
    return plyfile


def write_ply(path: str | os.PathLike, cloud: PointCloud) -> None:
    """Write a binary little-endian PLY (``x y z`` float32, ``red green blue`` uchar) atomically."""
    plyfile = _plyfile()
    vertex = np.empty(len(cloud), dtype=PLY_DTYPE)
    for i, name in enumerate("xyz"):
        vertex[name] = cloud.points[:, i]
    for i, name in enumerate(("red", "green", "blue")):
        vertex[name] = cloud.colors[:, i]
    ply = plyfile.PlyData([plyfile.PlyElement.describe(vertex, "vertex")], text=False,
                          byte_order="<")
    with atomic_path(path) as tmp:
        ply.write(str(tmp))


def read_ply(path: str | os.PathLike) -> PointCloud:
    """Read the vertices (``x y z`` and, when present, ``red green blue``) of a PLY file.

    Raises:
        PackdepthError: missing or unreadable file, or no ``vertex`` element with ``x y z``.
    """
    plyfile = _plyfile()
    path = Path(path)
    try:
        vertex = plyfile.PlyData.read(str(path))["vertex"].data
        points = np.stack([vertex[n] for n in "xyz"], 1)
    except FileNotFoundError:
        raise PackdepthError(f"{path}: PLY file not found") from None
    except (KeyError, ValueError, plyfile.PlyParseError) as exc:
        raise PackdepthError(f"{path}: not a readable point-cloud PLY ({exc})") from None
    names = vertex.dtype.names or ()
    if all(n in names for n in ("red", "green", "blue")):
        colors = np.stack([vertex[n] for n in ("red", "green", "blue")], 1)
    else:
        colors = np.full((len(points), 3), 255, np.uint8)
    return PointCloud(points, colors)
