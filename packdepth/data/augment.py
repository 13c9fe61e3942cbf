"""Training-time augmentation of a dataset item (see :mod:`packdepth.data` for the keys).

- Colour jitter (brightness, contrast, saturation, hue; torchvision's ``ColorJitter`` semantics,
  factors applied in a random order) changes the network inputs only, ``image_aug`` and
  ``context_aug``: the photometric losses compare the clean ``image``/``context``. The target and
  its context frames get the same jitter, so the pose network sees a consistent sequence.
- Low-light simulation (optional, network inputs only): darken by a factor in
  ``LOW_LIGHT_GAIN``, gamma in ``LOW_LIGHT_GAMMA``, contrast loss towards the mean by a factor in
  ``LOW_LIGHT_CONTRAST``, then sensor noise with standard deviation
  ``sqrt(shot * x + read**2)`` (shot in ``LOW_LIGHT_SHOT``, read in ``LOW_LIGHT_READ``),
  independent per pixel and frame; the other draws are shared by the item's frames.
- Horizontal flip mirrors everything consistently: clean and augmented images, ``depth_gt`` and
  ``semantic``; ``K`` becomes :func:`~packdepth.geometry.flip_intrinsics`; ``pose_gt`` is
  conjugated by the mirror ``M = diag(-1, 1, 1, 1)`` (``T' = M T M``, a mirrored scene moves
  mirrored); ``translation_gt`` is unchanged.

All randomness comes from the ``torch.Generator`` passed in, so equal seeds give equal items.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import Tensor

from packdepth.geometry import flip_intrinsics

LOW_LIGHT_GAIN = (0.15, 0.6)
LOW_LIGHT_GAMMA = (1.2, 2.0)
LOW_LIGHT_CONTRAST = (0.6, 0.9)
LOW_LIGHT_SHOT = (0.002, 0.01)
LOW_LIGHT_READ = (0.005, 0.02)


@dataclass
class AugmentConfig:
    """Augmentation switches and strengths (defaults: packnet-sfm's jitter, monodepth2's flip).

    Attributes:
        enabled: master switch (off = the network inputs are the clean images).
        color_jitter: apply colour jitter (with probability ``jitter_prob``).
        brightness, contrast, saturation: factors are drawn from ``[max(0, 1 - s), 1 + s]``.
        hue: hue shift drawn from ``[-hue, hue]`` (fraction of a turn, at most 0.5).
        flip: mirror the item horizontally with probability ``flip_prob``.
        low_light: simulate a dark, noisy exposure with probability ``low_light_prob``.
    """

    enabled: bool = True
    color_jitter: bool = True
    brightness: float = 0.2
    contrast: float = 0.2
    saturation: float = 0.2
    hue: float = 0.05
    jitter_prob: float = 1.0
    flip: bool = True
    flip_prob: float = 0.5
    low_light: bool = False
    low_light_prob: float = 0.3


def _uniform(gen: torch.Generator, lo: float, hi: float) -> float:
    return lo + (hi - lo) * float(torch.rand((), generator=gen))


def _chance(gen: torch.Generator, p: float) -> bool:
    return float(torch.rand((), generator=gen)) < p


def grayscale(x: Tensor) -> Tensor:
    """ITU-R 601 luma of ``[...,3,H,W]`` images: ``[...,1,H,W]``."""
    return (0.299 * x[..., 0:1, :, :] + 0.587 * x[..., 1:2, :, :] + 0.114 * x[..., 2:3, :, :])


def adjust_brightness(x: Tensor, factor: float) -> Tensor:
    return (x * factor).clamp(0.0, 1.0)


def adjust_contrast(x: Tensor, factor: float) -> Tensor:
    """Blend each image with the mean of its grayscale version."""
    mean = grayscale(x).mean(dim=(-3, -2, -1), keepdim=True)
    return (mean + factor * (x - mean)).clamp(0.0, 1.0)


def adjust_saturation(x: Tensor, factor: float) -> Tensor:
    gray = grayscale(x)
    return (gray + factor * (x - gray)).clamp(0.0, 1.0)


def rgb_to_hsv(x: Tensor) -> Tensor:
    """``[...,3,H,W]`` RGB in [0,1] to HSV with hue in [0,1)."""
    r, g, b = x.unbind(-3)
    maxc, _ = x.max(dim=-3)
    minc, _ = x.min(dim=-3)
    delta = maxc - minc
    safe = torch.where(delta > 0, delta, torch.ones_like(delta))
    h_gb = torch.where(maxc == g, 2.0 + (b - r) / safe, 4.0 + (r - g) / safe)
    h = torch.where(maxc == r, (g - b) / safe, h_gb)
    h = torch.where(delta > 0, (h / 6.0) % 1.0, torch.zeros_like(h))
    s = torch.where(maxc > 0, delta / torch.where(maxc > 0, maxc, torch.ones_like(maxc)), 0 * maxc)
    return torch.stack([h, s, maxc], dim=-3)


def hsv_to_rgb(x: Tensor) -> Tensor:
    """Inverse of :func:`rgb_to_hsv`."""
    h, s, v = x.unbind(-3)
    k = torch.stack([(5.0 + 6.0 * h) % 6.0, (3.0 + 6.0 * h) % 6.0, (1.0 + 6.0 * h) % 6.0], -3)
    ramp = torch.minimum(k, 4.0 - k).clamp(0.0, 1.0)
    return v.unsqueeze(-3) - (v * s).unsqueeze(-3) * ramp


def adjust_hue(x: Tensor, shift: float) -> Tensor:
    """Rotate the hue by ``shift`` turns (``-0.5 <= shift <= 0.5``)."""
    hsv = rgb_to_hsv(x)
    hsv = torch.stack([(hsv[..., 0, :, :] + shift) % 1.0, hsv[..., 1, :, :], hsv[..., 2, :, :]], -3)
    return hsv_to_rgb(hsv).clamp(0.0, 1.0)


def color_jitter(images: Tensor, cfg: AugmentConfig, gen: torch.Generator) -> Tensor:
    """Apply one random jitter (same factors, random order) to every image of ``[N,3,H,W]``."""
    ops = []
    if cfg.brightness > 0:
        f = _uniform(gen, max(0.0, 1 - cfg.brightness), 1 + cfg.brightness)
        ops.append(lambda x, f=f: adjust_brightness(x, f))
    if cfg.contrast > 0:
        f = _uniform(gen, max(0.0, 1 - cfg.contrast), 1 + cfg.contrast)
        ops.append(lambda x, f=f: adjust_contrast(x, f))
    if cfg.saturation > 0:
        f = _uniform(gen, max(0.0, 1 - cfg.saturation), 1 + cfg.saturation)
        ops.append(lambda x, f=f: adjust_saturation(x, f))
    if cfg.hue > 0:
        f = _uniform(gen, -min(cfg.hue, 0.5), min(cfg.hue, 0.5))
        ops.append(lambda x, f=f: adjust_hue(x, f))
    for i in torch.randperm(len(ops), generator=gen).tolist():
        images = ops[i](images)
    return images


def low_light(images: Tensor, gen: torch.Generator) -> Tensor:
    """Simulate a dark exposure of ``[N,3,H,W]`` images (see the module docstring)."""
    gain = _uniform(gen, *LOW_LIGHT_GAIN)
    gamma = _uniform(gen, *LOW_LIGHT_GAMMA)
    contrast = _uniform(gen, *LOW_LIGHT_CONTRAST)
    shot = _uniform(gen, *LOW_LIGHT_SHOT)
    read = _uniform(gen, *LOW_LIGHT_READ)
    x = adjust_contrast(gain * images.clamp(0.0, 1.0) ** gamma, contrast)
    noise = torch.randn(x.shape, generator=gen, dtype=x.dtype)
    return (x + noise * torch.sqrt(shot * x + read**2)).clamp(0.0, 1.0)


MIRROR = torch.diag(torch.tensor([-1.0, 1.0, 1.0, 1.0]))


def flip_item(item: dict) -> dict:
    """Mirror an item horizontally in place (images, depth, labels, K, poses)."""
    for key in ("image", "context", "image_aug", "context_aug", "depth_gt", "semantic"):
        if key in item:
            item[key] = item[key].flip(-1)
    item["K"] = flip_intrinsics(item["K"], item["image"].shape[-1])
    if "pose_gt" in item:
        M = MIRROR.to(item["pose_gt"].dtype)
        item["pose_gt"] = M @ item["pose_gt"] @ M
    return item


def augment_item(item: dict, cfg: AugmentConfig, gen: torch.Generator) -> dict:
    """Augment an item in place (see the module docstring); returns it."""
    if not cfg.enabled:
        return item
    if cfg.flip and _chance(gen, cfg.flip_prob):
        flip_item(item)
    frames = torch.cat([item["image_aug"].unsqueeze(0), item["context_aug"]], dim=0)
    if cfg.color_jitter and _chance(gen, cfg.jitter_prob):
        frames = color_jitter(frames, cfg, gen)
    if cfg.low_light and _chance(gen, cfg.low_light_prob):
        frames = low_light(frames, gen)
    item["image_aug"], item["context_aug"] = frames[0].contiguous(), frames[1:].contiguous()
    return item
