"""Draw ``docs/embedded_world.png``: frames of the synthetic world with their depth and classes.

Usage: ``python bench/figures/embedded_world.py [--out docs/embedded_world.png]``. Each row is one
street (seed): the rendered RGB, the exact depth (inverse-depth colour map, black = sky/no depth)
and the semantic classes; the last rows show moving traffic and the low-light mode.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np
from matplotlib.patches import Patch

from packdepth.data.synthetic import (
    CLASS_COLOURS,
    CLASSES,
    SynthParams,
    render_frame,
    sequence_world,
)

ROWS = (  # seed, frame, dynamic, low light, label
    (0, 30, False, False, "seed 0"),
    (4, 20, False, False, "seed 4, road curving right"),
    (5, 40, True, False, "seed 5, --dynamic (orange: moving)"),
    (1, 45, True, True, "seed 1, --dynamic --low-light"),
)


def depth_colours(depth: np.ndarray) -> np.ndarray:
    """``[H,W,3]`` float: magma of inverse depth (3 m bright .. 80 m dark), black where 0."""
    inverse = np.where(depth > 0, 1.0 / np.maximum(depth, 1e-3), 0.0)
    scaled = np.clip((inverse - 1 / 80) / (1 / 3 - 1 / 80), 0, 1) ** 0.5
    rgb = plt.get_cmap("magma")(0.1 + 0.9 * scaled)[..., :3]
    rgb[depth == 0] = 0.0
    return rgb


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default="docs/embedded_world.png")
    parser.add_argument("--height", type=int, default=192)
    parser.add_argument("--width", type=int, default=640)
    args = parser.parse_args()
    palette = np.array(CLASS_COLOURS, np.uint8)
    fig, axes = plt.subplots(len(ROWS), 3, figsize=(3 * args.width / 100, len(ROWS) * 2.3),
                             gridspec_kw={"wspace": 0.02, "hspace": 0.16})
    for row, (seed, index, dynamic, low, label) in zip(axes, ROWS):
        params = SynthParams(height=args.height, width=args.width, frames=index + 1, seed=seed,
                             dynamic=dynamic, low_light=low)
        frame = render_frame(sequence_world(params), params, index)
        panels = (frame.rgb, depth_colours(frame.depth), palette[frame.semantic])
        titles = (f"{label}, frame {index}: RGB", "depth (exact, z)", "semantic classes")
        for ax, image, title in zip(row, panels, titles):
            ax.imshow(image, interpolation="nearest")
            ax.set_title(title, fontsize=11)
            ax.axis("off")
    handles = [Patch(color=np.array(c) / 255, label=n) for n, c in zip(CLASSES, CLASS_COLOURS)]
    fig.legend(handles=handles, loc="upper center", ncol=len(CLASSES), fontsize=11,
               frameon=False, bbox_to_anchor=(0.5, 0.085))
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(out, dpi=100, bbox_inches="tight", pad_inches=0.1)
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
