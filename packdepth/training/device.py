"""What a run trains on: the device, the precision and the kind of determinism it allows."""

from __future__ import annotations

import sys
import warnings
from typing import Literal

import torch
from lightning.pytorch.utilities import rank_zero_only

#: Operations of the training step that torch documents as lacking a deterministic CUDA
#: implementation (the "will throw" list of ``torch.use_deterministic_algorithms``), with where
#: packdepth uses them. ``trainer.deterministic`` runs them with a warning on a GPU; everything
#: else there, and everything on a CPU, is deterministic. (The alignment's medians, once here,
#: are computed by sorting: :func:`packdepth.geometry.align.lower_median`.)
CUDA_NONDETERMINISTIC = {
    "aten.grid_sampler_2d_backward.default": "grid_sample backward (view synthesis)",
    "aten.upsample_bilinear2d_backward.default": "bilinear upsampling backward (losses at "
    "several scales, supervised loss)",
    "aten.reflection_pad2d_backward.default": "reflection padding backward (SSIM, ResNet "
    "decoder)",
    "aten.nll_loss2d_forward.default": "NLL loss (semantic term)",
}

#: The text of torch's own per-operation warnings in warn-only mode (replaced by one line).
TORCH_WARN_ONLY_MESSAGE = r".*does not have a deterministic implementation, but you set"


def resolve_device(accelerator: str) -> str:
    """The device type Lightning trains on for ``trainer.accelerator``.

    ``auto`` picks as Lightning does: Apple's MPS, else CUDA, else the CPU; ``gpu``: MPS or CUDA
    (CUDA when neither is present: Lightning then refuses with its own error). Other values
    (``cpu``, ``cuda``, ``mps``, ...) are returned as they are.
    """
    if accelerator not in ("auto", "gpu"):
        return accelerator
    if torch.backends.mps.is_available():
        return "mps"
    if torch.cuda.is_available() or accelerator == "gpu":
        return "cuda"
    return "cpu"


def resolve_precision(precision: str, device: str) -> str:
    """``auto``: bfloat16 mixed precision on a CPU with native bfloat16 support (AVX512-BF16 or
    AMX: about 1.7x faster here), else full float32 — on GPUs too, where bf16 gave no speed-up
    for PackNet inference on an H200 and float32 keeps the geometry's precision. Other values
    pass through.
    """
    if precision != "auto":
        return precision
    native_bf16 = bool(getattr(torch.ops.mkldnn, "_is_mkldnn_bf16_supported", lambda: False)())
    return "bf16-mixed" if device == "cpu" and native_bf16 else "32-true"


def resolve_determinism(deterministic: bool, device: str) -> bool | Literal["warn"]:
    """Lightning's ``deterministic`` for ``trainer.deterministic`` on ``device``.

    On a CPU every operation has a deterministic implementation: ``True`` (runs repeat
    exactly). On other devices ``"warn"``: deterministic kernels wherever they exist, and the
    operations without one (:data:`CUDA_NONDETERMINISTIC`) run anyway, announced by one line
    (:func:`announce_determinism`) instead of a crash. ``False`` stays ``False``.
    """
    if not deterministic:
        return False
    return True if device == "cpu" else "warn"


def announce_determinism(mode: bool | str, device: str) -> None:
    """For ``"warn"``: silence torch's per-operation warnings and print one line (rank 0)."""
    if mode != "warn":
        return
    warnings.filterwarnings("ignore", message=TORCH_WARN_ONLY_MESSAGE)
    if rank_zero_only.rank == 0:
        ops = ", ".join(CUDA_NONDETERMINISTIC.values())
        print(f"packdepth: note: training on {device} with deterministic kernels where torch has "
              f"them; it has none for {ops}: runs repeat closely, not bit for bit",
              file=sys.stderr, flush=True)
