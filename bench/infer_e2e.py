"""The end-to-end rows of ``bench/infer_speed.py``: ``packdepth infer`` on a folder of PNG frames
and on an H.264 video of the same frames (default outputs). Timed: decoding, the network,
colouring, encoding and writing, after one warm-up frame; model loading is not."""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import torch
from PIL import Image

from packdepth.data.synthetic import SynthParams, render_sequence
from packdepth.inference import InferOptions, infer, load
from packdepth.inference.video import DepthVideoWriter
from packdepth.networks import ResNetDepth


def e2e_rows(args: argparse.Namespace, tmp: Path) -> tuple[list[dict], str]:
    """``packdepth infer`` ms per image on a folder and a video at network input 192x640, with
    ``args.model`` (random ResNet18 weights when it is absent), ``args.frames`` synthetic street
    frames, ``args.batch``; written below ``tmp``. Returns the table rows and a protocol part."""
    model_path = Path(args.model)
    if not model_path.exists():  # the speed does not depend on the weights
        from packdepth.io.checkpoints import DEPTH_FILE, save_models

        torch.manual_seed(0)
        model_path = tmp / "model"
        save_models([(ResNetDepth(18).eval(), model_path / DEPTH_FILE, None, {})])
    model = load(model_path, device="cpu", size=(192, 640))
    pictures = [f.rgb for f in render_sequence(SynthParams(height=192, width=640,
                                                           frames=args.frames, seed=0))]
    (tmp / "images").mkdir(parents=True)
    for i, picture in enumerate(pictures):
        Image.fromarray(picture).save(tmp / "images" / f"{i:06d}.png")
    with DepthVideoWriter(tmp / "drive.mp4", 10) as writer:
        for picture in pictures:
            writer.write(picture)
    infer(model, [tmp / "images" / "000000.png"], tmp / "warm", InferOptions(progress=False))
    rows = []
    for case, inputs in (("folder of PNGs -> npz + colour PNG", tmp / "images"),
                         ("H.264 video -> depth video", tmp / "drive.mp4")):
        start = time.perf_counter()
        summary = infer(model, [inputs], tmp / f"out{len(rows)}",
                        InferOptions(batch=args.batch, progress=False))
        seconds = time.perf_counter() - start
        rows.append({"network": f"infer: {case}", "input": "192x640", "batch": args.batch,
                     "default_ms": 1000.0 * seconds / summary.frames})
    net = model.depth_net
    arch = f"{type(net).__name__}{getattr(net, 'config', {}).get('num_layers', '')}"
    return rows, (f"end to end: {args.frames} synthetic street frames, model {args.model} "
                  f"({arch}, default path)")
