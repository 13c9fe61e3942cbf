"""``packdepth eval-pose``: ATE on 5-frame snippets (SfMLearner / monodepth2 odometry protocol).

File formats, for ``N`` frames (a line per pose; frames are matched line by line):

* KITTI odometry: one row-major 3x4 matrix, 12 numbers, a line. ``--gt``: camera-to-world pose
  of every frame (KITTI odometry ``poses.txt``; the synthetic world writes one per drive).
  ``--pred``, ``--pred-format``:

  - ``absolute``: camera-to-world per frame, ``N`` lines, like ``--gt`` (``poses_kitti.txt`` of
    ``packdepth fit`` / ``infer --poses``);
  - ``relative``: ``N − 1`` lines, line ``t`` = ``T_t→t+1``, the transform taking points from
    camera ``t`` into camera ``t+1`` (packdepth's pose-network ``T_target→source`` with target
    ``t``, source ``t+1``; ``poses_relative.txt``);
  - ``auto`` (default): what the ``poses.json`` sidecar beside the file says of it (``fit`` and
    ``infer --poses`` write one), else absolute with ``N`` lines, relative with ``N − 1``; any
    other count is an error giving both.

* TUM RGB-D: ``timestamp tx ty tz qx qy qz qw`` a line (8 numbers), read as camera-to-world poses
  (:func:`packdepth.io.trajectory.read_tum`; the timestamps are not used), for ``--gt`` or
  ``--pred`` alike; said on stderr.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from packdepth.commands._args import positive_int
from packdepth.errors import PackdepthError
from packdepth.io.atomic import write_text


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser(
        "eval-pose",
        help="absolute trajectory error on 5-frame snippets (scale-aligned)",
        description="ATE of predicted poses against camera-to-world ground truth: every complete "
        "snippet is anchored at its first frame, scale-aligned by least squares, and scored "
        "sqrt(sum of squared position errors) / snippet length; mean and std over snippets. "
        "KITTI (12 numbers a line) and TUM (timestamp tx ty tz qx qy qz qw) files are accepted; "
        "frames are matched line by line.",
    )
    p.add_argument("--pred", type=Path, required=True,
                   help="predicted poses (3x4 per line, or TUM)")
    p.add_argument("--gt", type=Path, required=True,
                   help="poses.txt, camera-to-world 3x4/line (or TUM)")
    p.add_argument(
        "--pred-format",
        choices=["auto", "relative", "absolute"],
        default="auto",
        help="relative: line t = T_t->t+1 (N-1 lines); absolute: camera-to-world (N lines); "
        "auto (default): as poses.json beside --pred says, else by the count of lines (N: "
        "absolute, N-1: relative); a TUM file is absolute",
    )
    p.add_argument("--snippet", type=positive_int, default=5, help="frames per snippet (default 5)")
    p.add_argument("--json", type=Path, default=None, help="write the result here")
    p.set_defaults(func=run)


def sidecar_format(pred: Path) -> str | None:
    """``absolute``/``relative`` as the ``poses.json`` beside ``pred`` describes a file of its
    name (``poses_kitti.txt``, ``poses_relative.txt``), else ``None``."""
    from packdepth.inference.trajectory import KITTI_FILE, RELATIVE_FILE, SIDECAR_FILE

    try:
        sidecar = json.loads((pred.parent / SIDECAR_FILE).read_text())
    except (OSError, ValueError):
        return None
    if not isinstance(sidecar, dict) or pred.name not in sidecar:
        return None
    return {KITTI_FILE: "absolute", RELATIVE_FILE: "relative"}.get(pred.name)


def pred_format(args: argparse.Namespace, kind: str, n_pred: int, n_gt: int) -> tuple[str, str]:
    """``(format, why)`` of the predictions: given, TUM, sidecar or count (module docstring).

    Raises:
        PackdepthError: a TUM file given as relative, or a count that fits no format.
    """
    from packdepth.inference.trajectory import SIDECAR_FILE
    from packdepth.io.trajectory import TUM_PHRASE

    fmt, why = args.pred_format, "--pred-format"
    if kind == "tum":
        if fmt == "relative":
            raise PackdepthError(f"{args.pred}: {TUM_PHRASE} holds camera-to-world poses, not "
                                 "relative ones: use --pred-format absolute (or auto)")
        fmt, why = "absolute", "TUM"
    elif fmt == "auto" and sidecar_format(args.pred) is not None:
        fmt, why = sidecar_format(args.pred), f"{SIDECAR_FILE} beside it"
    if fmt == "auto":
        if n_pred not in (n_gt, n_gt - 1):
            raise PackdepthError(
                f"{args.pred}: {n_pred} poses, but {args.gt} has {n_gt} frames: expected {n_gt} "
                f"(camera-to-world, one per frame) or {n_gt - 1} (relative, one per pair)")
        fmt, why = ("absolute" if n_pred == n_gt else "relative"), "count of lines"
    if fmt == "absolute" and n_pred != n_gt:
        raise PackdepthError(f"{args.pred}: {n_pred} camera-to-world poses ({why}) but {args.gt} "
                             f"has {n_gt}")
    if fmt == "relative" and n_pred != n_gt - 1:
        raise PackdepthError(
            f"{args.pred}: {n_pred} relative poses ({why}), expected {n_gt - 1} for the "
            f"{n_gt} frames of {args.gt} (use --pred-format absolute for camera-to-world)"
        )
    return fmt, why


def run(args: argparse.Namespace) -> int:
    from packdepth.evaluation.pose import trajectory_ate
    from packdepth.io.trajectory import TUM_PHRASE, read_trajectory, relative_from_absolute

    gt, gt_kind = read_trajectory(args.gt)
    pred, pred_kind = read_trajectory(args.pred)
    fmt, why = pred_format(args, pred_kind, len(pred), len(gt))
    for path, kind in ((args.gt, gt_kind), (args.pred, pred_kind)):
        if kind == "tum":
            print(f"{path}: {TUM_PHRASE}: read as camera-to-world poses, matched line by line",
                  file=sys.stderr)
    if fmt == "absolute":
        pred = relative_from_absolute(pred)
    try:
        result = trajectory_ate(pred, gt, snippet_length=args.snippet)
    except ValueError as exc:
        raise PackdepthError(f"{args.gt}: {exc}") from None
    summary = result.as_dict()
    print(
        f"protocol: {result.snippet_length}-frame snippets, first-frame aligned, least-squares "
        f"scale, {result.num_snippets} snippets; predictions {fmt} ({why})\n"
        f"ATE mean {result.mean:.4f} m, std {result.std:.4f} m "
        f"(median scale {summary['scale_median']:.4g})"
    )
    if args.json is not None:
        summary.update(pred=str(args.pred), gt=str(args.gt), pred_format=fmt)
        write_text(args.json, json.dumps(summary, indent=2) + "\n")
        print(f"wrote {args.json}", file=sys.stderr)
    return 0
