"""``packdepth import-weights``: official packnet-sfm / monodepth2 weights → packdepth files.

Writes ``DIR/depth_net.safetensors`` (and ``DIR/pose_net.safetensors`` when the source has a pose
network) all-or-nothing, each loadable with :func:`packdepth.io.checkpoints.load_model`. A source
whose tensors do not match the network exactly is an error (exit status 2), never a partial load.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from packdepth.io.identify import DEPTH_FILE, POSE_FILE, check_import_source


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "import-weights",
        help="convert official packnet-sfm (.ckpt) or monodepth2 weights to packdepth files",
        description="Convert a packnet-sfm checkpoint (.ckpt or legacy .pth.tar) or a monodepth2 "
        "model folder (encoder.pth, depth.pth [, pose_encoder.pth, pose.pth]) into "
        f"packdepth's format: OUT/{DEPTH_FILE} [+ OUT/{POSE_FILE}]. Pickled code in the "
        "source is never executed.",
    )
    parser.add_argument("src", type=Path, help="packnet-sfm .ckpt file or monodepth2 folder")
    parser.add_argument("--format", required=True, choices=("packnet", "monodepth2"),
                        help="layout of SRC")
    parser.add_argument("--out", required=True, type=Path, help="output folder")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from packdepth.io.checkpoints import import_monodepth2, import_packnet_ckpt, save_models

    check_import_source(args.src, args.format)  # e.g. a packdepth file, or the other format
    if args.format == "packnet":
        result = import_packnet_ckpt(args.src)
    else:
        result = import_monodepth2(args.src)
    for report in result.reports:
        print(f"{report.summary()}")
    items = [(result.depth_net, args.out / DEPTH_FILE, None, result.info)]
    if result.pose_net is not None:
        items.append((result.pose_net, args.out / POSE_FILE, None, result.info))
    save_models(items)
    print(f"{result.info['architecture']}: wrote " + ", ".join(str(p) for _, p, _, _ in items))
    return 0
