"""``packdepth synth``: render the embedded procedural street world in the KITTI raw layout."""

from __future__ import annotations

import argparse
import sys

from packdepth.commands._args import positive_int


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "synth",
        help="render synthetic driving sequences with exact depth, poses and classes",
        description="Render procedural street sequences (ray cast, exact ground truth) into "
        "OUT_DIR in the KITTI raw layout: images, depth PNGs, semantic PNGs, poses.txt, "
        "velocity.txt, timestamps, calibration, split files and classes.json.",
    )
    parser.add_argument("out_dir", metavar="OUT_DIR", help="output folder (created)")
    parser.add_argument("--sequences", type=positive_int, default=1,
                        help="number of drives (default 1)")
    parser.add_argument("--frames", type=positive_int, default=100,
                        help="frames per drive (default 100)")
    parser.add_argument("--height", type=positive_int, default=192,
                        help="image height (default 192)")
    parser.add_argument("--width", type=positive_int, default=640, help="image width (default 640)")
    parser.add_argument("--seed", type=int, default=0, help="street seed (default 0)")
    parser.add_argument("--dynamic", action="store_true", help="add independently moving vehicles")
    parser.add_argument("--jam", action="store_true",
                        help="a slow traffic jam: cars and trucks moving alongside the camera")
    parser.add_argument("--low-light", action="store_true", help="dim, noisy, low-contrast images")
    parser.add_argument("--quiet", action="store_true", help="no progress lines")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from packdepth.data.synthetic import SynthParams, write_dataset
    from packdepth.text import plural

    params = SynthParams(
        height=args.height, width=args.width, frames=args.frames, seed=args.seed,
        dynamic=args.dynamic, jam=args.jam, low_light=args.low_light,
    )
    progress = None if args.quiet else (lambda line: print(line, file=sys.stderr, flush=True))
    drives = write_dataset(args.out_dir, params, args.sequences, progress=progress)
    if not args.quiet:
        print(f"wrote {plural(len(drives), 'drive')} x {plural(params.frames, 'frame')} to "
              f"{args.out_dir}")
    return 0
