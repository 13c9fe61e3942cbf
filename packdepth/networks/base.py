"""The depth-network interface shared by every depth net in packdepth.

``forward(image [B,3,H,W] in [0,1]) -> [inv_depth_0, ..., inv_depth_3]`` where ``inv_depth_s`` is
``[B,1,ceil(H/2^s),ceil(W/2^s)]`` and ``depth = 1 / inv_depth`` (in the units the network was
trained in, metres for KITTI-scaled models). Each net states its range through ``min_depth`` and
``max_depth`` (``inf`` when unbounded) and carries ``config``, the dict that
:func:`packdepth.networks.build_depth_net` rebuilds it from.
"""

from __future__ import annotations

import math
from typing import Any

import torch
from torch import Tensor, nn

from packdepth.networks.fused import fuse
from packdepth.networks.padding import crop_to_input, pad_to_multiple

NUM_SCALES = 4


def to_channels_last(module: nn.Module) -> nn.Module:
    """Store ``module``'s 4-D weights and buffers channels-last (NHWC), in place; returns it.

    ``nn.Module.to(memory_format=torch.channels_last)`` refuses modules holding tensors of
    another rank (PackNet's Conv3d weights are 5-D: "required rank 4 tensor to use
    channels_last format"); here the 4-D tensors (2-D convolution kernels) are converted and
    the rest are left as they are. Values are unchanged.
    """
    for tensor in [*module.parameters(), *module.buffers()]:
        if tensor.dim() == 4:
            tensor.data = tensor.data.contiguous(memory_format=torch.channels_last)
    return module


class DepthNet(nn.Module):
    """Base class: pads the input to ``size_multiple``, runs :meth:`predict`, crops the outputs.

    ``size_multiple`` is what :meth:`predict` needs (H, W divisible by it); ``min_size`` the
    smallest side it runs on (a network whose coarsest level cannot be 1x1 sets 2·32 = 64).
    Smaller images are padded up to it, so ``forward`` takes any ``H, W ≥ 1``.
    """

    size_multiple: int = 32
    min_size: int = 1
    min_depth: float
    max_depth: float
    config: dict[str, Any]

    def forward(self, image: Tensor) -> list[Tensor]:
        """``[B,3,H,W]`` in [0,1] (any ``H, W ≥ 1``) → 4 inverse depths
        ``[B,1,ceil(H/2^s),ceil(W/2^s)]``, s = 0..3."""
        padded = self.pad(image)
        outputs = self.predict(padded)
        return self.crop(outputs, image, padded)

    def pad(self, image: Tensor) -> Tensor:
        """``[B,3,H,W]`` → ``[B,3,H',W']`` padded bottom/right to what :meth:`predict` runs on."""
        return pad_to_multiple(image, self.size_multiple, self.min_size)

    def predict(self, image: Tensor) -> list[Tensor]:
        """Inverse depths for an image whose H and W are multiples of ``size_multiple``."""
        raise NotImplementedError

    def depth_heads(self) -> list[nn.Conv2d]:
        """The last convolution of each inverse-depth head (its output goes into a sigmoid)."""
        raise NotImplementedError

    def sigmoid_at_depth(self, depth: float) -> float:
        """The head's sigmoid value that this network maps to ``depth``."""
        raise NotImplementedError

    def set_initial_depth(self, depth: float) -> None:
        """Make an untrained network predict about ``depth`` everywhere (head biases only).

        Self-supervision fixes depth only up to the scale of the predicted motion; with velocity
        supervision the motion is metric from the first steps, and a network that starts at the
        default (e.g. 0.2 m for monodepth2's mapping) projects every pixel out of view, where
        the loss has no gradient. Starting near a plausible metric depth avoids that.
        """
        s = min(max(self.sigmoid_at_depth(depth), 1e-6), 1 - 1e-6)
        for conv in self.depth_heads():
            nn.init.constant_(conv.bias, math.log(s / (1 - s)))

    def fused(self) -> DepthNet:
        """A copy for inference with PackNet's packing and unpacking layers fused (the same
        outputs up to float rounding, faster; :func:`packdepth.networks.fused.fuse`). Networks
        without them come back as an unchanged copy. Keep ``self`` to save or train."""
        return fuse(self)

    @staticmethod
    def crop(outputs: list[Tensor], image: Tensor, padded: Tensor) -> list[Tensor]:
        """Crop outputs of ``padded`` back to the footprint of ``image``."""
        size, padded_size = tuple(image.shape[-2:]), tuple(padded.shape[-2:])
        return [crop_to_input(out, size, padded_size) for out in outputs]
