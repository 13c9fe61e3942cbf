"""Colour depth maps and image panels."""

from __future__ import annotations

import os

import numpy as np
from matplotlib import colormaps
from PIL import Image
from torch import Tensor

from packdepth.arrays import to_numpy
from packdepth.io.atomic import atomic_path


def colorize_depth(
    depth: np.ndarray | Tensor,
    *,
    vmax_percentile: float = 95.0,
    cmap: str = "magma",
    inv_range: tuple[float, float] | None = None,
) -> np.ndarray:
    """Colour a depth map ``[H,W]`` (metres; 0/NaN/inf = none) by inverse depth: near is bright.

    ``depth`` may be an array or a tensor of any float dtype (bfloat16 from mixed precision
    included) on any device.

    Inverse depth is normalised to ``[0, 1]`` by ``inv_range`` or by 0 and its
    ``vmax_percentile`` percentile (robust to a few very close pixels). Pixels without depth are
    black.

    Returns:
        ``[H,W,3]`` uint8.
    """
    depth = to_numpy(depth, np.float64)
    valid = np.isfinite(depth) & (depth > 0)
    inv = np.zeros_like(depth)
    inv[valid] = 1.0 / depth[valid]
    if inv_range is None:
        hi = np.percentile(inv[valid], vmax_percentile) if valid.any() else 1.0
        inv_range = (0.0, float(hi) if hi > 0 else 1.0)
    lo, hi = inv_range
    norm = np.clip((inv - lo) / max(hi - lo, 1e-12), 0.0, 1.0)
    rgb = colormaps[cmap](norm)[..., :3]
    rgb[~valid] = 0.0
    return (rgb * 255 + 0.5).astype(np.uint8)


def to_uint8_image(image: np.ndarray | Tensor) -> np.ndarray:
    """``[3,H,W]`` or ``[H,W,3]`` float in [0,1] (or uint8) to ``[H,W,3]`` uint8.

    ``image`` may be an array or a tensor of any dtype (bfloat16 included) on any device.
    """
    arr = to_numpy(image)
    if arr.ndim == 3 and arr.shape[0] in (1, 3) and arr.shape[-1] not in (1, 3):
        arr = arr.transpose(1, 2, 0)
    if arr.dtype != np.uint8:
        arr = (np.clip(arr, 0.0, 1.0) * 255 + 0.5).astype(np.uint8)
    if arr.shape[-1] == 1:
        arr = np.repeat(arr, 3, axis=-1)
    return arr


def panel(rows: list[list[np.ndarray]], gap: int = 2) -> np.ndarray:
    """Tile ``[H,W,3]`` uint8 images (all the same size) into a grid with ``gap`` white pixels."""
    h, w = rows[0][0].shape[:2]
    ncols = max(len(r) for r in rows)
    out = np.full((len(rows) * (h + gap) - gap, ncols * (w + gap) - gap, 3), 255, np.uint8)
    for i, row in enumerate(rows):
        for j, img in enumerate(row):
            out[i * (h + gap) : i * (h + gap) + h, j * (w + gap) : j * (w + gap) + w] = img
    return out


def save_png(path: str | os.PathLike, image: np.ndarray) -> None:
    """Write a ``[H,W,3]`` uint8 image atomically as PNG."""
    with atomic_path(path) as tmp:
        Image.fromarray(image).save(tmp, format="PNG")
