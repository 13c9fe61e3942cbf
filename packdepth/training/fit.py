"""Per-sequence fitting (test-time training): self-supervised training on one video or image
sequence, then depth for every one of its frames."""

from __future__ import annotations

import json
import os
import shutil
import warnings
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from packdepth.config import load_config, recipe
from packdepth.data.augment import AugmentConfig
from packdepth.data.factory import DataConfig, build_dataset, config_intrinsics
from packdepth.data.intrinsics import resolve_intrinsics
from packdepth.data.sequence import FrameRecord, SequenceDataset, load_frame
from packdepth.data.video import decode_video
from packdepth.errors import PackdepthError
from packdepth.inference import InferOptions, infer, load
from packdepth.inference.predict import DepthResult
from packdepth.inference.sources import Frame, Input
from packdepth.inference.trajectory import (
    KITTI_FILE,
    RELATIVE_FILE,
    SIDECAR_FILE,
    TUM_FILE,
    TrajectoryFiles,
    estimate_trajectory,
    write_trajectory,
)
from packdepth.interrupts import Terminated, with_hint
from packdepth.io.checkpoints import POSE_FILE, check_model_files, load_model, model_files
from packdepth.io.output_folder import OutputFolder
from packdepth.training.config import TrainConfig
from packdepth.training.run import train
from packdepth.weights import SHIPPED_MODEL, resolve_model_path

if TYPE_CHECKING:
    from packdepth.apps.metric_scale import SequenceGround


def detect_kind(source: Path) -> str:
    """``video`` for a file, ``kitti`` for a folder in the KITTI raw layout, else ``folder``."""
    if source.is_file():
        return "video"
    if not source.is_dir():
        raise PackdepthError(f"{source}: no such video file or folder")
    if any(source.glob("*/calib_cam_to_cam.txt")) or (source / "calib_cam_to_cam.txt").is_file():
        return "kitti"
    return "folder"


#: What a fit writes in its output folder: the run (logs, model, checkpoints while it trains),
#: the depth maps, the trajectory of one sequence or ``poses/<sequence>/`` of several.
FIT_OUTPUTS = ("run", "depth", "poses", KITTI_FILE, RELATIVE_FILE, TUM_FILE, SIDECAR_FILE)


@dataclass
class FitResult:
    """Where the fitted model, the per-frame depth maps and the camera trajectories are;
    ``ground``: the sequence's ground-plane scale when a camera height was given."""

    model_dir: Path
    depth_dir: Path
    frames: int
    steps: int
    trajectories: list[TrajectoryFiles] = field(default_factory=list)
    ground: SequenceGround | None = None


def init_model(init: str | os.PathLike | None) -> str | None:
    """``fit --init`` as ``model.init``: ``None`` for ``None``/``"none"`` (any case: from
    scratch), the shipped model's folder for ``"shipped"`` when no path of that name exists
    (:func:`packdepth.weights.resolve_model_path`), else the path as given."""
    if init is None or str(init).strip().lower() == "none":
        return None
    return str(resolve_model_path(init))


def fit_config(
    source: Path,
    out: Path,
    *,
    minutes: float,
    size: tuple[int, int],
    intrinsics: str | None = None,
    init: str | os.PathLike | None = SHIPPED_MODEL,
    stride: int = 1,
    overrides: list[str] = (),
    pattern: str | None = None,
) -> TrainConfig:
    """The training config of a fit: the recipes ``fast_cpu`` then ``anchored`` (with ``init``)
    or ``from_scratch``, the source's settings, then ``overrides``;
    ``pattern``: the glob of an image folder's frames (``data.pattern``).

    ``init``: the model to start from (``model.init``), by default the model shipped inside the
    package (``"shipped"``, written to the config as its folder,
    :func:`packdepth.weights.shipped_model_dir`); ``None`` or ``"none"`` (any case): from
    scratch. An init without a pose net (the shipped model is a depth net alone) gets a new pose
    net, trained at ``optim.pose_lr=1e-3`` as from scratch.

    Raises:
        PackdepthError: bad options, or ``init`` is ``"shipped"`` and the package has none.
    """
    init = init_model(init)
    kind = detect_kind(source)
    if pattern and kind != "folder":
        raise PackdepthError(f"--pattern: picks the frames of an image folder; {source} is "
                             f"{'a video file' if kind == 'video' else 'a KITTI raw folder'}")
    base = [
        f"data.kind={kind}",
        f"data.root={source}",
        f"data.height={size[0]}",
        f"data.width={size[1]}",
        f"data.stride={stride}",
        "data.skip_static=0.005" if kind in ("folder", "video") else "data.skip_static=0",
        f"trainer.out_dir={out / 'run'}",
        f"trainer.max_minutes={minutes}",
        "trainer.batch_size=4",
        "optim.lr=1e-4",
    ]
    if init:
        base.append(f"model.init={init}")
        if len(model_files(init)) == 1:  # a depth net alone (the shipped model): a new pose net
            base.append("optim.pose_lr=1e-3")  # learns at from_scratch's faster rate
    if intrinsics:
        base.append(f"data.intrinsics={intrinsics}")
    if pattern:
        base.append(f"data.pattern={json.dumps(pattern)}")  # quoted: '*' starts a YAML alias
    recipes = [recipe("fast_cpu"), recipe("anchored" if init else "from_scratch")]
    cfg = load_config(TrainConfig, recipes, base + list(overrides))
    if kind == "kitti" and cfg.data.intrinsics:
        raise PackdepthError("--intrinsics: KITTI folders carry their own calibration")
    return cfg


def _fitted_inputs(data: DataConfig) -> list[Input]:
    """The inputs of exactly the frames a fit trained on, each with the ``K`` it trained with at
    the input's native resolution: the dataset's frames (every ``stride``-th file of a folder
    matching ``data.pattern``, less static ones; a KITTI/DDAD dataset's frames), or the video
    (``infer`` takes its every ``stride``-th frame)."""
    with warnings.catch_warnings():  # a guess of the intrinsics was announced when training began
        warnings.simplefilter("ignore")
        if data.kind == "video":
            path = Path(data.root)
            width, height = next(iter(decode_video(path, 1, 1))).image.size
            K = resolve_intrinsics(config_intrinsics(data), width, height, source=str(path))
            return [Input(path, "video", path.stem, K)]
        return [Input(r.image, "image", r.name, np.asarray(r.K, np.float64)[:3, :3])
                for r in build_dataset(data).frames()]


def write_depth_maps(
    model_dir: Path, data: DataConfig, depth_dir: Path, size: tuple[int, int],
    camera_height: float | None = None,
) -> tuple[int, SequenceGround | None]:
    """Depth at each frame's own resolution (``<frame>.npz``, key ``depth``, in the model's scale,
    and ``<frame>_depth.png`` colours, as ``packdepth infer`` writes them) for exactly the frames
    fitted, named as the training data names them: an image folder's every ``stride``-th file
    (matching ``data.pattern``) less the static ones dropped (``data.skip_static``), as in the
    trajectory; a video's every ``stride``-th frame; the frames of a KITTI/DDAD dataset.

    Every npz holds the ``K`` the frames were fitted with (``[3,3]`` at the frame's resolution:
    given, from the calibration, or guessed as
    :func:`~packdepth.data.intrinsics.default_intrinsics`, then marked ``K_guessed``).

    With ``camera_height`` (metres), the depth maps are multiplied by the median ground-plane
    scale of the sequence's frames (:func:`packdepth.apps.metric_scale.sequence_ground`) and
    labelled metric (npz ``scale``); when no frame shows a ground plane they stay relative.
    Returns the number of frames and the sequence's ground scale (``None`` without a height)."""
    model = load(model_dir, device="cpu", size=size)
    inputs = _fitted_inputs(data)
    guessed = data.kind in ("video", "folder") and config_intrinsics(data) is None
    ground = None
    if camera_height is not None:
        from packdepth.apps.metric_scale import sequence_ground  # scikit-learn: only here

        ground = sequence_ground(model, inputs, camera_height, stride=data.stride,
                                 max_frames=data.max_frames)
    options = InferOptions(save=("npz", "viz"), stride=data.stride, max_frames=data.max_frames,
                           progress=False, scale=ground.scale if ground else None,
                           rescale=_mark_guessed if guessed else None)
    return infer(model, inputs, depth_dir, options).frames, ground


def _mark_guessed(frame: Frame, result: DepthResult) -> DepthResult:
    return replace(result, K_guessed=True)


def frame_sequences(dataset: SequenceDataset) -> list[list[FrameRecord]]:
    """The dataset's frames per sequence, in temporal order.

    Frames are taken as met walking the samples in order (each sample's frames by offset, the
    target at 0) and grouped by the folder part of their names (a KITTI drive and camera, a
    video; an image folder is one sequence).
    """
    ordered: dict[str, FrameRecord] = {}
    for sample in dataset.samples:
        slots = zip((*dataset.offsets, 0), (*sample.context, sample.target))
        for _, record in sorted(slots, key=lambda slot: slot[0]):
            ordered.setdefault(record.name, record)
    groups: dict[str, list[FrameRecord]] = {}
    for record in ordered.values():
        groups.setdefault(record.name.rpartition("/")[0], []).append(record)
    return list(groups.values())


def write_trajectories(
    pose_path: Path, data: DataConfig, out: Path, size: tuple[int, int], *, metric: bool,
    tum: bool = False,
) -> list[TrajectoryFiles]:
    """The fitted pose network's camera trajectory of every sequence
    (:func:`~packdepth.inference.trajectory.write_trajectory`): in ``out`` for one sequence, in
    ``out/poses/<sequence>/`` for several."""
    pose_net = load_model(pose_path, kind="pose")
    dataset = build_dataset(data)
    sequences = frame_sequences(dataset)
    written = []
    for records in sequences:
        folder = out if len(sequences) == 1 else out / "poses" / records[0].name.rpartition("/")[0]
        P = estimate_trajectory(pose_net, (load_frame(r) for r in records), size=size,
                                offsets=dataset.offsets)
        written.append(write_trajectory(
            folder, P, metric=metric, frame_names=[r.name for r in records],
            timestamps=[r.timestamp for r in records], tum=tum))
    return written


def fit(
    source: str | os.PathLike,
    out: str | os.PathLike,
    *,
    tum: bool = False,
    camera_height: float | None = None,
    overwrite: bool = False,
    keep_checkpoints: bool = False,
    **kwargs,
) -> FitResult:
    """Fit on ``source`` (video, image folder or KITTI raw folder) and write ``out/depth`` and the
    camera trajectory (``out/poses_kitti.txt``, ..., TUM too with ``tum``); with
    ``camera_height`` (metres) the depth maps are metric (:func:`write_depth_maps`). The
    trajectory stays in the pose network's units (metric only with velocity supervision).
    ``kwargs`` are :func:`fit_config`'s: ``init`` starts from the shipped model by default
    (``init="none"`` or ``None``: from scratch).

    ``out`` must be absent or empty; with ``overwrite`` it may hold an earlier fit's outputs
    (:data:`FIT_OUTPUTS`, deleted once the new fit's data is checked), never other files. The
    run's Lightning checkpoints (``out/run/checkpoints``) are deleted after a fit that finished
    (a fit does not resume), unless ``keep_checkpoints``; its model, logs and config stay.

    Raises:
        PackdepthError: bad input, options or output folder (nothing written).
        KeyboardInterrupt, Terminated: Ctrl-C or SIGTERM: no depth or trajectory written after
            it (the message says how to start again).
    """
    source, out = Path(source), Path(out)
    cfg = fit_config(source, out, **kwargs)
    outputs = OutputFolder(out, FIT_OUTPUTS, "packdepth fit", overwrite)
    outputs.check()
    if cfg.model.init:
        check_model_files(cfg.model.init)  # before train() creates the run folder
    if camera_height is not None and cfg.data.kind in ("video", "folder") \
            and config_intrinsics(cfg.data) is None:
        raise PackdepthError(f"{source}: --camera-height needs the camera intrinsics to fit the "
                             "ground plane (--intrinsics)")
    try:
        result = train(cfg, outputs=outputs)
        data = replace(cfg.data, augmentation=AugmentConfig(enabled=False))
        size = (cfg.data.height, cfg.data.width)
        n, ground = write_depth_maps(result.model_dir, data, out / "depth", size, camera_height)
        trajectories = write_trajectories(result.model_dir / POSE_FILE, data, out, size,
                                          metric=cfg.loss.metric_scale, tum=tum)
    except (KeyboardInterrupt, Terminated) as exc:
        raise with_hint(exc, f"the fit wrote no depth or trajectory; to start again, run it "
                        f"with --overwrite (it replaces {out})") from None
    if not keep_checkpoints:
        shutil.rmtree(Path(cfg.trainer.out_dir) / "checkpoints", ignore_errors=True)
    return FitResult(result.model_dir, out / "depth", n, result.global_step, trajectories, ground)
