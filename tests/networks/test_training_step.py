"""One self-supervised training step of every depth + pose pair at 64x192 on CPU."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F

from packdepth.geometry import inverse_warp
from packdepth.networks import PackNetSmall, PoseNet, PoseResNet, ResNetDepth, SemanticDepth

DEPTH = {"PackNetSmall": lambda: PackNetSmall("A"), "ResNetDepth18": lambda: ResNetDepth(18),
         "SemanticDepth": lambda: SemanticDepth(num_classes=3)}
POSE = {"PoseNet": PoseNet, "PoseResNet18": lambda: PoseResNet(18)}


@pytest.mark.parametrize("pose_name", sorted(POSE))
@pytest.mark.parametrize("depth_name", sorted(DEPTH))
def test_training_step(depth_name: str, pose_name: str) -> None:
    depth_net, pose_net = DEPTH[depth_name]().train(), POSE[pose_name]().train()
    params = list(depth_net.parameters()) + list(pose_net.parameters())
    before = [p.detach().clone() for p in params]
    optimizer = torch.optim.Adam(params, lr=1e-4)
    target, context = torch.rand(1, 3, 64, 192), torch.rand(1, 2, 3, 64, 192)
    K = torch.tensor([[[0.58 * 192, 0.0, 96.0], [0.0, 1.92 * 64, 32.0], [0.0, 0.0, 1.0]]])

    T = pose_net(target, context)
    loss = torch.zeros(())
    if isinstance(depth_net, SemanticDepth):
        inv_depths, logits = depth_net.forward_with_semantics(target)
        loss = F.cross_entropy(logits, torch.randint(0, 3, (1, 64, 192)))
    else:
        inv_depths = depth_net(target)
    for inv_depth in inv_depths:  # every scale, upsampled to full resolution
        depth = 1.0 / F.interpolate(inv_depth, size=(64, 192), mode="bilinear",
                                    align_corners=False)
        for n in range(2):
            loss = loss + (inverse_warp(context[:, n], depth, T[:, n], K)[0] - target).abs().mean()
    optimizer.zero_grad()
    loss.backward()
    optimizer.step()

    assert torch.isfinite(loss)
    assert all(p.grad is not None and torch.isfinite(p.grad).all() for p in params)
    assert all(not torch.equal(p.detach(), b) for p, b in zip(params, before))
