"""The loss-term contract of training: what a term sees, and what it gives back.

A term is a small object built once from the configuration (its weight and settings), called at
every step with a :class:`LossInputs`. It returns ``None`` when it has nothing to add at this
step, else ``(contribution, named)``: the weighted scalar added to the optimised total and the
unweighted values to log by name. The training step sums the contributions in the order of its
list of terms (:mod:`packdepth.training.objective`).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property
from typing import Any, Protocol

from torch import Tensor

from packdepth.errors import PackdepthError
from packdepth.losses.multiscale import inv_depth_to_depth

#: What a term returns: ``(weighted contribution, {name: unweighted value})``, or ``None``.
TermResult = tuple[Tensor, dict[str, Tensor]] | None


@dataclass
class LossInputs:
    """One training step's predictions and data, in float32.

    Attributes:
        batch: the data's batch (keys of :mod:`packdepth.data`).
        inv_depths: the depth net's inverse-depth pyramid, ``[B,1,H/2^s,W/2^s]`` per scale.
        poses: ``[B,N,4,4]`` ``T_target_to_context`` the losses use (the pose net's, refined or
            exact: :mod:`packdepth.training.pose_refinement`).
        step: the global training step (for terms whose weight changes during the run).
        semantic_logits: ``[B,C,H,W]`` of a semantic-guided depth net, else ``None``.
        anchor_inv_depth: ``[B,1,H,W]`` of the frozen initial depth net, else ``None``.
    """

    batch: dict[str, Any]
    inv_depths: list[Tensor]
    poses: Tensor
    step: int = 0
    semantic_logits: Tensor | None = None
    anchor_inv_depth: Tensor | None = None

    @cached_property
    def depth(self) -> Tensor:
        """``[B,1,H,W]`` full-resolution depth, computed once for the terms that share it."""
        return inv_depth_to_depth(self.inv_depths[0])

    def require(self, key: str, setting: str, what: str) -> Tensor:
        """``batch[key]``, or a one-line error: ``<setting> but the data has no <what>``."""
        if key not in self.batch:
            raise PackdepthError(f"{setting} but the data has no {what}")
        return self.batch[key]


class LossTerm(Protocol):
    """A loss term (see the module docstring)."""

    def __call__(self, inputs: LossInputs) -> TermResult: ...
