"""Run networks on any image size (``H, W ≥ 1``).

Networks whose strided layers need sizes divisible by ``2^k`` pad the image at the bottom and right
only (reflect; replicate when the image is too small to reflect), up to the next multiple and at
least to the network's minimum size, so pixel ``(y, x)`` of every output scale ``s`` still covers
input pixels ``[2^s·y, 2^s·(y+1))``. Outputs are cropped back to ``ceil(H/2^s) x ceil(W/2^s)``:
for sizes divisible by ``2^s`` that is exactly ``H/2^s x W/2^s``.

Inside the networks, a same-size 3x3 convolution's reflection padding needs a map of at least
2x2; :class:`ReflectOrReplicatePad2d` replicates instead where a map is a single row or column
(the coarsest level of a tiny image), and reflects, exactly as before, everywhere else.
"""

from __future__ import annotations

import math

import torch.nn.functional as F
from torch import Tensor, nn


def padded_size(size: tuple[int, int], multiple: int, minimum: int = 1) -> tuple[int, int]:
    """``(H', W')``: each side rounded up to a multiple of ``multiple``, and at least ``minimum``.

    Example: ``padded_size((24, 80), 32, 64) == (64, 96)``; ``padded_size((33, 97), 32) ==
    (64, 128)``.
    """
    floor = math.ceil(minimum / multiple) * multiple
    return tuple(max(math.ceil(n / multiple) * multiple, floor) for n in size)  # type: ignore


def pad_to_multiple(image: Tensor, multiple: int, minimum: int = 1) -> Tensor:
    """Pad ``[B,C,H,W]`` at the bottom/right to ``[B,C,H',W']`` (see :func:`padded_size`).

    Reflect when both paddings are shorter than their sides, else replicate (a side of 1 pixel
    has nothing to reflect). ``minimum`` only changes images smaller than it.
    """
    h, w = image.shape[-2:]
    target_h, target_w = padded_size((h, w), multiple, minimum)
    pad_h, pad_w = target_h - h, target_w - w
    if pad_h == 0 and pad_w == 0:
        return image
    mode = "reflect" if pad_h < h and pad_w < w else "replicate"
    return F.pad(image, (0, pad_w, 0, pad_h), mode=mode)


def crop_to_input(output: Tensor, input_size: tuple[int, int], padded_size: tuple[int, int]
                  ) -> Tensor:
    """Crop an output ``[B,C,h,w]`` of a padded input back to the unpadded input's footprint.

    The output's stride is ``padded_size / (h, w)``; the crop keeps ``ceil(input / stride)``.
    """
    h, w = output.shape[-2:]
    stride_h, stride_w = padded_size[0] // h, padded_size[1] // w
    keep_h = math.ceil(input_size[0] / stride_h)
    keep_w = math.ceil(input_size[1] / stride_w)
    if keep_h == h and keep_w == w:
        return output
    return output[..., :keep_h, :keep_w]


class ReflectOrReplicatePad2d(nn.ReflectionPad2d):
    """``nn.ReflectionPad2d(p)`` that replicates when a side of the map is not longer than ``p``.

    ``[B,C,H,W] → [B,C,H+2p,W+2p]``. Where reflection is defined (``H, W > p``) the output is
    exactly ``ReflectionPad2d``'s; otherwise it is ``F.pad(..., mode="replicate")`` on both axes.
    """

    def forward(self, x: Tensor) -> Tensor:
        left, right, top, bottom = self.padding
        if x.shape[-1] > max(left, right) and x.shape[-2] > max(top, bottom):
            return super().forward(x)
        return F.pad(x, self.padding, mode="replicate")
