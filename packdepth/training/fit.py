"""Per-sequence fitting (test-time training): self-supervised training on one video or image
sequence, then depth for every one of its frames."""

from __future__ import annotations

import os
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np

from packdepth.config import load_config
from packdepth.data.augment import AugmentConfig
from packdepth.data.factory import DataConfig, build_dataset
from packdepth.data.sequence import load_frame
from packdepth.errors import PackdepthError
from packdepth.evaluation.depth import predict_depth
from packdepth.io.atomic import atomic_path
from packdepth.io.checkpoints import DEPTH_FILE, check_model_files, load_model
from packdepth.io.viz import colorize_depth, save_png
from packdepth.training.config import TrainConfig
from packdepth.training.run import train


def detect_kind(source: Path) -> str:
    """``video`` for a file, ``kitti`` for a folder in the KITTI raw layout, else ``folder``."""
    if source.is_file():
        return "video"
    if not source.is_dir():
        raise PackdepthError(f"{source}: no such video file or folder")
    if any(source.glob("*/calib_cam_to_cam.txt")) or (source / "calib_cam_to_cam.txt").is_file():
        return "kitti"
    return "folder"


#: More learning per CPU minute (bench/train_synthetic.py): one full-resolution loss scale, bf16
#: where the CPU has it, poses refined by photometric alignment, one learning-rate drop at 75 %.
FAST_RECIPE = [
    "loss.num_scales=1",
    "trainer.precision=auto",
    "trainer.channels_last=true",
    "loss.align_pose=true",
    "optim.decay_at=0.75",
    "optim.gamma=0.1",
]
#: From a pretrained model (--init): stay near its depth where view synthesis is ambiguous
#: (see loss.anchor_weight); measured on kitti_tiny in bench/fit_kitti.py.
ANCHORED = ["loss.anchor_weight=0.1"]
#: From scratch: the ground-plane warm-up against the far-depth collapse, a faster pose net.
FROM_SCRATCH = ["loss.prior_weight=0.1", "optim.pose_lr=1e-3"]


@dataclass
class FitResult:
    """Where the fitted model and the per-frame depth maps are."""

    model_dir: Path
    depth_dir: Path
    frames: int
    steps: int


def fit_config(
    source: Path,
    out: Path,
    *,
    minutes: float,
    size: tuple[int, int],
    intrinsics: str | None = None,
    init: str | None = None,
    stride: int = 1,
    overrides: list[str] = (),
) -> TrainConfig:
    """The training config of a fit (FAST_RECIPE, then ANCHORED or FROM_SCRATCH) + overrides."""
    kind = detect_kind(source)
    base = [
        f"data.kind={kind}",
        f"data.root={source}",
        f"data.height={size[0]}",
        f"data.width={size[1]}",
        f"data.stride={stride}",
        "data.skip_static=0.005" if kind in ("folder", "video") else "data.skip_static=0",
        f"trainer.out_dir={out / 'run'}",
        f"trainer.max_minutes={minutes}",
        "trainer.max_epochs=100000",
        "trainer.batch_size=4",
        "optim.lr=1e-4",
    ]
    base += FAST_RECIPE
    base += [f"model.init={init}", *ANCHORED] if init else FROM_SCRATCH
    if intrinsics:
        base.append(f"data.intrinsics={intrinsics}")
    cfg = load_config(TrainConfig, None, base + list(overrides))
    if kind == "kitti" and cfg.data.intrinsics:
        raise PackdepthError("--intrinsics: KITTI folders carry their own calibration")
    return cfg


def write_depth_maps(
    model_path: Path, data: DataConfig, depth_dir: Path, size: tuple[int, int]
) -> int:
    """Depth (``.npz``, key ``depth``, metres of the model's scale) + colour PNG for every frame."""
    model = load_model(model_path, kind="depth")
    dataset = build_dataset(data)
    frames = dataset.frames()
    for record in frames:
        image = load_frame(record)
        depth = predict_depth(model, image[None], size=size)[0, 0].numpy().astype(np.float32)
        stem = depth_dir / record.name
        with atomic_path(stem.with_suffix(".npz")) as tmp, open(tmp, "wb") as f:
            np.savez_compressed(f, depth=depth)
        save_png(stem.with_suffix(".png"), colorize_depth(depth))
    return len(frames)


def fit(
    source: str | os.PathLike,
    out: str | os.PathLike,
    **kwargs,
) -> FitResult:
    """Fit on ``source`` (video, image folder or KITTI raw folder) and write ``out/depth``."""
    source, out = Path(source), Path(out)
    cfg = fit_config(source, out, **kwargs)
    if cfg.model.init:
        check_model_files(cfg.model.init)  # before train() creates the run folder
    result = train(cfg)
    data = replace(cfg.data, augmentation=AugmentConfig(enabled=False))
    size = (cfg.data.height, cfg.data.width)
    n = write_depth_maps(result.model_dir / DEPTH_FILE, data, out / "depth", size)
    return FitResult(result.model_dir, out / "depth", n, result.global_step)
