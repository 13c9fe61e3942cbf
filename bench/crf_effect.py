"""Does dense-CRF refinement (`packdepth refine`) make depth better? Measured, not assumed.

    .venv/bin/python bench/crf_effect.py --synthetic-model demo_out/model   # -> crf_effect.json
    .venv/bin/python bench/crf_effect.py --tune     # the grid that chose the defaults (printed)

For each data set, the network's depth (``packdepth.predict`` at the image's own resolution) is
scored before and after :func:`packdepth.apps.crf.refine_depth` with each parameter setting:

- ``synthetic``: held-out streets (seed 1000, one frame in ``--every``, exact depth; no crop,
  80 m cap, median scaling); edges from the exact depth with radius 1;
- ``synthetic_blurred_gt``: a control that isolates what a CRF can do: the exact depth itself,
  sky filled with 80 m, blurred in inverse depth (Gaussian, ``--blur`` px), as the prediction;
- ``kitti_tiny``: the 10 frames with Velodyne scans (KITTI protocol: Garg crop, 80 m cap,
  median scaling); edges from the scan with radius 2 (sparse points);
- ``kitti_annotated``: the 3 frames with KITTI's annotated depth (same protocol, radius 2).

Figures (mean over frames): abs_rel, rmse, a1 of the whole image, and abs_rel in the edge band
(valid GT within 2 px of a GT depth discontinuity: a log-depth jump > 0.15 between GT pixels
at most ``radius`` px apart, :mod:`packdepth.evaluation.edges`) and outside it; with the
number of frames whose edge abs_rel went down, and CPU seconds per frame (one thread). The
results go to ``bench/results/crf_effect.json`` (``bench/record.py``'s shape; the table on
docs/benchmarks.md). ``--tune`` scores a grid on a street of its own (seed 2000, every 2nd
frame; never reported), for the blurred-GT control and the model's prediction, and only prints
it: it chose the defaults of :class:`~packdepth.apps.crf.CRFParams`.
"""

from __future__ import annotations

import argparse
import json
import time
from dataclasses import asdict, replace
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from record import save_result

import packdepth
from packdepth.apps.crf import CRFParams, refine_depth
from packdepth.data.images import read_image
from packdepth.data.kitti import read_depth_png
from packdepth.data.synthetic import SynthParams
from packdepth.evaluation.depth import load_gt_depth
from packdepth.evaluation.edges import DEFAULT_JUMP, DEFAULT_WIDTH, edge_metrics
from packdepth.evaluation.metrics import DepthProtocol, depth_metrics
from packdepth.evaluation.splits import SplitEntry
from packdepth.training.synthetic_recipe import (
    HELDOUT_SEED,
    SYNTHETIC_PROTOCOL,
    heldout_entries,
    prepare_world,
)

KITTI = DepthProtocol(crop="garg", min_depth=1e-3, max_depth=80.0, median_scaling=True)
KITTI_DRIVE = "2011_09_26/2011_09_26_drive_9999_sync"
TUNE_SEED = 2000
#: Named settings: the defaults (Potts, gated), the same refining everywhere, the reference
#: example's kernels everywhere (pydensecrf's README: Gaussian 3 px weight 3, bilateral 80 px /
#: 13 RGB weight 10; our unary), and the soft-Potts compatibility (gated; 5x slower, so only
#: with ``--settings``).
SETTINGS = {
    "default": CRFParams(),
    "default, no gate": CRFParams(gate=0.0),
    "reference kernels, no gate": CRFParams(theta_alpha=80.0, w1=10.0, gate=0.0),
    "soft Potts (sigma 0.2, tau 0.1)": CRFParams(sigma=0.2, tau=0.1),
}
DEFAULT_SETTINGS = ["default", "default, no gate", "reference kernels, no gate"]
#: The data sets: name in the results, label in the table.
DATA_SETS = {"synthetic": "synthetic held-out, demo model",
             "synthetic_blurred_gt": "synthetic held-out, exact depth blurred",
             "kitti_tiny": "kitti_tiny, demo model",
             "kitti_annotated": "kitti_annotated, demo model"}
#: The grid of ``--tune`` (Potts, gated; what chose the defaults).
TUNE_GRID = [dict(sigma=s, w1=w, theta_alpha=a, gate=0.1)
             for s in (0.1, 0.2, 0.3) for w in (5.0, 10.0, 20.0) for a in (10.0, 20.0)]


def synthetic_frames(root: Path, every: int, model) -> list[tuple[str, np.ndarray, np.ndarray,
                                                                  np.ndarray]]:
    """``(name, rgb uint8, prediction, gt)`` of every ``every``-th frame of a synthetic world."""
    out = []
    for entry in heldout_entries(root, every):
        rgb = read_image(entry.image_file(root), np.uint8)
        gt, _ = load_gt_depth(root, entry)
        out.append((entry.name, rgb, packdepth.predict(model, rgb).depth, gt))
    return out


def blurred(gt: np.ndarray, sigma: float, far: float = 80.0) -> np.ndarray:
    """``gt`` (0 = sky → ``far``) blurred in inverse depth by a Gaussian of ``sigma`` px."""
    inv = torch.from_numpy(1.0 / np.where(gt > 0, gt, far))[None, None].float()
    r = int(np.ceil(3 * sigma))
    k = torch.exp(-torch.arange(-r, r + 1).float() ** 2 / (2 * sigma**2))
    k = k / k.sum()
    inv = F.conv2d(F.pad(inv, (r, r, 0, 0), mode="replicate"), k.view(1, 1, 1, -1))
    inv = F.conv2d(F.pad(inv, (0, 0, r, r), mode="replicate"), k.view(1, 1, -1, 1))
    return (1.0 / inv[0, 0]).numpy()


def kitti_frames(root: Path, model) -> list:
    entries = [SplitEntry(KITTI_DRIVE, i) for i in range(0, 40, 4)]  # the frames with scans
    out = []
    for entry in entries:
        rgb = read_image(entry.image_file(root), np.uint8)
        gt, _ = load_gt_depth(root, entry)
        out.append((entry.name, rgb, packdepth.predict(model, rgb).depth, gt))
    return out


def annotated_frames(root: Path, model) -> list:
    out = []
    for image in sorted((root / "rgb").glob("*.png")):
        rgb = read_image(image, np.uint8)
        gt = read_depth_png(root / "depth" / image.name)
        out.append((image.stem, rgb, packdepth.predict(model, rgb).depth, gt))
    return out


def score(frames: list, refine, protocol: DepthProtocol, radius: int) -> dict:
    """Mean figures over ``frames`` of ``refine(pred, rgb)`` (see the module docstring)."""
    rows, seconds = [], 0.0
    for _, rgb, pred, gt in frames:
        start = time.process_time()
        depth = refine(pred, rgb)
        seconds += time.process_time() - start
        whole = depth_metrics(depth, gt, **protocol.metric_kwargs())
        parts = edge_metrics(depth, gt, protocol, radius=radius)
        rows.append({"abs_rel": whole["abs_rel"], "rmse": whole["rmse"], "a1": whole["a1"],
                     "edge_abs_rel": parts["edge"]["abs_rel"],
                     "edge_pixels": parts["edge"]["valid_pixels"],
                     "interior_abs_rel": parts["interior"]["abs_rel"]})
    out = {k: float(np.mean([r[k] for r in rows])) for k in rows[0]}
    out["cpu_seconds_per_frame"] = seconds / len(frames)
    out["per_frame_edge_abs_rel"] = [r["edge_abs_rel"] for r in rows]
    return out


def evaluate(name: str, frames: list, protocol: DepthProtocol, radius: int,
             settings: dict[str, CRFParams]) -> dict:
    """The rows of one data set: the prediction, then each setting."""
    rows = {"prediction": score(frames, lambda p, i: p, protocol, radius)}
    base = rows["prediction"]["per_frame_edge_abs_rel"]
    print(f"\n{name}: {len(frames)} frames, {protocol.describe()}, edge radius {radius}")
    print(_line("prediction", rows["prediction"], base))
    for label, params in settings.items():
        rows[label] = score(frames, lambda p, i, q=params: refine_depth(p, i, q), protocol,
                            radius)
        print(_line(label, rows[label], base), flush=True)
    return {"frames": len(frames), "protocol": protocol.describe(), "edge_radius": radius,
            "rows": rows}


def _better(row: dict, base: list[float]) -> int:
    """How many frames' edge abs_rel ``row`` lowered below ``base``'s."""
    return sum(a < b for a, b in zip(row["per_frame_edge_abs_rel"], base))


def _line(label: str, row: dict, base: list[float]) -> str:
    better = _better(row, base)
    return (f"| {label} | {row['abs_rel']:.4f} | {row['rmse']:.3f} | {row['a1']:.3f} | "
            f"{row['edge_abs_rel']:.4f} | {row['interior_abs_rel']:.4f} | {better}/{len(base)} | "
            f"{row['cpu_seconds_per_frame']:.2f} |")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--synthetic-model", default="demo_out/model")
    ap.add_argument("--kitti-model", default=None, help="(default: --synthetic-model)")
    ap.add_argument("--jam", action="store_true", help="the synthetic jam world (held out)")
    ap.add_argument("--kitti", type=Path, default=Path("../shared/data/kitti_tiny"))
    ap.add_argument("--annotated", type=Path, default=Path("../shared/data/kitti_annotated"))
    ap.add_argument("--data", type=Path, default=Path("bench/data"))
    ap.add_argument("--every", type=int, default=2, help="every N-th synthetic held-out frame")
    ap.add_argument("--blur", type=float, default=2.0, help="px, the blurred-GT control")
    ap.add_argument("--skip", nargs="*", default=[], choices=list(DATA_SETS),
                    help="data sets to leave out")
    ap.add_argument("--settings", nargs="+", default=DEFAULT_SETTINGS, choices=list(SETTINGS),
                    help="CRF settings to score (default: %(default)s)")
    ap.add_argument("--tune", action="store_true", help="grid on the tuning street, printed")
    ap.add_argument("--out", type=Path, default=Path("bench/results/crf_effect.json"))
    args = ap.parse_args()
    torch.set_num_threads(1)
    tag = "96x320_jam" if args.jam else "96x320"
    params = dict(height=96, width=320, jam=args.jam)
    model = packdepth.load(args.synthetic_model, device="cpu")
    if args.tune:
        world = prepare_world(args.data / f"crf_tune_{tag}", SynthParams(frames=20,
                              seed=TUNE_SEED, **params), 1)
        grid = {json.dumps(g): replace(CRFParams(), **g) for g in TUNE_GRID}
        frames = synthetic_frames(world, 2, model)
        control = [(n, rgb, blurred(gt, args.blur), gt) for n, rgb, _, gt in frames]
        evaluate(f"tuning street, exact depth blurred {args.blur:g} px", control,
                 SYNTHETIC_PROTOCOL, 1, grid)
        evaluate("tuning street", frames, SYNTHETIC_PROTOCOL, 1, grid)
        print(f"\n{COLUMNS}")
        return
    settings = {name: SETTINGS[name] for name in args.settings}
    world = prepare_world(args.data / f"heldout_{tag}", SynthParams(frames=50,
                          seed=HELDOUT_SEED, **params), 2)
    frames = synthetic_frames(world, args.every, model)
    kitti_model = packdepth.load(args.kitti_model or args.synthetic_model, device="cpu")
    sources = {
        "synthetic": lambda: (frames, SYNTHETIC_PROTOCOL, 1),
        "synthetic_blurred_gt": lambda: ([(n, rgb, blurred(gt, args.blur), gt)
                                          for n, rgb, _, gt in frames], SYNTHETIC_PROTOCOL, 1),
        "kitti_tiny": lambda: (kitti_frames(args.kitti, kitti_model), KITTI, 2),
        "kitti_annotated": lambda: (annotated_frames(args.annotated, kitti_model), KITTI, 2),
    }
    results = {}
    for name, label in DATA_SETS.items():
        if name not in args.skip:
            results[name] = evaluate(label, *sources[name](), settings)
    print(f"\n{COLUMNS}")
    save(args, results, settings)


NOTES = [
    "CRF, default: CRFParams() (K 64 log-spaced labels, σ 0.1, Potts, θα 10 px, θβ 13, θγ 3 px, "
    "w1 10, w2 3, 5 iterations), kept only near the prediction's own depth edges (the gate); "
    "no gate: refined everywhere; reference kernels: pydensecrf's README example (θα 80 px)",
    "the blurred control's error is edge blur only: what a CRF can fix; a network's errors are "
    "mostly wrong depths, which the image's colours do not correct",
]
COLUMNS = ("columns: abs_rel | rmse | a1 | edge abs_rel | interior abs_rel | frames with lower "
           "edge abs_rel | CPU s/frame")


def save(args: argparse.Namespace, results: dict, settings: dict[str, CRFParams]) -> None:
    """``args.out`` through ``bench/record.save_result``: one row per data set and setting."""
    rows = []
    for name, result in results.items():
        base = result["rows"]["prediction"]["per_frame_edge_abs_rel"]
        for label, row in result["rows"].items():
            rows.append([f"{name} ({result['frames']})",
                         "no CRF" if label == "prediction" else f"CRF, {label}",
                         row["abs_rel"], row["rmse"], row["a1"], row["edge_abs_rel"],
                         row["interior_abs_rel"], "–" if label == "prediction"
                         else f"{_better(row, base)}/{result['frames']}",
                         row["cpu_seconds_per_frame"]])
    kitti_model = args.kitti_model or args.synthetic_model
    save_result(
        args.out,
        title="Dense-CRF refinement (packdepth refine): abs_rel overall and near depth edges",
        protocol=f"model {args.synthetic_model} (synthetic) and {kitti_model} (KITTI), depth at "
                 "each image's resolution, refined by apps.crf.refine_depth; synthetic: one "
                 f"frame in {args.every} of 2 held-out streets (seed 1000) vs exact depth, "
                 f"{SYNTHETIC_PROTOCOL.describe()}; the blurred control refines the exact depth "
                 f"blurred by {args.blur:g} px (inverse depth); kitti_tiny: its frames with "
                 f"Velodyne scans, kitti_annotated: KITTI's annotated depth, {KITTI.describe()}; "
                 f"edge band: valid GT within {DEFAULT_WIDTH} px of a GT log-depth jump > "
                 f"{DEFAULT_JUMP} (between pixels ≤ 1 px apart on synthetic, ≤ 2 px on the sparse "
                 "KITTI GT); mean of per-frame figures; CPU seconds on one thread",
        columns=["data (frames)", "depth", "abs_rel", "rmse", "a1", "abs_rel at edges",
                 "abs_rel elsewhere", "frames with lower edge abs_rel", "CPU s/frame"],
        rows=rows,
        notes=NOTES,
        data={"settings": {k: asdict(v) for k, v in settings.items()},
              "edge_band": {"jump": DEFAULT_JUMP, "width": DEFAULT_WIDTH},
              "synthetic_model": args.synthetic_model, "kitti_model": kitti_model,
              "data": results},
    )
    print(f"written: {args.out}")


if __name__ == "__main__":
    main()
