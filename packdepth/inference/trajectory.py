"""Camera trajectories from a pose network run over a frame sequence.

Conventions (:mod:`packdepth.geometry.pose`): a pose network maps ``target [B,3,H,W]`` and
``context [B,N,3,H,W]`` to ``T_target→context [B,N,4,4]``, which takes a point from the target
camera's frame into context camera ``n``'s frame. For consecutive frames ``t`` and ``t+1`` the
motion is ``T_t→t+1 = P_{t+1}⁻¹ P_t`` with camera-to-world poses ``P``, so the trajectory is
chained as ``P_0 = I``, ``P_{t+1} = P_t T_t→t+1⁻¹``
(:func:`~packdepth.io.trajectory.absolute_from_relative`). Without the inverse the camera drives
backwards; with the inverse on the other side (``T_t→t+1⁻¹ P_t``) the result agrees for pure
translation and drifts as soon as the camera turns (decimetres over 20 m of a gently curving
synthetic street; ``tests/inference/test_trajectory.py``).

Scale: a monocular pose network's translations are metres only when it was trained with velocity
supervision (``loss.velocity_weight > 0``); otherwise they carry one unknown factor. KITTI pose
files have no place for that fact, so :func:`write_trajectory` writes a sidecar ``poses.json``.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from torch import Tensor, nn

from packdepth.geometry import invert_pose
from packdepth.io.atomic import write_text
from packdepth.io.trajectory import (
    absolute_from_relative,
    relative_from_absolute,
    write_kitti_poses,
    write_tum,
)

#: The files of :func:`write_trajectory`, in an output folder.
KITTI_FILE, RELATIVE_FILE, TUM_FILE, SIDECAR_FILE = (
    "poses_kitti.txt", "poses_relative.txt", "poses_tum.txt", "poses.json")


def _resized(frame: Tensor, size: tuple[int, int]) -> Tensor:
    """``[3,H,W]`` in [0,1] → ``[3,h,w]`` float32 (bicubic, antialiased, as depth inference)."""
    if frame.dim() != 3 or frame.shape[0] != 3:
        raise ValueError(f"frames must be [3,H,W], got {tuple(frame.shape)}")
    x = frame[None].float()
    if tuple(x.shape[-2:]) != tuple(size):
        x = F.interpolate(x, size=tuple(size), mode="bicubic", align_corners=False, antialias=True)
    return x.clamp(0.0, 1.0)[0]


@torch.no_grad()
def relative_motion(
    pose_net: nn.Module,
    frames: Iterable[Tensor],
    *,
    size: tuple[int, int],
    offsets: Sequence[int] = (-1, 1),
    batch_size: int = 8,
) -> np.ndarray:
    """The pose network's motion ``T_t→t+1`` for every consecutive pair of frames.

    Args:
        pose_net: a packdepth pose network (``PoseNet``, ``PoseResNet``) in eval mode.
        frames: ``N`` images ``[3,H,W]`` in [0,1], in temporal order (resized to ``size``).
        size: ``(h, w)`` the network was trained at.
        offsets: the context offsets the network was trained with (``PoseNet`` predicts one slot
            per offset, in this order); a net without ``num_contexts`` (``PoseResNet``) is run
            on each ordered pair directly. Each pair comes from the ``+1`` slot of its first
            frame, or, where that frame lacks a context (the first frame for ``(-1, 1)``), from
            the inverted ``-1`` slot of its second frame.
        batch_size: targets per forward pass.

    Returns:
        ``[N−1,4,4]`` float64 ``T_t→t+1`` (translation in the network's units).

    Raises:
        ValueError: fewer frames than the offsets need, or offsets without ``+1`` and ``-1``.
    """
    images = torch.stack([_resized(f, size) for f in frames])
    n = len(images)
    if getattr(pose_net, "num_contexts", None) is None:
        offsets = (1,)
    offsets = tuple(int(o) for o in offsets)
    if 1 not in offsets and -1 not in offsets:
        raise ValueError(f"offsets {offsets} have no +1 or -1 slot for consecutive frames")
    forward = offsets.index(1) if 1 in offsets else None
    backward = offsets.index(-1) if -1 in offsets else None
    first, stop = max(0, -min(offsets)), n - max(0, max(offsets))
    param = next(pose_net.parameters(), None)
    device = param.device if param is not None else images.device
    relative: list[Tensor | None] = [None] * max(n - 1, 0)
    targets = list(range(first, stop))
    for i in range(0, len(targets), batch_size):
        chunk = targets[i : i + batch_size]
        target = images[chunk].to(device)
        context = torch.stack([images[[t + o for o in offsets]] for t in chunk]).to(device)
        T = pose_net(target, context, offsets=list(offsets)).double().cpu()
        for b, t in enumerate(chunk):
            if forward is not None:
                relative[t] = T[b, forward]
            if backward is not None and relative[t - 1] is None:
                relative[t - 1] = invert_pose(T[b, backward])
    if n < 2 or any(r is None for r in relative):
        raise ValueError(f"{n} frames are too few for a pose network with offsets {offsets}")
    return torch.stack(relative).numpy()


def estimate_trajectory(
    pose_net: nn.Module,
    frames: Iterable[Tensor],
    *,
    size: tuple[int, int],
    offsets: Sequence[int] = (-1, 1),
    batch_size: int = 8,
) -> np.ndarray:
    """Camera-to-world poses of a frame sequence from a pose network, the first at identity.

    Args: as :func:`relative_motion`.

    Returns:
        ``[N,4,4]`` float64 camera-to-world ``P_t`` (``P_0 = I``), chained as
        ``P_{t+1} = P_t T_t→t+1⁻¹``; translations in the network's units (metres only for a
        velocity-supervised model).

    Raises:
        ValueError: as :func:`relative_motion`.

    Example::

        pose_net = load_model("fitted/run/model", kind="pose")
        P = estimate_trajectory(pose_net, frames, size=(96, 320))   # frames: [3,H,W] tensors
    """
    relative = relative_motion(pose_net, frames, size=size, offsets=offsets, batch_size=batch_size)
    return absolute_from_relative(relative)


@dataclass
class TrajectoryFiles:
    """What :func:`write_trajectory` wrote."""

    kitti: Path
    relative: Path
    sidecar: Path
    metric: bool
    tum: Path | None = None


def write_trajectory(
    out_dir: str | os.PathLike,
    cam_to_world: np.ndarray,
    *,
    metric: bool,
    frame_names: Sequence[str],
    timestamps: Sequence[float | None] | None = None,
    tum: bool = False,
) -> TrajectoryFiles:
    """Write a trajectory as KITTI odometry files (+ TUM on request) and a JSON sidecar.

    Files in ``out_dir``: ``poses_kitti.txt`` (camera-to-world 3x4 per frame; ``eval-pose
    --pred-format absolute``, ``evo_traj kitti``), ``poses_relative.txt`` (``T_t→t+1`` per pair;
    read by ``eval-pose``), ``poses.json`` (frame names, whether translations are metres,
    the conventions) and with ``tum`` ``poses_tum.txt`` (``timestamp tx ty tz qx qy qz qw``; the
    frame index as timestamp where the source has no times).

    Args:
        cam_to_world: ``[N,4,4]`` camera-to-world poses.
        metric: translations are metres (a velocity-supervised model), else scale-free.
        frame_names: ``N`` names, one per pose.
        timestamps: ``N`` seconds (``None`` entries: unknown), or ``None``.

    Raises:
        ValueError: ``frame_names``/``timestamps`` do not have one entry per pose.
    """
    out_dir = Path(out_dir)
    n = len(cam_to_world)
    if len(frame_names) != n:
        raise ValueError(f"{len(frame_names)} frame names for {n} poses")
    times = list(timestamps) if timestamps is not None else [None] * n
    if len(times) != n:
        raise ValueError(f"{len(times)} timestamps for {n} poses")
    timed = all(t is not None for t in times)
    files = TrajectoryFiles(out_dir / KITTI_FILE, out_dir / RELATIVE_FILE, out_dir / SIDECAR_FILE,
                            bool(metric))
    write_kitti_poses(files.kitti, cam_to_world)
    write_kitti_poses(files.relative, relative_from_absolute(cam_to_world))
    if tum:
        files.tum = out_dir / TUM_FILE
        write_tum(files.tum, cam_to_world, times if timed else np.arange(n, dtype=np.float64))
    sidecar = {
        "frames": list(frame_names),
        "metric": bool(metric),
        "units": "metres" if metric else "scale-free: metres times one unknown factor",
        "convention": "camera x right, y down, z forward; first frame at identity",
        KITTI_FILE: "camera-to-world 3x4 per frame, row-major",
        RELATIVE_FILE: "T_t->t+1 = P_{t+1}^-1 P_t per consecutive pair, row-major 3x4",
    }
    if tum:
        sidecar[TUM_FILE] = "timestamp tx ty tz qx qy qz qw (camera-to-world), " + (
            "seconds" if timed else "timestamp = frame index")
    write_text(files.sidecar, json.dumps(sidecar, indent=2) + "\n")
    return files
