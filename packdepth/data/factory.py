"""One typed entry point from a configuration to a dataset: :func:`build_dataset`.

``DataConfig`` is meant to be embedded in the training configuration (YAML ``data:`` section),
e.g.::

    data:
      kind: kitti                  # synthetic | kitti | folder | video | ddad
      root: ../shared/data/kitti_tiny
      height: 96
      width: 320
      offsets: [-1, 1]
      augmentation: {flip: true, low_light: false}
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

from packdepth.data.augment import AugmentConfig
from packdepth.data.ddad import ddad_dataset
from packdepth.data.folder import folder_dataset, video_dataset
from packdepth.data.intrinsics import Intrinsics
from packdepth.data.kitti_dataset import kitti_dataset
from packdepth.data.sequence import SequenceDataset
from packdepth.errors import PackdepthError

KINDS = ("synthetic", "kitti", "folder", "video", "ddad")


@dataclass
class DataConfig:
    """Where the frames come from and how items are made.

    Attributes:
        kind: ``synthetic`` (a rendered world in the KITTI layout), ``kitti``, ``folder`` (image
            files), ``video`` (a file PyAV can decode) or ``ddad`` (DGP JSON scenes).
        root: dataset root, image folder or video file.
        split: KITTI/synthetic split file, as given or relative to ``root`` (``None`` = every
            frame with all its context frames); for DDAD the split name (``train``/``val``/
            ``test``, default ``train``).
        height, width: output resolution; intrinsics are scaled to it.
        offsets: context frame offsets, e.g. ``[-1, 1]``.
        stride: keep every ``stride``-th frame (folder, video).
        pattern: glob of the image files to take from a folder, e.g. ``*.color.png`` when colour
            frames and depth maps share it (folder only; ``None`` = every image, which must all
            be of one kind and size).
        intrinsics: intrinsics file (folder, video): YAML/JSON ``{fx, fy, cx, cy[, width,
            height]}`` or ``{K: 3x3[, width, height]}``, or the 3x3 matrix as three rows of text
            (:func:`~packdepth.data.intrinsics.load_intrinsics`).
        fx, fy, cx, cy: explicit intrinsics in pixels at the frames' native (upright) size (all
            four or none; checked by :func:`~packdepth.data.intrinsics.check_intrinsics`).
        side: KITTI camera, ``l`` (``image_02``) or ``r`` (``image_03``).
        cameras: DDAD cameras, each its own sequence.
        depth_source: KITTI ``auto`` / ``groundtruth`` / ``velodyne`` / ``none``.
        require_depth: keep only targets with GT depth (validation sets).
        skip_static: drop frames whose mean absolute difference from the last kept frame is below
            this (0 = keep all; e.g. 0.01 skips a stopped car) (folder, video).
        max_frames: cap on decoded video frames (``None`` = all).
        augmentation: augmentation of the network inputs (``enabled: false`` for validation).
        seed: augmentation seed.
    """

    kind: str = "synthetic"
    root: str = ""
    split: str | None = None
    height: int = 192
    width: int = 640
    offsets: list[int] = field(default_factory=lambda: [-1, 1])
    stride: int = 1
    pattern: str | None = None
    intrinsics: str | None = None
    fx: float | None = None
    fy: float | None = None
    cx: float | None = None
    cy: float | None = None
    side: str = "l"
    cameras: list[str] = field(default_factory=lambda: ["CAMERA_01"])
    depth_source: str = "auto"
    require_depth: bool = False
    skip_static: float = 0.0
    max_frames: int | None = None
    augmentation: AugmentConfig = field(default_factory=AugmentConfig)
    seed: int = 0


def choose_intrinsics(
    file: str | os.PathLike | None, fx: float | None, fy: float | None, cx: float | None,
    cy: float | None, names: str = "data.fx/fy/cx/cy",
) -> Intrinsics | str | os.PathLike | None:
    """An intrinsics file, or explicit ``fx, fy, cx, cy`` (all four, positive focal lengths),
    or ``None``; ``names`` is how errors call the four values."""
    explicit = [fx, fy, cx, cy]
    if all(v is None for v in explicit):
        return file
    if any(v is None for v in explicit):
        raise PackdepthError(f"{names}: give all four intrinsics or none")
    if file is not None:
        raise PackdepthError(f"{file}: give an intrinsics file or fx/fy/cx/cy, not both")
    return Intrinsics(float(fx), float(fy), float(cx), float(cy), source=names)


def config_intrinsics(cfg: DataConfig) -> Intrinsics | str | None:
    """The intrinsics a folder/video config gives: a file, explicit fx/fy/cx/cy, or ``None``."""
    return choose_intrinsics(cfg.intrinsics, cfg.fx, cfg.fy, cfg.cx, cfg.cy)


def build_dataset(cfg: DataConfig) -> SequenceDataset:
    """The dataset a :class:`DataConfig` describes; bad settings raise :class:`PackdepthError`."""
    if cfg.kind not in KINDS:
        raise PackdepthError(f"data.kind: unknown dataset kind {cfg.kind!r} (one of {KINDS})")
    if not cfg.root:
        raise PackdepthError("data.root: not set (dataset folder or video file)")
    offsets = tuple(int(o) for o in cfg.offsets)
    if 0 in offsets:
        raise PackdepthError(f"data.offsets: 0 is the target frame itself, got {list(offsets)}")
    common = dict(augment=cfg.augmentation, seed=cfg.seed, offsets=offsets)
    if cfg.pattern and cfg.kind != "folder":
        raise PackdepthError(f"data.pattern: picks files of an image folder (kind folder), not "
                             f"of kind {cfg.kind!r}")
    if cfg.kind in ("synthetic", "kitti"):
        split = cfg.split
        if split and not Path(split).is_file() and (Path(cfg.root) / split).is_file():
            split = str(Path(cfg.root) / split)  # e.g. the synthetic world's splits/train_files.txt
        return kitti_dataset(
            cfg.root, cfg.height, cfg.width, split_file=split, side=cfg.side,
            depth_source=cfg.depth_source, require_depth=cfg.require_depth, **common,
        )
    if cfg.kind == "ddad":
        return ddad_dataset(
            cfg.root, cfg.height, cfg.width, split=cfg.split or "train",
            cameras=tuple(cfg.cameras), **common,
        )
    frames = dict(intrinsics=config_intrinsics(cfg), stride=cfg.stride, skip_static=cfg.skip_static)
    if cfg.kind == "folder":
        return folder_dataset(cfg.root, cfg.height, cfg.width, pattern=cfg.pattern, **frames,
                              **common)
    if Path(cfg.root).is_dir():
        raise PackdepthError(f"{cfg.root}: is a folder; use kind 'folder' for image folders")
    return video_dataset(
        cfg.root, cfg.height, cfg.width, max_frames=cfg.max_frames, **frames, **common
    )
