"""Where CPU inference time goes in packdepth's depth networks, per layer type (torch.profiler).

Usage::

    python bench/profile_networks.py                          # PackNet01-A and ResNetDepth18
    python bench/profile_networks.py --nets PackNetSmall-A --variants plain fused --threads 1

One forward pass of a ``[B,3,H,W]`` random image (after a warm-up pass) is profiled per
network and variant (those of ``bench/infer_speed.py``: ``plain`` the reference layers,
``fused``, ``default`` what ``packdepth infer`` runs, ``bf16``). Every top-level aten operator's
time (its children included: the zero fill of a pad, the copy of a reshape) is added to one
category:

- ``Conv2d``/``Conv3d``: convolutions by input rank (the packing layers' fold is a Conv2d);
- ``GroupNorm``/``BatchNorm``, ``ELU``/``ReLU``, ``padding`` (constant and reflection pads),
  ``reshape/PixelShuffle`` (Space2Depth's permute-copy, reshapes that copy, pixel shuffle),
  ``cat``, ``upsample``, ``other``.

Prints one markdown table per network: milliseconds and share per category, per variant.
"""

from __future__ import annotations

import argparse
import collections
import os
import sys
from pathlib import Path

import torch
from torch.profiler import ProfilerActivity, profile

sys.path.insert(0, str(Path(__file__).resolve().parent))
from infer_speed import NETWORKS, Runner, cpu_model, prepare_variant

CATEGORIES = {
    "aten::conv2d": "Conv2d", "aten::conv3d": "Conv3d",
    "aten::group_norm": "GroupNorm", "aten::batch_norm": "BatchNorm",
    "aten::elu_": "ELU", "aten::elu": "ELU", "aten::relu_": "ReLU", "aten::relu": "ReLU",
    "aten::pad": "padding", "aten::constant_pad_nd": "padding",
    "aten::reflection_pad2d": "padding", "aten::replication_pad2d": "padding",
    "aten::reshape": "reshape/PixelShuffle", "aten::pixel_shuffle": "reshape/PixelShuffle",
    "aten::permute": "reshape/PixelShuffle", "aten::contiguous": "reshape/PixelShuffle",
    "aten::clone": "reshape/PixelShuffle", "aten::cat": "cat",
    "aten::upsample_nearest2d": "upsample", "aten::max_pool2d": "MaxPool",
}
ORDER = ["Conv2d", "Conv3d", "GroupNorm", "BatchNorm", "ELU", "ReLU", "padding",
         "reshape/PixelShuffle", "cat", "upsample", "MaxPool", "other"]


def categories(run: Runner, image: torch.Tensor) -> dict[str, float]:
    """Milliseconds per category of one profiled forward pass (after a warm-up pass)."""
    run(image)
    with profile(activities=[ProfilerActivity.CPU]) as prof:
        run(image)
    totals: collections.Counter[str] = collections.Counter()
    for event in prof.events():
        if event.cpu_parent is None and event.name.startswith("aten::"):
            totals[CATEGORIES.get(event.name, "other")] += event.cpu_time_total / 1000.0
    return dict(totals)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--nets", nargs="+", default=["PackNet01-A", "ResNetDepth18"],
                        choices=sorted(NETWORKS))
    parser.add_argument("--variants", nargs="+", default=["plain", "fused", "default"])
    parser.add_argument("--height", type=int, default=192)
    parser.add_argument("--width", type=int, default=640)
    parser.add_argument("--batch", type=int, default=1)
    parser.add_argument("--threads", type=int, default=1)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    image = torch.rand(args.batch, 3, args.height, args.width)
    print(f"torch {torch.__version__}, {args.threads} threads, CPU {cpu_model()}, input "
          f"{args.batch}x3x{args.height}x{args.width}, load average "
          f"{', '.join(f'{v:.2f}' for v in os.getloadavg())}")
    for name in args.nets:
        net = NETWORKS[name]().eval()
        per_variant = {}
        for variant in args.variants:
            run = prepare_variant(net, variant)
            if run is not None:
                per_variant[variant] = categories(run, image)
            del run
        used = [c for c in ORDER if any(v.get(c, 0.0) > 0.05 for v in per_variant.values())]
        shown = [v for v in args.variants if v in per_variant]
        print(f"\n{name}\n\n| layer type | " + " | ".join(
            f"{v} ms | {v} %" for v in shown) + " |")
        print("|---|" + "---|---|" * len(shown))
        for cat in [*used, "total"]:
            cells = []
            for variant in shown:
                times = per_variant[variant]
                total = sum(times.values())
                ms = total if cat == "total" else times.get(cat, 0.0)
                cells.append(f"{ms:.0f} | {100.0 * ms / total:.0f}")
            print(f"| {cat} | " + " | ".join(cells) + " |", flush=True)
        del net


if __name__ == "__main__":
    main()
