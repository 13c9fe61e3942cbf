"""Accuracy benchmark: train on the synthetic world for N CPU minutes, score held-out streets.

    .venv/bin/python bench/train_synthetic.py --minutes 15                    # ResNet18, 96x320
    .venv/bin/python bench/train_synthetic.py --minutes 15 --velocity         # metric scale
    .venv/bin/python bench/train_synthetic.py --minutes 15 --set model.depth="{name: PackNetSmall}"
    .venv/bin/python bench/train_synthetic.py --minutes 55 --mix --velocity ...  # the shipped model

Trains with the recipes of `packdepth demo` (SYNTHETIC_RECIPES; + recipes/velocity.yaml with
--velocity) through the demo's own pipeline (render_train_score), prints a markdown table (model
with and without median scaling, constant-depth baseline) and the pose net's median per-frame errors
against the exact relative poses, and writes OUT/results.json. The training streets (seed 0) and
held-out streets (seed 1000) differ. ``--mix`` trains on the plain streets and the jams together
(their renderings linked into one world, ``train_<size>_mix_<2N>x<frames>``) and scores on the
plain held-out streets.
"""

from __future__ import annotations

import argparse
import json
from dataclasses import asdict
from pathlib import Path

from record import save_result

from packdepth.data.synthetic import SynthParams
from packdepth.io.checkpoints import POSE_FILE, load_model
from packdepth.training.synthetic_recipe import (
    HELDOUT_SEED,
    SYNTHETIC_PROTOCOL,
    SYNTHETIC_RECIPES,
    World,
    prepare_world,
    render_train_score,
    score_pose_net,
)


def mixed_world(root: Path, parts: list[World]) -> World:
    """One training world of the drives of ``parts`` (rendered first unless already there),
    linked into ``root`` and renumbered (part ``i``'s drive ``n`` becomes ``10 * i + n``), with
    one split of all their frames. Returned as a world of ``parts[0]``'s parameters whose stamp
    says it is ready, so that rendering it again is skipped."""
    lines = []
    for index, part in enumerate(parts):
        prepare_world(part.root, part.params, part.sequences)
        for drive in sorted((part.root / "2000_01_01").glob("2000_01_01_drive_*_sync")):
            number = 10 * index + int(drive.name.split("_")[-2])
            link = root / "2000_01_01" / f"2000_01_01_drive_{number:04d}_sync"
            link.parent.mkdir(parents=True, exist_ok=True)
            if not link.is_symlink():
                link.symlink_to(drive.resolve(), target_is_directory=True)
            for line in (part.root / "splits" / "all_files.txt").read_text().splitlines():
                if line.split()[0].endswith(drive.name):
                    lines.append(line.replace(drive.name, link.name))
    for name in ("2000_01_01/calib_cam_to_cam.txt", "classes.json"):
        (root / name).write_bytes((parts[0].root / name).read_bytes())
    (root / "splits").mkdir(exist_ok=True)
    for split in ("all_files.txt", "train_files.txt"):
        (root / "splits" / split).write_text("\n".join(lines) + "\n")
    world = World(root, parts[0].params, sum(p.sequences for p in parts))
    stamp = {**asdict(world.params), "sequences": world.sequences,
             "parts": [str(p.root) for p in parts]}
    (root / "synth.json").write_text(json.dumps(stamp, indent=1))
    return world


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--minutes", type=float, default=15.0)
    ap.add_argument("--height", type=int, default=96)
    ap.add_argument("--width", type=int, default=320)
    ap.add_argument("--sequences", type=int, default=8, help="training streets")
    ap.add_argument("--frames", type=int, default=100, help="frames per street")
    ap.add_argument("--dynamic", action="store_true", help="moving traffic in train and test")
    ap.add_argument("--jam", action="store_true", help="slow traffic jam in train and test")
    ap.add_argument("--mix", action="store_true", help="plain streets and jams together")
    ap.add_argument("--velocity", action="store_true", help="velocity supervision (weight 0.1)")
    ap.add_argument("--out", type=Path, default=Path("bench/results/synthetic"))
    ap.add_argument("--data", type=Path, default=Path("bench/data"), help="rendered worlds cache")
    ap.add_argument("--set", dest="overrides", action="append", default=[], metavar="KEY=VALUE")
    args = ap.parse_args()

    size = (args.height, args.width)
    tag = f"{args.height}x{args.width}{'_dyn' if args.dynamic else ''}{'_jam' if args.jam else ''}"
    params = dict(height=args.height, width=args.width, dynamic=args.dynamic, jam=args.jam)
    world = World(args.data / f"train_{tag}_{args.sequences}x{args.frames}",
                  SynthParams(frames=args.frames, seed=0, **params), args.sequences)
    if args.mix:
        if args.jam or args.dynamic:
            ap.error("--mix: the plain streets and the jams already; no --jam or --dynamic")
        jams = World(args.data / f"train_{tag}_jam_{args.sequences}x{args.frames}",
                     SynthParams(frames=args.frames, seed=0, **{**params, "jam": True}),
                     args.sequences)
        world = mixed_world(args.data / f"train_{tag}_mix_{2 * args.sequences}x{args.frames}",
                            [world, jams])
    run = render_train_score(
        world,
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
              + (" (jams)" if args.jam else "") + (" (moving traffic)" if args.dynamic else "")
              + (" (trained on streets and jams)" if args.mix else ""),
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
