"""Tiny synthetic streets for the apps tests: exact depth, labels and intrinsics, and a stand-in
depth network that returns a known depth per frame."""

from __future__ import annotations

from functools import lru_cache

import numpy as np
import torch
from torch import nn

from packdepth.data.synthetic import SynthParams, kitti_intrinsics, render_sequence
from packdepth.data.synthetic.sequence import Frame
from packdepth.inference.model import Model

H, W = 48, 160
#: The renderer's camera height (SynthParams default, the KITTI camera's).
CAMERA_HEIGHT = 1.65


@lru_cache(maxsize=4)
def street(seed: int = 3, frames: int = 3) -> tuple[Frame, ...]:
    """Frames of a rendered street at ``H x W`` (KITTI intrinsics, camera 1.65 m high)."""
    return tuple(render_sequence(SynthParams(height=H, width=W, frames=frames, seed=seed)))


def street_K() -> np.ndarray:
    return kitti_intrinsics(H, W)


def wall_depth(distance: float = 5.0) -> np.ndarray:
    """A fronto-parallel wall filling the view: the same depth everywhere."""
    return np.full((H, W), distance)


def plane_depth(K: np.ndarray, normal: np.ndarray, height: float) -> np.ndarray:
    """Depth of the plane ``n · p = -height`` (``n`` unit, pointing to the camera's side) seen
    through ``K``; 0 where a ray does not meet it in front of the camera."""
    v, u = np.mgrid[0:H, 0:W].astype(np.float64)
    rays = np.linalg.inv(K) @ np.stack([u.ravel(), v.ravel(), np.ones(u.size)])
    t = -height / (np.asarray(normal) @ rays)
    return np.where(t > 0, t, 0.0).reshape(H, W)


class KnownDepthNet(nn.Module):
    """Stand-in depth network: frame ``i`` (its red value at pixel (0, 0) is ``i / 255``) gets
    ``depths[i]`` (0 = nothing there: far away)."""

    def __init__(self, depths: list[np.ndarray]) -> None:
        super().__init__()
        d = torch.from_numpy(np.stack(depths)).float()[:, None]
        self.register_buffer("inv", torch.where(d > 0, 1.0 / d.clamp_min(1e-6), 1e-6))

    def forward(self, image: torch.Tensor) -> list[torch.Tensor]:
        index = (image[:, 0, 0, 0] * 255).round().long()
        return [self.inv[index]]


def mark(rgb: np.ndarray, index: int) -> np.ndarray:
    """``rgb`` with pixel (0, 0) red set to ``index`` (read by :class:`KnownDepthNet`)."""
    out = rgb.copy()
    out[0, 0, 0] = index
    return out


def known_model(depths: list[np.ndarray], metric: bool = False) -> Model:
    """A :class:`Model` around :class:`KnownDepthNet`, at the frames' own size."""
    return Model(KnownDepthNet(depths).eval(), None, (H, W), metric, "test", torch.device("cpu"))
