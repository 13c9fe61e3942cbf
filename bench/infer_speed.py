"""End-to-end speed of ``packdepth infer``: frames per second from files in to files out.

Usage::

    python bench/infer_speed.py                            # demo_out/model, 40 frames, 192x640
    python bench/infer_speed.py --model runs/x/model --frames 100 --threads 1

Makes (in a temporary folder) a folder of ``--frames`` PNG images at 192x640 (KITTI frames from
``../shared/data/kitti_tiny`` resized, or rendered synthetic streets when that is absent) and an
H.264 video of the same frames, then times :func:`packdepth.inference.infer` on each with the
default outputs (images: npz + colour PNG; video: the depth video; and the video with per-frame
npz + colour PNG too). Timed: decoding, the network, colouring, encoding and writing, after one
warm-up frame; model loading and Python start-up are not (printed apart). Prints a markdown
table with a protocol line and writes ``bench/results/infer_speed.json``.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import tempfile
import time
from pathlib import Path

import numpy as np
import torch
from PIL import Image

from packdepth.inference import InferOptions, infer, load
from packdepth.inference.video import DepthVideoWriter

ROOT = Path(__file__).resolve().parents[1]
KITTI_TINY = ROOT / ".." / "shared" / "data" / "kitti_tiny"


def cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def frames(n: int, height: int, width: int) -> tuple[list[np.ndarray], str]:
    """``n`` ``[H,W,3]`` uint8 frames and where they come from."""
    files = sorted(KITTI_TINY.glob("*/*/image_02/data/*.png"))
    if files:
        picked = [files[i % len(files)] for i in range(n)]
        return [np.asarray(Image.open(p).convert("RGB").resize((width, height),
                                                              Image.Resampling.LANCZOS))
                for p in picked], f"kitti_tiny frames resized to {height}x{width}"
    from packdepth.data.synthetic import SynthParams, render_sequence

    rendered = render_sequence(SynthParams(height=height, width=width, frames=n, seed=0))
    return [f.rgb for f in rendered], f"synthetic streets at {height}x{width}"


def timed(model, inputs, out: Path, save: tuple[str, ...] | None, batch: int) -> float:
    start = time.perf_counter()
    summary = infer(model, inputs, out, InferOptions(save=save, batch=batch, progress=False))
    seconds = time.perf_counter() - start
    return summary.frames / seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default=str(ROOT / "demo_out" / "model"))
    parser.add_argument("--frames", type=int, default=40)
    parser.add_argument("--height", type=int, default=192)
    parser.add_argument("--width", type=int, default=640)
    parser.add_argument("--batch", type=int, default=4)
    parser.add_argument("--threads", type=int, default=None)
    parser.add_argument("--json", type=Path, default=ROOT / "bench" / "results" /
                        "infer_speed.json")
    args = parser.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    start = time.perf_counter()
    model = load(args.model, device="cpu")
    load_s = time.perf_counter() - start
    pictures, origin = frames(args.frames, args.height, args.width)
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        (tmp / "images").mkdir()
        for i, picture in enumerate(pictures):
            Image.fromarray(picture).save(tmp / "images" / f"{i:06d}.png")
        with DepthVideoWriter(tmp / "drive.mp4", 10) as writer:
            for picture in pictures:
                writer.write(picture)
        timed(model, [tmp / "images" / "000000.png"], tmp / "warm", None, 1)
        cases = [
            ("image folder, default outputs (npz + colour PNG)", [tmp / "images"], None),
            ("video, default outputs (depth video)", [tmp / "drive.mp4"], None),
            ("video, depth video + per-frame npz + colour PNG", [tmp / "drive.mp4"],
             ("video", "npz", "viz")),
        ]
        for name, inputs, save in cases:
            fps = timed(model, inputs, tmp / f"out{len(rows)}", save, args.batch)
            rows.append({"case": name, "frames": args.frames, "frames_per_s": round(fps, 2)})
            print(f"{name}: {fps:.2f} frames/s", flush=True)
    arch = f"{type(model.depth_net).__name__}{model.depth_net.config.get('num_layers', '')}"
    protocol = (f"{args.frames} frames ({origin}), model {args.model} ({arch}, network input "
                f"{model.size[0]}x{model.size[1]}), batch {args.batch}, torch {torch.__version__}, "
                f"{torch.get_num_threads()} threads, CPU {cpu_model()} ({torch.get_num_threads()} "
                f"of {os.cpu_count()} cores), model load {load_s:.1f} s (not timed)")
    print(f"\n{protocol}\n\n| input | frames/s |\n|---|---|")
    for row in rows:
        print(f"| {row['case']} | {row['frames_per_s']:.2f} |")
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps({"protocol": protocol, "rows": rows}, indent=1) + "\n")
    print(f"\nwrote {args.json}")


if __name__ == "__main__":
    main()
