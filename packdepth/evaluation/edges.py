"""Depth accuracy near depth discontinuities: the standard metrics restricted to an edge band.

Definitions (computed from the ground truth alone, never from the prediction or the image):

- **Discontinuity pixel** (:func:`depth_discontinuities`): a valid GT pixel ``p`` (``gt > 0``,
  finite) with another valid GT pixel ``q`` within ``radius`` pixels (Chebyshev distance,
  ``max(|Δrow|, |Δcol|) ≤ radius``) whose depth differs by more than ``jump`` in log depth,
  ``|ln gt(q) − ln gt(p)| > jump``. Both sides of an occlusion boundary are marked. ``radius``
  1 (the 8 neighbours) suits dense GT; sparse LiDAR GT needs 2 (the points of one scan line lie
  about 1.1 px apart in a 1242-wide KITTI image).
- **Edge band** (:func:`edge_band`): the pixels within ``width`` pixels (Chebyshev) of a
  discontinuity pixel.
- **Edge metrics** (:func:`edge_metrics`): the seven KITTI metrics
  (:func:`~packdepth.evaluation.metrics.compute_errors`) over the protocol's valid GT pixels
  inside the band, and over those outside it (``interior``), with the whole image's median
  scaling ratio — so that a prediction's edge figures show its edge error, not a re-scaled one.

Defaults: ``jump = 0.15`` (a 16 % depth step), ``width = 2``. A ground plane seen at a grazing
angle also exceeds the jump near the horizon (at 96x320 the rows of an 80 m road differ by
> 16 %); the band includes those pixels.
"""

from __future__ import annotations

import numpy as np
import torch
from numpy.lib.stride_tricks import sliding_window_view

from packdepth.arrays import to_numpy
from packdepth.evaluation.metrics import DepthProtocol, _prepare, compute_errors

DEFAULT_JUMP = 0.15
DEFAULT_WIDTH = 2


def _window_max(array: np.ndarray, radius: int, fill: float) -> np.ndarray:
    """``[H,W]``: the maximum over the ``(2r+1)²`` square around each pixel (``fill`` outside),
    as two 1-D passes."""
    out = array
    for axis in (0, 1):
        pad = [(0, 0), (0, 0)]
        pad[axis] = (radius, radius)
        padded = np.pad(out, pad, constant_values=fill)
        out = sliding_window_view(padded, 2 * radius + 1, axis=axis).max(axis=-1)
    return out


def depth_discontinuities(
    gt: np.ndarray | torch.Tensor, *, jump: float = DEFAULT_JUMP, radius: int = 1
) -> np.ndarray:
    """``[H,W]`` bool: the valid GT pixels at a depth discontinuity (module docstring).

    Args:
        gt: ``[H,W]`` ground-truth depth, 0 (or non-finite) = no value.
        jump: the smallest log-depth difference that counts as a discontinuity.
        radius: how far (pixels, Chebyshev) the compared GT pixels may lie.
    """
    gt = to_numpy(gt, np.float64)
    valid = np.isfinite(gt) & (gt > 0)
    log_gt = np.log(np.where(valid, gt, 1.0))
    highest = _window_max(np.where(valid, log_gt, -np.inf), radius, -np.inf)
    lowest = -_window_max(np.where(valid, -log_gt, -np.inf), radius, -np.inf)
    return valid & ((highest - log_gt > jump) | (log_gt - lowest > jump))


def edge_band(edges: np.ndarray, width: int = DEFAULT_WIDTH) -> np.ndarray:
    """``[H,W]`` bool: the pixels within ``width`` pixels (Chebyshev) of an ``edges`` pixel."""
    return _window_max(edges, width, False)


def edge_metrics(
    pred: np.ndarray | torch.Tensor,
    gt: np.ndarray | torch.Tensor,
    protocol: DepthProtocol,
    *,
    jump: float = DEFAULT_JUMP,
    radius: int = 1,
    width: int = DEFAULT_WIDTH,
) -> dict[str, dict[str, float]]:
    """Metrics of one image near and away from the GT's depth discontinuities.

    Args:
        pred: ``[h,w]`` predicted depth (resized to the GT as :func:`depth_metrics` does).
        gt: ``[H,W]`` ground-truth depth, 0 = no value.
        protocol: crop, depth range, median scaling (the ratio from all valid pixels).
        jump, radius: see :func:`depth_discontinuities`; width: see :func:`edge_band`.

    Returns:
        ``{"edge": {...}, "interior": {...}}``, each the seven metrics and ``valid_pixels``;
        a part without valid pixels is left out.

    Raises:
        ValueError: the shapes cannot match or no GT pixel is valid.
    """
    pred_map, gt_map, valid, _ = _prepare(pred, gt, **protocol.metric_kwargs())
    band = edge_band(depth_discontinuities(gt_map, jump=jump, radius=radius), width)
    out: dict[str, dict[str, float]] = {}
    for name, part in (("edge", valid & band), ("interior", valid & ~band)):
        if part.any():
            out[name] = {**compute_errors(gt_map[part], pred_map[part]),
                         "valid_pixels": int(part.sum())}
    return out
