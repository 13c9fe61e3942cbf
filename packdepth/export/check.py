"""The inputs an export is checked on, the parity measure, and the timing.

Parity: :func:`relative_error` ``= max|a − b| / max|b|`` over every element of the output, ``a``
from onnxruntime and ``b`` from PyTorch (the reference): the largest deviation as a fraction of
the largest value, so one bad pixel counts in full and a map of small inverse depths is not
excused by its small scale. Pose graphs are compared on ``T − I``: their transforms are close
to the identity, whose ones would otherwise set the scale and hide errors in motions of a few
centimetres.
"""

from __future__ import annotations

import os
import statistics
import time
from collections.abc import Callable, Sequence

import numpy as np
import torch
import torch.nn.functional as F
from torch import Tensor

from packdepth.data.images import read_image
from packdepth.errors import PackdepthError

#: Seed of the random check input (values uniform in [0, 1]).
RANDOM_SEED = 0
SYNTH_MIN_SIDE = 8  # the renderer's smallest side (packdepth.data.synthetic.sequence.MIN_SIZE)


def relative_error(onnx_out: np.ndarray, torch_out: np.ndarray) -> float:
    """``max|a − b| / max|b|`` (``a`` = ``onnx_out``, ``b`` = ``torch_out``, same shape).

    0 when both are identical; ``inf`` when ``b`` is all zeros and ``a`` is not.
    """
    if onnx_out.shape != torch_out.shape:
        raise ValueError(f"output shapes differ: onnxruntime {list(onnx_out.shape)}, "
                         f"PyTorch {list(torch_out.shape)}")
    diff = float(np.abs(onnx_out.astype(np.float64) - torch_out).max(initial=0.0))
    scale = float(np.abs(torch_out).max(initial=0.0))
    if scale == 0.0:
        return 0.0 if diff == 0.0 else float("inf")
    return diff / scale


def resize_image(image: Tensor, size: tuple[int, int]) -> Tensor:
    """``[...,3,H,W]`` in [0,1] → ``[...,3,h,w]``: bicubic, antialiased, clamped (as
    :func:`packdepth.evaluation.depth.predict_depth` resizes the network input)."""
    if tuple(image.shape[-2:]) == tuple(size):
        return image
    lead = image.shape[:-3]
    flat = image.reshape(-1, *image.shape[-3:])
    out = F.interpolate(flat, size=tuple(size), mode="bicubic", align_corners=False,
                        antialias=True)
    return out.clamp(0.0, 1.0).reshape(*lead, 3, *size)


def random_images(count: int, size: tuple[int, int], seed: int = RANDOM_SEED) -> Tensor:
    """``[count,3,H,W]`` float32 uniform in [0, 1], the same for the same seed."""
    generator = torch.Generator().manual_seed(seed)
    return torch.rand(count, 3, *size, generator=generator)


def synthetic_frames(count: int, size: tuple[int, int]) -> Tensor:
    """``[count,3,H,W]``: consecutive frames of the embedded street world (seed 0, 10 fps),
    rendered at ``size`` (sides under 8 pixels: rendered at 8 and resized)."""
    from packdepth.data.synthetic import SynthParams, render_frame, sequence_world

    h, w = (max(side, SYNTH_MIN_SIDE) for side in size)
    params = SynthParams(height=h, width=w, frames=max(count, 2), seed=0)
    world = sequence_world(params)
    frames = [torch.from_numpy(render_frame(world, params, i).rgb) for i in range(count)]
    images = torch.stack(frames).permute(0, 3, 1, 2).float() / 255.0
    return resize_image(images, size)


def read_check_images(paths: Sequence[str | os.PathLike], size: tuple[int, int]) -> Tensor:
    """``[len(paths),3,H,W]``: each image read upright as RGB in [0,1]
    (:func:`packdepth.data.images.read_image`) and resized to ``size``.

    Raises:
        PackdepthError: a missing or unreadable image (named).
    """
    images = [resize_image(torch.from_numpy(read_image(p)).permute(2, 0, 1), size)
              for p in paths]
    return torch.stack(images)


def pose_snippet(frames: Tensor, contexts: int, what: str) -> tuple[Tensor, Tensor]:
    """``(target [1,3,H,W], context [1,N,3,H,W])`` from ``1 + N`` frames: the first is the
    target, the others its context frames in the network's order.

    Raises:
        PackdepthError: not exactly ``1 + N`` frames.
    """
    if frames.shape[0] != 1 + contexts:
        raise PackdepthError(f"{what}: a pose network with {contexts} context frames is checked "
                             f"on {1 + contexts} images (target, then its context frames in "
                             f"order), got {frames.shape[0]}")
    return frames[:1], frames[1:].unsqueeze(0)


def median_ms(runs: dict[str, Callable[[], object]], repeats: int) -> dict[str, float]:
    """Median wall time (ms) of each callable: one warm-up call each, then ``repeats`` rounds
    that call them in turn (alternating, so load changes touch all alike)."""
    times: dict[str, list[float]] = {name: [] for name in runs}
    for fn in runs.values():
        fn()
    for _ in range(repeats):
        for name, fn in runs.items():
            start = time.perf_counter()
            fn()
            times[name].append(1000.0 * (time.perf_counter() - start))
    return {name: statistics.median(t) for name, t in times.items()}


def second_size(size: tuple[int, int], floor: int, multiple: int) -> tuple[int, int]:
    """Another size at or above ``floor`` whose sides are not multiples of ``multiple``."""
    def side(n: int) -> int:
        for c in (n - 15, n + 17, n + 1, n + 2):
            if c >= floor and c != n and (multiple == 1 or c % multiple):
                return c
        raise AssertionError("unreachable: n + 1 or n + 2 is not a multiple")
    return side(size[0]), side(size[1])


def check_inputs(kind: str, size: tuple[int, int], contexts: int, dynamic: bool,
                 floor: int, multiple: int, check_images: Sequence[str | os.PathLike]
                 ) -> list[tuple[str, tuple[Tensor, ...]]]:
    """The inputs an export is checked on, ``[(name, tensors)]``.

    ``tensors`` is ``(image,)`` or ``(target, context)``: a random input of batch 2 at ``size``
    (the tracing example), the real one (``check_images`` read and resized, or frames of the
    embedded street world) and, for dynamic graphs, a random input at :func:`second_size`.

    Raises:
        PackdepthError: an unreadable check image, or a pose check of the wrong frame count.
    """
    count = 1 if kind == "depth" else 1 + contexts
    if check_images:
        real = read_check_images(check_images, size)
        name = "check image" + ("s" if len(check_images) > 1 else "")
    else:
        frames = synthetic_frames(count, size)
        real = frames if kind == "depth" else frames[[1, 0, *range(2, count)]]  # target t
        name = "synthetic street frame" + ("s" if count > 1 else "")

    def as_inputs(images: Tensor, batch: int, what: str) -> tuple[Tensor, ...]:
        if kind == "depth":
            return (images,)
        if batch == 1:
            return pose_snippet(images, contexts, what)
        target, context = images[:batch], images[batch:].reshape(batch, contexts, 3, *size)
        return target, context

    inputs = [("random", as_inputs(random_images(2 * count, size), 2, "random")),
              (name, as_inputs(real, 1, "--check-image"))]
    if dynamic:
        other = second_size(size, floor, multiple)
        randoms = random_images(count, other, seed=1)
        inputs.append((f"random at {other[0]}x{other[1]}",
                       (randoms,) if kind == "depth" else (randoms[:1], randoms[1:][None])))
    return inputs
