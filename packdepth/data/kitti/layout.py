"""KITTI raw: the folder layout, the camera sides and the depth PNGs.

Layout (KITTI raw)::

    ROOT/<date>/calib_cam_to_cam.txt            P_rect_0X, R_rect_00, S_rect_0X, ...
    ROOT/<date>/calib_velo_to_cam.txt           R, T
    ROOT/<date>/<date>_drive_<NNNN>_sync/image_02/data/<10-digit>.png
    ROOT/<date>/<date>_drive_<NNNN>_sync/velodyne_points/data/<10-digit>.bin
    ROOT/<date>/<date>_drive_<NNNN>_sync/proj_depth/groundtruth/image_02/<10-digit>.png

Calibration: :mod:`packdepth.data.kitti.calibration`; scans: :mod:`packdepth.data.kitti.velodyne`.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
from PIL import Image

from packdepth.errors import PackdepthError
from packdepth.io.atomic import atomic_path

#: The camera of each side, as split files name them: ``l`` = ``image_02``, ``r`` = ``image_03``.
SIDES: dict[str, int] = {"l": 2, "r": 3}
#: Depth PNGs hold metres x 256 as uint16.
DEPTH_PNG_SCALE = 256.0


def read_depth_png(path: str | os.PathLike, scale: float = DEPTH_PNG_SCALE) -> np.ndarray:
    """Read a KITTI-style uint16 depth PNG as float32 metres (0 = no depth)."""
    path = Path(path)
    try:
        with Image.open(path) as img:
            arr = np.array(img)
    except FileNotFoundError:
        raise PackdepthError(f"{path}: depth file not found") from None
    except OSError as exc:
        raise PackdepthError(f"{path}: not a readable PNG ({exc})") from None
    if arr.ndim != 2 or arr.dtype not in (np.uint16, np.int32, np.uint8):
        raise PackdepthError(f"{path}: expected a single-channel 16-bit depth PNG, got {arr.dtype}")
    return arr.astype(np.float32) / scale


def write_depth_png(
    path: str | os.PathLike, depth: np.ndarray, scale: float = DEPTH_PNG_SCALE
) -> None:
    """Write metres as a uint16 PNG (``round(depth * scale)``; 0, NaN and inf mean no depth)."""
    d = np.nan_to_num(np.asarray(depth, np.float64), nan=0.0, posinf=0.0, neginf=0.0)
    value = np.clip(np.round(d * scale), 0, 65535).astype(np.uint16)
    with atomic_path(path) as tmp:
        Image.fromarray(value).save(tmp, format="PNG")


def frame_name(index: int) -> str:
    """KITTI's 10-digit frame file stem."""
    return f"{index:010d}"


def drive_dir(root: str | os.PathLike, date: str, drive: int) -> Path:
    """``ROOT/<date>/<date>_drive_<NNNN>_sync``."""
    return Path(root) / date / f"{date}_drive_{drive:04d}_sync"


def image_path(drive_path: str | os.PathLike, index: int, cam: int = 2) -> Path:
    """Path of a frame's PNG in a drive folder."""
    return Path(drive_path) / f"image_0{cam}" / "data" / f"{frame_name(index)}.png"


def velodyne_path(drive_path: str | os.PathLike, index: int) -> Path:
    """Path of a frame's Velodyne scan in a drive folder."""
    return Path(drive_path) / "velodyne_points" / "data" / f"{frame_name(index)}.bin"


def gt_depth_path(drive_path: str | os.PathLike, index: int, cam: int = 2) -> Path:
    """Path of a frame's annotated/rendered depth PNG (``proj_depth/groundtruth``)."""
    return (
        Path(drive_path)
        / "proj_depth"
        / "groundtruth"
        / f"image_0{cam}"
        / (f"{frame_name(index)}.png")
    )
