"""Inference speed: packdepth's depth networks per variant, then ``packdepth infer`` end to end.

Usage::

    python bench/infer_speed.py                    # full run (about 30 min on 2 loaded cores)
    python bench/infer_speed.py --quick            # the same tables, fewer repeats, smaller e2e
    python bench/infer_speed.py --threads 1 --nets ResNetDepth18 --no-e2e

**Networks.** Every cell (network x input size x batch x variant) is built first, with the same
random weights (seed 0), then timed in rounds: each round runs every cell once, in a fixed
order, so that the machine's load hits all cells alike; a cell's figure is its median over
rounds (slow cells stop after ``--slow-rounds``). Variants:

- ``plain``: the reference layers (PackNet's Conv3d packing, NCHW), under ``inference_mode``;
- ``default``: what ``packdepth infer`` and ``packdepth.load`` run
  (:func:`packdepth.inference.fast.prepare_network`: fused PackNet, channels-last ResNets);
- ``fused``: only :func:`packdepth.networks.fused.fuse` (PackNet only);
- ``bf16``: ``default`` cast to bfloat16 (opt-in ``--precision bf16``), with its largest
  elementwise relative difference to ``plain`` in the full-resolution inverse depth;
- ``onnxruntime``: a slot for ``packdepth/export/onnx.py``'s session (see :func:`onnx_runner`).

Peak RSS: a fresh process per network, input and variant builds the network, prepares it and
runs one forward pass (``ru_maxrss``: Python, torch, weights and activations).

**End to end** (``--e2e``, the default): ``packdepth infer`` on a folder of PNG frames and on an
H.264 video of the same frames, default outputs, with ``--model`` (the demo model by default).

Prints markdown tables with a protocol line and writes ``bench/results/infer_speed.json``.
"""

from __future__ import annotations

import argparse
import copy
import json
import os
import platform
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import torch
from torch import nn

from packdepth.inference import InferOptions, Model, infer, load, predict
from packdepth.inference.fast import default_threads, prepare_network
from packdepth.networks import PackNet01, PackNetSlim01, PackNetSmall, ResNetDepth
from packdepth.networks.fused import fuse
from packdepth.networks.layers import PackLayer3d

ROOT = Path(__file__).resolve().parents[1]
NETWORKS: dict[str, Callable[[], nn.Module]] = {
    "PackNet01-A": lambda: PackNet01("A"),
    "PackNetSlim01-A": lambda: PackNetSlim01("A"),
    "PackNetSmall-A": lambda: PackNetSmall("A"),
    "ResNetDepth18": lambda: ResNetDepth(18),
    "ResNetDepth50": lambda: ResNetDepth(50),
}
CASES = [((192, 640), 1), ((192, 640), 4), ((384, 1280), 1)]
VARIANTS = ["plain", "default", "fused", "bf16", "onnxruntime"]


@dataclass
class Runner:
    """One variant of a network: ``runner(image)`` is one forward pass."""

    module: nn.Module
    precision: str = "fp32"

    def __call__(self, image: torch.Tensor) -> torch.Tensor:
        dtype = torch.bfloat16 if self.precision == "bf16" else torch.float32
        with torch.inference_mode():
            return self.module(image.to(dtype))[0].float()


def onnx_runner(net: nn.Module, image: torch.Tensor) -> Runner | None:
    """The onnxruntime column: ``None`` until ``packdepth/export/onnx.py`` is wired here (export
    ``net`` at ``image``'s shape, return a callable with :class:`Runner`'s contract)."""
    return None


def prepare_variant(net: nn.Module, variant: str, image: torch.Tensor,
                    own: bool = False) -> Runner | None:
    """A :class:`Runner` for ``variant`` of ``net`` (a copy, or ``net`` itself when ``own``), or
    ``None`` where it does not apply (``fused`` without packing layers, ``onnxruntime`` not
    wired)."""
    mine = net if own else copy.deepcopy(net) if variant != "fused" else net
    if variant == "plain":
        return Runner(mine.eval())
    if variant == "fused":
        has_packing = any(isinstance(m, PackLayer3d) for m in net.modules())
        return Runner(fuse(mine, inplace=own).eval()) if has_packing else None
    if variant in ("default", "bf16"):
        precision = "bf16" if variant == "bf16" else "fp32"
        return Runner(prepare_network(mine, precision=precision), precision)
    if variant == "onnxruntime":
        return onnx_runner(net, image)
    raise ValueError(f"unknown variant {variant!r}")


def cpu_model() -> str:
    """The CPU's model name from ``/proc/cpuinfo`` (else what ``platform`` knows)."""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def load_average() -> str:
    return ", ".join(f"{v:.2f}" for v in os.getloadavg())


def peak_rss_mb(name: str, size: tuple[int, int], batch: int, variant: str,
                threads: int) -> float | None:
    """Peak RSS (MB) of a fresh process that builds, prepares and runs one cell once
    (``VmHWM`` of ``/proc/self/status``: unlike ``ru_maxrss`` it does not carry the parent's
    peak across ``exec``); ``None`` where that is not available."""
    code = (f"import sys, torch; sys.path.insert(0, {str(ROOT / 'bench')!r}); "
            f"torch.set_num_threads({threads}); torch.manual_seed(0); import infer_speed as b; "
            f"x = torch.rand({batch}, 3, {size[0]}, {size[1]}); "
            f"r = b.prepare_variant(b.NETWORKS[{name!r}](), {variant!r}, x, own=True); "
            "r is not None and r(x); print([l.split()[1] for l in open('/proc/self/status') "
            "if l.startswith('VmHWM')][0])")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          env={**os.environ, "PYTHONPATH": str(ROOT)})
    out = done.stdout.strip()
    return round(int(out) / 1024.0) if done.returncode == 0 and out.isdigit() else None


def network_table(args: argparse.Namespace) -> tuple[list[dict], str]:
    """Time every cell in alternating rounds; returns the rows and the markdown table."""
    cells = []
    for name in args.nets:
        torch.manual_seed(0)
        net = NETWORKS[name]().eval()
        shared = {v: prepare_variant(net, v, torch.empty(0)) for v in VARIANTS[1:-1]}
        shared["plain"] = prepare_variant(net, "plain", torch.empty(0), own=True)  # net itself
        for size, batch in CASES:
            image = torch.rand(batch, 3, *size, generator=torch.Generator().manual_seed(1))
            row = {"network": name, "input": f"{size[0]}x{size[1]}", "batch": batch}
            for variant in VARIANTS:
                runner = shared.get(variant) or prepare_variant(net, variant, image)
                if runner is not None:
                    start = time.perf_counter()
                    out = runner(image)  # warm-up; its output gives the error
                    cells.append({"row": row, "variant": variant, "run": runner, "x": image,
                                  "times": [], "first_s": time.perf_counter() - start})
                    if variant == "plain":
                        reference = out
                    row[f"{variant}_max_rel"] = float(((out - reference).abs()
                                                       / reference.abs()).max())
            print(f"built {name} {row['input']} b{batch}", file=sys.stderr, flush=True)
        del net, shared
    rows = list({id(c["row"]): c["row"] for c in cells}.values())
    for round_index in range(args.rounds):
        for cell in cells:
            limit = args.slow_rounds if cell["first_s"] > args.slow_seconds else args.rounds
            if round_index < limit:
                start = time.perf_counter()
                cell["run"](cell["x"])
                cell["times"].append(time.perf_counter() - start)
        print(f"round {round_index + 1}/{args.rounds}, load {load_average()}", file=sys.stderr,
              flush=True)
    for cell in cells:
        ms = 1000.0 * statistics.median(cell["times"]) / cell["row"]["batch"]
        cell["row"][f"{cell['variant']}_ms"] = round(ms, 1)
        cell["row"][f"{cell['variant']}_repeats"] = len(cell["times"])
    for row in rows:
        for variant in ("plain", "default"):
            if args.rss and (not args.quick or (row["input"], row["batch"]) == ("192x640", 1)):
                size = tuple(int(v) for v in row["input"].split("x"))
                row[f"{variant}_rss_mb"] = peak_rss_mb(row["network"], size, row["batch"],
                                                       variant, args.threads)
    return rows, markdown(rows)


def _cell(row: dict, variant: str) -> str:
    ms = row.get(f"{variant}_ms")
    return "–" if ms is None else f"{ms:.0f} ms ({1000.0 / ms:.1f}/s)"


def markdown(rows: list[dict]) -> str:
    lines = ["| network | input | batch | plain | **default** | default / plain | fused | "
             "bf16 (opt-in) | onnxruntime | max rel. diff default / bf16 | peak RSS plain / "
             "default |", "|---|---|---|---|---|---|---|---|---|---|---|"]
    for row in rows:
        speedup = row["plain_ms"] / row["default_ms"]
        rss = " / ".join("–" if row.get(f"{v}_rss_mb") is None else f"{row[f'{v}_rss_mb']} MB"
                         for v in ("plain", "default"))
        diff = " / ".join("–" if f"{v}_max_rel" not in row else f"{row[f'{v}_max_rel']:.1e}"
                          for v in ("default", "bf16"))
        lines.append(f"| {row['network']} | {row['input']} | {row['batch']} | "
                     f"{_cell(row, 'plain')} | **{_cell(row, 'default')}** | {speedup:.2f}x | "
                     f"{_cell(row, 'fused')} | {_cell(row, 'bf16')} | {_cell(row, 'onnxruntime')}"
                     f" | {diff} | {rss} |")
    return "\n".join(lines)


def e2e_frames(n: int, height: int, width: int) -> tuple[list, str]:
    """``n`` ``[H,W,3]`` uint8 frames: ``kitti_tiny`` resized (in ``$PACKDEPTH_TEST_DATA``, else
    ``../shared/data``, as the tests look for it), else rendered synthetic streets."""
    import numpy as np
    from PIL import Image

    data = Path(os.environ.get("PACKDEPTH_TEST_DATA") or ROOT.parent / "shared" / "data")
    files = sorted((data / "kitti_tiny").glob("*/*/image_02/data/*.png"))
    if files:
        picked = [files[i % len(files)] for i in range(n)]
        return [np.asarray(Image.open(p).convert("RGB").resize((width, height),
                                                              Image.Resampling.LANCZOS))
                for p in picked], f"kitti_tiny frames resized to {height}x{width}"
    from packdepth.data.synthetic import SynthParams, render_sequence

    rendered = render_sequence(SynthParams(height=height, width=width, frames=n, seed=0))
    return [f.rgb for f in rendered], f"synthetic streets at {height}x{width}"


def error_on_frames(model: Model, other: Model, pictures: list) -> dict[str, float]:
    """Relative depth difference of ``other`` against ``model`` over ``pictures``."""
    import numpy as np

    rel = np.concatenate([(np.abs(predict(other, p).depth - d) / d).ravel()
                          for p, d in ((p, predict(model, p).depth) for p in pictures)])
    return {"median": float(np.median(rel)), "p99": float(np.percentile(rel, 99)),
            "max": float(rel.max())}


def e2e_table(args: argparse.Namespace) -> tuple[list[dict], str]:
    """``packdepth infer`` frames/s on a folder and a video (default outputs, ``--batch``)."""
    import tempfile

    from PIL import Image

    from packdepth.inference.video import DepthVideoWriter

    start = time.perf_counter()
    model = load(args.model, device="cpu")
    load_s = time.perf_counter() - start
    pictures, origin = e2e_frames(args.frames, 192, 640)
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        (tmp / "images").mkdir()
        for i, picture in enumerate(pictures):
            Image.fromarray(picture).save(tmp / "images" / f"{i:06d}.png")
        with DepthVideoWriter(tmp / "drive.mp4", 10) as writer:
            for picture in pictures:
                writer.write(picture)
        infer(model, [tmp / "images" / "000000.png"], tmp / "warm", InferOptions(progress=False))
        cases = [("image folder, default outputs (npz + colour PNG)", [tmp / "images"], None),
                 ("video, default outputs (depth video)", [tmp / "drive.mp4"], None),
                 ("video, depth video + per-frame npz + colour PNG", [tmp / "drive.mp4"],
                  ("video", "npz", "viz"))]
        for name, inputs, save in cases:
            start = time.perf_counter()
            summary = infer(model, inputs, tmp / f"out{len(rows)}",
                            InferOptions(save=save, batch=args.batch, progress=False))
            rows.append({"case": name, "frames": summary.frames,
                         "frames_per_s": round(summary.frames / (time.perf_counter() - start), 2)})
    bf16 = error_on_frames(model, load(args.model, device="cpu", precision="bf16"), pictures)
    net = model.depth_net
    arch = f"{type(net).__name__}{getattr(net, 'config', {}).get('num_layers', '')}"
    protocol = (f"{args.frames} frames ({origin}), model {args.model} ({arch}, network input "
                f"{model.size[0]}x{model.size[1]}, default path), batch {args.batch}, model load "
                f"{load_s:.1f} s (not timed); --precision bf16 against fp32 on these frames: "
                f"relative depth difference median {bf16['median']:.1e}, 99th percentile "
                f"{bf16['p99']:.1e}, max {bf16['max']:.1e}")
    table = "\n".join([protocol, "", "| input | frames/s |", "|---|---|"]
                      + [f"| {r['case']} | {r['frames_per_s']:.2f} |" for r in rows])
    return rows, table


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true",
                        help="2 rounds (slow cells 1), peak RSS at 192x640 b1 only, 8 e2e frames")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--slow-rounds", type=int, default=3,
                        help="rounds for cells whose first pass took over --slow-seconds")
    parser.add_argument("--slow-seconds", type=float, default=5.0)
    parser.add_argument("--threads", type=int, default=None,
                        help="default: what packdepth infer picks (cores not busy)")
    parser.add_argument("--nets", nargs="+", choices=sorted(NETWORKS), default=list(NETWORKS))
    parser.add_argument("--no-rss", dest="rss", action="store_false")
    parser.add_argument("--no-e2e", dest="e2e", action="store_false")
    parser.add_argument("--model", default=str(ROOT / "demo_out" / "model"),
                        help="model for the end-to-end table")
    parser.add_argument("--frames", type=int, default=40)
    parser.add_argument("--batch", type=int, default=4, help="end-to-end --batch")
    parser.add_argument("--json", type=Path, default=ROOT / "bench" / "results" /
                        "infer_speed.json")
    args = parser.parse_args()
    if args.quick:
        args.rounds, args.slow_rounds, args.frames = 2, 1, 8
    args.threads = args.threads or default_threads()
    torch.set_num_threads(args.threads)
    load_before = load_average()
    header = (f"torch {torch.__version__}, {args.threads} threads, CPU {cpu_model()} "
              f"({os.cpu_count()} cores), load average before {load_before}")
    print(header, flush=True)
    rows, table = network_table(args)
    protocol = (f"{header}, after {load_average()}; random weights (seed 0), random images; "
                f"median of {args.rounds} alternating rounds ({args.slow_rounds} for cells over "
                f"{args.slow_seconds:g} s), ms per image = batch time / batch; max rel. diff: "
                "largest elementwise |x - plain| / plain of the full-resolution inverse depth; "
                "peak RSS: VmHWM of one fresh process per cell (build, prepare, one pass)")
    print(f"\n{protocol}\n\n{table}\n", flush=True)
    result = {"protocol": protocol, "networks": rows, "quick": args.quick}
    if args.e2e:
        e2e_rows, e2e = e2e_table(args)
        print(f"{e2e}\n\nload average after the end-to-end run {load_average()}")
        result["end_to_end"] = e2e_rows
        result["end_to_end_protocol"] = e2e.splitlines()[0]
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps(result, indent=1) + "\n")
    print(f"wrote {args.json}")


if __name__ == "__main__":
    main()
