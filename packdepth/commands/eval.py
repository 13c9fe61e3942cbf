"""``packdepth eval``: depth metrics of a model or of saved predictions, KITTI protocol.

Examples::

    packdepth eval --checkpoint runs/x/model --data KITTI_raw --split eigen_test_files.txt
    packdepth eval --pred-dir preds/ --data KITTI_raw --split eigen_test_files.txt --json m.json
    packdepth eval --pred-dir md2_export/ --pred-naming index --data KITTI_raw --split s.txt
    packdepth eval --checkpoint runs/x/model --data KITTI_raw --split s.txt --scaling ground \
        --camera-height 1.65
"""

from __future__ import annotations

import argparse
import importlib
import json
import math
import sys
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING

from packdepth.commands._args import add_camera_height, image_size
from packdepth.errors import PackdepthError
from packdepth.io.atomic import write_text

if TYPE_CHECKING:  # the evaluation modules import torch: only in run(), not for --help
    from packdepth.data.kitti.splits import SplitEntry
    from packdepth.evaluation.predictions import PredictionFolder
    from packdepth.evaluation.report import Predictor

#: --crop's choices: the crops of :data:`packdepth.evaluation.metrics.CROPS` and none.
CROP_CHOICES = ("eigen", "garg", "none")
#: --pred-naming's choices: :data:`packdepth.evaluation.predictions.NAMINGS`.
NAMING_CHOICES = ("auto", "path", "stem", "index")

#: Network input size when neither ``--size`` nor the checkpoint gives one (monodepth2/PackNet
#: KITTI training size).
DEFAULT_SIZE = (192, 640)


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser(
        "eval",
        help="depth metrics (abs_rel, rmse, δ<1.25, ...) with the KITTI protocol",
        description="Score a depth model or saved predictions against ground truth with the "
        "standard KITTI protocol (Garg crop, 1e-3 < gt < 80 m, per-image median scaling, mean of "
        "per-image metrics). GT per frame: proj_depth/groundtruth PNG, else the Velodyne scan.",
    )
    source = p.add_mutually_exclusive_group(required=True)
    source.add_argument(
        "--checkpoint",
        type=Path,
        help="a packdepth model file, a model folder holding depth_net.safetensors "
        "(import-weights --out, a run's model/), a training run folder, or 'shipped': the model "
        "inside packdepth (a path of that name wins)",
    )
    source.add_argument(
        "--pred-dir",
        type=Path,
        help="saved depth per frame: .npz (key 'depth') or .png (16-bit, metres x 256), named "
        "as --pred-naming says",
    )
    p.add_argument(
        "--pred-naming",
        choices=NAMING_CHOICES,
        default="auto",
        help="how --pred-dir files are named. path: DIR/<drive>/image_0X/data/<frame> (infer on "
        "the data root); stem: DIR/<frame>, the image's own file stem (infer on one "
        "image_0X/data folder; a stem two split lines share is refused); index: DIR/<split line "
        "index from 0, 10 digits> (monodepth2-style export order), only when given; auto "
        "(default): path, else stem, never index (a folder named 0..N-1 for an N-line split "
        "whose stems disagree with the line indices is refused: choose)",
    )
    p.add_argument("--data", type=Path, required=True, help="root folder in KITTI raw layout")
    p.add_argument(
        "--split",
        type=Path,
        required=True,
        help="frames to score: '<folder> <frame> l|r' lines or relative image paths",
    )
    p.add_argument("--crop", choices=CROP_CHOICES, default="garg")
    p.add_argument("--min-depth", type=float, default=1e-3, help="GT/prediction floor (m)")
    p.add_argument("--max-depth", type=float, default=80.0, help="GT/prediction cap (m)")
    p.add_argument(
        "--no-median-scaling",
        action="store_true",
        help="score metric depth as is (stereo / velocity-supervised models); = --scaling none",
    )
    p.add_argument(
        "--scaling",
        choices=["median", "none", "ground"],
        default=None,
        help="median: per-image GT median ratio (default); none: as is; ground: the factor that "
        "puts the prediction's fitted ground plane --camera-height below the camera (images "
        "without a plane are scored unscaled and counted)",
    )
    add_camera_height(p, "camera height above the road in metres, for --scaling ground "
                      "(KITTI: 1.65)")
    p.add_argument(
        "--post-process", action="store_true", help="flip post-processing (needs --checkpoint)"
    )
    p.add_argument(
        "--size",
        type=image_size,
        default=None,
        help="network input HxW (default: the model file's recorded training size, else 192x640)",
    )
    p.add_argument("--json", type=Path, default=None, help="write the full report here")
    p.add_argument("--per-image", action="store_true", help="also print each image's abs_rel")
    p.set_defaults(func=run)


def _model_predictor(args: argparse.Namespace) -> tuple[Predictor, tuple[int, int]]:
    from packdepth.evaluation.report import model_predictor

    checkpoints = importlib.import_module("packdepth.io.checkpoints")  # heavy: only on this path

    path = checkpoints.model_file(args.checkpoint)  # a file, or a model folder
    model = checkpoints.load_model(path, kind="depth")
    size = args.size or _recorded_size(checkpoints, path) or DEFAULT_SIZE
    return model_predictor(model, args.data, size=size, post_process=args.post_process), size


def _recorded_size(checkpoints, path: Path) -> tuple[int, int] | None:
    """The training size a model file records (``height``/``width`` in its info), if any."""
    read_info = getattr(checkpoints, "read_model_info", None)
    if read_info is None:
        return None
    _, info = read_info(path)
    try:
        return int(info["height"]), int(info["width"])
    except (KeyError, TypeError, ValueError):
        return None


def _saved_predictor(folder: PredictionFolder) -> Predictor:
    from packdepth.evaluation.depth import read_prediction

    def predict(entry: SplitEntry, index: int):
        path = folder.find(entry, index)
        return read_prediction(path), str(path)

    return predict


def _finite(obj):
    """JSON cannot hold NaN/inf: write ``null`` for them."""
    if isinstance(obj, float) and not math.isfinite(obj):
        return None
    if isinstance(obj, dict):
        return {k: _finite(v) for k, v in obj.items()}
    if isinstance(obj, list):
        return [_finite(v) for v in obj]
    return obj


def _scaling(args: argparse.Namespace) -> str:
    """``median``, ``none`` or ``ground`` from --scaling, --no-median-scaling, --camera-height."""
    scaling = args.scaling or ("none" if args.no_median_scaling else "median")
    if args.no_median_scaling and scaling != "none":
        raise PackdepthError(f"--no-median-scaling contradicts --scaling {scaling}")
    if scaling == "ground" and args.camera_height is None:
        raise PackdepthError("--scaling ground needs --camera-height (metres; KITTI: 1.65)")
    if scaling != "ground" and args.camera_height is not None:
        raise PackdepthError("--camera-height goes with --scaling ground")
    return scaling


def run(args: argparse.Namespace) -> int:
    from tqdm import tqdm

    from packdepth.data.kitti.splits import read_split
    from packdepth.evaluation.metrics import DepthProtocol
    from packdepth.evaluation.predictions import PredictionFolder
    from packdepth.evaluation.report import evaluate_depth, format_report

    if not args.data.is_dir():
        raise PackdepthError(f"{args.data}: data folder not found")
    if args.pred_dir is not None and not args.pred_dir.is_dir():
        raise PackdepthError(f"{args.pred_dir}: prediction folder not found")
    if args.pred_naming != "auto" and args.pred_dir is None:
        raise PackdepthError("--pred-naming goes with --pred-dir")
    if args.post_process and args.pred_dir is not None:
        raise PackdepthError("--post-process needs --checkpoint (saved predictions are final)")
    scaling = _scaling(args)
    try:
        protocol = DepthProtocol(
            None if args.crop == "none" else args.crop,
            args.min_depth,
            args.max_depth,
            scaling == "median",
            args.post_process,
        )
    except ValueError as exc:
        raise PackdepthError(f"--min-depth/--max-depth: {exc}") from None
    scaler = None
    if scaling == "ground":
        from packdepth.apps.metric_scale import GroundScaler  # scikit-learn: only on this path

        protocol = replace(protocol, camera_height=args.camera_height)
        scaler = GroundScaler(args.data, args.camera_height)
    entries = read_split(args.split)
    folder = None
    if args.checkpoint is not None:
        predict, size = _model_predictor(args)
    else:
        folder = PredictionFolder(args.pred_dir, entries, args.pred_naming)
        predict, size = _saved_predictor(folder), None
    with tqdm(total=len(entries), desc="eval", unit="frame", disable=None, leave=False) as bar:
        report = evaluate_depth(
            args.data, entries, predict, protocol, progress=lambda done, total: bar.update(1),
            scaler=scaler,
        )
    report["protocol"].update(
        split=str(args.split),
        data=str(args.data),
        predictions=str(args.checkpoint or args.pred_dir),
        input_size=list(size) if size else None,
    )
    if folder is not None:
        report["protocol"]["pred_naming"] = folder.describe()
        print(f"predictions: {args.pred_dir}, naming {folder.describe()}", file=sys.stderr)
    print(format_report(report))
    if args.per_image:
        for row in report["per_image"]:
            ground = ""
            if scaler is not None:
                scale = row["ground_scale"]
                ground = f"  ground scale {scale:.4g}" if scale is not None else "  no plane"
            print(f"{row['name']}  abs_rel {row['abs_rel']:.4f}  ratio {row['scale_ratio']:.4g}"
                  f"{ground}")
    if args.json is not None:
        write_text(args.json, json.dumps(_finite(report), indent=2, allow_nan=False) + "\n")
        print(f"wrote {args.json}", file=sys.stderr)
    return 0
