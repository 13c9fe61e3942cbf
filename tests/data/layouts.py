"""Tiny on-disk datasets for the data tests: KITTI-layout drives and DGP (DDAD) scenes with known
content and GT, frames in 8 or 16 bits."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import numpy as np
from PIL import Image

from packdepth.data.kitti.calibration import write_calib_file
from packdepth.data.kitti.layout import image_path, write_depth_png

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


def grey_pixels(i: int, width: int = WIDTH, height: int = HEIGHT) -> np.ndarray:
    """A distinct ``[H,W]`` float64 grey picture in [0, 1] for index ``i``."""
    return frame_pixels(i, width, height).astype(np.float64).mean(-1) / 255.0


def save_grey(path: Path, grey: np.ndarray, bits: int) -> None:
    """Write a [0, 1] picture as an 8-bit (mode ``L``) or 16-bit (``I;16``) grey image file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    full = (1 << bits) - 1
    values = np.round(grey * full).astype(np.uint8 if bits == 8 else np.uint16)
    Image.fromarray(values).save(path)


def grey_writer(bits: int) -> Callable[[Path, int], None]:
    """A ``write_image`` for :func:`make_drive` / :func:`make_ddad`: frame ``i`` is
    :func:`grey_pixels` ``(i)`` in ``bits`` bits."""
    return lambda path, i: save_grey(path, grey_pixels(i), bits)


def make_drive(
    root: Path,
    frames: int = 5,
    *,
    write_image: Callable[[Path, int], None] | None = None,
    baseline: float = 0.0,
    poses: np.ndarray | None = None,
    speeds: list[float] | None = None,
    timestamps: list[float] | None = None,
    semantic: bool = False,
    depth: bool = False,
) -> Path:
    """Write a KITTI-layout drive under ``root``; returns the drive folder.

    ``baseline`` is camera 2's offset from camera 0 along x (metres): ``P_rect_02[:, 3] = K t``
    with ``t = (baseline, 0, 0)``. ``poses`` ``[N,4,4]`` are camera-0-to-world. Frame ``i`` is
    :func:`frame_pixels` ``(i)`` unless ``write_image(path, i)`` writes it.
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
        if write_image is None:
            Image.fromarray(frame_pixels(i)).save(path)
        else:
            write_image(path, i)
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


def make_ddad(
    root: Path,
    frames: int = 3,
    *,
    write_image: Callable[[Path, int], None] | None = None,
    K: np.ndarray = K_NATIVE,
    size: tuple[int, int] = (WIDTH, HEIGHT),
    camera: str = "CAMERA_01",
) -> Path:
    """Write a one-scene DGP dataset (the fields :mod:`packdepth.data.ddad` reads), camera only,
    frames 0.1 s apart, ``K`` at ``size`` in the calibration; returns ``root``."""
    scene = root / "scene_000"
    data, samples = [], []
    for i in range(frames):
        filename = f"rgb/{camera}/{i:03d}.png"
        path = scene / filename
        path.parent.mkdir(parents=True, exist_ok=True)
        (write_image or (lambda p, j: Image.fromarray(frame_pixels(j)).save(p)))(path, i)
        stamp = f"2020-01-01T00:00:0{i // 10}.{i % 10}00000Z"
        image = {"filename": filename, "width": size[0], "height": size[1],
                 "pose": {"translation": {"x": 0.0, "y": 0.0, "z": float(i)}}}
        data.append({"key": f"k{i}", "id": {"name": camera, "timestamp": stamp},
                     "datum": {"image": image}})
        samples.append({"calibration_key": "calib", "datum_keys": [f"k{i}"],
                        "id": {"timestamp": stamp}})
    (scene / "scene_000.json").write_text(json.dumps({"data": data, "samples": samples}))
    fx, fy, cx, cy = K[0, 0], K[1, 1], K[0, 2], K[1, 2]
    (scene / "calibration").mkdir()
    (scene / "calibration" / "calib.json").write_text(json.dumps(
        {"names": [camera], "intrinsics": [{"fx": fx, "fy": fy, "cx": cx, "cy": cy, "skew": 0}]}
    ))
    (root / "scene_dataset_v1.0.json").write_text(json.dumps(
        {"scene_splits": {"0": {"filenames": ["scene_000/scene_000.json"]}}}
    ))
    return root
