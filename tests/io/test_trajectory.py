"""Trajectory files: KITTI odometry round trip and errors, TUM quaternions against hand-computed
rotations, and the relative/absolute conversions against each other and a world point."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest

from packdepth.errors import PackdepthError
from packdepth.io.trajectory import (
    absolute_from_relative,
    read_kitti_poses,
    read_tum,
    relative_from_absolute,
    write_kitti_poses,
    write_tum,
)
from tests.evaluation.test_pose import curved_trajectory


def test_kitti_pose_file_round_trip_and_errors(tmp_path: Path) -> None:
    P = curved_trajectory(4)
    write_kitti_poses(tmp_path / "poses.txt", P)
    lines = (tmp_path / "poses.txt").read_text().splitlines()
    assert len(lines) == 4 and all(len(line.split()) == 12 for line in lines)
    np.testing.assert_allclose(read_kitti_poses(tmp_path / "poses.txt"), P, atol=1e-8)
    (tmp_path / "bad.txt").write_text("1 0 0 0 0 1 0 0 0 0 1\n")
    with pytest.raises(PackdepthError, match=r"bad\.txt:1: expected 12 finite numbers"):
        read_kitti_poses(tmp_path / "bad.txt")
    with pytest.raises(PackdepthError, match="pose file not found"):
        read_kitti_poses(tmp_path / "missing.txt")


def test_chaining_relative_poses_gives_back_the_trajectory_from_identity() -> None:
    P = curved_trajectory(7)
    chained = absolute_from_relative(relative_from_absolute(P))
    np.testing.assert_allclose(chained, np.linalg.inv(P[0]) @ P, atol=1e-12)
    # the chained pose of camera k maps its points to camera 0's frame: check with a world point
    X = np.array([2.0, -1.0, 15.0, 1.0])
    for k in range(7):
        X_k = np.linalg.inv(P[k]) @ X
        np.testing.assert_allclose(chained[k] @ X_k, np.linalg.inv(P[0]) @ X, atol=1e-10)


def test_tum_quaternions_match_hand_computed_rotations(tmp_path: Path) -> None:
    P = np.tile(np.eye(4), (3, 1, 1))
    c, s = math.cos(math.pi / 2), math.sin(math.pi / 2)
    P[1, :3, :3] = [[c, -s, 0], [s, c, 0], [0, 0, 1]]  # 90° about z
    P[1, :3, 3] = [1.0, 2.0, 3.0]
    c, s = math.cos(0.3), math.sin(0.3)
    P[2, :3, :3] = [[1, 0, 0], [0, c, -s], [0, s, c]]  # 0.3 rad about x
    write_tum(tmp_path / "traj.tum", P, [0.0, 0.1, 0.2])
    rows = [line.split() for line in (tmp_path / "traj.tum").read_text().splitlines()
            if not line.startswith("#")]
    values = np.array(rows, dtype=np.float64)
    assert values.shape == (3, 8)
    np.testing.assert_allclose(values[0, 4:], [0, 0, 0, 1], atol=1e-9)
    h = math.sqrt(0.5)
    np.testing.assert_allclose(values[1, 1:], [1, 2, 3, 0, 0, h, h], atol=1e-9)
    np.testing.assert_allclose(values[2, 4:], [math.sin(0.15), 0, 0, math.cos(0.15)], atol=1e-9)
    stamps, back = read_tum(tmp_path / "traj.tum")
    np.testing.assert_allclose(stamps, [0.0, 0.1, 0.2])
    np.testing.assert_allclose(back, P, atol=1e-8)


def test_tum_round_trip_of_a_curved_drive_and_bad_files(tmp_path: Path) -> None:
    P = curved_trajectory(12)
    write_tum(tmp_path / "t.txt", P, np.arange(12) * 0.1)
    _, back = read_tum(tmp_path / "t.txt")
    np.testing.assert_allclose(back, P, atol=1e-8)
    with pytest.raises(ValueError, match="2 timestamps for 12 poses"):
        write_tum(tmp_path / "u.txt", P, [0.0, 1.0])
    assert not (tmp_path / "u.txt").exists()
    (tmp_path / "bad.txt").write_text("0 1 2 3 0 0 0\n")
    with pytest.raises(PackdepthError, match=r"bad\.txt:1: expected 8 finite numbers, got 7"):
        read_tum(tmp_path / "bad.txt")
