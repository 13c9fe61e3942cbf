"""KITTI calibration files: ``calib_cam_to_cam.txt`` and ``calib_velo_to_cam.txt`` of a date folder
(:mod:`packdepth.data.kitti.layout`).

A Velodyne point ``X`` projects into camera ``c`` as
``P_rect_0c @ R_rect_00 @ [R|T]_velo_to_cam @ X``.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from packdepth.data.intrinsics import check_intrinsics
from packdepth.errors import PackdepthError
from packdepth.io.atomic import write_text


def read_calib_file(path: str | os.PathLike) -> dict[str, np.ndarray]:
    """Read a KITTI ``key: v1 v2 ...`` calibration file; non-numeric entries (dates) are skipped."""
    path = Path(path)
    if not path.is_file():
        raise PackdepthError(f"{path}: calibration file not found")
    out: dict[str, np.ndarray] = {}
    for lineno, line in enumerate(path.read_text(errors="replace").splitlines(), 1):
        if not line.strip():
            continue
        key, sep, value = line.partition(":")
        if not sep:
            raise PackdepthError(f"{path}:{lineno}: expected 'key: values', got {line[:40]!r}")
        try:
            out[key.strip()] = np.array([float(v) for v in value.split()], dtype=np.float64)
        except ValueError:
            continue  # e.g. calib_time: 09-Jan-2012 13:57:47
    return out


def write_calib_file(path: str | os.PathLike, entries: dict[str, np.ndarray | str]) -> None:
    """Write a KITTI calibration file (atomically); arrays are flattened row-major."""
    lines = []
    for key, value in entries.items():
        if isinstance(value, str):
            lines.append(f"{key}: {value}")
        else:
            flat = np.asarray(value, dtype=np.float64).reshape(-1)
            lines.append(f"{key}: " + " ".join(f"{v:.12e}" for v in flat))
    write_text(path, "\n".join(lines) + "\n")


def _entry(calib: dict[str, np.ndarray], key: str, size: int, path: Path) -> np.ndarray:
    if key not in calib:
        raise PackdepthError(f"{path}: missing calibration entry {key}")
    if calib[key].size != size:
        raise PackdepthError(f"{path}: {key} has {calib[key].size} values, expected {size}")
    return calib[key]


@dataclass(frozen=True)
class KittiCalibration:
    """Calibration of one KITTI recording day (one camera).

    Attributes:
        P_rect: ``[3,4]`` rectified projection of the camera.
        R_rect: ``[4,4]`` rectifying rotation ``R_rect_00`` padded to 4x4.
        size: rectified image size ``(width, height)`` (``S_rect_0X``).
        velo_to_cam: ``[4,4]`` Velodyne-to-camera-0 transform, or ``None`` when unknown.
    """

    P_rect: np.ndarray
    R_rect: np.ndarray
    size: tuple[int, int]
    velo_to_cam: np.ndarray | None = None

    @property
    def K(self) -> np.ndarray:
        """``[3,3]`` intrinsics of the rectified camera."""
        return self.P_rect[:, :3].copy()

    @property
    def velo_to_image(self) -> np.ndarray:
        """``[3,4]`` projection of homogeneous Velodyne points into the image."""
        if self.velo_to_cam is None:
            raise PackdepthError("no calib_velo_to_cam.txt: Velodyne points cannot be projected")
        return self.P_rect @ self.R_rect @ self.velo_to_cam


def load_calibration(date_dir: str | os.PathLike, cam: int = 2) -> KittiCalibration:
    """Read a date folder's ``calib_cam_to_cam.txt`` (and ``calib_velo_to_cam.txt`` if present)."""
    date_dir = Path(date_dir)
    cam_path = date_dir / "calib_cam_to_cam.txt"
    cam_calib = read_calib_file(cam_path)
    P_rect = _entry(cam_calib, f"P_rect_0{cam}", 12, cam_path).reshape(3, 4)
    R_rect = np.eye(4)
    R_rect[:3, :3] = _entry(cam_calib, "R_rect_00", 9, cam_path).reshape(3, 3)
    size_xy = _entry(cam_calib, f"S_rect_0{cam}", 2, cam_path)
    if not (size_xy >= 1).all():
        raise PackdepthError(f"{cam_path}: S_rect_0{cam} must be a positive size, got {size_xy}")
    check_intrinsics(P_rect[:, :3], int(size_xy[0]), int(size_xy[1]), f"{cam_path} (P_rect_0{cam})")
    velo_path = date_dir / "calib_velo_to_cam.txt"
    velo_to_cam = None
    if velo_path.is_file():
        velo = read_calib_file(velo_path)
        velo_to_cam = np.eye(4)
        velo_to_cam[:3, :3] = _entry(velo, "R", 9, velo_path).reshape(3, 3)
        velo_to_cam[:3, 3] = _entry(velo, "T", 3, velo_path)
    return KittiCalibration(P_rect, R_rect, (int(size_xy[0]), int(size_xy[1])), velo_to_cam)
