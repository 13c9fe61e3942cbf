"""Real-data benchmark: `packdepth fit` on the 40 KITTI frames of ../shared/data/kitti_tiny.

    .venv/bin/python bench/fit_kitti.py --minutes 15          # from the shipped model
    .venv/bin/python bench/fit_kitti.py --init none --minutes 15  # from scratch

Scores, on the 10 frames with Velodyne scans (KITTI protocol: Garg crop, 80 m cap, per-image
median scaling), the constant-depth baseline, the initial model before fitting (zero-shot) and
the fitted model, over the whole drive and over each 10-frame window (frames 0-9, 10-19, ...);
prints markdown tables and writes OUT/results.json (the fit's outputs: OUT/fit, replaced by the
next run). ``--figure`` draws input | initial | fitted | Velodyne for ``--figure-frame``.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np
from figures.benchmark_depth import shrink
from record import save_result

from packdepth.data.kitti.splits import SplitEntry
from packdepth.evaluation.metrics import METRIC_NAMES, DepthProtocol
from packdepth.evaluation.report import evaluate_depth, model_predictor
from packdepth.evaluation.tables import markdown_table
from packdepth.io.checkpoints import load_model, model_file
from packdepth.training.fit import fit, init_model
from packdepth.training.synthetic_recipe import ConstantDepth, example_rows
from packdepth.weights import SHIPPED_MODEL

DRIVE = "2011_09_26/2011_09_26_drive_9999_sync"
KITTI = DepthProtocol(crop="garg", min_depth=1e-3, max_depth=80.0, median_scaling=True)
FRAMES = 40  # kitti_tiny's frames; every 4th has a Velodyne scan
WINDOW = 10  # frames per window of the per-window scores


def frame_scores(per_image: list[dict]) -> dict[int, float]:
    """abs_rel of each scored frame, by frame number."""
    return {int(row["name"].rsplit("/", 1)[-1]): row["abs_rel"] for row in per_image}


def window_means(frames: dict[int, float], starts) -> dict[str, float]:
    """Mean abs_rel of the scored frames in each window of :data:`WINDOW` frames from
    ``starts``, keyed ``"a-b"`` (windows without a scored frame are left out)."""
    out = {}
    for start in starts:
        inside = [v for f, v in frames.items() if start <= f < start + WINDOW]
        if inside:
            out[f"{start}-{start + WINDOW - 1}"] = sum(inside) / len(inside)
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", type=Path, default=Path("../shared/data/kitti_tiny"))
    ap.add_argument("--init", default=SHIPPED_MODEL, help="model folder to start from "
                    "(default: shipped, the model inside packdepth; none: from scratch)")
    ap.add_argument("--minutes", type=float, default=15.0)
    ap.add_argument("--height", type=int, default=96)
    ap.add_argument("--width", type=int, default=320)
    ap.add_argument("--out", type=Path, default=Path("bench/results/fit_kitti"))
    ap.add_argument("--set", dest="overrides", action="append", default=[], metavar="KEY=VALUE")
    ap.add_argument("--figure", type=Path, help="draw input | initial | fitted | Velodyne here")
    ap.add_argument("--figure-frame", type=int, default=0, help="the frame of --figure")
    args = ap.parse_args()
    size = (args.height, args.width)
    init = init_model(args.init)  # None: from scratch
    entries = [SplitEntry(DRIVE, i) for i in range(0, FRAMES, 4)]  # the frames with scans

    frames: dict[str, dict[int, float]] = {}

    def score(name: str, model) -> None:
        report = evaluate_depth(args.data, entries, model_predictor(model, args.data, size=size),
                                KITTI, per_class=False)
        rows[name], frames[name] = report["metrics"], frame_scores(report["per_image"])

    rows: dict[str, dict] = {}
    score("constant depth", ConstantDepth())
    initial = load_model(model_file(init), kind="depth") if init else None
    if initial is not None:
        score("initial model (zero-shot)", initial)
    start = time.time()
    result = fit(args.data, args.out / "fit", minutes=args.minutes, size=size, init=init,
                 overwrite=True, overrides=["trainer.progress_bar=false", *args.overrides])
    minutes = (time.time() - start) / 60
    fitted = load_model(model_file(result.model_dir), kind="depth")
    score(f"fitted {args.minutes:g} min ({result.steps} steps)", fitted)
    print(f"\nkitti_tiny, {len(entries)} Velodyne frames, {KITTI.describe()}, input "
          f"{args.height}x{args.width}, init {init or 'none (from scratch)'}, "
          f"fit wall time {minutes:.1f} min\n")
    print(markdown_table(rows))
    print(f"\nabs_rel per {WINDOW}-frame window:\n")
    windows = {name: window_means(f, range(0, FRAMES, WINDOW)) for name, f in frames.items()}
    sliding = {name: window_means(f, range(0, FRAMES - WINDOW + 1)) for name, f in frames.items()}
    worst = {name: max(w[k] - sliding["constant depth"][k] for k in w)
             for name, w in sliding.items() if name != "constant depth"}
    names = list(windows["constant depth"])
    print(markdown_table(windows, columns=names, headers=[f"frames {n}" for n in names]))
    print("\nworst sliding 10-frame window, abs_rel minus the constant's: "
          + ", ".join(f"{name} {value:+.3f}" for name, value in worst.items()))
    if args.figure:
        pairs = [(initial, "before: initial model (zero-shot)"),
                 (fitted, f"after: fitted {args.minutes:g} min")]
        draw(args, [m for m, _ in pairs if m is not None],
             [label for m, label in pairs if m is not None], size)
    save_result(
        args.out / "results.json",
        title=f"Fitting to a real video: {args.minutes:g} CPU minutes of `packdepth fit` on "
              "kitti_tiny",
        protocol=f"kitti_tiny ({FRAMES} KITTI raw frames of a slowing traffic jam), scored on its "
                 f"{len(entries)} frames with Velodyne scans: {KITTI.describe()}; input "
                 f"{args.height}x{args.width}; initial model {init or 'none'}",
        columns=["prediction", *METRIC_NAMES[:5]],
        rows=[[name, *(m[k] for k in METRIC_NAMES[:5])] for name, m in rows.items()],
        notes=["worst sliding 10-frame window (abs_rel minus the constant's): " + ", ".join(
            f"{name} {value:+.3f}" for name, value in worst.items())],
        data={"rows": rows, "windows": windows, "worst_window": worst, "init": init,
              "minutes": minutes, "steps": result.steps, "protocol": KITTI.describe()},
    )


def draw(args, models: list, labels: list[str], size: tuple[int, int]) -> None:
    """input | each model's depth | Velodyne depth of ``--figure-frame``, 400 px per tile, a
    label over each, saved as ``--figure``; the sparse scan is dilated to be seen."""
    from PIL import Image, ImageDraw, ImageFilter

    tiles = example_rows(models, args.data, [SplitEntry(DRIVE, args.figure_frame)], size)[0]
    shown = []
    for index, tile in enumerate(tiles):
        if index == len(tiles) - 1:
            tile = np.asarray(Image.fromarray(tile).filter(ImageFilter.MaxFilter(5)))
        image = shrink(tile, 400)
        strip = Image.new("RGB", (400, 14), "white")
        label = ["input", *labels, "Velodyne (dilated)"][index]
        ImageDraw.Draw(strip).text((2, 1), label, fill=(60, 60, 60))
        shown.append(np.concatenate([np.asarray(strip), np.asarray(image)], axis=0))
    picture = Image.fromarray(np.concatenate(shown, axis=1))
    args.figure.parent.mkdir(parents=True, exist_ok=True)
    picture.quantize(256).save(args.figure, optimize=True)
    print(f"wrote {args.figure}")


if __name__ == "__main__":
    main()
