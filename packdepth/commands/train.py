"""``packdepth train CONFIG [--set key=value ...] [--resume CKPT]``."""

from __future__ import annotations

import argparse

from packdepth.config import load_config


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser(
        "train",
        help="train depth + pose networks self-supervised (Lightning)",
        description="Train per a YAML config (see configs/). Writes OUT_DIR/config.yaml, "
        "TensorBoard and CSV logs, checkpoints (last + best by val/abs_rel) and model/ "
        "(packdepth format).",
    )
    p.add_argument("config", help="YAML config file (configs/*.yaml)")
    p.add_argument(
        "--set",
        dest="overrides",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="override a config value, e.g. --set optim.lr=1e-4 --set trainer.max_minutes=10",
    )
    p.add_argument("--resume", metavar="CKPT", help="continue a run from a Lightning checkpoint")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from packdepth.training.config import TrainConfig
    from packdepth.training.run import train

    cfg = load_config(TrainConfig, args.config, args.overrides)
    result = train(cfg, resume=args.resume)
    print(f"trained {result.global_step} steps; model: {result.model_dir}")
    for key, value in sorted(result.val_metrics.items()):
        print(f"  {key:24s} {value:.4f}")
    return 0
