"""Inference versions of PackNet's packing and unpacking layers, and :func:`fuse`.

- :class:`FusedPackLayer`: a packing layer whose Conv3d and Conv2d are folded into one
  convolution (:mod:`packdepth.networks.fold`): 2.9x (k = 3) to 4.1x (k = 5) fewer
  multiply-adds;
- :class:`FusedUnpackLayer`: an unpacking layer whose Conv3d runs as one grouped Conv2d and whose
  reshape and PixelShuffle are one permutation (PyTorch's CPU Conv3d with a single input channel
  is slow); the same products and sums as the reference, in another order;
- PackNet's other convolutions (:class:`~packdepth.networks.layers.ConvGNElu`,
  :class:`~packdepth.networks.layers.InvDepthHead`) pad with zeros through the convolution's
  own ``padding`` instead of a separate ``ConstantPad2d`` (which copies the whole map first).

All compute the function of the layers they replace (packnet-sfm ``PackLayerConv3d`` /
``UnpackLayerConv3d`` / ``Conv2D`` / ``InvDepth``; Guizilini et al., CVPR 2020) up to float
rounding.
"""

from __future__ import annotations

import copy

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from packdepth.networks.fold import PackFold, fold_pack, folded_pack_conv
from packdepth.networks.layers import (
    ConvGNElu,
    InvDepthHead,
    PackLayer3d,
    UnpackLayer3d,
    packing,
)


class FusedPackLayer(nn.Module):
    """A :class:`PackLayer3d` for inference: the fold computed once, then Space2Depth →
    :func:`~packdepth.networks.fold.folded_pack_conv` → the layer's GroupNorm → ELU.

    ``[B,C,H,W] → [B,C,H/2,W/2]``, equal to ``layer(x)`` up to float rounding (the fold is
    computed in float32: about 1e-7 relative per folded weight). The original Conv3d and Conv2d
    weights are not kept (the fold is smaller: ``P·(k+2)²`` against ``d·P·k²`` weights per
    output channel); GroupNorm and ELU are the layer's own modules.
    """

    def __init__(self, layer: PackLayer3d):
        super().__init__()
        self.r = layer.r
        dtype = layer.conv.conv_base.weight.dtype
        with torch.no_grad():
            fold = fold_pack(layer, torch.promote_types(dtype, torch.float32))
        for name, value in fold._asdict().items():
            self.register_buffer(name, value.to(dtype).contiguous())
        self.normalize, self.activ = layer.conv.normalize, layer.conv.activ

    def fold(self) -> PackFold:
        """The stored :class:`~packdepth.networks.fold.PackFold`."""
        return PackFold(*(getattr(self, name) for name in PackFold._fields))

    def forward(self, x: Tensor) -> Tensor:
        return self.activ(self.normalize(folded_pack_conv(packing(x, self.r), self.fold())))


class FusedUnpackLayer(nn.Module):
    """An :class:`UnpackLayer3d` for inference: ConvGNElu → Conv3d as a grouped Conv2d →
    reshape and PixelShuffle as one permutation.

    The Conv3d(1→d, 3x3x3) over ``Q`` channels is a Conv2d with ``Q`` groups over the ``Q``
    three-channel windows ``(c-1, c, c+1)`` (zero channels beyond the ends), each group
    producing the d features of its channel. ``[B,Cin,H,W] → [B,Cout,2H,2W]``. The one
    permutation needs ``Q = 4·Cout/d`` divisible by 4, which the GroupNorm(16) over those ``Q``
    channels already requires.
    """

    def __init__(self, layer: UnpackLayer3d):
        super().__init__()
        self.conv = layer.conv
        d, q = layer.conv3d.out_channels, layer.conv.conv_base.out_channels
        self.r, self.d = layer.unpack.upscale_factor, d
        with torch.no_grad():
            weight = layer.conv3d.weight[:, 0].expand(q, -1, -1, -1, -1).reshape(q * d, 3, 3, 3)
            self.register_buffer("weight", weight.contiguous())
            self.register_buffer("bias", layer.conv3d.bias.repeat(q))

    def forward(self, x: Tensor) -> Tensor:
        y = self.conv(x)
        b, q, h, w = y.shape
        windows = F.pad(y, (0, 0, 0, 0, 1, 1)).unfold(1, 3, 1)  # [B,Q,h,w,3]
        windows = windows.permute(0, 1, 4, 2, 3).reshape(b, q * 3, h, w)
        z = F.conv2d(windows, self.weight, self.bias, padding=1, groups=q)  # channel c·d + dd
        # The reference's channel n = dd·Q + c goes to PixelShuffle channel n // r² at offset
        # divmod(n % r², r); with r² | Q that is channel dd·Q/r² + c // r², offset of c % r².
        r = self.r
        z = z.view(b, q // (r * r), r, r, self.d, h, w).permute(0, 4, 1, 5, 2, 6, 3)
        return z.reshape(b, self.d * q // (r * r), h * r, w * r)


def _pad_inside(module: ConvGNElu | InvDepthHead) -> None:
    """Move a symmetric zero ``ConstantPad2d`` into the following convolution's padding."""
    conv = module.conv_base if isinstance(module, ConvGNElu) else module.conv1
    pad = module.pad
    if isinstance(pad, nn.ConstantPad2d) and pad.value == 0 and len(set(pad.padding)) == 1 \
            and conv.padding == (0, 0):
        conv.padding = (pad.padding[0], pad.padding[0])
        module.pad = nn.Identity()


def fuse(net: nn.Module, inplace: bool = False) -> nn.Module:
    """``net`` with every :class:`PackLayer3d` / :class:`UnpackLayer3d` replaced by a
    :class:`FusedPackLayer` / :class:`FusedUnpackLayer` and PackNet's zero pads moved into their
    convolutions, for inference.

    Args:
        net: any module (a :class:`~packdepth.networks.PackNet`, or one holding one); a module
            without packing layers comes back unchanged (a copy unless ``inplace``).
        inplace: replace the layers inside ``net`` itself instead of in a deep copy.

    Returns:
        The fused network, in ``net``'s train/eval mode, on its device. Its outputs equal
        ``net``'s up to float rounding (about 1e-6 relative in float32). Its state dict holds
        the folds instead of the layers' Conv3d/Conv2d weights: keep the original network to
        save or to train.
    """
    target = net if inplace else copy.deepcopy(net)
    replacements = {PackLayer3d: FusedPackLayer, UnpackLayer3d: FusedUnpackLayer}
    for module in list(target.modules()):
        if isinstance(module, (ConvGNElu, InvDepthHead)):
            _pad_inside(module)
        for name, child in list(module.named_children()):
            if type(child) in replacements:
                setattr(module, name, replacements[type(child)](child).train(child.training))
    return target
