"""Pose quality of a trained model on the synthetic training streets: the pose net's poses and
the photometrically aligned ones (``align_pose`` as training calls it, in float32), against the
exact relative poses.

    .venv/bin/python bench/align_quality.py --model bench/results/synthetic/run/model
    .venv/bin/python bench/align_quality.py --model ... --levels 8 4 2 --iterations 3

Prints median rotation error and translation-direction error percentiles (degrees) over
``--batches`` batches of 8 frames with context frames t±1 (augmentation off, fixed order), and
the pose net's medians on the held-out streets (as bench/train_synthetic.py prints them).
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
import torch

from packdepth.data.factory import build_dataset
from packdepth.evaluation.pose import frame_pair_errors
from packdepth.geometry.align import align_pose
from packdepth.io.checkpoints import DEPTH_FILE, POSE_FILE, load_model
from packdepth.losses.multiscale import inv_depth_to_depth
from packdepth.training.synthetic_recipe import score_pose_net, synthetic_train_config


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--model", type=Path, required=True, help="a run's model/ folder")
    ap.add_argument("--data", type=Path, default=Path("bench/data/train_96x320_8x100"))
    ap.add_argument("--heldout", type=Path, default=Path("bench/data/heldout_96x320"))
    ap.add_argument("--levels", type=int, nargs="+", default=[4, 2])
    ap.add_argument("--iterations", type=int, default=3)
    ap.add_argument("--batches", type=int, default=8)
    args = ap.parse_args()

    depth_net = load_model(args.model / DEPTH_FILE, kind="depth").eval()
    pose_net = load_model(args.model / POSE_FILE, kind="pose").eval()
    cfg = synthetic_train_config(args.data, args.data, 96, 320, ["data.augmentation.enabled=false"])
    dataset = build_dataset(cfg.data)
    picks = np.linspace(0, len(dataset) - 1, 8 * args.batches).astype(int).tolist()
    loader = torch.utils.data.DataLoader(torch.utils.data.Subset(dataset, picks), batch_size=8)
    errors: dict[str, list[tuple[torch.Tensor, torch.Tensor]]] = {"pose net": [], "aligned": []}
    with torch.no_grad():
        for batch in loader:
            n = batch["context"].shape[1]
            offsets = [int(o) for o in batch["offsets"][0]]
            poses = pose_net(batch["image"], batch["context"], offsets=offsets).flatten(0, 1)
            depth = inv_depth_to_depth(depth_net(batch["image"])[0])
            aligned = align_pose(
                batch["image"].repeat_interleave(n, 0), batch["context"].flatten(0, 1),
                depth.repeat_interleave(n, 0), batch["K"].repeat_interleave(n, 0), poses,
                levels=tuple(args.levels), iterations=args.iterations,
            )
            gt = batch["pose_gt"].flatten(0, 1)
            errors["pose net"].append(frame_pair_errors(poses, gt))
            errors["aligned"].append(frame_pair_errors(aligned, gt))
    print(f"{args.model}, alignment levels {args.levels} x {args.iterations} iterations, "
          f"{len(picks) * 2} frame pairs of {args.data}")
    print("| poses | rotation median ° | direction median ° | p75 | p90 | p95 |")
    print("|---|---|---|---|---|---|")
    for name, pairs in errors.items():
        rot = torch.cat([r for r, _ in pairs]).numpy()
        dirn = torch.cat([d for _, d in pairs]).numpy()
        p = np.percentile(dirn, [50, 75, 90, 95])
        print(f"| {name} | {np.median(rot):.3f} | " + " | ".join(f"{v:.2f}" for v in p) + " |")

    held = score_pose_net(pose_net, args.heldout, (96, 320))
    print(f"\npose net on {args.heldout} (t±1), median error: rotation "
          f"{held['rotation_deg']:.3f}°, translation direction {held['direction_deg']:.2f}°")


if __name__ == "__main__":
    main()
