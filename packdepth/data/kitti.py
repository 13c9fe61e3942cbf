"""KITTI raw files: calibration, Velodyne scans, depth PNGs and the folder layout.

Layout (KITTI raw)::

    ROOT/<date>/calib_cam_to_cam.txt            P_rect_0X, R_rect_00, S_rect_0X, ...
    ROOT/<date>/calib_velo_to_cam.txt           R, T
    ROOT/<date>/<date>_drive_<NNNN>_sync/image_02/data/<10-digit>.png
    ROOT/<date>/<date>_drive_<NNNN>_sync/velodyne_points/data/<10-digit>.bin
    ROOT/<date>/<date>_drive_<NNNN>_sync/proj_depth/groundtruth/image_02/<10-digit>.png

A Velodyne point ``X`` projects into camera ``c`` as
``P_rect_0c @ R_rect_00 @ [R|T]_velo_to_cam @ X``.
Pixel coordinates follow :mod:`packdepth.geometry.camera` (pixel centres at integers), so a point
lands in pixel ``round(u), round(v)``; the reference code's extra ``- 1`` (a MATLAB leftover) is
not applied.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image

from packdepth.data.intrinsics import check_intrinsics
from packdepth.errors import PackdepthError
from packdepth.io.atomic import atomic_path, write_text

DEPTH_PNG_SCALE = 256.0


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


def read_velodyne(path: str | os.PathLike) -> np.ndarray:
    """Read a Velodyne scan: ``[N,4]`` float32 ``x, y, z, reflectance``."""
    path = Path(path)
    data = np.fromfile(path, dtype=np.float32)
    if data.size % 4:
        raise PackdepthError(f"{path}: size is not a multiple of 4 float32 values")
    return data.reshape(-1, 4)


def project_velodyne(points: np.ndarray, calib: KittiCalibration) -> np.ndarray:
    """Project Velodyne points: ``[N,3]`` rows ``u, v, depth`` for points in front of the camera."""
    xyz1 = np.concatenate([points[:, :3], np.ones((len(points), 1), points.dtype)], 1)
    xyz1 = xyz1[points[:, 0] > 0]  # in front of the Velodyne (x forward)
    im = (calib.velo_to_image @ xyz1.T.astype(np.float64)).T
    depth = im[:, 2]
    keep = depth > 0
    im = im[keep]
    return np.stack([im[:, 0] / im[:, 2], im[:, 1] / im[:, 2], im[:, 2]], 1)


def sparse_depth_map(uvz: np.ndarray, height: int, width: int) -> np.ndarray:
    """Rasterise projected points ``[N,3]`` into an ``[H,W]`` depth map, nearest point per pixel.

    Pixels without a point hold 0.
    """
    u = np.round(uvz[:, 0]).astype(np.int64)
    v = np.round(uvz[:, 1]).astype(np.int64)
    z = uvz[:, 2]
    inside = (u >= 0) & (u < width) & (v >= 0) & (v < height) & (z > 0)
    u, v, z = u[inside], v[inside], z[inside]
    depth = np.full(height * width, np.inf)
    np.minimum.at(depth, v * width + u, z)
    depth[np.isinf(depth)] = 0.0
    return depth.reshape(height, width).astype(np.float32)


def velodyne_depth_map(
    scan_path: str | os.PathLike, calib: KittiCalibration, size: tuple[int, int] | None = None
) -> np.ndarray:
    """Sparse ``[H,W]`` depth (metres, 0 = none) of a Velodyne scan at the image's resolution.

    Args:
        size: ``(width, height)``; defaults to the calibration's ``S_rect``.
    """
    width, height = size or calib.size
    return sparse_depth_map(project_velodyne(read_velodyne(scan_path), calib), height, width)


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
