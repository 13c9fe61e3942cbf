"""The street layout from a seed: road, sidewalks, facades, parked cars, poles, trees, traffic.

Everything is placed in road coordinates (arc length ``s`` along the centreline, ``lateral``
offset) and converted to world boxes/cylinders aligned with the local road heading. Each side of
the street and each category draws from its own random stream, so a longer sequence with the same
seed starts with the same street.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np

from packdepth.data.synthetic.camera_path import CameraPath
from packdepth.data.synthetic.primitives import (
    ClassId,
    Material,
    PrimitiveBuilder,
    Primitives,
)
from packdepth.data.synthetic.road import Road
from packdepth.data.synthetic.textures import NoiseTable
from packdepth.data.synthetic.vehicles import (
    MovingVehicle,
    VehicleShape,
    add_vehicle,
    random_traffic,
)

BRICK_COLOURS = ((0.56, 0.27, 0.20), (0.64, 0.36, 0.26), (0.46, 0.23, 0.19), (0.72, 0.52, 0.40))
PLASTER_COLOURS = (
    (0.86, 0.81, 0.70), (0.78, 0.72, 0.60), (0.91, 0.87, 0.80), (0.70, 0.75, 0.78),
    (0.83, 0.70, 0.55), (0.74, 0.80, 0.70), (0.64, 0.62, 0.60), (0.88, 0.76, 0.72),
)
FOLIAGE_COLOURS = ((0.22, 0.38, 0.14), (0.30, 0.44, 0.16), (0.18, 0.32, 0.16), (0.36, 0.42, 0.18))
SIGN_COLOURS = ((0.10, 0.25, 0.65), (0.75, 0.10, 0.10), (0.90, 0.75, 0.10))
SEGMENT = 6.0  # metres of sidewalk per box


@dataclass(frozen=True)
class Lighting:
    """Sun and sky: ``sun`` is the unit direction towards the sun (world, y down)."""

    sun: tuple[float, float, float]
    sun_colour: tuple[float, float, float]
    ambient: tuple[float, float, float]
    horizon: tuple[float, float, float]
    zenith: tuple[float, float, float]
    haze_distance: float

    @classmethod
    def random(cls, rng: np.random.Generator) -> Lighting:
        elevation, azimuth = rng.uniform(0.4, 1.0), rng.uniform(0, 2 * np.pi)
        sun = (np.cos(elevation) * np.sin(azimuth), -np.sin(elevation),
               np.cos(elevation) * np.cos(azimuth))
        overcast = rng.random() < 0.3
        strength = 0.35 if overcast else rng.uniform(0.6, 0.8)
        ambient = 0.75 if overcast else rng.uniform(0.45, 0.55)
        zenith = (0.62, 0.66, 0.72) if overcast else (0.32, 0.52, 0.86)
        return cls(
            sun=tuple(float(v) for v in sun),
            sun_colour=(strength, 0.96 * strength, 0.88 * strength),
            ambient=(0.92 * ambient, 0.96 * ambient, ambient),
            horizon=(0.80, 0.84, 0.88) if overcast else (0.78, 0.86, 0.94),
            zenith=zenith,
            haze_distance=float(rng.uniform(250.0, 450.0)),
        )


def _jitter(rng: np.random.Generator, colour, amount: float = 0.08) -> tuple[float, ...]:
    return tuple(np.clip(np.array(colour) * rng.uniform(1 - amount, 1 + amount, 3), 0, 1).tolist())


def _pick(rng: np.random.Generator, options):
    return options[int(rng.integers(len(options)))]


class StreetSide:
    """Places the objects of one side (``side = +1`` right, ``-1`` left) of the street."""

    def __init__(self, b: PrimitiveBuilder, road: Road, side: int, s_range: tuple[float, float]):
        self.b, self.road, self.side, (self.s0, self.s1) = b, road, side, s_range

    def at(self, s: float, lateral: float) -> tuple[float, float, float]:
        x, z, heading = self.road.frame_at(s, self.side * lateral)
        return float(x), float(z), float(heading)

    def box(self, s, lateral, length, depth, bottom, top, material, cls, colour, aux=()):
        """A box from ``lateral`` to ``lateral + depth`` (outwards) spanning ``length`` along s."""
        x, z, heading = self.at(s, lateral + 0.5 * depth)
        self.b.box(x, z, heading, bottom, top, 0.5 * depth, 0.5 * length, material, cls, colour,
                   aux)

    def sidewalk(self, colour) -> None:
        depth = self.road.sidewalk_width + 30.0
        # consecutive straight segments meet at an angle curvature * SEGMENT; the overlap covers
        # the wedge that opens between them on the outside of a curve
        margin = 0.15 + 0.5 * depth * self.road.max_curvature * SEGMENT
        for s in np.arange(self.s0, self.s1, SEGMENT):
            self.box(s + SEGMENT / 2, self.road.half_width, SEGMENT + 2 * margin, depth, -0.3,
                     self.road.kerb_height, Material.SIDEWALK, ClassId.SIDEWALK, colour)

    def facade_aux(self, rng: np.random.Generator, style: int) -> tuple[float, ...]:
        floor = rng.uniform(2.9, 3.5)
        spacing = rng.uniform(2.2, 3.6)
        width = rng.uniform(0.8, min(1.6, spacing - 0.6))
        return (float(rng.uniform(0, 100)), floor, spacing, width,
                rng.uniform(1.2, min(1.9, floor - 0.9)), float(style))

    def building(self, rng, s, length, lateral) -> None:
        style = int(rng.choice(3, p=(0.4, 0.45, 0.15)))  # 0 brick, 1 plaster, 2 flat paint
        colour = _jitter(rng, _pick(rng, BRICK_COLOURS if style == 0 else PLASTER_COLOURS))
        floors = int(rng.integers(2, 7))
        aux = self.facade_aux(rng, style)
        top = min(floors * aux[1] + rng.uniform(0.3, 1.2), 24.0)
        self.box(s, lateral, length, rng.uniform(9.0, 15.0), -0.3, top, Material.FACADE,
                 ClassId.BUILDING, colour, aux)

    def buildings(self, rng: np.random.Generator) -> None:
        s = self.s0 - rng.uniform(0, 10)
        front = self.road.half_width + self.road.sidewalk_width
        while s < self.s1:
            if rng.random() < 0.2:  # a gap: a building further back, maybe a hedge in front
                gap = rng.uniform(4.0, 12.0)
                self.building(rng, s + gap / 2, gap + 6.0, front + rng.uniform(8.0, 16.0))
                if rng.random() < 0.5:
                    self.box(s + gap / 2, front + 0.3, gap - 0.5, 0.9, 0.0, rng.uniform(0.9, 1.8),
                             Material.FOLIAGE, ClassId.VEGETATION,
                             _jitter(rng, _pick(rng, FOLIAGE_COLOURS)), (rng.uniform(0, 100),))
                s += gap
            else:
                length = rng.uniform(8.0, 26.0)
                setback = 0.4 + rng.uniform(0.0, 1.5) * (rng.random() < 0.5)
                self.building(rng, s + length / 2, length, front + setback)
                s += length

    def pole(self, s: float, rng: np.random.Generator) -> None:
        lateral = self.road.half_width + 0.45
        x, z, heading = self.at(s, lateral)
        metal = _jitter(rng, (0.45, 0.47, 0.5))
        aux = (float(rng.uniform(0, 100)),)
        if rng.random() < 0.35:  # a traffic sign facing the camera's direction of travel
            self.b.cylinder(x, z, 0.04, 0.0, 2.9, Material.METAL, ClassId.POLE, metal, aux)
            yaw = heading + (0.0 if self.side > 0 else np.pi)
            self.b.rigid_box((x, z), yaw, (0.0, -0.06), 2.1, 2.75, 0.33, 0.02, Material.SIGN,
                             ClassId.POLE, _pick(rng, SIGN_COLOURS), aux)
            return
        height = rng.uniform(6.0, 8.0)
        self.b.cylinder(x, z, rng.uniform(0.07, 0.11), 0.0, height, Material.METAL, ClassId.POLE,
                        metal, aux)
        arm = 1.6
        self.b.rigid_box((x, z), heading, (-self.side * arm / 2, 0.0), height - 0.12, height,
                         arm / 2, 0.05, Material.METAL, ClassId.POLE, metal, aux)
        self.b.rigid_box((x, z), heading, (-self.side * arm, 0.0), height - 0.25, height - 0.05,
                         0.3, 0.16, Material.METAL, ClassId.POLE, (0.75, 0.75, 0.7), aux)

    def tree(self, s: float, rng: np.random.Generator) -> None:
        x, z, _ = self.at(s, self.road.half_width + rng.uniform(0.9, 1.3))
        bark = _jitter(rng, (0.32, 0.25, 0.18), 0.15)
        leaves = _jitter(rng, _pick(rng, FOLIAGE_COLOURS), 0.15)
        aux = (float(rng.uniform(0, 100)),)
        crown = rng.uniform(2.4, 3.4)
        radius = rng.uniform(1.4, 2.6)
        top = crown + rng.uniform(2.2, 4.0)
        self.b.cylinder(x, z, rng.uniform(0.12, 0.2), 0.0, crown + 0.5, Material.BARK,
                        ClassId.VEGETATION, bark, aux)
        self.b.cylinder(x, z, radius, crown, top, Material.FOLIAGE, ClassId.VEGETATION, leaves, aux)
        crest = top + rng.uniform(0.8, 1.6)
        self.b.cylinder(x, z, radius * rng.uniform(0.5, 0.75), top - 0.05, crest,
                        Material.FOLIAGE, ClassId.VEGETATION, leaves, aux)

    def street_furniture(self, rng: np.random.Generator, tree_density: float) -> None:
        poles = np.arange(self.s0 + rng.uniform(0, 30), self.s1, rng.uniform(22.0, 40.0))
        for s in poles:
            self.pole(float(s), rng)
        s = self.s0 + rng.uniform(0, 8)
        while s < self.s1 and tree_density > 0:
            if rng.random() < tree_density and np.min(np.abs(poles - s), initial=99) > 2.5:
                self.tree(float(s), rng)
            s += rng.uniform(7.0, 13.0)

    def parked_cars(self, rng: np.random.Generator, density: float) -> None:
        lateral = self.road.lane_width + 0.5 * self.road.parking_width
        s = self.s0
        while s < self.s1:
            if rng.random() < density:
                shape = VehicleShape.random(rng)
                x, z, heading = self.at(s + shape.length / 2, lateral)
                yaw = heading + (0.0 if self.side > 0 else np.pi) + rng.normal(0, 0.015)
                add_vehicle(self.b, x, z, yaw, shape, ClassId.VEHICLE)
                s += shape.length + rng.uniform(0.7, 2.5)
            else:
                s += rng.uniform(2.0, 8.0)


@dataclass
class World:
    """Everything needed to render one sequence."""

    road: Road
    path: CameraPath
    static: Primitives
    vehicles: tuple[MovingVehicle, ...]
    noise: NoiseTable
    light: Lighting
    camera_height: float

    def primitives_at(self, t: float) -> Primitives:
        """Static primitives plus the moving vehicles at time ``t`` (seconds)."""
        if not self.vehicles:
            return self.static
        b = PrimitiveBuilder(self.camera_height)
        for vehicle in self.vehicles:
            vehicle.add_to(b, t, self.path)
        return Primitives.concat([self.static, b.build()])


def build_world(seed: int, sequence: int, duration: float, *, max_depth: float = 80.0,
                camera_height: float = 1.65, dynamic: bool = False, jam: bool = False) -> World:
    """The street of ``(seed, sequence)``, long enough for ``duration`` seconds of driving.

    ``dynamic`` adds moving traffic; ``jam`` a slow traffic jam (implies moving traffic): the
    camera crawls at 1-4 m/s with cars and trucks alongside in the right-hand strip.
    """
    streams = [np.random.default_rng(s) for s in np.random.SeedSequence([seed, sequence]).spawn(7)]
    rng_road, rng_path, rng_style, rng_left, rng_right, rng_traffic, rng_noise = streams
    straight = rng_road.random() < 0.25
    wavelengths = rng_road.uniform(180.0, 480.0, 2)
    freqs = 2 * np.pi / wavelengths
    curvature = rng_road.uniform(-1.0, 1.0, 2) / 300.0 * (not straight)  # radius >= 150 m
    road = Road(
        lane_width=float(rng_road.uniform(3.1, 3.7)),
        parking_width=float(rng_road.uniform(2.0, 2.6)),
        sidewalk_width=float(rng_road.uniform(2.5, 4.5)),
        kerb_height=float(rng_road.uniform(0.11, 0.16)),
        amplitudes=tuple(float(v) for v in curvature / freqs**2),
        frequencies=tuple(float(v) for v in freqs),
        length=15.0 * duration + max_depth + 100.0,
    )
    path = CameraPath.random(rng_path, road, camera_height)
    s_range = (-25.0, path.arc_length(duration) + max_depth + 40.0)
    b = PrimitiveBuilder(camera_height)
    b.ground(_jitter(rng_style, np.array((0.34, 0.34, 0.35)) * rng_style.uniform(0.8, 1.15), 0.03))
    paving = _jitter(rng_style, (0.62, 0.6, 0.57), 0.1)
    trees = float(rng_style.choice([0.0, 0.5, 0.9], p=(0.2, 0.4, 0.4)))
    cars = float(rng_style.uniform(0.25, 0.8))
    for side, rng in ((1, rng_right), (-1, rng_left)):
        street = StreetSide(b, road, side, s_range)
        street.sidewalk(paving)
        street.buildings(rng)
        street.street_furniture(rng, trees)
        street.parked_cars(rng, 0.0 if jam and side > 0 else cars)  # the jam uses that strip
    if jam:  # crawling: 1-4 m/s with stop-and-go ripple
        path = replace(path, mean_speed=float(rng_traffic.uniform(1.2, 3.6)),
                       speed_ripple=float(rng_traffic.uniform(0.2, 0.6)))
    vehicles = random_traffic(rng_traffic, path, duration, max_depth, jam) if dynamic or jam else ()
    return World(road, path, b.build(), vehicles, NoiseTable.from_rng(rng_noise),
                 Lighting.random(rng_style), camera_height)
