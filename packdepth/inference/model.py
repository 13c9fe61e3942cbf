"""Load a depth model for inference from any of the forms packdepth knows (:func:`load`).

Accepted forms of ``MODEL``, tried in this order:

0. the name ``shipped`` (:data:`packdepth.weights.SHIPPED_MODEL`) when no file or folder of that
   name exists: the model shipped inside the package (form 2; the default of :func:`load`);
1. a :class:`Model` (returned as is, with ``size`` applied);
2. a packdepth model folder (``depth_net.safetensors`` [+ ``pose_net.safetensors``]), as
   ``import-weights --out`` and training write it;
3. a training run folder: its ``model/`` subfolder;
4. a monodepth2 weight folder (``encoder.pth`` + ``depth.pth`` [+ ``pose_encoder.pth`` +
   ``pose.pth``]), imported on the fly;
5. a packdepth model file (``.safetensors``): that one network, which must be a depth network;
6. any other file: an official packnet-sfm checkpoint (``.ckpt``, legacy ``.pth.tar``), imported
   on the fly.

Nothing is unpickled as code: safetensors, or ``torch.load(weights_only=True)`` and the project's
restricted unpickler (:mod:`packdepth.io.weight_import`).

Speed: by default the depth network is rewritten for the fastest exact inference (PackNet's
packing layers fused, ResNets channels-last: :func:`packdepth.inference.fast.prepare_network`);
``fuse=False`` keeps the reference layers. ``precision="bf16"`` (opt-in) casts it to bfloat16:
faster on CPUs with AVX512-BF16/AMX, about 1 % relative error.

Network input size, by preference: ``size``; the ``height``/``width`` the model records (packdepth
training, monodepth2's ``encoder.pth``, packnet-sfm's ``datasets.augmentation.image_shape``);
:data:`DEFAULT_SIZE`, the KITTI training size of monodepth2 and PackNet.

Scale: depth is **metric** when the model was trained with velocity supervision (``metric`` in
the model file's info, written by training) or is a monodepth2 stereo / mono+stereo model
(``use_stereo``; its depth is multiplied by :data:`STEREO_SCALE`, monodepth2's
``STEREO_SCALE_FACTOR``, the KITTI baseline over the 0.1 training baseline). Otherwise it is
**relative**: right up to one unknown factor per model (imported packnet-sfm checkpoints are
labelled relative: their files do not say reliably how they were trained).
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import torch
from torch import nn

from packdepth.config import check_image_size
from packdepth.errors import PackdepthError
from packdepth.inference.fast import check_precision, prepare_network
from packdepth.io.checkpoints import (
    DEPTH_FILE,
    POSE_FILE,
    import_monodepth2,
    import_packnet_ckpt,
    load_model,
    read_model_info,
)
from packdepth.io.identify import identify, model_folder, not_a_model
from packdepth.weights import SHIPPED_MODEL, resolve_model_path

#: Network input ``(height, width)`` when neither the caller nor the model gives one.
DEFAULT_SIZE = (192, 640)
#: monodepth2's ``STEREO_SCALE_FACTOR``: metres per unit of its stereo-trained depth.
STEREO_SCALE = 5.4


@dataclass
class Model:
    """A depth network ready for :func:`packdepth.predict`, and what is known about it.

    Attributes:
        depth_net: the depth network, in eval mode on ``device``.
        pose_net: the pose network when the source has one (for camera trajectories), or ``None``.
        size: the network input ``(height, width)``; images are resized to it and the depth
            resized back to the image's own resolution.
        metric: whether depth comes out in metres (see the module docstring).
        source: where the model was loaded from.
        device: where the networks run.
        depth_scale: factor applied to the network's depth (``STEREO_SCALE`` for monodepth2
            stereo models, else 1).
        info: the facts stored with the model (training size, steps, import source, ...).
        precision: ``"fp32"`` or ``"bf16"``: the depth network's dtype.
    """

    depth_net: nn.Module
    pose_net: nn.Module | None
    size: tuple[int, int]
    metric: bool
    source: str
    device: torch.device
    depth_scale: float = 1.0
    info: dict[str, Any] = field(default_factory=dict)
    precision: str = "fp32"

    def __repr__(self) -> str:
        """One line: networks, parameters, input size, scale, device, source (not the layers)."""
        params = sum(p.numel() for p in self.depth_net.parameters())
        pose = f" + {type(self.pose_net).__name__}" if self.pose_net is not None else ""
        scale = "metric" if self.metric else "relative"
        return (f"Model({type(self.depth_net).__name__}{pose}, {params / 1e6:.1f}M depth "
                f"parameters, input {self.size[0]}x{self.size[1]}, {scale} depth, "
                f"device {self.device}, from {self.source!r})")


def resolve_device(device: str | torch.device = "auto") -> torch.device:
    """``auto`` → ``cuda`` when available, else ``cpu``; an unavailable device is an error."""
    if str(device) == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    try:
        dev = torch.device(device)
    except (RuntimeError, TypeError) as exc:
        raise PackdepthError(f"--device: not a device ({exc})") from None
    if dev.type == "cuda" and not torch.cuda.is_available():
        raise PackdepthError(f"--device {device}: CUDA is not available on this machine")
    if dev.type == "mps" and not torch.backends.mps.is_available():
        raise PackdepthError(f"--device {device}: Apple's MPS is not available on this machine "
                             "(use cpu or auto)")
    try:  # any other device that cannot hold data here (a backend not built in, meta)
        torch.zeros(1, device=dev).cpu()
    except (RuntimeError, AssertionError, NotImplementedError) as exc:
        reason = str(exc).strip().split(". ")[0].splitlines()[0] if str(exc).strip() else ""
        raise PackdepthError(f"--device {device}: not available on this machine "
                             f"({reason or type(exc).__name__}; use cpu or auto)") from None
    return dev


def _recorded_size(info: dict[str, Any]) -> tuple[int, int] | None:
    try:
        h, w = int(info["height"]), int(info["width"])
    except (KeyError, TypeError, ValueError):
        return None
    return (h, w) if h > 0 and w > 0 else None


def _check_size(size: tuple[int, int] | None) -> tuple[int, int] | None:
    return None if size is None else check_image_size(*size, "--size")


def _networks(path: Path, device: torch.device) -> tuple[nn.Module, nn.Module | None, dict]:
    """``(depth_net, pose_net, info)`` of every path form (module docstring, forms 2-6)."""
    if path.is_dir():
        folder = model_folder(path)  # a run folder: its model/
        if (folder / DEPTH_FILE).is_file():
            depth = load_model(folder / DEPTH_FILE, str(device), kind="depth")
            pose_file = folder / POSE_FILE
            pose = load_model(pose_file, str(device), kind="pose") if pose_file.is_file() \
                else None
            return depth, pose, read_model_info(folder / DEPTH_FILE)[1]
        if (path / "encoder.pth").is_file():
            imported = import_monodepth2(path)
        else:
            raise not_a_model(path)
    elif not path.is_file():
        raise not_a_model(path)
    elif path.suffix.lower() == ".safetensors":
        return load_model(path, str(device), kind="depth"), None, read_model_info(path)[1]
    else:
        kind = identify(path)
        if kind.key not in ("packnet-sfm", "torch"):
            raise not_a_model(path, kind)
        imported = import_packnet_ckpt(path)
    pose = imported.pose_net.to(device).eval() if imported.pose_net is not None else None
    return imported.depth_net.to(device).eval(), pose, dict(imported.info)


def load(
    model: str | os.PathLike | Model = SHIPPED_MODEL,
    *,
    device: str | torch.device = "auto",
    size: tuple[int, int] | None = None,
    fuse: bool = True,
    precision: str = "fp32",
) -> Model:
    """Load a depth model (and its pose network, when there is one) for inference.

    Args:
        model: a :class:`Model`, a packdepth model folder or file, a training run folder, a
            monodepth2 weight folder or a packnet-sfm ``.ckpt`` (see the module docstring);
            default ``"shipped"``: the model shipped inside the package.
        device: ``"auto"`` (CUDA when available, else CPU), ``"cpu"``, ``"cuda"``, ``"cuda:1"``...
        size: network input ``(height, width)``; default: the size the model records, else
            :data:`DEFAULT_SIZE`.
        fuse: rewrite the depth network for the fastest exact inference (fused PackNet layers,
            channels-last ResNets; outputs equal up to float rounding, ≤ 1e-5 relative);
            ``False`` runs the reference layers. Ignored for a :class:`Model`.
        precision: ``"fp32"`` or ``"bf16"`` (the depth network cast to bfloat16; opt-in, about
            1 % relative error). Ignored for a :class:`Model`.

    Returns:
        The :class:`Model`.

    Raises:
        PackdepthError: the path is missing or not a model, the file holds a pose network, the
            weights do not match their network, the device is not available, or ``"shipped"``
            is asked for and the package has no shipped model.
        ValueError: an unknown ``precision``.

    Example:
        >>> model = packdepth.load("demo_out/model")             # doctest: +SKIP
        >>> model.size, model.metric                             # doctest: +SKIP
        ((96, 320), False)
    """
    size = _check_size(size)
    if isinstance(model, Model):
        return replace(model, size=size) if size else model
    dev = resolve_device(device)
    check_precision(precision, dev)
    path = resolve_model_path(model)  # the name ``shipped``: the model inside the package
    depth_net, pose_net, info = _networks(path, dev)
    depth_net = prepare_network(depth_net, fused=fuse, precision=precision)
    stereo = bool(info.get("use_stereo", False))
    return Model(
        depth_net=depth_net,
        pose_net=pose_net,
        size=size or _recorded_size(info) or DEFAULT_SIZE,
        metric=bool(info.get("metric", False)) or stereo,
        source=str(path),
        device=dev,
        depth_scale=STEREO_SCALE if stereo else 1.0,
        info=info,
        precision=precision,
    )
