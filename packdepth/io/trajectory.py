"""Camera trajectories on disk: KITTI odometry and TUM RGB-D text formats.

KITTI odometry (``poses.txt``, read by ``packdepth eval-pose`` and ``evo_traj kitti``): one
row-major 3x4 matrix per line, 12 numbers, no header. Absolute files hold the camera-to-world pose
``P_t`` of every frame; packdepth's "relative" files hold one ``T_t→t+1 = P_{t+1}⁻¹ P_t`` per
consecutive pair (it maps a point from camera ``t``'s frame into camera ``t+1``'s frame: a pose
network's ``T_target→source`` with target ``t`` and source ``t+1``).

TUM RGB-D (``evo_traj tum``): one line per frame, ``timestamp tx ty tz qx qy qz qw`` (seconds,
the camera centre in the world frame and the camera-to-world rotation as a unit quaternion, scalar
last), ``#`` comments allowed. Format: https://cvg.cit.tum.de/data/datasets/rgbd-dataset/file_formats.

:func:`read_trajectory` reads either, telling them apart by the numbers on a line (12 or 8).

Quaternions come from :class:`scipy.spatial.transform.Rotation` (scalar-last ``as_quat``).
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import torch

from packdepth.arrays import to_numpy
from packdepth.errors import PackdepthError
from packdepth.io.atomic import write_text
from packdepth.io.identify import identify


def as_transforms(poses: np.ndarray | torch.Tensor, what: str = "poses") -> np.ndarray:
    """``[N,3,4]``, ``[N,4,4]`` or ``[N,12]`` → float64 ``[N,4,4]`` (bottom row ``0 0 0 1``).

    Raises:
        ValueError: any other shape (``what`` names the argument).
    """
    arr = to_numpy(poses, np.float64)
    if arr.ndim == 2 and arr.shape[1] == 12:
        arr = arr.reshape(-1, 3, 4)
    if arr.ndim != 3 or arr.shape[1:] not in ((3, 4), (4, 4)):
        raise ValueError(f"{what} must be [N,3,4], [N,4,4] or [N,12], got {arr.shape}")
    out = np.tile(np.eye(4), (arr.shape[0], 1, 1))
    out[:, :3, :] = arr[:, :3, :]
    return out


def relative_from_absolute(cam_to_world: np.ndarray | torch.Tensor) -> np.ndarray:
    """``[N,4,4]`` camera-to-world → ``[N−1,4,4]`` ``T_t→t+1 = P_{t+1}⁻¹ P_t``."""
    P = as_transforms(cam_to_world, "camera-to-world poses")
    return np.linalg.inv(P[1:]) @ P[:-1]


def absolute_from_relative(relative: np.ndarray | torch.Tensor) -> np.ndarray:
    """``[N−1,4,4]`` ``T_t→t+1`` → ``[N,4,4]`` camera-to-world with the first camera at identity.

    Chaining: ``P_0 = I``, ``P_{t+1} = P_t T_t→t+1⁻¹`` (the inverse of
    :func:`relative_from_absolute` up to the first pose).
    """
    T = as_transforms(relative, "relative poses")
    P = np.tile(np.eye(4), (len(T) + 1, 1, 1))
    for t, step in enumerate(T):
        P[t + 1] = P[t] @ np.linalg.inv(step)
    return P


def _numbers(path: Path, columns: int) -> np.ndarray:
    """Rows of ``columns`` finite numbers (``#`` comments and blank lines skipped)."""
    if not path.exists():
        raise PackdepthError(f"{path}: pose file not found")
    kind = identify(path)
    if kind.key != "text":  # e.g. a model file or a folder given for a pose file
        raise PackdepthError(f"{path}: {kind.phrase}, not a text file of poses "
                             f"({columns} numbers a line)")
    rows = []
    for lineno, line in enumerate(path.read_text(errors="replace").splitlines(), 1):
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        try:
            values = [float(v) for v in line.split()]
        except ValueError:
            raise PackdepthError(
                f"{path}:{lineno}: expected {columns} numbers: {line[:60]!r}"
            ) from None
        if len(values) != columns or not np.all(np.isfinite(values)):
            raise PackdepthError(
                f"{path}:{lineno}: expected {columns} finite numbers, got {len(values)}"
            )
        rows.append(values)
    if not rows:
        raise PackdepthError(f"{path}: no poses")
    return np.array(rows, dtype=np.float64)


def read_kitti_poses(path: str | os.PathLike) -> np.ndarray:
    """Read a KITTI odometry pose file (12 numbers per line) → ``[N,4,4]`` float64.

    Raises:
        PackdepthError: missing file, a line without 12 finite numbers, or no poses.
    """
    return as_transforms(_numbers(Path(path), 12), str(path))


def write_kitti_poses(path: str | os.PathLike, poses: np.ndarray | torch.Tensor) -> None:
    """Write ``[N,4,4]`` (or ``[N,3,4]``) transforms, one row-major 3x4 per line, atomically."""
    mats = as_transforms(poses)[:, :3, :].reshape(-1, 12)
    write_text(path, "".join(" ".join(f"{v:.9e}" for v in row) + "\n" for row in mats))


def write_tum(
    path: str | os.PathLike, cam_to_world: np.ndarray | torch.Tensor, timestamps: np.ndarray
) -> None:
    """Write a TUM trajectory atomically: ``timestamp tx ty tz qx qy qz qw`` per frame.

    Args:
        cam_to_world: ``[N,4,4]`` camera-to-world poses (rotations must be orthonormal).
        timestamps: ``[N]`` seconds.

    Raises:
        ValueError: ``timestamps`` is not ``[N]``.
    """
    from scipy.spatial.transform import Rotation

    P = as_transforms(cam_to_world, "camera-to-world poses")
    stamps = np.asarray(timestamps, dtype=np.float64).reshape(-1)
    if len(stamps) != len(P):
        raise ValueError(f"{len(stamps)} timestamps for {len(P)} poses")
    quat = Rotation.from_matrix(P[:, :3, :3]).as_quat()  # [N,4] x, y, z, w
    rows = np.concatenate([stamps[:, None], P[:, :3, 3], quat], 1)
    lines = "".join(f"{r[0]:.6f} " + " ".join(f"{v:.9f}" for v in r[1:]) + "\n" for r in rows)
    write_text(path, "# timestamp tx ty tz qx qy qz qw\n" + lines)


def read_tum(path: str | os.PathLike) -> tuple[np.ndarray, np.ndarray]:
    """Read a TUM trajectory → ``(timestamps [N], camera-to-world [N,4,4])``.

    Raises:
        PackdepthError: missing file, a line without 8 finite numbers, or a zero quaternion.
    """
    from scipy.spatial.transform import Rotation

    rows = _numbers(Path(path), 8)
    if np.any(np.linalg.norm(rows[:, 4:], axis=1) < 1e-9):
        raise PackdepthError(f"{path}: a quaternion is zero")
    P = np.tile(np.eye(4), (len(rows), 1, 1))
    P[:, :3, :3] = Rotation.from_quat(rows[:, 4:]).as_matrix()
    P[:, :3, 3] = rows[:, 1:4]
    return rows[:, 0], P


#: What :func:`read_trajectory` says of a TUM file.
TUM_PHRASE = "a TUM trajectory (timestamp tx ty tz qx qy qz qw)"


def _first_row_length(path: Path) -> int | None:
    """How many numbers the first pose line of a text file holds (``None``: not such a file)."""
    if not path.is_file() or identify(path).key != "text":
        return None  # _numbers says what it is
    with open(path, errors="replace") as f:
        for line in f:
            if line.strip() and not line.lstrip().startswith("#"):
                return len(line.split())
    return None


def read_trajectory(path: str | os.PathLike) -> tuple[np.ndarray, str]:
    """Read a KITTI odometry (12 numbers a line) or TUM (8 numbers a line) pose file.

    Returns:
        ``([N,4,4] float64, "kitti" | "tum")``; a TUM file's poses are camera-to-world
        (:func:`read_tum`, timestamps dropped: frames are matched by line), a KITTI file's as
        written (camera-to-world or relative: the file does not say).

    Raises:
        PackdepthError: as :func:`read_kitti_poses` / :func:`read_tum` (a first line of another
            length is reported as not 12 numbers, naming the TUM form too).
    """
    path = Path(path)
    columns = _first_row_length(path)
    if columns == 8:
        return read_tum(path)[1], "tum"
    if columns is not None and columns != 12:
        raise PackdepthError(f"{path}: {columns} numbers a line: expected 12 (KITTI odometry, a "
                             "row-major 3x4 pose) or 8 (TUM: timestamp tx ty tz qx qy qz qw)")
    return read_kitti_poses(path), "kitti"
