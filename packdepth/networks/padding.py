"""Run networks that need sizes divisible by 32 on any image size.

The image is padded at the bottom and right only (reflect; replicate when the image is too small
to reflect), so pixel ``(y, x)`` of every output scale ``s`` still covers input pixels
``[2^s·y, 2^s·(y+1))``. Outputs are cropped back to ``ceil(H/2^s) x ceil(W/2^s)``: for sizes
divisible by ``2^s`` that is exactly ``H/2^s x W/2^s``.
"""

from __future__ import annotations

import math

import torch.nn.functional as F
from torch import Tensor


def pad_to_multiple(image: Tensor, multiple: int) -> Tensor:
    """Pad ``[B,C,H,W]`` at the bottom/right to ``[B,C,H',W']`` with ``H', W'`` multiples."""
    h, w = image.shape[-2:]
    pad_h, pad_w = (-h) % multiple, (-w) % multiple
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
