"""Accuracy benchmark: train on the synthetic world for N CPU minutes, score held-out streets.

    .venv/bin/python bench/train_synthetic.py --minutes 15                    # ResNet18, 96x320
    .venv/bin/python bench/train_synthetic.py --minutes 15 --velocity         # metric scale
    .venv/bin/python bench/train_synthetic.py --minutes 15 --set model.depth="{name: PackNetSmall}"

Trains with the recipes of `packdepth demo` (SYNTHETIC_RECIPES; + recipes/velocity.yaml with
--velocity) through the demo's own pipeline (render_train_score), prints a markdown table (model
with and without median scaling, constant-depth baseline) and the pose net's median per-frame errors
against the exact relative poses, and writes OUT/results.json. The training streets (seed 0) and
held-out streets (seed 1000) differ.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from record import save_result

from packdepth.data.synthetic import SynthParams
from packdepth.io.checkpoints import POSE_FILE, load_model
from packdepth.training.synthetic_recipe import (
    HELDOUT_SEED,
    SYNTHETIC_PROTOCOL,
    SYNTHETIC_RECIPES,
    World,
    render_train_score,
    score_pose_net,
)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--minutes", type=float, default=15.0)
    ap.add_argument("--height", type=int, default=96)
    ap.add_argument("--width", type=int, default=320)
    ap.add_argument("--sequences", type=int, default=8, help="training streets")
    ap.add_argument("--frames", type=int, default=100, help="frames per street")
    ap.add_argument("--dynamic", action="store_true", help="moving traffic in train and test")
    ap.add_argument("--jam", action="store_true", help="slow traffic jam in train and test")
    ap.add_argument("--velocity", action="store_true", help="velocity supervision (weight 0.1)")
    ap.add_argument("--out", type=Path, default=Path("bench/results/synthetic"))
    ap.add_argument("--data", type=Path, default=Path("bench/data"), help="rendered worlds cache")
    ap.add_argument("--set", dest="overrides", action="append", default=[], metavar="KEY=VALUE")
    args = ap.parse_args()

    size = (args.height, args.width)
    tag = f"{args.height}x{args.width}{'_dyn' if args.dynamic else ''}{'_jam' if args.jam else ''}"
    params = dict(height=args.height, width=args.width, dynamic=args.dynamic, jam=args.jam)
    run = render_train_score(
        World(args.data / f"train_{tag}_{args.sequences}x{args.frames}",
              SynthParams(frames=args.frames, seed=0, **params), args.sequences),
        World(args.data / f"heldout_{tag}", SynthParams(frames=50, seed=HELDOUT_SEED, **params), 2),
        args.out / "run",
        [f"trainer.max_minutes={args.minutes}", "trainer.progress_bar=false", *args.overrides],
        recipes=(*SYNTHETIC_RECIPES, "velocity") if args.velocity else SYNTHETIC_RECIPES,
        every=2,
        progress=print,
    )
    cfg, result, scores, minutes = run.cfg, run.result, run.scores, run.minutes
    heldout = args.data / f"heldout_{tag}"
    header = (
        f"{cfg.model.depth['name']} + {cfg.model.pose['name']}, {args.height}x{args.width}, "
        f"{result.global_step} steps (batch {cfg.trainer.batch_size}) in {minutes:.1f} min, "
        f"{'velocity-supervised' if args.velocity else 'self-supervised'}"
    )
    pose = score_pose_net(load_model(result.model_dir / POSE_FILE, kind="pose"), heldout, size)
    print(f"\n{header}\n\n{scores.table(metric=cfg.loss.metric_scale)}")
    print(f"\npose net on held-out frames (t±1), median error: rotation "
          f"{pose['rotation_deg']:.3f}°, translation direction {pose['direction_deg']:.2f}°")
    per_class = scores.scaled["per_class"]
    if per_class:
        print("\nabs_rel per class (median scaling): " + ", ".join(
            f"{name} {m['abs_rel']:.3f}" for name, m in per_class.items()))
    what = "velocity-supervised" if args.velocity else "self-supervised"
    scaled, metric, constant = scores.scaled["metrics"], scores.metric["metrics"], \
        scores.constant["metrics"]
    save_result(
        args.out / "results.json",
        title=f"Synthetic world: {args.minutes:g} CPU minutes of training, held-out streets"
              + (" (jams)" if args.jam else "") + (" (moving traffic)" if args.dynamic else ""),
        protocol=f"{header}; scored on {scores.scaled['protocol']['num_images']} "
                 "frames of 2 held-out streets (seed 1000, never trained on) against exact "
                 f"depth: {SYNTHETIC_PROTOCOL.describe()}, mean of per-image metrics",
        columns=["prediction", "abs_rel", "sq_rel", "rmse", "a1", "abs_rel, no scaling",
                 "median GT/pred ratio"],
        rows=[[f"model ({what}), median scaling", scaled["abs_rel"], scaled["sq_rel"],
               scaled["rmse"], scaled["a1"], metric["abs_rel"], scaled["ratio_median"]],
              ["constant depth, median scaling", constant["abs_rel"], constant["sq_rel"],
               constant["rmse"], constant["a1"], None, None]],
        notes=[f"pose net on held-out frames, median error: rotation "
               f"{pose['rotation_deg']:.2f}°, translation direction {pose['direction_deg']:.1f}°"],
        data={"header": header, "steps": result.global_step, "minutes": minutes,
              "scaled": scaled, "metric": metric, "constant": constant, "per_class": per_class,
              "protocol": scores.scaled["protocol"], "pose_net": pose},
    )


if __name__ == "__main__":
    main()
