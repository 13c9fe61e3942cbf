"""The LightningModule of self-supervised depth + ego-motion training."""

from __future__ import annotations

import time
import warnings
from dataclasses import replace
from typing import Any

import lightning as L
import numpy as np
import torch
from torch import Tensor

from packdepth.arrays import to_numpy
from packdepth.config import from_dict, to_dict
from packdepth.errors import PackdepthError
from packdepth.evaluation.metrics import DepthProtocol, aggregate_metrics, depth_metrics
from packdepth.losses.multiscale import inv_depth_to_depth
from packdepth.losses.term import LossInputs
from packdepth.networks import build_depth_net, build_pose_net
from packdepth.networks.base import to_channels_last
from packdepth.training.config import TrainConfig
from packdepth.training.objective import Objective, build_loss_terms
from packdepth.training.pose_refinement import refine_poses

#: What validation scores (``val/*``): no crop, GT depth in (1e-3, 80] m, median scaling; and
#: ``val/abs_rel_unscaled`` without the median scaling.
VALIDATION_PROTOCOL = DepthProtocol(crop=None, min_depth=1e-3, max_depth=80.0, median_scaling=True)
UNSCALED = replace(VALIDATION_PROTOCOL, median_scaling=False)


class SelfSupervisedDepth(L.LightningModule):
    """Depth and pose networks trained by view synthesis (+ the optional terms of
    :mod:`packdepth.training.objective`), validated by :data:`VALIDATION_PROTOCOL`; depth
    pictures are logged by :class:`~packdepth.training.callbacks.DepthImageLogger`.

    Batches follow the item contract of :mod:`packdepth.data`.
    """

    def __init__(self, config: dict[str, Any] | TrainConfig) -> None:
        super().__init__()
        cfg = config if isinstance(config, TrainConfig) else from_dict(TrainConfig, config)
        self.cfg = cfg
        self.save_hyperparameters({"config": to_dict(cfg)})
        self.depth_net = build_depth_net(cfg.model.depth)
        self.pose_net = build_pose_net(cfg.model.pose)
        # The frozen initial depth net of loss.anchor_weight (weights copied in by the trainer
        # from model.init; a submodule so that checkpoints and devices carry it, not optimised).
        self.anchor_net = None
        if cfg.loss.anchor_weight > 0:  # the config ensures model.init is set
            self.anchor_net = build_depth_net(cfg.model.depth).requires_grad_(False)
            for layer in self.anchor_net.modules():  # batch statistics as the depth net's, but
                if isinstance(layer, torch.nn.modules.batchnorm._BatchNorm):  # frozen
                    layer.momentum = 0.0
        if cfg.model.init_depth is not None:
            self.depth_net.set_initial_depth(cfg.model.init_depth)
        if cfg.trainer.channels_last:
            to_channels_last(self)
        self.objective = Objective(build_loss_terms(cfg.loss))
        self._bad_steps = 0
        self._val_metrics: list[dict[str, float]] = []

    # ----------------------------------------------------------------- forward and losses
    def forward(self, image: Tensor) -> list[Tensor]:
        """``[B,3,H,W]`` in [0,1] → the depth net's inverse-depth pyramid."""
        return self.depth_net(image)

    def compute_losses(self, batch: dict[str, Any]) -> dict[str, Tensor]:
        """All loss terms of a batch by name (:mod:`packdepth.training.objective`); ``total`` is
        what is optimised."""
        image = batch["image_aug"]
        semantic_logits = None
        if self.objective.needs_semantics and hasattr(self.depth_net, "forward_with_semantics"):
            inv_depths, semantic_logits = self.depth_net.forward_with_semantics(image)
        else:
            inv_depths = self.depth_net(image)
        offsets = [int(o) for o in batch["offsets"][0]]
        poses = self.pose_net(image, batch["context_aug"], offsets=offsets)
        # The networks may run in reduced precision (trainer.precision: bf16-mixed); geometry and
        # losses run in float32.
        inv_depths = [d.float() for d in inv_depths]
        poses = poses.float()
        anchor = None
        if self.anchor_net is not None:
            with torch.no_grad():
                anchor = self.anchor_net(image)[0].float()
        with torch.autocast(batch["image"].device.type, enabled=False):
            poses = self.loss_poses(batch, inv_depths[0], poses)
            inputs = LossInputs(batch, inv_depths, poses, self.global_step, semantic_logits,
                                anchor)
            return self.objective(inputs)

    def loss_poses(self, batch: dict[str, Any], inv_depth: Tensor, poses: Tensor) -> Tensor:
        """The poses the losses use: the data's exact ones (``loss.oracle_pose``), the pose
        net's refined by alignment (``loss.align_pose``), or the pose net's as they are."""
        lc = self.cfg.loss
        if lc.oracle_pose:
            if "pose_gt" not in batch:
                raise PackdepthError("loss.oracle_pose is set but the data has no exact poses")
            return batch["pose_gt"].float()
        if lc.align_pose:
            return refine_poses(batch["image"], batch["context"], inv_depth, batch["K"], poses,
                                levels=tuple(lc.align_levels), iterations=lc.align_iterations,
                                keep_length=lc.metric_scale)
        return poses

    # ----------------------------------------------------------------- training
    def training_step(self, batch: dict[str, Any], batch_idx: int) -> Tensor | None:
        losses = self.compute_losses(batch)
        total = losses["total"]
        if not torch.isfinite(total):
            self._bad_steps += 1
            warnings.warn(
                f"step {self.global_step}: non-finite loss ({total.item()}), batch skipped "
                f"({self._bad_steps}/{self.cfg.optim.max_bad_steps} in a row)",
                RuntimeWarning,
                stacklevel=1,
            )
            if self._bad_steps >= self.cfg.optim.max_bad_steps:
                raise PackdepthError(
                    f"training diverged: {self._bad_steps} non-finite losses in a row at step "
                    f"{self.global_step} (lower optim.lr or check the data)"
                )
            return None
        self._bad_steps = 0
        bs = batch["image"].shape[0]
        self.log_dict(
            {f"train/{k}": v.detach() for k, v in losses.items()},
            batch_size=bs,
            prog_bar=False,
        )
        self.log("loss", total.detach(), prog_bar=True, batch_size=bs, logger=False)
        return total

    def on_train_start(self) -> None:
        self._started = time.monotonic()

    def run_progress(self) -> float:
        """Fraction of the run done: of the time budget when there is one, else of the steps,
        else of the epochs (0 outside a run)."""
        tc = self.cfg.trainer
        trainer = getattr(self, "_trainer", None)
        if trainer is None:
            return 0.0
        if tc.max_minutes:
            return (time.monotonic() - getattr(self, "_started", time.monotonic())) / (
                60.0 * tc.max_minutes
            )
        if tc.max_steps and tc.max_steps > 0:
            return self.global_step / tc.max_steps
        return self.current_epoch / max(tc.max_epochs, 1)

    def configure_optimizers(self) -> Any:
        oc = self.cfg.optim
        groups = [
            {"params": self.depth_net.parameters()},
            {"params": self.pose_net.parameters(), "lr": oc.pose_lr or oc.lr},
        ]
        # The fused kernel: one pass over all weights, ~4x faster than the per-tensor loop on CPU
        # (not with float16's gradient scaler, which would then unscale after clipping).
        precision = str(self._trainer.precision) if self._trainer is not None else "32-true"
        fused = self.device.type in ("cpu", "cuda") and not precision.startswith("16")
        optimizer = torch.optim.Adam(groups, lr=oc.lr, weight_decay=oc.weight_decay, fused=fused)
        if oc.decay_at is not None:
            gamma = oc.gamma
            scheduler = torch.optim.lr_scheduler.LambdaLR(
                optimizer, lambda _: gamma if self.run_progress() >= oc.decay_at else 1.0
            )
            return {
                "optimizer": optimizer,
                "lr_scheduler": {"scheduler": scheduler, "interval": "step"},
            }
        if oc.step_size <= 0:
            return optimizer
        scheduler = torch.optim.lr_scheduler.StepLR(optimizer, oc.step_size, gamma=oc.gamma)
        return {
            "optimizer": optimizer,
            "lr_scheduler": {"scheduler": scheduler, "interval": "epoch"},
        }

    def configure_gradient_clipping(self, optimizer: Any, gradient_clip_val: float | None = None,
                                    gradient_clip_algorithm: str | None = None) -> None:
        if optimizer.defaults.get("fused") and gradient_clip_val:
            # No gradient scaler is in play (see configure_optimizers): clip the gradients as
            # they are; Lightning's own path refuses fused optimizers under mixed precision.
            torch.nn.utils.clip_grad_norm_(self.parameters(), gradient_clip_val, foreach=True)
            return
        super().configure_gradient_clipping(optimizer, gradient_clip_val, gradient_clip_algorithm)

    def on_save_checkpoint(self, checkpoint: dict[str, Any]) -> None:
        # The torch random state (auto-mask tie noise) so that a resumed run repeats exactly;
        # augmentation and shuffling are seeded per item and epoch, and need nothing here.
        checkpoint["packdepth_rng"] = torch.get_rng_state()

    def on_load_checkpoint(self, checkpoint: dict[str, Any]) -> None:
        state = checkpoint.get("packdepth_rng")
        if state is not None:
            torch.set_rng_state(state)

    # ----------------------------------------------------------------- validation
    def predict_depth(self, image: Tensor) -> Tensor:
        """``[B,3,H,W]`` → full-resolution depth ``[B,1,H,W]``."""
        return inv_depth_to_depth(self.depth_net(image)[0])

    def validation_step(self, batch: dict[str, Any], batch_idx: int) -> dict[str, Tensor] | None:
        """Depth metrics of the frames with GT; returns ``{"depth": [B,1,H,W]}`` (for pictures:
        :class:`~packdepth.training.callbacks.DepthImageLogger`)."""
        if "depth_gt" not in batch:
            return None
        depth = self.predict_depth(batch["image"])
        for i in range(depth.shape[0]):
            gt = to_numpy(batch["depth_gt"][i, 0])
            if not (gt > 0).any():
                continue
            pred = to_numpy(depth[i, 0])  # bfloat16 under mixed precision
            metrics = depth_metrics(pred, gt, **VALIDATION_PROTOCOL.metric_kwargs())
            unscaled = depth_metrics(pred, gt, **UNSCALED.metric_kwargs())
            metrics["abs_rel_unscaled"] = unscaled["abs_rel"]
            self._val_metrics.append(metrics)
        return {"depth": depth}

    def on_validation_epoch_end(self) -> None:
        if not self._val_metrics:
            return
        agg = aggregate_metrics(self._val_metrics)
        agg["abs_rel_unscaled"] = float(np.mean([m["abs_rel_unscaled"] for m in self._val_metrics]))
        keys = ("abs_rel", "sq_rel", "rmse", "rmse_log", "a1", "abs_rel_unscaled", "ratio_median")
        self.log_dict({f"val/{k}": float(agg[k]) for k in keys if k in agg}, sync_dist=True)
        self._val_metrics.clear()
