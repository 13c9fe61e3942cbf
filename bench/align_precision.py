"""Alignment accuracy in float32 and under bf16 autocast (as mixed-precision training calls it).

    .venv/bin/python bench/align_precision.py

Aligns 8 synthetic training frames to their t±1 context frames with the *exact* depth, from the
exact poses perturbed by ~1°, and prints the median rotation and translation-direction errors
(degrees) against the exact poses, plain and inside ``torch.autocast("cpu", bfloat16)``. Since
``align_pose`` disables autocast the two rows agree; before that the bf16 row was ~3x worse.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import torch

from packdepth.data.factory import build_dataset
from packdepth.evaluation.pose import frame_pair_errors
from packdepth.geometry import pose_vec_to_mat
from packdepth.geometry.align import align_pose
from packdepth.training.synthetic_recipe import synthetic_train_config


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", type=Path, default=Path("bench/data/train_96x320_8x100"))
    args = ap.parse_args()
    torch.manual_seed(0)
    cfg = synthetic_train_config(args.data, args.data, 96, 320, ["data.augmentation.enabled=false"])
    dataset = build_dataset(cfg.data)
    loader = torch.utils.data.DataLoader(dataset, batch_size=8, shuffle=True)
    batch = next(iter(loader))
    n = batch["context"].shape[1]
    depth = batch["depth_gt"].clamp(min=0)
    depth = torch.where(depth > 0, depth, torch.full_like(depth, 80.0))  # sky: far
    gt = batch["pose_gt"].flatten(0, 1)
    start = pose_vec_to_mat(torch.randn(gt.shape[0], 6) * 0.01) @ gt
    inputs = (batch["image"].repeat_interleave(n, 0), batch["context"].flatten(0, 1),
             depth.repeat_interleave(n, 0), batch["K"].repeat_interleave(n, 0), start)
    print("| alignment | rotation median ° | direction median ° |\n|---|---|---|")
    for name, autocast in [("start (exact + noise)", None), ("float32", False),
                           ("inside bf16 autocast", True)]:
        if autocast is None:
            poses = start
        else:
            with torch.autocast("cpu", dtype=torch.bfloat16, enabled=autocast):
                poses = align_pose(*inputs)
        rot, dirn = frame_pair_errors(poses, gt)
        print(f"| {name} | {rot.median():.3f} | {dirn.median():.2f} |")


if __name__ == "__main__":
    main()
