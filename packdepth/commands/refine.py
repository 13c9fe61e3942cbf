"""``packdepth refine``: dense-CRF refinement of depth maps on their images (extra ``crf``).

Examples::

    packdepth refine depth/0001.npz --image frames/0001.png --out refined/
    packdepth refine depth/*.npz --image frames/*.png --out refined/ --save npz,png16,viz
    packdepth refine frames/ --model demo_out/model --out refined/ --sigma 0.2 --tau 0.1
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from packdepth.commands._args import MODEL_FORMS, image_size, positive_int
from packdepth.errors import PackdepthError

EPILOG = """\
inputs, one of:
  depth files    INPUT.npz as `packdepth infer` / `fit` write them (key 'depth' [H,W];
                 'K' and 'metric' kept when present) or a 16-bit depth PNG (metres x 256);
                 --image gives each one's RGB image, once per input, in order, of the
                 depth's size. Output name: the depth file's stem.
  --model MODEL  INPUT images or folders of images: depth from MODEL (any form `packdepth
                 infer` loads) first, then refined. Output names as `packdepth infer`'s.
outputs (below --out, per frame with output name S), written only when every frame succeeded:
  npz    S.npz        depth [H,W] float32, inv_depth, metric, K when the input had one
  png16  S.png        16-bit PNG, metres x 256 (KITTI), clipped at 256 m
  viz    S_depth.png  magma colours of inverse depth (near = bright)
  panel  S_panel.png  the image | viz side by side
default --save: npz,viz.

the CRF (Kraehenbuehl & Koltun, NIPS 2011; see packdepth.apps.crf): K depth labels spaced in
log depth over the prediction's range, a Gaussian unary in log depth of width --sigma around
the prediction, pairwise terms mu(l,l') * [w1*exp(-|dp|^2/2 theta_alpha^2 - |dI|^2/2
theta_beta^2) + w2*exp(-|dp|^2/2 theta_gamma^2)] (pixels, RGB 0-255) with Potts mu (--tau 0)
or a Potts softened over depths within ~tau in log depth, mean-field inference, and the
expected log depth over the labels (no staircase). --gate keeps the prediction except near its
own depth edges (slanted surfaces are flattened by the CRF otherwise). Cost ~ K x pixels: about
6 s per 1242x375 frame at K=64 with Potts, 34 s with --tau > 0 (one core).
Measured (bench/crf_effect.py, docs/benchmarks.md): it sharpens blurred depth edges
(abs_rel near edges -14 % on blurred exact depth) but barely changes a network's depth
(abs_rel within +-0.004, near edges -0.005 to +0.014); no other command runs it.
"""

#: CLI option → :class:`~packdepth.apps.crf.CRFParams` field.
CRF_OPTIONS = {
    "labels": (positive_int, "K, depth labels"),
    "sigma": (float, "unary width in log depth (0.1 = 10 %%)"),
    "theta_alpha": (float, "appearance kernel, spatial width (pixels)"),
    "theta_beta": (float, "appearance kernel, colour width (RGB 0-255)"),
    "theta_gamma": (float, "smoothness kernel, spatial width (pixels)"),
    "w1": (float, "appearance kernel weight"),
    "w2": (float, "smoothness kernel weight"),
    "tau": (float, "label compatibility width in log depth (0 = Potts)"),
    "iterations": (positive_int, "mean-field steps"),
    "gate": (float, "refine only near the prediction's depth edges: log-depth jumps above "
             "this (0 = everywhere)"),
    "gate_width": (float, "the gate's reach, a fraction of the image width"),
}


def register(subparsers: argparse._SubParsersAction) -> None:
    from packdepth.apps.crf_params import CRFParams

    p = subparsers.add_parser(
        "refine",
        help="dense-CRF refinement of depth maps on their images (extra: crf)",
        description="Refine depth maps (infer's .npz, or MODEL's depth for images) with a\n"
        "fully connected CRF on the RGB image: depth edges follow colour edges.\n"
        "Needs pydensecrf2: pip install 'packdepth[crf]'.",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("inputs", nargs="*", type=Path, metavar="INPUT",
                   help="depth files (.npz/.png), or images and folders with --model")
    p.add_argument("--out", type=Path, required=True, help="output folder (created)")
    p.add_argument("--image", type=Path, nargs="+", action="extend", default=[],
                   help="the RGB image of each depth file, in order")
    p.add_argument("--model", type=Path, default=None,
                   help=f"predict the depth of image INPUTs with this model first: {MODEL_FORMS}")
    p.add_argument("--size", type=image_size, default=None,
                   help="with --model: network input HxW (default: the model's)")
    p.add_argument("--device", default="auto", help="with --model: auto, cpu or cuda")
    p.add_argument("--recursive", action="store_true", help="with --model: subfolders too")
    p.add_argument("--save", default="npz,viz",
                   help="comma list of npz, png16, viz, panel (default npz,viz)")
    defaults = CRFParams()
    for name, (kind, text) in CRF_OPTIONS.items():
        p.add_argument(f"--{name.replace('_', '-')}", dest=name, type=kind,
                       default=getattr(defaults, name), help=f"{text} (default %(default)s)")
    p.add_argument("--depth-range", default=None, metavar="NEAR,FAR",
                   help="depth of the first and last label (default: the prediction's range)")
    p.set_defaults(func=run)


def crf_params(args: argparse.Namespace):
    """The :class:`~packdepth.apps.crf.CRFParams` of the options; bad values → one line."""
    from packdepth.apps.crf_params import CRFParams

    depth_range = None
    if args.depth_range is not None:
        try:
            near, far = (float(v) for v in args.depth_range.split(","))
        except ValueError:
            raise PackdepthError(f"--depth-range: expected NEAR,FAR, got {args.depth_range!r}"
                                 ) from None
        depth_range = (near, far)
    try:
        return CRFParams(**{name: getattr(args, name) for name in CRF_OPTIONS},
                         depth_range=depth_range)
    except ValueError as exc:
        raise PackdepthError(f"--{str(exc).replace('_', '-')}") from None


@dataclass
class _Frame:
    """One depth map to refine: its output name, the files it came from, depth and image."""

    name: str
    sources: tuple[Path, ...]
    result: Any  # DepthResult
    rgb: Any  # [H,W,3] uint8


def _depth_frames(args: argparse.Namespace) -> tuple[list[str], Iterator[_Frame]]:
    """The output names, and a ``_Frame`` per depth file and its ``--image`` (checked first:
    counts, names, sizes)."""
    import numpy as np

    from packdepth.data.images import image_size as file_size
    from packdepth.data.images import read_image
    from packdepth.inference.outputs import read_result

    if len(args.image) != len(args.inputs):
        raise PackdepthError(f"--image: {len(args.image)} images for {len(args.inputs)} depth "
                             "files (one per depth file, in order)")
    names: dict[str, Path] = {}
    for depth_file, image in zip(args.inputs, args.image):
        if depth_file.stem in names:
            raise PackdepthError(f"{depth_file}: output name {depth_file.stem!r} already taken "
                                 f"by {names[depth_file.stem]}")
        names[depth_file.stem] = depth_file
        h, w = read_result(depth_file).depth.shape
        W, H = file_size(image)
        if (h, w) != (H, W):
            raise PackdepthError(f"{image}: the image is {W}x{H} but its depth {depth_file} is "
                                 f"{w}x{h}")
    frames = (_Frame(d.stem, (d, i), read_result(d), read_image(i, np.uint8))
              for d, i in zip(args.inputs, args.image))
    return list(names), frames


def _model_frames(args: argparse.Namespace) -> tuple[list[str], Iterator[_Frame]]:
    """The output names, and a ``_Frame`` per image INPUT, its depth predicted by ``--model``."""
    from packdepth.inference import load, predict
    from packdepth.inference.sources import expand_inputs, iter_frames

    if args.image:
        raise PackdepthError("--image: with --model the INPUTs are the images")
    items = expand_inputs(args.inputs, recursive=args.recursive, exclude=args.out)
    for item in items:
        if item.kind != "image":
            raise PackdepthError(f"{item.path}: refine takes images, not videos")
    model = load(args.model, device=args.device, size=args.size)
    frames = (_Frame(frame.name, (item.path,), predict(model, frame.image), frame.image)
              for item in items for frame in iter_frames(item))
    return [item.name for item in items], frames


def run(args: argparse.Namespace) -> int:
    from packdepth.apps.crf import densecrf, refine_result
    from packdepth.inference.outputs import (
        ColourRange,
        depth_colours,
        frame_paths,
        parse_formats,
        write_frame,
    )
    from packdepth.inference.progress import Progress
    from packdepth.io.atomic import publish, refuse_replacing, staging_folder

    densecrf()  # the missing extra is the first thing said
    params = crf_params(args)
    formats = parse_formats(args.save)
    if "video" in formats:
        raise PackdepthError("--save: video is not a refine format (npz, png16, viz, panel)")
    if not args.inputs:
        raise PackdepthError("no INPUT given (depth files, or images with --model)")
    names, frames = (_model_frames if args.model is not None else _depth_frames)(args)
    sources = [*args.inputs, *args.image]
    refuse_replacing([p for n in names for p in frame_paths(args.out / n, formats).values()],
                     sources)
    start, files = time.monotonic(), []
    progress = Progress(len(names), desc="refine", every=10)
    with staging_folder(args.out, ".refine-") as stage:
        for frame in frames:
            sources += frame.sources
            try:
                refined = refine_result(frame.result, frame.rgb, params)
            except ValueError as exc:
                raise PackdepthError(f"{frame.sources[0]}: {exc}") from None
            colours = depth_colours(refined, ColourRange()) if {"viz", "panel"} & set(formats) \
                else None
            files += write_frame(stage / frame.name, refined, frame.rgb, formats, colours)
            progress.update()
        progress.close()
        files = publish(stage, args.out, files, sources)
    seconds = time.monotonic() - start
    print(f"refined {progress.done} depth maps (dense CRF, {params.labels} labels, "
          f"{params.iterations} iterations): {len(files)} files in {args.out} [{seconds:.1f} s]")
    return 0
