"""monodepth2's multi-scale U-Net decoder, optionally guided by another decoder's features.

The decoder is a ``ModuleList`` so that its keys are monodepth2's ``depth.pth`` keys minus the
``decoder.`` prefix: for levels ``i = 4..0`` entries ``2·(4−i)`` (``upconv_i_0``: ConvBlock, then
nearest ×2) and ``2·(4−i)+1`` (``upconv_i_1``: ConvBlock over [upsampled, encoder skip ``i−1``,
guidance ``i``]), followed by one :class:`Conv3x3` head per output scale. With no guidance and one
output channel it is exactly monodepth2's DepthDecoder (heads → sigmoid disparity).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Literal

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from packdepth.networks.layers import Conv3x3, ConvBlock

DECODER_CHANNELS = (16, 32, 64, 128, 256)  # monodepth2's num_ch_dec, level 0 (H) .. 4 (H/16)
NUM_LEVELS = 5


class DepthDecoder(nn.ModuleList):
    """Multi-scale decoder over :class:`~packdepth.networks.resnet.ResNetEncoder` features.

    Args:
        num_ch_enc: channels of the 5 encoder features (H/2 .. H/32).
        scales: output scales (0 = H, 3 = H/8); one head per scale.
        num_output_channels: channels per head (1 for disparity, C for semantic logits).
        activation: ``"sigmoid"`` (disparity) or ``"none"`` (logits).
        guide_channels: extra channels concatenated into ``upconv_i_1`` at each level ``0..4``
            (e.g. a semantic decoder's level features); zeros = monodepth2's decoder.
    """

    def __init__(self, num_ch_enc: Sequence[int], scales: Sequence[int] = range(4),
                 num_output_channels: int = 1,
                 activation: Literal["sigmoid", "none"] = "sigmoid",
                 guide_channels: Sequence[int] = (0,) * NUM_LEVELS):
        modules: list[nn.Module] = []
        for i in range(NUM_LEVELS - 1, -1, -1):
            cin = num_ch_enc[-1] if i == NUM_LEVELS - 1 else DECODER_CHANNELS[i + 1]
            modules.append(ConvBlock(cin, DECODER_CHANNELS[i]))
            cin = DECODER_CHANNELS[i] + (num_ch_enc[i - 1] if i > 0 else 0) + guide_channels[i]
            modules.append(ConvBlock(cin, DECODER_CHANNELS[i]))
        modules += [Conv3x3(DECODER_CHANNELS[s], num_output_channels) for s in scales]
        super().__init__(modules)
        if activation not in ("sigmoid", "none"):
            raise ValueError(f"unknown decoder activation {activation!r}")
        self.scales, self.activation = tuple(scales), activation
        self.num_ch_dec = DECODER_CHANNELS
        self.guide_channels = tuple(guide_channels)

    def head_convs(self) -> list[nn.Conv2d]:
        """The output convolution of each head, in ``scales`` order."""
        return [self[2 * NUM_LEVELS + k].conv for k in range(len(self.scales))]

    def forward(self, features: Sequence[Tensor], guides: Sequence[Tensor] | None = None
                ) -> tuple[list[Tensor], list[Tensor]]:
        """Decode.

        Args:
            features: the encoder's 5 maps ``[B,C_k,H/2^(k+1),W/2^(k+1)]``.
            guides: per level ``0..4`` a ``[B,guide_channels[i],H/2^i,W/2^i]`` map (or None).

        Returns:
            ``outputs``: one ``[B,num_output_channels,H/2^s,W/2^s]`` per scale in ``scales``
            order (sigmoid applied for disparity); ``levels``: the 5 level features
            ``[B,num_ch_dec[i],H/2^i,W/2^i]`` indexed by level ``i``.
        """
        x = features[-1]
        outputs: dict[int, Tensor] = {}
        levels: list[Tensor] = [x] * NUM_LEVELS
        for i in range(NUM_LEVELS - 1, -1, -1):
            k = 2 * (NUM_LEVELS - 1 - i)
            x = F.interpolate(self[k](x), scale_factor=2, mode="nearest")
            parts = [x]
            if i > 0:
                parts.append(features[i - 1])
            if self.guide_channels[i]:
                if guides is None:
                    raise ValueError("this decoder is guided: pass guides for every level")
                parts.append(guides[i])
            x = self[k + 1](torch.cat(parts, 1) if len(parts) > 1 else x)
            levels[i] = x
            if i in self.scales:
                head = self[2 * NUM_LEVELS + self.scales.index(i)]
                out = head(x)
                outputs[i] = torch.sigmoid(out) if self.activation == "sigmoid" else out
        return [outputs[s] for s in self.scales], levels
