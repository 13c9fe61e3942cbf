"""The one frame-sequence dataset every source (synthetic, KITTI, DDAD, folders, videos) builds on.

A source describes its frames as :class:`FrameRecord` objects (image, intrinsics at the image's own
resolution, optional pose/timestamp/speed/depth/semantic) and pairs each target frame with its
context frames (:class:`Sample`). :class:`SequenceDataset` turns a sample into the item dict of
:mod:`packdepth.data` (resizing, intrinsics scaling, GT attachment, augmentation), so the sources
only differ in how they find their files.

Ground truth is attached per dataset, never per item (the contract of :mod:`packdepth.data`):

- ``depth_gt``: when any target has a depth source; targets without one get an all-zero map
  (0 = no depth) of their image's native size.
- ``pose_gt`` and ``translation_gt``: when every target and context frame has a camera-to-world
  pose. Otherwise ``translation_gt`` alone when every frame has a timestamp and a speed:
  ``translation = (speed_target + speed_context) / 2 * |t_context - t_target|``.
- ``semantic``: when every target has labels.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from PIL import Image
from torch import Tensor
from torch.utils.data import Dataset

from packdepth.data.augment import AugmentConfig, augment_item
from packdepth.data.images import open_image, read_image, read_rgb
from packdepth.errors import PackdepthError
from packdepth.geometry import relative_pose, scale_intrinsics

ImageSource = Path | Callable[[], np.ndarray]
"""An image file, or a callable returning a ``[H,W,3]`` uint8 RGB array (e.g. a decoded frame)."""


@dataclass(frozen=True)
class FrameRecord:
    """Everything known about one frame.

    Attributes:
        image: the image (file path or loader, see :data:`ImageSource`).
        K: ``[3,3]`` intrinsics at the resolution of ``image`` as it loads.
        name: a stable identifier, e.g. ``2011_09_26/..._sync/image_02/0000000005``.
        pose: ``[4,4]`` camera-to-world transform, or ``None``.
        timestamp: seconds, or ``None``.
        speed: metres per second, or ``None``.
        depth: loader of the ``[Hg,Wg]`` float32 GT depth in metres (0 = none), or ``None``.
        semantic: a uint8 label PNG, or a loader of an ``[Hs,Ws]`` integer array, or ``None``.
    """

    image: ImageSource
    K: np.ndarray
    name: str
    pose: np.ndarray | None = None
    timestamp: float | None = None
    speed: float | None = None
    depth: Callable[[], np.ndarray] | None = None
    semantic: Path | Callable[[], np.ndarray] | None = None


@dataclass(frozen=True)
class Sample:
    """A target frame and its context frames, in the order of the dataset's offsets."""

    target: FrameRecord
    context: tuple[FrameRecord, ...]


def samples_from_sequence(frames: Sequence[FrameRecord], offsets: Sequence[int]) -> list[Sample]:
    """Every frame of a temporally ordered sequence that has all its context frames.

    With offsets ``(-1, 1)`` and 5 frames the targets are frames 1, 2 and 3.
    """
    lo = -min(0, *offsets) if offsets else 0
    hi = len(frames) - max(0, *offsets) if offsets else len(frames)
    return [
        Sample(frames[i], tuple(frames[i + o] for o in offsets)) for i in range(lo, max(lo, hi))
    ]


def load_frame(record: FrameRecord) -> Tensor:
    """A frame's image at its native (upright) resolution: ``[3,H,W]`` float in [0,1] (files at
    their full bit depth, :func:`~packdepth.data.images.read_image`)."""
    if isinstance(record.image, Path):
        arr = read_image(record.image, np.float32)
    else:
        arr = np.asarray(_load_image(record.image), dtype=np.float32) / 255.0
    return torch.from_numpy(arr).permute(2, 0, 1).contiguous()


def _load_image(source: ImageSource) -> Image.Image:
    if isinstance(source, Path):
        return read_rgb(source)
    return Image.fromarray(np.ascontiguousarray(source(), dtype=np.uint8)).convert("RGB")


def _load_semantic(source: Path | Callable[[], np.ndarray]) -> np.ndarray:
    if not isinstance(source, Path):
        return np.asarray(source())
    with open_image(source, "label PNG") as img:
        return np.array(img)


def item_seed(seed: int, epoch: int, index: int) -> int:
    """Seed of one item's augmentation: the same for any number of workers or batch order."""
    return int(np.random.SeedSequence([seed, epoch, index]).generate_state(1)[0])


class FrameCache:
    """Decoded frames kept in memory up to a byte budget (each frame serves as a target and as
    its neighbours' context, every epoch): first come, first kept; beyond the budget, frames are
    decoded each time. Returned arrays are the cached ones: callers copy before changing them."""

    def __init__(self, budget_bytes: int) -> None:
        self.budget, self.used = int(budget_bytes), 0
        self._items: dict[tuple[str, str], np.ndarray] = {}

    def get(self, key: tuple[str, str], load: Callable[[], np.ndarray]) -> np.ndarray:
        found = self._items.get(key)
        if found is not None:
            return found
        value = load()
        if self.used + value.nbytes <= self.budget:
            self._items[key] = value
            self.used += value.nbytes
        return value


class SequenceDataset(Dataset):
    """Target + context frames at a fixed resolution, with GT when the source has it.

    Args:
        samples: the targets and their context frames (see :func:`samples_from_sequence`).
        offsets: the frame offsets of each sample's context, e.g. ``(-1, 1)``.
        height, width: the returned resolution; images are resized (Lanczos, edges to edges),
            intrinsics scaled with :func:`~packdepth.geometry.scale_intrinsics`.
        augment: augmentation of the network inputs (``image_aug``, ``context_aug``; see
            :mod:`packdepth.data.augment`), or ``None`` for none (validation).
        seed: seed of the augmentation; with :meth:`set_epoch`, items are reproducible.
        source: what the samples came from (named in errors), e.g. a folder.
        cache_mb: memory for decoded frames (:class:`FrameCache`; per data-loader worker).
    """

    def __init__(
        self,
        samples: Sequence[Sample],
        offsets: Sequence[int],
        height: int,
        width: int,
        *,
        augment: AugmentConfig | None = None,
        seed: int = 0,
        source: str = "dataset",
        cache_mb: float = 1024.0,
    ) -> None:
        if height <= 0 or width <= 0:
            raise PackdepthError(f"{source}: output size must be positive, got {height}x{width}")
        if not samples:
            span = max(0, *offsets) - min(0, *offsets) + 1
            raise PackdepthError(
                f"{source}: no frame has all its context frames (offsets {tuple(offsets)}): a "
                f"sequence needs at least {span} usable frames in a row (after stride and "
                "dropping static frames)"
            )
        self.samples = list(samples)
        self.offsets = tuple(int(o) for o in offsets)
        self.height, self.width = int(height), int(width)
        self.augment = augment
        self.seed, self.epoch = int(seed), 0
        self.cache = FrameCache(int(cache_mb * 2**20))
        self._native_size: dict[str, tuple[int, int]] = {}
        targets = [s.target for s in self.samples]
        frames = targets + [c for s in self.samples for c in s.context]
        self.has_depth = any(t.depth is not None for t in targets)
        self.has_pose = all(f.pose is not None for f in frames)
        self.has_translation = self.has_pose or all(
            f.timestamp is not None and f.speed is not None for f in frames
        )
        self.has_semantic = all(t.semantic is not None for t in targets)

    def __len__(self) -> int:
        return len(self.samples)

    def frames(self) -> list[FrameRecord]:
        """Every distinct frame (targets and their context), each once, in name order."""
        seen: dict[str, FrameRecord] = {}
        for sample in self.samples:
            for record in (sample.target, *sample.context):
                seen.setdefault(record.name, record)
        return [seen[name] for name in sorted(seen)]

    def set_epoch(self, epoch: int) -> None:
        """Select the augmentation draws of an epoch (call before each epoch when training)."""
        self.epoch = int(epoch)

    def _image(self, record: FrameRecord) -> tuple[Tensor, tuple[int, int]]:
        def load() -> np.ndarray:  # [H,W,3] uint8 at the output size
            img = _load_image(record.image)
            self._native_size[record.name] = img.size
            if img.size != (self.width, self.height):
                img = img.resize((self.width, self.height), Image.Resampling.LANCZOS)
            return np.array(img, dtype=np.uint8)

        arr = self.cache.get((record.name, "rgb"), load)
        image = torch.from_numpy(arr).permute(2, 0, 1).float().div_(255.0).contiguous()
        return image, self._native_size[record.name]

    def _labels(self, record: FrameRecord) -> np.ndarray:
        """``[H,W]`` labels at the output size (nearest neighbour)."""
        labels = _load_semantic(record.semantic)
        if labels.shape == (self.height, self.width):
            return labels
        resized = Image.fromarray(labels.astype(np.int32)).resize(
            (self.width, self.height), Image.Resampling.NEAREST
        )
        return np.asarray(resized)

    def __getitem__(self, index: int) -> dict[str, Tensor | str]:
        sample = self.samples[index]
        target = sample.target
        image, (w0, h0) = self._image(target)
        context = [self._image(c)[0] for c in sample.context]
        K = torch.as_tensor(np.asarray(target.K, dtype=np.float64)[:3, :3])
        K = scale_intrinsics(K, self.width / w0, self.height / h0).float()
        ctx = torch.stack(context) if context else image.new_zeros(0, 3, self.height, self.width)
        item: dict[str, Tensor | str] = {
            "image": image,
            "context": ctx,
            "image_aug": image.clone(),
            "context_aug": ctx.clone(),
            "K": K,
            "offsets": torch.tensor(self.offsets, dtype=torch.long),
            "name": target.name,
        }
        if self.has_depth:
            depth = (
                np.zeros((h0, w0), np.float32) if target.depth is None
                else self.cache.get((target.name, "depth"), target.depth)
            )
            item["depth_gt"] = torch.tensor(np.asarray(depth, np.float32)).unsqueeze(0)
        if self.has_pose:
            relative = self._relative_poses(sample)
            item["pose_gt"] = relative.float()
            item["translation_gt"] = relative[:, :3, 3].norm(dim=-1).float()
        elif self.has_translation:
            item["translation_gt"] = torch.tensor(
                [
                    0.5 * (target.speed + c.speed) * abs(c.timestamp - target.timestamp)
                    for c in sample.context
                ],
                dtype=torch.float32,
            )
        if self.has_semantic:
            labels = self.cache.get((target.name, "semantic"), lambda: self._labels(target))
            item["semantic"] = torch.from_numpy(labels.astype(np.int64))
        if self.augment is not None and self.augment.enabled:
            gen = torch.Generator().manual_seed(item_seed(self.seed, self.epoch, index))
            augment_item(item, self.augment, gen)
        return item

    @staticmethod
    def _relative_poses(sample: Sample) -> Tensor:
        """``[N,4,4]`` ``T_target_to_context`` from camera-to-world poses (float64)."""
        if not sample.context:
            return torch.zeros(0, 4, 4, dtype=torch.float64)
        P_t = torch.as_tensor(np.asarray(sample.target.pose, np.float64))
        P_c = torch.stack([torch.as_tensor(np.asarray(c.pose, np.float64)) for c in sample.context])
        return relative_pose(P_t.expand_as(P_c), P_c)
