"""Starting points for metric training: initial depth of depth nets, pose output scales."""

from __future__ import annotations

import pytest
import torch

from packdepth.networks import PackNetSmall, PoseNet, PoseResNet, ResNetDepth, SemanticDepth


@pytest.mark.parametrize("make", [lambda: ResNetDepth(18), PackNetSmall, lambda: SemanticDepth(5)])
def test_set_initial_depth_centres_the_prediction(make):
    torch.manual_seed(0)
    net = make().eval()
    image = torch.rand(1, 3, 64, 96)
    with torch.no_grad():
        before = (1 / net(image)[0]).median().item()
        net.set_initial_depth(15.0)
        after = 1 / net(image)[0]
    assert abs(before - 15.0) > 5  # the default start is far from street depths
    assert 10.0 < after.median().item() < 22.0
    for conv in net.depth_heads():  # one head per scale
        assert torch.allclose(torch.sigmoid(conv.bias), torch.tensor(net.sigmoid_at_depth(15.0)))
    assert len(net.depth_heads()) == 4


@pytest.mark.parametrize("cls", [PoseNet, PoseResNet])
def test_translation_scale_scales_only_translation(cls):
    torch.manual_seed(0)
    ref = cls().eval()
    scaled = cls(translation_scale=1.0).eval()
    scaled.load_state_dict(ref.state_dict())  # same weights: the scale is not a parameter
    target, context = torch.rand(2, 3, 64, 96), torch.rand(2, 2, 3, 64, 96)
    with torch.no_grad():
        a, b = ref(target, context), scaled(target, context)
    torch.testing.assert_close(b[..., :3, :3], a[..., :3, :3])
    # T = [R | t], or its inverse [R^T | -R^T t] for frames before the target (PoseResNet):
    # either way the translation is linear in the scaled output
    torch.testing.assert_close(b[..., :3, 3], 100 * a[..., :3, 3], rtol=1e-4, atol=1e-6)
    assert scaled.config["translation_scale"] == 1.0
