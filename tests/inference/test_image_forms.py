"""packdepth.predict reads every image form as packdepth.data.images reads files: a PIL image
gives its file's depth (EXIF orientation, 16-bit samples), grey and uint16 arrays are scaled as
images of their depth, NaN/inf/empty arrays and implausible K are refused."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from PIL import Image

import packdepth
from tests.data.test_images import STORED, _exif
from tests.inference.conftest import image_pixels


@pytest.fixture(scope="module")
def model(model_dir):
    return packdepth.load(model_dir, device="cpu")


@pytest.mark.parametrize("suffix", [".png", ".jpg"])
def test_a_pil_image_is_read_upright_as_its_file(model, tmp_path, suffix):
    upright = image_pixels(30, 52, seed=5)  # 52 wide, 30 high
    path = tmp_path / f"phone{suffix}"
    Image.fromarray(np.ascontiguousarray(STORED[6](upright))).save(path, exif=_exif(6))
    from_file = packdepth.predict(model, path).depth
    with Image.open(path) as img:
        from_pil = packdepth.predict(model, img).depth
    assert from_file.shape == from_pil.shape == (30, 52)  # upright, as a viewer shows it
    np.testing.assert_array_equal(from_pil, from_file)
    if suffix == ".png":  # lossless: the upright pixels themselves
        np.testing.assert_allclose(from_file, packdepth.predict(model, upright).depth, rtol=1e-6)


def test_16_bit_images_and_arrays_scale_by_65535(model, tmp_path):
    grey = (np.linspace(0, 1, 30 * 44).reshape(30, 44) ** 2 * 65535).astype(np.uint16)
    path = tmp_path / "grey16.png"
    Image.fromarray(grey).save(path)
    with Image.open(path) as img:
        assert img.mode in ("I;16", "I")
        from_pil = packdepth.predict(model, img).depth
    # independent truth: the samples over their full range, grey in R, G and B, as floats
    expected = packdepth.predict(model, np.repeat((grey / 65535.0)[..., None], 3, 2)).depth
    np.testing.assert_allclose(from_pil, expected, rtol=1e-5)
    np.testing.assert_allclose(packdepth.predict(model, path).depth, expected, rtol=1e-5)
    np.testing.assert_allclose(packdepth.predict(model, grey).depth, expected, rtol=1e-5)
    rgb16 = np.repeat(grey[..., None], 3, 2)
    np.testing.assert_allclose(packdepth.predict(model, rgb16).depth, expected, rtol=1e-5)
    np.testing.assert_allclose(packdepth.predict(model, torch.from_numpy(grey / 65535.0)).depth,
                               expected, rtol=1e-5)


def test_grey_uint8_arrays_and_channels_first_uint8_tensors(model):
    rgb = image_pixels(30, 44, seed=2)
    grey = rgb[..., 1].copy()
    np.testing.assert_allclose(packdepth.predict(model, grey).depth,
                               packdepth.predict(model, np.repeat(grey[..., None], 3, 2)).depth,
                               rtol=1e-6)
    chw = torch.from_numpy(rgb).permute(2, 0, 1).contiguous()  # torchvision's read_image form
    np.testing.assert_allclose(packdepth.predict(model, chw).depth,
                               packdepth.predict(model, rgb).depth, rtol=1e-6)


@pytest.mark.parametrize(("image", "needle"), [
    (np.full((20, 30, 3), np.nan, np.float32), "non-finite values (NaN or inf)"),
    (torch.full((3, 20, 30), float("inf")), "non-finite values (NaN or inf)"),
    (np.zeros((0, 0, 3), np.uint8), "empty array"),
    (np.zeros((2, 3, 20, 30), np.float32), "expected [H,W], [H,W,C] or [C,H,W]"),
])
def test_bad_arrays_are_refused_before_the_network(model, image, needle):
    with pytest.raises(ValueError) as info:
        packdepth.predict(model, image)
    assert needle in str(info.value)


@pytest.mark.parametrize(("K", "needle"), [
    (np.full((3, 3), np.nan), "finite"),
    (np.array([[-60.0, 0, 21.5], [0, 60, 14.5], [0, 0, 1]]), "fx and fy must be positive"),
    (np.array([[60.0, 0, 500], [0, 60, 14.5], [0, 0, 1]]), "principal point (500, 14.5)"),
    (np.eye(3), "cannot be pixels of a 44x30 image"),
    (np.eye(4), "expected [3,3]"),
])
def test_implausible_intrinsics_are_refused(model, K, needle):
    with pytest.raises(ValueError) as info:
        packdepth.predict(model, image_pixels(30, 44), K=K)
    assert needle in str(info.value)
