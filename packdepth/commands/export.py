"""``packdepth export MODEL --onnx OUT.onnx``: an ONNX graph, checked in onnxruntime first.

Examples::

    packdepth export demo_out/model --onnx depth.onnx
    packdepth export PackNet01_MR_selfsup_K.ckpt --onnx packnet.onnx --size 192x640 --dynamic
    packdepth export demo_out/model --onnx pose.onnx --pose
"""

from __future__ import annotations

import argparse
from pathlib import Path

from packdepth.commands._args import add_model_argument, image_size, positive_int

EPILOG = """\
graphs (ONNX opset 20, TorchScript exporter; batch size free):
  depth  image [B,3,H,W] float32 in [0,1] -> inv_depth [B,1,H,W] (full resolution);
         depth = depth_scale / inv_depth (packdepth.depth_scale in the file's metadata)
  pose   target [B,3,H,W], context [B,N,3,H,W] -> T_target_to_context [B,N,4,4]
--dynamic: any H, W at or above the network's floor (64 for ResNet depth nets, 32 for PackNet);
without it, the --size given only.

The graph is run in onnxruntime and PyTorch on a random input, a real one (frames of the
embedded street world, or --check-image) and, with --dynamic, a second size; the file is written
(atomically) only if every output is within --tolerance of PyTorch's, as max|a-b| / max|b|
(pose: on T - I). Metadata (metadata_props, packdepth.*): version, network config, export and
training size, metric, depth_scale, the model's recorded facts.
"""


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser(
        "export",
        help="export a depth or pose network to ONNX, checked in onnxruntime",
        description="Export the depth network of MODEL (a packdepth model folder or file, a\n"
        "training run folder, a monodepth2 weight folder or a packnet-sfm .ckpt), or with\n"
        "--pose its pose network, to an ONNX file that onnxruntime runs like PyTorch.",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    add_model_argument(p)
    p.add_argument("--onnx", type=Path, required=True, metavar="OUT", help="the .onnx file")
    p.add_argument("--size", type=image_size, default=None, help="input HxW to export and check "
                   "at (default: the size the model records, else 192x640)")
    p.add_argument("--dynamic", action="store_true", help="a graph for any HxW at or above the "
                   "network's floor (checked at --size and at a second size)")
    p.add_argument("--pose", action="store_true", help="export the pose network")
    p.add_argument("--check-image", type=Path, action="append", default=[], metavar="IMG",
                   help="a real image to check on (repeatable; --pose: the target, then its "
                   "context frames in order); default: embedded street-world frames")
    p.add_argument("--threads", type=positive_int, default=None,
                   help="CPU threads of onnxruntime and "
                   "PyTorch for the checks and the timing (default: each library's own)")
    p.add_argument("--tolerance", type=float, default=None,
                   help="largest accepted max|a-b|/max|b| (default 1e-4)")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    import math

    from packdepth.errors import PackdepthError
    from packdepth.export import TOLERANCE, export_onnx
    from packdepth.inference import load

    tolerance = TOLERANCE if args.tolerance is None else args.tolerance
    if not (math.isfinite(tolerance) and tolerance > 0):
        raise PackdepthError(f"--tolerance: must be a positive number, got {args.tolerance}")
    if args.onnx.is_dir():
        raise PackdepthError(f"{args.onnx}: a folder; --onnx names the file to write")
    model = load(args.model, device="cpu", size=args.size)
    report = export_onnx(model, args.onnx, dynamic=args.dynamic, pose=args.pose,
                         check_images=args.check_image, tolerance=tolerance,
                         threads=args.threads)
    print(report.summary())
    print(f"wrote {report.path} (every check within {tolerance:g})")
    return 0
