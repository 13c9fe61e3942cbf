"""Inference speed: packdepth's depth networks per variant and ``packdepth infer`` end to end,
in one markdown table.

Usage::

    python bench/infer_speed.py                    # full run (about 20 min on 2 loaded cores)
    python bench/infer_speed.py --quick            # 192x640 batch 1 only, 2 rounds, 8 e2e frames
    python bench/infer_speed.py --large ResNetDepth18 ResNetDepth50 PackNetSmall-A
    python bench/infer_speed.py --threads 1 --nets ResNetDepth18 --no-e2e

**Networks.** Every cell (network x input size x batch x variant) is built first, with the same
random weights (seed 0), then timed in rounds: each round runs every cell once, in a fixed
order, so that the machine's load hits all cells alike; a cell's figure is its fastest round
(other jobs only ever add time; every round's time is kept in the results file; slow cells stop
after ``--slow-rounds``). Variants:

- ``plain``: the reference layers (PackNet's Conv3d packing, NCHW) under ``inference_mode``:
  the function of packnet-sfm's / monodepth2's layers (``tests/io`` parity tests);
- ``default``: what ``packdepth infer`` and ``packdepth.load`` run
  (:func:`packdepth.inference.fast.prepare_network`: fused PackNet, channels-last ResNets);
- ``fused``: :func:`packdepth.networks.fused.fuse` alone. For PackNet that is the default network
  itself (``prepare_network`` adds nothing else), so it is not timed twice; ResNets have
  nothing to fuse;
- ``onnxruntime``: the reference layers exported by :func:`packdepth.export.export_onnx` (a
  dynamic graph, checked there ≤ 1e-4 against PyTorch) and run by onnxruntime's CPU provider
  with the same threads;
- ``bf16`` (``--bf16``): ``default`` cast to bfloat16 (opt-in ``--precision bf16``; not exact).

Each variant's largest elementwise relative difference to ``plain`` in the full-resolution
inverse depth is kept in the JSON. Peak RSS: a fresh process per network, input and variant
builds the network (or loads the ONNX file), prepares it and runs one pass (``VmHWM``).

**End to end** (``--e2e``, the default): ``packdepth infer`` at network input 192x640 on a
folder of PNG frames and on an H.264 video of the same frames, default outputs, ``--batch``,
with ``--model`` (default ``demo_out/model``; random ResNet18 weights when it is absent); the
same table, rows "infer: ...". Timed: decoding, the network, colouring, encoding and writing.

Writes ``bench/results/infer_speed.json`` (``bench/record.py``'s shape).
"""

from __future__ import annotations

import argparse
import copy
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import torch
from torch import nn

from packdepth.inference.fast import default_threads, prepare_network
from packdepth.networks import PackNet01, PackNetSlim01, PackNetSmall, ResNetDepth
from packdepth.networks.fused import fuse
from packdepth.networks.layers import PackLayer3d

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "bench"))
from infer_e2e import e2e_rows  # noqa: E402
from record import machine, save_result  # noqa: E402

NETWORKS: dict[str, Callable[[], nn.Module]] = {
    "PackNet01-A": lambda: PackNet01("A"),
    "PackNetSlim01-A": lambda: PackNetSlim01("A"),
    "PackNetSmall-A": lambda: PackNetSmall("A"),
    "ResNetDepth18": lambda: ResNetDepth(18),
    "ResNetDepth50": lambda: ResNetDepth(50),
}
CASES = [((192, 640), 1), ((192, 640), 4), ((384, 1280), 1)]
VARIANTS = ["plain", "default", "fused", "onnxruntime", "bf16"]
#: where the ONNX files (one per network, exported once) and the end-to-end frames go; set by
#: :func:`main` to a temporary folder removed at its end
WORK = Path(tempfile.gettempdir())


@dataclass
class Runner:
    """One variant of a network: ``runner(image)`` is one forward pass."""

    module: nn.Module
    precision: str = "fp32"

    def __call__(self, image: torch.Tensor) -> torch.Tensor:
        dtype = torch.bfloat16 if self.precision == "bf16" else torch.float32
        with torch.inference_mode():
            return self.module(image.to(dtype))[0].float()


class OnnxRunner:
    """onnxruntime on the exported reference layers: ``runner(image)`` like :class:`Runner`."""

    def __init__(self, path: Path, threads: int):
        from packdepth.export import OnnxDepthModel

        self.model = OnnxDepthModel(path, threads=threads)

    def __call__(self, image: torch.Tensor) -> torch.Tensor:
        return torch.from_numpy(self.model(image.numpy()))


def onnx_path(net: nn.Module, name: str, threads: int) -> Path:
    """Export ``net``'s reference layers once (dynamic graph, checked at 96x320 and a second
    size by :func:`packdepth.export.export_onnx`) to :data:`WORK`."""
    from packdepth.export import export_onnx

    path = WORK / f"{name}.onnx"
    if not path.is_file():
        export_onnx(net, path, size=(96, 320), dynamic=True, timing_runs=0, threads=threads)
    return path


def prepare_variant(net: nn.Module, variant: str, name: str = "", threads: int = 1,
                    own: bool = False) -> Runner | OnnxRunner | None:
    """A runner for ``variant`` of ``net`` (a copy, or ``net`` itself when ``own``), or ``None``
    where it does not apply (``fused`` without packing layers). ``name`` and ``threads`` serve
    the ``onnxruntime`` variant (the file's name, onnxruntime's threads)."""
    if variant == "onnxruntime":
        return OnnxRunner(onnx_path(net, name or type(net).__name__, threads), threads)
    if variant == "fused" and not any(isinstance(m, PackLayer3d) for m in net.modules()):
        return None
    mine = net if own else copy.deepcopy(net)
    if variant == "plain":
        return Runner(mine.eval())
    if variant == "fused":
        return Runner(fuse(mine, inplace=True).eval())
    if variant in ("default", "bf16"):
        precision = "bf16" if variant == "bf16" else "fp32"
        return Runner(prepare_network(mine, precision=precision), precision)
    raise ValueError(f"unknown variant {variant!r}")


def cpu_model() -> str:
    """The CPU's model name (as :func:`record.machine` reads it)."""
    return str(machine()["cpu"])


def load_average() -> str:
    return ", ".join(f"{v:.2f}" for v in os.getloadavg())


def peak_rss_mb(name: str, size: tuple[int, int], batch: int, variant: str,
                threads: int) -> float | None:
    """Peak RSS (MB) of a fresh process that builds, prepares and runs one cell once
    (``VmHWM`` of ``/proc/self/status``: unlike ``ru_maxrss`` it does not carry the parent's
    peak across ``exec``); ``None`` where that is not available. The onnxruntime process loads
    the file exported here (it does not export)."""
    make = (f"b.OnnxRunner(b.Path({str(WORK / (name + '.onnx'))!r}), {threads})"
            if variant == "onnxruntime" else
            f"b.prepare_variant(b.NETWORKS[{name!r}](), {variant!r}, own=True)")
    code = (f"import sys, torch; sys.path.insert(0, {str(ROOT / 'bench')!r}); "
            f"torch.set_num_threads({threads}); torch.manual_seed(0); import infer_speed as b; "
            f"x = torch.rand({batch}, 3, {size[0]}, {size[1]}); r = {make}; "
            "r is not None and r(x); print([l.split()[1] for l in open('/proc/self/status') "
            "if l.startswith('VmHWM')][0])")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          env={**os.environ, "PYTHONPATH": str(ROOT)})
    out = done.stdout.strip().splitlines()[-1:] or [""]
    return round(int(out[0]) / 1024.0) if done.returncode == 0 and out[0].isdigit() else None


def cases_of(name: str, args: argparse.Namespace) -> list[tuple[tuple[int, int], int]]:
    return CASES[:1] if args.quick or name not in args.large else CASES


def network_rows(args: argparse.Namespace) -> list[dict]:
    """Time every cell in alternating rounds; one row per network, input and batch."""
    cells = []
    for name in args.nets:
        torch.manual_seed(0)
        net = NETWORKS[name]().eval()
        runners = {v: prepare_variant(net, v, name, args.threads) for v in args.variants
                   if v != "plain"}
        runners["plain"] = prepare_variant(net, "plain", own=True)  # net itself
        for size, batch in cases_of(name, args):
            image = torch.rand(batch, 3, *size, generator=torch.Generator().manual_seed(1))
            row = {"network": name, "input": f"{size[0]}x{size[1]}", "batch": batch}
            for variant in ["plain", *[v for v in args.variants if v != "plain"]]:
                runner = runners.get(variant)
                if runner is None or (variant == "fused" and "default" in args.variants):
                    continue  # PackNet's fused network is the default one: timed once
                start = time.perf_counter()
                out = runner(image)  # warm-up; its output gives the difference
                cells.append({"row": row, "variant": variant, "run": runner, "x": image,
                              "times": [], "first_s": time.perf_counter() - start})
                if variant == "plain":
                    reference = out
                row[f"{variant}_max_rel"] = float(((out - reference).abs()
                                                   / reference.abs()).max())
            print(f"built {name} {row['input']} b{batch}", file=sys.stderr, flush=True)
        del net, runners
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
        ms = 1000.0 * min(cell["times"]) / cell["row"]["batch"]
        cell["row"][f"{cell['variant']}_ms"] = ms
        cell["row"][f"{cell['variant']}_times_s"] = cell["times"]
        cell["row"][f"{cell['variant']}_repeats"] = len(cell["times"])
    for row in rows:
        if row["network"].startswith("PackNet") and "default_ms" in row:
            row["fused_ms"] = row["default_ms"]
        if args.rss and (row["input"], row["batch"]) in args.rss_cases:
            size = tuple(int(v) for v in row["input"].split("x"))
            for variant in ("plain", "default", "onnxruntime"):
                if f"{variant}_ms" in row:
                    row[f"{variant}_rss_mb"] = peak_rss_mb(row["network"], size, row["batch"],
                                                           variant, args.threads)
    return rows


def _cell(row: dict, variant: str) -> str:
    ms = row.get(f"{variant}_ms")
    return "–" if ms is None else f"{ms:.0f} ms, {1000.0 / ms:.1f}/s"


def table(rows: list[dict], variants: list[str]) -> tuple[list[str], list[list[str]]]:
    """Columns and cells of the one table."""
    shown = [v for v in ("plain", "default", "fused", "onnxruntime", "bf16") if v in variants]
    columns = ["network", "input", "batch", *[f"{v} ms/image, images/s" for v in shown],
               "default / plain", "peak RSS plain / default / onnxruntime"]
    cells = []
    for row in rows:
        speedup = (f"{row['plain_ms'] / row['default_ms']:.2f}x" if "plain_ms" in row
                   and "default_ms" in row else "–")
        rss = " / ".join("–" if row.get(f"{v}_rss_mb") is None else f"{row[f'{v}_rss_mb']} MB"
                         for v in ("plain", "default", "onnxruntime"))
        cells.append([row["network"], row["input"], str(row["batch"]),
                      *[_cell(row, v) for v in shown], speedup, rss])
    return columns, cells


def markdown(columns: list[str], cells: list[list[str]]) -> str:
    lines = ["| " + " | ".join(columns) + " |", "|" + "---|" * len(columns)]
    return "\n".join(lines + ["| " + " | ".join(c) + " |" for c in cells])


def measure(args: argparse.Namespace, header: str) -> tuple[list[dict], str]:
    """The network rows, then the end-to-end rows; and the protocol line."""
    rows = network_rows(args)
    protocol = (f"{header}, after the networks {load_average()}; random weights (seed 0), "
                f"random images; fastest of {args.rounds} alternating rounds ({args.slow_rounds} "
                f"for cells over {args.slow_seconds:g} s); ms per image = batch time / batch; "
                "fused = default for PackNet (the same network); peak RSS: VmHWM of one fresh "
                f"process per cell ({', '.join(sorted(f'{s} b{b}' for s, b in args.rss_cases))})")
    if set(args.large) != set(args.nets) and not args.quick:
        protocol += (f"; 192x640 b4 and 384x1280 b1 for "
                     f"{', '.join(n for n in args.nets if n in args.large)} only")
    if args.e2e:
        more, line = e2e_rows(args, WORK / "e2e")
        rows += more
        protocol += f"; {line}"
    return rows, protocol


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true",
                        help="192x640 batch 1 only, 2 rounds (slow cells 1), 8 e2e frames")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--slow-rounds", type=int, default=2,
                        help="rounds for cells whose first pass took over --slow-seconds")
    parser.add_argument("--slow-seconds", type=float, default=5.0)
    parser.add_argument("--threads", type=int, default=None,
                        help="default: what packdepth infer picks (cores not busy)")
    parser.add_argument("--nets", nargs="+", choices=sorted(NETWORKS), default=list(NETWORKS))
    parser.add_argument("--large", nargs="*", choices=sorted(NETWORKS), default=list(NETWORKS),
                        help="networks also measured at 192x640 b4 and 384x1280 b1 (default all)")
    parser.add_argument("--bf16", action="store_true", help="add the opt-in bf16 variant")
    parser.add_argument("--no-onnx", action="store_true", help="leave onnxruntime out")
    parser.add_argument("--no-rss", dest="rss", action="store_false")
    parser.add_argument("--no-e2e", dest="e2e", action="store_false")
    parser.add_argument("--model", default=str(ROOT / "demo_out" / "model"),
                        help="model for the end-to-end rows")
    parser.add_argument("--frames", type=int, default=24)
    parser.add_argument("--batch", type=int, default=4, help="end-to-end --batch")
    parser.add_argument("--json", type=Path, default=ROOT / "bench" / "results" /
                        "infer_speed.json")
    args = parser.parse_args()
    if args.quick:
        args.rounds, args.slow_rounds, args.frames = 2, 1, 8
    args.variants = [v for v in VARIANTS if (v != "bf16" or args.bf16)
                     and (v != "onnxruntime" or not args.no_onnx)]
    args.rss_cases = {("192x640", 1)} if args.quick else {("192x640", 1), ("384x1280", 1)}
    global WORK
    args.threads = args.threads or default_threads()
    torch.set_num_threads(args.threads)
    header = (f"torch {torch.__version__}, {args.threads} threads (PyTorch and onnxruntime), "
              f"CPU {cpu_model()} ({os.cpu_count()} cores), load average at start "
              f"{load_average()}")
    print(header, flush=True)
    with tempfile.TemporaryDirectory(prefix="infer_speed-") as work:
        WORK = Path(work)
        rows, protocol = measure(args, header)
    columns, cells = table(rows, args.variants)
    print(f"\n{protocol}\n\n{markdown(columns, cells)}\n", flush=True)
    worst = {v: max((r[f"{v}_max_rel"] for r in rows if f"{v}_max_rel" in r), default=None)
             for v in args.variants if v != "plain"}
    notes = ["largest elementwise relative difference to plain: " + ", ".join(
        f"{v} {e:.1e}" for v, e in worst.items() if e is not None)]
    save_result(args.json, title="CPU inference speed (networks and packdepth infer)",
                protocol=protocol, columns=columns, rows=cells, notes=notes,
                data={"rows": rows, "quick": args.quick})
    print(f"{notes[0]}\nwrote {args.json}")


if __name__ == "__main__":
    main()
