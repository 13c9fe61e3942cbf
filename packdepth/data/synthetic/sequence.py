"""Render sequences of the synthetic street: parameters, frames, camera intrinsics, low light."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np
import torch
from torch import Tensor

from packdepth.config import check_image_size
from packdepth.data.synthetic.raycast import RayGrid
from packdepth.data.synthetic.render import render_view
from packdepth.data.synthetic.scene import World, build_world
from packdepth.errors import PackdepthError
from packdepth.geometry import intrinsics_matrix, scale_intrinsics

# KITTI raw 2011_09_26, P_rect_02 (left colour camera) at its native 1242 x 375.
KITTI_SIZE = (1242, 375)
KITTI_FOCAL = 721.5377
KITTI_CENTRE = (609.5593, 172.854)
MIN_SIZE, MAX_SIZE = 8, 4096  # image sides the renderer accepts, pixels


def kitti_intrinsics(height: int, width: int) -> np.ndarray:
    """KITTI's ``P_rect_02`` intrinsics scaled to ``height x width`` (pixel-centre convention).

    Returns:
        ``[3,3]`` float64.
    """
    K = intrinsics_matrix(KITTI_FOCAL, KITTI_FOCAL, *KITTI_CENTRE, dtype=torch.float64)
    return scale_intrinsics(K, width / KITTI_SIZE[0], height / KITTI_SIZE[1]).numpy()


@dataclass(frozen=True)
class SynthParams:
    """What to render: image size, sequence length, seed and the optional challenges.

    Attributes:
        dynamic: add vehicles moving on their own (followers ahead, oncoming traffic).
        jam: a slow traffic jam (implies ``dynamic``): the camera crawls at 1-4 m/s with a queue
            of cars and trucks alongside, moving with it, and a close follower ahead.
        low_light: dim, low-contrast, noisy images (seeded noise).
        max_depth: geometry farther than this (z, metres) is not rendered (sky, depth 0).
    """

    height: int = 192
    width: int = 640
    frames: int = 100
    seed: int = 0
    dynamic: bool = False
    jam: bool = False
    low_light: bool = False
    fps: float = 10.0
    max_depth: float = 80.0
    camera_height: float = 1.65

    def validate(self) -> None:
        """Raise :class:`PackdepthError` (one line) for unusable values."""
        if not isinstance(self.frames, int) or self.frames < 1:
            raise PackdepthError(f"--frames: must be an integer >= 1, got {self.frames!r}")
        check_image_size(self.height, self.width, "--height/--width", MIN_SIZE, MAX_SIZE)
        if not isinstance(self.seed, int) or self.seed < 0:
            raise PackdepthError(f"--seed: must be a non-negative integer, got {self.seed!r}")
        if not self.fps > 0 or not 5.0 <= self.max_depth <= 250.0:
            raise PackdepthError("fps must be positive and max_depth within [5, 250] metres")

    @property
    def duration(self) -> float:
        """Seconds from the first to the last frame."""
        return (self.frames - 1) / self.fps


@dataclass
class Frame:
    """One rendered frame.

    Attributes:
        rgb: ``[H,W,3]`` uint8.
        depth: ``[H,W]`` float32 metres (z along the optical axis), 0 where nothing was hit.
        semantic: ``[H,W]`` uint8 class ids (:data:`~packdepth.data.synthetic.CLASSES`).
        pose: ``[4,4]`` float64 camera-to-world.
        timestamp: seconds since the first frame.
        speed: speed of the camera (m/s) at this instant.
    """

    index: int
    rgb: np.ndarray
    depth: np.ndarray
    semantic: np.ndarray
    pose: np.ndarray
    timestamp: float
    speed: float


def low_light(rgb: Tensor, rng: np.random.Generator) -> Tensor:
    """Night-time look for ``[H,W,3]`` in [0,1]: dim, warm, low contrast, shot + read noise."""
    dim = 0.03 + 0.16 * rgb * torch.tensor([1.0, 0.88, 0.7])
    sigma = torch.sqrt(1.5e-4 + 4e-3 * dim)
    noise = torch.from_numpy(rng.standard_normal(tuple(rgb.shape), dtype=np.float32))
    return dim + sigma * noise


def render_frame(world: World, params: SynthParams, index: int, sequence: int = 0,
                 grid: RayGrid | None = None) -> Frame:
    """Render frame ``index`` of a world built with :func:`build_world`."""
    K = kitti_intrinsics(params.height, params.width)
    t = index / params.fps
    view = render_view(world, t, K, params.height, params.width, params.max_depth, grid)
    rgb = view.rgb
    if params.low_light:
        # per-frame sensor noise, independent of the scene's random streams
        rgb = low_light(rgb, np.random.default_rng([params.seed, sequence, index, 7]))
    rgb8 = (rgb.clamp(0.0, 1.0) * 255.0).round().to(torch.uint8).numpy()
    return Frame(
        index=index, rgb=rgb8, depth=view.depth.numpy(), semantic=view.semantic.numpy(),
        pose=world.path.pose(t), timestamp=t, speed=world.path.speed(t),
    )


def sequence_world(params: SynthParams, sequence: int = 0) -> World:
    """The world of sequence ``sequence`` for ``params`` (validated)."""
    params.validate()
    return build_world(params.seed, sequence, params.duration, max_depth=params.max_depth,
                       camera_height=params.camera_height, dynamic=params.dynamic,
                       jam=params.jam)


def render_sequence(params: SynthParams, sequence: int = 0) -> Iterator[Frame]:
    """Render the frames of one sequence, in order.

    The same ``params`` and ``sequence`` always give byte-identical frames; each
    ``(seed, sequence)`` is a different street.
    """
    world = sequence_world(params, sequence)
    K = kitti_intrinsics(params.height, params.width)
    grid = RayGrid.half_pixel(K, params.height, params.width)
    for index in range(params.frames):
        yield render_frame(world, params, index, sequence, grid)
