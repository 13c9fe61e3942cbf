"""Tensors to NumPy, whatever their dtype or device.

Every place where a tensor leaves torch for NumPy (metrics, pictures, writers, logging) goes
through :func:`to_numpy`: tensors produced under mixed precision (``trainer.precision:
bf16-mixed``, autocast on a GPU) are ``bfloat16``/``float16``, which ``Tensor.numpy()`` refuses
(``TypeError: Got unsupported ScalarType BFloat16``), and CUDA tensors or tensors that require
grad are refused too.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch


def to_numpy(x: Any, dtype: np.dtype | type | str | None = None) -> np.ndarray:
    """``x`` as a NumPy array.

    Args:
        x: a tensor of any shape, device and dtype (with or without grad), or anything
            ``np.asarray`` takes.
        dtype: convert to this NumPy dtype; ``None`` keeps the dtype, except that floats
            narrower than float32 (bfloat16, float16, float8) widen to float32, exactly.

    Returns:
        An array of ``x``'s shape, on the CPU (a copy for CUDA, reduced-precision or ``dtype``-
        converted tensors; otherwise it may share memory with ``x``).
    """
    if isinstance(x, torch.Tensor):
        x = x.detach()
        if x.is_floating_point() and x.dtype not in (torch.float32, torch.float64):
            x = x.float()
        arr = x.cpu().numpy()
    else:
        arr = np.asarray(x)
    return arr if dtype is None else arr.astype(dtype, copy=False)
