"""Build networks from plain config dicts: ``{"name": <registered name>, **constructor kwargs}``.

Every network built here carries ``config``, a JSON-serialisable dict that rebuilds it (used by
:func:`packdepth.io.checkpoints.save_model`/``load_model``). Example configs::

    {"name": "PackNet01", "version": "A"}
    {"name": "PackNetSmall"}                       # the CPU-sized PackNet
    {"name": "PackNet", "stem_channels": 32, "widths": [32, 32, 64, 128, 256], "d": 4}
    {"name": "ResNetDepth", "num_layers": 18}
    {"name": "SemanticDepth", "num_classes": 10}
    {"name": "PoseNet"}  /  {"name": "PoseResNet", "num_layers": 18}
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from torch import nn

from packdepth.errors import PackdepthError
from packdepth.networks.packnet import PackNet, PackNet01, PackNetSlim01, PackNetSmall
from packdepth.networks.pose_net import PoseNet, PoseResNet
from packdepth.networks.resnet_depth import ResNetDepth
from packdepth.networks.semantic import SemanticDepth

DEPTH_NETS: dict[str, Callable[..., nn.Module]] = {
    "PackNet": PackNet,
    "PackNet01": PackNet01,
    "PackNetSlim01": PackNetSlim01,
    "PackNetSmall": PackNetSmall,
    "ResNetDepth": ResNetDepth,
    "SemanticDepth": SemanticDepth,
}

POSE_NETS: dict[str, Callable[..., nn.Module]] = {
    "PoseNet": PoseNet,
    "PoseResNet": PoseResNet,
}


def _build(registry: Mapping[str, Callable[..., nn.Module]], config: Mapping[str, Any],
           kind: str) -> nn.Module:
    if not isinstance(config, Mapping) or "name" not in config:
        raise PackdepthError(f"{kind} config: expected a mapping with a 'name', got {config!r}")
    kwargs = dict(config)
    name = kwargs.pop("name")
    if name not in registry:
        raise PackdepthError(f"{kind} config: unknown network {name!r} "
                             f"(known: {', '.join(sorted(registry))})")
    try:
        return registry[name](**kwargs)
    except (TypeError, ValueError) as exc:
        raise PackdepthError(f"{kind} config: cannot build {name}: {exc}") from exc


def build_depth_net(config: Mapping[str, Any]) -> nn.Module:
    """Depth network from ``{"name": ..., **kwargs}`` (names in :data:`DEPTH_NETS`)."""
    return _build(DEPTH_NETS, config, "depth_net")


def build_pose_net(config: Mapping[str, Any]) -> nn.Module:
    """Pose network from ``{"name": ..., **kwargs}`` (names in :data:`POSE_NETS`)."""
    return _build(POSE_NETS, config, "pose_net")


def build_network(config: Mapping[str, Any]) -> nn.Module:
    """A depth or pose network, whichever registry knows ``config["name"]``."""
    if isinstance(config, Mapping) and config.get("name") in POSE_NETS:
        return build_pose_net(config)
    return build_depth_net(config)
