"""Run a training: data, Lightning trainer (logs, checkpoints, resume), final model export."""

from __future__ import annotations

import datetime as dt
import logging
import os
import warnings
from dataclasses import dataclass, replace
from pathlib import Path

import lightning as L
import torch
import yaml
from lightning.pytorch.callbacks import LearningRateMonitor, ModelCheckpoint
from lightning.pytorch.loggers import CSVLogger, TensorBoardLogger

from packdepth.config import to_dict
from packdepth.errors import PackdepthError
from packdepth.io.atomic import write_text
from packdepth.training.callbacks import DepthImageLogger, progress_display
from packdepth.training.checkpointing import AtomicCheckpointIO, LastCheckpoint, check_resumable
from packdepth.training.config import TrainConfig
from packdepth.training.data import DepthDataModule
from packdepth.training.device import (
    announce_determinism,
    resolve_determinism,
    resolve_device,
    resolve_precision,
)
from packdepth.training.module import SelfSupervisedDepth


@dataclass
class TrainResult:
    """What a finished run produced."""

    out_dir: Path
    model_dir: Path
    best_checkpoint: str | None
    last_checkpoint: str | None
    global_step: int
    val_metrics: dict[str, float]
    world_size: int = 1


def _quiet_lightning() -> None:
    for name in ("lightning.pytorch", "lightning.fabric", "lightning"):
        logging.getLogger(name).setLevel(logging.WARNING)
    warnings.filterwarnings("ignore", message=".*does not have many workers.*")
    warnings.filterwarnings("ignore", message=".*LeafSpec.*")
    warnings.filterwarnings("ignore", message=".*The number of training batches.*")


def build_trainer(cfg: TrainConfig, out_dir: Path, has_val: bool) -> L.Trainer:
    """The Lightning trainer of a run: device, precision and determinism resolved
    (:mod:`packdepth.training.device`), TensorBoard + CSV logs, checkpoints written atomically
    (``last.ckpt``, the best by ``val/abs_rel``), a progress bar or plain progress lines."""
    tc = cfg.trainer
    device = resolve_device(tc.accelerator)
    deterministic = resolve_determinism(tc.deterministic, device)
    announce_determinism(deterministic, device)
    checkpoints = out_dir / "checkpoints"
    callbacks: list = [
        ModelCheckpoint(
            dirpath=checkpoints,
            filename="best-{step}",
            monitor="val/abs_rel" if has_val else None,
            mode="min",
            save_top_k=1,
        ),
        LastCheckpoint(checkpoints / "last.ckpt", tc.checkpoint_every_steps),
        LearningRateMonitor(logging_interval="step"),
        DepthImageLogger(tc.num_log_images),
    ]
    if tc.progress_bar:
        callbacks.append(progress_display(tc.progress_every_steps))
    loggers = [
        TensorBoardLogger(str(out_dir), name="tensorboard", version=""),
        CSVLogger(str(out_dir), name="csv", version=""),
    ]
    val_kwargs: dict = {}
    if has_val and tc.val_every_steps > 0:
        val_kwargs = {"val_check_interval": tc.val_every_steps, "check_val_every_n_epoch": None}
    return L.Trainer(
        default_root_dir=str(out_dir),
        max_epochs=tc.max_epochs,
        max_steps=tc.max_steps,
        max_time=dt.timedelta(minutes=tc.max_minutes) if tc.max_minutes else None,
        accelerator=tc.accelerator,
        devices=tc.devices,
        num_nodes=tc.num_nodes,
        strategy=tc.strategy,
        precision=resolve_precision(tc.precision, device),
        deterministic=deterministic,
        plugins=[AtomicCheckpointIO()],
        gradient_clip_val=cfg.optim.grad_clip or None,
        log_every_n_steps=tc.log_every_steps,
        enable_progress_bar=tc.progress_bar,
        enable_model_summary=False,
        num_sanity_val_steps=0,
        limit_val_batches=1.0 if has_val else 0,
        callbacks=callbacks,
        logger=loggers,
        **val_kwargs,
    )


def _initial_nets(cfg: TrainConfig) -> tuple[TrainConfig, list[tuple[str, torch.nn.Module]]]:
    """The networks of ``model.init`` and ``cfg`` with their architectures: the file's settings
    (e.g. a pose net's translation scale) win over the config's, whose network names must match.
    """
    from packdepth.io.checkpoints import load_model, model_files

    nets = [(which, load_model(path, kind=which)) for which, path in model_files(cfg.model.init)]
    model = cfg.model
    for which, net in nets:
        wanted = getattr(model, which)
        if net.config.get("name") != wanted.get("name"):
            raise PackdepthError(
                f"{cfg.model.init}: holds a {net.config.get('name')} {which} net, but the config "
                f"asks for {wanted.get('name')} (model.{which})"
            )
        model = replace(model, **{which: dict(net.config)})
    return replace(cfg, model=model), nets


def _keep_csv_log(out_dir: Path, step: int) -> None:
    """Lightning's CSV logger deletes an existing ``csv/metrics.csv``: a run resumed in the same
    folder keeps it as ``csv/metrics-before-resume-from-step-<step>.csv``."""
    log = out_dir / "csv" / "metrics.csv"
    if log.is_file():
        os.replace(log, log.with_name(f"metrics-before-resume-from-step-{step}.csv"))


def train(cfg: TrainConfig, resume: str | os.PathLike | None = None) -> TrainResult:
    """Train per ``cfg``; write logs, checkpoints and ``model/`` (packdepth format) in out_dir."""
    from packdepth.io.checkpoints import DEPTH_FILE, POSE_FILE, save_models

    _quiet_lightning()
    out_dir = Path(cfg.trainer.out_dir)
    L.seed_everything(cfg.trainer.seed, workers=True, verbose=False)
    data = DepthDataModule(cfg)
    data.setup("fit")  # bad data, init weights or checkpoints are refused before any writing
    initial: list[tuple[str, torch.nn.Module]] = []
    if cfg.model.init and resume is None:
        cfg, initial = _initial_nets(cfg)
    module = SelfSupervisedDepth(cfg)
    if resume is not None:
        step = check_resumable(resume, module.state_dict().keys())
        _keep_csv_log(out_dir, step)
    out_dir.mkdir(parents=True, exist_ok=True)
    write_text(out_dir / "config.yaml", yaml.safe_dump(to_dict(cfg), sort_keys=False))
    for which, net in initial:
        getattr(module, f"{which}_net").load_state_dict(net.state_dict())
    if initial and module.anchor_net is not None:
        module.anchor_net.load_state_dict(module.depth_net.state_dict())
    trainer = build_trainer(cfg, out_dir, has_val=data.val_set is not None)
    trainer.fit(module, datamodule=data, ckpt_path=str(resume) if resume else None,
                weights_only=True)
    model_dir = out_dir / "model"
    if trainer.is_global_zero:
        info = {"height": cfg.data.height, "width": cfg.data.width, "steps": trainer.global_step,
                "metric": cfg.loss.metric_scale}
        save_models(
            [
                (module.depth_net, model_dir / DEPTH_FILE, None, info),
                (module.pose_net, model_dir / POSE_FILE, None, info),
            ]
        )
    best = next(c for c in trainer.callbacks if isinstance(c, ModelCheckpoint))
    last = next(c for c in trainer.callbacks if isinstance(c, LastCheckpoint))
    metrics = {k: float(v) for k, v in trainer.callback_metrics.items() if k.startswith("val/")}
    return TrainResult(
        out_dir=out_dir,
        model_dir=model_dir,
        best_checkpoint=best.best_model_path or None,
        last_checkpoint=str(last.path) if last.path.is_file() else None,
        global_step=trainer.global_step,
        val_metrics=metrics,
        world_size=trainer.world_size,
    )
