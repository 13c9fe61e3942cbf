"""array_to_rgb: image arrays scaled as image files of their bit depth, bad arrays refused."""

from __future__ import annotations

import numpy as np
import pytest

from packdepth.data.images import array_to_rgb
from tests.data.layouts import frame_pixels


def test_dtypes_scale_by_their_full_range():
    rgb = frame_pixels(0, 20, 12)  # [12,20,3] uint8
    expected = rgb.astype(np.float32) / 255
    np.testing.assert_array_equal(array_to_rgb(rgb), expected)
    np.testing.assert_allclose(array_to_rgb(rgb.astype(np.uint16) * 257), expected, rtol=1e-6)
    np.testing.assert_allclose(array_to_rgb(rgb / 255.0), expected, rtol=1e-6)  # float64
    assert array_to_rgb(np.full((2, 2), 65535, np.uint16)).max() == 1.0
    assert array_to_rgb(np.full((2, 2), 1000, np.uint16))[0, 0, 0] == pytest.approx(1000 / 65535)


def test_grey_single_channel_and_alpha_layouts():
    grey = frame_pixels(1, 20, 12)[..., 0]
    expected = np.repeat(grey[..., None], 3, axis=2).astype(np.float32) / 255
    for form in (grey, grey[..., None], grey[None]):
        np.testing.assert_array_equal(array_to_rgb(form), expected)
    rgb = frame_pixels(2, 20, 12)
    rgba = np.concatenate([rgb, np.zeros_like(rgb[..., :1])], axis=2)  # alpha 0: dropped
    np.testing.assert_array_equal(array_to_rgb(rgba), rgb / np.float32(255))
    chw = np.ascontiguousarray(rgb.transpose(2, 0, 1))
    np.testing.assert_array_equal(array_to_rgb(chw), rgb / np.float32(255))
    cube = np.random.default_rng(0).random((3, 5, 3))  # both ends could be channels
    assert array_to_rgb(cube).shape == (3, 5, 3)
    np.testing.assert_array_equal(array_to_rgb(cube, channels_first=True),
                                  cube.transpose(1, 2, 0).astype(np.float32))


@pytest.mark.parametrize(("array", "needle"), [
    (np.full((4, 5, 3), np.nan, np.float32), "60 non-finite values"),
    (np.array([[0.5, np.inf]]), "1 non-finite values"),
    (np.zeros((0, 0, 3), np.uint8), "empty array"),
    (np.zeros((0, 7)), "empty array"),
    (np.zeros((1, 3, 4, 4), np.float32), "index a batch"),
    (np.zeros(5, np.uint8), "expected [H,W]"),
    (np.zeros((5, 5, 2), np.uint8), "C = 1, 3 or 4"),
    (np.zeros((4, 4, 3), bool), "dtype bool"),
    (np.zeros((4, 4, 3), np.int64), "dtype int64"),
    (np.full((4, 4, 3), 200.0), "divide 0-255 values by 255"),
])
def test_bad_arrays_are_refused_saying_what_is_accepted(array, needle):
    with pytest.raises(ValueError, match=r"^image: ") as info:
        array_to_rgb(array)
    assert needle in str(info.value)
