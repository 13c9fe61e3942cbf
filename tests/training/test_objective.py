"""The objective: terms built once from the loss config, their weighted sum against the loss
functions called by hand."""

from __future__ import annotations

import pytest
import torch

from packdepth.config import load_config
from packdepth.errors import PackdepthError
from packdepth.geometry import make_transform
from packdepth.losses.anchor import AnchorTerm
from packdepth.losses.ground_contact import GroundContactTerm
from packdepth.losses.multiscale import (
    ViewSynthesisTerm,
    inv_depth_to_depth,
    multiscale_photometric,
)
from packdepth.losses.prior import GroundPriorTerm, ground_plane_depth, log_depth_prior_loss
from packdepth.losses.supervised import SupervisedTerm, supervised_depth_loss
from packdepth.losses.term import LossInputs
from packdepth.losses.velocity import VelocityTerm, velocity_loss
from packdepth.training.config import LossConfig, TrainConfig
from packdepth.training.objective import Objective, build_loss_terms


def _loss_config(*overrides: str) -> LossConfig:
    return load_config(TrainConfig, None, list(overrides)).loss


def test_terms_follow_the_config_in_summation_order() -> None:
    assert [type(t) for t in build_loss_terms(_loss_config())] == [ViewSynthesisTerm]
    terms = build_loss_terms(_loss_config(
        "loss.prior_weight=0.1", "loss.supervised_weight=0.2", "loss.supervised_kind=berhu",
        "loss.velocity_weight=0.3", "loss.num_scales=2"))
    assert terms == [ViewSynthesisTerm(2, True, 1e-3, 0.85), VelocityTerm(0.3),
                     SupervisedTerm(0.2, "berhu"), GroundPriorTerm(0.1, 300, 1.65, False)]
    terms = build_loss_terms(_loss_config("loss.ground_contact_weight=0.2",
                                          "loss.camera_height=1.5", "loss.anchor_weight=0.1",
                                          "model.init=runs/x/model"))
    assert terms[1:] == [GroundContactTerm(0.2, 1.5, True), AnchorTerm(0.1, True)]


def _inputs(step: int) -> LossInputs:
    g = torch.Generator().manual_seed(0)
    b, h, w = 2, 16, 24
    K = torch.tensor([[20.0, 0, 11.5], [0, 20.0, 7.5], [0, 0, 1]]).expand(b, 3, 3)
    t = torch.tensor([[[0.0, 0, -0.5], [0.0, 0, 0.5]]] * b)
    poses = make_transform(torch.eye(3).expand(b, 2, 3, 3), t)
    batch = {
        "image": torch.rand(b, 3, h, w, generator=g),
        "context": torch.rand(b, 2, 3, h, w, generator=g),
        "K": K,
        "translation_gt": torch.tensor([[0.4, 0.6]] * b),
        "depth_gt": torch.rand(b, 1, h * 2, w * 2, generator=g) * 20,
    }
    inv = [torch.rand(b, 1, h, w, generator=g) * 0.5 + 0.05]
    return LossInputs(batch, inv, poses, step)


def test_total_is_the_weighted_sum_of_the_loss_functions() -> None:
    objective = Objective(build_loss_terms(_loss_config(
        "loss.num_scales=1", "loss.velocity_weight=0.3", "loss.supervised_weight=0.2",
        "loss.prior_weight=0.1", "loss.prior_steps=10")))
    inputs = _inputs(step=4)
    torch.manual_seed(1)
    out = objective(inputs)
    b = inputs.batch
    torch.manual_seed(1)
    view = multiscale_photometric(b["image"], b["context"], inputs.inv_depths, inputs.poses,
                                  b["K"], automask=True, smoothness_weight=1e-3, alpha=0.85)
    velocity = velocity_loss(inputs.poses, b["translation_gt"])
    pred = torch.nn.functional.interpolate(inputs.inv_depths[0], size=(32, 48), mode="bilinear",
                                           align_corners=False)
    supervised = supervised_depth_loss(1.0 / pred, b["depth_gt"], "l1")
    depth = inv_depth_to_depth(inputs.inv_depths[0])
    # velocity supervision makes depth metric: the prior is not scale-invariant then
    prior = log_depth_prior_loss(depth, ground_plane_depth(b["K"], 16, 24, 1.65), False)
    expected = view.total + 0.3 * velocity + 0.2 * supervised + 0.1 * (1 - 4 / 10) * prior
    assert set(out) == {"photometric", "smoothness", "automask_kept", "velocity", "supervised",
                        "prior", "total"}
    torch.testing.assert_close(out["total"], expected)
    torch.testing.assert_close(out["supervised"], supervised)
    # the prior has decayed to nothing after prior_steps: no term, no log entry
    assert "prior" not in objective(_inputs(step=10))


def test_a_term_whose_data_is_missing_names_the_setting() -> None:
    inputs = _inputs(step=0)
    del inputs.batch["translation_gt"]
    with pytest.raises(PackdepthError, match=r"^loss\.velocity_weight > 0 but the data has no "
                                             r"speed or poses$"):
        VelocityTerm(0.1)(inputs)
