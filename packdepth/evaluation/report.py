"""Evaluate a split: per-image metrics → the dataset report (JSON-ready) and its printed table."""

from __future__ import annotations

import os
from collections import Counter
from collections.abc import Callable, Sequence

import numpy as np
import torch

from packdepth.arrays import to_numpy
from packdepth.data.kitti.splits import SplitEntry
from packdepth.errors import PackdepthError
from packdepth.evaluation.depth import load_gt_depth, load_image, load_semantic, predict_depth
from packdepth.evaluation.metrics import (
    CROPS,
    METRIC_NAMES,
    DepthProtocol,
    aggregate_metrics,
    depth_metrics,
    depth_metrics_by_class,
)
from packdepth.evaluation.tables import format_table
from packdepth.text import plural

#: ``predict(entry, index) -> (depth [H,W] or [1,1,H,W], label)``; the label (usually a file
#: path) names the prediction in error messages.
Predictor = Callable[[SplitEntry, int], tuple["np.ndarray | torch.Tensor", str]]
#: ``scaler(entry, depth [H,W]) -> factor or None``: the scale of a prediction found without the
#: GT (ground-plane scaling, ``packdepth.apps.metric_scale.GroundScaler``); ``None``: none.
Scaler = Callable[[SplitEntry, np.ndarray], "float | None"]

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
    scaler: Scaler | None = None,
) -> dict:
    """Score predictions for every split entry against its ground truth.

    With ground-plane scaling (``protocol.camera_height``), ``scaler`` gives each prediction's
    factor; a frame where it finds none (no ground plane) is scored **unscaled**, as
    ``packdepth infer --camera-height`` leaves it, and counted (``protocol.unscaled_frames``).
    ``metrics`` then also holds ``ground_ratio_median`` / ``ground_ratio_rel_std``: the spread of
    ``median(gt) / median(scaled prediction)`` over the frames that were scaled.

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
    if (protocol.scaling == "ground") != (scaler is not None):
        raise ValueError("ground-plane scaling needs a scaler, and a scaler needs it")
    per_image: list[dict] = []
    class_rows: dict[str, list[dict]] = {}
    sources: Counter[str] = Counter()
    for index, entry in enumerate(entries):
        gt, source = load_gt_depth(root, entry)
        pred, label = predict(entry, index)
        kwargs = protocol.metric_kwargs()
        if scaler is not None:
            kwargs["scale"] = scaler(entry, np.squeeze(to_numpy(pred, np.float64)))
        try:
            metrics = depth_metrics(pred, gt, **kwargs)
            semantic = load_semantic(root, entry) if per_class else None
            if semantic is not None:
                labels, names = semantic
                by_class = depth_metrics_by_class(pred, gt, labels, **kwargs)
                for cls, row in by_class.items():
                    class_rows.setdefault(names.get(cls, f"class_{cls}"), []).append(row)
        except ValueError as exc:
            raise PackdepthError(f"{label}: {exc} ({entry.name})") from None
        sources[source] += 1
        if scaler is not None:
            metrics["ground_scale"] = kwargs["scale"]
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
    if scaler is not None:
        _ground_summary(per_image, metrics, report_protocol)
    return {
        "protocol": report_protocol,
        "metrics": {k: v for k, v in metrics.items() if k not in ("num_images", "valid_pixels")},
        "per_class": {name: aggregate_metrics(rows) for name, rows in sorted(class_rows.items())},
        "per_image": per_image,
    }


def _ground_summary(per_image: list[dict], metrics: dict, protocol: dict) -> None:
    """Count the unscaled frames; the spread of the ratios left after ground-plane scaling."""
    scaled = [m["scale_ratio"] / m["ground_scale"] for m in per_image
              if m["ground_scale"] is not None and np.isfinite(m["scale_ratio"])]
    protocol["unscaled_frames"] = sum(m["ground_scale"] is None for m in per_image)
    if scaled:
        med = float(np.median(scaled))
        metrics["ground_ratio_median"] = med
        metrics["ground_ratio_rel_std"] = float(np.std(np.array(scaled) / med))


def protocol_line(report: dict) -> str:
    """The one-line protocol statement printed above the table."""
    p = report["protocol"]
    gt = ", ".join(f"{n} {k}" for k, n in sorted(p["gt_sources"].items()))
    proto = DepthProtocol(
        p["crop"], p["min_depth"], p["max_depth"], p["median_scaling"], p["post_process"],
        p.get("camera_height"),
    )
    line = (f"{proto.describe()}, {plural(p['num_images'], 'image')} ({gt} GT), "
            f"{p['valid_pixels']} valid pixels")
    if p.get("unscaled_frames"):
        line += f"; no ground plane in {plural(p['unscaled_frames'], 'image')} (scored unscaled)"
    return line


def format_report(report: dict) -> str:
    """The table of a report from :func:`evaluate_depth`, with the protocol line and classes."""
    text = format_table(report["metrics"], protocol_line(report))
    m = report["metrics"]
    if "ground_ratio_median" in m:
        text += (f"\nafter ground-plane scaling, median(gt)/median(pred): median "
                 f"{m['ground_ratio_median']:.4g}, std/median {m['ground_ratio_rel_std']:.4g}")
    if report["per_class"]:
        width = max(len(name) for name in report["per_class"])
        lines = ["per class (image's scale ratio):"]
        lines.append(" " * width + "   images " + " | ".join(f"{n:>8}" for n in METRIC_NAMES))
        for name, m in report["per_class"].items():
            values = " | ".join(f"{m[n]:8.4f}" for n in METRIC_NAMES)
            lines.append(f"{name:>{width}} {m['num_images']:8d} {values}")
        text += "\n" + "\n".join(lines)
    return text
