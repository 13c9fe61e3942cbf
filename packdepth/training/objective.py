"""The training objective: the loss terms of a configuration, built once, summed at each step.

Each term is a small object of :mod:`packdepth.losses` (:class:`~packdepth.losses.term.LossTerm`);
adding one touches its file, one ``loss.*`` key and :func:`build_loss_terms`.
"""

from __future__ import annotations

from dataclasses import dataclass

from torch import Tensor

from packdepth.losses.anchor import AnchorTerm
from packdepth.losses.ground_contact import GroundContactTerm
from packdepth.losses.multiscale import ViewSynthesisTerm
from packdepth.losses.prior import GroundPriorTerm
from packdepth.losses.semantic import SemanticTerm
from packdepth.losses.supervised import SupervisedTerm
from packdepth.losses.term import LossInputs, LossTerm
from packdepth.losses.velocity import VelocityTerm
from packdepth.training.config import LossConfig


def build_loss_terms(lc: LossConfig) -> list[LossTerm]:
    """The terms ``lc`` switches on, in the order their contributions are summed: view
    synthesis (always), velocity, supervised depth, ground prior, ground contact, anchor,
    semantic."""
    scale_invariant = not lc.metric_scale
    terms: list[LossTerm] = [
        ViewSynthesisTerm(lc.num_scales, lc.automask, lc.smoothness_weight, lc.ssim_alpha)
    ]
    if lc.velocity_weight > 0:
        terms.append(VelocityTerm(lc.velocity_weight))
    if lc.supervised_weight > 0:
        terms.append(SupervisedTerm(lc.supervised_weight, lc.supervised_kind))
    if lc.prior_weight > 0 and lc.prior_steps > 0:
        terms.append(GroundPriorTerm(lc.prior_weight, lc.prior_steps, lc.camera_height,
                                     scale_invariant))
    if lc.ground_contact_weight > 0:
        terms.append(GroundContactTerm(lc.ground_contact_weight, lc.camera_height,
                                       scale_invariant))
    if lc.anchor_weight > 0:
        terms.append(AnchorTerm(lc.anchor_weight, scale_invariant))
    if lc.semantic_weight > 0:
        terms.append(SemanticTerm(lc.semantic_weight))
    return terms


@dataclass
class Objective:
    """The sum of ``terms``: ``objective(inputs)`` gives every logged value by name and
    ``total``, the scalar that is optimised."""

    terms: list[LossTerm]

    @property
    def needs_semantics(self) -> bool:
        """Whether a term uses the depth net's semantic logits."""
        return any(isinstance(t, SemanticTerm) for t in self.terms)

    def __call__(self, inputs: LossInputs) -> dict[str, Tensor]:
        out: dict[str, Tensor] = {}
        total: Tensor | None = None
        for term in self.terms:
            result = term(inputs)
            if result is None:
                continue
            contribution, named = result
            out.update(named)
            total = contribution if total is None else total + contribution
        if total is None:
            raise ValueError("no loss term contributed")
        out["total"] = total
        return out
