"""Self-supervised and supervised losses, one per file."""

from __future__ import annotations

from packdepth.losses.multiscale import (
    ViewSynthesisLoss,
    inv_depth_to_depth,
    multiscale_photometric,
    resize_to,
)
from packdepth.losses.photometric import (
    identity_errors,
    photometric_error,
    reprojection_loss,
    ssim,
)
from packdepth.losses.smoothness import smoothness_loss

__all__ = [
    "ViewSynthesisLoss",
    "identity_errors",
    "inv_depth_to_depth",
    "multiscale_photometric",
    "photometric_error",
    "reprojection_loss",
    "resize_to",
    "smoothness_loss",
    "ssim",
]
