"""``packdepth navmap INPUT... --out DIR``: obstacle map and route from monocular depth.

Examples::

    packdepth navmap street.png --model demo_out/model --camera-height 1.65 \\
        --intrinsics cam.yaml --out nav/
    packdepth navmap drive.mp4 --model runs/x --intrinsics cam.yaml --camera-height 1.5 --out nav/
    packdepth navmap depth/ --goal 2,15 --out nav/          # packdepth infer's .npz outputs
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from packdepth.commands._args import MODEL_FORMS, add_camera_height, image_size, positive_int

EPILOG = """\
method: depth (metric, or scaled so that the fitted ground plane lies --camera-height below the
camera) -> 3D points -> ground plane (RANSAC + least squares) -> points 0.2-2 m above it are
obstacles -> bird's-eye grid (free: ground seen, occupied, unknown: never seen; the ground below
the image's lower edge is taken as free) -> obstacles grown by --robot-radius -> A* (8-connected,
no corner cutting) from the camera's cell to --goal X,Z (metres: x right, z ahead) or, by default,
the reachable free cell farthest ahead.

outputs (below --out, named as `packdepth infer` names its outputs):
  image or .npz S   S_navmap.png (image | grid with the route)  S_path.json (route in metres)
  video V           V_navmap.mp4 (one map per frame)            V_paths.json (one record a frame)
An image without a ground plane or a route stops the run (exit 2, nothing written) unless
--keep-going; a video frame without one is drawn with the reason and recorded ("route": null).
"""


def goal_point(text: str) -> tuple[float, float]:
    """argparse type: ``X,Z`` metres."""
    try:
        x, z = (float(v) for v in text.split(","))
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected X,Z in metres (e.g. 1.5,12), got "
                                         f"{text!r}") from None
    return x, z


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser(
        "navmap",
        help="obstacle map and route (A*) from depth: images, videos or infer's .npz",
        description="Build a bird's-eye obstacle map of each frame and plan a route across it. "
        "INPUTs: image files, folders, videos with --model MODEL, or packdepth infer's .npz "
        "outputs (depth + K) and folders of them without.",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("inputs", nargs="+", type=Path, metavar="INPUT",
                   help="images, folders, videos (with --model) or .npz files/folders")
    p.add_argument("--out", type=Path, required=True, help="output folder (created)")
    p.add_argument("--model", type=Path, default=None, help=MODEL_FORMS)
    add_camera_height(p, "metres above the road: scales relative depth (KITTI 1.65)")
    p.add_argument("--goal", type=goal_point, default=None, metavar="X,Z",
                   help="metres, x right and z ahead (default: farthest reachable cell ahead)")
    p.add_argument("--cell", type=float, default=0.2, help="grid cell in metres (default 0.2)")
    p.add_argument("--range", dest="forward", type=float, default=20.0,
                   help="metres ahead (default 20)")
    p.add_argument("--lateral", type=float, default=10.0,
                   help="metres to each side (default 10)")
    p.add_argument("--robot-radius", type=float, default=0.4, help="metres (default 0.4)")
    p.add_argument("--obstacle-min", type=float, default=0.2,
                   help="lowest obstacle point above the ground, metres (default 0.2)")
    p.add_argument("--obstacle-max", type=float, default=2.0,
                   help="highest obstacle point above the ground, metres (default 2)")
    p.add_argument("--intrinsics", type=Path, default=None,
                   help="YAML/JSON {fx, fy, cx, cy[, width, height]} or {K: 3x3}, or "
                   "the 3x3 matrix as text, in pixels (with --model)")
    for name in ("fx", "fy", "cx", "cy"):
        p.add_argument(f"--{name}", type=float, default=None,
                       help=f"{name} in pixels at the inputs' resolution (all four or none)")
    p.add_argument("--size", type=image_size, default=None, help="network input HxW")
    p.add_argument("--device", default="auto", help="auto (CUDA if available), cpu or cuda")
    p.add_argument("--stride", type=positive_int, default=1,
                   help="every N-th frame of videos and every N-th image of folders")
    p.add_argument("--max-frames", type=positive_int, default=None,
                   help="at most N frames of each video (videos only: images and folders of "
                   "images are all taken; thin them with --stride)")
    p.add_argument("--keep-going", action="store_true",
                   help="draw and record images without a route instead of stopping")
    p.add_argument("--credit", default=None, help="small print on every picture")
    p.set_defaults(func=run)


def _options(args: argparse.Namespace):
    from packdepth.apps.navmap import GridSpec, NavOptions
    from packdepth.apps.navmap_run import NavRunOptions
    from packdepth.errors import PackdepthError

    try:
        grid = GridSpec(args.cell, args.forward, args.lateral)
    except ValueError as exc:
        raise PackdepthError(f"--cell/--range/--lateral: {exc}") from None
    if args.robot_radius < 0 or not 0 <= args.obstacle_min < args.obstacle_max:
        raise PackdepthError("need --robot-radius >= 0 and 0 <= --obstacle-min < --obstacle-max")
    nav = NavOptions(grid, args.obstacle_min, args.obstacle_max, robot_radius=args.robot_radius)
    return NavRunOptions(args.camera_height, args.goal, nav, keep_going=args.keep_going,
                         credit=args.credit)


def run(args: argparse.Namespace) -> int:
    from packdepth.apps.depth_frames import model_frames, npz_frames
    from packdepth.apps.navmap_run import write_maps
    from packdepth.data.factory import choose_intrinsics
    from packdepth.errors import PackdepthError

    options = _options(args)
    intrinsics = choose_intrinsics(args.intrinsics, args.fx, args.fy, args.cx, args.cy,
                                   names="--fx/--fy/--cx/--cy")
    if args.model is None:
        if intrinsics is not None or args.size is not None:
            raise PackdepthError("--intrinsics/--fx.../--size go with --model (.npz files "
                                 "carry their K)")
        frames = npz_frames(args.inputs)
    else:
        from packdepth.inference import load

        model = load(args.model, device=args.device, size=args.size)
        frames = model_frames(model, args.inputs, intrinsics=intrinsics, stride=args.stride,
                              max_frames=args.max_frames, exclude=args.out)
    from packdepth.text import plural

    summary = write_maps(frames, args.out, options)
    print(f"maps of {plural(summary.frames, 'frame')} ({summary.routes} with a route): "
          f"{plural(len(summary.files), 'file')} in {args.out}")
    if summary.problems:
        print(f"packdepth: warning: no route in {plural(len(summary.problems), 'frame')} (first: "
              f"{summary.problems[0]})", file=sys.stderr)
    return 0
