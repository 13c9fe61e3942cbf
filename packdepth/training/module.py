"""The LightningModule of self-supervised depth + ego-motion training."""

from __future__ import annotations

import time
import warnings
from typing import Any

import lightning as L
import numpy as np
import torch
import torch.nn.functional as F
from torch import Tensor

from packdepth.arrays import to_numpy
from packdepth.config import from_dict, to_dict
from packdepth.errors import PackdepthError
from packdepth.evaluation.metrics import aggregate_metrics, depth_metrics
from packdepth.geometry import invert_pose, make_transform
from packdepth.geometry.align import align_pose
from packdepth.losses.multiscale import inv_depth_to_depth, multiscale_photometric, resize_to
from packdepth.losses.prior import ground_plane_depth, log_depth_prior_loss, prior_weight
from packdepth.losses.supervised import supervised_depth_loss
from packdepth.losses.velocity import velocity_loss
from packdepth.networks import build_depth_net, build_pose_net
from packdepth.networks.base import to_channels_last
from packdepth.training.config import TrainConfig

#: Semantic labels equal to this are ignored by the cross-entropy.
IGNORE_LABEL = 255


class SelfSupervisedDepth(L.LightningModule):
    """Depth and pose networks trained by view synthesis (+ optional velocity, supervised and
    semantic terms), validated with the standard depth metrics.

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
        if cfg.loss.anchor_weight > 0:
            if not cfg.model.init:
                raise PackdepthError("loss.anchor_weight > 0 needs model.init (the anchor)")
            self.anchor_net = build_depth_net(cfg.model.depth).requires_grad_(False)
            for layer in self.anchor_net.modules():  # batch statistics as the depth net's, but
                if isinstance(layer, torch.nn.modules.batchnorm._BatchNorm):  # frozen
                    layer.momentum = 0.0
        if cfg.model.init_depth is not None:
            self.depth_net.set_initial_depth(cfg.model.init_depth)
        if cfg.trainer.channels_last:
            to_channels_last(self)
        self._bad_steps = 0
        self._val_metrics: list[dict[str, float]] = []

    # ----------------------------------------------------------------- forward and losses
    def forward(self, image: Tensor) -> list[Tensor]:
        """``[B,3,H,W]`` in [0,1] → the depth net's inverse-depth pyramid."""
        return self.depth_net(image)

    def compute_losses(self, batch: dict[str, Any]) -> dict[str, Tensor]:
        """All loss terms of a batch; ``total`` is what is optimised."""
        lc = self.cfg.loss
        semantic_logits = None
        if lc.semantic_weight > 0 and hasattr(self.depth_net, "forward_with_semantics"):
            inv_depths, semantic_logits = self.depth_net.forward_with_semantics(batch["image_aug"])
        else:
            inv_depths = self.depth_net(batch["image_aug"])
        offsets = [int(o) for o in batch["offsets"][0]]
        poses = self.pose_net(batch["image_aug"], batch["context_aug"], offsets=offsets)
        # The networks may run in reduced precision (trainer.precision: bf16-mixed); geometry and
        # losses run in float32.
        inv_depths = [d.float() for d in inv_depths]
        poses = poses.float()
        anchor = None
        if self.anchor_net is not None:
            with torch.no_grad():
                anchor = self.anchor_net(batch["image_aug"])[0].float()
        with torch.autocast(batch["image"].device.type, enabled=False):
            if lc.oracle_pose:
                if "pose_gt" not in batch:
                    raise PackdepthError("loss.oracle_pose is set but the data has no exact poses")
                poses = batch["pose_gt"].float()
            elif lc.align_pose:
                poses = self._aligned(batch, inv_depths[0], poses)
            return self._losses(batch, inv_depths, poses, semantic_logits, anchor)

    def _aligned(self, batch: dict[str, Any], inv_depth: Tensor, poses: Tensor) -> Tensor:
        """The pose net's ``[B,N,4,4]`` poses, refined by photometric alignment with the current
        (detached) depth; the correction is a constant, so the pose net keeps its gradient."""
        lc = self.cfg.loss
        b, n = poses.shape[:2]
        context = batch["context"]
        target = batch["image"].unsqueeze(1).expand_as(context).flatten(0, 1)
        depth = inv_depth_to_depth(inv_depth.detach()).unsqueeze(1).expand(-1, n, -1, -1, -1)
        K = batch["K"].unsqueeze(1).expand(-1, n, -1, -1).flatten(0, 1)
        flat = poses.flatten(0, 1)
        refined = align_pose(target, context.flatten(0, 1), depth.flatten(0, 1), K, flat,
                             levels=tuple(lc.align_levels), iterations=lc.align_iterations)
        correction = refined @ invert_pose(flat.detach())
        composed = correction @ flat
        if lc.metric_scale:
            # The alignment fits the translation's length to the current depth's scale, which
            # is arbitrary; keep the pose net's (velocity-supervised) length so that the
            # photometric loss carries the metric scale into the depth.
            t = composed[:, :3, 3]
            length = flat[:, :3, 3].norm(dim=-1, keepdim=True)
            t = t * (length / t.detach().norm(dim=-1, keepdim=True).clamp_min(1e-9))
            composed = make_transform(composed[:, :3, :3], t)
        return composed.view(b, n, 4, 4)

    def _losses(
        self,
        batch: dict[str, Any],
        inv_depths: list[Tensor],
        poses: Tensor,
        semantic_logits: Tensor | None,
        anchor_inv_depth: Tensor | None = None,
    ) -> dict[str, Tensor]:
        lc = self.cfg.loss
        view = multiscale_photometric(
            batch["image"],
            batch["context"],
            inv_depths[: lc.num_scales],
            poses,
            batch["K"],
            automask=lc.automask,
            smoothness_weight=lc.smoothness_weight,
            alpha=lc.ssim_alpha,
        )
        out = {
            "photometric": view.photometric,
            "smoothness": view.smoothness,
            "automask_kept": view.masks[0].float().mean(),
        }
        total = view.total
        if lc.velocity_weight > 0:
            if "translation_gt" not in batch:
                raise PackdepthError("loss.velocity_weight > 0 but the data has no speed or poses")
            out["velocity"] = velocity_loss(poses, batch["translation_gt"])
            total = total + lc.velocity_weight * out["velocity"]
        if lc.supervised_weight > 0:
            if "depth_gt" not in batch:
                raise PackdepthError("loss.supervised_weight > 0 but the data has no depth GT")
            gt = batch["depth_gt"]
            pred = inv_depth_to_depth(resize_to(inv_depths[0], tuple(gt.shape[-2:])))
            out["supervised"] = supervised_depth_loss(pred, gt, lc.supervised_kind)
            total = total + lc.supervised_weight * out["supervised"]
        w_prior = prior_weight(self.global_step, lc.prior_weight, lc.prior_steps)
        scale_free = not lc.metric_scale
        if w_prior > 0 or anchor_inv_depth is not None:
            depth = inv_depth_to_depth(inv_depths[0])
        if w_prior > 0:
            prior = ground_plane_depth(batch["K"], *depth.shape[-2:], lc.camera_height)
            out["prior"] = log_depth_prior_loss(depth, prior, scale_free)
            total = total + w_prior * out["prior"]
        if anchor_inv_depth is not None:
            everywhere = torch.ones_like(depth, dtype=torch.bool)
            anchor = inv_depth_to_depth(anchor_inv_depth)
            out["anchor"] = log_depth_prior_loss(depth, anchor, scale_free, mask=everywhere)
            total = total + lc.anchor_weight * out["anchor"]
        if semantic_logits is not None:
            if "semantic" not in batch:
                raise PackdepthError("loss.semantic_weight > 0 but the data has no semantic labels")
            labels = batch["semantic"]
            logits = resize_to(semantic_logits.float(), tuple(labels.shape[-2:]))
            out["semantic"] = F.cross_entropy(logits, labels.long(), ignore_index=IGNORE_LABEL)
            total = total + lc.semantic_weight * out["semantic"]
        out["total"] = total
        return out

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
            metrics = depth_metrics(pred, gt, crop=None, max_depth=80.0, median_scaling=True)
            metrics["abs_rel_unscaled"] = depth_metrics(
                pred, gt, crop=None, max_depth=80.0, median_scaling=False
            )["abs_rel"]
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
