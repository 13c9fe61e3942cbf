"""Training checkpoints that survive a kill at any moment, and are read without running code.

* :class:`AtomicCheckpointIO` writes every checkpoint (last and best) to a temporary file beside
  it, flushes it to disk and renames it (:func:`packdepth.io.atomic.atomic_path`): a final name
  always holds a complete checkpoint. Lightning's own writer opens the final name and writes
  into it. Reading uses ``torch.load(weights_only=True)``: tensors and plain data only.
* :class:`LastCheckpoint` writes ``last.ckpt`` every ``trainer.checkpoint_every_steps`` steps
  and when training ends, so that ``--resume .../last.ckpt`` after a kill loses little; the
  loader's place in the epoch travels with it (:class:`packdepth.training.data.ResumableLoader`).
* :func:`check_resumable` says in one line what a file given to ``--resume`` is when it is not a
  Lightning checkpoint of these networks.
"""

from __future__ import annotations

import json
import os
import pickle
import re
import struct
import zipfile
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

import lightning as L
import torch
from lightning.pytorch.plugins.io import TorchCheckpointIO

from packdepth.errors import PackdepthError
from packdepth.io.atomic import atomic_path, remove_temporaries

#: What every Lightning training checkpoint holds.
LIGHTNING_KEYS = ("state_dict", "optimizer_states", "loops", "global_step")


class AtomicCheckpointIO(TorchCheckpointIO):
    """Lightning's checkpoint reader/writer, writing atomically and reading weights only."""

    def save_checkpoint(self, checkpoint: dict[str, Any], path: str | os.PathLike,
                        storage_options: Any | None = None) -> None:
        """Write ``checkpoint`` to ``path``: complete, or not at all (the old file stays)."""
        if storage_options is not None:
            raise TypeError("storage_options are not supported by AtomicCheckpointIO")
        with atomic_path(path) as tmp:
            torch.save(checkpoint, tmp)

    def load_checkpoint(self, path: str | os.PathLike,
                        map_location: Callable | None = lambda storage, loc: storage,
                        weights_only: bool | None = None) -> dict[str, Any]:
        """Read a checkpoint without executing pickled code (``weights_only`` is always on)."""
        return super().load_checkpoint(path, map_location=map_location, weights_only=True)


class LastCheckpoint(L.Callback):
    """``path`` (``last.ckpt``): every ``every_steps`` training steps (0: at the end of every
    epoch) and when training ends; never twice for one step.

    At the start of a run, temporary files of checkpoint writes that a killed run left in the
    folder are deleted.
    """

    def __init__(self, path: str | os.PathLike, every_steps: int) -> None:
        self.path = Path(path)
        self.every_steps = every_steps
        self._saved_step = -1

    def setup(self, trainer: L.Trainer, pl_module: L.LightningModule, stage: str) -> None:
        if trainer.is_global_zero and self.path.parent.is_dir():
            remove_temporaries(self.path.parent, self.path.suffix)

    def _save(self, trainer: L.Trainer) -> None:
        if trainer.global_step != self._saved_step and not trainer.sanity_checking:
            trainer.save_checkpoint(self.path)
            self._saved_step = trainer.global_step

    def on_train_batch_end(self, trainer: L.Trainer, pl_module: L.LightningModule, outputs: Any,
                           batch: Any, batch_idx: int) -> None:
        if self.every_steps > 0 and trainer.global_step % self.every_steps == 0:
            self._save(trainer)

    def on_train_epoch_end(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        if self.every_steps <= 0:
            self._save(trainer)

    def on_train_end(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        self._save(trainer)


def _safetensors_metadata(path: Path, head: bytes, size: int) -> dict[str, str] | None:
    """The metadata of a safetensors file (``{}`` if it has none), ``None`` if it is not one."""
    if len(head) < 9 or head[8:9] != b"{":
        return None
    (length,) = struct.unpack("<Q", head[:8])
    if 8 + length > size:
        return None
    with open(path, "rb") as f:
        f.seek(8)
        try:
            header = json.loads(f.read(length))
        except ValueError:
            return None
    return header.get("__metadata__") or {} if isinstance(header, dict) else None


def check_resumable(path: str | os.PathLike, expected: Iterable[str]) -> int:
    """Make sure ``path`` is a Lightning checkpoint of networks with the weights ``expected``.

    Reads the file's structure and pickled index (``weights_only=True``, tensors memory-mapped,
    not read); nothing is executed.

    Args:
        path: the file given to ``--resume``.
        expected: the names of the LightningModule's ``state_dict`` entries.

    Returns:
        The checkpoint's global step.

    Raises:
        PackdepthError: one line naming the file and what it is instead: missing, a packdepth
            model or other safetensors file, not a PyTorch archive, truncated, holding pickled
            objects other than tensors and plain data, another kind of PyTorch file, or a
            checkpoint of other networks.
    """
    path = Path(path)
    if not path.is_file():
        raise PackdepthError(f"{path}: checkpoint to resume from not found")
    size = path.stat().st_size
    with open(path, "rb") as f:
        head = f.read(64)
    metadata = _safetensors_metadata(path, head, size)
    if metadata is not None:
        if "packdepth.config" in metadata:
            raise PackdepthError(
                f"{path}: a packdepth model file, not a Lightning checkpoint: start from its "
                f"weights with --set model.init={path.parent} (its folder)")
        raise PackdepthError(f"{path}: a safetensors file, not a Lightning checkpoint")
    if not head.startswith(b"PK\x03\x04"):
        raise PackdepthError(f"{path}: not a Lightning checkpoint (not a PyTorch archive)")
    if not zipfile.is_zipfile(path):
        raise PackdepthError(f"{path}: a truncated checkpoint (its end is missing: an "
                             f"interrupted copy or write?)")
    try:
        checkpoint = torch.load(path, map_location="cpu", weights_only=True, mmap=True)
    except pickle.UnpicklingError as exc:
        found = re.search(r"Unsupported global: GLOBAL (\S+)", str(exc))
        if found is None:
            raise PackdepthError(f"{path}: unreadable checkpoint (damaged pickled records)"
                                 ) from None
        raise PackdepthError(
            f"{path}: holds a pickled {found.group(1)}, not only tensors and plain data; "
            f"packdepth does not run pickled code, so it does not resume from it") from None
    except Exception as exc:  # a damaged archive: torch's errors are many and long
        reason = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise PackdepthError(f"{path}: unreadable checkpoint ({reason})") from None
    missing = [k for k in LIGHTNING_KEYS if not isinstance(checkpoint, dict) or k not in checkpoint]
    if missing:
        raise PackdepthError(f"{path}: a PyTorch file but not a Lightning training checkpoint "
                             f"(no {', '.join(missing)})")
    have, want = set(checkpoint["state_dict"]), set(expected)
    if have != want:
        lacking, extra = sorted(want - have), sorted(have - want)
        example = (lacking + extra)[0]
        raise PackdepthError(
            f"{path}: a checkpoint of other networks ({len(lacking)} weights of this config "
            f"missing, {len(extra)} unexpected, e.g. {example}): resume with the config it was "
            f"trained with")
    return int(checkpoint["global_step"])
