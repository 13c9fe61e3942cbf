"""Every network runs on any image size from 1 pixel up (issue 15, item 4).

Sizes of 32 pixels or less used to crash the monodepth2-family nets (reflection padding of a
1-pixel map), PoseNet at 1x1 (GroupNorm of one value) and a PackNet whose coarsest GroupNorms have
one channel per group. Outputs at sizes that already worked must not change by a bit: they are
checked against the old path written with plain torch (``F.pad(..., "reflect")`` to a multiple of
32 and ``nn.ReflectionPad2d`` in every 3x3 convolution).
"""

from __future__ import annotations

import math

import pytest
import torch
import torch.nn.functional as F
from torch import nn

from packdepth.networks import (
    DepthDecoder,
    PackNet,
    PackNet01,
    PackNetSlim01,
    PackNetSmall,
    PoseNet,
    PoseResNet,
    ResNetDepth,
    SemanticDepth,
)
from packdepth.networks.padding import ReflectOrReplicatePad2d, padded_size
from packdepth.networks.pose_net import POSENET_CHANNELS
from tests.io.conftest import _randomise_norms

SIZES = [(1, 1), (7, 13), (24, 80), (32, 96), (33, 97), (2, 200), (64, 5)]
OLD_SIZES = [(33, 97), (37, 71), (64, 64)]  # sizes every depth net already ran at
# one channel per GroupNorm group at H/32: pack5 (16) and unpack5 (16·4/4)
ONE_PER_GROUP = {"stem_channels": 16, "widths": (16, 16, 16, 16, 16), "d": 4}

DEPTH_NETS = {
    "ResNetDepth18": lambda: ResNetDepth(18),
    "ResNetDepth50": lambda: ResNetDepth(50),
    "SemanticDepth": lambda: SemanticDepth(num_classes=3),
    "PackNet01": lambda: PackNet01("A"),
    "PackNetSlim01": lambda: PackNetSlim01("A"),
    "PackNetSmall-A": lambda: PackNetSmall("A"),
    "PackNetSmall-B": lambda: PackNetSmall("B"),
    "PackNet-one-channel-groups": lambda: PackNet("A", **ONE_PER_GROUP),
}


@pytest.fixture(scope="module")
def depth_nets() -> dict[str, nn.Module]:
    torch.manual_seed(0)
    return {name: _randomise_norms(build()).eval() for name, build in DEPTH_NETS.items()}


def _promised(size: tuple[int, int]) -> list[tuple[int, int]]:
    return [(math.ceil(size[0] / 2**s), math.ceil(size[1] / 2**s)) for s in range(4)]


@pytest.mark.parametrize("name", DEPTH_NETS)
def test_depth_nets_run_at_any_size(depth_nets, name: str) -> None:
    net = depth_nets[name]
    for size in SIZES:
        with torch.no_grad():
            out = net(torch.rand(1, 3, *size))
        assert [tuple(o.shape) for o in out] == [(1, 1, *hw) for hw in _promised(size)], size
        assert all(torch.isfinite(o).all() and (o > 0).all() for o in out), size


def test_semantic_logits_at_any_size(depth_nets) -> None:
    net = depth_nets["SemanticDepth"]
    for size in SIZES:
        with torch.no_grad():
            inv_depths, logits = net.forward_with_semantics(torch.rand(1, 3, *size))
        assert tuple(logits.shape) == (1, 3, *size) and torch.isfinite(logits).all()
        assert [tuple(o.shape[-2:]) for o in inv_depths] == _promised(size)


@pytest.mark.parametrize("name", ["ResNetDepth18", "SemanticDepth", "PackNetSmall-A"])
def test_training_mode_batch_of_one_at_tiny_sizes(name: str) -> None:
    net = DEPTH_NETS[name]().train()  # BatchNorm in training mode needs >1 value per channel
    for size in [(1, 1), (7, 13), (32, 32)]:
        out = net(torch.rand(1, 3, *size))
        sum(o.mean() for o in out).backward()
        assert all(torch.isfinite(o).all() for o in out)
        assert all(p.grad is None or torch.isfinite(p.grad).all() for p in net.parameters())


def _old_forward(net: nn.Module, image: torch.Tensor) -> list[torch.Tensor]:
    """The pre-fix path: reflect-pad to a multiple of 32, plain ReflectionPad2d, crop."""
    for module in net.modules():
        for child_name, child in module.named_children():
            if isinstance(child, ReflectOrReplicatePad2d):
                setattr(module, child_name, nn.ReflectionPad2d(child.padding))
    h, w = image.shape[-2:]
    padded = F.pad(image, (0, (-w) % 32, 0, (-h) % 32), mode="reflect")
    return [o[..., : math.ceil(h / 2**s), : math.ceil(w / 2**s)]
            for s, o in enumerate(net.predict(padded))]


@pytest.mark.parametrize("name", ["ResNetDepth18", "SemanticDepth", "PackNetSmall-B"])
def test_sizes_that_worked_give_bit_identical_outputs(name: str) -> None:
    torch.manual_seed(1)
    net = _randomise_norms(DEPTH_NETS[name]()).eval()
    for size in OLD_SIZES:
        image = torch.rand(2, 3, *size)
        with torch.no_grad():
            new = net(image)
            old = _old_forward(net, image)
        for a, b in zip(new, old):
            assert torch.equal(a, b), size


def test_padding_reaches_the_minimum_only_below_it() -> None:
    assert ResNetDepth.min_size == 64 and PackNetSmall().min_size == 1
    assert PackNet("A", **ONE_PER_GROUP).min_size == 64
    assert padded_size((24, 80), 32, 64) == (64, 96)
    assert padded_size((1, 1), 32, 64) == (64, 64)
    assert padded_size((33, 97), 32, 64) == (64, 128)  # as before: next multiple of 32
    assert padded_size((375, 1242), 32, 64) == (384, 1248)
    assert padded_size((1, 7), 1, 3) == (3, 7)


def test_depth_decoder_on_one_pixel_features() -> None:
    dec = DepthDecoder([64, 64, 128, 256, 512]).eval()
    # the encoder features of a 32x32 image: H/2 .. H/32 = 16 .. 1 pixels, the last one 1x1
    feats = [torch.rand(1, c, 16 >> k, 16 >> k) for k, c in enumerate([64, 64, 128, 256, 512])]
    with torch.no_grad():
        outs, levels = dec(feats)
    assert [tuple(o.shape) for o in outs] == [(1, 1, 32 >> s, 32 >> s) for s in range(4)]
    assert all(torch.isfinite(o).all() for o in outs + levels)
    # a 1-pixel map pads by replication (reflection is undefined); 2 pixels and up reflect
    pad = dec[0].conv.pad
    x = torch.arange(3.0).view(1, 1, 1, 3)
    assert torch.equal(pad(x), F.pad(x, (1, 1, 1, 1), mode="replicate"))
    y = torch.rand(1, 2, 2, 5)
    assert torch.equal(pad(y), nn.ReflectionPad2d(1)(y))


@pytest.mark.parametrize("build", [PoseNet, lambda: PoseResNet(18)], ids=["PoseNet", "PoseResNet"])
def test_pose_nets_run_at_any_size(build) -> None:
    net = _randomise_norms(build()).eval()
    for size in SIZES:  # a batch of one: GroupNorm refused one value per group only then
        with torch.no_grad():
            T = net(torch.rand(1, 3, *size), torch.rand(1, 2, 3, *size))
        assert T.shape == (1, 2, 4, 4) and torch.isfinite(T).all(), size
        bottom = torch.tensor([0.0, 0.0, 0.0, 1.0]).expand(1, 2, 4)
        assert torch.equal(T[..., 3, :], bottom)
        rotation = T[..., :3, :3]
        eye = torch.eye(3).expand(1, 2, 3, 3)
        torch.testing.assert_close(rotation @ rotation.transpose(-1, -2), eye, atol=1e-5, rtol=0)


def test_posenet_pads_only_images_of_at_most_two_by_two() -> None:
    net = _randomise_norms(PoseNet()).eval()

    def unpadded(target: torch.Tensor, context: torch.Tensor) -> torch.Tensor:
        x = torch.cat([target.unsqueeze(1), context], 1).flatten(1, 2)
        for i in range(1, len(POSENET_CHANNELS) + 1):
            x = getattr(net, f"conv{i}")(x)
        x = net.pose_pred(x).mean(dim=(2, 3)).view(x.shape[0], 2, 6)
        return torch.cat([net.translation_scale * x[..., :3], net.rotation_scale * x[..., 3:]], -1)

    for size in [(2, 3), (3, 1), (7, 13)]:  # ran before: unchanged
        target, context = torch.rand(1, 3, *size), torch.rand(1, 2, 3, *size)
        with torch.no_grad():
            assert torch.equal(net.pose_vectors(target, context), unpadded(target, context))
    target, context = torch.rand(1, 3, 1, 2), torch.rand(1, 2, 3, 1, 2)
    with torch.no_grad():  # 1x2 → replicate-padded to 3x3
        padded = F.pad(target, (0, 1, 0, 2), mode="replicate"), F.pad(
            context.flatten(1, 2), (0, 1, 0, 2), mode="replicate").view(1, 2, 3, 3, 3)
        assert torch.equal(net.pose_vectors(target, context), unpadded(*padded))
