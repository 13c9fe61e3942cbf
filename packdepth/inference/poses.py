"""Camera trajectories of ``packdepth infer`` inputs (``infer --poses``).

Sequences: every video is one sequence (its kept frames, in order); all image inputs together
are one more, in the order :func:`~packdepth.inference.sources.expand_inputs` gives them (folders
in natural order, files as given). Each sequence's trajectory is computed before any depth is
written, so a sequence the pose network cannot handle (one frame) stops the run with nothing
written; the files are written by :func:`write_sequence_trajectories` after the depth.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from packdepth.errors import PackdepthError
from packdepth.inference.model import Model
from packdepth.inference.sources import Input, expand_inputs, iter_frames
from packdepth.inference.trajectory import TrajectoryFiles, estimate_trajectory, write_trajectory


@dataclass
class SequenceTrajectory:
    """One sequence's camera-to-world poses ``[N,4,4]``, its frame names and the folder (below
    the output folder) its files go to: ``""`` for the images, the video's output name else."""

    folder: str
    cam_to_world: np.ndarray
    frame_names: list[str]
    timestamps: list[float | None]


def check_pose_net(model: Model) -> None:
    """Refuse (:class:`PackdepthError`, one line) a model without a pose network."""
    if model.pose_net is None:
        raise PackdepthError(f"{model.source}: no pose network in this model (--poses needs one: "
                             "a packdepth model folder with pose_net.safetensors, a monodepth2 "
                             "folder with pose.pth or a packnet-sfm checkpoint with a pose net)")


def sequence_trajectories(
    model: Model, inputs: Sequence[str | os.PathLike | Input], *, out: str | os.PathLike,
    recursive: bool = False, stride: int = 1, max_frames: int | None = None,
    pattern: str | None = None,
) -> list[SequenceTrajectory]:
    """The pose network's trajectory of every sequence of ``inputs`` (module docstring).

    Args:
        model: from :func:`packdepth.load`, with a pose network.
        inputs, recursive: as :func:`~packdepth.inference.runner.infer`; ``out`` is excluded.
            Inputs already expanded (:func:`~packdepth.inference.sources.expand_inputs`, as
            ``infer --poses`` passes them) keep their names: no clash is warned about twice.
        stride, max_frames, pattern: the frames kept, as for the depth (``pattern`` and, for
            folders, ``stride`` apply to inputs not yet expanded).

    Raises:
        PackdepthError: the model has no pose network; a sequence has fewer than two frames; an
            unreadable input.
    """
    check_pose_net(model)
    items = expand_inputs(inputs, recursive=recursive, exclude=out, stride=stride,
                          pattern=pattern)
    groups = [[i for i in items if i.kind == "image"]] + [[i] for i in items if i.kind == "video"]
    found = []
    for group in (g for g in groups if g):
        frames = [f for item in group for f in iter_frames(item, stride=stride,
                                                           max_frames=max_frames)]
        folder = group[0].name if group[0].kind == "video" else ""
        if len(frames) < 2:
            raise PackdepthError(f"{group[0].path}: --poses needs at least two frames per "
                                 f"sequence, found {len(frames)}")
        # torch.tensor copies: decoded frames may be read-only arrays (torch warns about those)
        tensors = (torch.tensor(f.image).permute(2, 0, 1).float() / 255.0 for f in frames)
        P = estimate_trajectory(model.pose_net, tensors, size=model.size)
        found.append(SequenceTrajectory(folder, P, [f.name for f in frames],
                                        [f.time for f in frames]))
    return found


def write_sequence_trajectories(
    trajectories: Sequence[SequenceTrajectory], out: str | os.PathLike, *, metric: bool,
    tum: bool = False,
) -> list[TrajectoryFiles]:
    """Write each trajectory (:func:`~packdepth.inference.trajectory.write_trajectory`) into
    ``out/<folder>``: ``poses_kitti.txt``, ``poses_relative.txt``, ``poses.json`` [, TUM]."""
    return [write_trajectory(Path(out) / t.folder, t.cam_to_world, metric=metric,
                             frame_names=t.frame_names, timestamps=t.timestamps, tum=tum)
            for t in trajectories]
