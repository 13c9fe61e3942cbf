"""Export and the fused inference layers: ``export`` writes the reference layers' graph (a path
loads unfused), refuses a fused network, and the graph's outputs match what ``infer`` runs by
default (the fused network) within the export tolerance."""

from __future__ import annotations

import numpy as np
import pytest
import torch

import packdepth
from packdepth.errors import PackdepthError
from packdepth.export import OnnxDepthModel, export_onnx
from packdepth.networks import PackNetSmall
from packdepth.networks.fused import FusedPackLayer
from tests.export.conftest import parity, rand, random_net

TOL = 1e-4


def test_a_packnet_path_exports_the_reference_layers_matching_the_fused_default(
        packnet_pair, write_packnet_ckpt, tmp_path):
    depth_net, pose_net = packnet_pair
    ckpt = write_packnet_ckpt(tmp_path / "p.ckpt", depth_net, pose_net)
    report = export_onnx(ckpt, tmp_path / "d.onnx", size=(64, 96), dynamic=True, timing_runs=0)
    assert report.written and all(c.relative_error <= TOL for c in report.checks)
    onnx = OnnxDepthModel(tmp_path / "d.onnx")
    fused = packdepth.load(ckpt, device="cpu")  # what infer runs by default
    assert isinstance(fused.depth_net.pack1, FusedPackLayer)
    for i, size in enumerate([(64, 96), (81, 113)]):
        x = rand(1, 3, *size, seed=i)
        with torch.inference_mode():
            fast, plain = fused.depth_net(x)[0].numpy(), depth_net(x)[0].numpy()
        out = onnx(x.numpy())
        assert parity(out, plain) <= TOL and parity(out, fast) <= TOL
        assert np.abs(out - fast).max() > 0  # two implementations, not one graph run twice


def test_a_fused_network_or_model_is_refused_with_one_line(packnet_pair, write_packnet_ckpt,
                                                           tmp_path):
    net = random_net(lambda: PackNetSmall("A"))
    with pytest.raises(PackdepthError, match="fused PackNet cannot be exported"):
        export_onnx(net.fused(), tmp_path / "a.onnx", size=(64, 96), timing_runs=0)
    ckpt = write_packnet_ckpt(tmp_path / "p.ckpt", *packnet_pair)
    with pytest.raises(PackdepthError, match=r"p\.ckpt: a fused PackNet cannot be exported"):
        export_onnx(packdepth.load(ckpt, device="cpu"), tmp_path / "b.onnx", timing_runs=0)
    assert not (tmp_path / "a.onnx").exists() and not (tmp_path / "b.onnx").exists()
    unfused = packdepth.load(ckpt, device="cpu", fuse=False, size=(64, 96))
    assert export_onnx(unfused, tmp_path / "c.onnx", timing_runs=0).written
