"""Depth metrics with the standard KITTI protocol (Eigen et al. 2014; monodepth2's evaluation).

Per image, in this order:

1. The prediction is resized to the ground truth's resolution, bilinearly and in *inverse depth*
   (as monodepth2 resizes disparity), with half-pixel sampling (``align_corners=False``, the same
   sampling as ``cv2.resize``). Non-positive predictions count as infinitely far.
2. Valid pixels: ``min_depth < gt < max_depth`` inside the crop. The crop boxes are fractions of
   the GT size truncated to integers, ``rows [int(a·H), int(b·H))``, ``cols [int(c·W), int(d·W))``:
   Garg (Garg et al. 2016) ``a, b, c, d = 0.40810811, 0.99189189, 0.03594771, 0.96405229``;
   Eigen (Eigen et al. 2014, as in monodepth's ``evaluate_kitti.py``) ``0.3324324, 0.91351351,
   0.0359477, 0.96405229``.
3. Scale ratio ``median(gt) / median(pred)`` over the valid pixels; applied when median scaling is
   on (monocular models), always reported (a scale diagnostic for metric-scale models). Instead
   of the ratio, a factor found without the GT may be applied (``scale``: ground-plane scaling
   from the camera's height, :attr:`DepthProtocol.camera_height`).
4. Predictions are clamped to ``[min_depth, max_depth]`` after scaling.
5. ``abs_rel = mean(|gt−p|/gt)``, ``sq_rel = mean((gt−p)²/gt)``, ``rmse = sqrt(mean((gt−p)²))``,
   ``rmse_log = sqrt(mean((ln gt − ln p)²))``, ``a_k = mean(max(gt/p, p/gt) < 1.25^k)``.

A dataset's figures are the *mean of the per-image metrics* (:func:`aggregate_metrics`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass

import numpy as np
import torch
import torch.nn.functional as F

from packdepth.arrays import to_numpy
from packdepth.geometry import aspect_change

METRIC_NAMES = ("abs_rel", "sq_rel", "rmse", "rmse_log", "a1", "a2", "a3")

#: Crop boxes as fractions ``(top, bottom, left, right)`` of the GT height/width.
CROPS: dict[str, tuple[float, float, float, float]] = {
    "garg": (0.40810811, 0.99189189, 0.03594771, 0.96405229),
    "eigen": (0.3324324, 0.91351351, 0.0359477, 0.96405229),
}

#: Predictions whose aspect ratio (W/H) differs from the GT's by more than this are refused:
#: resizing them would compare the wrong pixels (a transposed array, another camera's view).
#: Loose enough for every common training size on KITTI (192x640: 1 %, 320x1024: 3 %, 64x192: 9 %).
#: (Intrinsics use the same comparison, :func:`~packdepth.geometry.aspect_change`, with a tighter
#: tolerance: :data:`packdepth.data.intrinsics.ASPECT_TOLERANCE`.)
ASPECT_TOLERANCE = 0.15


@dataclass(frozen=True)
class DepthProtocol:
    """The evaluation settings that make figures comparable; stated in every report.

    ``camera_height`` (metres) selects ground-plane scaling instead of median scaling: each
    prediction is multiplied by the factor that puts its fitted ground plane that far below the
    camera (``packdepth.apps.ground``; the caller computes it and passes it to
    :func:`depth_metrics` as ``scale``). It excludes ``median_scaling``.
    """

    crop: str | None = "garg"
    min_depth: float = 1e-3
    max_depth: float = 80.0
    median_scaling: bool = True
    post_process: bool = False
    camera_height: float | None = None

    def __post_init__(self) -> None:
        if self.crop is not None and self.crop not in CROPS:
            raise ValueError(f"unknown crop {self.crop!r}; expected one of {sorted(CROPS)} or None")
        if not 0 <= self.min_depth < self.max_depth:
            raise ValueError(
                f"need 0 <= min_depth < max_depth, got {self.min_depth}, {self.max_depth}"
            )
        if self.camera_height is not None:
            if not (np.isfinite(self.camera_height) and self.camera_height > 0):
                raise ValueError(f"camera height must be positive, got {self.camera_height}")
            if self.median_scaling:
                raise ValueError("ground-plane scaling (camera height) replaces median scaling")

    @property
    def scaling(self) -> str:
        """``"median"``, ``"ground"`` or ``"none"``."""
        if self.camera_height is not None:
            return "ground"
        return "median" if self.median_scaling else "none"

    def metric_kwargs(self) -> dict:
        """Keyword arguments of :func:`depth_metrics`."""
        return {
            "crop": self.crop,
            "min_depth": self.min_depth,
            "max_depth": self.max_depth,
            "median_scaling": self.median_scaling,
        }

    def as_dict(self) -> dict:
        return asdict(self)

    def describe(self) -> str:
        """One line, e.g. ``crop garg, depth (0.001, 80] m, median scaling, no post-processing``."""
        scaling = "median scaling" if self.median_scaling else "no median scaling"
        if self.camera_height is not None:
            scaling = f"ground-plane scaling (camera height {self.camera_height:g} m)"
        return (
            f"crop {self.crop or 'none'}, GT depth ({self.min_depth:g}, {self.max_depth:g}) m, "
            f"{scaling}, "
            f"{'flip post-processing' if self.post_process else 'no post-processing'}"
        )


def _as_map(x: np.ndarray | torch.Tensor, what: str) -> np.ndarray:
    """``[H,W]``, ``[1,H,W]`` or ``[1,1,H,W]`` (any dtype and device) → float64 ``[H,W]``."""
    arr = to_numpy(x)
    while arr.ndim > 2 and arr.shape[0] == 1:
        arr = arr[0]
    if arr.ndim != 2 or arr.size == 0:
        raise ValueError(f"{what} must be a single [H,W] map, got shape {tuple(np.shape(x))}")
    return arr.astype(np.float64)


def crop_mask(height: int, width: int, crop: str | None) -> np.ndarray:
    """``[H,W]`` bool mask of the evaluation crop (all True for ``None``)."""
    mask = np.zeros((height, width), dtype=bool)
    if crop is None:
        mask[:] = True
        return mask
    if crop not in CROPS:
        raise ValueError(f"unknown crop {crop!r}; expected one of {sorted(CROPS)} or None")
    top, bottom, left, right = CROPS[crop]
    box = np.array([top * height, bottom * height, left * width, right * width]).astype(np.int32)
    mask[box[0] : box[1], box[2] : box[3]] = True
    return mask


def check_prediction_shape(pred_shape: Sequence[int], gt_shape: Sequence[int]) -> None:
    """Raise ``ValueError`` if a ``[h,w]`` prediction cannot be resized onto a ``[H,W]`` GT."""
    (h, w), (H, W) = pred_shape[-2:], gt_shape[-2:]
    if aspect_change((w, h), (W, H)) > ASPECT_TOLERANCE:
        raise ValueError(
            f"prediction is {w}x{h} (aspect {w / h:.2f}) but the ground truth is {W}x{H} "
            f"(aspect {W / H:.2f}): not the same view"
        )


def resize_prediction(pred: np.ndarray, shape: tuple[int, int]) -> np.ndarray:
    """Resize a ``[h,w]`` depth map to ``shape=(H,W)`` bilinearly in inverse depth."""
    if pred.shape == tuple(shape):
        return pred
    check_prediction_shape(pred.shape, shape)
    inv = np.where(pred > 0, 1.0 / np.where(pred > 0, pred, 1.0), 0.0)
    inv_t = torch.from_numpy(inv)[None, None]
    inv_r = F.interpolate(inv_t, size=tuple(shape), mode="bilinear", align_corners=False)[0, 0]
    inv_r = inv_r.numpy()
    return np.where(inv_r > 0, 1.0 / np.where(inv_r > 0, inv_r, 1.0), np.inf)


def compute_errors(gt: np.ndarray, pred: np.ndarray) -> dict[str, float]:
    """The seven standard metrics of matched 1-D arrays of valid GT and (scaled, clamped) pred."""
    thresh = np.maximum(gt / pred, pred / gt)
    diff = gt - pred
    return {
        "abs_rel": float(np.mean(np.abs(diff) / gt)),
        "sq_rel": float(np.mean(diff**2 / gt)),
        "rmse": float(np.sqrt(np.mean(diff**2))),
        "rmse_log": float(np.sqrt(np.mean((np.log(gt) - np.log(pred)) ** 2))),
        "a1": float(np.mean(thresh < 1.25)),
        "a2": float(np.mean(thresh < 1.25**2)),
        "a3": float(np.mean(thresh < 1.25**3)),
    }


def _prepare(
    pred: np.ndarray | torch.Tensor,
    gt: np.ndarray | torch.Tensor,
    crop: str | None,
    min_depth: float,
    max_depth: float,
    median_scaling: bool,
    scale: float | None = None,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, float]:
    """Scaled+clamped prediction, GT, valid mask (all ``[H,W]``) and the scale ratio."""
    gt_map = _as_map(gt, "ground truth")
    pred_map = _as_map(pred, "prediction")
    if np.isnan(pred_map).any():
        raise ValueError("prediction contains NaN")
    pred_map = resize_prediction(pred_map, gt_map.shape)
    valid = (gt_map > min_depth) & (gt_map < max_depth) & crop_mask(*gt_map.shape, crop)
    if not valid.any():
        raise ValueError("no valid ground-truth pixel inside the crop and depth range")
    med_pred = float(np.median(pred_map[valid]))
    ratio = float(np.median(gt_map[valid]) / med_pred) if 0 < med_pred < np.inf else float("nan")
    if median_scaling:
        if not np.isfinite(ratio):
            raise ValueError(f"cannot median-scale a prediction whose median is {med_pred}")
        pred_map = pred_map * ratio
    elif scale is not None:
        pred_map = pred_map * scale
    pred_map = np.clip(pred_map, min_depth, max_depth)
    return pred_map, gt_map, valid, ratio


def depth_metrics(
    pred: np.ndarray | torch.Tensor,
    gt: np.ndarray | torch.Tensor,
    *,
    crop: str | None = "garg",
    min_depth: float = 1e-3,
    max_depth: float = 80.0,
    median_scaling: bool = True,
    scale: float | None = None,
) -> dict[str, float]:
    """Standard depth metrics of one image.

    Args:
        pred: predicted depth ``[h,w]`` (or ``[1,h,w]``/``[1,1,h,w]``), metres or up to scale.
        gt: ground-truth depth ``[H,W]``, 0 (or anything outside the range) = no value.
        scale: without median scaling, multiply the prediction by this (e.g. a ground-plane
            scale) before clamping; ``scale_ratio`` is still the ratio before it.

    Returns:
        ``abs_rel, sq_rel, rmse, rmse_log, a1, a2, a3``, ``scale_ratio`` (median(gt)/median(pred)
        before scaling, reported whether applied or not) and ``valid_pixels``.

    Raises:
        ValueError: the shapes cannot match or no GT pixel is valid.
    """
    pred_map, gt_map, valid, ratio = _prepare(pred, gt, crop, min_depth, max_depth, median_scaling,
                                              scale)
    out = compute_errors(gt_map[valid], pred_map[valid])
    out["scale_ratio"] = ratio
    out["valid_pixels"] = int(valid.sum())
    return out


def _nearest_index(size_out: int, size_in: int) -> np.ndarray:
    """Source index of each output pixel centre for a nearest-neighbour resize."""
    idx = ((np.arange(size_out) + 0.5) * size_in / size_out).astype(np.int64)
    return np.minimum(idx, size_in - 1)


def depth_metrics_by_class(
    pred: np.ndarray | torch.Tensor,
    gt: np.ndarray | torch.Tensor,
    labels: np.ndarray | torch.Tensor,
    *,
    crop: str | None = "garg",
    min_depth: float = 1e-3,
    max_depth: float = 80.0,
    median_scaling: bool = True,
    scale: float | None = None,
) -> dict[int, dict[str, float]]:
    """Metrics of one image restricted to each semantic class present among the valid pixels.

    The scale ratio is the whole image's (so a class's figures show its own error, not a
    re-scaled one; ``scale`` as in :func:`depth_metrics`). ``labels`` ``[h,w]`` int class ids are
    resized to the GT's resolution by nearest neighbour (pixel centres, ``align_corners=False``
    convention).
    """
    pred_map, gt_map, valid, _ = _prepare(pred, gt, crop, min_depth, max_depth, median_scaling,
                                          scale)
    lab = _as_map(labels, "labels").astype(np.int64)
    if lab.shape != gt_map.shape:
        check_prediction_shape(lab.shape, gt_map.shape)
        rows = _nearest_index(gt_map.shape[0], lab.shape[0])
        cols = _nearest_index(gt_map.shape[1], lab.shape[1])
        lab = lab[rows][:, cols]
    out: dict[int, dict[str, float]] = {}
    for cls in np.unique(lab[valid]):
        sel = valid & (lab == cls)
        metrics = compute_errors(gt_map[sel], pred_map[sel])
        metrics["valid_pixels"] = int(sel.sum())
        out[int(cls)] = metrics
    return out


def aggregate_metrics(per_image: Sequence[Mapping[str, float]]) -> dict[str, float]:
    """Dataset figures: the mean of each per-image metric (the standard), plus

    ``num_images``, ``valid_pixels`` (sum) and, when the entries carry ``scale_ratio``, the
    ``ratio_median``, ``ratio_std`` and ``ratio_rel_std = std(ratio / median)`` (the figure
    monodepth2 prints) of the per-image median-scaling ratios.
    """
    if not per_image:
        raise ValueError("no image to aggregate")
    out: dict[str, float] = {
        name: float(np.mean([m[name] for m in per_image])) for name in METRIC_NAMES
    }
    out["num_images"] = len(per_image)
    out["valid_pixels"] = int(sum(int(m.get("valid_pixels", 0)) for m in per_image))
    ratios = np.array([m["scale_ratio"] for m in per_image if "scale_ratio" in m], np.float64)
    ratios = ratios[np.isfinite(ratios)]
    if ratios.size:
        med = float(np.median(ratios))
        out["ratio_median"] = med
        out["ratio_std"] = float(np.std(ratios))
        out["ratio_rel_std"] = float(np.std(ratios / med))
    return out
