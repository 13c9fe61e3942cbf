"""Training data for Lightning: an epoch-seeded order that a resumed run continues exactly."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import lightning as L
import torch
from torch.utils.data import DataLoader, Dataset, Sampler

from packdepth.data.factory import build_dataset
from packdepth.errors import PackdepthError
from packdepth.training.config import TrainConfig


class EpochShuffle(Sampler[int]):
    """A shuffling sampler whose order depends only on ``(seed, epoch)``.

    Lightning calls :meth:`set_epoch` before every epoch, so a run resumed from a checkpoint sees
    exactly the batches an uninterrupted run would. ``skip`` drops the first indices of the next
    pass only (set by :class:`ResumableLoader` to continue an epoch in the middle).
    """

    def __init__(self, size: int, seed: int) -> None:
        self.size, self.seed, self.epoch, self.skip = size, seed, 0, 0

    def set_epoch(self, epoch: int) -> None:
        self.epoch = epoch

    def __iter__(self) -> Iterator[int]:
        gen = torch.Generator().manual_seed(self.seed * 1_000_003 + self.epoch)
        skip, self.skip = self.skip, 0
        return iter(torch.randperm(self.size, generator=gen)[skip:].tolist())

    def __len__(self) -> int:
        return self.size


class ResumableLoader(DataLoader):
    """The training loader: tells the dataset the epoch (augmentation draws differ per epoch and
    repeat) and keeps its place in the epoch in checkpoints.

    Lightning saves ``state_dict()`` of loaders that have one with every checkpoint and, when a
    run restarts in the middle of an epoch, hands it back through ``load_state_dict``; the
    :class:`EpochShuffle` sampler then skips the batches that the checkpointed run already
    trained on, so the resumed run sees the rest of that epoch as the uninterrupted run did
    (without it, Lightning restarts the epoch's order and counts the batches as already done).
    Under DDP Lightning swaps in its distributed sampler: the step count is kept, the batches of
    the interrupted epoch are not.
    """

    _epoch, _delivered, _resume = 0, 0, None

    def __iter__(self) -> Iterator[Any]:
        sampler = self.sampler
        epoch = getattr(sampler, "epoch", 0)
        start = 0
        if self._resume is not None and self._resume[0] == epoch and isinstance(sampler,
                                                                               EpochShuffle):
            start = self._resume[1]
            sampler.skip = start * self.batch_size
        self._resume = None
        if hasattr(self.dataset, "set_epoch"):
            self.dataset.set_epoch(epoch)
        self._epoch, self._delivered = epoch, start
        for batch in super().__iter__():
            self._delivered += 1
            yield batch

    def state_dict(self) -> dict[str, int]:
        """``{"epoch": e, "batches": n}``: ``n`` batches of epoch ``e`` handed out so far."""
        return {"epoch": self._epoch, "batches": self._delivered}

    def load_state_dict(self, state: dict[str, int]) -> None:
        """Continue epoch ``state["epoch"]`` after its first ``state["batches"]`` batches."""
        self._resume = (int(state["epoch"]), int(state["batches"]))


class DepthDataModule(L.LightningDataModule):
    """Training and (optional) validation datasets of a :class:`TrainConfig`."""

    def __init__(self, cfg: TrainConfig) -> None:
        super().__init__()
        self.cfg = cfg
        self.train_set: Dataset | None = None
        self.val_set: Dataset | None = None

    def setup(self, stage: str | None = None) -> None:
        if self.train_set is None:
            self.train_set = build_dataset(self.cfg.data)
            if len(self.train_set) < self.cfg.trainer.batch_size:
                raise PackdepthError(
                    f"{self.cfg.data.root}: {len(self.train_set)} training samples, fewer than "
                    f"one batch of {self.cfg.trainer.batch_size}"
                )
        if self.val_set is None and self.cfg.val_data is not None:
            self.val_set = build_dataset(self.cfg.val_data)

    def _loader(self, dataset: Dataset, train: bool) -> DataLoader:
        tc = self.cfg.trainer
        return (ResumableLoader if train else DataLoader)(
            dataset,
            batch_size=tc.batch_size if train else 1,  # GT sizes may differ between drives
            sampler=EpochShuffle(len(dataset), tc.seed) if train else None,
            drop_last=train,
            num_workers=tc.num_workers,
            persistent_workers=tc.num_workers > 0,  # no respawn (and re-import) every epoch
            # The loaders' own seed draws (worker seeds) leave the global random state, which
            # the training step uses and checkpoints carry, alone: a resumed run repeats it.
            generator=torch.Generator().manual_seed(tc.seed),
        )

    def train_dataloader(self) -> DataLoader:
        return self._loader(self.train_set, train=True)

    def val_dataloader(self) -> DataLoader | list:
        return self._loader(self.val_set, train=False) if self.val_set is not None else []
