"""Lightning callbacks of a run: plain progress lines for log files, depth pictures."""

from __future__ import annotations

import sys
import time
from typing import Any

import lightning as L
import numpy as np
from lightning.pytorch.callbacks import ProgressBar, TQDMProgressBar
from PIL import Image

from packdepth.io.viz import colorize_depth, to_uint8_image


class ProgressLines(ProgressBar):
    """Progress for output that is not a terminal (a log file, a pipe): one plain line every
    ``every`` training steps and one after each validation, never a carriage return.

    A tqdm bar rewrites its line with ``\\r`` after every batch, hundreds of KB of one line in a
    file. Lines look like ``epoch 3 step 400/2000 loss 0.1234 2.51 steps/s`` and
    ``validation at step 400: abs_rel 0.1512, ...``; they go to stdout, like the bar, from the
    first process only.
    """

    def __init__(self, every: int) -> None:
        super().__init__()
        self.every = max(1, int(every))
        self._enabled = True
        self._last_step = -1
        self._start = (0.0, 0)  # (time, step) at the start of training

    def disable(self) -> None:
        self._enabled = False

    def enable(self) -> None:
        self._enabled = True

    def print(self, *args: Any, **kwargs: Any) -> None:
        if self._enabled:
            print(*args, **kwargs, file=sys.stdout, flush=True)

    def on_train_start(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        self._start = (time.monotonic(), trainer.global_step)

    def on_train_batch_end(self, trainer: L.Trainer, pl_module: L.LightningModule, outputs: Any,
                           batch: Any, batch_idx: int) -> None:
        step = trainer.global_step
        if step % self.every or step == self._last_step:
            return
        self._last_step = step
        started, first = self._start
        rate = (step - first) / max(time.monotonic() - started, 1e-9)
        total = f"/{trainer.max_steps}" if trainer.max_steps > 0 else ""
        loss = self.get_metrics(trainer, pl_module).get("loss")
        loss_text = f" loss {loss:.4f}" if isinstance(loss, float) else ""
        self.print(f"epoch {trainer.current_epoch} step {step}{total}{loss_text} "
                   f"{rate:.2f} steps/s")

    def on_validation_end(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        if trainer.sanity_checking:
            return
        metrics = {k[4:]: float(v) for k, v in trainer.callback_metrics.items()
                   if k.startswith("val/")}
        if metrics:
            self.print(f"validation at step {trainer.global_step}: "
                       + ", ".join(f"{k} {v:.4f}" for k, v in metrics.items()))


def progress_display(every: int) -> ProgressBar:
    """Lightning's bar on a terminal, :class:`ProgressLines` when stdout is anything else."""
    return TQDMProgressBar() if sys.stdout.isatty() else ProgressLines(every)


class DepthImageLogger(L.Callback):
    """The first ``num_images`` validation frames with ground truth, as TensorBoard images
    ``val/depth_<k>``: input over predicted depth over GT depth (colour by inverse depth),
    ``[3H,W,3]`` uint8 each, written after every validation.

    The LightningModule's ``validation_step`` returns ``{"depth": [B,1,H,W]}`` in any float
    dtype (bfloat16 under mixed precision); batches carry ``image [B,3,H,W]`` and
    ``depth_gt [B,1,H',W']`` (0 = none; shown resized to ``H x W``).
    """

    def __init__(self, num_images: int) -> None:
        self.num_images = num_images
        self._grids: list[np.ndarray] = []

    def on_validation_batch_end(self, trainer: L.Trainer, pl_module: L.LightningModule,
                                outputs: Any, batch: Any, batch_idx: int,
                                dataloader_idx: int = 0) -> None:
        if not outputs or trainer.sanity_checking:
            return
        depth = outputs["depth"]
        for i in range(depth.shape[0]):
            gt = batch["depth_gt"][i, 0]
            if len(self._grids) >= self.num_images:
                return
            if not (gt > 0).any():
                continue
            colour = colorize_depth(depth[i, 0])
            h, w = colour.shape[:2]
            gt_colour = colorize_depth(gt)
            if gt_colour.shape != colour.shape:
                gt_colour = np.asarray(Image.fromarray(gt_colour).resize(
                    (w, h), Image.Resampling.NEAREST))
            rgb = to_uint8_image(batch["image"][i])
            self._grids.append(np.concatenate([rgb, colour, gt_colour], axis=0))

    def on_validation_epoch_end(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        grids, self._grids = self._grids, []
        loggers = [lg for lg in trainer.loggers if hasattr(lg.experiment, "add_image")]
        for k, grid in enumerate(grids):
            for lg in loggers:
                lg.experiment.add_image(f"val/depth_{k}", grid, trainer.global_step,
                                        dataformats="HWC")
