"""Albedo and semantic class of surface samples, one function per :class:`Material`.

Each function maps a :class:`Surface` (``N`` samples on primitives of that material) to an albedo
``[N,3]`` in ``[0,1]`` and class ids ``[N]``. Coordinates are world-fixed (or fixed to a moving
vehicle), so a surface point looks the same in every frame.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import torch
from torch import Tensor

from packdepth.data.synthetic.primitives import ClassId, Material
from packdepth.data.synthetic.road import Road
from packdepth.data.synthetic.textures import (
    NoiseTable,
    box_band,
    bricks,
    fbm,
    mix,
    pulses,
    tint,
)


@dataclass
class Surface:
    """``N`` surface samples of one material (all tensors float32 unless stated).

    Attributes:
        point: ``[N,3]`` world hit points.
        local: ``[N,3]`` hit points in the primitive's local frame (y down; ground: world).
        half: ``[N,3]`` the primitive's half extents.
        a, b: ``[N]`` texture coordinates (metres) on the face hit: horizontal and height above
            the road on vertical faces, two horizontal coordinates on top/bottom faces.
        face: ``[N]`` long: 0 = local-x face, 1 = top/bottom, 2 = local-z face, 3 = cylinder side.
        sign: ``[N]`` outward direction (+1/-1) along the face's axis.
        height: ``[N]`` metres above the road.
        footprint: ``[N]`` width of a pixel on the surface (metres).
        colour: ``[N,3]`` the primitive's base colour.
        aux: ``[N,AUX_SIZE]`` the primitive's material parameters.
        cls: ``[N]`` long, the primitive's class.
    """

    point: Tensor
    local: Tensor
    half: Tensor
    a: Tensor
    b: Tensor
    face: Tensor
    sign: Tensor
    height: Tensor
    footprint: Tensor
    colour: Tensor
    aux: Tensor
    cls: Tensor


def _rgb(*values: float) -> Tensor:
    return torch.tensor(values, dtype=torch.float32)


def _road(s: Surface, noise: NoiseTable, road: Road) -> tuple[Tensor, Tensor]:
    lateral, along = road.road_coords(s.point[:, 0], s.point[:, 2])
    fp = s.footprint
    coarse = fbm(noise, lateral, along, fp, 0.4, 6, gain=0.8)
    grain = fbm(noise, lateral + 40.0, along - 40.0, fp, 6.0, 4, gain=0.85)
    speckle = (fbm(noise, lateral - 9.0, along + 9.0, fp, 30.0, 2, gain=0.8) - 0.5) * 3.0
    patches = ((fbm(noise, lateral * 0.7 + 9.0, along * 0.25, fp, 0.1, 3) - 0.56) * 12).clamp(0, 1)
    tracks = box_band((lateral.abs() - 0.5 * road.lane_width).abs() - 0.8, 0.35, fp + 0.5)
    light = (0.62 + 1.3 * (coarse - 0.5) + 1.1 * (grain - 0.5) + 0.5 * speckle - 0.12 * patches
             - 0.05 * tracks)
    albedo = tint(s.colour, light)
    dashes = pulses(along, 9.0, 0.0, 1.5, fp) * box_band(lateral, 0.06, fp)
    edges = box_band(lateral.abs() - road.lane_width, 0.07, fp)
    wear = (0.55 + 1.2 * (fbm(noise, lateral * 3.0, along, fp * 3.0, 1.5, 4) - 0.5)).clamp(0, 1)
    paint = (dashes + edges).clamp(0, 1) * (0.6 + 0.4 * wear)
    albedo = mix(albedo, _rgb(0.86, 0.86, 0.82) * (0.85 + 0.3 * grain).unsqueeze(-1), paint)
    cls = torch.where(paint > 0.5, int(ClassId.LANE_MARKING), int(ClassId.ROAD))
    outside = lateral.abs() > road.half_width
    albedo = torch.where(outside.unsqueeze(-1), tint(_rgb(0.45, 0.42, 0.38), 0.6 + coarse), albedo)
    return albedo, torch.where(outside, int(ClassId.SIDEWALK), cls)


def _sidewalk(s: Surface, noise: NoiseTable, road: Road) -> tuple[Tensor, Tensor]:
    lateral, along = road.road_coords(s.point[:, 0], s.point[:, 2])
    fp = s.footprint
    dist = lateral.abs() - road.half_width  # from the kerb's edge
    stones = bricks(noise, along, dist, fp, 0.42, 0.21, 0.012)
    dirt = fbm(noise, along + 7.0, dist, fp, 0.4, 7, gain=0.6)
    light = (0.78 + 0.3 * stones.brick_random + 0.9 * (dirt - 0.5)) * (1.0 - 0.35 * stones.mortar)
    top = tint(s.colour, light)
    kerb_joints = pulses(along, 1.0, 0.0, 0.006, fp)
    kerb = tint(_rgb(0.72, 0.71, 0.68), (0.85 + 0.8 * (dirt - 0.5)) * (1.0 - 0.4 * kerb_joints))
    is_kerb = (s.face != 1) | (dist < 0.16)
    return torch.where(is_kerb.unsqueeze(-1), kerb, top), s.cls


def _facade(s: Surface, noise: NoiseTable, road: Road) -> tuple[Tensor, Tensor]:
    fp, aux = s.footprint, s.aux
    a = s.a + aux[:, 0]
    b = s.b
    floor, spacing, win_w, win_h, style = aux[:, 1], aux[:, 2], aux[:, 3], aux[:, 4], aux[:, 5]
    dirt = fbm(noise, a * 0.5, b, fp, 0.25, 4)
    plaster = fbm(noise, a + 3.0, b, fp, 0.7, 7, gain=0.72)
    light = torch.where(style == 2, 0.97 + 0.12 * (dirt - 0.5),
                        0.9 + 0.9 * (plaster - 0.5) + 0.35 * (dirt - 0.5))
    wall = tint(s.colour, light * (1.0 - 0.18 * torch.exp(-s.height / 0.7)))
    brick = style == 0
    if bool(brick.any()):
        idx = brick.nonzero().squeeze(-1)
        st = bricks(noise, a[idx], b[idx], fp[idx], 0.24, 0.075, 0.012)
        body = tint(s.colour[idx], (0.78 + 0.45 * st.brick_random) * light[idx])
        wall[idx] = mix(body, _rgb(0.72, 0.7, 0.66) * light[idx].unsqueeze(-1), st.mortar)
    cornice = pulses(b, floor, 0.0, 0.09, fp) * (style == 1)
    wall = mix(wall, s.colour * 1.12, cornice)
    sill = 0.85 + 0.5 * win_h
    column = 0.5 * spacing
    glass = pulses(a, spacing, column, 0.5 * win_w, fp) * pulses(b, floor, sill, 0.5 * win_h, fp)
    frame = pulses(a, spacing, column, 0.5 * win_w + 0.08, fp) * pulses(
        b, floor, sill, 0.5 * win_h + 0.08, fp)
    cell = noise.cell_random(a / spacing, b / floor, salt=3)
    reflection = fbm(noise, a * 0.6, b * 0.6 + 20, fp, 0.5, 3)
    pane = tint(_rgb(0.10, 0.13, 0.18), 0.6 + 0.8 * cell + 1.2 * (reflection - 0.5))
    pane = torch.where((cell > 0.82).unsqueeze(-1), tint(_rgb(0.62, 0.55, 0.45), 0.7 + cell), pane)
    frame_colour = torch.where((aux[:, 0] % 1.0 > 0.5).unsqueeze(-1), _rgb(0.85, 0.85, 0.82),
                               _rgb(0.28, 0.22, 0.18))
    vertical = (s.face != 1) & (b > 0.5)
    glass, frame = glass * vertical, frame * vertical
    out = mix(mix(wall, frame_colour.expand_as(wall), frame), pane, glass)
    roof = tint(_rgb(0.3, 0.3, 0.32), 0.8 + 0.4 * dirt)
    return torch.where((s.face == 1).unsqueeze(-1), roof, out), s.cls


def _foliage(s: Surface, noise: NoiseTable, road: Road) -> tuple[Tensor, Tensor]:
    a, b = s.a + s.aux[:, 0], s.b
    clusters = fbm(noise, a, b, s.footprint, 1.5, 4, gain=0.8)
    leaves = fbm(noise, a + 5.0, b - 5.0, s.footprint, 6.0, 3, gain=0.8)
    gaps = ((0.42 - leaves) * 8.0).clamp(0, 1)  # dark holes between leaf clusters
    light = (0.55 + 2.2 * (clusters - 0.45)).clamp(0.15, 1.6) * (0.6 + leaves) * (1 - 0.6 * gaps)
    yellow = (clusters - 0.55).clamp(0, 1) * 1.5
    colour = mix(s.colour, _rgb(0.45, 0.5, 0.15).expand_as(s.colour), yellow)
    return tint(colour, light), s.cls


def _streaks(s: Surface, noise: NoiseTable, frequency: float, stretch: float, depth: float):
    n = fbm(noise, s.a + s.aux[:, 0], s.b, s.footprint, frequency, 5, stretch=stretch)
    return tint(s.colour, 1.0 + depth * (n - 0.5))


def _bark(s: Surface, noise: NoiseTable, road: Road) -> tuple[Tensor, Tensor]:
    return _streaks(s, noise, 5.0, 6.0, 1.4), s.cls


def _metal(s: Surface, noise: NoiseTable, road: Road) -> tuple[Tensor, Tensor]:
    return _streaks(s, noise, 3.0, 5.0, 0.6), s.cls


def _sign(s: Surface, noise: NoiseTable, road: Road) -> tuple[Tensor, Tensor]:
    x, y, fp = s.local[:, 0], s.local[:, 1], s.footprint
    inner = box_band(x, 0.27, fp) * box_band(y, 0.27, fp)
    symbol = box_band(torch.sqrt(x * x + y * y), 0.12, fp)
    face = mix(mix(_rgb(0.9, 0.9, 0.88).expand_as(s.colour), s.colour, inner),
               _rgb(0.92, 0.92, 0.9).expand_as(s.colour), symbol)
    back = _streaks(s, noise, 3.0, 1.0, 0.5)
    return torch.where((s.face == 2).unsqueeze(-1), face, back), s.cls


def _paint(s: Surface, noise: NoiseTable, road: Road) -> tuple[Tensor, Tensor]:
    x, z, fp, h = s.local[:, 0], s.local[:, 2], s.footprint, s.height
    width, body_top = s.aux[:, 2], s.aux[:, 3]
    n = fbm(noise, s.a + s.aux[:, 0], s.b, fp, 1.0, 5)
    paint = tint(s.colour, (0.92 + 0.25 * (n - 0.5)) * (1.0 - 0.25 * (h < 0.5)))
    lamp_x = box_band(x.abs() - (0.5 * width - 0.24), 0.14, fp)
    lamps = lamp_x * box_band(h - (body_top - 0.2), 0.08, fp)
    plate = box_band(x, 0.26, fp) * box_band(h - 0.5, 0.06, fp)
    lamp_colour = torch.where((s.sign > 0).unsqueeze(-1), _rgb(0.95, 0.93, 0.82),
                              _rgb(0.72, 0.08, 0.05))
    ends = mix(mix(paint, tint(_rgb(0.2, 0.2, 0.21), 0.8 + 0.4 * n), box_band(h - 0.36, 0.07, fp)),
               lamp_colour, lamps)
    ends = mix(ends, _rgb(0.9, 0.9, 0.85).expand_as(ends), plate)
    seams = torch.maximum(box_band(z - 0.1 * s.half[:, 2], 0.012, fp),
                          box_band(z + 0.5 * s.half[:, 2], 0.012, fp))
    handles = box_band(z - 0.1 * s.half[:, 2] + 0.25, 0.09, fp) * box_band(h - body_top + 0.2,
                                                                          0.025, fp)
    sides = mix(paint, s.colour * 0.35, torch.maximum(seams, handles))
    out = torch.where((s.face == 2).unsqueeze(-1), ends, paint)
    return torch.where((s.face == 0).unsqueeze(-1), sides, out), s.cls


def _glass(s: Surface, noise: NoiseTable, road: Road) -> tuple[Tensor, Tensor]:
    x, y, z, fp = s.local[:, 0], s.local[:, 1], s.local[:, 2], s.footprint
    hx, hy, hz = s.half[:, 0], s.half[:, 1], s.half[:, 2]
    reflection = fbm(noise, s.a * 0.8 + s.aux[:, 0], s.b, fp, 0.8, 4)
    pane = tint(_rgb(0.09, 0.11, 0.14), 0.7 + 1.6 * (reflection - 0.5) + 0.6 * (s.b - 1.0))
    along = torch.where(s.face == 0, z, x)
    half_along = torch.where(s.face == 0, hz, hx)
    glass = box_band(along, half_along - 0.1, fp) * box_band(y, hy - 0.07, fp)
    pillar = box_band(z, 0.06, fp) * (s.face == 0)
    glass = glass * (1.0 - pillar)
    out = mix(s.colour, pane, glass)
    return torch.where((s.face == 1).unsqueeze(-1), s.colour, out), s.cls


def _tyre(s: Surface, noise: NoiseTable, road: Road) -> tuple[Tensor, Tensor]:
    y, z, fp = s.local[:, 1], s.local[:, 2], s.footprint
    rubber = tint(s.colour, 0.8 + 0.6 * fbm(noise, s.a, s.b, fp, 6.0, 3))
    r = torch.sqrt(y * y + z * z)
    hub = box_band(r, 0.19, fp) * (s.face == 0)
    spokes = pulses(torch.atan2(y, z) * 0.16, 0.2, 0.0, 0.05, fp) * box_band(r - 0.1, 0.06, fp)
    rim = tint(_rgb(0.62, 0.63, 0.65), 1.0 - 0.5 * spokes)
    return mix(rubber, rim, hub), s.cls


MaterialFn = Callable[[Surface, NoiseTable, Road], tuple[Tensor, Tensor]]

MATERIALS: dict[Material, MaterialFn] = {
    Material.GROUND: _road,
    Material.SIDEWALK: _sidewalk,
    Material.FACADE: _facade,
    Material.FOLIAGE: _foliage,
    Material.BARK: _bark,
    Material.METAL: _metal,
    Material.SIGN: _sign,
    Material.PAINT: _paint,
    Material.GLASS: _glass,
    Material.TYRE: _tyre,
}
