"""Pose evaluation: absolute trajectory error on short snippets (SfMLearner / monodepth2 protocol).

For every run of ``L`` consecutive frames (``L = 5`` by default; only complete snippets), both
trajectories are expressed in the snippet's first camera frame, the predicted camera positions
are shifted so the first ones coincide, scaled by the least-squares factor
``s = Σ gt·pred / Σ pred²`` (monocular poses have no scale), and the snippet's error is
``sqrt(Σ_k |s·pred_k − gt_k|²) / L`` — the protocol's figure (note ``/ L`` outside the root, not a
root-mean-square). The report gives the mean and std over snippets.

Pose conventions (as in :mod:`packdepth.geometry.pose`):

* ground truth ``poses.txt``: one camera-to-world 3x4 matrix per line, row-major (KITTI odometry);
* predictions, "relative" format: one 3x4 matrix per consecutive pair, line ``t`` holding
  ``T_t→t+1`` — it maps a point from camera ``t``'s frame into camera ``t+1``'s frame, i.e. the
  pose network's ``T_target→source`` with target ``t`` and source ``t+1``. For camera-to-world
  poses ``P``, ``T_t→t+1 = P_{t+1}⁻¹ P_t``. ``N`` frames give ``N − 1`` lines.
* predictions, "absolute" format: camera-to-world per frame, like the ground truth.

Unlike monodepth2's ``evaluate_pose.py``, which chains the relative transforms directly
(``T_0→1 T_1→2 …``, a different point set once the camera turns), the camera centres here are the
exact ones, ``C_k = T_0→1⁻¹ … T_{k−1}→k⁻¹``; with straight motion both agree.

The files are read and written by :mod:`packdepth.io.trajectory`.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import torch

from packdepth.geometry.pose import rotation_to_axis_angle
from packdepth.io.trajectory import absolute_from_relative, as_transforms, relative_from_absolute


@dataclass
class AteResult:
    """ATE over a trajectory's snippets (metres of the ground truth)."""

    mean: float
    std: float
    num_snippets: int
    snippet_length: int
    errors: list[float] = field(default_factory=list)
    scales: list[float] = field(default_factory=list)

    def as_dict(self) -> dict:
        return {
            "ate_mean": self.mean,
            "ate_std": self.std,
            "num_snippets": self.num_snippets,
            "snippet_length": self.snippet_length,
            "scale_median": float(np.median(self.scales)) if self.scales else float("nan"),
            "errors": self.errors,
            "scales": self.scales,
        }


def snippet_positions(relative: np.ndarray | torch.Tensor) -> np.ndarray:
    """Camera centres ``[L,3]`` in the first camera's frame from ``[L−1,4,4]`` ``T_t→t+1``."""
    return absolute_from_relative(relative)[:, :3, 3]


def ate_aligned(gt_xyz: np.ndarray, pred_xyz: np.ndarray) -> tuple[float, float]:
    """Snippet ATE after first-frame alignment and least-squares scale: ``(error, scale)``.

    Args:
        gt_xyz, pred_xyz: ``[L,3]`` camera centres.
    """
    gt_xyz = np.asarray(gt_xyz, np.float64)
    pred_xyz = np.asarray(pred_xyz, np.float64) + (gt_xyz[0] - pred_xyz[0])
    denom = float(np.sum(pred_xyz**2))
    scale = float(np.sum(gt_xyz * pred_xyz) / denom) if denom > 0 else 1.0
    error = float(np.sqrt(np.sum((scale * pred_xyz - gt_xyz) ** 2)) / gt_xyz.shape[0])
    return error, scale


def trajectory_ate(
    pred_relative: np.ndarray | torch.Tensor,
    gt: np.ndarray | torch.Tensor,
    *,
    snippet_length: int = 5,
    gt_is_relative: bool = False,
) -> AteResult:
    """ATE of a model's predicted relative poses over every complete snippet.

    Args:
        pred_relative: ``[N−1,4,4]`` (or ``[N−1,3,4]``) predicted ``T_t→t+1``, e.g. a pose
            network's ``T_target→source`` for target ``t`` and source ``t+1``, stacked.
        gt: ``[N,4,4]`` ground-truth camera-to-world poses (``[N−1,4,4]`` relative poses if
            ``gt_is_relative``).
        snippet_length: frames per snippet (5 in the SfMLearner/monodepth2 protocol).
    """
    pred = as_transforms(pred_relative, "predicted poses")
    if gt_is_relative:
        gt_rel = as_transforms(gt, "ground-truth poses")
    else:
        gt_rel = relative_from_absolute(gt)
    if len(pred) != len(gt_rel):
        raise ValueError(
            f"{len(pred)} predicted relative poses for {len(gt_rel) + 1} frames "
            f"(expected {len(gt_rel)})"
        )
    if snippet_length < 2:
        raise ValueError(f"snippet_length must be >= 2, got {snippet_length}")
    if len(gt_rel) + 1 < snippet_length:
        raise ValueError(f"{len(gt_rel) + 1} frames: fewer than one {snippet_length}-frame snippet")
    errors, scales = [], []
    steps = snippet_length - 1
    for start in range(len(gt_rel) - steps + 1):
        error, scale = ate_aligned(
            snippet_positions(gt_rel[start : start + steps]),
            snippet_positions(pred[start : start + steps]),
        )
        errors.append(error)
        scales.append(scale)
    return AteResult(
        float(np.mean(errors)), float(np.std(errors)), len(errors), snippet_length, errors, scales
    )


def frame_pair_errors(pred: torch.Tensor, gt: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Scale-free errors of relative poses ``[...,4,4]``, in degrees: the rotation error (angle
    of ``R̂ Rᵀ``) and the angle between the predicted and true translation directions."""
    pred, gt = pred.double(), gt.double()
    d_rot = pred[..., :3, :3] @ gt[..., :3, :3].transpose(-1, -2)
    rotation = rotation_to_axis_angle(d_rot).norm(dim=-1)
    t_pred, t_gt = pred[..., :3, 3], gt[..., :3, 3]
    cos_t = (t_pred * t_gt).sum(-1) / (t_pred.norm(dim=-1) * t_gt.norm(dim=-1)).clamp(min=1e-12)
    return torch.rad2deg(rotation), torch.rad2deg(torch.acos(cos_t.clamp(-1.0, 1.0)))
