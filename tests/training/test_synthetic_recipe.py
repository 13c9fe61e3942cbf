"""Held-out pose scoring of the synthetic benchmark against the world's exact poses."""

from __future__ import annotations

import math

import torch

from packdepth.data.factory import build_dataset
from packdepth.data.synthetic import SynthParams, write_dataset
from packdepth.geometry.pose import make_transform
from packdepth.training.synthetic_recipe import score_pose_net, synthetic_train_config

H, W = 48, 160


class _StraightAhead(torch.nn.Module):
    """Always predicts no rotation and motion along the optical axis (-z towards a later frame):
    its errors are the world's own turns and the true translations' angles to that axis."""

    def forward(self, target, context, offsets=None):
        b, n = context.shape[:2]
        t = torch.tensor([[0.0, 0.0, -float(o)] for o in offsets])
        return make_transform(torch.eye(3).expand(b, n, 3, 3), t.expand(b, n, 3))


def test_pose_scores_are_the_errors_against_the_exact_poses(tmp_path):
    write_dataset(tmp_path, SynthParams(height=H, width=W, frames=10, seed=5), sequences=1)
    scores = score_pose_net(_StraightAhead(), tmp_path, (H, W))
    data = build_dataset(synthetic_train_config(tmp_path, tmp_path, H, W).data)
    turns, directions = [], []
    for i in range(len(data)):
        item = data[i]
        for pose, offset in zip(item["pose_gt"].double(), item["offsets"].tolist(), strict=True):
            # no predicted rotation: the error is the true rotation's angle (trace formula)
            cos = (torch.trace(pose[:3, :3]).item() - 1.0) / 2.0
            turns.append(math.degrees(math.acos(max(-1.0, min(1.0, cos)))))
            t = pose[:3, 3]
            cos_t = -float(offset) * t[2].item() / (abs(offset) * t.norm().item())
            directions.append(math.degrees(math.acos(max(-1.0, min(1.0, cos_t)))))
    assert abs(scores["rotation_deg"] - float(torch.tensor(turns).median())) < 1e-4
    assert abs(scores["direction_deg"] - float(torch.tensor(directions).median())) < 1e-4
    assert 0.0 < scores["rotation_deg"] < 5.0  # the drive turns a little
