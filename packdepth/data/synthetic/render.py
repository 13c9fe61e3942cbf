"""Render one frame: ray cast, surface geometry, materials, Lambertian shading, anti-aliasing.

Rays are cast on a half-pixel grid of ``(2H+1) x (2W+1)`` samples (pixel centres, edge midpoints
and corners). Depth and class come from the exact centre sample of each pixel. Colour is
adaptive: a pixel whose 3x3 sample block lies on one smooth surface is shaded once, at its centre,
with texture detail pre-filtered to the pixel footprint (:mod:`.textures`); a pixel on an object
or face boundary is shaded at all nine samples and tent-filtered (2x2 supersampling with a
``[1,2,1]^2 / 16`` kernel). Shading is view-independent (sun + sky ambient, a weak distance haze),
so a surface point has the same colour in every frame.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np
import torch
from torch import Tensor

from packdepth.data.synthetic.materials import MATERIALS, Surface
from packdepth.data.synthetic.primitives import ClassId, Kind, Material, Primitives
from packdepth.data.synthetic.raycast import RayGrid, cast
from packdepth.data.synthetic.scene import World


@dataclass
class RenderedView:
    """``rgb [H,W,3]`` float in [0,1], ``depth [H,W]`` float32 (0 = no hit), ``semantic [H,W]``."""

    rgb: Tensor
    depth: Tensor
    semantic: Tensor


def _gather(prims: Primitives, pid: Tensor) -> dict[str, Tensor]:
    """Per-sample copies ``[N,...]`` of the primitive attributes (float32 / long)."""
    out = {}
    for name in ("kind", "material", "cls"):
        out[name] = torch.from_numpy(getattr(prims, name))[pid]
    for name in ("center", "yaw", "half", "colour", "aux"):
        out[name] = torch.from_numpy(getattr(prims, name).astype(np.float32))[pid]
    return out


def _geometry(p: Tensor, g: dict[str, Tensor], camera_height: float):
    """Local coordinates, face, outward sign, world normal and texture coordinates ``[N]``."""
    n = p.shape[0]
    kind, half = g["kind"], g["half"]
    rel = p - g["center"]
    c, s = torch.cos(g["yaw"]), torch.sin(g["yaw"])
    local = torch.stack(
        [c * rel[:, 0] - s * rel[:, 2], rel[:, 1], s * rel[:, 0] + c * rel[:, 2]], 1
    )
    height = camera_height - p[:, 1]
    # boxes: the face is the axis where the point is closest to the box surface (relative)
    ratio = local.abs() / half.clamp_min(1e-6)
    face = ratio.argmax(1)
    sign = torch.gather(local, 1, face[:, None]).squeeze(1).sign()
    # cylinders: side or cap
    radial = torch.sqrt(local[:, 0] ** 2 + local[:, 2] ** 2)
    on_side = (radial - half[:, 0]).abs() < (local[:, 1].abs() - half[:, 1]).abs()
    cyl = kind == Kind.CYLINDER
    face = torch.where(cyl, torch.where(on_side, 3, 1), face)
    sign = torch.where(cyl & ~on_side, local[:, 1].sign(), sign)
    ground = kind == Kind.GROUND
    face = torch.where(ground, 1, face)
    sign = torch.where(ground, -1.0, sign)
    # normals: box faces in world = sign * (ex | ey | ez); cylinder sides radial
    zero, one = torch.zeros(n), torch.ones(n)
    axes = torch.stack([torch.stack([c, zero, -s], 1), torch.stack([zero, one, zero], 1),
                        torch.stack([s, zero, c], 1)], 1)  # [N,3 axes,3]
    normal = axes[torch.arange(n), face.clamp_max(2)] * sign[:, None]
    radial_dir = torch.stack([local[:, 0], zero, local[:, 2]], 1) / radial.clamp_min(1e-6)[:, None]
    normal = torch.where((face == 3)[:, None], radial_dir, normal)
    # texture coordinates: (along face, height) on vertical faces, (x, z) on horizontal ones
    a = torch.where(face == 0, local[:, 2], local[:, 0])
    a = torch.where(face == 3, torch.atan2(local[:, 0], local[:, 2]) * half[:, 0], a)
    b = torch.where(face == 1, local[:, 2], height)
    a = torch.where(ground, p[:, 0], a)
    b = torch.where(ground, p[:, 2], b)
    return local, face, sign, normal, a, b, height


def shade(world: World, prims: Primitives, points: Tensor, directions: Tensor, depth: Tensor,
          pid: Tensor, focal: float) -> tuple[Tensor, Tensor]:
    """Colour ``[N,3]`` and class ``[N]`` of hit samples.

    Args:
        points: ``[N,3]`` world hit points of rays ``directions [N,3]`` (camera-frame z = 1)
            at ``depth [N]``.
        pid: ``[N]`` primitive indices.
        focal: mean focal length (pixels), for the texture footprint.
    """
    g = _gather(prims, pid)
    local, face, sign, normal, a, b, height = _geometry(points, g, world.camera_height)
    length = torch.linalg.vector_norm(directions, dim=1)
    ray_len = depth * length
    cos = ((normal * directions).sum(1).abs() / length).clamp_min(0.05)
    # a pixel's footprint, half-way foreshortened at grazing angles (mip-mapping compromise)
    footprint = ray_len / focal / torch.sqrt(cos)
    albedo = torch.empty_like(points)
    cls = g["cls"].clone()
    materials = g["material"]
    for m in torch.unique(materials).tolist():
        idx = (materials == m).nonzero().squeeze(1)
        surface = Surface(
            point=points[idx], local=local[idx], half=g["half"][idx], a=a[idx], b=b[idx],
            face=face[idx], sign=sign[idx], height=height[idx], footprint=footprint[idx],
            colour=g["colour"][idx], aux=g["aux"][idx], cls=g["cls"][idx],
        )
        albedo[idx], cls[idx] = MATERIALS[Material(m)](surface, world.noise, world.road)
    light = world.light
    sun = (normal * torch.tensor(light.sun)).sum(1).clamp_min(0.0)
    sky_view = 0.75 - 0.25 * normal[:, 1]  # upward faces see more sky
    irradiance = torch.tensor(light.ambient) * sky_view[:, None] + torch.tensor(
        light.sun_colour) * sun[:, None]
    colour = albedo.clamp(0.0, 1.0) * irradiance
    haze = 1.0 - torch.exp(-ray_len / light.haze_distance)
    colour = colour + (torch.tensor(light.horizon) - colour) * haze[:, None]
    return colour, cls


def sky(world: World, d: tuple[Tensor, Tensor, Tensor]) -> Tensor:
    """Sky colour ``[Hs,Ws,3]``: a gradient from the horizon to the zenith (no texture)."""
    dx, dy, dz = d
    elevation = -dy / torch.sqrt(dx * dx + dy * dy + dz * dz)
    k = (elevation * 2.5).clamp(0.0, 1.0) ** 0.7
    horizon, zenith = torch.tensor(world.light.horizon), torch.tensor(world.light.zenith)
    return horizon + (zenith - horizon) * k[..., None]


def _blocks(grid: Tensor) -> list[Tensor]:
    """The nine ``[H,W]`` views of a ``[2H+1,2W+1]`` grid: each pixel's 3x3 sample block."""
    h, w = (grid.shape[0] - 1) // 2, (grid.shape[1] - 1) // 2
    return [grid[i:i + 2 * h:2, j:j + 2 * w:2] for i in range(3) for j in range(3)]


def tent_downsample(samples: Tensor) -> Tensor:
    """``[2H+1,2W+1,C]`` half-pixel samples to ``[H,W,C]`` pixels, 3x3 tent ``[1,2,1]^2 / 16``."""
    rows = samples[0:-2:2] + 2.0 * samples[1:-1:2] + samples[2::2]
    cols = rows[:, 0:-2:2] + 2.0 * rows[:, 1:-1:2] + rows[:, 2::2]
    return cols / 16.0


def edge_pixels(index: Tensor, depth: Tensor, tolerance: float = 2e-3) -> Tensor:
    """``[H,W]`` bool: pixels whose 3x3 sample block is not one smooth surface.

    A block is smooth when all nine samples hit the same primitive and the inverse depth (affine
    in the image for any plane) is affine across the block; otherwise it straddles an object
    boundary or a box edge and needs all nine samples.
    """
    ids = _blocks(index)
    edge = torch.zeros_like(ids[4], dtype=torch.bool)
    for other in ids:
        edge |= other != ids[4]
    inv = _blocks(1.0 / depth)
    centre = inv[4]
    for a, b in ((0, 8), (2, 6), (1, 7), (3, 5)):
        edge |= (inv[a] + inv[b] - 2.0 * centre).abs() > tolerance * centre
    return edge


@contextlib.contextmanager
def single_threaded() -> Iterator[None]:
    """Run torch on one intra-op thread inside the block, then restore the previous setting.

    The renderer issues many small tensor operations; splitting each over threads costs more
    than it gains, and on a loaded machine spinning worker threads slow it down ten-fold.
    """
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        yield
    finally:
        torch.set_num_threads(threads)


def render_view(world: World, t: float, K: np.ndarray, height: int, width: int,
                max_depth: float, grid: RayGrid | None = None) -> RenderedView:
    """Render the camera's view at time ``t`` with intrinsics ``K [3,3]`` at ``height x width``.

    Every pixel is shaded at its centre; pixels on object or face boundaries
    (:func:`edge_pixels`) are supersampled with their 3x3 half-pixel block and a tent filter.
    Inside a surface, texture detail is pre-filtered to the pixel footprint instead. Runs
    :func:`single_threaded`.
    """
    with single_threaded():
        return _render_view(world, t, K, height, width, max_depth, grid)


def _render_view(world: World, t: float, K: np.ndarray, height: int, width: int,
                 max_depth: float, grid: RayGrid | None) -> RenderedView:
    pose = world.path.pose(t)
    prims = world.primitives_at(t)
    grid = grid or RayGrid.half_pixel(K, height, width)
    depth, index, d = cast(prims, pose, K, grid, max_depth, world.camera_height)
    hs, ws = depth.shape
    edge = edge_pixels(index, depth)
    need = torch.zeros(hs, ws, dtype=torch.bool)
    for block in _blocks(need):
        block |= edge
    need[1::2, 1::2] = True
    flat = index.reshape(-1)
    sample = (need.reshape(-1) & (flat >= 0)).nonzero().squeeze(1)
    directions = torch.stack([v.reshape(-1)[sample] for v in d], 1)
    depth_hit = depth.reshape(-1)[sample]
    origin = torch.from_numpy(pose[:3, 3].astype(np.float32))
    points = origin + depth_hit[:, None] * directions
    focal = 0.5 * float(K[0, 0] + K[1, 1])
    colour_hit, cls_hit = shade(world, prims, points, directions, depth_hit, flat[sample], focal)
    colour = sky(world, d).reshape(-1, 3)
    colour[sample] = colour_hit
    cls = torch.full((hs * ws,), int(ClassId.SKY), dtype=torch.long)
    cls[sample] = cls_hit
    colour = colour.reshape(hs, ws, 3)
    centre = (slice(1, None, 2), slice(1, None, 2))
    rgb = torch.where(edge[..., None], tent_downsample(colour), colour[centre])
    centre_depth = torch.where(index[centre] >= 0, depth[centre], torch.zeros(()))
    return RenderedView(
        rgb=rgb,
        depth=centre_depth.to(torch.float32),
        semantic=cls.reshape(hs, ws)[centre].to(torch.uint8),
    )
