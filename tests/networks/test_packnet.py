"""PackNet01 / PackNetSlim01 against packnet-sfm's published state dicts; the CPU-sized PackNet."""

from __future__ import annotations

import math

import pytest
import torch

from packdepth.networks import PackNet, PackNet01, PackNetSlim01, PackNetSmall, build_depth_net


def _shapes(net: torch.nn.Module) -> dict[str, list[int]]:
    return {k: list(v.shape) for k, v in net.state_dict().items()}


def _num_params(net: torch.nn.Module) -> int:
    return sum(p.numel() for p in net.parameters())


@pytest.mark.parametrize(("ref_name", "build", "version", "published_count"), [
    ("PackNet01-A", PackNet01, "A", 128_294_020),
    ("PackNet01-B", PackNet01, "B", 124_164_580),
    ("PackNetSlim01-A", PackNetSlim01, "A", 76_997_796),
])
def test_state_dict_equals_reference(packnet_shapes, ref_name, build, version,
                                     published_count) -> None:
    with torch.device("meta"):  # shapes only: no memory, no init time
        net = build(version)
    reference = packnet_shapes[ref_name]
    assert _shapes(net) == reference  # every key and every shape
    assert _num_params(net) == published_count
    assert sum(math.prod(s) for s in reference.values()) == published_count


def test_slim_b_parameter_count_and_reference_fault() -> None:
    with torch.device("meta"):
        net = PackNetSlim01("B")
        assert _num_params(net) == 71_955_300
    # as in the reference, Slim-B's unpack2 (64 ch) cannot be added to its skip (32 ch): a clear
    # error instead of a broadcasting failure deep inside the decoder
    with pytest.raises(ValueError, match="version B"):
        PackNetSlim01("B")(torch.zeros(1, 3, 32, 32))


def test_packnet_version_spelling_and_dropout_keep_keys(packnet_shapes) -> None:
    with torch.device("meta"):
        net = PackNet01("1A", dropout=0.5)  # packnet-sfm's "1A" and a dropout shortcut
    assert net.version == "A"
    assert _shapes(net) == packnet_shapes["PackNet01-A"]
    with pytest.raises(ValueError, match="version"):
        PackNet("C")


def test_packnet01_forward_on_tiny_input() -> None:
    net = PackNet01("A").eval()
    with torch.no_grad():
        out = net(torch.rand(1, 3, 64, 64))
    assert [tuple(o.shape) for o in out] == [(1, 1, 64 >> s, 64 >> s) for s in range(4)]
    for o in out:  # sigmoid / min_depth with min_depth 0.5
        assert torch.all(o > 0) and torch.all(o <= 2.0)
    assert net.min_depth == 0.5 and net.max_depth == math.inf


@pytest.mark.parametrize("version", ["A", "B"])
def test_small_packnet_scales_and_odd_sizes(version: str) -> None:
    net = PackNetSmall(version).eval()
    image = torch.rand(2, 3, 37, 71)
    with torch.no_grad():
        out = net(image)
        reference = net.predict(torch.nn.functional.pad(image, (0, 25, 0, 27), mode="reflect"))
    assert [tuple(o.shape) for o in out] == [(2, 1, 37, 71), (2, 1, 19, 36), (2, 1, 10, 18),
                                             (2, 1, 5, 9)]
    for o, r in zip(out, reference):  # the wrapper = reflect-pad bottom/right + top-left crop
        assert torch.equal(o, r[..., : o.shape[-2], : o.shape[-1]])


def test_inverse_depth_heads_saturate_at_one_over_min_depth() -> None:
    net = PackNetSmall().eval()
    with torch.no_grad():
        for level in range(1, 5):
            head = getattr(net, f"disp{level}_layer").conv1
            head.weight.zero_()
            head.bias.fill_(50.0)  # sigmoid(50) == 1 in float32
        out = net(torch.rand(1, 3, 64, 64))
    for o in out:
        assert torch.all(o == 2.0)


def test_small_packnet_is_smaller_and_rebuilds_from_config() -> None:
    net = PackNetSmall("B")
    assert _num_params(net) < 5_000_000
    rebuilt = build_depth_net(net.config)
    assert isinstance(rebuilt, PackNet) and _shapes(rebuilt) == _shapes(net)
    assert build_depth_net({"name": "PackNetSmall", "version": "B"}).config == net.config
