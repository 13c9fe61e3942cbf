"""``packdepth fit VIDEO_OR_FOLDER --out DIR``: test-time training on your own sequence."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from packdepth.commands._args import (
    add_camera_height,
    add_overrides,
    image_size,
    positive_int,
)
from packdepth.weights import SHIPPED_MODEL


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser(
        "fit",
        help="fit depth to one video / image folder self-supervised, then depth for every frame",
        description="Per-sequence self-supervised fitting: train depth + pose on the frames of "
        "one video file, image folder or KITTI raw folder for --minutes, then write "
        "OUT/depth/<frame>.npz (key 'depth', at the frame's own resolution) and "
        "<frame>_depth.png colours for every frame (as `packdepth infer` writes them), the "
        "fitted pose network's camera trajectory (OUT/poses_kitti.txt: camera-to-world 3x4 per "
        "frame, first frame at identity, for eval-pose --pred-format absolute and evo_traj kitti; "
        "OUT/poses_relative.txt: T_t->t+1 per pair; OUT/poses.json: frame names and whether the "
        "translations are metres (velocity supervision) or scale-free; several sequences: "
        "OUT/poses/<sequence>/), and the model in OUT/run/model (with the run's config.yaml "
        "and logs). It starts from the model shipped inside packdepth (--init shipped, the "
        "default) or another one given with --init; --init none trains from scratch (not "
        "recommended on one short sequence). OUT must be new or "
        "empty; --overwrite replaces an earlier fit's outputs there. While it trains, "
        "OUT/run/checkpoints/last.ckpt is written every trainer.checkpoint_every_steps steps "
        "(a Lightning checkpoint with the optimizer state, about 4x the model's size); a fit that "
        "finishes deletes it, as a fit does not resume (--keep-checkpoints keeps it). Ctrl-C or "
        "SIGTERM stop the fit with nothing more written.",
    )
    p.add_argument("source", type=Path, help="video file, image folder or KITTI raw root")
    p.add_argument("--out", type=Path, required=True, help="output folder")
    p.add_argument("--minutes", type=float, default=10.0, help="training time (default 10)")
    p.add_argument("--size", type=image_size, default=(96, 320),
                   help="training size HxW (default 96x320; at least 16 pixels a side)")
    p.add_argument("--intrinsics", help="YAML/JSON {fx, fy, cx, cy[, width, height]} or "
                   "{K: 3x3[, width, height]}, or the 3x3 matrix as three rows of numbers: "
                   "pixels, of the frames as shown upright")
    p.add_argument("--init", default=SHIPPED_MODEL,
                   help="model folder or file, or training run folder, to start from (its depth "
                   "and, when it has one, pose net); default 'shipped': the model inside "
                   "packdepth (a path of that name wins); 'none': from scratch")
    p.add_argument("--stride", type=positive_int, default=1, help="use every N-th frame")
    p.add_argument("--pattern", help="image folders: take the files matching this glob, e.g. "
                   "'*.color.png' where colour frames and depth maps share the folder "
                   "(default: every image; they must be of one kind and size)")
    p.add_argument("--tum", action="store_true",
                   help="also write the trajectory in TUM format (OUT/poses_tum.txt)")
    add_camera_height(p, "metres above the road (KITTI 1.65): the depth maps are scaled by the "
                      "sequence's median ground-plane scale and labelled metric")
    p.add_argument("--overwrite", action="store_true",
                   help="replace an earlier fit's outputs in OUT (run/, depth/, poses*); other "
                   "files are never deleted: an OUT holding any is refused")
    p.add_argument("--keep-checkpoints", action="store_true",
                   help="keep the run's Lightning checkpoint (OUT/run/checkpoints/last.ckpt) "
                   "after the fit")
    add_overrides(p)
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from packdepth.errors import PackdepthError
    from packdepth.text import plural
    from packdepth.training.config import check_train_size
    from packdepth.training.fit import fit

    if args.minutes <= 0:
        raise PackdepthError(f"--minutes: must be positive, got {args.minutes}")
    check_train_size(*args.size, "--size")
    height = args.camera_height
    result = fit(
        args.source, args.out, minutes=args.minutes, size=args.size,
        intrinsics=args.intrinsics, init=args.init, stride=args.stride, pattern=args.pattern,
        overrides=args.overrides, tum=args.tum, camera_height=height, overwrite=args.overwrite,
        keep_checkpoints=args.keep_checkpoints,
    )
    print(f"fitted {plural(result.steps, 'step')}; depth for {plural(result.frames, 'frame')} in "
          f"{result.depth_dir}; model in {result.model_dir}")
    for files in result.trajectories:
        units = "metres" if files.metric else "scale-free"
        tum = f", {files.tum}" if files.tum else ""
        print(f"camera trajectory ({units}, see {files.sidecar.name}): {files.kitti}{tum}")
    if result.ground is not None:
        from packdepth.apps.metric_scale import no_plane_summary

        found = sum(fit.found for _, fit in result.ground.fits)
        if result.ground.scale is None:
            print(f"packdepth: warning: no ground plane in any of the "
                  f"{plural(len(result.ground.fits), 'frame')}: depth left relative",
                  file=sys.stderr)
        else:
            print(f"metric depth: median ground-plane scale {result.ground.scale:.4g} of "
                  f"{plural(found, 'frame')} (camera height {height:g} m)")
            missing = no_plane_summary(result.ground.fits)
            if missing:
                print(f"packdepth: warning: {missing}", file=sys.stderr)
    return 0
