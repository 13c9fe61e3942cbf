"""Pose networks: reference keys, hand-computed transforms and monodepth2's pairing semantics."""

from __future__ import annotations

import math

import pytest
import torch

from packdepth.networks import PoseNet, PoseResNet

CLASSIFIER = {"encoder.fc.weight", "encoder.fc.bias"}


def _shapes(net: torch.nn.Module) -> dict[str, list[int]]:
    return {k: list(v.shape) for k, v in net.state_dict().items()}


def _rot_z(theta: float) -> torch.Tensor:
    c, s = math.cos(theta), math.sin(theta)
    return torch.tensor([[c, -s, 0.0], [s, c, 0.0], [0.0, 0.0, 1.0]])


def test_posenet_keys_and_count(packnet_shapes) -> None:
    net = PoseNet()
    assert _shapes(net) == packnet_shapes["PoseNet"]
    assert sum(p.numel() for p in net.parameters()) == 1_592_684


def test_pose_resnet_keys(monodepth2_shapes) -> None:
    with torch.device("meta"):
        ours = _shapes(PoseResNet(18))
    enc_ref = monodepth2_shapes["pose_encoder_resnet18"]
    assert {k: v for k, v in ours.items() if k.startswith("encoder.")} == {
        k: v for k, v in enc_ref.items() if k not in CLASSIFIER}
    assert {k: v for k, v in ours.items() if k.startswith("net.")} == monodepth2_shapes[
        "pose_decoder_resnet18"]
    dec_ref = monodepth2_shapes["pose_decoder_resnet18"]
    assert set(ours) == (set(enc_ref) - CLASSIFIER) | set(dec_ref)


def test_posenet_decodes_translation_then_euler() -> None:
    net = PoseNet()
    with torch.no_grad():
        net.pose_pred.weight.zero_()
        net.pose_pred.bias.copy_(torch.tensor([100.0, 200.0, 300.0, 0, 0, 0,  # context 0: t
                                               0, 0, 0, 0, 0, 30.0]))  # context 1: rz = 0.3
        T = net(torch.rand(2, 3, 40, 56), torch.rand(2, 2, 3, 40, 56))
    assert T.shape == (2, 2, 4, 4)
    expected0 = torch.eye(4)
    expected0[:3, 3] = torch.tensor([1.0, 2.0, 3.0])  # ×0.01
    expected1 = torch.eye(4)
    expected1[:3, :3] = _rot_z(0.3)
    torch.testing.assert_close(T[:, 0], expected0.expand(2, 4, 4))
    torch.testing.assert_close(T[:, 1], expected1.expand(2, 4, 4))


def test_posenet_outputs_rigid_transforms_and_checks_context_count() -> None:
    net = PoseNet(num_contexts=2)
    T = net(torch.rand(1, 3, 64, 64), torch.rand(1, 2, 3, 64, 64))
    R = T[..., :3, :3]
    torch.testing.assert_close(R @ R.transpose(-1, -2), torch.eye(3).expand_as(R))
    assert torch.equal(T[..., 3, :], torch.tensor([0.0, 0.0, 0.0, 1.0]).expand(1, 2, 4))
    with pytest.raises(ValueError, match="2 context"):
        net(torch.rand(1, 3, 64, 64), torch.rand(1, 3, 3, 64, 64))


def _constant_pose_resnet(theta: float, t: tuple[float, float, float]) -> PoseResNet:
    net = PoseResNet(18).eval()
    with torch.no_grad():
        net.net[3].weight.zero_()
        bias = torch.zeros(12)
        bias[2] = 100.0 * theta  # monodepth2 layout: axis-angle first ...
        bias[3:6] = 100.0 * torch.tensor(t)  # ... then translation
        net.net[3].bias.copy_(bias)
    return net


def test_pose_resnet_inverts_pose_for_frames_before_target() -> None:
    theta, t = 0.2, (0.5, -1.0, 2.0)
    net = _constant_pose_resnet(theta, t)
    with torch.no_grad():
        T = net(torch.rand(1, 3, 64, 96), torch.rand(1, 2, 3, 64, 96))  # offsets (-1, +1)
    forward = torch.eye(4)
    forward[:3, :3], forward[:3, 3] = _rot_z(theta), torch.tensor(t)
    backward = torch.eye(4)  # [[R, t]]^-1 = [[R^T, -R^T t]]
    backward[:3, :3] = _rot_z(-theta)
    backward[:3, 3] = -(_rot_z(-theta) @ torch.tensor(t))
    torch.testing.assert_close(T[0, 0], backward)
    torch.testing.assert_close(T[0, 1], forward)


def test_pose_resnet_feeds_pairs_in_temporal_order() -> None:
    net = PoseResNet(18).eval()
    seen: list[torch.Tensor] = []
    net.encoder.register_forward_pre_hook(lambda _m, args: seen.append(args[0]))
    target, context = torch.rand(1, 3, 32, 64), torch.rand(1, 3, 3, 32, 64)
    with torch.no_grad():
        T = net(target, context, offsets=(-2, 1, -1))
    assert T.shape == (1, 3, 4, 4)
    assert torch.equal(seen[0], torch.cat([context[:, 0], target], 1))  # before: [ctx, target]
    assert torch.equal(seen[1], torch.cat([target, context[:, 1]], 1))  # after: [target, ctx]
    assert torch.equal(seen[2], torch.cat([context[:, 2], target], 1))


def test_pose_resnet_offsets_validation() -> None:
    net = PoseResNet(18)
    target, context = torch.rand(1, 3, 32, 32), torch.rand(1, 3, 3, 32, 32)
    with pytest.raises(ValueError, match="offsets"):
        net(target, context)  # 3 frames need explicit offsets
    with pytest.raises(ValueError, match="offsets"):
        net(target, context[:, :2], offsets=(0, 1))
    with pytest.raises(ValueError, match="context"):
        net(target, torch.rand(1, 3, 32, 32))
