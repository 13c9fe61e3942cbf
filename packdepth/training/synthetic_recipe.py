"""Train on the embedded synthetic world and score on held-out streets (demo and benchmark).

The training streets and the held-out streets come from different seeds, so the score measures
generalisation to streets the model never saw, against exact ground truth.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, replace
from pathlib import Path

import numpy as np
import torch

from packdepth.arrays import to_numpy
from packdepth.config import load_config, recipe
from packdepth.data.factory import build_dataset
from packdepth.data.kitti.splits import SplitEntry, read_split
from packdepth.data.synthetic import SynthParams, write_dataset
from packdepth.evaluation.metrics import METRIC_NAMES, DepthProtocol
from packdepth.evaluation.pose import frame_pair_errors
from packdepth.evaluation.report import evaluate_depth, model_predictor, protocol_line
from packdepth.evaluation.tables import markdown_table
from packdepth.io.checkpoints import DEPTH_FILE, check_model_files, load_model
from packdepth.training.config import TrainConfig
from packdepth.training.run import TrainResult, train

#: Seeds of the held-out streets: never used for training.
HELDOUT_SEED = 1000
#: The recipes of `packdepth demo` and the synthetic benchmark (``packdepth/configs/recipes/``,
#: chosen by bench/train_synthetic.py runs): more steps per CPU minute, then the ground-plane
#: warm-up and a faster pose net; ``velocity`` adds metric scale from the speedometer.
SYNTHETIC_RECIPES = ("fast_cpu", "from_scratch")
#: Synthetic depth is exact and complete: no crop, the usual 80 m cap.
SYNTHETIC_PROTOCOL = DepthProtocol(crop=None, min_depth=1e-3, max_depth=80.0, median_scaling=True)


def prepare_world(root: Path, params: SynthParams, sequences: int, progress=None) -> Path:
    """Render ``sequences`` drives into ``root`` unless an identical rendering is already there."""
    stamp = root / "synth.json"
    if stamp.is_file():
        recorded = json.loads(stamp.read_text())
        wanted = {**asdict(params), "sequences": sequences}
        if all(recorded.get(k) == v for k, v in wanted.items()):
            return root
    write_dataset(root, params, sequences=sequences, progress=progress)
    return root


def heldout_entries(root: Path, every: int = 1) -> list[SplitEntry]:
    """Every ``every``-th frame of the held-out world (all its frames have exact depth)."""
    return read_split(root / "splits" / "all_files.txt")[::every]


def synthetic_train_config(
    world: Path, out_dir: Path, height: int, width: int, overrides: list[str] = (),
    recipes: tuple[str, ...] = (),
) -> TrainConfig:
    """The synthetic-world training config on ``world``: the named ``recipes`` (the demo and the
    benchmark use :data:`SYNTHETIC_RECIPES`, which ``packdepth/configs/synthetic_cpu.yaml``
    includes), then the world's settings, then ``overrides``."""
    base = [
        "data.kind=synthetic",
        f"data.root={world}",
        "data.split=splits/all_files.txt",
        f"data.height={height}",
        f"data.width={width}",
        f"trainer.out_dir={out_dir}",
    ]
    return load_config(TrainConfig, [recipe(name) for name in recipes], base + list(overrides))


class ConstantDepth(torch.nn.Module):
    """The trivial baseline: the same depth everywhere (median scaling then fits its scale)."""

    def __init__(self, depth: float = 10.0) -> None:
        super().__init__()
        self.register_buffer("inv", torch.tensor(1.0 / depth))

    def forward(self, image: torch.Tensor) -> list[torch.Tensor]:
        return [self.inv.expand(image.shape[0], 1, *image.shape[-2:])]


@dataclass
class Scores:
    """Held-out reports of a model (median-scaled and metric) and of the constant baseline."""

    scaled: dict
    metric: dict
    constant: dict

    def table(self, metric: bool = True) -> str:
        """A markdown table of the three rows and the protocol line; ``metric``: whether the
        model was trained to metric scale (else its unscaled row is labelled scale-free)."""
        unscaled = ("model, metric (no scaling)" if metric
                    else "model, no scaling (scale-free: trained without speed or depth)")
        rows = {
            "model, median scaling": self.scaled["metrics"],
            unscaled: self.metric["metrics"],
            "constant depth, median scaling": self.constant["metrics"],
        }
        columns = (*METRIC_NAMES, "ratio_median")
        table = markdown_table(rows, columns, headers=(*METRIC_NAMES, "scale ratio"))
        return f"{table}\n\nProtocol: {protocol_line(self.scaled)}, held-out frames, exact GT."


def score_heldout(
    model: torch.nn.Module, root: Path, size: tuple[int, int], entries: list[SplitEntry]
) -> Scores:
    """Evaluate ``model`` on held-out frames with and without median scaling, and the baseline."""
    predict = model_predictor(model, root, size=size)
    scaled = evaluate_depth(root, entries, predict, SYNTHETIC_PROTOCOL)
    metric_protocol = replace(SYNTHETIC_PROTOCOL, median_scaling=False)
    metric = evaluate_depth(root, entries, predict, metric_protocol, per_class=False)
    constant = evaluate_depth(
        root, entries, model_predictor(ConstantDepth(), root, size=size), SYNTHETIC_PROTOCOL,
        per_class=False,
    )
    return Scores(scaled, metric, constant)


@dataclass(frozen=True)
class World:
    """A synthetic world to render: ``sequences`` drives of ``params`` into ``root``."""

    root: Path
    params: SynthParams
    sequences: int


@dataclass
class SyntheticRun:
    """What :func:`render_train_score` produced: the config, the finished run, its depth net,
    the held-out frames it was scored on and the scores; ``minutes`` of training."""

    cfg: TrainConfig
    result: TrainResult
    model: torch.nn.Module
    entries: list[SplitEntry]
    scores: Scores
    minutes: float


def render_train_score(
    world: World,
    heldout: World,
    out_dir: Path,
    overrides: list[str] = (),
    *,
    recipes: tuple[str, ...] = SYNTHETIC_RECIPES,
    every: int = 1,
    announce: Callable[[str], None] = lambda stage: None,
    progress: Callable[[str], None] | None = None,
) -> SyntheticRun:
    """The pipeline of `packdepth demo` and bench/train_synthetic.py: render the training and
    held-out worlds (unless already there), train on the first (``recipes``, then
    ``overrides``; logs in ``out_dir``), score every ``every``-th held-out frame.

    The whole config is built first: a bad override or ``model.init`` is refused before any
    rendering. ``announce`` is called with ``"render"``, ``"train"`` and ``"score"`` as each
    stage starts; ``progress`` receives the training world's rendering lines. A run already in
    ``out_dir`` is replaced (the demo's and the benchmark's own run folder).
    """
    size = (world.params.height, world.params.width)
    cfg = synthetic_train_config(world.root, out_dir, *size, overrides, recipes)
    if cfg.model.init:
        check_model_files(cfg.model.init)
    announce("render")
    prepare_world(world.root, world.params, world.sequences, progress=progress)
    prepare_world(heldout.root, heldout.params, heldout.sequences)
    announce("train")
    start = time.time()
    result = train(cfg, overwrite=True)  # out_dir: the caller's own run folder
    minutes = (time.time() - start) / 60
    announce("score")
    model = load_model(result.model_dir / DEPTH_FILE, kind="depth")
    entries = heldout_entries(heldout.root, every)
    scores = score_heldout(model, heldout.root, size, entries)
    return SyntheticRun(cfg, result, model, entries, scores, minutes)


def score_pose_net(
    pose_net: torch.nn.Module, root: Path, size: tuple[int, int], batch_size: int = 8
) -> dict[str, float]:
    """Median per-frame errors (degrees) of a pose net on the held-out frames against the exact
    relative poses (context frames t±1): rotation, and translation direction (scale-free)."""
    cfg = synthetic_train_config(root, root, *size, ["data.augmentation.enabled=false"]).data
    loader = torch.utils.data.DataLoader(build_dataset(cfg), batch_size=batch_size)
    rotation, direction = [], []
    pose_net.eval()
    with torch.no_grad():
        for batch in loader:
            offsets = [int(o) for o in batch["offsets"][0]]
            poses = pose_net(batch["image"], batch["context"], offsets=offsets)
            rot, dirn = frame_pair_errors(poses, batch["pose_gt"])
            rotation.append(rot.flatten())
            direction.append(dirn.flatten())
    return {"rotation_deg": float(torch.cat(rotation).median()),
            "direction_deg": float(torch.cat(direction).median())}


def example_rows(
    models: torch.nn.Module | list[torch.nn.Module], root: Path, entries: list[SplitEntry],
    size: tuple[int, int],
) -> list[list[np.ndarray]]:
    """``[input, predicted depth (one per model), GT depth]`` colour rows (uint8) for a picture
    of results; each prediction is median-scaled to the GT, all in one colour range."""
    from packdepth.evaluation.depth import load_gt_depth, load_image
    from packdepth.io.viz import colorize_depth, to_uint8_image

    models = models if isinstance(models, list) else [models]
    predictors = [model_predictor(model, root, size=size) for model in models]
    rows = []
    for index, entry in enumerate(entries):
        gt, _ = load_gt_depth(root, entry)
        valid = gt > 0
        inv_hi = float(np.percentile(1.0 / gt[valid], 95))
        row = [to_uint8_image(load_image(entry.image_file(root)).numpy())]
        for predict in predictors:
            pred = to_numpy(predict(entry, index)[0], np.float64)
            pred = pred * np.median(gt[valid]) / np.median(pred[valid])  # same scale as the GT
            row.append(colorize_depth(pred, inv_range=(0.0, inv_hi)))
        rows.append([*row, colorize_depth(gt, inv_range=(0.0, inv_hi))])
    return rows
