"""Held-out pose scoring of the synthetic benchmark against the world's exact poses."""

from __future__ import annotations

import torch

from packdepth.data.synthetic import SynthParams, write_dataset
from packdepth.evaluation.pose import frame_pair_errors
from packdepth.geometry.pose import make_transform, rotation_to_axis_angle
from packdepth.training.synthetic_recipe import score_pose_net

H, W = 48, 160


class _StraightAhead(torch.nn.Module):
    """Always predicts no rotation and forward motion: its errors are the world's own turns
    and the true translations' angles to the optical axis."""

    def forward(self, target, context, offsets=None):
        b, n = context.shape[:2]
        R = torch.eye(3).expand(b, n, 3, 3)
        t = torch.tensor([0.0, 0.0, -1.0]) * torch.tensor(offsets, dtype=torch.float32)[:, None]
        return make_transform(R, t.expand(b, n, 3))


def test_pose_scores_are_the_errors_against_the_exact_poses(tmp_path):
    write_dataset(tmp_path, SynthParams(height=H, width=W, frames=10, seed=5), sequences=1)
    scores = score_pose_net(_StraightAhead(), tmp_path, (H, W))
    from packdepth.data.factory import build_dataset
    from packdepth.training.synthetic_recipe import synthetic_train_config

    data = build_dataset(synthetic_train_config(tmp_path, tmp_path, H, W).data)
    gt = torch.stack([data[i]["pose_gt"] for i in range(len(data))])
    offsets = [int(o) for o in data[0]["offsets"]]
    _, direction = frame_pair_errors(_StraightAhead()(None, gt[:, :, :3], offsets), gt)
    # no predicted rotation: the error is the true rotation's angle
    turns = torch.rad2deg(rotation_to_axis_angle(gt[..., :3, :3]).norm(dim=-1))
    assert abs(scores["rotation_deg"] - float(turns.median())) < 1e-4
    assert abs(scores["direction_deg"] - float(direction.median())) < 1e-6
    assert 0.0 < scores["rotation_deg"] < 5.0  # the drive turns a little
