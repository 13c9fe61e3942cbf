"""Evaluation with the field's standard protocols.

* Depth (:mod:`~packdepth.evaluation.metrics`): KITTI Eigen protocol — Garg/Eigen crop,
  ``1e-3 < gt < 80`` m, per-image median scaling, clamping, mean of per-image metrics.
* Inputs (:mod:`~packdepth.evaluation.depth`, :mod:`~packdepth.evaluation.splits`): ground truth
  from annotated/synthetic PNGs or Velodyne scans, split files, saved predictions, model inference
  with flip post-processing.
* Reports (:mod:`~packdepth.evaluation.report`): a split's metrics with the protocol stated.
* Pose (:mod:`~packdepth.evaluation.pose`): ATE on 5-frame snippets with scale alignment
  (pose files: :mod:`packdepth.io.trajectory`).
"""

from __future__ import annotations

from packdepth.evaluation.depth import (
    flip_post_process,
    load_gt_depth,
    predict_depth,
    read_prediction,
)
from packdepth.evaluation.metrics import (
    DepthProtocol,
    aggregate_metrics,
    crop_mask,
    depth_metrics,
    depth_metrics_by_class,
)
from packdepth.evaluation.pose import AteResult, trajectory_ate
from packdepth.evaluation.report import evaluate_depth, format_report
from packdepth.evaluation.splits import SplitEntry, read_split

__all__ = [
    "AteResult",
    "DepthProtocol",
    "SplitEntry",
    "aggregate_metrics",
    "crop_mask",
    "depth_metrics",
    "depth_metrics_by_class",
    "evaluate_depth",
    "flip_post_process",
    "format_report",
    "load_gt_depth",
    "predict_depth",
    "read_prediction",
    "read_split",
    "trajectory_ate",
]
