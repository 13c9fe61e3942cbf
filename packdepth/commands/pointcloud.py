"""``packdepth pointcloud``: depth maps (or a depth network on images) → coloured PLY + picture."""

from __future__ import annotations

import argparse
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from packdepth.commands._args import MODEL_FORMS, image_size
from packdepth.errors import PackdepthError

if TYPE_CHECKING:  # numpy (and torch, below) only in run(): --help answers at once
    import numpy as np

DESCRIPTION = """\
Back-project depth into a coloured point cloud: a binary PLY (x y z float32, red green blue
uchar; Open3D, MeshLab, CloudCompare) and a picture (bird's-eye and side views).

Inputs, one of:
  depth files   INPUT.npz (key 'depth' [H,W] in metres or up to scale; optional 'K' [3,3] at
                that resolution and 'metric', as written by `packdepth infer` / `fit`) or a
                16-bit PNG (metres x 256, 0 = none). Colours: one --image per input, in order
                (without: coloured by depth), of the depth's size or aspect ratio (resized to
                it; another aspect ratio is refused). K: the npz's 'K', else --intrinsics.
  --model MODEL INPUT images: depth from a model (any form `packdepth infer` loads) at --size
                (default: the size the model records); colours from the images; K from
                --intrinsics.
Intrinsics files are YAML/JSON {fx, fy, cx, cy[, width, height]} in pixels, scaled to the
depth's size when width/height are given.

Output: one input, or --fuse: --out FILE.ply (+ FILE.png); several inputs without --fuse:
--out is a folder receiving STEM.ply (+ STEM.png) per input. --fuse --poses traj.txt merges the
frames with camera-to-world poses, one KITTI odometry line (3x4, 12 numbers) per input in order
(e.g. `packdepth fit`'s OUT/poses_kitti.txt; depth and poses must share one scale).
Points are in the depth's units: metres only for metric depth."""


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser(
        "pointcloud", help="depth (+ RGB, K) to a coloured PLY point cloud and a picture",
        description=DESCRIPTION, formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("inputs", nargs="+", type=Path, metavar="INPUT",
                   help="depth files (.npz/.png), or images with --model")
    p.add_argument("--out", type=Path, required=True, help="FILE.ply, or a folder (see above)")
    p.add_argument("--image", type=Path, action="append", default=[],
                   help="RGB of a depth file; repeat once per input, in order")
    p.add_argument("--intrinsics", type=Path, help="YAML/JSON {fx, fy, cx, cy[, width, height]}")
    p.add_argument("--model", type=Path, help=MODEL_FORMS)
    p.add_argument("--size", type=image_size, help="network input HxW (with --model)")
    p.add_argument("--fuse", action="store_true", help="merge all inputs into one cloud")
    p.add_argument("--poses", type=Path, help="camera-to-world per input (KITTI format)")
    p.add_argument("--min-depth", type=float, default=0.0, help="drop nearer points")
    p.add_argument("--max-depth", type=float, default=float("inf"), help="drop farther points")
    p.add_argument("--voxel", type=float, default=0.0,
                   help="voxel size (depth units): one point per voxel, mean position/colour")
    p.add_argument("--edge-threshold", type=float, default=0.0, metavar="REL",
                   help="drop flying pixels: depth differs from a 4-neighbour's by more than "
                   "REL (e.g. 0.1 = 10%%) of the smaller; 0 = keep all (default)")
    p.add_argument("--scale", type=float, default=1.0, help="multiply depth (and nothing else)")
    p.add_argument("--no-picture", action="store_true", help="write the PLY only")
    p.set_defaults(func=run)


@dataclass
class DepthFrame:
    """One input: depth ``[H,W]``, intrinsics ``[3,3]``, colours ``[H,W,3]`` uint8 or None."""

    name: str
    depth: np.ndarray
    K: np.ndarray
    rgb: np.ndarray | None
    metric: bool | None


#: What the inputs of pointcloud are, for the messages about another kind of input.
EXPECTED = ("pointcloud takes depth files: packdepth infer's .npz (with 'K'), or a 16-bit depth "
            "PNG (metres x 256) with --intrinsics FILE; images take --model MODEL")


def _rgb(path: Path) -> np.ndarray:
    """``[H,W,3]`` uint8 of an image file (upright, :func:`packdepth.data.images.read_rgb`)."""
    import numpy as np

    from packdepth.data.images import read_rgb

    _refuse_kind(path, "image")
    return np.array(read_rgb(path), dtype=np.uint8)


def _colours(path: Path, depth_path: Path, width: int, height: int) -> np.ndarray:
    """The ``--image`` of a depth file as ``[H,W,3]`` uint8 at the depth's ``width x height``.

    An image of the same aspect ratio (within :data:`~packdepth.data.intrinsics.
    ASPECT_TOLERANCE`, e.g. the full-size photo of a half-size depth map) is resized to it.

    Raises:
        PackdepthError: an image of another aspect ratio (its pixels do not match the depth's).
    """
    import numpy as np
    from PIL import Image

    from packdepth.data.intrinsics import ASPECT_TOLERANCE
    from packdepth.geometry import aspect_change

    rgb = _rgb(path)
    h, w = rgb.shape[:2]
    if (w, h) == (width, height):
        return rgb
    if aspect_change((w, h), (width, height)) > ASPECT_TOLERANCE:
        raise PackdepthError(f"{path}: a {w}x{h} image for the {width}x{height} depth of "
                             f"{depth_path}: another aspect ratio, so its pixels do not match the "
                             "depth's; give the image the depth was predicted from")
    resized = Image.fromarray(rgb).resize((width, height), Image.Resampling.LANCZOS)
    return np.array(resized, dtype=np.uint8)


def _refuse_kind(path: Path, expected: str) -> None:
    """One line naming ``path`` when it is not the kind of input expected (``"depth"`` file, or
    ``"image"`` with ``--model``): a folder, a missing file, an image given as depth, ..."""
    from packdepth.data.folder import IMAGE_EXTENSIONS

    suffix = path.suffix.lower()
    if path.is_dir():
        what = "image files" if expected == "image" else "depth files"
        raise PackdepthError(f"{path}: a folder; give the {what} it holds ({EXPECTED})")
    if not path.exists():
        raise PackdepthError(f"{path}: no such file")
    if expected == "image" and suffix == ".npz":
        raise PackdepthError(f"{path}: a depth file, not an image: without --model it is read "
                             "as depth")
    if expected == "depth" and suffix != ".png" and suffix in IMAGE_EXTENSIONS:
        raise PackdepthError(f"{path}: an image, not a depth file ({EXPECTED})")
    if expected == "depth" and suffix not in (".npz", ".png"):
        raise PackdepthError(f"{path}: not a depth file ({EXPECTED})")


def _depth_png_mode(path: Path) -> None:
    """Refuse a PNG that is a picture rather than 16-bit depth, saying what to do with it."""
    from packdepth.data.images import image_header

    mode = image_header(path)[1]
    if mode not in ("I;16", "I;16B", "I"):
        raise PackdepthError(f"{path}: a picture (mode {mode}), not a 16-bit depth PNG: to predict "
                             "its depth pass --model MODEL")


def _K(intrinsics: Path | None, width: int, height: int, source: Path, why: str) -> np.ndarray:
    """``--intrinsics`` at ``width x height``; without it one line saying ``why`` none is known."""
    from packdepth.data.intrinsics import load_intrinsics

    if intrinsics is None:
        raise PackdepthError(f"{source}: no camera intrinsics ({why}): pass --intrinsics FILE "
                             "(YAML/JSON fx, fy, cx, cy in pixels)")
    return load_intrinsics(intrinsics).matrix(width, height)


def _npz_fields(path: Path) -> tuple[np.ndarray | None, bool | None]:
    """``K`` and ``metric`` of a depth ``.npz``, when present (the depth is already read)."""
    import numpy as np

    if path.suffix.lower() != ".npz":
        return None, None
    from packdepth.io.npz import read_npz

    fields = read_npz(path, keys=("K", "metric"))
    K = fields["K"].astype(np.float64) if "K" in fields else None
    metric = bool(fields["metric"]) if "metric" in fields else None
    if K is not None and (K.shape != (3, 3) or not np.isfinite(K).all()):
        raise PackdepthError(f"{path}: 'K' must be a finite [3,3] array, got shape {K.shape}")
    return K, metric


def depth_frames(args: argparse.Namespace) -> list[DepthFrame]:
    """Read every input (all checked before anything is written)."""
    import numpy as np

    from packdepth.evaluation.depth import read_prediction

    if args.image and len(args.image) != len(args.inputs):
        raise PackdepthError(f"--image: {len(args.image)} images for {len(args.inputs)} inputs")
    frames = []
    for i, path in enumerate(args.inputs):
        _refuse_kind(path, "depth")
        if path.suffix.lower() == ".png":
            _depth_png_mode(path)
        depth = read_prediction(path)
        if not (np.isfinite(depth) & (depth > 0)).any():
            raise PackdepthError(f"{path}: no valid depth (every pixel is NaN, inf or <= 0)")
        h, w = depth.shape
        K, metric = _npz_fields(path)
        if K is None:
            why = ("this .npz has no 'K'; packdepth infer writes it when given --intrinsics"
                   if path.suffix.lower() == ".npz" else "a depth PNG holds none")
            K = _K(args.intrinsics, w, h, path, why)
        rgb = _colours(args.image[i], path, w, h) if args.image else None
        frames.append(DepthFrame(path.stem, depth, K, rgb, metric))
    return frames


def model_frames(args: argparse.Namespace) -> list[DepthFrame]:
    """Depth from ``--model`` (:func:`packdepth.load`, :func:`packdepth.predict`) per image."""
    from packdepth.inference import load, predict

    if args.image:
        raise PackdepthError("--image: with --model the inputs are the images")
    images = [_rgb(p) for p in args.inputs]
    Ks = [_K(args.intrinsics, im.shape[1], im.shape[0], p, "an image holds none")
          for im, p in zip(images, args.inputs)]
    model = load(args.model, device="cpu", size=args.size)
    frames = []
    for path, image, K in zip(args.inputs, images, Ks):
        result = predict(model, image, K=K)
        frames.append(DepthFrame(path.stem, result.depth, K, image, result.metric))
    return frames


def _check_options(args: argparse.Namespace) -> None:
    if args.fuse != (args.poses is not None):
        raise PackdepthError("--fuse and --poses go together (camera-to-world per input)")
    for name in ("voxel", "edge_threshold", "min_depth"):
        if getattr(args, name) < 0:
            raise PackdepthError(f"--{name.replace('_', '-')}: must not be negative")
    if not args.scale > 0 or not args.max_depth > args.min_depth:
        raise PackdepthError("--scale must be positive and --max-depth above --min-depth")
    single = args.fuse or len(args.inputs) == 1
    if single and args.out.suffix.lower() != ".ply":
        raise PackdepthError(f"{args.out}: one cloud is written: --out must end in .ply")
    if not single and args.out.suffix:
        raise PackdepthError(f"{args.out}: {len(args.inputs)} clouds: --out must be a folder "
                             "(or pass --fuse)")
    stems = [p.stem for p in args.inputs]
    if not single and len(set(stems)) < len(stems):
        twice = next(p for p in args.inputs if stems.count(p.stem) > 1)
        raise PackdepthError(f"{twice}: another input has the name {twice.stem!r}: one folder "
                             "holds STEM.ply per input")
    parent = args.out if not single else args.out.parent
    while not parent.exists() and parent != parent.parent:
        parent = parent.parent
    if not parent.is_dir():
        raise PackdepthError(f"{parent}: not a folder: cannot write {args.out}")


def run(args: argparse.Namespace) -> int:
    from packdepth.apps.pointcloud import PointCloud, depth_to_cloud, voxel_downsample, write_ply
    from packdepth.apps.pointcloud_views import render_views
    from packdepth.io.trajectory import read_kitti_poses

    _check_options(args)
    poses = [None] * len(args.inputs)
    if args.fuse:
        poses = list(read_kitti_poses(args.poses))
        if len(poses) != len(args.inputs):
            raise PackdepthError(f"{args.poses}: {len(poses)} poses for {len(args.inputs)} inputs")
    frames = model_frames(args) if args.model else depth_frames(args)
    clouds = [
        depth_to_cloud(f.depth * args.scale, f.K, f.rgb, min_depth=args.min_depth,
                       max_depth=args.max_depth, edge_threshold=args.edge_threshold,
                       cam_to_world=P)
        for f, P in zip(frames, poses)
    ]
    if args.fuse:
        clouds, names = [PointCloud.concatenate(clouds)], [args.out.stem]
    else:
        names = [args.out.stem] if len(frames) == 1 else [f.name for f in frames]
    if args.voxel > 0:
        clouds = [voxel_downsample(c, args.voxel) for c in clouds]
    folder = args.out.parent if len(clouds) == 1 else args.out
    metric = {f.metric for f in frames}
    units = "m" if metric == {True} else ("scale-free" if False in metric else "depth units")
    for name, cloud in zip(names, clouds):
        write_ply(folder / f"{name}.ply", cloud)
        if not args.no_picture:
            render_views(folder / f"{name}.png", [(name, cloud)], units=units)
        print(f"wrote {folder / f'{name}.ply'}: {len(cloud):,} points ({units})")
    return 0
