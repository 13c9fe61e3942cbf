"""Count the places where one training step reads a tensor's value on the host.

Usage::

    python bench/host_syncs.py                                  # align_pose + prior warm-up
    python bench/host_syncs.py --set loss.supervised_weight=1 --set loss.velocity_weight=0.1

On a GPU each such read (``bool(t)``, ``int(t)``, ``t.item()``, indexing with a boolean mask,
``torch.linalg.inv``/``solve``, which check for singular matrices on the host) waits for every
queued kernel: a host synchronisation. ``torch.cuda.set_sync_debug_mode`` finds them on CUDA
only; this script finds them on any device by counting, during one ``training_step`` and its
backward pass on a tiny synthetic batch (48x160, batch 2, ResNet18 + PoseNet), the calls made
from packdepth's own code, and prints them by ``file:line``. Lightning's own reads (progress
bar, loggers) are outside ``training_step`` and not counted. Training is not changed.
"""

from __future__ import annotations

import argparse
import collections
import tempfile
import traceback
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

import torch

from packdepth.config import load_config
from packdepth.data.synthetic import SynthParams, write_dataset
from packdepth.training.config import TrainConfig
from packdepth.training.module import SelfSupervisedDepth
from packdepth.training.run import DepthDataModule

READS = ("__bool__", "__int__", "__float__", "__index__", "item", "tolist", "nonzero")


def _site() -> str:
    for frame in reversed(traceback.extract_stack()[:-2]):
        if "/packdepth/" in frame.filename and "/bench/" not in frame.filename:
            return f"packdepth/{frame.filename.split('/packdepth/')[-1]}:{frame.lineno}"
    return "(outside packdepth)"


def count_reads(step: Callable[[], Any]) -> collections.Counter[tuple[str, str]]:
    """``(file:line, kind) → count`` of host reads made while ``step()`` runs."""
    counts: collections.Counter[tuple[str, str]] = collections.Counter()
    saved: list[tuple[Any, str, Any]] = []

    def patch(owner: Any, name: str, label: str) -> None:
        original = getattr(owner, name)

        def counted(*args: Any, **kwargs: Any) -> Any:
            if label != "mask index" or (isinstance(args[1], torch.Tensor)
                                         and args[1].dtype == torch.bool):
                counts[(_site(), label)] += 1
            return original(*args, **kwargs)

        saved.append((owner, name, original))
        setattr(owner, name, counted)

    for name in READS:
        patch(torch.Tensor, name, name)
    patch(torch.Tensor, "__getitem__", "mask index")
    patch(torch.linalg, "inv", "linalg.inv")
    patch(torch.linalg, "solve", "linalg.solve")
    try:
        step()
    finally:
        for owner, name, original in reversed(saved):
            setattr(owner, name, original)
    return counts


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--set", dest="overrides", action="append",
                        default=["loss.align_pose=true", "loss.prior_weight=0.1",
                                 "loss.prior_steps=100"])
    args = parser.parse_args()
    root = Path(tempfile.mkdtemp(prefix="host_syncs-"))
    write_dataset(root, SynthParams(height=48, width=160, frames=6, seed=3), sequences=1)
    cfg = load_config(TrainConfig, None, [
        "data.kind=synthetic", f"data.root={root}", "data.split=splits/train_files.txt",
        "data.height=48", "data.width=160", "model.depth={name: ResNetDepth, num_layers: 18}",
        "model.pose={name: PoseNet}", "trainer.batch_size=2", f"trainer.out_dir={root}/out",
        *args.overrides])
    data = DepthDataModule(cfg)
    data.setup()
    batch = next(iter(torch.utils.data.DataLoader(data.train_set, batch_size=2)))
    module = SelfSupervisedDepth(cfg)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # self.log outside a Trainer
        counts = count_reads(lambda: module.training_step(batch, 0).backward())
    print(f"host reads in one training step ({' '.join(args.overrides)}):")
    for (where, kind), n in sorted(counts.items()):
        print(f"  {where:<42} {kind:<14} x{n}")
    print(f"  total {sum(counts.values())}")


if __name__ == "__main__":
    main()
