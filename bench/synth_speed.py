"""Time the synthetic world: render one sequence (default 100 frames at 192x640) and print it.

Usage: ``python bench/synth_speed.py [--frames 100] [--height 192] [--width 640] [--dynamic]``.
Rendering runs on one torch thread (see ``packdepth.data.synthetic.render.single_threaded``);
the wall time includes the world's construction, the CPU time is this process's.
"""

from __future__ import annotations

import argparse
import time

import numpy as np

from packdepth.data.synthetic import SynthParams, render_sequence


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--frames", type=int, default=100)
    parser.add_argument("--height", type=int, default=192)
    parser.add_argument("--width", type=int, default=640)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--dynamic", action="store_true")
    parser.add_argument("--low-light", action="store_true")
    args = parser.parse_args()
    params = SynthParams(height=args.height, width=args.width, frames=args.frames, seed=args.seed,
                         dynamic=args.dynamic, low_light=args.low_light)
    start, cpu = time.perf_counter(), time.process_time()
    done = [start]
    for _ in render_sequence(params):
        done.append(time.perf_counter())
    wall, cpu = done[-1] - start, time.process_time() - cpu
    steps = np.diff(done)
    print(f"synthetic world: {args.frames} frames at {args.height}x{args.width} "
          f"(seed {args.seed}, dynamic={args.dynamic}, low_light={args.low_light})")
    print(f"render time: {wall:.1f} s wall, {cpu:.1f} s CPU, "
          f"{1e3 * wall / args.frames:.0f} ms/frame (median step {1e3 * np.median(steps):.0f} ms)")


if __name__ == "__main__":
    main()
