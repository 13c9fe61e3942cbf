"""packdepth.predict: every accepted image form, native resolution, scale, K, batching."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from PIL import Image

import packdepth
from packdepth.errors import PackdepthError
from packdepth.evaluation.depth import predict_depth
from packdepth.inference.predict import as_image, predict_batch
from packdepth.io.checkpoints import load_model
from tests.inference.conftest import NET_SIZE, image_pixels, save_image


@pytest.fixture(scope="module")
def model(model_dir):
    return packdepth.load(model_dir, device="cpu")


def reference_depth(model_dir, image: np.ndarray, post_process: bool = False) -> np.ndarray:
    """The depth by hand: the saved net, the input resized to its size, back to the image's."""
    net = load_model(model_dir / "depth_net.safetensors")
    x = torch.from_numpy(image).permute(2, 0, 1).float()[None] / 255.0
    return predict_depth(net, x, size=NET_SIZE, post_process=post_process)[0, 0].numpy()


def test_depth_at_the_images_own_resolution(model, model_dir, tmp_path):
    path = save_image(tmp_path / "odd.png", 37, 101)
    result = packdepth.predict(model, path)
    assert result.depth.shape == result.inv_depth.shape == (37, 101)
    assert result.depth.dtype == result.inv_depth.dtype == np.float32
    np.testing.assert_allclose(result.depth, reference_depth(model_dir, image_pixels(37, 101)),
                               rtol=1e-6)
    np.testing.assert_allclose(result.inv_depth * result.depth, 1.0, rtol=1e-6)
    assert result.K is None and result.metric is False
    assert result.depth.std() > 0  # a varied prediction: the comparisons above mean something


def test_every_image_form_gives_the_same_depth(model, tmp_path):
    pixels = image_pixels(40, 72, seed=3)
    path = save_image(tmp_path / "x.png", 40, 72, seed=3)
    as_float = pixels.astype(np.float64) / 255.0
    forms = [
        str(path), path, Image.open(path), pixels, torch.from_numpy(pixels),
        as_float, as_float.transpose(2, 0, 1).astype(np.float32),
        torch.from_numpy(as_float).permute(2, 0, 1), torch.from_numpy(as_float).float(),
    ]
    expected = packdepth.predict(model, pixels).depth
    for form in forms:
        np.testing.assert_allclose(packdepth.predict(model, form).depth, expected, rtol=1e-5,
                                   err_msg=type(form).__name__)


def test_image_form_rules_and_errors(tmp_path):
    cube = np.random.default_rng(0).random((3, 5, 3))  # [3,H,3]: both ends are 3
    assert as_image(cube).shape == (3, 3, 5)  # numpy: channels last
    assert as_image(torch.from_numpy(cube)).shape == (3, 5, 3)  # torch: channels first
    with pytest.raises(ValueError, match=r"\[0, 1\]"):
        as_image(np.full((4, 4, 3), 200.0))  # 0-255 floats
    with pytest.raises(ValueError, match="expected"):
        as_image(np.zeros(4))
    assert as_image(np.zeros((4, 5))).shape == (3, 4, 5)  # grey
    assert as_image(np.zeros((3, 4, 5), np.uint8)).shape == (3, 4, 5)  # uint8 channels first
    with pytest.raises(TypeError):
        as_image(42)
    with pytest.raises(PackdepthError, match=r"nope\.png"):
        as_image(tmp_path / "nope.png")


def test_scale_and_intrinsics(model):
    pixels = image_pixels(48, 80)
    K = np.array([[60.0, 0, 39.5], [0, 60.0, 23.5], [0, 0, 1]])
    plain = packdepth.predict(model, pixels)
    scaled = packdepth.predict(model, pixels, scale=2.5, K=torch.from_numpy(K))
    np.testing.assert_allclose(scaled.depth, 2.5 * plain.depth, rtol=1e-6)
    np.testing.assert_allclose(scaled.inv_depth, plain.inv_depth / 2.5, rtol=1e-6)
    assert scaled.metric and not plain.metric
    np.testing.assert_array_equal(scaled.K, K)
    for bad in (0.0, -1.0, float("nan")):
        with pytest.raises(ValueError, match="scale"):
            packdepth.predict(model, pixels, scale=bad)
    with pytest.raises(ValueError, match="K"):
        packdepth.predict(model, pixels, K=np.eye(4))


def test_post_process_is_the_flip_blend(model, model_dir):
    pixels = image_pixels(50, 90, seed=1)
    result = packdepth.predict(model, pixels, post_process=True)
    np.testing.assert_allclose(result.depth, reference_depth(model_dir, pixels, True), rtol=1e-6)
    assert not np.allclose(result.depth, packdepth.predict(model, pixels).depth)


def test_batches_of_mixed_sizes_equal_single_predictions(model):
    images = [as_image(image_pixels(h, w, seed=i))
              for i, (h, w) in enumerate([(40, 60), (40, 60), (33, 70), (40, 60)])]
    batched = predict_batch(model, images)
    assert [r.depth.shape for r in batched] == [(40, 60), (40, 60), (33, 70), (40, 60)]
    for image, result in zip(images, batched):
        np.testing.assert_allclose(result.depth, packdepth.predict(model, image).depth,
                                   rtol=1e-5)
