"""Helpers for evaluation tests: a tiny KITTI-layout folder with known geometry, stand-in nets."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch
from torch import nn

from packdepth.data.kitti.calibration import write_calib_file

DATE = "2011_09_26"
DRIVE = f"{DATE}/{DATE}_drive_0001_sync"
KITTI_TINY_DRIVE = "2011_09_26/2011_09_26_drive_9999_sync"


class ConstantInvDepth(nn.Module):
    """Stand-in depth net: inverse depth ``1/depth`` everywhere, 4 scales; records input shapes."""

    def __init__(self, depth: float) -> None:
        super().__init__()
        self.inv = nn.Parameter(torch.tensor(1.0 / depth))
        self.seen: list[tuple[int, ...]] = []

    def forward(self, image: torch.Tensor) -> list[torch.Tensor]:
        self.seen.append(tuple(image.shape))
        b, _, h, w = image.shape
        return [self.inv.expand(b, 1, h >> s, w >> s).clone() for s in range(4)]


class ColumnRampInvDepth(nn.Module):
    """Stand-in net that is *not* flip-equivariant: inverse depth ``1 + u`` at column ``u``."""

    def forward(self, image: torch.Tensor) -> list[torch.Tensor]:
        b, _, h, w = image.shape
        u = torch.arange(w, dtype=image.dtype).expand(b, 1, h, w)
        return [1.0 + u]


class ImageInvDepth(nn.Module):
    """Stand-in net that reads depth off the image: inverse depth ``0.05 + red``."""

    def forward(self, image: torch.Tensor) -> torch.Tensor:
        return 0.05 + image[:, :1]


def write_tiny_calibration(root: Path, f: float = 100.0, size: tuple[int, int] = (40, 12)) -> None:
    """Pinhole ``P_rect_02`` (focal ``f``, centre at the middle) and a Velodyne frame whose x axis
    is the camera's z (forward), y the camera's −x, z the camera's −y."""
    w, h = size
    P = np.array([[f, 0, (w - 1) / 2, 0], [0, f, (h - 1) / 2, 0], [0, 0, 1, 0]])
    write_calib_file(
        root / DATE / "calib_cam_to_cam.txt",
        {
            "P_rect_02": P,
            "P_rect_03": P,
            "R_rect_00": np.eye(3),
            "S_rect_02": np.array(size),
            "S_rect_03": np.array(size),
        },
    )
    R = np.array([[0.0, -1.0, 0.0], [0.0, 0.0, -1.0], [1.0, 0.0, 0.0]])
    write_calib_file(root / DATE / "calib_velo_to_cam.txt", {"R": R, "T": np.zeros(3)})
