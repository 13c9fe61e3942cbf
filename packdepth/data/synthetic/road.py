"""The road: a gently curving centreline on the flat ground, and road coordinates.

World frame (used by the whole synthetic world and by ``poses.txt``): origin at the first camera's
centre, x right, y down, z forward along the road's initial direction, so the road surface is the
plane ``y = camera_height`` exactly (the camera's pitch/roll jitter rotates the camera, not the
road). The centreline is ``x = centre_x(z)``, a sum of ``a_k (1 - cos(w_k z))`` terms shifted so
that the camera starts at the origin in the right-hand lane, heading along ``+z``.

Road coordinates of a ground point: ``lateral`` (metres to the right of the centreline, along its
normal) and ``along`` (the ``z`` of the nearest centreline point; world-fixed and monotone).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

import numpy as np
import torch
from torch import Tensor

Array = np.ndarray | Tensor


def _cos(x: Array) -> Array:
    return torch.cos(x) if isinstance(x, Tensor) else np.cos(x)


def _sin(x: Array) -> Array:
    return torch.sin(x) if isinstance(x, Tensor) else np.sin(x)


@dataclass(frozen=True)
class Road:
    """Cross-section and centreline of a two-lane street with parking strips.

    Attributes:
        lane_width: one driving lane (metres); the camera drives at ``lateral = lane_width / 2``.
        parking_width: parking strip outside each lane (part of the road surface).
        sidewalk_width: from the kerb to the building line.
        kerb_height: height of the raised sidewalk.
        amplitudes, frequencies: centreline terms ``a_k`` (m) and ``w_k`` (rad/m).
        length: the arc length (m) the arc-length table must cover ahead of the start.
    """

    lane_width: float
    parking_width: float
    sidewalk_width: float
    kerb_height: float
    amplitudes: tuple[float, ...]
    frequencies: tuple[float, ...]
    length: float

    @property
    def half_width(self) -> float:
        """Lateral position of the kerb (metres from the centreline)."""
        return self.lane_width + self.parking_width

    @property
    def max_curvature(self) -> float:
        """Upper bound of the centreline's curvature (1/m)."""
        return float(sum(abs(a) * w * w for a, w in zip(self.amplitudes, self.frequencies)))

    @property
    def camera_lateral(self) -> float:
        return 0.5 * self.lane_width

    def centre_x(self, z: Array) -> Array:
        """x of the centreline at ``z`` (numpy or torch, any shape)."""
        x = -self.camera_lateral + 0.0 * z
        for a, w in zip(self.amplitudes, self.frequencies):
            x = x + a * (1.0 - _cos(w * z))
        return x

    def slope(self, z: Array) -> Array:
        """``d centre_x / dz``."""
        d = 0.0 * z
        for a, w in zip(self.amplitudes, self.frequencies):
            d = d + a * w * _sin(w * z)
        return d

    @cached_property
    def _arc_table(self) -> tuple[np.ndarray, np.ndarray]:
        z = np.arange(-300.0, self.length * 1.2 + 300.0, 0.25)
        speed = np.sqrt(1.0 + self.slope(z) ** 2)
        s = np.concatenate([[0.0], np.cumsum(0.5 * (speed[1:] + speed[:-1]) * 0.25)])
        s -= np.interp(0.0, z, s)
        return z, s

    def z_at(self, s: np.ndarray | float) -> np.ndarray:
        """``z`` of the centreline point at arc length ``s`` (0 at the start)."""
        z, arc = self._arc_table
        return np.interp(s, arc, z)

    def frame_at(self, s: np.ndarray | float, lateral: np.ndarray | float = 0.0):
        """Ground position and heading at arc length ``s`` and ``lateral`` offset.

        Returns:
            ``x, z, heading`` (numpy float64); heading is the yaw of the road direction
            ``(sin h, cos h)`` in the ``(x, z)`` plane (positive turns right).
        """
        zc = self.z_at(s)
        heading = np.arctan(self.slope(zc))
        x = self.centre_x(zc) + lateral * np.cos(heading)
        z = zc - lateral * np.sin(heading)
        return x, z, heading

    def road_coords(self, x: Tensor, z: Tensor) -> tuple[Tensor, Tensor]:
        """``lateral, along`` ``[N]`` of ground points ``x, z`` ``[N]`` (torch).

        The nearest centreline point is found by three Gauss-Newton steps from ``z``; for the
        gentle curvature used (radius >= 150 m) both are exact to a millimetre within 12 m of the
        centreline.
        """
        foot = z
        for _ in range(3):
            slope = self.slope(foot)
            foot = foot + ((x - self.centre_x(foot)) * slope + (z - foot)) / (1.0 + slope * slope)
        slope = self.slope(foot)
        norm = torch.sqrt(1.0 + slope * slope)
        lateral = ((x - self.centre_x(foot)) - (z - foot) * slope) / norm
        return lateral, foot
