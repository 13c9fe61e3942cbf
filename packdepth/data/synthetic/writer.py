"""Write synthetic sequences in the KITTI raw layout, with exact ground truth.

Layout (``DATE`` = :data:`SYNTH_DATE`, drives numbered from 1)::

    OUT/DATE/calib_cam_to_cam.txt                       P_rect_02, R_rect_00, S_rect_02
    OUT/DATE/DATE_drive_NNNN_sync/image_02/data/<10-digit>.png          RGB
    OUT/DATE/DATE_drive_NNNN_sync/image_02/timestamps.txt               KITTI timestamps
    OUT/DATE/DATE_drive_NNNN_sync/proj_depth/groundtruth/image_02/*.png uint16, metres x 256
    OUT/DATE/DATE_drive_NNNN_sync/semantic/image_02/*.png               uint8 class ids
    OUT/DATE/DATE_drive_NNNN_sync/poses.txt         camera-to-world 3x4 per line (row-major)
    OUT/DATE/DATE_drive_NNNN_sync/velocity.txt      camera speed (m/s) per frame
    OUT/splits/{train,val,all}_files.txt            "DATE/DATE_drive_NNNN_sync <index> l"
    OUT/classes.json                                class id -> name
    OUT/synth.json                                  the parameters that made the data

Every file is written atomically; the split files come last, so they never list missing frames.
"""

from __future__ import annotations

import dataclasses
import json
import os
import time
from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path

import numpy as np
from PIL import Image

from packdepth.data.kitti.calibration import write_calib_file
from packdepth.data.kitti.layout import (
    drive_dir,
    frame_name,
    gt_depth_path,
    image_path,
    write_depth_png,
)
from packdepth.data.synthetic.primitives import CLASSES
from packdepth.data.synthetic.raycast import RayGrid
from packdepth.data.synthetic.sequence import (
    SynthParams,
    kitti_intrinsics,
    render_frame,
    sequence_world,
)
from packdepth.errors import PackdepthError
from packdepth.io.atomic import atomic_path, write_text

SYNTH_DATE = "2000_01_01"
START_TIME = datetime(2000, 1, 1, 12, 0, 0)


def semantic_path(drive_path: str | os.PathLike, index: int, cam: int = 2) -> Path:
    """Path of a frame's class-id PNG in a drive folder."""
    return Path(drive_path) / "semantic" / f"image_0{cam}" / f"{frame_name(index)}.png"


def kitti_timestamp(seconds: float, sequence: int) -> str:
    """KITTI's ``YYYY-MM-DD HH:MM:SS.fffffffff``; drive ``k`` starts ``k`` hours after noon."""
    nanoseconds = round(seconds * 1e9)
    stamp = START_TIME + timedelta(hours=sequence, seconds=nanoseconds // 1_000_000_000)
    return f"{stamp:%Y-%m-%d %H:%M:%S}.{nanoseconds % 1_000_000_000:09d}"


def write_calibration(date_dir: Path, params: SynthParams) -> None:
    """``calib_cam_to_cam.txt`` as
    :func:`~packdepth.data.kitti.calibration.load_calibration` reads it."""
    P = np.zeros((3, 4))
    P[:, :3] = kitti_intrinsics(params.height, params.width)
    write_calib_file(date_dir / "calib_cam_to_cam.txt", {
        "calib_time": "synthetic (packdepth synth)",
        "S_rect_02": np.array([params.width, params.height], float),
        "R_rect_00": np.eye(3),
        "P_rect_02": P,
    })


def _save_png(path: Path, array: np.ndarray) -> None:
    with atomic_path(path) as tmp:
        Image.fromarray(array).save(tmp, format="PNG")


def _prepare(out_dir: str | os.PathLike) -> Path:
    out = Path(out_dir)
    if out.exists() and not out.is_dir():
        raise PackdepthError(f"{out}: exists and is not a directory")
    try:
        out.mkdir(parents=True, exist_ok=True)
        probe = out / ".packdepth-write-test"
        probe.write_bytes(b"")
        probe.unlink()
    except OSError as exc:
        raise PackdepthError(f"{out}: cannot write the output directory ({exc.strerror})") from None
    return out


def split_lines(drives: list[str], frames: int) -> dict[str, list[str]]:
    """Frames with both neighbours, as ``"<drive> <index> l"`` lines, split train/val/all.

    Several drives: the last ``max(1, N // 5)`` drives are validation. One drive: its last fifth.
    """
    per_drive = [[f"{d} {i} l" for i in range(1, frames - 1)] for d in drives]
    everything = [line for lines in per_drive for line in lines]
    if len(drives) > 1:
        n_val = max(1, len(drives) // 5)
        train = [line for lines in per_drive[:-n_val] for line in lines]
        val = [line for lines in per_drive[-n_val:] for line in lines]
    else:
        cut = len(everything) - max(1, len(everything) // 5) if everything else 0
        train, val = everything[:cut], everything[cut:]
    return {"train": train, "val": val, "all": everything}


def write_dataset(out_dir: str | os.PathLike, params: SynthParams, sequences: int = 1,
                  progress: Callable[[str], None] | None = None) -> list[Path]:
    """Render ``sequences`` drives and write them in the KITTI raw layout; returns the drives."""
    params.validate()
    if not isinstance(sequences, int) or not 1 <= sequences <= 9999:
        raise PackdepthError(f"--sequences: must be an integer in [1, 9999], got {sequences!r}")
    out = _prepare(out_dir)
    write_calibration(out / SYNTH_DATE, params)
    K = kitti_intrinsics(params.height, params.width)
    grid = RayGrid.half_pixel(K, params.height, params.width)
    drives: list[Path] = []
    for sequence in range(sequences):
        start = time.perf_counter()
        drive = drive_dir(out, SYNTH_DATE, sequence + 1)
        world = sequence_world(params, sequence)
        poses, stamps, speeds = [], [], []
        for index in range(params.frames):
            frame = render_frame(world, params, index, sequence, grid)
            _save_png(image_path(drive, index), frame.rgb)
            write_depth_png(gt_depth_path(drive, index), frame.depth)
            _save_png(semantic_path(drive, index), frame.semantic)
            poses.append(" ".join(f"{v:.9e}" for v in frame.pose[:3].reshape(-1)))
            stamps.append(kitti_timestamp(frame.timestamp, sequence))
            speeds.append(f"{frame.speed:.6f}")
        write_text(drive / "image_02" / "timestamps.txt", "\n".join(stamps) + "\n")
        write_text(drive / "poses.txt", "\n".join(poses) + "\n")
        write_text(drive / "velocity.txt", "\n".join(speeds) + "\n")
        drives.append(drive)
        if progress:
            progress(f"{drive}: {params.frames} frames in {time.perf_counter() - start:.1f} s")
    names = [f"{SYNTH_DATE}/{d.name}" for d in drives]
    write_text(out / "classes.json", json.dumps(dict(enumerate(CLASSES)), indent=1) + "\n")
    meta = {"generator": "packdepth synth", "date": SYNTH_DATE, "sequences": sequences,
            **dataclasses.asdict(params)}
    write_text(out / "synth.json", json.dumps(meta, indent=1) + "\n")
    for split, lines in split_lines(names, params.frames).items():
        write_text(out / "splits" / f"{split}_files.txt", "".join(f"{x}\n" for x in lines))
    return drives
