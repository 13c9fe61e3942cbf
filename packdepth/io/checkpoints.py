"""packdepth's own weight files, and the importers for official weights.

A packdepth model file is one safetensors file whose metadata holds, as JSON, the network config
(``packdepth.config``: the dict :func:`packdepth.networks.build_network` rebuilds it from) and
free-form facts (``packdepth.info``: source, training size, ...). :func:`load_model` needs nothing
else. Files are written atomically; reading never unpickles anything.
"""

from __future__ import annotations

import contextlib
import json
import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import safetensors
import safetensors.torch
import torch
from torch import nn

from packdepth.errors import PackdepthError
from packdepth.io.atomic import atomic_path
from packdepth.io.identify import (
    CONFIG_KEY,
    DEPTH_FILE,
    POSE_FILE,
    identify,
    model_folder,
    not_a_model,
)
from packdepth.io.weight_import import (
    ImportResult,
    MatchReport,
    WeightMismatchError,
    import_monodepth2,
    import_packnet_ckpt,
    load_torch_file,
)
from packdepth.networks import DEPTH_NETS, POSE_NETS, build_network

__all__ = [
    "ImportResult",
    "MatchReport",
    "WeightMismatchError",
    "check_model",
    "check_model_files",
    "import_monodepth2",
    "import_packnet_ckpt",
    "load_model",
    "load_torch_file",
    "model_file",
    "model_files",
    "network_kind",
    "read_model_info",
    "save_model",
    "save_models",
]

FORMAT_VERSION = "1"
INFO_KEY, VERSION_KEY = "packdepth.info", "packdepth.format"


def model_file(path: str | os.PathLike, which: str = "depth") -> Path:
    """The ``depth``/``pose`` network file of a model folder or of a training run folder (its
    ``model/``, :func:`~packdepth.io.identify.model_folder`), or ``path`` itself if it is a file.

    Raises:
        PackdepthError: ``path`` does not exist, or is a folder without that file; the message
            says what the folder is (a monodepth2 folder, a run without a model, ...) and what
            to do.
    """
    path = model_folder(path)
    if not path.exists():
        raise PackdepthError(f"{path}: no such model file or folder")
    if path.is_dir():
        file = path / (DEPTH_FILE if which == "depth" else POSE_FILE)
        if not file.is_file():
            raise not_a_model(path, which=which)
        return file
    return path


def _resolve_config(model: nn.Module, config: Mapping[str, Any] | None) -> dict[str, Any]:
    config = dict(config if config is not None else getattr(model, "config", None) or {})
    if config.get("name") not in {**DEPTH_NETS, **POSE_NETS}:
        raise ValueError(f"config must name a registered network, got {config!r}")
    json.dumps(config)  # must be JSON-serialisable
    return config


def _stored(tensor: torch.Tensor, dtype: torch.dtype | None) -> torch.Tensor:
    """``tensor`` as written: on the CPU, contiguous, floating ones cast to ``dtype`` if given
    (integer buffers such as BatchNorm's ``num_batches_tracked`` keep theirs)."""
    tensor = tensor.detach().cpu()
    if dtype is not None and tensor.is_floating_point():
        tensor = tensor.to(dtype)
    return tensor.contiguous()


def save_models(items: Sequence[tuple[nn.Module, str | os.PathLike, Mapping[str, Any] | None,
                                      Mapping[str, Any] | None]],
                dtype: torch.dtype | None = None) -> None:
    """Write several ``(model, path, config, info)`` files all-or-nothing (cf. save_model)."""
    prepared = [(model, path, _resolve_config(model, config), dict(info or {}))
                for model, path, config, info in items]
    with contextlib.ExitStack() as stack:
        for model, path, config, info in prepared:
            tmp = stack.enter_context(atomic_path(path))
            tensors = {k: _stored(v, dtype) for k, v in model.state_dict().items()}
            metadata = {CONFIG_KEY: json.dumps(config), INFO_KEY: json.dumps(info, default=str),
                        VERSION_KEY: FORMAT_VERSION, "format": "pt"}
            mode = tmp.stat().st_mode  # the umask's: safetensors >= 0.8 replaces it with 0600
            safetensors.torch.save_file(tensors, str(tmp), metadata=metadata)
            os.chmod(tmp, mode)


def save_model(model: nn.Module, path: str | os.PathLike,
               config: Mapping[str, Any] | None = None,
               info: Mapping[str, Any] | None = None,
               dtype: torch.dtype | None = None) -> None:
    """Save ``model``'s state dict to ``path`` (safetensors) with its config inside.

    Args:
        model: a packdepth network.
        path: the ``.safetensors`` file to write (atomically).
        config: ``{"name": ..., **kwargs}`` rebuilding the network; defaults to ``model.config``.
        info: JSON-serialisable facts to keep with the weights (e.g. the import source).
        dtype: store the floating tensors in this dtype (``torch.float16``: half the size;
            :func:`load_model` casts them back to the network's); ``None`` keeps theirs.
    """
    save_models([(model, path, config, info)], dtype)


def _read_metadata(path: str | os.PathLike) -> dict[str, str]:
    path = Path(path)
    if path.is_dir():
        raise not_a_model(path)
    if not path.is_file():
        raise PackdepthError(f"{path}: no such file")
    kind = identify(path)
    if kind.key != "packdepth-model":  # say what it is instead: a Lightning checkpoint, ...
        raise not_a_model(path, kind)
    try:
        with safetensors.safe_open(str(path), framework="pt") as f:
            metadata = f.metadata() or {}
    except Exception as exc:
        raise PackdepthError(f"{path}: a corrupt safetensors file ({exc})") from exc
    return metadata


def read_model_info(path: str | os.PathLike) -> tuple[dict[str, Any], dict[str, Any]]:
    """``(config, info)`` stored in a packdepth model file, without loading the weights."""
    metadata = _read_metadata(path)
    try:
        return json.loads(metadata[CONFIG_KEY]), json.loads(metadata.get(INFO_KEY, "{}"))
    except json.JSONDecodeError as exc:
        raise PackdepthError(f"{path}: corrupt {CONFIG_KEY} metadata ({exc})") from exc


def network_kind(config: Mapping[str, Any]) -> str:
    """``"depth"`` or ``"pose"``: which registry a stored network config belongs to."""
    return "pose" if config.get("name") in POSE_NETS else "depth"


def model_files(path: str | os.PathLike) -> list[tuple[str, Path]]:
    """``[("depth", file), ("pose", file)]`` of a model or run folder (the pose file when it has
    one), or ``[("depth", path)]`` for a single file: what ``model.init``/``fit --init`` load."""
    folder = model_folder(path)
    files = [("depth", model_file(folder))]
    if (folder / POSE_FILE).is_file():
        files.append(("pose", folder / POSE_FILE))
    return files


def check_model(path: str | os.PathLike, kind: str | None = None) -> dict[str, Any]:
    """The network config of the packdepth model file ``path`` after :func:`load_model`'s
    checks of the file and its kind, reading only the header (no weights).

    Raises:
        PackdepthError: as :func:`load_model`, except for weights that do not match.
    """
    config, _ = read_model_info(path)
    if kind is not None and network_kind(config) != kind:
        raise PackdepthError(f"{path}: a {config.get('name')}, not a {kind} network")
    return config


def check_model_files(path: str | os.PathLike) -> None:
    """:func:`check_model` every file of :func:`model_files` ``(path)`` for its kind: a wrong
    ``model.init`` is refused before a training creates its output folder."""
    for which, file in model_files(path):
        check_model(file, which)


def load_model(path: str | os.PathLike, device: str = "cpu", kind: str | None = None
               ) -> nn.Module:
    """Rebuild the network saved at ``path`` from its stored config and load its weights.

    Args:
        path: a packdepth ``.safetensors`` model file, or a model folder (``import-weights
            --out``, a run's ``model/``) or a training run folder: its
            ``depth_net.safetensors`` (``pose_net`` for ``kind="pose"``); or ``"shipped"``,
            the model inside the package (:mod:`packdepth.weights`). Stored float16 (or any
            other floating) tensors are copied into the network's float32 parameters.
        device: where to put the weights.
        kind: ``"depth"`` or ``"pose"`` to insist on that kind of network; ``None`` takes either.

    Returns the network in eval mode.

    Raises:
        PackdepthError: one line naming the file and what it is when it is not a packdepth
            model: the other kind of network than ``kind`` ("a PoseNet, not a depth network"),
            a Lightning checkpoint (use its run's ``model/`` folder: packdepth never unpickles
            a training checkpoint to take its weights), an official packnet-sfm or monodepth2
            file (convert it with ``packdepth import-weights``), a truncated file, ...; or when
            its tensors do not match the network exactly.
    """
    path = model_folder(path)  # the name ``shipped``: the shipped model's folder
    if path.is_dir():
        path = model_file(path, kind or "depth")
    config = check_model(path, kind)
    model = build_network(config)
    try:
        tensors = safetensors.torch.load_file(str(path), device=device)
    except Exception as exc:
        raise PackdepthError(f"{path}: unreadable tensors ({exc})") from exc
    expected = model.state_dict()
    missing = [k for k in expected if k not in tensors]
    unexpected = [k for k in tensors if k not in expected]
    wrong = [k for k in expected if k in tensors and tensors[k].shape != expected[k].shape]
    if missing or unexpected or wrong:
        example = (missing + unexpected + wrong)[0]
        raise PackdepthError(f"{path}: weights do not match {config.get('name')}: "
                             f"{len(missing)} missing, {len(unexpected)} unexpected, "
                             f"{len(wrong)} wrong shapes (e.g. {example})")
    model.load_state_dict(tensors, strict=True)
    return model.to(device).eval()
