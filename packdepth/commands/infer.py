"""``packdepth infer MODEL INPUT... --out DIR``: depth for images, folders and videos.

Examples::

    packdepth infer demo_out/model street.jpg --out depth/
    packdepth infer runs/x KITTI_raw/2011_09_26 --recursive --save npz --out pred/
    packdepth infer mono_640x192/ drive.mp4 --save video,npz --out depth/
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from packdepth.commands._args import (
    add_camera_height,
    add_model_argument,
    image_size,
    positive_int,
)

EPILOG = """\
outputs (below --out, per frame with output name S):
  npz    S.npz        depth [H,W] float32 (metres if metric), inv_depth, metric, K when known
  png16  S.png        16-bit PNG, metres x 256 (KITTI), 0 = none, clipped at 256 m
                      (relative depth: unknown units x 256, with a warning)
  viz    S_depth.png  magma colours of inverse depth (near = bright)
  panel  S_panel.png  the image | viz side by side
  video  V_depth.mp4  for a video V: image | depth per frame, H.264, the video's frame rate
default --save: npz,viz for images, video for videos; a --save list applies to every input
(video to videos only: with image inputs alone it is refused, beside videos warned).

output names:
  image a/b.png          -> DIR/b.npz, DIR/b_depth.png, ...
  folder F (--recursive)  -> DIR/<path below F>.npz, e.g. DIR/x/0005.npz for F/x/0005.png
                            (a KITTI raw folder gives the layout `eval --pred-dir DIR` reads)
  video v.mp4            -> DIR/v/000000.npz, ... (frame index) and DIR/v_depth.mp4
  a clash of names gets -2, -3, ... (with a warning).
Depth comes back at each input's own resolution. It is labelled metric when the model was
trained with velocity supervision (or is a monodepth2 stereo model, x5.4), else relative (known
up to one factor; colours then scaled per frame; metric: one range per input, from its first
frame). --scale S multiplies the depth and labels it metric. --camera-height H (metres,
KITTI 1.65; needs intrinsics) fits the ground plane in each frame's depth and scales it to lie H
below the camera: metric depth, the factor stored as 'scale' in the npz; frames where no plane
is found stay relative (counted in one line); --ground-window N takes the median of the last N
frames' scales of a video. Files are moved into DIR only
when the whole run succeeded; an unreadable input stops the run (exit 2, nothing written)
unless --skip-bad.

--poses: the pose network's camera trajectory of each sequence (a video; all images together,
in input order) in KITTI odometry format (camera-to-world 3x4 a line, first frame at identity;
`packdepth eval-pose --pred-format absolute`, `evo_traj kitti`): DIR/poses_kitti.txt for the
images, DIR/v/poses_kitti.txt for a video v, each with poses_relative.txt and poses.json
(frame names; metric or scale-free).
"""


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser(
        "infer",
        help="depth for images, folders and videos with a trained or imported model",
        description="Predict depth with MODEL (a packdepth model folder or file, a training\n"
        "run folder, a monodepth2 weight folder or a packnet-sfm .ckpt) for every INPUT\n"
        "(image files, folders of images, video files; any mix) and write it below --out.",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    add_model_argument(p)
    p.add_argument("inputs", nargs="*", type=Path, metavar="INPUT",
                   help="image files, folders, videos")
    p.add_argument("--out", type=Path, required=True, help="output folder (created)")
    p.add_argument("--save", default=None, help="comma list of npz, png16, viz, panel, video "
                   "(default: npz,viz for images, video for videos)")
    p.add_argument("--recursive", action="store_true", help="include subfolders of folders")
    p.add_argument("--size", type=image_size, default=None, help="network input HxW (default: "
                   "the size the model records, else 192x640)")
    p.add_argument("--device", default="auto", help="auto (CUDA if available), cpu or cuda")
    p.add_argument("--batch", type=positive_int, default=4,
                   help="frames per network call (default 4)")
    p.add_argument("--threads", type=positive_int, default=None, metavar="N",
                   help="CPU threads (default: the cores not already busy by the 1-minute load "
                   "average, at least 1; on a busy machine several threads are much slower "
                   "than one)")
    p.add_argument("--precision", choices=("fp32", "bf16"), default="fp32",
                   help="fp32 (default, exact) or bf16 (the network in bfloat16): 2-4x faster "
                   "on CPUs with AVX512-BF16/AMX, about 1%% relative depth error")
    p.add_argument("--no-fuse", dest="fuse", action="store_false",
                   help="run the reference layers (default: PackNet's packing layers fused and "
                   "channels-last weights, the same outputs up to float rounding, faster)")
    p.add_argument("--post-process", action="store_true", help="flip post-processing")
    p.add_argument("--scale", type=float, default=None,
                   help="multiply depth by S (e.g. from a known distance); labels it metric")
    add_camera_height(p, "metres above the road: metric depth from the fitted ground plane "
                      "(KITTI 1.65; needs intrinsics)")
    p.add_argument("--ground-window", type=positive_int, default=1,
                   help="with --camera-height: median scale of the last N frames of a video "
                   "(default 1: each frame its own)")
    p.add_argument("--intrinsics", type=Path, default=None,
                   help="YAML/JSON {fx, fy, cx, cy[, width, height]} in pixels, stored as K")
    for name in ("fx", "fy", "cx", "cy"):
        p.add_argument(f"--{name}", type=float, default=None,
                       help=f"{name} in pixels at the inputs' resolution (all four or none)")
    p.add_argument("--stride", type=positive_int, default=1,
                   help="every N-th frame of videos and every N-th image of folders")
    p.add_argument("--pattern", help="folders: take the files matching this glob, e.g. "
                   "'*.color.png' where colour frames and depth maps share the folder")
    p.add_argument("--max-frames", type=positive_int, default=None,
                   help="at most N frames of each video (videos only: images and folders of "
                   "images are all taken; thin them with --stride or --pattern)")
    p.add_argument("--poses", action="store_true",
                   help="also write the pose network's camera trajectory per sequence (each "
                   "video; all images together): poses_kitti.txt, poses_relative.txt, poses.json")
    p.add_argument("--tum", action="store_true",
                   help="with --poses (needs it): also poses_tum.txt")
    p.add_argument("--skip-bad", action="store_true",
                   help="leave unreadable inputs out with a warning instead of stopping")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    import math

    import torch

    from packdepth.data.factory import choose_intrinsics
    from packdepth.errors import PackdepthError
    from packdepth.inference import InferOptions, infer, load
    from packdepth.inference.fast import default_threads
    from packdepth.inference.outputs import parse_formats
    from packdepth.inference.poses import (
        check_pose_net,
        sequence_trajectories,
        write_sequence_trajectories,
    )
    from packdepth.inference.sources import expand_inputs
    from packdepth.text import plural

    if args.scale is not None and not (math.isfinite(args.scale) and args.scale > 0):
        raise PackdepthError(f"--scale: must be a positive number, got {args.scale}")
    intrinsics = choose_intrinsics(args.intrinsics, args.fx, args.fy, args.cx, args.cy,
                                   names="--fx/--fy/--cx/--cy")
    rescale = _ground_rescale(args, intrinsics)
    options = InferOptions(
        save=parse_formats(args.save), batch=args.batch, post_process=args.post_process,
        scale=args.scale, recursive=args.recursive,
        stride=args.stride, pattern=args.pattern, max_frames=args.max_frames,
        skip_bad=args.skip_bad,
        intrinsics=intrinsics, rescale=rescale,
    )
    if not args.inputs:
        raise PackdepthError("no INPUT given (image files, folders or videos)")
    if args.tum and not args.poses:
        raise PackdepthError("--tum goes with --poses (the trajectory in TUM format too)")
    if args.poses and args.skip_bad:
        raise PackdepthError("--poses and --skip-bad: a trajectory needs every frame; drop one")
    previous_threads = torch.get_num_threads()
    torch.set_num_threads(args.threads or default_threads())
    try:
        model = load(args.model, device=args.device, size=args.size, fuse=args.fuse,
                     precision=args.precision)
        if args.poses:
            check_pose_net(model)  # before the inputs' name clashes are warned about
        inputs = expand_inputs(args.inputs, recursive=args.recursive, exclude=args.out,
                               stride=args.stride, pattern=args.pattern)  # once: one warning
        if args.max_frames is not None and not any(i.kind == "video" for i in inputs):
            print("packdepth: warning: --max-frames applies to videos; no INPUT is one (images "
                  "and folders: use --stride or --pattern)", file=sys.stderr)
        trajectories = sequence_trajectories(
            model, inputs, out=args.out, stride=args.stride,
            max_frames=args.max_frames) if args.poses else []
        summary = infer(model, inputs, args.out, options)
        threads = torch.get_num_threads()
    finally:
        torch.set_num_threads(previous_threads)
    for files in write_sequence_trajectories(trajectories, args.out, metric=model.metric,
                                             tum=args.tum):
        scale = "metres" if files.metric else "scale-free"
        print(f"camera trajectory ({scale}): {files.kitti}")
    kind = "metric" if summary.metric else "relative"
    rate = summary.frames / max(summary.seconds, 1e-9)
    used = summary.inputs - len(summary.skipped)
    print(f"depth ({kind}, {model.size[0]}x{model.size[1]} network input, {model.precision}, "
          f"{plural(threads, 'thread')}) for {plural(summary.frames, 'frame')} of "
          f"{plural(used, 'input')}: {plural(len(summary.files), 'file')} in {summary.out} "
          f"[{summary.seconds:.1f} s, {rate:.1f} frames/s]")
    if rescale is not None:
        from packdepth.apps.metric_scale import no_plane_summary

        print(f"ground plane (camera height {args.camera_height:g} m): {summary.metric_frames} "
              f"of {plural(summary.frames, 'frame')} metric")
        missing = no_plane_summary(rescale.fits)
        if missing:
            print(f"packdepth: warning: {missing}; left relative", file=sys.stderr)
    if summary.skipped:
        print(f"skipped {plural(len(summary.skipped), 'unreadable input')}", file=sys.stderr)
    return 0


def _ground_rescale(args: argparse.Namespace, intrinsics):
    """The ground-plane rescale of --camera-height (``None`` without it); checks the options."""
    from packdepth.errors import PackdepthError

    if args.camera_height is None:
        if args.ground_window != 1:
            raise PackdepthError("--ground-window goes with --camera-height")
        return None
    if args.scale is not None:
        raise PackdepthError("--scale and --camera-height both set the scale: give one")
    if intrinsics is None:
        raise PackdepthError("--camera-height needs the camera intrinsics to fit the ground "
                             "plane (--intrinsics or --fx/--fy/--cx/--cy)")
    from packdepth.apps.metric_scale import GroundRescale

    return GroundRescale(args.camera_height, args.ground_window)
