"""Micro benchmark: CPU inference time and parameter count of packdepth's depth networks.

Usage::

    python bench/networks_speed.py                     # 192x640, batch 1, median of 3 runs
    python bench/networks_speed.py --nets PackNetSmall ResNetDepth18 --repeats 10

Times one forward pass of the reference layers (no fusion) in eval mode under
``torch.inference_mode`` after one warm-up pass, with the threads torch uses by default
(``--threads`` to change). Nothing is downloaded. ``bench/infer_speed.py`` compares the faster
variants.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

import torch
from torch import nn

sys.path.insert(0, str(Path(__file__).resolve().parent))
from infer_speed import NETWORKS  # the networks of every speed table


def time_forward(net: nn.Module, image: torch.Tensor, repeats: int) -> list[float]:
    """Milliseconds of ``repeats`` forward passes (after one warm-up pass)."""
    times = []
    with torch.inference_mode():
        net(image)
        for _ in range(repeats):
            start = time.perf_counter()
            net(image)
            times.append(1000.0 * (time.perf_counter() - start))
    return times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--height", type=int, default=192)
    parser.add_argument("--width", type=int, default=640)
    parser.add_argument("--batch", type=int, default=1)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--threads", type=int, default=None)
    parser.add_argument("--nets", nargs="+", choices=sorted(NETWORKS), default=list(NETWORKS))
    args = parser.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    image = torch.rand(args.batch, 3, args.height, args.width)
    print(f"input {args.batch}x3x{args.height}x{args.width}, torch {torch.__version__}, "
          f"{torch.get_num_threads()} threads, median of {args.repeats} runs")
    print(f"{'network':<18}{'params':>14}{'median ms':>12}{'min ms':>10}")
    for name in args.nets:
        net = NETWORKS[name]().eval()
        params = sum(p.numel() for p in net.parameters())
        times = time_forward(net, image, args.repeats)
        print(f"{name:<18}{params:>14,}{statistics.median(times):>12.1f}{min(times):>10.1f}",
              flush=True)
        del net


if __name__ == "__main__":
    main()
