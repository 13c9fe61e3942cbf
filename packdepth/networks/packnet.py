"""PackNet with 3D packing (packnet-sfm ``PackNet01``), one class for every width.

Encoder: ``pre_calc`` (5x5) → ``conv1`` (7x7) → five levels of ``packN`` (Space2Depth + Conv3d +
Conv2D, halving H and W) interleaved with residual blocks ``conv2..conv5``. Decoder: ``unpackN``
(Conv2D + Conv3d + PixelShuffle) joined with the encoder skips by concatenation (version ``A``) or
addition (version ``B``), ``iconvN`` convolutions and inverse-depth heads ``disp4..disp1`` whose
nearest-upsampled outputs feed the next finer level. ``disp1`` is full resolution.

Inverse depth = sigmoid / ``min_depth`` (0.5), so depth ∈ (0.5, ∞). Parameter names and shapes
equal the reference's state dict.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from packdepth.networks.base import DepthNet
from packdepth.networks.layers import (
    GROUPS,
    ConvGNElu,
    InvDepthHead,
    PackLayer3d,
    UnpackLayer3d,
    residual_block,
    xavier_init_,
)

NUM_BLOCKS = (2, 2, 3, 3)
PACK_KERNELS = (5, 3, 3, 3, 3)
UNPACK_KERNEL = 3
ICONV_KERNEL = 3
PACKNET01_WIDTHS = (64, 64, 128, 256, 512)
SLIM_WIDTHS = (32, 64, 128, 256, 512)
SMALL_WIDTHS = (16, 16, 32, 64, 128)


def _normalise_version(version: str) -> str:
    """Accept packnet-sfm's ``"1A"``/``"1B"`` as well as ``"A"``/``"B"``."""
    v = str(version).upper()[-1:]
    if v not in ("A", "B"):
        raise ValueError(f"unknown PackNet version {version!r} (expected 'A' or 'B')")
    return v


class PackNet(DepthNet):
    """PackNet01 of any width.

    Args:
        version: ``"A"`` (concatenate skips) or ``"B"`` (add skips; unpack3–5 half width).
        stem_channels: width ``ni`` of ``pre_calc`` (the full-resolution skip).
        widths: ``n1..n5``, the widths of the five encoder levels.
        d: number of 3D-convolution features in the packing/unpacking layers.
        min_depth: inverse depth = sigmoid / min_depth.
        dropout: Dropout2d on the residual shortcuts (None = off).

    Every width, and every ``4·n/d`` of the unpacking convolutions, must be divisible by 16
    (GroupNorm). Version ``B`` only runs if ``widths[0] == stem_channels``, ``widths[1] ==
    widths[0]`` and each of ``n3..n5`` is twice the previous width (so the added tensors agree);
    like the reference, other widths build but :meth:`predict` raises. Any image size runs:
    padded to a multiple of 32, and to 64 when the coarsest level's GroupNorms would have one
    value per group.
    """

    def __init__(self, version: str = "A", stem_channels: int = 64,
                 widths: Sequence[int] = PACKNET01_WIDTHS, d: int = 8, min_depth: float = 0.5,
                 dropout: float | None = None):
        super().__init__()
        version = _normalise_version(version)
        widths = tuple(int(w) for w in widths)
        if len(widths) != 5:
            raise ValueError(f"PackNet needs 5 widths, got {widths}")
        self.version, self.min_depth, self.max_depth = version, float(min_depth), math.inf
        self.config = {"name": "PackNet", "version": version, "stem_channels": stem_channels,
                       "widths": list(widths), "d": d, "min_depth": float(min_depth),
                       "dropout": dropout}
        ni, (n1, n2, n3, n4, n5) = stem_channels, widths
        if version == "A":  # decoder level outputs (o) and iconv inputs (i)
            n1o, n1i = n1, n1 + ni + 1
            n2o, n2i = n2, n2 + n1 + 1
            n3o, n3i = n3, n3 + n2 + 1
            n4o, n4i = n4, n4 + n3
            n5o, n5i = n5, n5 + n4
        else:
            n1o, n1i = n1, n1 + 1
            n2o, n2i = n2, n2 + 1
            n3o, n3i = n3 // 2, n3 // 2 + 1
            n4o, n4i = n4 // 2, n4 // 2
            n5o, n5i = n5 // 2, n5 // 2
        self._addable = (n1o, n2o, n3o, n4o, n5o) == (ni, n1, n2, n3, n4)
        # At H/32 (1x1 for a 32-pixel input) pack5's and unpack5's GroupNorms need more than one
        # value per group: with one channel per group the image must reach 64 pixels (2x2).
        if min(n5, n5o * 4 // d) <= GROUPS:
            self.min_size = 2 * self.size_multiple

        self.pre_calc = ConvGNElu(3, ni, 5, 1)
        self.conv1 = ConvGNElu(ni, n1, 7, 1)
        for i, (n, k) in enumerate(zip(widths, PACK_KERNELS), start=1):
            setattr(self, f"pack{i}", PackLayer3d(n, k, d=d))
        for i, blocks in enumerate(NUM_BLOCKS, start=2):
            setattr(self, f"conv{i}", residual_block(widths[i - 2], widths[i - 1], blocks,
                                                     dropout=dropout))
        unpack_io = [(n5, n5o), (n5, n4o), (n4, n3o), (n3, n2o), (n2, n1o)]
        for level, (cin, cout) in zip(range(5, 0, -1), unpack_io):
            setattr(self, f"unpack{level}", UnpackLayer3d(cin, cout, UNPACK_KERNEL, d=d))
        iconv_io = [(n5i, n5), (n4i, n4), (n3i, n3), (n2i, n2), (n1i, n1)]
        for level, (cin, cout) in zip(range(5, 0, -1), iconv_io):
            setattr(self, f"iconv{level}", ConvGNElu(cin, cout, ICONV_KERNEL, 1))
        for level, cin in zip(range(4, 0, -1), (n4, n3, n2, n1)):
            setattr(self, f"disp{level}_layer", InvDepthHead(cin, min_depth))
        xavier_init_(self)

    def _join(self, unpacked: Tensor, skip: Tensor, coarser_disp: Tensor | None) -> Tensor:
        """Concatenate (A) or add (B) the skip, then append the upsampled coarser inverse depth."""
        parts = [unpacked, skip] if self.version == "A" else [unpacked + skip]
        if coarser_disp is not None:
            parts.append(F.interpolate(coarser_disp, scale_factor=2, mode="nearest"))
        return torch.cat(parts, 1) if len(parts) > 1 else parts[0]

    def depth_heads(self) -> list[nn.Conv2d]:
        return [getattr(self, f"disp{level}_layer").conv1 for level in range(1, 5)]

    def sigmoid_at_depth(self, depth: float) -> float:
        return self.min_depth / depth

    def predict(self, image: Tensor) -> list[Tensor]:
        """``[B,3,H,W]`` (H, W multiples of 32) → inverse depths at scales 0..3."""
        if self.version == "B" and not self._addable:
            raise ValueError("PackNet version B needs each unpacked width to equal its skip's "
                             f"width; widths {self.config['widths']} with stem "
                             f"{self.config['stem_channels']} cannot be added")
        x = self.pre_calc(image)
        x1p = self.pack1(self.conv1(x))
        x2p = self.pack2(self.conv2(x1p))
        x3p = self.pack3(self.conv3(x2p))
        x4p = self.pack4(self.conv4(x3p))
        x5p = self.pack5(self.conv5(x4p))

        iconv5 = self.iconv5(self._join(self.unpack5(x5p), x4p, None))
        iconv4 = self.iconv4(self._join(self.unpack4(iconv5), x3p, None))
        disp4 = self.disp4_layer(iconv4)
        iconv3 = self.iconv3(self._join(self.unpack3(iconv4), x2p, disp4))
        disp3 = self.disp3_layer(iconv3)
        iconv2 = self.iconv2(self._join(self.unpack2(iconv3), x1p, disp3))
        disp2 = self.disp2_layer(iconv2)
        iconv1 = self.iconv1(self._join(self.unpack1(iconv2), x, disp2))
        disp1 = self.disp1_layer(iconv1)
        return [disp1, disp2, disp3, disp4]


def PackNet01(version: str = "A", dropout: float | None = None) -> PackNet:
    """packnet-sfm's PackNet01 (ni = 64, widths 64/64/128/256/512, d = 8)."""
    return PackNet(version, stem_channels=64, widths=PACKNET01_WIDTHS, d=8, dropout=dropout)


def PackNetSlim01(version: str = "A", dropout: float | None = None) -> PackNet:
    """packnet-sfm's PackNetSlim01 (ni = n1 = 32, d = 4). Version B does not run (see PackNet)."""
    return PackNet(version, stem_channels=32, widths=SLIM_WIDTHS, d=4, dropout=dropout)


def PackNetSmall(version: str = "A", dropout: float | None = None) -> PackNet:
    """A CPU-sized PackNet: same blocks, widths 16/16/32/64/128, ni = 16, d = 4; A and B run."""
    return PackNet(version, stem_channels=16, widths=SMALL_WIDTHS, d=4, dropout=dropout)
