"""Tiny on-disk datasets for the data tests: a KITTI-layout drive with known content and GT."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PIL import Image

from packdepth.data.kitti import image_path, write_calib_file, write_depth_png

DATE = "2030_01_01"
DRIVE = f"{DATE}/{DATE}_drive_0001_sync"
K_NATIVE = np.array([[50.0, 0.0, 31.5], [0.0, 50.0, 23.5], [0.0, 0.0, 1.0]])
WIDTH, HEIGHT = 64, 48


def frame_pixels(i: int, width: int = WIDTH, height: int = HEIGHT) -> np.ndarray:
    """A distinct, smooth ``[H,W,3]`` uint8 frame for index ``i`` (codec-friendly)."""
    v, u = np.mgrid[0:height, 0:width].astype(np.float64)
    r = 128 + 100 * np.sin(u / 9.0 + 0.7 * i)
    g = 128 + 100 * np.cos(v / 7.0 - 0.5 * i)
    b = np.full_like(u, (40 * i) % 256)
    return np.stack([r, g, b], -1).round().astype(np.uint8)


def make_drive(
    root: Path,
    frames: int = 5,
    *,
    baseline: float = 0.0,
    poses: np.ndarray | None = None,
    speeds: list[float] | None = None,
    timestamps: list[float] | None = None,
    semantic: bool = False,
    depth: bool = False,
) -> Path:
    """Write a KITTI-layout drive under ``root``; returns the drive folder.

    ``baseline`` is camera 2's offset from camera 0 along x (metres): ``P_rect_02[:, 3] = K t``
    with ``t = (baseline, 0, 0)``. ``poses`` ``[N,4,4]`` are camera-0-to-world.
    """
    date_dir = root / DATE
    P = np.concatenate([K_NATIVE, (K_NATIVE @ [baseline, 0.0, 0.0])[:, None]], 1)
    write_calib_file(
        date_dir / "calib_cam_to_cam.txt",
        {"R_rect_00": np.eye(3), "P_rect_02": P, "S_rect_02": np.array([WIDTH, HEIGHT])},
    )
    drive = root / DRIVE
    for i in range(frames):
        path = image_path(drive, i, 2)
        path.parent.mkdir(parents=True, exist_ok=True)
        Image.fromarray(frame_pixels(i)).save(path)
        if semantic:
            labels = np.zeros((HEIGHT, WIDTH), np.uint8)
            labels[:, WIDTH // 2 :] = i + 1  # right half labelled
            sem = drive / "semantic" / "image_02" / path.name
            sem.parent.mkdir(parents=True, exist_ok=True)
            Image.fromarray(labels).save(sem)
        if depth:
            d = np.full((HEIGHT, WIDTH), 10.0 + i)
            gt = drive / "proj_depth" / "groundtruth" / "image_02" / path.name
            write_depth_png(gt, d)
    if poses is not None:
        lines = [" ".join(f"{v:.12e}" for v in p[:3].reshape(-1)) for p in poses]
        (drive / "poses.txt").write_text("\n".join(lines) + "\n")
    if speeds is not None:
        (drive / "speed.txt").write_text("".join(f"{s}\n" for s in speeds))
    if timestamps is not None:
        (drive / "image_02" / "timestamps.txt").write_text("".join(f"{t}\n" for t in timestamps))
    return drive
