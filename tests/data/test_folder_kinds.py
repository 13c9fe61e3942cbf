"""Image folders that mix kinds of images (7-Scenes: colour frames beside 16-bit depth maps) are
refused until a pattern picks the frames; the pattern reaches folder datasets from the config."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from packdepth.data.factory import DataConfig, build_dataset
from packdepth.data.folder import folder_dataset, list_images
from packdepth.data.images import image_header, pixel_kind
from packdepth.data.intrinsics import load_intrinsics
from packdepth.errors import PackdepthError
from tests.data.layouts import HEIGHT, WIDTH, frame_pixels, grey_pixels, save_grey

CAM = {"fx": 40.0, "fy": 40.0, "cx": 31.5, "cy": 23.5}


def _depth_png(path, i: int) -> None:
    """A 16-bit single-channel depth map (millimetres), as Kinect/7-Scenes store them."""
    Image.fromarray(np.full((HEIGHT, WIDTH), 1000 + i, np.uint16)).save(path)


@pytest.fixture
def mixed(tmp_path):
    folder = tmp_path / "rgbd"
    folder.mkdir()
    for i in range(4):
        Image.fromarray(frame_pixels(i)).save(folder / f"frame-{i:06d}.color.png")
        _depth_png(folder / f"frame-{i:06d}.depth.png", i)
        (folder / f"frame-{i:06d}.pose.txt").write_text("1 0 0 0\n")
    return folder


def test_pixel_kinds_from_the_header(mixed) -> None:
    assert [pixel_kind(image_header(p)[1]) for p in list_images(mixed)[:2]] == [
        "colour", "single-channel 16-bit"]
    assert image_header(mixed / "frame-000000.color.png")[0] == (WIDTH, HEIGHT)
    assert pixel_kind("L") == "8-bit grey" and pixel_kind("I;16B") == "single-channel 16-bit"
    assert pixel_kind("P") == pixel_kind("RGBA") == "colour"


def test_a_folder_of_colour_frames_and_depth_maps_is_refused(mixed) -> None:
    with pytest.raises(PackdepthError, match=(
            rf"^{mixed}: images of two kinds: frame-000000.color.png is colour \(RGB\), "
            r"frame-000000.depth.png is single-channel 16-bit \((I;16|I)\); take one kind of frame "
            r"with a pattern \(fit --pattern, data.pattern\), e.g. '\*.color.png'$")):
        folder_dataset(mixed, 24, 32, intrinsics=None)


def test_a_pattern_picks_the_frames(mixed) -> None:
    cfg = DataConfig(kind="folder", root=str(mixed), height=24, width=32, pattern="*.color.png",
                     offsets=[1], **CAM)
    ds = build_dataset(cfg)
    assert [r.name for r in ds.frames()] == [f"frame-{i:06d}.color" for i in range(4)]
    cfg.stride = 2
    assert [r.name for r in build_dataset(cfg).frames()] == ["frame-000000.color",
                                                              "frame-000002.color"]
    cfg.pattern = "*.jpg"
    with pytest.raises(PackdepthError, match=rf"^{mixed}: none of its 8 images matches the "
                                             r"pattern '\*.jpg' \(e.g. frame-000000.color.png\)"):
        build_dataset(cfg)


def test_grey_frames_beside_colour_ones_are_refused(tmp_path) -> None:
    Image.fromarray(frame_pixels(0)).save(tmp_path / "a.png")
    save_grey(tmp_path / "b.png", grey_pixels(1), 8)
    with pytest.raises(PackdepthError, match=r"a.png is colour \(RGB\), b.png is 8-bit grey \(L\)"):
        folder_dataset(tmp_path, 24, 32)


def test_the_pattern_is_for_folders_only(tmp_path) -> None:
    cfg = DataConfig(kind="kitti", root=str(tmp_path), pattern="*.png")
    with pytest.raises(PackdepthError, match=r"^data.pattern: picks files of an image folder "
                                             r"\(kind folder\), not of kind 'kitti'"):
        build_dataset(cfg)


def test_the_7scenes_frames_with_their_intrinsics(shared_data) -> None:
    """The real folder: 50 colour frames beside 50 depth maps and 50 pose files."""
    scenes = shared_data / "indoor_7scenes"
    with pytest.raises(PackdepthError, match=r"frame-000150.color.png is colour \(RGB\), "
                                             r"frame-000150.depth.png is single-channel 16-bit"):
        folder_dataset(scenes / "rgbd-frames", 48, 64)
    intrinsics = scenes / "camera-intrinsics.txt"
    ds = folder_dataset(scenes / "rgbd-frames", 48, 64, intrinsics=intrinsics,
                        pattern="*.color.png")
    frames = ds.frames()
    assert len(frames) == 50 and all(r.name.endswith(".color") for r in frames)
    np.testing.assert_allclose(frames[0].K, load_intrinsics(intrinsics).matrix(640, 480))
    # at the 64x48 output: a tenth of 585 and of the centre's edges (320 + 0.5) / 10 - 0.5
    np.testing.assert_allclose(ds[0]["K"].numpy(), [[58.5, 0, 31.55], [0, 58.5, 23.55],
                                                    [0, 0, 1]], atol=1e-5)
