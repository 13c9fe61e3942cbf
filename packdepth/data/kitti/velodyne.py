"""Velodyne scans as sparse depth maps.

Pixel coordinates follow :mod:`packdepth.geometry.camera` (pixel centres at integers), so a point
lands in pixel ``round(u), round(v)``; the reference code's extra ``- 1`` (a MATLAB leftover) is
not applied.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from packdepth.data.kitti.calibration import KittiCalibration
from packdepth.errors import PackdepthError


def read_velodyne(path: str | os.PathLike) -> np.ndarray:
    """Read a Velodyne scan: ``[N,4]`` float32 ``x, y, z, reflectance``."""
    path = Path(path)
    data = np.fromfile(path, dtype=np.float32)
    if data.size % 4:
        raise PackdepthError(f"{path}: size is not a multiple of 4 float32 values")
    return data.reshape(-1, 4)


def project_velodyne(points: np.ndarray, calib: KittiCalibration) -> np.ndarray:
    """Project Velodyne points: ``[N,3]`` rows ``u, v, depth`` for points in front of the camera."""
    xyz1 = np.concatenate([points[:, :3], np.ones((len(points), 1), points.dtype)], 1)
    xyz1 = xyz1[points[:, 0] > 0]  # in front of the Velodyne (x forward)
    im = (calib.velo_to_image @ xyz1.T.astype(np.float64)).T
    depth = im[:, 2]
    keep = depth > 0
    im = im[keep]
    return np.stack([im[:, 0] / im[:, 2], im[:, 1] / im[:, 2], im[:, 2]], 1)


def sparse_depth_map(uvz: np.ndarray, height: int, width: int) -> np.ndarray:
    """Rasterise projected points ``[N,3]`` into an ``[H,W]`` depth map, nearest point per pixel.

    Pixels without a point hold 0.
    """
    u = np.round(uvz[:, 0]).astype(np.int64)
    v = np.round(uvz[:, 1]).astype(np.int64)
    z = uvz[:, 2]
    inside = (u >= 0) & (u < width) & (v >= 0) & (v < height) & (z > 0)
    u, v, z = u[inside], v[inside], z[inside]
    depth = np.full(height * width, np.inf)
    np.minimum.at(depth, v * width + u, z)
    depth[np.isinf(depth)] = 0.0
    return depth.reshape(height, width).astype(np.float32)


def velodyne_depth_map(
    scan_path: str | os.PathLike, calib: KittiCalibration, size: tuple[int, int] | None = None
) -> np.ndarray:
    """Sparse ``[H,W]`` depth (metres, 0 = none) of a Velodyne scan at the image's resolution.

    Args:
        size: ``(width, height)``; defaults to the calibration's ``S_rect``.
    """
    width, height = size or calib.size
    return sparse_depth_map(project_velodyne(read_velodyne(scan_path), calib), height, width)
