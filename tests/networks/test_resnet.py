"""ResNet encoder + monodepth2 decoder against monodepth2's stored key/shape maps and mappings."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from PIL import Image

from packdepth.networks import DepthDecoder, ResNetDepth, ResNetEncoder

CLASSIFIER = {"encoder.fc.weight", "encoder.fc.bias"}  # in encoder.pth, unused by monodepth2


def _shapes(net: torch.nn.Module) -> dict[str, list[int]]:
    return {k: list(v.shape) for k, v in net.state_dict().items()}


@pytest.mark.parametrize("num_layers", [18, 50])
def test_keys_equal_monodepth2_files(monodepth2_shapes, num_layers: int) -> None:
    with torch.device("meta"):
        net = ResNetDepth(num_layers)
    ours = _shapes(net)
    encoder_ref = monodepth2_shapes[f"encoder_resnet{num_layers}"]
    decoder_ref = monodepth2_shapes[f"depth_decoder_resnet{num_layers}"]
    # encoder.* = encoder.pth minus the ImageNet classifier; decoder.* = depth.pth exactly
    assert {k: v for k, v in ours.items() if k.startswith("encoder.")} == {
        k: v for k, v in encoder_ref.items() if k not in CLASSIFIER}
    assert set(encoder_ref) >= CLASSIFIER
    assert {k: v for k, v in ours.items() if k.startswith("decoder.")} == decoder_ref
    assert set(ours) == (set(encoder_ref) - CLASSIFIER) | set(decoder_ref)


def test_resnet34_matches_torchvision_size() -> None:
    with torch.device("meta"):
        enc = ResNetEncoder(34)
    # torchvision's resnet34 has 21,797,672 parameters, 513,000 of them in fc (512·1000 + 1000)
    assert sum(p.numel() for p in enc.parameters()) == 21_797_672 - 513_000
    assert [len(getattr(enc, f"layer{i}")) for i in range(1, 5)] == [3, 4, 6, 3]
    assert enc.num_ch_enc == [64, 64, 128, 256, 512]
    assert ResNetEncoder(50, num_input_images=2).conv1.in_channels == 6
    with pytest.raises(ValueError, match="ResNet depth"):
        ResNetEncoder(101)


def test_encoder_normalises_input() -> None:
    enc = ResNetEncoder(18).eval()
    x = torch.rand(1, 3, 32, 32)
    with torch.no_grad():
        f0 = enc(x)[0]
        conv = F.conv2d((x - 0.45) / 0.225, enc.conv1.weight, stride=2, padding=3)
        # eval-mode BatchNorm at its initial state: running mean 0, var 1, weight 1, bias 0
        expected = torch.relu(conv / torch.sqrt(torch.tensor(1.0 + enc.bn1.eps)))
        grey = enc(torch.full((1, 3, 32, 32), 0.45))[0]
    torch.testing.assert_close(f0, expected)
    assert torch.all(grey == 0)


def test_features_and_outputs_at_192x640() -> None:
    net = ResNetDepth(18).eval()
    with torch.no_grad():
        feats = net.encoder(torch.rand(1, 3, 192, 640))
        out = net(torch.rand(1, 3, 192, 640))
    assert [tuple(f.shape[1:]) for f in feats] == [(64, 96, 320), (64, 48, 160), (128, 24, 80),
                                                   (256, 12, 40), (512, 6, 20)]
    assert [tuple(o.shape) for o in out] == [(1, 1, 192 >> s, 640 >> s) for s in range(4)]
    for o in out:
        assert torch.all(o >= 1 / 100) and torch.all(o <= 1 / 0.1)


def test_real_kitti_frame_through_padding_wrapper(kitti_tiny: Path) -> None:
    frame = next((kitti_tiny / "2011_09_26").glob("*_sync/image_02/data/0000000000.png"))
    rgb = np.asarray(Image.open(frame).convert("RGB"), dtype=np.float32) / 255.0
    image = torch.from_numpy(rgb).permute(2, 0, 1).unsqueeze(0)
    assert image.shape == (1, 3, 375, 1242)  # not a multiple of 32
    net = ResNetDepth(18).eval()
    with torch.no_grad():
        out = net(image)
    assert [tuple(o.shape[-2:]) for o in out] == [(375, 1242), (188, 621), (94, 311), (47, 156)]
    assert all(torch.isfinite(o).all() for o in out)


@pytest.mark.parametrize(("bias", "depth"), [(50.0, 0.1), (-50.0, 100.0)])
def test_disparity_maps_to_depth_range(bias: float, depth: float) -> None:
    net = ResNetDepth(18, min_depth=0.1, max_depth=100.0).eval()
    with torch.no_grad():
        for s in range(4):  # monodepth2's dispconv heads are decoder.10 .. decoder.13
            net.decoder[10 + s].conv.weight.zero_()
            net.decoder[10 + s].conv.bias.fill_(bias)
        out = net(torch.rand(1, 3, 64, 64))
    for o in out:  # sigmoid 1 → 1/min_depth, sigmoid 0 → 1/max_depth
        torch.testing.assert_close(1.0 / o, torch.full_like(o, depth))


def test_decoder_skip_channels_and_level_shapes() -> None:
    dec = DepthDecoder([64, 64, 128, 256, 512])
    # upconv_i_1 (entries 1, 3, 5, 7, 9) sees num_ch_dec[i] + the encoder skip i-1
    assert [dec[k].conv.conv.in_channels for k in (1, 3, 5, 7, 9)] == [
        256 + 256, 128 + 128, 64 + 64, 32 + 64, 16]
    assert isinstance(dec[0].conv.pad, torch.nn.ReflectionPad2d)
    feats = [torch.rand(1, c, 64 >> k, 64 >> k) for k, c in enumerate([64, 64, 128, 256, 512], 1)]
    outs, levels = dec(feats)
    assert [tuple(o.shape) for o in outs] == [(1, 1, 64 >> s, 64 >> s) for s in range(4)]
    assert [tuple(lv.shape[1:]) for lv in levels] == [(16, 64, 64), (32, 32, 32), (64, 16, 16),
                                                      (128, 8, 8), (256, 4, 4)]
