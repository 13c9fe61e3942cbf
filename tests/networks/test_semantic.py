"""Semantic-guided depth: shared encoder, semantic decoder whose features feed the depth decoder."""

from __future__ import annotations

import torch

from packdepth.networks import DepthDecoder, ResNetEncoder, SemanticDepth


def test_composition_of_existing_parts() -> None:
    net = SemanticDepth(num_classes=7)
    assert isinstance(net.encoder, ResNetEncoder)
    assert isinstance(net.decoder, DepthDecoder) and isinstance(net.semantic_decoder, DepthDecoder)
    # each depth upconv_i_1 sees monodepth2's inputs plus the semantic level features
    assert [net.decoder[k].conv.conv.in_channels for k in (1, 3, 5, 7, 9)] == [
        512 + 256, 256 + 128, 128 + 64, 96 + 32, 16 + 16]
    assert net.semantic_decoder[10].conv.out_channels == 7


def test_outputs_at_odd_size() -> None:
    net = SemanticDepth(num_classes=5).eval()
    image = torch.rand(2, 3, 45, 70)
    with torch.no_grad():
        inv_depths, logits = net.forward_with_semantics(image)
        plain = net(image)
    assert [tuple(d.shape) for d in inv_depths] == [(2, 1, 45, 70), (2, 1, 23, 35),
                                                     (2, 1, 12, 18), (2, 1, 6, 9)]
    assert logits.shape == (2, 5, 45, 70)
    for a, b in zip(inv_depths, plain):
        assert torch.equal(a, b)
        assert torch.all(a >= 1 / 100) and torch.all(a <= 1 / 0.1)


def test_depth_sees_semantic_features_not_logits() -> None:
    net = SemanticDepth(num_classes=3).eval()
    image = torch.rand(1, 3, 64, 64)
    with torch.no_grad():
        before = net(image)[0]
        net.semantic_decoder[10].conv.weight.add_(1.0)  # the logits head: not fused
        after_head = net(image)[0]
        net.semantic_decoder[9].conv.conv.weight.add_(0.1)  # level-0 semantic features: fused
        after_features = net(image)[0]
    assert torch.equal(before, after_head)
    assert not torch.allclose(before, after_features)


def test_joint_loss_trains_every_part() -> None:
    net = SemanticDepth(num_classes=4).train()
    image, labels = torch.rand(2, 3, 64, 96), torch.randint(0, 4, (2, 64, 96))
    inv_depths, logits = net.forward_with_semantics(image)
    loss = torch.nn.functional.cross_entropy(logits, labels) + sum(d.mean() for d in inv_depths)
    loss.backward()
    for part in (net.encoder, net.decoder, net.semantic_decoder):
        grads = [p.grad for p in part.parameters()]
        assert all(g is not None and torch.isfinite(g).all() for g in grads)
        assert any(g.abs().sum() > 0 for g in grads)
