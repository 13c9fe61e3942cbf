"""Scene primitives (struct of arrays), semantic classes and materials of the synthetic world.

Three kinds of primitive: the ground plane ``y = camera_height`` (one per scene), boxes rotated
about the vertical axis by a yaw angle, and vertical cylinders (with caps). A box's local axes are
the columns of ``R_y(yaw)``: local x = ``(cos, 0, -sin)`` (across the road for yaw = heading),
local y = world y (down), local z = ``(sin, 0, cos)`` (along the road).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import IntEnum

import numpy as np

CLASSES: tuple[str, ...] = (
    "sky",
    "road",
    "lane_marking",
    "sidewalk",
    "building",
    "pole",
    "vegetation",
    "vehicle",
    "moving_vehicle",
)

# Display colours (RGB, Cityscapes-like) of the classes, for figures and overlays.
CLASS_COLOURS: tuple[tuple[int, int, int], ...] = (
    (70, 130, 180),
    (128, 64, 128),
    (250, 240, 140),
    (244, 35, 232),
    (70, 70, 70),
    (153, 153, 153),
    (107, 142, 35),
    (0, 0, 142),
    (255, 90, 0),
)


class ClassId(IntEnum):
    """Semantic class ids written to ``semantic/image_02`` (names in ``CLASSES``)."""

    SKY = 0
    ROAD = 1
    LANE_MARKING = 2
    SIDEWALK = 3
    BUILDING = 4
    POLE = 5
    VEGETATION = 6
    VEHICLE = 7
    MOVING_VEHICLE = 8


class Kind(IntEnum):
    GROUND = 0
    BOX = 1
    CYLINDER = 2


class Material(IntEnum):
    GROUND = 0  # asphalt, lane markings (class from road coordinates)
    SIDEWALK = 1  # paving stones on top, kerb stones on the sides
    FACADE = 2  # bricks / plaster / flat paint with windows
    FOLIAGE = 3  # tree canopies and hedges
    BARK = 4
    METAL = 5  # poles, lamp arms
    SIGN = 6  # traffic sign plates
    PAINT = 7  # vehicle bodies (lights, plate, bumper)
    GLASS = 8  # vehicle cabins (windows, pillars, roof)
    TYRE = 9  # wheels


AUX_SIZE = 6


@dataclass
class Primitives:
    """``P`` primitives as numpy arrays.

    Attributes:
        kind: ``[P]`` :class:`Kind`.
        center: ``[P,3]`` world centre (box centre; cylinder axis mid-point).
        yaw: ``[P]`` box rotation about world y (radians); 0 for cylinders.
        half: ``[P,3]`` box half extents (local x, y, z); cylinders
            ``(radius, half height, radius)``.
        material: ``[P]`` :class:`Material`.
        cls: ``[P]`` :class:`ClassId`.
        colour: ``[P,3]`` base albedo in ``[0,1]``.
        aux: ``[P,AUX_SIZE]`` material parameters (texture offset, window layout, ...).
    """

    kind: np.ndarray
    center: np.ndarray
    yaw: np.ndarray
    half: np.ndarray
    material: np.ndarray
    cls: np.ndarray
    colour: np.ndarray
    aux: np.ndarray

    def __len__(self) -> int:
        return len(self.kind)

    @staticmethod
    def concat(parts: list[Primitives]) -> Primitives:
        return Primitives(
            *(np.concatenate([getattr(p, name) for p in parts]) for name in Primitives._fields())
        )

    @staticmethod
    def _fields() -> tuple[str, ...]:
        return ("kind", "center", "yaw", "half", "material", "cls", "colour", "aux")

    def corners(self) -> np.ndarray:
        """``[P,8,3]`` world corners of each primitive's bounding box (ground: zeros)."""
        signs = np.array([[i, j, k] for i in (-1, 1) for j in (-1, 1) for k in (-1, 1)], float)
        local = signs[None] * self.half[:, None, :]  # [P,8,3]
        c, s = np.cos(self.yaw)[:, None], np.sin(self.yaw)[:, None]
        x = c * local[..., 0] + s * local[..., 2]
        z = -s * local[..., 0] + c * local[..., 2]
        out = np.stack([x, local[..., 1], z], -1) + self.center[:, None, :]
        out[self.kind == Kind.GROUND] = 0.0
        return out


@dataclass
class PrimitiveBuilder:
    """Collects primitives one by one; :meth:`build` returns the arrays."""

    camera_height: float
    rows: list[tuple] = field(default_factory=list)

    def _add(self, kind, center, yaw, half, material, cls, colour, aux) -> None:
        aux = tuple(aux) + (0.0,) * (AUX_SIZE - len(aux))
        self.rows.append((kind, tuple(center), yaw, tuple(half), material, cls, tuple(colour), aux))

    def ground(self, colour, aux=()) -> None:
        self._add(Kind.GROUND, (0, 0, 0), 0.0, (0, 0, 0), Material.GROUND, ClassId.ROAD, colour,
                  aux)

    def box(self, x, z, yaw, bottom, top, half_x, half_z, material, cls, colour, aux=()) -> None:
        """A box centred on ground point ``(x, z)``, ``bottom`` to ``top`` metres above the road."""
        y = self.camera_height - 0.5 * (bottom + top)
        half = (half_x, 0.5 * (top - bottom), half_z)
        self._add(Kind.BOX, (x, y, z), yaw, half, material, cls, colour, aux)

    def cylinder(self, x, z, radius, bottom, top, material, cls, colour, aux=()) -> None:
        y = self.camera_height - 0.5 * (bottom + top)
        half = (radius, 0.5 * (top - bottom), radius)
        self._add(Kind.CYLINDER, (x, y, z), 0.0, half, material, cls, colour, aux)

    def rigid_box(self, origin, yaw, offset, bottom, top, half_x, half_z, material, cls, colour,
                  aux=()) -> None:
        """A box at ``offset = (dx, dz)`` in the frame of ``origin = (x, z)`` rotated by ``yaw``."""
        dx, dz = offset
        c, s = np.cos(yaw), np.sin(yaw)
        x = origin[0] + c * dx + s * dz
        z = origin[1] - s * dx + c * dz
        self.box(x, z, yaw, bottom, top, half_x, half_z, material, cls, colour, aux)

    def build(self) -> Primitives:
        if not self.rows:
            return Primitives(
                np.zeros(0, np.int64), np.zeros((0, 3)), np.zeros(0), np.zeros((0, 3)),
                np.zeros(0, np.int64), np.zeros(0, np.int64), np.zeros((0, 3)),
                np.zeros((0, AUX_SIZE)),
            )
        cols = list(zip(*self.rows))
        return Primitives(
            kind=np.array(cols[0], np.int64),
            center=np.array(cols[1], np.float64),
            yaw=np.array(cols[2], np.float64),
            half=np.array(cols[3], np.float64),
            material=np.array(cols[4], np.int64),
            cls=np.array(cols[5], np.int64),
            colour=np.array(cols[6], np.float64),
            aux=np.array(cols[7], np.float64),
        )
