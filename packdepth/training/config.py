"""The training configuration schema (YAML files in ``packdepth/configs/``, overrides with
``--set``)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

from packdepth.config import check_image_size
from packdepth.data.augment import AugmentConfig
from packdepth.data.factory import DataConfig
from packdepth.errors import PackdepthError

#: The smallest training image side, in pixels: the inverse depth at the 4th loss scale (H/8)
#: then has at least 2 pixels for the smoothness gradients (at 8 pixels it has one and the loss
#: is NaN) and the photometric SSIM its 3x3 windows. The networks themselves run on any size.
TRAIN_MIN_SIZE = 16
#: Pose networks with BatchNorm: in training, a batch of one image whose coarsest feature map
#: (H/32) is 1x1 leaves one value per channel, which BatchNorm cannot normalise.
BATCHNORM_POSE_NETS = ("PoseResNet",)


@dataclass
class ModelConfig:
    """Networks, by the names of :func:`packdepth.networks.build_depth_net` / ``build_pose_net``.

    Attributes:
        depth: depth network config, e.g. ``{name: ResNetDepth, num_layers: 18}`` or
            ``{name: PackNet01, version: A}`` (see :mod:`packdepth.networks.factory`).
        pose: pose network config, e.g. ``{name: PoseNet}`` or ``{name: PoseResNet}``.
        init: a packdepth model folder (``packdepth import-weights --out`` or a run's ``model/``,
            or ``shipped``: the model inside the package) whose depth (and pose, when present)
            weights initialise training.
        init_depth: start an untrained depth net near this depth (metres) everywhere; use with
            velocity supervision (metric motion from the start), together with a pose net
            ``translation_scale`` of about 1. ``None`` keeps the network's own initialisation.
    """

    depth: dict[str, Any] = field(default_factory=lambda: {"name": "ResNetDepth", "num_layers": 18})
    pose: dict[str, Any] = field(default_factory=lambda: {"name": "PoseNet"})
    init: str | None = None
    init_depth: float | None = None


@dataclass
class LossConfig:
    """Loss terms and weights.

    Attributes:
        ssim_alpha: SSIM weight in the photometric error (0.85).
        automask: monodepth2's auto-mask of static pixels.
        smoothness_weight: edge-aware smoothness (1e-3, divided by 2^s per scale).
        num_scales: scales of the inverse-depth pyramid used by the loss (1-4).
        velocity_weight: velocity supervision (scale-aware mode: 0.1); needs speed or poses.
        supervised_weight: supervised depth on sparse GT (semi-supervision); 0 = off.
        supervised_kind: ``l1``, ``berhu`` or ``silog``.
        semantic_weight: cross-entropy of the semantic-guided net; needs labels.
        prior_weight, prior_steps: warm-up towards a ground-plane depth prior
            (:mod:`packdepth.losses.prior`), decaying linearly to 0 over ``prior_steps`` steps;
            0 = off. Scale-invariant unless velocity supervision makes depth metric.
        camera_height: the camera's height above the road for the prior and the ground contact
            (KITTI: 1.65 m).
        ground_contact_weight: no pixel deeper than the road beneath it
            (:mod:`packdepth.losses.ground_contact`), for the whole run; 0 = off. Keeps
            vehicles that move with the camera from drifting to far depth.
        anchor_weight: for the whole run, keep the depth near the prediction of the initial
            model (``model.init``, frozen): scale-invariant log-depth L1 over all pixels; 0 =
            off. Fitting a pretrained model to one hard sequence (vehicles moving with the
            camera, which view synthesis explains best at infinite depth) otherwise collapses.
        align_pose: refine the pose network's poses at every step by direct photometric
            alignment with the current depth (:func:`packdepth.geometry.align.align_pose`); the
            depth loss sees the refined poses, the pose network still learns from the loss.
            With velocity supervision the refined translation keeps the pose network's length
            (the alignment sets rotation and direction only), so the metric scale reaches the
            depth.
        align_levels, align_iterations: the alignment's pyramid (pooling factors, coarse to
            fine) and Gauss-Newton steps per level.
        oracle_pose: an ablation, not self-supervision: the losses use the data's exact poses
            (``pose_gt``) instead of the pose network's, which then gets no gradient. It
            measures how much the pose estimate costs the depth.
    """

    ssim_alpha: float = 0.85
    automask: bool = True
    smoothness_weight: float = 1e-3
    num_scales: int = 4
    velocity_weight: float = 0.0
    supervised_weight: float = 0.0
    supervised_kind: Literal["l1", "berhu", "silog"] = "l1"
    semantic_weight: float = 0.0
    prior_weight: float = 0.0
    prior_steps: int = 300
    camera_height: float = 1.65
    ground_contact_weight: float = 0.0
    anchor_weight: float = 0.0
    align_pose: bool = False
    align_levels: list[int] = field(default_factory=lambda: [4, 2])
    align_iterations: int = 3
    oracle_pose: bool = False

    def __post_init__(self) -> None:
        """Settings that contradict each other are refused (one line naming the keys)."""
        if self.oracle_pose and self.align_pose:
            raise PackdepthError("loss.oracle_pose and loss.align_pose: the exact poses need no "
                                 "alignment, set one of them")

    @property
    def metric_scale(self) -> bool:
        """Velocity supervision makes depth and pose metric; otherwise they are scale-free."""
        return self.velocity_weight > 0


@dataclass
class OptimConfig:
    """Adam with a step learning-rate schedule.

    Attributes:
        lr: learning rate of both networks.
        pose_lr: learning rate of the pose network, when it should differ from ``lr``.
        weight_decay: Adam weight decay.
        step_size: epochs between learning-rate drops (0 = constant).
        gamma: learning-rate factor at each drop.
        decay_at: instead of ``step_size``, one drop by ``gamma`` once this fraction of the run
            is done (of ``max_minutes`` when set, else of ``max_steps``, else of ``max_epochs``),
            e.g. 0.75 as monodepth2's drop at epoch 15 of 20; ``None`` = off.
        grad_clip: gradient-norm clipping (0 = off).
        max_bad_steps: consecutive non-finite losses tolerated (each batch is skipped) before the
            run stops with an error.
    """

    lr: float = 2e-4
    pose_lr: float | None = None
    weight_decay: float = 0.0
    step_size: int = 0
    gamma: float = 0.5
    decay_at: float | None = None
    grad_clip: float = 10.0
    max_bad_steps: int = 20


@dataclass
class TrainerConfig:
    """How long, where and on what to train (passed on to Lightning's ``Trainer``).

    Attributes:
        out_dir: run folder: checkpoints, logs, the final model (``model/``).
        max_epochs / max_steps / max_minutes: stop at whichever comes first (-1 / None = no limit).
        batch_size, num_workers: data loading.
        val_every_steps: validation interval in training steps (0 = once per epoch).
        seed: seeds Python, NumPy and torch.
        deterministic: deterministic where the device allows it: on a CPU runs repeat exactly;
            on a GPU deterministic kernels wherever torch has them, the few operations without
            one (:data:`packdepth.training.device.CUDA_NONDETERMINISTIC`) announced by one line.
        accelerator, devices, num_nodes, strategy, precision: Lightning settings; ``accelerator:
            auto`` trains on a GPU when there is one; e.g. two CPU processes with ``devices: 2,
            strategy: ddp``; ``precision: bf16-mixed`` runs the networks in bfloat16 (geometry
            and losses stay float32): 1.7x faster on CPUs with AVX512-BF16; ``auto`` picks it
            only where the CPU supports bfloat16 natively, float32 on GPUs
            (:func:`packdepth.training.device.resolve_precision`).
        channels_last: NHWC memory layout for the networks (faster convolutions on CPU).
        log_every_steps: logging interval.
        num_log_images: depth images written to TensorBoard at each validation.
        progress_bar: show progress: Lightning's bar on a terminal, otherwise (a log file, a
            pipe) a plain line every ``progress_every_steps`` steps and after each validation.
        checkpoint_every_steps: write ``checkpoints/last.ckpt`` every this many training steps
            (0: at the end of every epoch) and when training ends; a killed run resumes from it
            (``--resume``) losing at most this many steps.
    """

    out_dir: str = "runs/default"
    max_epochs: int = 20
    max_steps: int = -1
    max_minutes: float | None = None
    batch_size: int = 4
    num_workers: int = 0
    val_every_steps: int = 0
    seed: int = 42
    deterministic: bool = True
    accelerator: str = "auto"
    devices: int | str = 1
    num_nodes: int = 1
    strategy: str = "auto"
    precision: str = "32-true"
    channels_last: bool = False
    log_every_steps: int = 10
    num_log_images: int = 4
    progress_bar: bool = True
    progress_every_steps: int = 50
    checkpoint_every_steps: int = 500


@dataclass
class TrainConfig:
    """A whole training run."""

    data: DataConfig = field(default_factory=DataConfig)
    val_data: DataConfig | None = None
    model: ModelConfig = field(default_factory=ModelConfig)
    loss: LossConfig = field(default_factory=LossConfig)
    optim: OptimConfig = field(default_factory=OptimConfig)
    trainer: TrainerConfig = field(default_factory=TrainerConfig)

    def __post_init__(self) -> None:
        """Sizes the training can run at (:func:`check_train_size`) and settings that need each
        other (``loss.anchor_weight`` needs ``model.init``); errors name the keys."""
        check_train_size(self.data.height, self.data.width, "data.height/data.width",
                         self.trainer.batch_size, self.model.pose.get("name"))
        if self.loss.anchor_weight > 0 and not self.model.init:
            raise PackdepthError("loss.anchor_weight > 0 needs model.init (the anchor)")
        if self.val_data is not None:  # validation only runs the depth net: any size
            check_image_size(self.val_data.height, self.val_data.width,
                             "val_data.height/val_data.width")


def check_train_size(height: Any, width: Any, what: str, batch_size: int = 2,
                     pose_net: str | None = None) -> tuple[int, int]:
    """``(height, width)`` if training can run at it, else a one-line :class:`PackdepthError`.

    Each side must be at least :data:`TRAIN_MIN_SIZE`; with ``batch_size`` 1, a BatchNorm pose
    net (:data:`BATCHNORM_POSE_NETS`) also needs a side over 32 pixels. ``what`` names the
    option or keys for the message (``--size``, ``data.height/data.width``).
    """
    height, width = check_image_size(height, width, what, TRAIN_MIN_SIZE, why=" for training")
    if batch_size == 1 and pose_net in BATCHNORM_POSE_NETS and max(height, width) <= 32:
        raise PackdepthError(
            f"{what}: {height}x{width} with trainer.batch_size=1 leaves {pose_net}'s BatchNorm one "
            "value per channel: use a side over 32 pixels or a batch of at least 2"
        )
    return height, width


def validation_config(data: DataConfig, **changes: Any) -> DataConfig:
    """A copy of ``data`` for validation: no augmentation, only frames with GT depth."""
    from dataclasses import replace

    return replace(data, augmentation=AugmentConfig(enabled=False), require_depth=True, **changes)
