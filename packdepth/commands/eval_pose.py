"""``packdepth eval-pose``: ATE on 5-frame snippets (SfMLearner / monodepth2 odometry protocol).

File formats (one row-major 3x4 matrix, 12 numbers, per line):

* ``--gt``: camera-to-world pose of every frame (KITTI odometry ``poses.txt``; the synthetic
  world writes one per drive);
* ``--pred`` (``--pred-format relative``, the default): ``N − 1`` lines for ``N`` frames, line
  ``t`` = ``T_t→t+1``, the transform taking points from camera ``t`` into camera ``t+1``
  (packdepth's pose-network ``T_target→source`` with target ``t``, source ``t+1``);
  ``--pred-format absolute``: camera-to-world per frame, like ``--gt``.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from packdepth.errors import PackdepthError
from packdepth.io.atomic import write_text


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser(
        "eval-pose",
        help="absolute trajectory error on 5-frame snippets (scale-aligned)",
        description="ATE of predicted poses against camera-to-world ground truth: every complete "
        "snippet is anchored at its first frame, scale-aligned by least squares, and scored "
        "sqrt(sum of squared position errors) / snippet length; mean and std over snippets.",
    )
    p.add_argument("--pred", type=Path, required=True, help="predicted poses (3x4 per line)")
    p.add_argument("--gt", type=Path, required=True, help="poses.txt, camera-to-world 3x4/line")
    p.add_argument(
        "--pred-format",
        choices=["relative", "absolute"],
        default="relative",
        help="relative: line t = T_t->t+1 (N-1 lines); absolute: camera-to-world (N lines)",
    )
    p.add_argument("--snippet", type=int, default=5, help="frames per snippet (default 5)")
    p.add_argument("--json", type=Path, default=None, help="write the result here")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from packdepth.evaluation.pose import trajectory_ate
    from packdepth.io.trajectory import read_kitti_poses, relative_from_absolute

    gt = read_kitti_poses(args.gt)
    pred = read_kitti_poses(args.pred)
    if args.pred_format == "absolute":
        if len(pred) != len(gt):
            raise PackdepthError(f"{args.pred}: {len(pred)} poses but {args.gt} has {len(gt)}")
        pred = relative_from_absolute(pred)
    elif len(pred) != len(gt) - 1:
        raise PackdepthError(
            f"{args.pred}: {len(pred)} relative poses, expected {len(gt) - 1} for the "
            f"{len(gt)} frames of {args.gt} (use --pred-format absolute for camera-to-world)"
        )
    try:
        result = trajectory_ate(pred, gt, snippet_length=args.snippet)
    except ValueError as exc:
        raise PackdepthError(f"{args.gt}: {exc}") from None
    summary = result.as_dict()
    print(
        f"protocol: {result.snippet_length}-frame snippets, first-frame aligned, least-squares "
        f"scale, {result.num_snippets} snippets\n"
        f"ATE mean {result.mean:.4f} m, std {result.std:.4f} m "
        f"(median scale {summary['scale_median']:.4g})"
    )
    if args.json is not None:
        summary.update(pred=str(args.pred), gt=str(args.gt), pred_format=args.pred_format)
        write_text(args.json, json.dumps(summary, indent=2) + "\n")
        print(f"wrote {args.json}", file=sys.stderr)
    return 0
