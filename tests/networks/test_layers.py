"""PackNet packing/unpacking layers and the any-size padding wrapper."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from packdepth.networks.layers import PackLayer3d, UnpackLayer3d, packing
from packdepth.networks.padding import crop_to_input, pad_to_multiple


def test_packing_hand_example() -> None:
    # a 1-channel 4x4 image 0..15: the top-left 2x2 block (0, 1, 4, 5) becomes 4 channels
    x = torch.arange(16.0).reshape(1, 1, 4, 4)
    packed = packing(x)
    assert packed.shape == (1, 4, 2, 2)
    assert packed[0, :, 0, 0].tolist() == [0.0, 1.0, 4.0, 5.0]
    assert packed[0, 0].tolist() == [[0.0, 2.0], [8.0, 10.0]]
    assert packed[0, 3].tolist() == [[5.0, 7.0], [13.0, 15.0]]


@pytest.mark.parametrize("r", [2, 3])
def test_packing_is_exact_inverse_of_pixel_shuffle(r: int) -> None:
    x = torch.randn(2, 5, 6 * r, 4 * r)
    assert torch.equal(nn.PixelShuffle(r)(packing(x, r)), x)
    y = torch.randn(2, 5 * r * r, 3, 7)
    assert torch.equal(packing(nn.PixelShuffle(r)(y), r), y)


@pytest.mark.parametrize(("channels", "d", "size"), [(16, 8, 64), (32, 4, 32), (64, 8, 8)])
def test_pack_unpack_shapes(channels: int, d: int, size: int) -> None:
    x = torch.randn(1, channels, size, size)
    pack = PackLayer3d(channels, kernel_size=3, d=d)
    assert pack.conv.conv_base.in_channels == channels * 4 * d
    packed = pack(x)
    assert packed.shape == (1, channels, size // 2, size // 2)
    unpack = UnpackLayer3d(channels, 2 * channels, kernel_size=3, d=d)
    assert unpack.conv.conv_base.out_channels == 2 * channels * 4 // d
    assert unpack(packed).shape == (1, 2 * channels, size, size)


def test_pad_to_multiple_reflects_bottom_right_only() -> None:
    x = torch.arange(5.0 * 6).reshape(1, 1, 5, 6)
    padded = pad_to_multiple(x, 4)
    assert padded.shape == (1, 1, 8, 8)
    assert torch.equal(padded[..., :5, :6], x)  # original pixels untouched at the top-left
    assert torch.equal(padded[0, 0, 5, :6], x[0, 0, 3])  # row 5 mirrors row 3 (reflect)
    assert torch.equal(padded[0, 0, :5, 6], x[0, 0, :, 4])
    assert pad_to_multiple(torch.zeros(1, 1, 8, 12), 4).shape == (1, 1, 8, 12)
    # too small to reflect (pad 29 > 3 rows): replicate instead of failing
    tiny = pad_to_multiple(torch.ones(1, 3, 3, 3), 32)
    assert tiny.shape == (1, 3, 32, 32) and torch.equal(tiny, torch.ones_like(tiny))


def test_crop_to_input_keeps_ceil_of_footprint() -> None:
    padded_size, size = (384, 1248), (375, 1242)
    for s, (h, w) in enumerate([(375, 1242), (188, 621), (94, 311), (47, 156)]):
        out = torch.zeros(1, 1, padded_size[0] >> s, padded_size[1] >> s)
        assert crop_to_input(out, size, padded_size).shape[-2:] == (h, w)
