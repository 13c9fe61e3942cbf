"""Depth for images at their own resolution: :func:`predict` (one image) and
:func:`predict_batch` (what ``packdepth infer`` runs).

Accepted images (:func:`as_image`), all read by :mod:`packdepth.data.images`, so that a file, its
PIL image and its pixels give one depth:

- a path (``str`` / ``os.PathLike``): :func:`~packdepth.data.images.read_image` (EXIF
  orientation applied, 16-bit samples scaled by 65535);
- a ``PIL.Image``: :func:`~packdepth.data.images.to_rgb`, the same reading (orientation, every
  mode and bit depth);
- a numpy array or tensor (:func:`~packdepth.data.images.array_to_rgb`): ``[H,W]`` grey,
  ``[H,W,C]`` or ``[C,H,W]`` with ``C`` 1, 3 or 4 (alpha dropped); ``uint8`` (0-255),
  ``uint16`` (0-65535, as 16-bit PNGs) or floats in [0, 1] (NaN and inf refused). When both the
  first and the last dimension could be channels, tensors are read channels-first (torch's
  convention) and numpy arrays channels-last (PIL's and OpenCV's).

The network sees the image resized to the model's input size (bicubic, antialiased); its inverse
depth is resized back to the image's size bilinearly (``align_corners=False``) and inverted
(:func:`packdepth.evaluation.depth.predict_depth`).
"""

from __future__ import annotations

import math
import os
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import torch
from PIL import Image
from torch import Tensor

from packdepth.data.images import array_to_rgb, read_image, to_rgb
from packdepth.data.intrinsics import check_intrinsics
from packdepth.errors import PackdepthError
from packdepth.evaluation.depth import predict_depth
from packdepth.inference.model import Model, load

ImageLike = str | os.PathLike | Image.Image | np.ndarray | Tensor


@dataclass
class DepthResult:
    """Depth of one image, at the image's resolution.

    Attributes:
        depth: ``[H,W]`` float32, metres when ``metric``, else relative (right up to one unknown
            factor).
        inv_depth: ``[H,W]`` float32, ``1 / depth``.
        K: ``[3,3]`` float64 intrinsics of the image (pixels), or ``None`` when not given.
        metric: whether ``depth`` is in metres.
        scale: the factor the network's depth was multiplied by to make it metric (a given
            ``scale``, or one found from the camera height: ``packdepth.apps.ground``), or
            ``None``.
        K_guessed: ``K`` is a guess, not a calibration (``packdepth fit`` without intrinsics).
    """

    depth: np.ndarray
    inv_depth: np.ndarray
    K: np.ndarray | None
    metric: bool
    scale: float | None = None
    K_guessed: bool = False


def as_image(image: ImageLike) -> Tensor:
    """Any accepted image (module docstring) as a ``[3,H,W]`` float32 CPU tensor in [0,1].

    Raises:
        PackdepthError: a path that is missing or not a readable image, a PIL image whose
            values cannot be intensities (:func:`~packdepth.data.images.to_rgb`).
        ValueError: an array that is empty, of another shape or dtype, with NaN or inf, or
            with floats outside [0, 1].
        TypeError: another kind of object.
    """
    if isinstance(image, (str, os.PathLike)):
        rgb = read_image(image)
    elif isinstance(image, Image.Image):
        rgb = to_rgb(image)
    elif isinstance(image, np.ndarray):
        rgb = array_to_rgb(image)
    elif isinstance(image, Tensor):
        image = image.detach().cpu()
        if image.dtype == torch.bfloat16:
            image = image.float()
        rgb = array_to_rgb(image.numpy(), channels_first=True)
    else:
        raise TypeError(f"image: expected a path, PIL image, array or tensor, got "
                        f"{type(image).__name__}")
    return torch.from_numpy(np.ascontiguousarray(rgb.transpose(2, 0, 1)))


def _intrinsics(K: np.ndarray | Tensor | None, width: int, height: int) -> np.ndarray | None:
    """``K`` as a float64 ``[3,3]`` copy, checked against a ``width x height`` image."""
    if K is None:
        return None
    K = np.asarray(K.detach().cpu() if isinstance(K, Tensor) else K, dtype=np.float64)
    if K.shape != (3, 3):
        raise ValueError(f"K: expected [3,3] intrinsics, got {list(K.shape)}")
    if not np.isfinite(K).all():
        raise ValueError("K: intrinsics must be finite (NaN or inf found)")
    try:
        check_intrinsics(K, width, height, "K")
    except PackdepthError as exc:
        raise ValueError(str(exc)) from None
    return K.copy()


def _scale(scale: float | None) -> float:
    if scale is None:
        return 1.0
    if not (math.isfinite(scale) and scale > 0):
        raise ValueError(f"scale: must be a positive number, got {scale}")
    return float(scale)


def predict_batch(
    model: Model,
    images: Sequence[Tensor],
    *,
    K: Sequence[np.ndarray | Tensor | None] | None = None,
    post_process: bool = False,
    scale: float | None = None,
) -> list[DepthResult]:
    """Depth for several images in as few network calls as their sizes allow.

    Consecutive images of one size go through the network as one batch.

    Args:
        model: from :func:`load`.
        images: ``[3,H,W]`` float tensors in [0,1] (:func:`as_image`); sizes may differ.
        K: per image, its ``[3,3]`` intrinsics or ``None``; ``None`` for none at all.
        post_process: also predict on the mirrored image and blend
            (:func:`packdepth.evaluation.depth.flip_post_process`).
        scale: multiplies the depth (e.g. from one known distance); the result is then metric.

    Returns:
        One :class:`DepthResult` per image, in order.
    """
    factor = _scale(scale) * model.depth_scale
    metric = model.metric or scale is not None
    Ks = [None] * len(images) if K is None else list(K)
    if len(Ks) != len(images):
        raise ValueError(f"K: {len(Ks)} matrices for {len(images)} images")
    Ks = [_intrinsics(k, image.shape[-1], image.shape[-2]) for k, image in zip(Ks, images)]
    results: list[DepthResult] = []
    start = 0
    while start < len(images):
        end = start + 1
        while end < len(images) and images[end].shape == images[start].shape:
            end += 1
        batch = torch.stack(list(images[start:end]))
        depth = predict_depth(model.depth_net, batch, size=model.size, post_process=post_process)
        depth = (depth[:, 0].float() * factor).cpu().numpy()
        for i, d in enumerate(depth):
            results.append(DepthResult(d, (1.0 / d).astype(np.float32), Ks[start + i], metric,
                                       scale))
        start = end
    return results


def predict(
    model: Model | str | os.PathLike,
    image: ImageLike,
    *,
    K: np.ndarray | Tensor | None = None,
    post_process: bool = False,
    scale: float | None = None,
) -> DepthResult:
    """Depth of one image at its own resolution.

    Args:
        model: from :func:`packdepth.load` (a path is loaded on each call: load once instead).
        image: a path, PIL image, numpy array or tensor (see the module docstring).
        K: the image's ``[3,3]`` intrinsics in pixels at its resolution, checked
            (:func:`~packdepth.data.intrinsics.check_intrinsics`) and passed through.
        post_process: flip post-processing (two network passes).
        scale: multiplies the depth; the result is then labelled metric.

    Returns:
        A :class:`DepthResult`: ``depth``/``inv_depth`` ``[H,W]`` float32 for an ``H x W`` image.

    Raises:
        PackdepthError: an unreadable image file or model.
        ValueError: an image array that is empty, of another shape or dtype, with NaN or inf or
            values outside [0, 1]; a ``K`` that is not finite ``[3,3]`` pixel intrinsics of the
            image (positive ``fx``/``fy``, principal point inside it); a bad ``scale``.

    Example:
        >>> model = packdepth.load("demo_out/model")             # doctest: +SKIP
        >>> result = packdepth.predict(model, "frame.png")       # doctest: +SKIP
        >>> result.depth.shape, result.metric                    # doctest: +SKIP
        ((375, 1242), False)
    """
    if not isinstance(model, Model):
        model = load(model)
    return predict_batch(model, [as_image(image)], K=[K], post_process=post_process,
                         scale=scale)[0]
