"""packdepth.load: every MODEL form, the recorded input size, metric or relative, errors."""

from __future__ import annotations

import shutil

import numpy as np
import pytest
import torch

import packdepth
from packdepth.errors import PackdepthError
from packdepth.inference.model import DEFAULT_SIZE, STEREO_SCALE, resolve_device
from packdepth.networks import PoseResNet, ResNetDepth
from tests.inference.conftest import NET_SIZE, image_pixels, save_model_dir


def test_model_folder_run_folder_and_file(model_dir, tmp_path):
    folder = packdepth.load(model_dir, device="cpu")
    assert isinstance(folder.depth_net, ResNetDepth) and isinstance(folder.pose_net, PoseResNet)
    assert folder.size == NET_SIZE and folder.metric is False and folder.depth_scale == 1.0
    assert folder.device == torch.device("cpu") and not folder.depth_net.training
    run = tmp_path / "run"
    shutil.copytree(model_dir, run / "model")
    from_run = packdepth.load(run)
    assert from_run.size == NET_SIZE and from_run.pose_net is not None
    single = packdepth.load(model_dir / "depth_net.safetensors")
    assert single.pose_net is None
    pixels = image_pixels(30, 50)
    depths = [packdepth.predict(m, pixels).depth for m in (folder, from_run, single)]
    np.testing.assert_array_equal(depths[0], depths[1])
    np.testing.assert_array_equal(depths[0], depths[2])


def test_size_override_and_default(model_dir, tmp_path):
    assert packdepth.load(model_dir, size=(128, 160)).size == (128, 160)
    model = packdepth.load(model_dir)
    assert packdepth.load(model, size=(64, 64)).size == (64, 64)  # a Model passes through
    assert packdepth.load(model) is model
    bare = save_model_dir(tmp_path / "bare", info={"height": None, "width": None}, pose=False)
    assert packdepth.load(bare).size == DEFAULT_SIZE
    with pytest.raises(PackdepthError, match="--size"):
        packdepth.load(model_dir, size=(0, 64))


def test_metric_comes_from_the_model_file(tmp_path):
    metric = packdepth.load(save_model_dir(tmp_path / "m", info={"metric": True}, pose=False))
    assert metric.metric is True
    assert packdepth.predict(metric, image_pixels(20, 30)).metric is True


def test_monodepth2_folder_and_its_stereo_scale(monodepth2_pair, write_monodepth2_folder,
                                                tmp_path):
    depth_net, pose_net = monodepth2_pair
    folder = write_monodepth2_folder(tmp_path / "mono", depth_net, pose_net)
    model = packdepth.load(folder)
    assert model.size == (192, 640)  # encoder.pth's height/width
    assert not model.metric and isinstance(model.pose_net, PoseResNet)
    pixels = image_pixels(24, 40)
    relative = packdepth.predict(model, pixels).depth
    # monodepth2 stereo models: depth x 5.4 is metric (its STEREO_SCALE_FACTOR)
    encoder = torch.load(folder / "encoder.pth", weights_only=True)
    torch.save({**encoder, "use_stereo": True}, folder / "encoder.pth")
    stereo = packdepth.load(folder)
    assert stereo.metric and stereo.depth_scale == STEREO_SCALE
    np.testing.assert_allclose(packdepth.predict(stereo, pixels).depth, 5.4 * relative,
                               rtol=1e-6)


def test_packnet_checkpoint_records_its_image_shape(packnet_pair, write_packnet_ckpt, tmp_path):
    depth_net, pose_net = packnet_pair
    plain = packdepth.load(write_packnet_ckpt(tmp_path / "a.ckpt", depth_net, pose_net))
    assert plain.size == DEFAULT_SIZE and not plain.metric and plain.pose_net is not None
    config = {"datasets": {"augmentation": {"image_shape": [96, 320]}}}
    shaped = write_packnet_ckpt(tmp_path / "b.ckpt", depth_net, None, extra={"config": config})
    assert packdepth.load(shaped).size == (96, 320)


def test_bad_models_are_one_line_errors(model_dir, tmp_path):
    with pytest.raises(PackdepthError, match="not a depth network") as err:
        packdepth.load(model_dir / "pose_net.safetensors")
    assert "pose_net.safetensors" in str(err.value)
    with pytest.raises(PackdepthError, match="no such model file or folder"):
        packdepth.load(tmp_path / "missing")
    (tmp_path / "empty").mkdir()
    with pytest.raises(PackdepthError, match="not a packdepth model folder"):
        packdepth.load(tmp_path / "empty")
    (tmp_path / "junk.ckpt").write_bytes(b"not a checkpoint")
    with pytest.raises(PackdepthError, match=r"junk\.ckpt: a text file, not a packdepth"):
        packdepth.load(tmp_path / "junk.ckpt")
    torch.save({"pytorch-lightning_version": "2.6", "state_dict": {}}, tmp_path / "last.ckpt")
    with pytest.raises(PackdepthError, match=r"last\.ckpt: a Lightning checkpoint"):
        packdepth.load(tmp_path / "last.ckpt")


@pytest.mark.skipif(torch.cuda.is_available(), reason="this machine has CUDA")
def test_devices():
    assert resolve_device("auto") == torch.device("cpu")
    with pytest.raises(PackdepthError, match="CUDA is not available"):
        resolve_device("cuda")
    with pytest.raises(PackdepthError, match="--device"):
        resolve_device("toaster")


def test_repr_is_one_short_line(model_dir):
    model = packdepth.load(model_dir, device="cpu")
    text = repr(model)
    assert "\n" not in text and len(text) < 200, text
    for part in ("ResNetDepth", "PoseResNet", "input 64x96", "relative depth", "device cpu",
                 str(model_dir)):
        assert part in text, text
    params = sum(p.numel() for p in model.depth_net.parameters())
    assert f"{params / 1e6:.1f}M depth parameters" in text


@pytest.mark.skipif(torch.backends.mps.is_available(), reason="this machine has MPS")
def test_an_unavailable_device_is_named_not_the_model(model_dir):
    with pytest.raises(PackdepthError, match=r"^--device mps: Apple's MPS is not available"):
        packdepth.load(model_dir, device="mps")
    with pytest.raises(PackdepthError, match=r"^--device meta: not available on this machine"):
        resolve_device("meta")
