"""Analytic test scenes rendered by exact ray casting, independent of packdepth's geometry code.

The scene is a textured ground plane ``Y = GROUND_Y`` (world y points down, like the camera) that
ends at a textured fronto-parallel wall ``Z = WALL_Z``. A camera sits at world position ``c`` with
rotation ``R_cw`` (camera-to-world); a pixel ``(u, v)`` (centre at integers) looks along
``R_cw @ ((u - cx) / fx, (v - cy) / fy, 1)``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

GROUND_Y = 1.5
WALL_Z = 12.0


def texture(X: np.ndarray, Y: np.ndarray, Z: np.ndarray) -> np.ndarray:
    """Smooth RGB texture ``[...,3]`` in [0,1], a continuous function of the 3D world point.

    Continuity across the wall/ground seam and wavelengths of metres keep bilinear resampling
    errors far below a grey level at the test resolutions.
    """
    r = 0.5 + 0.2 * np.sin(2 * np.pi * X / 4.1) * np.cos(2 * np.pi * (Y + Z) / 5.3)
    g = 0.5 + 0.2 * np.sin(2 * np.pi * (X + Y - Z) / 6.7 + 0.4)
    b = 0.45 + 0.15 * np.cos(2 * np.pi * X / 3.7) * np.sin(2 * np.pi * Z / 7.9 + Y)
    return np.stack([r, g, b], -1)


@dataclass
class View:
    image: torch.Tensor  # [1,3,H,W]
    depth: torch.Tensor  # [1,1,H,W], z in the camera frame
    world: np.ndarray  # [H,W,3] world points


def render(K: np.ndarray, R_cw: np.ndarray, c: np.ndarray, height: int, width: int) -> View:
    """Ray-cast the scene from a camera (``float64``)."""
    v, u = np.meshgrid(
        np.arange(height, dtype=np.float64), np.arange(width, dtype=np.float64), indexing="ij"
    )
    rays_cam = np.stack([(u - K[0, 2]) / K[0, 0], (v - K[1, 2]) / K[1, 1], np.ones_like(u)], -1)
    rays = rays_cam @ R_cw.T
    with np.errstate(divide="ignore", invalid="ignore"):
        t_ground = (GROUND_Y - c[1]) / rays[..., 1]
        t_wall = (WALL_Z - c[2]) / rays[..., 2]
    ground_hit = c[None, None] + t_ground[..., None] * rays
    use_ground = (t_ground > 0) & (ground_hit[..., 2] < WALL_Z)
    t = np.where(use_ground, t_ground, t_wall)
    assert np.all(t > 0), "every pixel must hit the scene"
    world = c[None, None] + t[..., None] * rays
    img = texture(world[..., 0], world[..., 1], world[..., 2])
    depth = t * rays_cam[..., 2]  # z along the optical axis (rays_cam has z = 1)
    return View(
        torch.from_numpy(img).permute(2, 0, 1)[None].contiguous(),
        torch.from_numpy(depth)[None, None].contiguous(),
        world,
    )


def rot_y(angle: float) -> np.ndarray:
    c, s = np.cos(angle), np.sin(angle)
    return np.array([[c, 0, s], [0, 1, 0], [-s, 0, c]])


def relative_transform(R_t: np.ndarray, c_t: np.ndarray, R_s: np.ndarray, c_s: np.ndarray):
    """``T_target_to_source`` ``[1,4,4]`` from both cameras' camera-to-world rotations/centres."""
    T = np.eye(4)
    T[:3, :3] = R_s.T @ R_t
    T[:3, 3] = R_s.T @ (c_t - c_s)
    return torch.from_numpy(T)[None]


def default_camera(height: int = 48, width: int = 96) -> np.ndarray:
    f = 0.8 * width
    return np.array([[f, 0, (width - 1) / 2 + 1.3], [0, f, (height - 1) / 2 - 2.1], [0, 0, 1.0]])
