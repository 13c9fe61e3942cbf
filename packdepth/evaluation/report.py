"""Evaluate a split: per-image metrics → the dataset report (JSON-ready) and its printed table."""

from __future__ import annotations

import os
from collections import Counter
from collections.abc import Callable, Sequence

import numpy as np
import torch

from packdepth.errors import PackdepthError
from packdepth.evaluation.depth import load_gt_depth, load_image, load_semantic, predict_depth
from packdepth.evaluation.metrics import (
    CROPS,
    METRIC_NAMES,
    DepthProtocol,
    aggregate_metrics,
    depth_metrics,
    depth_metrics_by_class,
    format_table,
)
from packdepth.evaluation.splits import SplitEntry

#: ``predict(entry, index) -> (depth [H,W] or [1,1,H,W], label)``; the label (usually a file
#: path) names the prediction in error messages.
Predictor = Callable[[SplitEntry, int], tuple["np.ndarray | torch.Tensor", str]]

RESIZE_RULE = "prediction resized to GT resolution, bilinear in inverse depth, align_corners=False"


def model_predictor(
    model: torch.nn.Module,
    root: str | os.PathLike,
    *,
    size: tuple[int, int] | None,
    post_process: bool = False,
) -> Predictor:
    """A :data:`Predictor` running a depth network (in eval mode) on each split entry's image."""
    model.eval()

    def predict(entry: SplitEntry, index: int):
        path = entry.image_file(root)
        depth = predict_depth(model, load_image(path)[None], size=size, post_process=post_process)
        return depth[0, 0], str(path)

    return predict


def evaluate_depth(
    root: str | os.PathLike,
    entries: Sequence[SplitEntry],
    predict: Predictor,
    protocol: DepthProtocol,
    *,
    per_class: bool = True,
    progress: Callable[[int, int], None] | None = None,
) -> dict:
    """Score predictions for every split entry against its ground truth.

    Returns:
        ``{"protocol": {...}, "metrics": {...}, "per_class": {...}, "per_image": [...]}``:
        ``metrics`` is :func:`aggregate_metrics` of the per-image metrics; ``protocol`` states the
        crop (name and box), depth range, median scaling, post-processing, resizing rule, number of
        images, valid pixels and GT sources; ``per_class`` (when the data has semantic labels)
        maps a class name to the mean metrics over images that contain it, computed with each
        image's own scale ratio.
    """
    if not entries:
        raise PackdepthError("the split lists no frames")
    per_image: list[dict] = []
    class_rows: dict[str, list[dict]] = {}
    sources: Counter[str] = Counter()
    for index, entry in enumerate(entries):
        gt, source = load_gt_depth(root, entry)
        pred, label = predict(entry, index)
        try:
            metrics = depth_metrics(pred, gt, **protocol.metric_kwargs())
            semantic = load_semantic(root, entry) if per_class else None
            if semantic is not None:
                labels, names = semantic
                by_class = depth_metrics_by_class(pred, gt, labels, **protocol.metric_kwargs())
                for cls, row in by_class.items():
                    class_rows.setdefault(names.get(cls, f"class_{cls}"), []).append(row)
        except ValueError as exc:
            raise PackdepthError(f"{label}: {exc} ({entry.name})") from None
        sources[source] += 1
        per_image.append({"name": entry.name, "gt": source, **metrics})
        if progress is not None:
            progress(index + 1, len(entries))
    metrics = aggregate_metrics(per_image)
    report_protocol = {
        **protocol.as_dict(),
        "crop_box": list(CROPS[protocol.crop]) if protocol.crop else None,
        "valid_gt": f"{protocol.min_depth:g} < gt < {protocol.max_depth:g}",
        "resize": RESIZE_RULE,
        "num_images": metrics["num_images"],
        "valid_pixels": metrics["valid_pixels"],
        "gt_sources": dict(sources),
    }
    return {
        "protocol": report_protocol,
        "metrics": {k: v for k, v in metrics.items() if k not in ("num_images", "valid_pixels")},
        "per_class": {name: aggregate_metrics(rows) for name, rows in sorted(class_rows.items())},
        "per_image": per_image,
    }


def protocol_line(report: dict) -> str:
    """The one-line protocol statement printed above the table."""
    p = report["protocol"]
    gt = ", ".join(f"{n} {k}" for k, n in sorted(p["gt_sources"].items()))
    proto = DepthProtocol(
        p["crop"], p["min_depth"], p["max_depth"], p["median_scaling"], p["post_process"]
    )
    return (
        f"{proto.describe()}, {p['num_images']} images ({gt} GT), {p['valid_pixels']} valid pixels"
    )


def format_report(report: dict) -> str:
    """The table of a report from :func:`evaluate_depth`, with the protocol line and classes."""
    text = format_table(report["metrics"], protocol_line(report))
    if report["per_class"]:
        width = max(len(name) for name in report["per_class"])
        lines = ["per class (image's scale ratio):"]
        lines.append(" " * width + "   images " + " | ".join(f"{n:>8}" for n in METRIC_NAMES))
        for name, m in report["per_class"].items():
            values = " | ".join(f"{m[n]:8.4f}" for n in METRIC_NAMES)
            lines.append(f"{name:>{width}} {m['num_images']:8d} {values}")
        text += "\n" + "\n".join(lines)
    return text
