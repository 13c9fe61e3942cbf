"""The default inference path (fused PackNet, channels-last, inference mode), bf16 opt-in and
``infer --threads/--precision/--no-fuse``."""

from __future__ import annotations

import copy

import numpy as np
import pytest
import torch

import packdepth
from packdepth.cli import main
from packdepth.evaluation.depth import predict_depth
from packdepth.inference import fast
from packdepth.inference.fast import default_threads, prepare_network
from packdepth.networks import PackNetSmall, ResNetDepth
from packdepth.networks.fused import FusedPackLayer, FusedUnpackLayer
from packdepth.networks.layers import PackLayer3d
from tests.inference.conftest import image_pixels, save_image


def _relative(a: np.ndarray, b: np.ndarray) -> float:
    return float((np.abs(a - b) / np.abs(b)).max())


def test_packnet_loads_fused_by_default_with_the_reference_outputs(packnet_pair,
                                                                   write_packnet_ckpt, tmp_path):
    depth_net, pose_net = packnet_pair
    ckpt = write_packnet_ckpt(tmp_path / "p.ckpt", depth_net, pose_net)
    fused = packdepth.load(ckpt, size=(64, 96))
    plain = packdepth.load(ckpt, size=(64, 96), fuse=False)
    assert isinstance(fused.depth_net.pack1, FusedPackLayer)
    assert isinstance(fused.depth_net.unpack1, FusedUnpackLayer)
    assert isinstance(plain.depth_net.pack1, PackLayer3d)
    convs = [p for p in fused.depth_net.parameters() if p.dim() == 4 and p.shape[-1] > 1]
    assert not any(p.is_contiguous(memory_format=torch.channels_last) for p in convs)
    pixels = image_pixels(50, 70)
    assert _relative(packdepth.predict(fused, pixels).depth,
                     packdepth.predict(plain, pixels).depth) <= 1e-5


def test_resnet_default_is_channels_last_with_the_same_depth(model_dir):
    fast_model = packdepth.load(model_dir)
    plain = packdepth.load(model_dir, fuse=False)
    weights = [p for p in fast_model.depth_net.parameters() if p.dim() == 4]
    assert all(p.is_contiguous(memory_format=torch.channels_last) for p in weights)
    assert not any(p.is_contiguous(memory_format=torch.channels_last)
                   for p in plain.depth_net.parameters() if p.dim() == 4 and p.shape[-1] > 1)
    pixels = image_pixels(40, 60)
    assert _relative(packdepth.predict(fast_model, pixels).depth,
                     packdepth.predict(plain, pixels).depth) <= 1e-5


def test_bf16_is_opt_in_close_but_not_exact(model_dir):
    fp32 = packdepth.load(model_dir)
    bf16 = packdepth.load(model_dir, precision="bf16")
    assert fp32.precision == "fp32" and bf16.precision == "bf16"
    pixels = image_pixels(40, 60)
    a, b = packdepth.predict(fp32, pixels).depth, packdepth.predict(bf16, pixels).depth
    assert b.dtype == np.float32
    assert 1e-4 < _relative(b, a) < 0.1  # bf16 keeps 8 bits of mantissa
    with pytest.raises(ValueError, match="precision"):
        packdepth.load(model_dir, precision="fp16")


def test_bf16_casts_the_whole_network_and_predict_feeds_it_bf16() -> None:
    torch.manual_seed(0)
    reference = PackNetSmall().eval()
    net = prepare_network(copy.deepcopy(reference), precision="bf16")
    assert isinstance(net.pack1, FusedPackLayer)
    assert {t.dtype for t in [*net.parameters(), *net.buffers()]} == {torch.bfloat16}
    image = torch.rand(1, 3, 40, 60)
    with torch.inference_mode():
        depth = predict_depth(net, image)  # casts the image to the network's dtype
        exact = predict_depth(reference, image)
    assert depth.dtype == torch.float32 and depth.shape == (1, 1, 40, 60)
    error = ((depth - exact).abs() / exact).max()
    assert 1e-4 < error < 0.1


def test_channels_last_group_norm_is_why_packnet_stays_nchw() -> None:
    # PyTorch's NHWC GroupNorm on CPU loses digits when a group's mean is large against its
    # spread (one-pass variance); NCHW does not. If this starts failing, PyTorch fixed it and
    # PackNet may go channels-last too (5-10 % faster).
    x = 3.0 + 0.1 * torch.randn(1, 32, 16, 24, generator=torch.Generator().manual_seed(0))
    truth = torch.nn.functional.group_norm(x.double(), 16)
    nchw = torch.nn.functional.group_norm(x, 16)
    nhwc = torch.nn.functional.group_norm(x.contiguous(memory_format=torch.channels_last), 16)
    assert (nchw.double() - truth).abs().max() < 1e-5
    assert (nhwc.double() - truth).abs().max() > 1e-4


def test_prepare_network_opt_out_keeps_the_reference_layers() -> None:
    net = PackNetSmall().train()
    assert prepare_network(net, fused=False) is net and not net.training
    assert isinstance(net.pack1, PackLayer3d)
    resnet = prepare_network(ResNetDepth(18))
    assert resnet.encoder.conv1.weight.is_contiguous(memory_format=torch.channels_last)


@pytest.mark.parametrize(("cores", "load", "threads"), [(2, 0.1, 2), (2, 0.6, 1), (2, 8.0, 1),
                                                         (8, 1.4, 7), (4, 0.0, 4)])
def test_default_threads_leave_busy_cores_alone(monkeypatch, cores, load, threads) -> None:
    monkeypatch.setattr(fast.os, "cpu_count", lambda: cores)
    monkeypatch.setattr(fast.os, "getloadavg", lambda: (load, load, load))
    assert default_threads() == threads


def test_default_threads_without_a_load_average(monkeypatch) -> None:
    def unavailable() -> tuple[float, float, float]:
        raise OSError("no load average here")

    monkeypatch.setattr(fast.os, "cpu_count", lambda: 3)
    monkeypatch.setattr(fast.os, "getloadavg", unavailable)
    assert default_threads() == 3


def test_infer_threads_precision_and_no_fuse(model_dir, tmp_path, capsys) -> None:
    image = save_image(tmp_path / "in" / "a.png", 40, 60)
    before = torch.get_num_threads()
    runs = {}
    for name, extra in (("default", []), ("plain", ["--no-fuse", "--threads", "1"]),
                        ("bf16", ["--precision", "bf16", "--threads", "1"])):
        assert main(["infer", str(model_dir), str(image), "--out", str(tmp_path / name),
                     "--save", "npz", *extra]) == 0
        assert torch.get_num_threads() == before  # restored after the run
        with np.load(tmp_path / name / "a.npz") as z:
            runs[name] = z["depth"]
    out = capsys.readouterr().out
    assert "bf16, 1 thread)" in out and "fp32, 1 thread)" in out
    assert _relative(runs["default"], runs["plain"]) <= 1e-5
    assert 0 < _relative(runs["bf16"], runs["plain"]) < 0.1
    with pytest.raises(SystemExit) as info:  # refused by argparse (tests/test_count_options.py)
        main(["infer", str(model_dir), str(image), "--out", str(tmp_path / "x"), "--threads", "0"])
    assert info.value.code == 2
    assert "--threads: must be at least 1" in capsys.readouterr().err
