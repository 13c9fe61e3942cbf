"""Channels-last storage (trainer.channels_last) for every network, PackNet Conv3d included."""

from __future__ import annotations

import pytest
import torch

from packdepth.networks import PackNetSmall, PoseNet, PoseResNet, ResNetDepth, SemanticDepth
from packdepth.networks.base import to_channels_last
from packdepth.training.config import TrainConfig
from packdepth.training.module import SelfSupervisedDepth

NETS = {"PackNetSmall": lambda: PackNetSmall("A"), "ResNetDepth18": lambda: ResNetDepth(18),
        "SemanticDepth": lambda: SemanticDepth(num_classes=3), "PoseNet": PoseNet,
        "PoseResNet18": lambda: PoseResNet(18)}


@pytest.mark.parametrize("name", sorted(NETS))
def test_channels_last_keeps_the_outputs(name: str) -> None:
    net = NETS[name]().eval()
    image, context = torch.rand(1, 3, 64, 96), torch.rand(1, 2, 3, 64, 96)
    run = (lambda: net(image, context)) if "Pose" in name else (lambda: net(image)[0])
    with torch.no_grad():
        before = run()
        to_channels_last(net)
        after = run()
    four_d = [p for p in net.parameters() if p.dim() == 4]
    assert four_d and all(p.is_contiguous(memory_format=torch.channels_last) for p in four_d)
    torch.testing.assert_close(after, before, rtol=1e-4, atol=1e-5)


def test_training_module_with_packnet_takes_channels_last() -> None:
    # nn.Module.to(memory_format=channels_last) refused PackNet's 5-D Conv3d weights
    cfg = TrainConfig()
    cfg.model.depth = {"name": "PackNetSmall"}
    cfg.trainer.channels_last = True
    module = SelfSupervisedDepth(cfg)
    conv3d = [p for p in module.depth_net.parameters() if p.dim() == 5]
    assert conv3d and module.depth_net(torch.rand(1, 3, 32, 64))[0].shape == (1, 1, 32, 64)
