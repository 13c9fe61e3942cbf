"""Draw a benchmark picture: input | predicted depth (per --model) | ground truth, a few frames.

    python bench/figures/benchmark_depth.py --model bench/results/synthetic/run/model \
        --data bench/data/heldout_96x320 --out docs/synthetic_heldout.png
    python bench/figures/benchmark_depth.py --model packdepth/weights/streets \
        --data ../shared/data/kitti_tiny --drive 2011_09_26/2011_09_26_drive_9999_sync \
        --frames 0 --size 96 320 --tile-width 400 --out docs/kitti_depth.png \
        --attribution "KITTI raw 2011_09_26 (Geiger et al., IJRR 2013), CC BY-NC-SA 3.0"

Predictions are median-scaled to the ground truth (as the evaluation does) so that the colours
compare; GT is exact on the synthetic world and sparse (Velodyne) on KITTI. ``--tile-width``
shrinks each tile and the picture is stored with a 256-colour palette (small files); a data
licence given with ``--attribution`` is printed under the picture.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw

from packdepth.data.kitti.splits import SplitEntry, read_split
from packdepth.io.checkpoints import load_model, model_file
from packdepth.io.viz import panel, save_png
from packdepth.training.synthetic_recipe import example_rows


def shrink(tile: np.ndarray, width: int) -> np.ndarray:
    """``tile`` [H,W,3] uint8 resized to ``width`` pixels wide, aspect kept (Lanczos)."""
    height = round(tile.shape[0] * width / tile.shape[1])
    return np.asarray(Image.fromarray(tile).resize((width, height), Image.LANCZOS))


def with_caption(picture: np.ndarray, text: str) -> np.ndarray:
    """``picture`` [H,W,3] uint8 with a 14-pixel white strip below holding ``text``."""
    strip = Image.new("RGB", (picture.shape[1], 14), "white")
    ImageDraw.Draw(strip).text((2, 1), text, fill=(80, 80, 80))
    return np.concatenate([picture, np.asarray(strip)], axis=0)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--model", required=True, action="append",
                    help="model folder or depth_net.safetensors; repeat for a column each")
    ap.add_argument("--data", type=Path, required=True, help="KITTI-layout root")
    ap.add_argument("--drive", help="drive folder (default: the root's splits/all_files.txt)")
    ap.add_argument("--frames", type=int, nargs="+", default=[5, 30, 55, 80])
    ap.add_argument("--size", type=int, nargs=2, default=(96, 320), metavar=("H", "W"))
    ap.add_argument("--tile-width", type=int, help="resize each tile to this width (pixels)")
    ap.add_argument("--attribution", help="a line printed under the picture (data licence)")
    ap.add_argument("--out", type=Path, required=True)
    args = ap.parse_args()
    if args.drive:
        entries = [SplitEntry(args.drive, i) for i in args.frames]
    else:
        every = read_split(args.data / "splits" / "all_files.txt")
        entries = [every[i] for i in args.frames if i < len(every)]
    models = [load_model(model_file(m), kind="depth") for m in args.model]
    rows = example_rows(models, args.data, entries, tuple(args.size))
    if args.tile_width:
        rows = [[shrink(tile, args.tile_width) for tile in row] for row in rows]
    picture = panel(rows)
    if args.attribution:
        picture = with_caption(picture, args.attribution)
    if args.tile_width or args.attribution:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        Image.fromarray(picture).quantize(256).save(args.out, optimize=True)
    else:
        save_png(args.out, picture)
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
