"""Metric scale from the camera height: ground-plane scaling against GT median scaling and no
scaling, on real KITTI frames and on the synthetic held-out streets.

    .venv/bin/python bench/ground_scale.py --model demo=demo_out/model \\
        --model jam=bench/results/synthetic_jam_sup/run/model

For each model and data set, three evaluations of the same predictions (mean of per-image
metrics): per-image GT median scaling (needs the GT: the upper bound of any single-factor scale),
no scaling (the model's own scale) and ground-plane scaling (``packdepth.apps.ground``: the factor
that puts the fitted road plane 1.65 m below the camera, no GT used; frames without a plane are
scored unscaled and counted). The spread of the per-frame ratios ``median(gt) / median(pred)``:
before scaling (the model's scale drift) and after ground scaling (what is left). A first row
takes the GT itself x 0.3 as the prediction: the method's own error when the geometry is right
(on KITTI the Velodyne scan: a test of the fit on real roads and of the 1.65 m height).

Data: ``../shared/data/kitti_tiny`` (the 10 frames with Velodyne scans, KITTI protocol: Garg
crop, 80 m cap) and the held-out synthetic streets (seed 1000, 2 x 50 frames, every 2nd frame
with both neighbours: 48 frames, exact depth, no crop, 80 m cap). Writes OUT (JSON).
"""

from __future__ import annotations

import argparse
import time
from dataclasses import replace
from pathlib import Path

from record import save_result

from packdepth.apps.metric_scale import GroundScaler
from packdepth.data.synthetic import SynthParams
from packdepth.evaluation.depth import load_gt_depth, read_prediction
from packdepth.evaluation.metrics import DepthProtocol
from packdepth.evaluation.predictions import PredictionFolder
from packdepth.evaluation.report import evaluate_depth, model_predictor, protocol_line
from packdepth.evaluation.splits import SplitEntry
from packdepth.io.checkpoints import load_model, model_file, read_model_info
from packdepth.training.synthetic_recipe import (
    HELDOUT_SEED,
    SYNTHETIC_PROTOCOL,
    heldout_entries,
    prepare_world,
)

KITTI_DRIVE = "2011_09_26/2011_09_26_drive_9999_sync"
KITTI = DepthProtocol(crop="garg", min_depth=1e-3, max_depth=80.0, median_scaling=True)
CAMERA_HEIGHT = 1.65  # KITTI's colour cameras, and the synthetic world's camera
ORACLE_FACTOR = 0.3
KEYS = ("abs_rel", "sq_rel", "rmse", "a1", "ratio_median", "ratio_rel_std",
        "ground_ratio_median", "ground_ratio_rel_std")


def cached(predict):
    """The predictor, run once per frame (the three evaluations score the same predictions)."""
    memo: dict[int, tuple] = {}

    def run(entry: SplitEntry, index: int):
        if index not in memo:
            memo[index] = predict(entry, index)
        return memo[index]

    return run


def evaluate(root: Path, entries: list[SplitEntry], predict, protocol: DepthProtocol) -> dict:
    """The three scalings of one model on one data set."""
    rows = {}
    predict = cached(predict)
    for name, proto, scaler in (
        ("median", protocol, None),
        ("none", replace(protocol, median_scaling=False), None),
        ("ground", replace(protocol, median_scaling=False, camera_height=CAMERA_HEIGHT),
         GroundScaler(root, CAMERA_HEIGHT)),
    ):
        report = evaluate_depth(root, entries, predict, proto, per_class=False, scaler=scaler)
        row = {k: report["metrics"][k] for k in KEYS if k in report["metrics"]}
        row["unscaled_frames"] = report["protocol"].get("unscaled_frames", 0)
        row["protocol"] = protocol_line(report)
        rows[name] = row
    return rows


def saved(pred_dir: Path, entries: list[SplitEntry]):
    """A predictor reading saved depth maps (``packdepth eval --pred-dir``'s lookup)."""
    folder = PredictionFolder(pred_dir, entries)

    def run(entry: SplitEntry, index: int):
        path = folder.find(entry, index)
        return read_prediction(path), str(path)

    return run


def oracle(root: Path):
    """The ground truth itself x 0.3 as a relative prediction (0 where there is none): how well
    the camera height recovers the scale when the geometry is right (KITTI: its Velodyne)."""

    def run(entry: SplitEntry, index: int):
        return ORACLE_FACTOR * load_gt_depth(root, entry)[0], f"{entry.name} (GT x 0.3)"

    return run


def print_table(title: str, results: dict) -> None:
    print(f"\n{title}\n")
    print("| model | scaling | abs_rel | sq_rel | rmse | a1 | ratio median (std/median) | "
          "after ground scaling | no plane |")
    print("|---|---|---|---|---|---|---|---|---|")
    for model, rows in results.items():
        for scaling, m in rows.items():
            after = (f"{m['ground_ratio_median']:.3f} ({m['ground_ratio_rel_std']:.3f})"
                     if "ground_ratio_median" in m else "–")
            print(f"| {model} | {scaling} | {m['abs_rel']:.3f} | {m['sq_rel']:.3f} | "
                  f"{m['rmse']:.3f} | {m['a1']:.3f} | {m['ratio_median']:.3f} "
                  f"({m['ratio_rel_std']:.3f}) | {after} | "
                  f"{m['unscaled_frames'] if scaling == 'ground' else '–'} |")


SCALINGS = {"median": "GT median", "none": "none", "ground": "camera height 1.65 m"}


def report(results: dict) -> dict:
    """The benchmark page's section (``record.save_result`` arguments) of a results dict."""
    rows = []
    for title, models in results["sets"].items():
        data = title.split(" (")[0]
        for model, by_scaling in models.items():
            for scaling, m in by_scaling.items():
                rows.append([data, model, SCALINGS[scaling], m["abs_rel"], m["a1"],
                             m["ratio_rel_std"] if scaling != "ground"
                             else m.get("ground_ratio_rel_std"),
                             m["unscaled_frames"] if scaling == "ground" else None])
    return {
        "title": "Metric scale from the camera height (ground-plane scaling)",
        "protocol": "kitti_tiny: 10 Velodyne frames, Garg crop, 80 m; synthetic: 48 held-out "
                    "frames (seed 1000), exact depth, no crop, 80 m; mean of per-image metrics; "
                    "ground scaling puts the RANSAC road plane 1.65 m below the camera, no GT used",
        "columns": ["data", "prediction", "scaling", "abs_rel", "a1",
                    "scale spread (std/median of per-frame ratios)", "frames without a plane"],
        "rows": rows,
        "notes": ["GT x 0.3 is the method's own error when the geometry is exact",
                  "demo: the `make demo` model; fit18: `packdepth fit` on kitti_tiny with "
                  "--camera-height 1.65 (its --out: bench/results/fit_kitti_ground), 18 steps "
                  "in 10 minutes on a loaded machine"],
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--model", action="append", default=[], metavar="NAME=PATH")
    ap.add_argument("--pred-dir", action="append", default=[], metavar="NAME=DIR",
                    help="saved kitti_tiny predictions (e.g. packdepth fit --camera-height's "
                    "OUT/depth), scored on kitti_tiny only")
    ap.add_argument("--kitti", type=Path, default=Path("../shared/data/kitti_tiny"))
    ap.add_argument("--data", type=Path, default=Path("bench/data"), help="rendered worlds")
    ap.add_argument("--out", type=Path, default=Path("bench/results/ground_scale.json"))
    args = ap.parse_args()
    heldout = prepare_world(args.data / "heldout_96x320",
                            SynthParams(height=96, width=320, frames=50, seed=HELDOUT_SEED), 2)
    sets = {
        "kitti_tiny (10 Velodyne frames, Garg crop, 80 m)":
            (args.kitti, [SplitEntry(KITTI_DRIVE, i) for i in range(0, 40, 4)], KITTI),
        "synthetic held-out streets (48 frames, exact GT, no crop, 80 m)":
            (heldout, heldout_entries(heldout, every=2), SYNTHETIC_PROTOCOL),
    }
    results: dict = {"camera_height": CAMERA_HEIGHT, "models": {}, "sets": {}}
    start = time.time()
    for title, (root, entries, protocol) in sets.items():
        results["sets"][title] = {
            "GT x 0.3 (oracle relative depth)": evaluate(root, entries, oracle(root), protocol)}
        for spec in args.model:
            name, path = spec.split("=", 1)
            file = model_file(Path(path))
            info = read_model_info(file)[1]
            size = (int(info.get("height", 96)), int(info.get("width", 320)))
            predict = model_predictor(load_model(file, kind="depth"), root, size=size)
            results["models"][name] = {"path": path, "metric": bool(info.get("metric", False)),
                                       "size": list(size)}
            results["sets"][title][name] = evaluate(root, entries, predict, protocol)
        if root == args.kitti:
            for spec in args.pred_dir:
                name, path = spec.split("=", 1)
                results["models"][name] = {"path": path, "saved": True}
                results["sets"][title][name] = evaluate(root, entries, saved(Path(path), entries),
                                                        protocol)
        print_table(title, results["sets"][title])
    results["seconds"] = time.time() - start
    save_result(args.out, **report(results), data=results)
    print(f"\nwrote {args.out} ({results['seconds']:.0f} s)")


if __name__ == "__main__":
    main()
