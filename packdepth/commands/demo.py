"""``packdepth demo`` (what ``make demo`` runs): synthetic streets → training → held-out scores."""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

from packdepth.commands._args import add_overrides, image_size, positive_int
from packdepth.errors import PackdepthError


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser(
        "demo",
        help="the main job on the embedded default: synthetic world → training → evaluation",
        description="Render a small procedural street world (no download), train a ResNet18 "
        "depth net and a pose net on it for a few CPU minutes, evaluate on held-out streets "
        "against exact ground truth, and write OUT/ with metrics.md, metrics.json, "
        "depth_examples.png and model/. Rendered streets in OUT/data are reused when they match; "
        "an earlier demo's training run in OUT/run is replaced.",
    )
    p.add_argument("--out", type=Path, default=Path("demo_out"), help="output folder")
    p.add_argument("--minutes", type=float, default=6.0, help="training time (default 6)")
    p.add_argument("--size", type=image_size, default=(96, 320),
                   help="training size HxW (default 96x320; at least 16 pixels a side)")
    p.add_argument("--sequences", type=positive_int, default=8, help="training streets (default 8)")
    p.add_argument("--frames", type=positive_int, default=100,
                   help="frames per street (default 100)")
    add_overrides(p)
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from packdepth.data.synthetic import SynthParams
    from packdepth.io.atomic import write_text
    from packdepth.io.viz import panel, save_png
    from packdepth.text import plural
    from packdepth.training.config import check_train_size
    from packdepth.training.synthetic_recipe import (
        HELDOUT_SEED,
        World,
        example_rows,
        render_train_score,
    )

    if args.minutes <= 0:
        raise PackdepthError(f"--minutes: must be positive, got {args.minutes}")
    check_train_size(*args.size, "--size")
    h, w = args.size
    out: Path = args.out
    start = time.time()
    stages = {
        "render": f"[1/4] rendering {plural(args.sequences, 'training street')} and 1 held-out "
                  f"street ({h}x{w})",
        "train": f"[2/4] training for {args.minutes:g} min (logs: {out / 'run'})",
        "score": "[3/4] evaluating on the held-out street (exact ground truth)",
    }
    run = render_train_score(
        World(out / "data" / "train", SynthParams(height=h, width=w, frames=args.frames, seed=0),
              args.sequences),
        World(out / "data" / "heldout",
              SynthParams(height=h, width=w, frames=40, seed=HELDOUT_SEED), 1),
        out / "run",
        [f"trainer.max_minutes={args.minutes}", *args.overrides],
        announce=lambda stage: print(stages[stage]),
    )
    cfg, scores, entries = run.cfg, run.scores, run.entries
    header = (
        f"packdepth demo: {cfg.model.depth['name']} + {cfg.model.pose['name']} at {h}x{w}, "
        f"{plural(run.result.global_step, 'step')} in {args.minutes:g} min on the synthetic world "
        f"(seed 0), scored on a held-out street (seed {HELDOUT_SEED})."
    )
    table = scores.table(metric=cfg.loss.metric_scale)
    write_text(out / "metrics.md", f"{header}\n\n{table}\n")
    write_text(
        out / "metrics.json",
        json.dumps(
            {"header": header, "model": scores.scaled, "model_metric": scores.metric["metrics"],
             "constant_depth": scores.constant["metrics"]},
            indent=1, default=float,
        ) + "\n",
    )
    print("[4/4] writing the picture and the model")
    heldout = out / "data" / "heldout"
    picks = [entries[i] for i in range(0, len(entries), max(1, len(entries) // 4))][:4]
    save_png(out / "depth_examples.png", panel(example_rows(run.model, heldout, picks, (h, w))))
    (out / "model").mkdir(exist_ok=True)
    for name in ("depth_net.safetensors", "pose_net.safetensors"):
        (out / "model" / name).write_bytes((run.result.model_dir / name).read_bytes())
    print(f"\n{header}\n\n{table}\n")
    print(f"wrote {out}/metrics.md, metrics.json, depth_examples.png (input | predicted | GT), "
          f"model/  [{(time.time() - start) / 60:.1f} min]")
    return 0
