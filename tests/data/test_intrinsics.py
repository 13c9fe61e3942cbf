"""Intrinsics from files, the Python API and the configuration: pixels only, same view only."""

from __future__ import annotations

import re

import numpy as np
import pytest
import torch
from PIL import Image

from packdepth.data.factory import DataConfig, build_dataset
from packdepth.data.folder import folder_dataset
from packdepth.data.intrinsics import Intrinsics, intrinsics_at, load_intrinsics
from packdepth.errors import PackdepthError
from tests.data.layouts import HEIGHT, WIDTH, frame_pixels

MONODEPTH2 = "fx: 0.58\nfy: 1.92\ncx: 0.5\ncy: 0.5\n"  # KITTI's K in monodepth2's normalised form
# ... as pixels of the 64x48 frames: 0.58 * 64, 1.92 * 48, 0.5 * 64 - 0.5, 0.5 * 48 - 0.5
IN_PIXELS = re.escape("= 37.12, 92.16, 31.5, 23.5")


@pytest.fixture
def frames(tmp_path):
    folder = tmp_path / "frames"
    folder.mkdir()
    for i in range(3):
        Image.fromarray(frame_pixels(i)).save(folder / f"{i}.png")
    return folder


def test_normalised_file_is_refused_with_the_values_in_pixels(tmp_path, frames):
    cam = tmp_path / "cam.yaml"
    cam.write_text(MONODEPTH2)
    with pytest.raises(PackdepthError, match=rf"cam.yaml: fx 0.58, fy 1.92 cannot be pixels of a "
                                             rf"64x48 image .* look normalised .*{IN_PIXELS}"):
        folder_dataset(frames, 24, 32, intrinsics=cam)


def test_normalised_config_and_python_values_are_refused(frames):
    cfg = DataConfig(kind="folder", root=str(frames), height=24, width=32,
                     fx=0.58, fy=1.92, cx=0.5, cy=0.5)
    with pytest.raises(PackdepthError, match=rf"data.fx/fy/cx/cy: fx 0.58.*{IN_PIXELS}"):
        build_dataset(cfg)
    with pytest.raises(PackdepthError, match=rf"intrinsics: fx 0.58.*{IN_PIXELS}"):
        Intrinsics(0.58, 1.92, 0.5, 0.5).matrix(WIDTH, HEIGHT)


def test_normalised_file_with_its_size_is_converted_with_a_warning(tmp_path):
    cam = tmp_path / "cam.yaml"
    cam.write_text(MONODEPTH2 + "width: 1242\nheight: 375\n")
    with pytest.warns(UserWarning, match=r"cam.yaml: .* look normalised"):
        got = load_intrinsics(cam)
    # fx 0.58 * 1242, fy 1.92 * 375; the centre of 1242 pixels is 620.5, of 375 rows 187
    assert (got.fx, got.fy, got.cx, got.cy) == pytest.approx((720.36, 720.0, 620.5, 187.0))
    assert (got.width, got.height) == (1242, 375)


@pytest.mark.parametrize(
    ("values", "message"),
    [
        ("fx: 1.0\nfy: 1.0\ncx: 31.5\ncy: 23.5\n", r"fx 1, fy 1 cannot be pixels of a 64x48 "
                                                   r"image \(under 5% of its width/height"),
        ("fx: 40\nfy: 40\ncx: 80\ncy: 23.5\n", r"principal point \(80, 23.5\) px lies outside "
                                               r"the 64x48 image"),
        ("fx: 40\nfy: -40\ncx: 31.5\ncy: 23.5\n", r"fx and fy must be positive"),
        ("fx: .nan\nfy: 40\ncx: 31.5\ncy: 23.5\n", r"fx, fy, cx, cy must be finite"),
        ("fx: 40\nfy: 40\ncx: 31.5\ncy: 23.5\nwidth: 64\n", r"give both width and height"),
    ],
)
def test_values_that_cannot_be_pixels_are_refused(tmp_path, frames, values, message):
    cam = tmp_path / "cam.yaml"
    cam.write_text(values)
    with pytest.raises(PackdepthError, match=rf"cam.yaml: {message}") as err:
        folder_dataset(frames, 24, 32, intrinsics=cam)
    assert "normalised" not in str(err.value)


def test_another_aspect_ratio_is_refused_a_rounding_is_scaled(tmp_path, frames):
    cam = tmp_path / "cam.yaml"
    cam.write_text("fx: 721.5\nfy: 721.5\ncx: 609.6\ncy: 172.9\nwidth: 1242\nheight: 375\n")
    with pytest.raises(PackdepthError, match=r"cam.yaml: intrinsics for 1242x375 \(aspect 3.312\) "
                                             r"but the frames are 64x48 \(aspect 1.333\); scaling "
                                             r"would make fx/fy wrong by 2.48x: not the same view"):
        folder_dataset(frames, 24, 32, intrinsics=cam)
    cam.write_text("fx: 80\nfy: 80\ncx: 63.5\ncy: 48\nwidth: 128\nheight: 97\n")  # 1 % taller
    K = folder_dataset(frames, HEIGHT, WIDTH, intrinsics=cam)[0]["K"]
    sy = 48 / 97
    expected = [[40.0, 0, 31.5], [0, 80 * sy, (48 + 0.5) * sy - 0.5], [0, 0, 1]]
    assert torch.allclose(K, torch.tensor(expected), atol=1e-5)


def test_intrinsics_at_same_size_is_the_identity_and_checks_otherwise():
    K = np.array([[50.0, 0, 31.5], [0, 50.0, 23.5], [0, 0, 1]])
    np.testing.assert_array_equal(intrinsics_at(K, (64, 48), (64, 48), "k"), K)
    np.testing.assert_allclose(intrinsics_at(K, (64, 48), (32, 24), "k"),
                               [[25, 0, 15.5], [0, 25, 11.5], [0, 0, 1]])
    with pytest.raises(PackdepthError, match=r"k: intrinsics for 64x48 .* width and height are "
                                             r"swapped"):
        intrinsics_at(K, (64, 48), (48, 64), "k")


MATRIX_YAML = "K: [[40, 0, 31.5], [0, 42, 23.5], [0, 0, 1]]\n"


@pytest.mark.parametrize("text", [
    MATRIX_YAML,
    '{"K": [40, 0, 31.5, 0, 42, 23.5, 0, 0, 1]}',  # JSON, the nine numbers row-major
    "# 3x3\n40 0 31.5\n0 42 23.5\n0 0 1\n",  # the matrix as text
    "4.0e+01\t 0.0e+00\t 3.15e+01\t\n0 4.2e+01 2.35e+01\n0 0 1\n",  # 7-Scenes' tab-separated form
])
def test_a_3x3_matrix_is_read_as_fx_fy_cx_cy(tmp_path, frames, text):
    cam = tmp_path / "cam.txt"
    cam.write_text(text)
    got = load_intrinsics(cam)
    assert (got.fx, got.fy, got.cx, got.cy, got.width) == (40.0, 42.0, 31.5, 23.5, None)
    K = folder_dataset(frames, HEIGHT, WIDTH, intrinsics=cam)[0]["K"]
    np.testing.assert_allclose(K, [[40, 0, 31.5], [0, 42, 23.5], [0, 0, 1]])


@pytest.mark.parametrize(("text", "message"), [
    ("K: [[40, 0.5, 31.5], [0, 42, 23.5], [0, 0, 1]]\n", r"K has skew \(K\[0\]\[1\] = 0.5"),
    ("40 0 31.5\n0 42 23.5\n0 0 2\n", r"K's bottom row must be 0 0 1, got 0 0 2"),
    ("K: [[40, 0, 31.5], [0, 42, 23.5]]\n", r"K must be a 3x3 matrix of numbers"),
    (MATRIX_YAML + "fx: 40\n", r"give K or fx, fy, cx, cy, not both"),
    ("K: [[0.58, 0, 0.5], [0, 1.92, 0.5], [0, 0, 1]]\n", rf"fx 0.58, fy 1.92 cannot be pixels of "
                                                        rf"a 64x48 image .*{IN_PIXELS}"),
    ("K: [[721.5, 0, 609.6], [0, 721.5, 172.9], [0, 0, 1]]\nwidth: 1242\nheight: 375\n",
     r"intrinsics for 1242x375 .* not the same view"),
    ("K: [[40, 0, 80], [0, 42, 23.5], [0, 0, 1]]\n", r"principal point \(80, 23.5\) px lies "
                                                     r"outside the 64x48 image"),
])
def test_a_matrix_is_checked_like_the_four_values(tmp_path, frames, text, message):
    cam = tmp_path / "cam.yaml"
    cam.write_text(text)
    with pytest.raises(PackdepthError, match=rf"^{re.escape(str(cam))}: {message}"):
        folder_dataset(frames, 24, 32, intrinsics=cam)


def test_the_7scenes_intrinsics_file(shared_data):
    """Three tab-separated rows: fx = fy = 585, cx = 320, cy = 240 (the samples' README)."""
    got = load_intrinsics(shared_data / "indoor_7scenes" / "camera-intrinsics.txt")
    assert (got.fx, got.fy, got.cx, got.cy) == (585.0, 585.0, 320.0, 240.0)
    np.testing.assert_array_equal(got.matrix(640, 480), [[585, 0, 320], [0, 585, 240], [0, 0, 1]])
