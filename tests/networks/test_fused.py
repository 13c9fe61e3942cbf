"""Fused PackNet layers against the reference layers: the fold is exact (float64) and the fused
networks give the plain networks' outputs (float32, random weights, randomised norms)."""

from __future__ import annotations

import copy

import pytest
import torch
import torch.nn.functional as F

from packdepth.networks import PackNet, PackNet01, PackNetSlim01, PackNetSmall, ResNetDepth
from packdepth.networks.fold import fold_pack, folded_pack_conv
from packdepth.networks.fused import FusedPackLayer, FusedUnpackLayer, fuse
from packdepth.networks.layers import PackLayer3d, UnpackLayer3d, packing


def randomise_(net: torch.nn.Module, seed: int = 0) -> torch.nn.Module:
    """Non-zero biases everywhere (xavier init leaves them zero) and GroupNorm affines ≠ (1, 0)."""
    gen = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for m in net.modules():
            if isinstance(m, torch.nn.GroupNorm):
                m.weight.copy_(torch.rand(m.weight.shape, generator=gen) + 0.5)
                m.bias.copy_(torch.rand(m.bias.shape, generator=gen) - 0.5)
            elif isinstance(m, (torch.nn.Conv2d, torch.nn.Conv3d)) and m.bias is not None:
                m.bias.copy_(0.2 * torch.rand(m.bias.shape, generator=gen) - 0.1)
    return net


def reference_pre_norm(layer: PackLayer3d, x: torch.Tensor) -> torch.Tensor:
    """The reference packing layer up to its Conv2d (before GroupNorm)."""
    z = layer.conv3d(packing(x, layer.r).unsqueeze(1))
    b, d, c, h, w = z.shape
    return layer.conv.conv_base(layer.conv.pad(z.reshape(b, d * c, h, w)))


@pytest.mark.parametrize(("channels", "kernel", "d"), [(16, 5, 8), (16, 3, 8), (32, 3, 4),
                                                       (16, 5, 2)])
@pytest.mark.parametrize("size", [(32, 48), (10, 14), (4, 6), (2, 2), (2, 8)])
def test_fold_equals_conv3d_then_conv2d_in_float64(channels, kernel, d, size) -> None:
    torch.manual_seed(0)
    layer = randomise_(PackLayer3d(channels, kernel, d=d)).double()
    x = torch.randn(2, channels, *size, dtype=torch.float64)
    with torch.no_grad():
        reference = reference_pre_norm(layer, x)
        folded = folded_pack_conv(packing(x), fold_pack(layer))
    # Exact up to float64 rounding, borders included (size (2, 2): a 1x1 packed map, which
    # is all border, with a 5x5 kernel wider than the map).
    torch.testing.assert_close(folded, reference, rtol=1e-10, atol=1e-10)


def test_the_border_corrections_are_needed() -> None:
    # Without them, the single folded convolution is right only away from the border: the
    # reference pads the Conv3d's *output* with zeros, not the Conv3d's values one pixel out.
    torch.manual_seed(1)
    layer = randomise_(PackLayer3d(16, 5, d=8)).double()
    x = torch.randn(1, 16, 32, 48, dtype=torch.float64)
    with torch.no_grad():
        fold = fold_pack(layer)
        interior_bias = fold.bias + fold.bias_kernel.sum((1, 2, 3))
        naive = F.conv2d(packing(x), fold.kernel, interior_bias, padding=3)
        reference = reference_pre_norm(layer, x)
    r = 2
    torch.testing.assert_close(naive[..., r:-r, r:-r], reference[..., r:-r, r:-r], rtol=1e-10,
                               atol=1e-10)
    for border in (naive[..., :r, :] - reference[..., :r, :],
                   naive[..., :, -r:] - reference[..., :, -r:]):
        assert border.abs().max() > 1e-2


@pytest.mark.parametrize(("cout", "d"), [(32, 8), (64, 8), (16, 4)])
def test_fused_unpack_equals_the_reference_in_float64(cout: int, d: int) -> None:
    torch.manual_seed(2)
    layer = randomise_(UnpackLayer3d(24, cout, 3, d=d)).double()
    fused = FusedUnpackLayer(layer)
    for size in ((6, 10), (1, 3)):
        x = torch.randn(2, 24, *size, dtype=torch.float64)
        with torch.no_grad():
            torch.testing.assert_close(fused(x), layer(x), rtol=1e-12, atol=1e-12)


NETWORKS = {
    "PackNet01-A": lambda: PackNet01("A"),
    "PackNet01-B": lambda: PackNet01("B"),
    "PackNetSlim01-A": lambda: PackNetSlim01("A"),
    "PackNetSmall-A": lambda: PackNetSmall("A"),
    "PackNetSmall-B": lambda: PackNetSmall("B"),
    "PackNet-generic": lambda: PackNet("B", 32, (32, 32, 64, 128, 256), d=2),
}


@pytest.mark.parametrize("name", sorted(NETWORKS))
def test_fused_network_gives_the_plain_networks_outputs(name: str) -> None:
    torch.manual_seed(3)
    net = randomise_(NETWORKS[name]()).eval()
    fused = net.fused()
    kinds = {type(m) for m in fused.modules()}
    assert FusedPackLayer in kinds and FusedUnpackLayer in kinds
    assert not kinds & {PackLayer3d, UnpackLayer3d, torch.nn.ConstantPad2d}  # pads in the convs
    for size in ((64, 64), (96, 160), (37, 71)):
        image = torch.rand(2, 3, *size)
        with torch.inference_mode():
            plain, fast = net(image), fused(image)
        for p, f in zip(plain, fast):  # inverse depths > 0: elementwise relative error
            assert p.shape == f.shape
            assert ((f - p).abs() / p).max() <= 1e-5


def test_fused_float32_is_as_close_to_float64_as_the_plain_network() -> None:
    torch.manual_seed(4)
    net = randomise_(PackNetSmall("A")).eval()
    truth_net = copy.deepcopy(net).double()
    image = torch.rand(1, 3, 64, 96)
    with torch.inference_mode():
        truth = truth_net(image.double())[0]
        plain_err = ((net(image)[0].double() - truth).abs() / truth).max()
        fused_err = ((fuse(net)(image)[0].double() - truth).abs() / truth).max()
        fused64_err = ((fuse(truth_net)(image.double())[0] - truth).abs() / truth).max()
    assert fused64_err < 1e-12  # the same function
    assert fused_err < 2 * plain_err + 1e-7  # and float32 rounding of the same size


def test_fuse_copies_unless_inplace_and_keeps_the_mode() -> None:
    net = PackNetSmall("A").train()
    fused = fuse(net)
    assert isinstance(net.pack1, PackLayer3d) and isinstance(fused.pack1, FusedPackLayer)
    assert fused.pack1.training and fused.unpack1.training
    same = fuse(net.eval(), inplace=True)
    assert same is net and isinstance(net.pack1, FusedPackLayer) and not net.pack1.training
    resnet = ResNetDepth(18)
    assert fuse(resnet) is not resnet  # nothing to fold: an unchanged copy
    with torch.no_grad():
        image = torch.rand(1, 3, 64, 64)
        torch.testing.assert_close(fuse(resnet).eval()(image), resnet.eval()(image), rtol=0, atol=0)


def test_fold_rejects_layers_it_cannot_fold() -> None:
    layer = PackLayer3d(16, 4, d=2)  # even kernel: ConstantPad2d(2) + 4x4 is not centred
    with pytest.raises(ValueError, match="cannot fold"):
        fold_pack(layer)


def test_fold_is_differentiable_and_gradients_reach_the_original_parameters() -> None:
    # What folding during training would use (bench figures: it did not pay, so training runs
    # the reference layers): the same gradients for every parameter and for the input.
    torch.manual_seed(5)
    layer = randomise_(PackLayer3d(16, 3, d=4)).double()
    x = torch.randn(2, 16, 12, 20, dtype=torch.float64, requires_grad=True)
    weights = torch.randn(2, 16, 6, 10, dtype=torch.float64)
    grads = []
    for run in (lambda: reference_pre_norm(layer, x),
                lambda: folded_pack_conv(packing(x), fold_pack(layer))):
        layer.zero_grad()
        x.grad = None
        (run() * weights).sum().backward()
        grads.append([x.grad.clone()] + [p.grad.clone() for p in layer.conv3d.parameters()]
                     + [p.grad.clone() for p in layer.conv.conv_base.parameters()])
    for folded, reference in zip(grads[1], grads[0]):
        assert reference.abs().max() > 0
        torch.testing.assert_close(folded, reference, rtol=1e-10, atol=1e-10)
