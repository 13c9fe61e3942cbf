"""Zero-shot depth of a model (no fitting) on every depth set at hand, beside a constant depth.

    .venv/bin/python bench/zero_shot.py --model shipped --out bench/results/zero_shot.json

Sets: the synthetic world's held-out streets (plain, and jams; seed 1000, never trained on,
every 2nd frame, exact depth, no crop), ``kitti_annotated`` (3 real KITTI frames of other
drives, KITTI's annotated depth) and ``kitti_tiny`` (the 10 Velodyne frames of a traffic jam).
Real sets: Garg crop, 80 m cap; all sets: per-image median scaling, mean of per-image metrics,
input 96x320; ``ratio_median`` (median over images of median GT / median prediction) near 1
says the depth is metric. The held-out worlds are rendered into --data when absent (minutes).
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np
from record import save_result

from packdepth.data.kitti.layout import read_depth_png
from packdepth.data.kitti.splits import SplitEntry
from packdepth.data.synthetic import SynthParams
from packdepth.evaluation.depth import load_image, predict_depth
from packdepth.evaluation.metrics import DepthProtocol, aggregate_metrics, depth_metrics
from packdepth.evaluation.report import evaluate_depth, model_predictor
from packdepth.io.checkpoints import load_model, model_file
from packdepth.training.synthetic_recipe import (
    HELDOUT_SEED,
    SYNTHETIC_PROTOCOL,
    ConstantDepth,
    heldout_entries,
    prepare_world,
)

KITTI = DepthProtocol(crop="garg", min_depth=1e-3, max_depth=80.0, median_scaling=True)
DRIVE = "2011_09_26/2011_09_26_drive_9999_sync"
COLUMNS = ("abs_rel", "sq_rel", "rmse", "a1", "ratio_median")


def annotated(root: Path, model, size: tuple[int, int]) -> dict:
    """Mean metrics over kitti_annotated's frames (its ``test_annotations.json``)."""
    rows = []
    for item in json.loads((root / "test_annotations.json").read_text())["files"]:
        gt = read_depth_png(root / item["depth"], scale=item["depth_scale"])
        image = load_image(root / item["rgb"])[None]
        pred = (predict_depth(model, image, size=size)[0, 0] if model is not None
                else np.full(gt.shape, 10.0, np.float32))
        rows.append(depth_metrics(pred, gt, **KITTI.metric_kwargs()))
    return aggregate_metrics(rows)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--model", default="shipped", help="model folder or file (default: shipped)")
    ap.add_argument("--data", type=Path, default=Path("bench/data"), help="rendered worlds cache")
    ap.add_argument("--real", type=Path, default=Path("../shared/data"))
    ap.add_argument("--out", type=Path, default=Path("bench/results/zero_shot.json"))
    args = ap.parse_args()
    size = (96, 320)
    model = load_model(model_file(args.model), kind="depth")
    table: dict[str, dict[str, dict]] = {}
    for name, jam in (("synthetic held-out streets", False), ("synthetic held-out jams", True)):
        root = args.data / f"heldout_96x320{'_jam' if jam else ''}"
        prepare_world(root, SynthParams(height=96, width=320, frames=50, seed=HELDOUT_SEED,
                                        jam=jam), 2)
        entries = heldout_entries(root, every=2)
        table[name] = {
            label: evaluate_depth(root, entries, model_predictor(net, root, size=size),
                                  SYNTHETIC_PROTOCOL, per_class=False)["metrics"]
            for label, net in (("model", model), ("constant", ConstantDepth()))}
    table["kitti_annotated (3 frames)"] = {
        "model": annotated(args.real / "kitti_annotated", model, size),
        "constant": annotated(args.real / "kitti_annotated", None, size)}
    tiny = args.real / "kitti_tiny"
    entries = [SplitEntry(DRIVE, i) for i in range(0, 40, 4)]
    table["kitti_tiny (10 frames, traffic jam)"] = {
        label: evaluate_depth(tiny, entries, model_predictor(net, tiny, size=size), KITTI,
                              per_class=False)["metrics"]
        for label, net in (("model", model), ("constant", ConstantDepth()))}
    for name, rows in table.items():
        print(f"{name}: abs_rel {rows['model']['abs_rel']:.3f} (constant "
              f"{rows['constant']['abs_rel']:.3f})")
    save_result(
        args.out,
        title=f"Zero-shot depth of {args.model} (no fitting)",
        protocol="input 96x320, per-image median scaling, mean of per-image metrics; synthetic "
                 "held-out: seed 1000, every 2nd frame, exact depth, no crop, 80 m; real: "
                 f"{KITTI.describe()}",
        columns=["set", "prediction", *COLUMNS[:-1], "scale ratio (GT/pred)"],
        rows=[[name, label, *(m[c] for c in COLUMNS)]
              for name, rows in table.items() for label, m in rows.items()],
        data={"model": args.model, "sets": table},
    )


if __name__ == "__main__":
    main()
