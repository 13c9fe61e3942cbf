"""Depth colouring and image conversion accept tensors of any float dtype (mixed precision)."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from packdepth.io.viz import colorize_depth, to_uint8_image


@pytest.mark.parametrize("dtype", [torch.bfloat16, torch.float16, torch.float32])
def test_colorize_depth_takes_tensors_of_any_float_dtype(dtype: torch.dtype) -> None:
    depth = (torch.rand(6, 10) * 40 + 1).to(dtype)
    depth[0, 0] = 0.0  # no depth: black
    expected = colorize_depth(depth.double().numpy())  # the same values, as NumPy
    got = colorize_depth(depth)
    np.testing.assert_array_equal(got, expected)
    assert got.dtype == np.uint8 and got.shape == (6, 10, 3) and not got[0, 0].any()


@pytest.mark.parametrize("dtype", [torch.bfloat16, torch.float16, torch.float32])
def test_to_uint8_image_takes_tensors_of_any_float_dtype(dtype: torch.dtype) -> None:
    image = torch.rand(3, 4, 7).to(dtype)
    expected = (np.clip(image.double().numpy().transpose(1, 2, 0), 0, 1) * 255 + 0.5)
    got = to_uint8_image(image)
    assert got.dtype == np.uint8 and got.shape == (4, 7, 3)
    np.testing.assert_array_equal(got, expected.astype(np.uint8))
