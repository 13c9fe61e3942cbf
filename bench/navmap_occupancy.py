"""Occupancy grids of ``packdepth navmap`` against the synthetic world's labels.

    .venv/bin/python bench/navmap_occupancy.py --model demo=demo_out/model [--model jam=...]

On held-out streets (seed 1000, 96x320, the 2 sequences' frames 0, 5, ..., 45: 20 frames), each
frame's grid (0.2 m cells, 20 m ahead, ±10 m, obstacles 0.2-2 m above the ground) is scored by
``packdepth.apps.navmap_eval.occupancy_scores``: precision of the occupied cells (they hold a
non-ground labelled pixel between the obstacle heights), recall of the cells holding vehicles,
poles and buildings (exact cells, and within 1 m), road cells marked free and marked occupied.
The truth's ground frame is the camera's pose in the world. Depth sources: the renderer's exact
depth (metric), the same x 0.3 scaled back by the camera height (1.65 m) through the fitted
plane, and each model's prediction (scaled by the camera height; metric models also as they
are). Writes OUT (JSON).
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np
from record import save_result

from packdepth.apps.ground import ground_scale
from packdepth.apps.navmap import GroundFrame, build_navmap
from packdepth.apps.navmap_eval import occupancy_scores
from packdepth.apps.route import NoRoute, plan_route
from packdepth.data.synthetic import SynthParams, kitti_intrinsics, render_frame, sequence_world
from packdepth.inference import load, predict
from packdepth.training.synthetic_recipe import HELDOUT_SEED

CAMERA_HEIGHT = 1.65
SCORES = ("precision", "recall", "precision_1m", "recall_1m", "road_free", "road_occupied")


def frames(every: int):
    params = SynthParams(height=96, width=320, frames=50, seed=HELDOUT_SEED)
    for sequence in (0, 1):
        world = sequence_world(params, sequence)
        for index in range(0, params.frames, every):
            yield render_frame(world, params, index, sequence)


def score(depth: np.ndarray, metric: bool, frame, K: np.ndarray) -> dict:
    """One frame's scores; ``metric``: use the depth as it is, else scale by the camera height."""
    fit = ground_scale(depth, K, CAMERA_HEIGHT)
    if not fit.found:
        return {"no_plane": 1}
    nav = build_navmap(depth, K, fit, 1.0 if metric else fit.scale)
    truth = GroundFrame.from_normal(frame.pose[:3, :3].T @ [0.0, -1.0, 0.0], CAMERA_HEIGHT)
    out = occupancy_scores(nav, truth, frame.depth, K, frame.semantic).as_dict()
    near = occupancy_scores(nav, truth, frame.depth, K, frame.semantic, tolerance=1.0)
    out.update(precision_1m=near.precision, recall_1m=near.recall)
    try:
        out["route_m"] = plan_route(nav).length
    except NoRoute:
        out["route_m"] = None
    out["no_plane"] = 0
    return out


def summary(rows: list[dict]) -> dict:
    found = [r for r in rows if not r["no_plane"]]
    out = {k: float(np.nanmean([r[k] for r in found])) if found else float("nan")
           for k in SCORES}
    out.update(frames=len(rows), no_plane=len(rows) - len(found),
               routes=sum(r.get("route_m") is not None for r in found))
    return out


def report(results: dict) -> dict:
    """The benchmark page's section (``record.save_result`` arguments) of a results dict."""
    return {
        "title": "Obstacle maps (packdepth navmap) against the synthetic world's labels",
        "protocol": "held-out synthetic streets (seed 1000, 96x320), 20 frames (every 5th); "
                    "0.2 m cells, 20 m ahead, ±10 m, obstacles 0.2-2 m above the fitted ground; "
                    "truth: cells holding vehicle, pole or building pixels",
        "columns": ["depth", "precision", "recall", "precision (1 m)", "recall (1 m)",
                    "road free", "road occupied", "frames", "no plane", "routes found"],
        "rows": [[name, m["precision"], m["recall"], m["precision_1m"], m["recall_1m"],
                  m["road_free"], m["road_occupied"], m["frames"], m["no_plane"], m["routes"]]
                 for name, m in results["summary"].items()],
        "notes": ["demo: the `make demo` model, scaled by the camera height (1.65 m)"],
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--model", action="append", default=[], metavar="NAME=PATH")
    ap.add_argument("--every", type=int, default=5)
    ap.add_argument("--out", type=Path, default=Path("bench/results/navmap_occupancy.json"))
    args = ap.parse_args()
    K = kitti_intrinsics(96, 320)
    models = {name: load(path, device="cpu") for name, path in
              (spec.split("=", 1) for spec in args.model)}
    rows: dict[str, list[dict]] = {"exact depth (metric)": [],
                                   "exact depth x 0.3, camera-height scale": []}
    start = time.time()
    for frame in frames(args.every):
        rows["exact depth (metric)"].append(score(frame.depth, True, frame, K))
        rows["exact depth x 0.3, camera-height scale"].append(
            score(0.3 * frame.depth, False, frame, K))
        for name, model in models.items():
            depth = predict(model, frame.rgb, K=K).depth
            rows.setdefault(f"{name}, camera-height scale", []).append(
                score(depth, False, frame, K))
            if model.metric:
                rows.setdefault(f"{name}, metric as predicted", []).append(
                    score(depth, True, frame, K))
    table = {name: summary(r) for name, r in rows.items()}
    print("\nheld-out synthetic streets (seed 1000, 96x320), 0.2 m cells, 20 m x ±10 m\n")
    print("| depth | precision | recall | precision (1 m) | recall (1 m) | road free | "
          "road occupied | frames | no plane | routes |")
    print("|---|---|---|---|---|---|---|---|---|---|")
    for name, m in table.items():
        print(f"| {name} | {m['precision']:.3f} | {m['recall']:.3f} | {m['precision_1m']:.3f} | "
              f"{m['recall_1m']:.3f} | {m['road_free']:.3f} | {m['road_occupied']:.3f} | "
              f"{m['frames']} | {m['no_plane']} | {m['routes']} |")
    results = {"summary": table, "per_frame": rows,
               "models": dict(m.split("=", 1) for m in args.model),
               "seconds": time.time() - start}
    save_result(args.out, **report(results), data=results)
    print(f"\nwrote {args.out} ({time.time() - start:.0f} s)")


if __name__ == "__main__":
    main()
