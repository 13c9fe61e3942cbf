"""Vehicles: parked ones (static) and moving ones (their own motion along the road).

A vehicle is four boxes sharing one yaw: the body, the cabin (windows) and two axles of wheels
that stick out below and beside the body. The box's local ``+z`` is the vehicle's front.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from packdepth.data.synthetic.camera_path import CameraPath
from packdepth.data.synthetic.primitives import ClassId, Material, PrimitiveBuilder

CAR_COLOURS = (
    (0.88, 0.88, 0.87), (0.68, 0.70, 0.72), (0.10, 0.10, 0.11), (0.30, 0.32, 0.35),
    (0.62, 0.10, 0.08), (0.12, 0.22, 0.48), (0.16, 0.32, 0.22), (0.76, 0.68, 0.52),
    (0.85, 0.62, 0.12),
)


@dataclass(frozen=True)
class VehicleShape:
    """Dimensions (metres) and paint of one vehicle."""

    length: float
    width: float
    body_top: float
    roof: float
    cabin_length: float
    colour: tuple[float, float, float]
    texture_offset: float

    @classmethod
    def random(cls, rng: np.random.Generator) -> VehicleShape:
        colour = np.array(CAR_COLOURS[rng.integers(len(CAR_COLOURS))])
        colour = tuple(np.clip(colour * rng.uniform(0.9, 1.1, 3), 0, 1).tolist())
        if rng.random() < 0.12:  # van
            length, roof, cabin = rng.uniform(4.9, 5.6), rng.uniform(1.9, 2.3), 0.75
        else:
            length, roof, cabin = rng.uniform(3.7, 4.9), rng.uniform(1.38, 1.55), 0.5
        return cls(
            length=float(length), width=float(rng.uniform(1.68, 1.92)),
            body_top=float(rng.uniform(0.95, 1.08)), roof=float(roof),
            cabin_length=float(cabin * length), colour=colour,
            texture_offset=float(rng.uniform(0, 100)),
        )

    @classmethod
    def truck(cls, rng: np.random.Generator) -> VehicleShape:
        """A lorry or tanker: a long, tall box body with a thin roof strip."""
        colour = np.array(CAR_COLOURS[rng.integers(len(CAR_COLOURS))])
        colour = tuple(np.clip(colour * rng.uniform(0.9, 1.1, 3), 0, 1).tolist())
        length, body_top = rng.uniform(7.0, 12.0), rng.uniform(2.9, 3.8)
        return cls(
            length=float(length), width=float(rng.uniform(2.4, 2.55)), body_top=float(body_top),
            roof=float(body_top + 0.06), cabin_length=float(0.25 * length), colour=colour,
            texture_offset=float(rng.uniform(0, 100)),
        )


def add_vehicle(builder: PrimitiveBuilder, x: float, z: float, yaw: float, shape: VehicleShape,
                cls: ClassId) -> None:
    """Add the boxes of a vehicle centred on ground point ``(x, z)`` facing ``yaw``."""
    L, W, tex = shape.length, shape.width, shape.texture_offset
    aux = (tex, L, W, shape.body_top)
    builder.rigid_box((x, z), yaw, (0.0, 0.0), 0.3, shape.body_top, W / 2, L / 2,
                      Material.PAINT, cls, shape.colour, aux)
    cabin_shift = -0.06 * L if shape.cabin_length < 0.6 * L else -0.1 * L
    builder.rigid_box((x, z), yaw, (0.0, cabin_shift), shape.body_top - 0.02, shape.roof,
                      W / 2 - 0.09, shape.cabin_length / 2, Material.GLASS, cls, shape.colour, aux)
    axle = L / 2 - 0.82
    for dz in (axle, -axle):
        builder.rigid_box((x, z), yaw, (0.0, dz), -0.02, 0.64, W / 2 + 0.03, 0.32,
                          Material.TYRE, cls, (0.09, 0.09, 0.1), aux)


@dataclass(frozen=True)
class MovingVehicle:
    """A vehicle moving along the road on its own.

    A follower keeps ``gap(t) = gap + gap_amplitude sin(2 pi gap_frequency t + gap_phase)``
    metres ahead of the camera along the road (stop-and-go traffic: nearly the camera's speed);
    an oncoming vehicle drives at ``speed`` in the opposite lane from arc length ``start``.
    """

    shape: VehicleShape
    lateral: float
    follower: bool
    start: float
    speed: float = 0.0
    gap_amplitude: float = 0.0
    gap_frequency: float = 0.0
    gap_phase: float = 0.0

    def arc_length(self, t: float, path: CameraPath) -> float:
        if self.follower:
            gap = self.start + self.gap_amplitude * np.sin(
                2 * np.pi * self.gap_frequency * t + self.gap_phase
            )
            return path.arc_length(t) + gap
        return self.start - self.speed * t

    def add_to(self, builder: PrimitiveBuilder, t: float, path: CameraPath) -> None:
        x, z, heading = path.road.frame_at(self.arc_length(t, path), self.lateral)
        yaw = float(heading) + (0.0 if self.follower else np.pi)
        add_vehicle(builder, float(x), float(z), yaw, self.shape, ClassId.MOVING_VEHICLE)


def jam_column(rng: np.random.Generator, path: CameraPath) -> list[MovingVehicle]:
    """A queue of cars and trucks in the strip right of the camera's lane that crawls along
    with the camera: one platoon whose gap drifts slowly, so its vehicles pass alongside the
    camera at a few metres (a slowing jam, where vehicles move with the camera)."""
    lateral = path.road.lane_width + 0.5 * path.road.parking_width
    amplitude, frequency = float(rng.uniform(3.0, 9.0)), float(rng.uniform(0.02, 0.06))
    phase = float(rng.uniform(0, 2 * np.pi))
    out: list[MovingVehicle] = []
    s = float(rng.uniform(-20.0, -6.0))
    while s < 70.0:
        shape = VehicleShape.truck(rng) if rng.random() < 0.45 else VehicleShape.random(rng)
        out.append(MovingVehicle(shape, lateral, True, s + shape.length / 2,
                                 gap_amplitude=amplitude, gap_frequency=frequency,
                                 gap_phase=phase))
        s += shape.length + float(rng.uniform(1.5, 5.0))
    return out


def random_traffic(rng: np.random.Generator, path: CameraPath, duration: float,
                   lookahead: float, jam: bool = False) -> tuple[MovingVehicle, ...]:
    """One or two followers ahead in the camera's lane and a stream of oncoming vehicles; in a
    ``jam`` the followers are closer and :func:`jam_column` crawls alongside."""
    lane = path.road.lane_width
    out: list[MovingVehicle] = jam_column(rng, path) if jam else []
    gap = float(rng.uniform(7.0, 12.0) if jam else rng.uniform(11.0, 20.0))
    for _ in range(int(rng.integers(1, 3))):
        out.append(MovingVehicle(
            VehicleShape.random(rng), 0.5 * lane, True, gap,
            gap_amplitude=float(rng.uniform(1.0, 3.0)), gap_frequency=float(rng.uniform(0.05, 0.2)),
            gap_phase=float(rng.uniform(0, 2 * np.pi)),
        ))
        gap += float(rng.uniform(12.0, 22.0))
    speed = float(rng.uniform(7.0, 13.0))
    s = float(rng.uniform(15.0, 40.0))
    end = path.arc_length(duration) + lookahead + speed * duration
    while s < end:
        out.append(MovingVehicle(VehicleShape.random(rng), -0.5 * lane, False, s, speed=speed))
        s += float(rng.uniform(18.0, 60.0))
    return tuple(out)
