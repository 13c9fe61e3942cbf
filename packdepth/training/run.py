"""Run a training: data, Lightning trainer (logs, checkpoints, resume), final model export."""

from __future__ import annotations

import datetime as dt
import logging
import os
import signal
import threading
import warnings
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path

import lightning as L
import torch
import yaml
from lightning.pytorch.callbacks import LearningRateMonitor, ModelCheckpoint
from lightning.pytorch.loggers import CSVLogger, TensorBoardLogger

from packdepth.config import to_dict
from packdepth.errors import PackdepthError
from packdepth.interrupts import Terminated, from_lightning, with_hint
from packdepth.io.atomic import write_text
from packdepth.io.output_folder import OutputFolder
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

#: What a run writes in ``trainer.out_dir``.
RUN_OUTPUTS = ("config.yaml", "checkpoints", "tensorboard", "csv", "model")


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
    (``last.ckpt``; with validation data also the best by ``val/abs_rel``), a progress bar or
    plain progress lines."""
    tc = cfg.trainer
    device = resolve_device(tc.accelerator)
    deterministic = resolve_determinism(tc.deterministic, device)
    announce_determinism(deterministic, device)
    checkpoints = out_dir / "checkpoints"
    callbacks: list = [
        LastCheckpoint(checkpoints / "last.ckpt", tc.checkpoint_every_steps),
        LearningRateMonitor(logging_interval="step"),
        DepthImageLogger(tc.num_log_images),
    ]
    if has_val:  # without validation a "best" checkpoint would be a second copy of the last
        callbacks.insert(0, ModelCheckpoint(dirpath=checkpoints, filename="best-{step}",
                                            monitor="val/abs_rel", mode="min", save_top_k=1))
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
        enable_checkpointing=has_val,  # else Lightning adds a default ModelCheckpoint
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


def run_outputs(cfg: TrainConfig, overwrite: bool = False) -> OutputFolder:
    """``trainer.out_dir`` as the output folder of ``packdepth train`` (:data:`RUN_OUTPUTS`)."""
    return OutputFolder(Path(cfg.trainer.out_dir), RUN_OUTPUTS, "packdepth train", overwrite)


def _resume_hint(out_dir: Path, last: LastCheckpoint) -> str:
    """Where an interrupted run can resume from, for the interruption's line."""
    if not last.path.is_file():
        return "the run wrote no checkpoint yet"
    return (f"the run's last checkpoint is {last.path}; resume with packdepth train "
            f"{out_dir / 'config.yaml'} --resume {last.path}")


def _fit(trainer: L.Trainer, module: SelfSupervisedDepth, data: DepthDataModule,
         resume: str | os.PathLike | None, hint: Callable[[], str]) -> None:
    """``trainer.fit``, ended by Ctrl-C or SIGTERM as by an exception: ``KeyboardInterrupt`` or
    :class:`~packdepth.interrupts.Terminated`, with ``hint()`` (Lightning's ends: ``sys.exit(1)``
    after Ctrl-C, a quiet stop after SIGTERM), and Ctrl-C working again afterwards."""
    sigint = signal.getsignal(signal.SIGINT)
    try:
        trainer.fit(module, datamodule=data, ckpt_path=str(resume) if resume else None,
                    weights_only=True)
    except SystemExit as exc:
        interruption = from_lightning(exc)
        if interruption is None:
            raise
        raise with_hint(interruption, hint()) from None
    except (KeyboardInterrupt, Terminated) as exc:
        raise with_hint(exc, hint()) from None
    finally:  # Lightning ignores Ctrl-C from its first one on
        if threading.current_thread() is threading.main_thread():
            signal.signal(signal.SIGINT, sigint)
    if trainer.received_sigterm:  # arrived after the loop's last look
        raise with_hint(Terminated(signal.SIGTERM), hint())


def train(cfg: TrainConfig, resume: str | os.PathLike | None = None, *,
          overwrite: bool = False, outputs: OutputFolder | None = None) -> TrainResult:
    """Train per ``cfg``; write logs, checkpoints and ``model/`` (packdepth format) in out_dir.

    Args:
        cfg: the run's configuration.
        resume: a ``last.ckpt`` (any Lightning checkpoint of these networks) to continue from;
            the out_dir is then taken as it is.
        overwrite: replace the outputs of an earlier run in out_dir (else refused).
        outputs: the output folder to check before any work and clear before writing (default
            :func:`run_outputs`; ``packdepth fit`` passes its own, around out_dir).

    Raises:
        PackdepthError: bad data, init weights, checkpoint or output folder (nothing written).
        KeyboardInterrupt, Terminated: Ctrl-C or SIGTERM (no ``model/`` written); the message
            says where to resume (:func:`packdepth.interrupts.report`).
    """
    from packdepth.io.checkpoints import DEPTH_FILE, POSE_FILE, save_models

    _quiet_lightning()
    out_dir = Path(cfg.trainer.out_dir)
    outputs = outputs or run_outputs(cfg, overwrite)
    # Lightning's DDP launcher runs this command again for ranks 1..N-1 (LOCAL_RANK set): the
    # folder is the launching process's, checked and cleared once, before it started them.
    launching = os.environ.get("LOCAL_RANK", "0") == "0"
    if resume is None and launching:
        outputs.check()
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
    elif launching:
        outputs.clear()
    out_dir.mkdir(parents=True, exist_ok=True)
    write_text(out_dir / "config.yaml", yaml.safe_dump(to_dict(cfg), sort_keys=False))
    for which, net in initial:
        getattr(module, f"{which}_net").load_state_dict(net.state_dict())
    if initial and module.anchor_net is not None:
        module.anchor_net.load_state_dict(module.depth_net.state_dict())
    trainer = build_trainer(cfg, out_dir, has_val=data.val_set is not None)
    last = next(c for c in trainer.callbacks if isinstance(c, LastCheckpoint))
    _fit(trainer, module, data, resume, lambda: _resume_hint(out_dir, last))
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
    best = next((c for c in trainer.callbacks if isinstance(c, ModelCheckpoint)), None)
    metrics = {k: float(v) for k, v in trainer.callback_metrics.items() if k.startswith("val/")}
    return TrainResult(
        out_dir=out_dir,
        model_dir=model_dir,
        best_checkpoint=(best.best_model_path or None) if best else None,
        last_checkpoint=str(last.path) if last.path.is_file() else None,
        global_step=trainer.global_step,
        val_metrics=metrics,
        world_size=trainer.world_size,
    )
