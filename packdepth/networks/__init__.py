"""Depth and pose networks.

Depth nets map ``image [B,3,H,W]`` in [0,1] (any H, W) to 4 inverse depths ``[B,1,H/2^s,W/2^s]``
(s = 0..3, index 0 full resolution), ``depth = 1 / inv_depth``; pose nets map ``(target [B,3,H,W],
context [B,N,3,H,W])`` to ``T_target_to_context [B,N,4,4]``.
"""

from __future__ import annotations

from packdepth.networks.base import DepthNet
from packdepth.networks.depth_decoder import DepthDecoder
from packdepth.networks.factory import (
    DEPTH_NETS,
    POSE_NETS,
    build_depth_net,
    build_network,
    build_pose_net,
)
from packdepth.networks.packnet import PackNet, PackNet01, PackNetSlim01, PackNetSmall
from packdepth.networks.pose_net import PoseNet, PoseResNet
from packdepth.networks.resnet import ResNetEncoder
from packdepth.networks.resnet_depth import ResNetDepth
from packdepth.networks.semantic import SemanticDepth

__all__ = [
    "DEPTH_NETS",
    "POSE_NETS",
    "DepthDecoder",
    "DepthNet",
    "PackNet",
    "PackNet01",
    "PackNetSlim01",
    "PackNetSmall",
    "PoseNet",
    "PoseResNet",
    "ResNetDepth",
    "ResNetEncoder",
    "SemanticDepth",
    "build_depth_net",
    "build_network",
    "build_pose_net",
]
