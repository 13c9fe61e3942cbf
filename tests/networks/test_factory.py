"""The config-dict factory: every registered network rebuilds from its own ``config``."""

from __future__ import annotations

import json

import pytest
import torch

from packdepth.errors import PackdepthError
from packdepth.networks import (
    DEPTH_NETS,
    POSE_NETS,
    PackNet,
    PoseNet,
    PoseResNet,
    ResNetDepth,
    build_depth_net,
    build_network,
    build_pose_net,
)

CONFIGS = [
    {"name": "PackNet01", "version": "B"},
    {"name": "PackNetSlim01"},
    {"name": "PackNetSmall", "version": "A"},
    {"name": "PackNet", "stem_channels": 32, "widths": [32, 32, 64, 128, 256], "d": 4},
    {"name": "ResNetDepth", "num_layers": 50},
    {"name": "SemanticDepth", "num_classes": 3, "num_layers": 34},
    {"name": "PoseNet", "num_contexts": 4},
    {"name": "PoseResNet", "num_layers": 34},
]


@pytest.mark.parametrize("config", CONFIGS, ids=lambda c: c["name"])
def test_config_round_trip(config) -> None:
    with torch.device("meta"):
        net = build_network(config)
        rebuilt = build_network(json.loads(json.dumps(net.config)))  # survives JSON
    assert type(rebuilt) is type(net)
    assert rebuilt.config == net.config
    assert {k: v.shape for k, v in rebuilt.state_dict().items()} == {
        k: v.shape for k, v in net.state_dict().items()}


def test_registries_and_kinds() -> None:
    assert set(DEPTH_NETS) == {"PackNet", "PackNet01", "PackNetSlim01", "PackNetSmall",
                               "ResNetDepth", "SemanticDepth"}
    assert set(POSE_NETS) == {"PoseNet", "PoseResNet"}
    with torch.device("meta"):
        assert isinstance(build_depth_net({"name": "PackNet01"}), PackNet)
        assert isinstance(build_depth_net({"name": "ResNetDepth"}), ResNetDepth)
        assert isinstance(build_pose_net({"name": "PoseNet"}), PoseNet)
        assert isinstance(build_network({"name": "PoseResNet"}), PoseResNet)


@pytest.mark.parametrize(("build", "config", "message"), [
    (build_depth_net, {"name": "DispNet"}, "unknown network 'DispNet'"),
    (build_depth_net, {"name": "PoseNet"}, "unknown network 'PoseNet'"),
    (build_pose_net, {"name": "PoseNet", "layers": 3}, "cannot build PoseNet"),
    (build_depth_net, {"name": "ResNetDepth", "num_layers": 101}, "cannot build ResNetDepth"),
    (build_depth_net, {"num_layers": 18}, "with a 'name'"),
    (build_depth_net, {"name": "PackNet", "version": "C"}, "unknown PackNet version"),
])
def test_bad_configs_are_user_errors(build, config, message) -> None:
    with pytest.raises(PackdepthError, match=message):
        build(config)
