"""The camera's trajectory: driving along the right-hand lane with varying speed and small jitter.

Poses are camera-to-world ``[4,4]`` (KITTI odometry convention: camera x right, y down, z forward;
world frame as in :mod:`packdepth.data.synthetic.road`). The camera centre stays exactly
``camera_height`` above the road; its heading follows the lane, plus smooth yaw/pitch/roll
jitter (sums of sinusoids, a fraction of a degree) so a pose network sees all six degrees of
freedom.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from packdepth.data.synthetic.road import Road


def _rot_x(a: float) -> np.ndarray:
    c, s = np.cos(a), np.sin(a)
    return np.array([[1.0, 0.0, 0.0], [0.0, c, -s], [0.0, s, c]])


def _rot_y(a: float) -> np.ndarray:
    c, s = np.cos(a), np.sin(a)
    return np.array([[c, 0.0, s], [0.0, 1.0, 0.0], [-s, 0.0, c]])


def _rot_z(a: float) -> np.ndarray:
    c, s = np.cos(a), np.sin(a)
    return np.array([[c, -s, 0.0], [s, c, 0.0], [0.0, 0.0, 1.0]])


@dataclass(frozen=True)
class Jitter:
    """``angle(t) = sum_k amplitude_k sin(2 pi frequency_k t + phase_k)`` (radians, Hz)."""

    amplitudes: tuple[float, ...]
    frequencies: tuple[float, ...]
    phases: tuple[float, ...]

    def __call__(self, t: float) -> float:
        return float(
            sum(a * np.sin(2 * np.pi * f * t + p)
                for a, f, p in zip(self.amplitudes, self.frequencies, self.phases))
        )

    @classmethod
    def random(cls, rng: np.random.Generator, amplitude_deg: float) -> Jitter:
        amps = rng.uniform(0.3, 1.0, 3) * np.deg2rad(amplitude_deg) / 2.0
        freqs = rng.uniform(0.1, 1.5, 3)
        return cls(tuple(amps), tuple(freqs), tuple(rng.uniform(0, 2 * np.pi, 3)))


@dataclass(frozen=True)
class CameraPath:
    """Arc length ``s(t) = v0 t + (v0 r T / 2 pi) (cos(phase) - cos(2 pi t / T + phase))``.

    The speed along the lane is ``v0 (1 + r sin(2 pi t / T + phase))``.
    """

    road: Road
    mean_speed: float
    speed_ripple: float
    speed_period: float
    speed_phase: float
    yaw: Jitter
    pitch: Jitter
    roll: Jitter
    camera_height: float = 1.65

    def arc_length(self, t: float) -> float:
        w = 2 * np.pi / self.speed_period
        ripple = self.mean_speed * self.speed_ripple / w
        return self.mean_speed * t + ripple * (
            np.cos(self.speed_phase) - np.cos(w * t + self.speed_phase)
        )

    def position(self, t: float) -> np.ndarray:
        """Camera centre ``[3]`` in the world frame (``y = 0``: camera_height above the road)."""
        x, z, _ = self.road.frame_at(self.arc_length(t), self.road.camera_lateral)
        return np.array([float(x), 0.0, float(z)])

    def pose(self, t: float) -> np.ndarray:
        """Camera-to-world ``[4,4]`` at time ``t`` (seconds)."""
        _, _, heading = self.road.frame_at(self.arc_length(t), self.road.camera_lateral)
        R = _rot_y(float(heading) + self.yaw(t)) @ _rot_x(self.pitch(t)) @ _rot_z(self.roll(t))
        T = np.eye(4)
        T[:3, :3] = R
        T[:3, 3] = self.position(t)
        return T

    def speed(self, t: float, dt: float = 1e-3) -> float:
        """Speed of the camera centre (m/s), by a central difference of :meth:`position`."""
        return float(np.linalg.norm(self.position(t + dt) - self.position(t - dt)) / (2 * dt))

    @classmethod
    def random(cls, rng: np.random.Generator, road: Road, camera_height: float) -> CameraPath:
        return cls(
            road=road,
            mean_speed=float(rng.uniform(5.8, 13.2)),  # with the ripple: 5..15 m/s
            speed_ripple=float(rng.uniform(0.0, 0.11)),
            speed_period=float(rng.uniform(6.0, 20.0)),
            speed_phase=float(rng.uniform(0, 2 * np.pi)),
            yaw=Jitter.random(rng, 0.6),
            pitch=Jitter.random(rng, 0.8),
            roll=Jitter.random(rng, 0.5),
            camera_height=camera_height,
        )
