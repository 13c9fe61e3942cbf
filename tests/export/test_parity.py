"""ONNX parity: every exportable network, random weights with randomised norms, run by
onnxruntime from the written file and compared here with PyTorch's own forward, at the exported
size and (dynamic graphs) at other sizes, including sizes that need padding."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from packdepth.export import OnnxDepthModel, OnnxPoseModel, export_onnx
from packdepth.networks import (
    PackNet01,
    PackNetSlim01,
    PackNetSmall,
    PoseNet,
    PoseResNet,
    ResNetDepth,
)
from tests.export.conftest import parity, rand, random_net

TOL = 1e-4


def _depth_parity(path, net, sizes, batch=1):
    """Worst parity over ``sizes`` of the file at ``path`` against ``net(x)[0]``."""
    model = OnnxDepthModel(path)
    worst = 0.0
    for i, (h, w) in enumerate(sizes):
        x = rand(batch, 3, h, w, seed=10 + i)
        out = model(x.numpy())
        assert out.shape == (batch, 1, h, w) and out.dtype == np.float32
        with torch.no_grad():
            worst = max(worst, parity(out, net(x)[0].numpy()))
    return worst


def _export(net, tmp_path, size, dynamic=True):
    report = export_onnx(net, tmp_path / "net.onnx", size=size, dynamic=dynamic, timing_runs=0)
    assert report.written and (tmp_path / "net.onnx").is_file()
    assert all(c.relative_error <= TOL for c in report.checks)
    assert len(report.checks) == (3 if dynamic else 2)  # random, real (+ a second size)
    return tmp_path / "net.onnx"


def test_resnet18_dynamic_at_several_sizes(tmp_path):
    net = random_net(lambda: ResNetDepth(18))
    path = _export(net, tmp_path, (96, 320))
    sizes = [(96, 320), (192, 640), (200, 600), (64, 64), (65, 97)]  # 200x600, 65x97: padded
    assert _depth_parity(path, net, sizes) <= TOL
    assert _depth_parity(path, net, [(100, 300)], batch=3) <= TOL  # the batch is free


@pytest.mark.parametrize(("version", "size", "others"), [
    ("A", (96, 320), [(200, 600), (33, 47)]), ("B", (64, 96), [(81, 113), (32, 32)])],
    ids=["A", "B"])
def test_packnet_small_dynamic(tmp_path, version, size, others):
    net = random_net(lambda: PackNetSmall(version))
    path = _export(net, tmp_path, size)
    assert _depth_parity(path, net, [size, *others]) <= TOL


def test_fixed_size_graph_pads_and_crops_as_the_network(tmp_path):
    """40x50 is below ResNet's 64-pixel minimum: DepthNet.forward replicate-pads it to 64x64
    and crops; the fixed graph must do the same, and take only that size."""
    net = random_net(lambda: ResNetDepth(18))
    path = _export(net, tmp_path, (40, 50), dynamic=False)
    assert _depth_parity(path, net, [(40, 50)], batch=2) <= TOL
    with pytest.raises(ValueError, match="exported for 40x50"):
        OnnxDepthModel(path)(rand(1, 3, 64, 64).numpy())


@pytest.mark.parametrize("factory", [PoseNet, lambda: PoseResNet(18)], ids=["PoseNet",
                                                                             "PoseResNet18"])
def test_pose_networks_dynamic(tmp_path, factory):
    net = random_net(factory)
    path = _export(net, tmp_path, (64, 96))
    model = OnnxPoseModel(path)
    assert model.metadata.contexts == 2
    for i, (b, h, w) in enumerate([(1, 64, 96), (2, 96, 320), (1, 50, 70)]):
        target, context = rand(b, 3, h, w, seed=i), rand(b, 2, 3, h, w, seed=20 + i)
        out = model(target.numpy(), context.numpy())
        with torch.no_grad():
            ref = net(target, context).numpy()
        assert out.shape == (b, 2, 4, 4)
        eye = np.eye(4, dtype=np.float32)
        assert parity(out - eye, ref - eye) <= TOL  # on the motion, not the identity


def test_resnet50_dynamic(tmp_path):
    net = random_net(lambda: ResNetDepth(50))
    path = _export(net, tmp_path, (64, 96))
    assert _depth_parity(path, net, [(64, 96), (81, 113)]) <= TOL


@pytest.mark.slow
@pytest.mark.parametrize("factory", [PackNetSlim01, PackNet01], ids=["PackNetSlim01",
                                                                     "PackNet01"])
def test_packnet01_sizes_dynamic(tmp_path, factory):
    """30-50 s each here (PackNet01: a 513 MB graph of 128 M parameters), so at a small size."""
    net = random_net(factory)
    path = _export(net, tmp_path, (64, 96))
    assert _depth_parity(path, net, [(64, 96), (81, 113)]) <= TOL
