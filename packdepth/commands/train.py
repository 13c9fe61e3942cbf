"""``packdepth train CONFIG [--set key=value ...] [--resume CKPT]``."""

from __future__ import annotations

import argparse

from packdepth.commands._args import add_overrides
from packdepth.config import load_config


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser(
        "train",
        help="train depth + pose networks self-supervised (Lightning)",
        description="Train per a YAML config (see packdepth/configs/; a config may list others "
        "under include:, e.g. recipes/fast_cpu.yaml). Writes OUT_DIR/config.yaml, "
        "TensorBoard and CSV logs, checkpoints (last.ckpt every trainer.checkpoint_every_steps "
        "steps and at the end, best by val/abs_rel; written atomically) and model/ (packdepth "
        "format).",
    )
    p.add_argument("config", help="YAML config file (packdepth/configs/*.yaml)")
    add_overrides(p)
    p.add_argument("--resume", metavar="CKPT",
                   help="continue a run from a Lightning checkpoint, e.g. OUT_DIR/checkpoints/"
                   "last.ckpt after the run was killed")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from packdepth.io.checkpoints import check_model_files
    from packdepth.training.config import TrainConfig
    from packdepth.training.run import train

    cfg = load_config(TrainConfig, args.config, args.overrides)
    if cfg.model.init and args.resume is None:
        check_model_files(cfg.model.init)  # before train() creates the run folder
    result = train(cfg, resume=args.resume)
    procs = f"{result.world_size} process{'es' if result.world_size > 1 else ''}"
    print(f"trained {result.global_step} steps in {procs}; model: {result.model_dir}")
    for key, value in sorted(result.val_metrics.items()):
        print(f"  {key:24s} {value:.4f}")
    return 0
