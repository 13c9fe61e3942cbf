"""ATE on 5-frame snippets: identities, scale alignment, a hand-computed perturbation."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest
import torch

from packdepth.evaluation.pose import (
    ate_aligned,
    frame_pair_errors,
    relative_from_absolute,
    snippet_positions,
    trajectory_ate,
)
from packdepth.geometry.pose import pose_vec_to_mat
from packdepth.io.trajectory import write_kitti_poses


def curved_trajectory(n: int = 12) -> np.ndarray:
    """Camera-to-world poses ``[n,4,4]``: driving forward ~1 m/frame while turning and bobbing."""
    t = torch.arange(n, dtype=torch.float64)
    vec = torch.stack(
        [0.3 * torch.sin(0.4 * t), 0.05 * torch.cos(t), t, 0.01 * t, 0.08 * t, 0.02 * torch.sin(t)],
        -1,
    )
    return pose_vec_to_mat(vec, "axis_angle").numpy()


def test_relative_pose_convention() -> None:
    P = curved_trajectory(3)
    T = relative_from_absolute(P)
    X_world = np.array([1.0, -2.0, 9.0, 1.0])
    X_cam = [np.linalg.inv(p) @ X_world for p in P]
    for t in range(2):  # T_t->t+1 maps camera t coordinates to camera t+1 coordinates
        np.testing.assert_allclose(T[t] @ X_cam[t], X_cam[t + 1], atol=1e-12)


def test_snippet_positions_are_camera_centres_in_the_first_frame() -> None:
    P = curved_trajectory(6)
    start = 1
    xyz = snippet_positions(relative_from_absolute(P)[start : start + 4])
    expected = [(np.linalg.inv(P[start]) @ P[start + k])[:3, 3] for k in range(5)]
    np.testing.assert_allclose(xyz, expected, atol=1e-12)


def test_identical_trajectories_give_zero() -> None:
    P = curved_trajectory(12)
    result = trajectory_ate(relative_from_absolute(P), P)
    assert result.num_snippets == 12 - 4 and result.snippet_length == 5
    assert result.mean == pytest.approx(0.0, abs=1e-12)
    assert result.scales == pytest.approx([1.0] * 8)


def test_trajectory_scaled_by_three_aligns_to_zero() -> None:
    P = curved_trajectory(10)
    rel = relative_from_absolute(P)
    rel[:, :3, 3] *= 3.0  # monocular: right shape, wrong scale
    result = trajectory_ate(torch.from_numpy(rel), P)
    assert result.mean == pytest.approx(0.0, abs=1e-12)
    assert result.scales == pytest.approx([1 / 3] * 6)
    unaligned = np.linalg.norm(
        snippet_positions(rel[:4]) - snippet_positions(relative_from_absolute(P)[:4])
    )
    assert unaligned > 1.0  # without alignment the error would be large


def test_known_perturbation_by_hand() -> None:
    # GT: straight ahead 1 m per frame, centres z = 0..4. Prediction: the last step also moves
    # d sideways. s = Σgt·p / Σp² = 30 / (30 + d²); Σ|s p − gt|² = 30 (s−1)² + d² s² =
    # 30 d² / (30 + d²); ATE = sqrt(that) / 5.
    d = 0.5
    P = np.tile(np.eye(4), (5, 1, 1))
    P[:, 2, 3] = np.arange(5.0)
    rel = relative_from_absolute(P)
    rel[3, 0, 3] -= d  # T_3->4 maps camera 3 to camera 4: camera 4 sits d further along +x
    np.testing.assert_allclose(snippet_positions(rel)[4], [d, 0.0, 4.0], atol=1e-12)
    result = trajectory_ate(rel, P)
    assert result.num_snippets == 1
    assert result.mean == pytest.approx(math.sqrt(30 * d**2 / (30 + d**2)) / 5, rel=1e-12)
    assert result.scales[0] == pytest.approx(30 / (30 + d**2))


def test_ate_aligned_shifts_the_first_frame() -> None:
    gt = np.array([[0.0, 0, 0], [0, 0, 1], [0, 0, 2]])
    error, scale = ate_aligned(gt, gt * 2 + np.array([5.0, -1.0, 3.0]))
    assert error == pytest.approx(0.0, abs=1e-12) and scale == pytest.approx(0.5)


def test_length_mismatch_and_short_trajectories() -> None:
    P = curved_trajectory(6)
    with pytest.raises(ValueError, match="expected 5"):
        trajectory_ate(relative_from_absolute(P)[:4], P)
    with pytest.raises(ValueError, match="fewer than one 5-frame snippet"):
        trajectory_ate(relative_from_absolute(P[:4]), P[:4])


def test_frame_pair_errors_are_scale_free_angles() -> None:
    gt = pose_vec_to_mat(torch.tensor([[0.0, 0.0, 2.0, 0.0, 0.0, 0.0]], dtype=torch.float64),
                         rotation="axis_angle")
    # 0.5° about y, translation 30° off the true direction and 5x longer
    off = math.radians(30.0)
    vec = [5 * 2.0 * math.sin(off), 0.0, 5 * 2.0 * math.cos(off), 0.0, math.radians(0.5), 0.0]
    pred = pose_vec_to_mat(torch.tensor([vec], dtype=torch.float64), rotation="axis_angle")
    rot, direction = frame_pair_errors(pred, gt)
    assert math.isclose(rot.item(), 0.5, rel_tol=1e-5)
    assert math.isclose(direction.item(), 30.0, rel_tol=1e-5)
    rot, direction = frame_pair_errors(gt, gt)
    assert rot.item() < 1e-5 and direction.item() < 1e-5


@pytest.mark.parametrize("dtype", [torch.bfloat16, torch.float16])
def test_pose_entry_points_take_reduced_precision_tensors(tmp_path: Path, dtype) -> None:
    """Poses from a network under mixed precision (bfloat16/float16 tensors) are evaluated and
    written as the values they hold."""
    absolute = torch.from_numpy(curved_trajectory(6)).to(dtype)
    values = absolute.double().numpy()
    np.testing.assert_array_equal(relative_from_absolute(absolute), relative_from_absolute(values))
    relative = torch.from_numpy(relative_from_absolute(values)).to(dtype)
    np.testing.assert_array_equal(snippet_positions(relative),
                                  snippet_positions(relative.double().numpy()))
    write_kitti_poses(tmp_path / "low.txt", relative)
    write_kitti_poses(tmp_path / "values.txt", relative.double().numpy())
    assert (tmp_path / "low.txt").read_text() == (tmp_path / "values.txt").read_text()
    assert trajectory_ate(relative, values, snippet_length=3) == trajectory_ate(
        relative.double().numpy(), values, snippet_length=3)
