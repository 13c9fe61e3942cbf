"""KITTI raw (and the synthetic world, written in the same layout) as a :class:`SequenceDataset`.

Split files list one target frame per line, e.g. ``2011_09_26/2011_09_26_drive_0022_sync 473 l``
(drive folder relative to the root, frame index, ``l`` = ``image_02`` / ``r`` = ``image_03``;
packnet-sfm's image-path lines work too: :mod:`packdepth.data.kitti.splits`). Without a split
file every frame of every drive that has all its context frames is a target (:func:`drive_split`).

Extras are attached when their files exist (paths relative to the drive folder):

- depth: ``proj_depth/groundtruth/image_0X/<frame>.png`` (uint16, metres·256), else the
  Velodyne scan ``velodyne_points/data/<frame>.bin`` projected into the image.
- pose: ``poses.txt``, line ``i`` = frame ``i``: the 3x4 camera-to-world pose of the rectified
  camera 0 (KITTI odometry convention); the pose of camera ``X`` is shifted by its calibrated
  offset ``K^-1 P_rect_0X[:, 3]``.
- timestamps: ``image_0X/timestamps.txt`` (KITTI's ``2011-09-26 13:02:25.964389445`` or seconds).
- speed: ``speed.txt`` or ``velocity.txt`` (line ``i`` = frame ``i``: the speed in m/s, as
  :mod:`packdepth.data.synthetic.writer` writes it, or ``vx vy vz`` whose norm is used), else
  KITTI's ``oxts/data/<frame>.txt`` (norm of ``vf, vl, vu``).
- semantic: ``semantic/image_0X/<frame>.png`` (uint8 class ids).
"""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Callable
from functools import cached_property, partial
from pathlib import Path

import numpy as np

from packdepth.data.augment import AugmentConfig
from packdepth.data.images import image_size
from packdepth.data.intrinsics import intrinsics_at
from packdepth.data.kitti.calibration import KittiCalibration, load_calibration
from packdepth.data.kitti.layout import (
    SIDES,
    frame_name,
    gt_depth_path,
    image_path,
    read_depth_png,
    velodyne_path,
)
from packdepth.data.kitti.splits import (
    SplitEntry,
    drive_split,
    find_drives,
    frame_indices,
    read_split,
)
from packdepth.data.kitti.velodyne import velodyne_depth_map
from packdepth.data.sequence import FrameRecord, Sample, SequenceDataset
from packdepth.errors import PackdepthError

DEPTH_SOURCES = ("auto", "groundtruth", "velodyne", "none")


def _read_lines(path: Path) -> list[str]:
    return [line for line in path.read_text(errors="replace").splitlines() if line.strip()]


def _parse_time(text: str, path: Path, lineno: int) -> float:
    """Seconds from ``12.5`` or KITTI's ``2011-09-26 13:02:25.964389445``."""
    try:
        return float(text)
    except ValueError:
        pass
    try:
        stamp, _, frac = text.strip().partition(".")
        base = dt.datetime.strptime(stamp, "%Y-%m-%d %H:%M:%S").replace(tzinfo=dt.timezone.utc)
        return base.timestamp() + (float("0." + frac) if frac else 0.0)
    except ValueError:
        raise PackdepthError(f"{path}:{lineno}: not a timestamp: {text[:40]!r}") from None


def _at(values, index: int, path: Path):
    """Line ``index`` of a per-frame file's values."""
    if index >= len(values):
        raise PackdepthError(f"{path}: no line for frame {index} ({len(values)} lines)")
    return values[index]


def _numbers(path: Path, columns: int) -> np.ndarray:
    """``[N, columns]`` floats, one row per non-empty line."""
    rows = []
    for lineno, line in enumerate(_read_lines(path), 1):
        try:
            values = [float(v) for v in line.split()]
        except ValueError:
            raise PackdepthError(f"{path}:{lineno}: expected numbers, got {line[:40]!r}") from None
        if len(values) != columns:
            raise PackdepthError(f"{path}:{lineno}: expected {columns} values, got {len(values)}")
        rows.append(values)
    return np.asarray(rows, np.float64).reshape(-1, columns)


def _speeds(path: Path) -> np.ndarray:
    """``[N]`` speeds from one value per line, or the norms of ``vx vy vz`` lines."""
    lines = _read_lines(path)
    columns = len(lines[0].split()) if lines else 1
    if columns not in (1, 3):
        raise PackdepthError(f"{path}:1: expected a speed or 'vx vy vz', got {columns} values")
    return np.linalg.norm(_numbers(path, columns), axis=1)


class KittiDrive:
    """One drive folder of one camera: calibration and per-frame metadata, read once."""

    def __init__(self, root: Path, drive: str, cam: int) -> None:
        self.root, self.drive, self.cam = root, drive, cam
        self.path = root / drive
        if not self.path.is_dir():
            raise PackdepthError(f"{self.path}: drive folder not found")
        self.calib: KittiCalibration = load_calibration(self.path.parent, cam)
        self.indices = set(frame_indices(self.path, cam))

    @cached_property
    def K(self) -> np.ndarray:
        """``[3,3]`` intrinsics at the size of this drive's images: the calibration's (at
        ``S_rect``) scaled when the images were resized, refused for another aspect ratio."""
        if not self.indices:
            return self.calib.K
        first = SplitEntry(self.drive, min(self.indices), self.cam).image_file(self.root)
        calib = self.path.parent / "calib_cam_to_cam.txt"
        return intrinsics_at(self.calib.K, self.calib.size, image_size(first),
                             f"{calib} (S_rect_0{self.cam}) for {first}")

    @cached_property
    def poses(self) -> np.ndarray | None:
        """``[N,4,4]`` camera-to-world poses of this camera, or ``None`` without ``poses.txt``."""
        path = self.path / "poses.txt"
        if not path.is_file():
            return None
        rows = _numbers(path, 12).reshape(-1, 3, 4)
        P = np.tile(np.eye(4), (len(rows), 1, 1))
        P[:, :3, :] = rows
        offset = np.linalg.solve(self.calib.K, self.calib.P_rect[:, 3])  # cam0 → camX translation
        cam_to_cam0 = np.eye(4)
        cam_to_cam0[:3, 3] = -offset
        return P @ cam_to_cam0

    @cached_property
    def timestamps(self) -> list[float] | None:
        path = self.path / f"image_0{self.cam}" / "timestamps.txt"
        if not path.is_file():
            return None
        return [_parse_time(t, path, i) for i, t in enumerate(_read_lines(path), 1)]

    @cached_property
    def speeds(self) -> tuple[Path, np.ndarray] | None:
        """Per-frame speed (m/s) from ``speed.txt`` or ``velocity.txt`` (and the file read)."""
        for path in (self.path / "speed.txt", self.path / "velocity.txt"):
            if path.is_file():
                return path, _speeds(path)
        return None

    def speed(self, index: int) -> float | None:
        if self.speeds is not None:
            return float(_at(self.speeds[1], index, self.speeds[0]))
        oxts = self.path / "oxts" / "data" / f"{frame_name(index)}.txt"
        if oxts.is_file():
            values = _numbers(oxts, 30)[0]
            return float(np.linalg.norm(values[8:11]))  # vf, vl, vu
        return None

    def depth_loader(self, index: int, source: str) -> Callable[[], np.ndarray] | None:
        gt = gt_depth_path(self.path, index, self.cam)
        if source in ("auto", "groundtruth") and gt.is_file():
            return partial(read_depth_png, gt)
        scan = velodyne_path(self.path, index)
        if source in ("auto", "velodyne") and scan.is_file():
            return partial(velodyne_depth_map, scan, self.calib)
        return None

    def record(self, index: int, depth_source: str) -> FrameRecord:
        entry = SplitEntry(self.drive, index, self.cam)
        image = entry.image_file(self.root)
        semantic = self.path / "semantic" / f"image_0{self.cam}" / f"{frame_name(index)}.png"
        poses, stamps = self.poses, self.timestamps
        stamps_path = self.path / f"image_0{self.cam}" / "timestamps.txt"
        return FrameRecord(
            image=image,
            K=self.K,
            name=entry.name,
            pose=None if poses is None else _at(poses, index, self.path / "poses.txt"),
            timestamp=None if stamps is None else float(_at(stamps, index, stamps_path)),
            speed=self.speed(index),
            depth=self.depth_loader(index, depth_source),
            semantic=semantic if semantic.is_file() else None,
        )


def kitti_dataset(
    root: str | os.PathLike,
    height: int,
    width: int,
    *,
    split_file: str | os.PathLike | None = None,
    offsets: tuple[int, ...] = (-1, 1),
    side: str = "l",
    depth_source: str = "auto",
    require_depth: bool = False,
    augment: AugmentConfig | None = None,
    seed: int = 0,
) -> SequenceDataset:
    """A KITTI-layout dataset (see the module docstring).

    Args:
        split_file: target frames; ``None`` = every frame with all its context frames in every
            drive under ``root`` (camera ``side``).
        depth_source: ``"auto"`` (annotated PNG, else Velodyne), ``"groundtruth"``,
            ``"velodyne"`` or ``"none"``.
        require_depth: keep only targets that have GT depth (validation on Velodyne frames).
    """
    root = Path(root)
    if depth_source not in DEPTH_SOURCES:
        raise PackdepthError(f"depth_source: unknown {depth_source!r} (one of {DEPTH_SOURCES})")
    if side not in SIDES:
        raise PackdepthError(f"side: unknown {side!r} (l or r)")
    if split_file is not None:
        entries, source = read_split(split_file), str(split_file)
    else:
        entries = [e for d in find_drives(root) for e in drive_split(root, d, offsets, side)]
        source = str(root)
    drives: dict[tuple[str, int], KittiDrive] = {}
    samples = []
    for entry in entries:
        key = (entry.drive, entry.cam)
        if key not in drives:
            drives[key] = KittiDrive(root, entry.drive, entry.cam)
        drive = drives[key]
        missing = [entry.frame + o for o in (0, *offsets) if entry.frame + o not in drive.indices]
        if missing:
            path = image_path(drive.path, missing[0], entry.cam)
            where = f"{source}:{entry.line}" if entry.line else source
            raise PackdepthError(f"{where}: {path} not found (needed for frame {entry.frame})")
        target = drive.record(entry.frame, depth_source)
        if require_depth and target.depth is None:
            continue
        context = tuple(drive.record(entry.frame + o, "none") for o in offsets)
        samples.append(Sample(target, context))
    return SequenceDataset(
        samples, offsets, height, width, augment=augment, seed=seed, source=source
    )
