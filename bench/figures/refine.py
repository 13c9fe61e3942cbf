"""Draw ``docs/refine_kitti.png`` and ``docs/refine_synthetic.png``: ``packdepth refine`` at work.

Usage::

    python bench/figures/refine.py --model demo_out/model

Each picture runs the commands a user would: ``packdepth infer MODEL IMAGE --save npz``, then
``packdepth refine DEPTH.npz --image IMAGE`` (default CRF settings), and shows the image | the
predicted depth | the refined depth (both coloured by inverse depth over the same range) | where
the CRF changed it (``|Δ ln d|``, 0 to 0.2). The title gives abs_rel within 2 px of the ground
truth's depth edges and overall, before → after (:mod:`packdepth.evaluation.edges`, median
scaling). KITTI: frame ``--kitti-frame`` of ``../shared/data/kitti_tiny`` against its Velodyne
scan (Garg crop, 80 m); synthetic: a held-out street (seed 1000, 96x320) against exact depth.
"""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

import numpy as np
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from navmap import DRIVE, KITTI_CREDIT, save
from PIL import Image

from packdepth.cli import main as packdepth
from packdepth.data.images import read_image
from packdepth.data.synthetic import SynthParams, render_frame, sequence_world
from packdepth.evaluation.depth import load_gt_depth
from packdepth.evaluation.edges import edge_metrics
from packdepth.evaluation.metrics import DepthProtocol, depth_metrics
from packdepth.evaluation.splits import SplitEntry
from packdepth.inference.outputs import read_result
from packdepth.io.viz import colorize_depth
from packdepth.training.synthetic_recipe import HELDOUT_SEED, SYNTHETIC_PROTOCOL

KITTI = DepthProtocol(crop="garg", min_depth=1e-3, max_depth=80.0, median_scaling=True)


def run_commands(model: Path, image: Path, work: Path) -> tuple[np.ndarray, np.ndarray]:
    """The depth of ``packdepth infer`` and of ``packdepth refine`` on it (``[H,W]`` each)."""
    for argv in (["infer", str(model), str(image), "--out", str(work / "pred"), "--save", "npz"],
                 ["refine", str(work / "pred" / f"{image.stem}.npz"), "--image", str(image),
                  "--out", str(work / "crf"), "--save", "npz"]):
        if packdepth(argv) != 0:
            raise SystemExit(f"packdepth {' '.join(argv)} failed")
    return (read_result(work / "pred" / f"{image.stem}.npz").depth,
            read_result(work / "crf" / f"{image.stem}.npz").depth)


def scores(depth: np.ndarray, gt: np.ndarray, protocol: DepthProtocol, radius: int) -> tuple:
    edge = edge_metrics(depth, gt, protocol, radius=radius)["edge"]["abs_rel"]
    return edge, depth_metrics(depth, gt, **protocol.metric_kwargs())["abs_rel"]


def picture(image: Path, model: Path, gt: np.ndarray, protocol: DepthProtocol, radius: int,
            title: str, credit: str | None = None, width_in: float = 10.0) -> np.ndarray:
    """The 2x2 picture of one frame (module docstring), ``[h,w,3]`` uint8."""
    with tempfile.TemporaryDirectory() as tmp:
        pred, refined = run_commands(model, image, Path(tmp))
    rgb = read_image(image, np.uint8)
    (edge0, all0), (edge1, all1) = (scores(d, gt, protocol, radius) for d in (pred, refined))
    valid = pred > 0
    inv_range = (0.0, float(np.percentile(1.0 / pred[valid], 95)))
    change = np.abs(np.log(refined / np.where(valid, pred, refined)))
    print(f"{title}: edge abs_rel {edge0:.4f} -> {edge1:.4f}, abs_rel {all0:.4f} -> {all1:.4f}, "
          f"{np.mean(change > 0.01):.1%} of pixels changed by > 1 %")
    h, w = rgb.shape[:2]
    height_in = width_in * h / w + 1.0  # two panel rows of half the width, titles, credit
    fig = Figure(figsize=(width_in, height_in), dpi=100)
    FigureCanvasAgg(fig)
    grid = fig.add_gridspec(2, 2, left=0.01, right=0.99, top=1 - 0.6 / height_in,
                            bottom=(0.25 if credit else 0.05) / height_in, wspace=0.02,
                            hspace=0.2)
    panels = [(rgb, "image"), (colorize_depth(pred, inv_range=inv_range), "predicted depth"),
              (colorize_depth(refined, inv_range=inv_range), "after packdepth refine (CRF)"),
              (np.clip(change / 0.2, 0, 1), "change |Δ ln d| (black 0, white ≥ 0.2)")]
    for i, (array, name) in enumerate(panels):
        ax = fig.add_subplot(grid[i // 2, i % 2])
        ax.imshow(array, cmap="gray", vmin=0, vmax=1, interpolation="nearest")
        ax.set_title(name, fontsize=8, pad=2)
        ax.set_axis_off()
    fig.suptitle(f"{title}\nabs_rel within 2 px of depth edges {edge0:.3f} → {edge1:.3f}, "
                 f"overall {all0:.3f} → {all1:.3f} (median scaling)", fontsize=8, x=0.01,
                 ha="left", y=1 - 0.05 / height_in, va="top")
    if credit:
        fig.text(0.01, 0.06 / height_in, credit, fontsize=7, color="#444")
    fig.canvas.draw()
    return np.asarray(fig.canvas.buffer_rgba())[..., :3].copy()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--model", type=Path, required=True)
    ap.add_argument("--label", default="demo model", help="the model's name in the titles")
    ap.add_argument("--kitti", type=Path, default=Path("../shared/data/kitti_tiny"))
    ap.add_argument("--kitti-frame", type=int, default=20, help="one with a scan: 0, 4, ... 36")
    ap.add_argument("--synthetic-frame", type=int, default=30)
    ap.add_argument("--out-dir", type=Path, default=Path("docs"))
    args = ap.parse_args()

    entry = SplitEntry(DRIVE, args.kitti_frame)
    scan, _ = load_gt_depth(args.kitti, entry)
    save(args.out_dir / "refine_kitti.png", [picture(
        entry.image_file(args.kitti), args.model, scan, KITTI, 2,
        f"kitti_tiny {args.kitti_frame:010d}, {args.label}, scored on the Velodyne scan",
        KITTI_CREDIT)])

    params = SynthParams(height=96, width=320, frames=50, seed=HELDOUT_SEED)
    frame = render_frame(sequence_world(params, 0), params, args.synthetic_frame)
    with tempfile.TemporaryDirectory() as tmp:
        image = Path(tmp) / f"street_{args.synthetic_frame:04d}.png"
        Image.fromarray(frame.rgb).save(image)
        save(args.out_dir / "refine_synthetic.png", [picture(
            image, args.model, frame.depth, SYNTHETIC_PROTOCOL, 1,
            f"held-out street, frame {args.synthetic_frame}, {args.label}, scored on exact "
            "depth", width_in=7.0)])


if __name__ == "__main__":
    main()
