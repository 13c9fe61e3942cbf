"""Draw a benchmark picture: input | predicted depth | ground truth for a few frames.

    python bench/figures/benchmark_depth.py --model bench/results/synthetic/run/model \
        --data bench/data/heldout_96x320 --out docs/synthetic_heldout.png
    python bench/figures/benchmark_depth.py --model bench/results/fit_kitti/model \
        --data ../shared/data/kitti_tiny --drive 2011_09_26/2011_09_26_drive_9999_sync \
        --frames 0 12 24 36 --size 96 320 --out docs/kitti_fit.png

Predictions are median-scaled to the ground truth (as the evaluation does) so that the colours
compare; GT is exact on the synthetic world and sparse (Velodyne) on KITTI.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from packdepth.data.kitti.splits import SplitEntry, read_split
from packdepth.io.checkpoints import load_model, model_file
from packdepth.io.viz import panel, save_png
from packdepth.training.synthetic_recipe import example_rows


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--model", required=True, help="model folder or depth_net.safetensors")
    ap.add_argument("--data", type=Path, required=True, help="KITTI-layout root")
    ap.add_argument("--drive", help="drive folder (default: the root's splits/all_files.txt)")
    ap.add_argument("--frames", type=int, nargs="+", default=[5, 30, 55, 80])
    ap.add_argument("--size", type=int, nargs=2, default=(96, 320), metavar=("H", "W"))
    ap.add_argument("--out", type=Path, required=True)
    args = ap.parse_args()
    if args.drive:
        entries = [SplitEntry(args.drive, i) for i in args.frames]
    else:
        every = read_split(args.data / "splits" / "all_files.txt")
        entries = [every[i] for i in args.frames if i < len(every)]
    model = load_model(model_file(args.model), kind="depth")
    save_png(args.out, panel(example_rows(model, args.data, entries, tuple(args.size))))
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
