"""The parameters of the dense-CRF refinement (:mod:`packdepth.apps.crf`, whose docstring
explains each and where its default comes from), apart from it so that ``packdepth refine
--help`` shows the defaults without importing numpy."""

from __future__ import annotations

import math
from dataclasses import dataclass


@dataclass(frozen=True)
class CRFParams:
    """Parameters of :func:`refine_depth`, named as in Krähenbühl & Koltun (NIPS 2011).

    Attributes:
        labels: ``K``, the number of depth labels (log-spaced).
        sigma: ``σ``, the unary's width in ``ln d`` (0.1 ≈ a 10 % relative depth error).
        theta_alpha: ``θα``, the appearance kernel's spatial width (pixels).
        theta_beta: ``θβ``, the appearance kernel's colour width (RGB units, 0-255).
        theta_gamma: ``θγ``, the smoothness kernel's spatial width (pixels).
        w1: the appearance (bilateral) kernel's weight.
        w2: the smoothness (Gaussian) kernel's weight.
        tau: ``τ``, the label compatibility's width in ``ln d``; 0 = Potts (module docstring).
        iterations: mean-field steps.
        gate: refine only near the prediction's depth edges, log jumps above this (0 = off).
        gate_width: the gate's reach, a fraction of the image width.
        depth_range: ``(near, far)`` of the labels (the prediction's units); ``None``: from the
            prediction (see the module docstring).
    """

    labels: int = 64
    sigma: float = 0.1
    theta_alpha: float = 10.0
    theta_beta: float = 13.0
    theta_gamma: float = 3.0
    w1: float = 10.0
    w2: float = 3.0
    tau: float = 0.0
    iterations: int = 5
    gate: float = 0.1
    gate_width: float = 0.01
    depth_range: tuple[float, float] | None = None

    def __post_init__(self) -> None:
        if self.labels < 2:
            raise ValueError(f"labels: need at least 2, got {self.labels}")
        if self.iterations < 0:
            raise ValueError(f"iterations: must be >= 0, got {self.iterations}")
        for name in ("sigma", "theta_alpha", "theta_beta", "theta_gamma"):
            value = getattr(self, name)
            if not (math.isfinite(value) and value > 0):
                raise ValueError(f"{name}: must be a positive number, got {value}")
        for name in ("w1", "w2", "tau", "gate", "gate_width"):
            value = getattr(self, name)
            if not (math.isfinite(value) and value >= 0):
                raise ValueError(f"{name}: must be a non-negative number, got {value}")
        if self.depth_range is not None:
            near, far = self.depth_range
            if not (0 < near < far < math.inf):
                raise ValueError(f"depth_range: need 0 < near < far, got {self.depth_range}")
