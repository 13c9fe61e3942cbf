"""Pose networks: packnet-sfm's PoseNet and monodepth2's ResNet pose network.

Both take ``target [B,3,H,W]`` and ``context [B,N,3,H,W]`` (images in [0,1]) and return
``T_target_to_context [B,N,4,4]``: the transform that maps a point in the target camera's frame
into context camera ``n``'s frame (the convention of :func:`packdepth.geometry.inverse_warp`).
Any image size ``H, W ≥ 1`` works: PoseResNet needs no padding; PoseNet replicate-pads images of
at most 2x2 pixels to 3x3 (its first GroupNorm needs more than one value per group).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import torch
from torch import Tensor, nn

from packdepth.geometry import invert_pose, pose_vec_to_mat
from packdepth.networks.layers import xavier_init_
from packdepth.networks.padding import pad_to_multiple
from packdepth.networks.resnet import ResNetEncoder

POSE_SCALE = 0.01  # both references scale the raw network output by 0.01
POSENET_CHANNELS = (16, 32, 64, 128, 256, 256, 256)
POSENET_KERNELS = (7, 5, 3, 3, 3, 3, 3)
POSENET_MIN_SIZE = 3  # conv1 (stride 2) then has at least 2 positions for its 16 groups
DEFAULT_OFFSETS = (-1, 1)


def _scale_vectors(raw: Tensor, translation_scale: float, rotation_scale: float) -> Tensor:
    """Scale raw ``[...,6]`` ``(t, r)`` outputs: ×0.01 for both in the references. A larger
    ``translation_scale`` (e.g. 1 for metric, velocity-supervised training: ~1 m per frame)
    lets the network reach the motion's scale without first growing its weights 100-fold."""
    return torch.cat([translation_scale * raw[..., :3], rotation_scale * raw[..., 3:]], -1)


def _check_inputs(target: Tensor, context: Tensor) -> None:
    if context.dim() != 5 or context.shape[2:] != target.shape[1:] or target.dim() != 4:
        raise ValueError(f"expected target [B,3,H,W] and context [B,N,3,H,W], got "
                         f"{tuple(target.shape)} and {tuple(context.shape)}")


class PoseNet(nn.Module):
    """packnet-sfm's PoseNet: target and ``num_contexts`` frames stacked on channels.

    Seven stride-2 Conv→GroupNorm(16)→ReLU blocks (``conv1..conv7``, each a Sequential
    ``[conv, norm, relu]``), a 1x1 ``pose_pred`` to ``6·N``, spatial mean, ×0.01; each context's
    ``(tx, ty, tz, rx, ry, rz)`` becomes ``[[Rx Ry Rz, t], [0, 1]]`` (Euler).
    """

    def __init__(self, num_contexts: int = 2, translation_scale: float = POSE_SCALE,
                 rotation_scale: float = POSE_SCALE):
        super().__init__()
        self.num_contexts = num_contexts
        self.translation_scale = float(translation_scale)
        self.rotation_scale = float(rotation_scale)
        self.config: dict[str, Any] = {"name": "PoseNet", "num_contexts": num_contexts,
                                       "translation_scale": self.translation_scale,
                                       "rotation_scale": self.rotation_scale}
        cin = 3 * (1 + num_contexts)
        for i, (cout, k) in enumerate(zip(POSENET_CHANNELS, POSENET_KERNELS), start=1):
            block = nn.Sequential(nn.Conv2d(cin, cout, k, stride=2, padding=(k - 1) // 2),
                                  nn.GroupNorm(16, cout), nn.ReLU(inplace=True))
            setattr(self, f"conv{i}", block)
            cin = cout
        self.pose_pred = nn.Conv2d(cin, 6 * num_contexts, kernel_size=1)
        xavier_init_(self)

    def pose_vectors(self, target: Tensor, context: Tensor) -> Tensor:
        """``[B,N,6]`` pose vectors ``(t, euler)`` (already scaled, ×0.01 by default)."""
        _check_inputs(target, context)
        if context.shape[1] != self.num_contexts:
            raise ValueError(f"PoseNet was built for {self.num_contexts} context frames, "
                             f"got {context.shape[1]}")
        x = torch.cat([target.unsqueeze(1), context], 1).flatten(1, 2)
        if x.shape[-2] < POSENET_MIN_SIZE and x.shape[-1] < POSENET_MIN_SIZE:
            x = pad_to_multiple(x, 1, POSENET_MIN_SIZE)
        for i in range(1, len(POSENET_CHANNELS) + 1):
            x = getattr(self, f"conv{i}")(x)
        x = self.pose_pred(x).mean(dim=(2, 3))
        x = x.view(x.shape[0], self.num_contexts, 6)
        return _scale_vectors(x, self.translation_scale, self.rotation_scale)

    def forward(self, target: Tensor, context: Tensor,
                offsets: Sequence[int] | None = None) -> Tensor:
        """``[B,N,4,4]`` T_target_to_context. ``offsets`` is accepted for interface parity and
        ignored: PoseNet predicts each context slot directly, in the order it was trained on."""
        return pose_vec_to_mat(self.pose_vectors(target, context), rotation="euler")


class PoseResNet(nn.Module):
    """monodepth2's separate ResNet pose network.

    Keys: ``encoder.*`` (6-channel ResNet, monodepth2's ``pose_encoder.pth``) and ``net.0..3``
    (``pose.pth``: 1x1 squeeze → 256, two 3x3 256 → 256, 1x1 → 12). Each context frame is paired
    with the target in temporal order — ``[context, target]`` for a negative offset,
    ``[target, context]`` otherwise — the pair's pose is ``[[R(axis-angle), t], [0, 1]]`` from the
    first 6 outputs (the other 6 are unused, as in monodepth2), and it is inverted for negative
    offsets. So monodepth2 weights give monodepth2's ``cam_T_cam`` for every frame.
    """

    def __init__(self, num_layers: int = 18, translation_scale: float = POSE_SCALE,
                 rotation_scale: float = POSE_SCALE):
        super().__init__()
        self.translation_scale = float(translation_scale)
        self.rotation_scale = float(rotation_scale)
        self.config: dict[str, Any] = {"name": "PoseResNet", "num_layers": num_layers,
                                       "translation_scale": self.translation_scale,
                                       "rotation_scale": self.rotation_scale}
        self.encoder = ResNetEncoder(num_layers, num_input_images=2)
        self.net = nn.ModuleList([
            nn.Conv2d(self.encoder.num_ch_enc[-1], 256, 1),
            nn.Conv2d(256, 256, 3, 1, 1),
            nn.Conv2d(256, 256, 3, 1, 1),
            nn.Conv2d(256, 6 * 2, 1),
        ])
        self.relu = nn.ReLU()

    def pair_pose(self, first: Tensor, second: Tensor) -> Tensor:
        """``[B,4,4]`` monodepth2 transform predicted for the ordered pair ``(first, second)``."""
        x = self.encoder(torch.cat([first, second], 1))[-1]
        for i, conv in enumerate(self.net):
            x = conv(x)
            if i < len(self.net) - 1:
                x = self.relu(x)
        out = x.mean(dim=(2, 3)).view(x.shape[0], 2, 6)[:, 0]
        axis_angle = self.rotation_scale * out[:, :3]
        translation = self.translation_scale * out[:, 3:]
        return pose_vec_to_mat(torch.cat([translation, axis_angle], -1), rotation="axis_angle")

    def forward(self, target: Tensor, context: Tensor,
                offsets: Sequence[int] | None = None) -> Tensor:
        """``[B,N,4,4]`` T_target_to_context.

        ``offsets`` gives each context frame's time offset from the target (default ``(-1, +1)``,
        required when N ≠ 2); only its sign matters.
        """
        _check_inputs(target, context)
        n = context.shape[1]
        if offsets is None:
            if n != len(DEFAULT_OFFSETS):
                raise ValueError(f"{n} context frames: pass offsets (one per frame)")
            offsets = DEFAULT_OFFSETS
        if len(offsets) != n or any(o == 0 for o in offsets):
            raise ValueError(f"offsets must be {n} non-zero frame offsets, got {list(offsets)}")
        poses = []
        for i, offset in enumerate(offsets):
            if offset < 0:
                poses.append(invert_pose(self.pair_pose(context[:, i], target)))
            else:
                poses.append(self.pair_pose(target, context[:, i]))
        return torch.stack(poses, 1)
