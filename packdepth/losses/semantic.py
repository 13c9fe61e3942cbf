"""Semantic guidance: cross-entropy of a semantic-guided depth net's class logits."""

from __future__ import annotations

from dataclasses import dataclass

import torch.nn.functional as F
from torch import Tensor

from packdepth.losses.multiscale import resize_to
from packdepth.losses.term import LossInputs

#: Semantic labels equal to this are ignored by the cross-entropy.
IGNORE_LABEL = 255


@dataclass(frozen=True)
class SemanticTerm:
    """``weight`` × the cross-entropy of ``inputs.semantic_logits`` (resized to the labels)
    against the batch's ``semantic`` labels (:data:`IGNORE_LABEL` ignored); nothing when the
    depth net gives no logits. Logs ``semantic``."""

    weight: float

    def __call__(self, inputs: LossInputs) -> tuple[Tensor, dict[str, Tensor]] | None:
        if inputs.semantic_logits is None:
            return None
        labels = inputs.require("semantic", "loss.semantic_weight > 0", "semantic labels")
        logits = resize_to(inputs.semantic_logits.float(), tuple(labels.shape[-2:]))
        value = F.cross_entropy(logits, labels.long(), ignore_index=IGNORE_LABEL)
        return self.weight * value, {"semantic": value}
