"""Tensors of every dtype and device reach NumPy (mixed precision makes bfloat16/float16)."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from packdepth.arrays import to_numpy


@pytest.mark.parametrize("dtype", [torch.bfloat16, torch.float16])
def test_reduced_precision_widens_exactly_to_float32(dtype: torch.dtype) -> None:
    x = (torch.randn(3, 5) * 100).to(dtype).requires_grad_()
    arr = to_numpy(x * 1)  # a non-leaf that requires grad
    assert arr.dtype == np.float32 and arr.shape == (3, 5)
    # every bfloat16/float16 value is a float32 value: compare against torch's own widening
    np.testing.assert_array_equal(arr, x.detach().float().numpy())


def test_other_dtypes_are_kept_and_dtype_converts() -> None:
    assert to_numpy(torch.arange(4)).dtype == np.int64
    assert to_numpy(torch.zeros(2, dtype=torch.float64)).dtype == np.float64
    assert to_numpy(torch.ones(2, dtype=torch.bool)).dtype == np.bool_
    half = torch.tensor([0.1, 2.5], dtype=torch.bfloat16)
    np.testing.assert_array_equal(to_numpy(half, np.float64), half.double().numpy())
    np.testing.assert_array_equal(to_numpy([[1, 2]], np.float32), np.array([[1, 2]], np.float32))
    strided = torch.arange(12.0).view(3, 4).t()
    np.testing.assert_array_equal(to_numpy(strided), np.arange(12.0).reshape(3, 4).T)
