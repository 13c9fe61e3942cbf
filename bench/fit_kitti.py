"""Real-data benchmark: `packdepth fit` on the 40 KITTI frames of ../shared/data/kitti_tiny.

    .venv/bin/python bench/fit_kitti.py --minutes 15          # from the shipped model
    .venv/bin/python bench/fit_kitti.py --init none --minutes 15  # from scratch

Scores, on the 10 frames with Velodyne scans (KITTI protocol: Garg crop, 80 m cap, per-image
median scaling), the constant-depth baseline, the initial model before fitting (zero-shot) and
the fitted model; prints a markdown table and writes OUT/results.json (the fit's outputs:
OUT/fit, replaced by the next run).
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

from record import save_result

from packdepth.data.kitti.splits import SplitEntry
from packdepth.evaluation.metrics import METRIC_NAMES, DepthProtocol
from packdepth.evaluation.report import evaluate_depth, model_predictor
from packdepth.evaluation.tables import markdown_table
from packdepth.io.checkpoints import load_model, model_file
from packdepth.training.fit import fit, init_model
from packdepth.training.synthetic_recipe import ConstantDepth
from packdepth.weights import SHIPPED_MODEL

DRIVE = "2011_09_26/2011_09_26_drive_9999_sync"
KITTI = DepthProtocol(crop="garg", min_depth=1e-3, max_depth=80.0, median_scaling=True)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", type=Path, default=Path("../shared/data/kitti_tiny"))
    ap.add_argument("--init", default=SHIPPED_MODEL, help="model folder to start from "
                    "(default: shipped, the model inside packdepth; none: from scratch)")
    ap.add_argument("--minutes", type=float, default=15.0)
    ap.add_argument("--height", type=int, default=96)
    ap.add_argument("--width", type=int, default=320)
    ap.add_argument("--out", type=Path, default=Path("bench/results/fit_kitti"))
    ap.add_argument("--set", dest="overrides", action="append", default=[], metavar="KEY=VALUE")
    args = ap.parse_args()
    size = (args.height, args.width)
    init = init_model(args.init)  # None: from scratch
    entries = [SplitEntry(DRIVE, i) for i in range(0, 40, 4)]  # the frames with scans

    def score(model) -> dict:
        return evaluate_depth(args.data, entries, model_predictor(model, args.data, size=size),
                              KITTI, per_class=False)["metrics"]

    rows = {"constant depth": score(ConstantDepth())}
    if init:
        rows["initial model (zero-shot)"] = score(load_model(model_file(init), kind="depth"))
    start = time.time()
    result = fit(args.data, args.out / "fit", minutes=args.minutes, size=size, init=init,
                 overwrite=True, overrides=["trainer.progress_bar=false", *args.overrides])
    minutes = (time.time() - start) / 60
    rows[f"fitted {args.minutes:g} min ({result.steps} steps)"] = score(
        load_model(model_file(result.model_dir), kind="depth"))
    print(f"\nkitti_tiny, {len(entries)} Velodyne frames, {KITTI.describe()}, input "
          f"{args.height}x{args.width}, init {init or 'none (from scratch)'}, "
          f"fit wall time {minutes:.1f} min\n")
    print(markdown_table(rows))
    save_result(
        args.out / "results.json",
        title=f"Fitting to a real video: {args.minutes:g} CPU minutes of `packdepth fit` on "
              "kitti_tiny",
        protocol=f"kitti_tiny (40 KITTI raw frames of a slowing traffic jam), scored on its "
                 f"{len(entries)} frames with Velodyne scans: {KITTI.describe()}; input "
                 f"{args.height}x{args.width}; initial model {init or 'none'}",
        columns=["prediction", *METRIC_NAMES[:5]],
        rows=[[name, *(m[k] for k in METRIC_NAMES[:5])] for name, m in rows.items()],
        data={"rows": rows, "init": init, "minutes": minutes, "steps": result.steps,
              "protocol": KITTI.describe()},
    )

if __name__ == "__main__":
    main()
