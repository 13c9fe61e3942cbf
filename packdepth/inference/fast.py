"""The fastest exact way to run a depth network for inference, and its opt-in bf16 variant.

Measured on a 2-core AVX512-BF16/AMX Xeon (``bench/infer_speed.py``, results in
``bench/results/infer_speed.json``):

- PackNet: the packing layers fused (:func:`packdepth.networks.fused.fuse`; same function, 2.9-4.1x
  fewer multiply-adds in those layers) — the main gain. Profile of PackNet01 at 1x192x640, one
  thread (``bench/results/profile_networks.log``): reference layers 69 % Conv2d, 21 % Conv3d,
  6 % padding copies, 1 % GroupNorm, 1 % reshapes; fused: no Conv3d or pad copies, 2.6x less time;
- networks without GroupNorm (the ResNet ones): channels-last (NHWC) weights
  (:func:`~packdepth.networks.base.to_channels_last`), about 15 % faster on oneDNN and exact to
  float rounding. PackNet keeps NCHW: PyTorch's channels-last GroupNorm on CPU computes the
  variance in one pass (E[x²] − E[x]²), which loses digits when a group's mean is large
  against its spread (1e-3 absolute error at mean 3, spread 0.1; 2e-5 relative in the depth
  of random-weight PackNets), for 5-10 % speed;
- ``torch.inference_mode`` rather than ``no_grad`` (no autograd bookkeeping; no measurable
  difference, but never slower);
- bf16 (``precision="bf16"``), opt-in: the whole network cast to bfloat16 (faster than bf16
  autocast, which casts every weight again at every call: 1.6-1.8x here), 2-4x faster than fp32
  where the CPU has AVX512-BF16 or AMX, at about 1 % relative depth error; not exact, so never
  the default.

Kept out (measured): folding BatchNorm into the ResNet convolutions (no gain in eager mode),
``torch.compile`` with inductor freezing (about 10 % faster per image after 1.5 minutes of
compilation, again for every new input shape, e.g. the last, smaller batch of a folder).
"""

from __future__ import annotations

import math
import os
import warnings
from pathlib import Path

import torch
from torch import nn

from packdepth.networks.base import to_channels_last
from packdepth.networks.fused import fuse

#: ``--precision`` values: ``fp32`` (exact, the default) and ``bf16`` (bfloat16, opt-in).
PRECISIONS = ("fp32", "bf16")


def prepare_network(net: nn.Module, fused: bool = True, precision: str = "fp32") -> nn.Module:
    """``net`` in eval mode, rewritten in place for fast inference.

    Args:
        net: a depth network (or any module).
        fused: fuse PackNet's packing and unpacking layers; store the weights of networks
            without GroupNorm channels-last. ``False`` leaves the layers as they are.
        precision: ``"fp32"`` or ``"bf16"`` (the network's parameters and buffers cast to
            bfloat16: feed it bfloat16 images, e.g. ``image.to(next(net.parameters()).dtype)``).

    Returns:
        ``net`` itself (rewritten in place), in eval mode. In fp32 its outputs equal the original
        network's up to float rounding (about 1e-6 relative; the tests check 1e-5); fused, its
        state dict no longer matches the original's (save the original).

    Raises:
        ValueError: an unknown ``precision``.
    """
    check_precision(precision)
    net.eval()
    if fused:
        fuse(net, inplace=True)
        if not any(isinstance(m, nn.GroupNorm) for m in net.modules()):
            to_channels_last(net)
    if precision == "bf16":
        net.to(torch.bfloat16)
    return net


def check_precision(precision: str, device: torch.device | None = None) -> str:
    """Validate ``precision``; with a CPU ``device``, warn when bf16 has no native support.

    Raises:
        ValueError: not one of :data:`PRECISIONS`.
    """
    if precision not in PRECISIONS:
        raise ValueError(f"precision: expected one of {', '.join(PRECISIONS)}, got {precision!r}")
    if precision == "bf16" and device is not None and device.type == "cpu" \
            and not cpu_has_bf16():
        warnings.warn("bf16 on a CPU without AVX512-BF16/AMX is emulated and usually slower "
                      "than fp32", stacklevel=2)
    return precision


def cpu_has_bf16() -> bool:
    """Whether ``/proc/cpuinfo`` lists ``avx512_bf16`` or ``amx_bf16`` (False when unreadable)."""
    try:
        flags = Path("/proc/cpuinfo").read_text()
    except OSError:
        return False
    return "avx512_bf16" in flags or "amx_bf16" in flags


def default_threads() -> int:
    """Threads for inference: the cores not already busy, at least 1.

    ``os.cpu_count()`` minus the 1-minute load average (rounded), clamped to ``[1, cores]``.
    On a busy machine one thread is much faster than several: PyTorch's OpenMP threads wait for
    each other at every layer, spinning, and one descheduled thread stalls them all (measured
    here: 2 threads 2-5x slower than 1 at load average 8 on 2 cores; on an idle machine 2
    threads are faster).
    """
    cores = os.cpu_count() or 1
    try:
        busy = os.getloadavg()[0]
    except OSError:
        return cores
    return max(1, min(cores, cores - math.floor(busy + 0.5)))
