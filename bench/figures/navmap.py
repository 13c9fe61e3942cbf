"""Draw ``docs/navmap_kitti.png`` and ``docs/navmap_synthetic.png``: ``packdepth navmap`` maps.

Usage::

    python bench/figures/navmap.py --model demo_out/model [--kitti-model fitted/run/model]

KITTI: frame ``--kitti-frame`` of ``../shared/data/kitti_tiny`` (intrinsics from its
calibration), one row from the model's depth scaled by the camera height (1.65 m) and one from
the frame's Velodyne scan (sparse, metric: the reference). Synthetic: a held-out street
(seed 1000, 96x320), one row from the renderer's exact depth and one from the model scaled by the
camera height. Each row: the image with obstacle pixels tinted and the route projected into it |
the bird's-eye grid (free light, unknown grey, occupied black, robot radius pink) with the route.
PNGs are stored with a 128-colour palette (small files).
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
from PIL import Image

from packdepth.apps.depth_frames import DepthFrame
from packdepth.apps.navmap_run import NavRunOptions, map_frame
from packdepth.data.kitti import load_calibration
from packdepth.data.synthetic import SynthParams, kitti_intrinsics, render_frame, sequence_world
from packdepth.evaluation.depth import load_gt_depth, load_image
from packdepth.evaluation.splits import SplitEntry
from packdepth.inference import load, predict
from packdepth.io.atomic import atomic_path
from packdepth.io.viz import to_uint8_image
from packdepth.training.synthetic_recipe import HELDOUT_SEED

DRIVE = "2011_09_26/2011_09_26_drive_9999_sync"
KITTI_CREDIT = "KITTI, CC BY-NC-SA 3.0 (Geiger et al., IJRR 2013)"
OPTIONS = NavRunOptions(camera_height=1.65)


def picture(image: np.ndarray, depth: np.ndarray, K: np.ndarray, metric: bool, label: str,
            credit: str | None = None) -> np.ndarray:
    frame = DepthFrame(Path(label), "image", label, label, depth, metric, K, image)
    result = map_frame(frame, OPTIONS)
    if result.problem:
        print(f"{label}: {result.problem}")
    else:
        print(f"{label}: route {result.route.length:.1f} m, cells {result.nav.counts()}")
    return result.picture(NavRunOptions(camera_height=1.65, credit=credit))


def save(path: Path, rows: list[np.ndarray]) -> None:
    width = max(r.shape[1] for r in rows)
    rows = [np.pad(r, ((0, 0), (0, width - r.shape[1]), (0, 0)), constant_values=255)
            for r in rows]
    img = Image.fromarray(np.concatenate(rows, 0)).quantize(128, method=Image.Quantize.MEDIANCUT)
    with atomic_path(path) as tmp:
        img.save(tmp, format="PNG", optimize=True)
    print(f"wrote {path} ({path.stat().st_size / 1024:.0f} KB)")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--model", type=Path, required=True, help="model for the synthetic street")
    ap.add_argument("--kitti-model", type=Path, default=None, help="model for KITTI "
                    "(default: --model)")
    ap.add_argument("--label", default="demo model", help="the model's name in the titles")
    ap.add_argument("--kitti-label", default=None, help="the KITTI model's name (default: "
                    "--label)")
    ap.add_argument("--kitti", type=Path, default=Path("../shared/data/kitti_tiny"))
    ap.add_argument("--kitti-frame", type=int, default=0)
    ap.add_argument("--synthetic-frame", type=int, default=20)
    ap.add_argument("--out-dir", type=Path, default=Path("docs"))
    args = ap.parse_args()

    model = load(args.model, device="cpu")
    kitti_model = load(args.kitti_model, device="cpu") if args.kitti_model else model
    calib = load_calibration(args.kitti / DRIVE.split("/")[0], 2)
    image_path = args.kitti / DRIVE / "image_02" / "data" / f"{args.kitti_frame:010d}.png"
    image = to_uint8_image(load_image(image_path).numpy())
    depth = predict(kitti_model, image, K=calib.K)
    label = (f"kitti_tiny {args.kitti_frame:010d}, {args.kitti_label or args.label}, "
             "camera height 1.65 m")
    entry = SplitEntry(DRIVE, args.kitti_frame)
    scan, _ = load_gt_depth(args.kitti, entry)
    save(args.out_dir / "navmap_kitti.png", [
        picture(image, depth.depth, calib.K, depth.metric, label),
        picture(image, scan, calib.K, True, f"kitti_tiny {args.kitti_frame:010d}, Velodyne "
                "scan (sparse, metric reference)", KITTI_CREDIT),
    ])

    params = SynthParams(height=96, width=320, frames=50, seed=HELDOUT_SEED)
    frame = render_frame(sequence_world(params, 0), params, args.synthetic_frame)
    K = kitti_intrinsics(96, 320)
    pred = predict(model, frame.rgb, K=K)
    name = f"held-out street, frame {args.synthetic_frame}"
    save(args.out_dir / "navmap_synthetic.png", [
        picture(frame.rgb, frame.depth, K, True, f"{name}, exact depth"),
        picture(frame.rgb, pred.depth, K, pred.metric, f"{name}, {args.label}, camera height "
                "1.65 m"),
    ])


if __name__ == "__main__":
    main()
