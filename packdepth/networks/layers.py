"""Building blocks shared by the depth and pose networks.

PackNet's blocks (packnet-sfm ``layers01``) keep the reference's attribute names so that state-dict
keys match official checkpoints: ``conv_base``/``normalize`` in :class:`ConvGNElu`,
``conv1``/``conv2``/``conv3``/``normalize`` in :class:`ResidualConv`, ``conv``/``conv3d`` in the
packing layers and ``conv1`` in :class:`InvDepthHead`. The monodepth2 blocks (:class:`Conv3x3`,
:class:`ConvBlock`) keep monodepth2's ``conv`` attributes.
"""

from __future__ import annotations

import torch
from torch import Tensor, nn

from packdepth.networks.padding import ReflectOrReplicatePad2d

GROUPS = 16  # GroupNorm groups used throughout PackNet


class ConvGNElu(nn.Module):
    """Zero-pad ``k//2`` → Conv2d → GroupNorm(16) → ELU: ``[B,Cin,H,W] → [B,Cout,H/s,W/s]``."""

    def __init__(self, in_channels: int, out_channels: int, kernel_size: int, stride: int = 1):
        super().__init__()
        self.pad = nn.ConstantPad2d(kernel_size // 2, 0.0)
        self.conv_base = nn.Conv2d(in_channels, out_channels, kernel_size, stride=stride)
        self.normalize = nn.GroupNorm(GROUPS, out_channels)
        self.activ = nn.ELU(inplace=True)

    def forward(self, x: Tensor) -> Tensor:
        return self.activ(self.normalize(self.conv_base(self.pad(x))))


class ResidualConv(nn.Module):
    """Two 3x3 :class:`ConvGNElu` plus a 1x1 shortcut, summed → GroupNorm(16) → ELU.

    ``dropout`` (Dropout2d on the shortcut, as in the reference) is held in its own attribute so the
    shortcut's parameters are always named ``conv3.weight``/``conv3.bias``.
    """

    def __init__(self, in_channels: int, out_channels: int, stride: int = 1,
                 dropout: float | None = None):
        super().__init__()
        self.conv1 = ConvGNElu(in_channels, out_channels, 3, stride)
        self.conv2 = ConvGNElu(out_channels, out_channels, 3, 1)
        self.conv3 = nn.Conv2d(in_channels, out_channels, kernel_size=1, stride=stride)
        self.dropout = nn.Dropout2d(dropout) if dropout else nn.Identity()
        self.normalize = nn.GroupNorm(GROUPS, out_channels)
        self.activ = nn.ELU(inplace=True)

    def forward(self, x: Tensor) -> Tensor:
        shortcut = self.dropout(self.conv3(x))
        return self.activ(self.normalize(self.conv2(self.conv1(x)) + shortcut))


def residual_block(in_channels: int, out_channels: int, num_blocks: int, stride: int = 1,
                   dropout: float | None = None) -> nn.Sequential:
    """``num_blocks`` :class:`ResidualConv` in sequence (the first one changes the width)."""
    layers = [ResidualConv(in_channels, out_channels, stride, dropout)]
    layers += [ResidualConv(out_channels, out_channels, 1, dropout) for _ in range(num_blocks - 1)]
    return nn.Sequential(*layers)


class InvDepthHead(nn.Module):
    """Zero-pad 1 → 3x3 Conv2d → sigmoid / ``min_depth``: ``[B,C,H,W] → [B,1,H,W]``, (0, 1/min]."""

    def __init__(self, in_channels: int, min_depth: float = 0.5):
        super().__init__()
        self.min_depth = min_depth
        self.pad = nn.ConstantPad2d(1, 0.0)
        self.conv1 = nn.Conv2d(in_channels, 1, kernel_size=3)

    def forward(self, x: Tensor) -> Tensor:
        return torch.sigmoid(self.conv1(self.pad(x))) / self.min_depth


def packing(x: Tensor, r: int = 2) -> Tensor:
    """Space-to-depth ``[B,C,H,W] → [B,C·r²,H/r,W/r]``, the exact inverse of ``PixelShuffle(r)``.

    Output channel ``c·r² + i·r + j`` holds input pixel ``(r·y + i, r·x + j)`` of channel ``c``.
    """
    b, c, h, w = x.shape
    x = x.reshape(b, c, h // r, r, w // r, r).permute(0, 1, 3, 5, 2, 4)
    return x.reshape(b, c * r * r, h // r, w // r)


class PackLayer3d(nn.Module):
    """PackNet packing: Space2Depth(r) → Conv3d(1→d, 3x3x3) → fold d into channels → ConvGNElu.

    ``[B,C,H,W] → [B,C,H/r,W/r]``; the 2D convolution sees ``C·r²·d`` channels.
    """

    def __init__(self, channels: int, kernel_size: int, r: int = 2, d: int = 8):
        super().__init__()
        self.r = r
        self.conv3d = nn.Conv3d(1, d, kernel_size=3, padding=1)
        self.conv = ConvGNElu(channels * r * r * d, channels, kernel_size, 1)

    def forward(self, x: Tensor) -> Tensor:
        x = self.conv3d(packing(x, self.r).unsqueeze(1))
        b, d, c, h, w = x.shape
        return self.conv(x.reshape(b, d * c, h, w))


class UnpackLayer3d(nn.Module):
    """PackNet unpacking: ConvGNElu → Conv3d(1→d, 3x3x3) → fold d → PixelShuffle(r).

    ``[B,Cin,H,W] → [B,Cout,H·r,W·r]``; the 2D convolution produces ``Cout·r²/d`` channels.
    """

    def __init__(self, in_channels: int, out_channels: int, kernel_size: int, r: int = 2,
                 d: int = 8):
        super().__init__()
        self.conv = ConvGNElu(in_channels, out_channels * r * r // d, kernel_size, 1)
        self.conv3d = nn.Conv3d(1, d, kernel_size=3, padding=1)
        self.unpack = nn.PixelShuffle(r)

    def forward(self, x: Tensor) -> Tensor:
        x = self.conv3d(self.conv(x).unsqueeze(1))
        b, d, c, h, w = x.shape
        return self.unpack(x.reshape(b, d * c, h, w))


class Conv3x3(nn.Module):
    """monodepth2's 3x3 convolution with reflection padding (or zero padding); keys ``conv.*``.

    ``[B,Cin,H,W] → [B,Cout,H,W]`` for any ``H, W ≥ 1``: a map of one row or column, which has
    nothing to reflect, is replicate-padded instead (:class:`ReflectOrReplicatePad2d`).
    """

    def __init__(self, in_channels: int, out_channels: int, reflect: bool = True):
        super().__init__()
        self.pad = ReflectOrReplicatePad2d(1) if reflect else nn.ZeroPad2d(1)
        self.conv = nn.Conv2d(in_channels, out_channels, 3)

    def forward(self, x: Tensor) -> Tensor:
        return self.conv(self.pad(x))


class ConvBlock(nn.Module):
    """monodepth2's :class:`Conv3x3` → ELU; keys ``conv.conv.*``."""

    def __init__(self, in_channels: int, out_channels: int):
        super().__init__()
        self.conv = Conv3x3(in_channels, out_channels)
        self.nonlin = nn.ELU(inplace=True)

    def forward(self, x: Tensor) -> Tensor:
        return self.nonlin(self.conv(x))


def xavier_init_(module: nn.Module) -> None:
    """packnet-sfm's init: xavier-uniform Conv2d/Conv3d weights, zero biases."""
    for m in module.modules():
        if isinstance(m, (nn.Conv2d, nn.Conv3d)):
            nn.init.xavier_uniform_(m.weight)
            if m.bias is not None:
                nn.init.zeros_(m.bias)
