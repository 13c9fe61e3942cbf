"""Image folders and videos: ordering, intrinsics sources, static-frame skipping, bad input."""

from __future__ import annotations

import json
import re

import av
import numpy as np
import pytest
import torch
from PIL import Image

from packdepth.data.factory import build_dataset
from packdepth.data.folder import (
    folder_dataset,
    load_intrinsics,
    natural_key,
    video_dataset,
)
from packdepth.errors import PackdepthError
from packdepth.training.fit import fit_config
from tests.data.layouts import frame_pixels, grey_pixels, save_grey

H, W = 48, 64


def _as_uint8(image: torch.Tensor) -> np.ndarray:
    return (image.permute(1, 2, 0).numpy() * 255).round().astype(np.uint8)


def _write_frames(folder, indices, names=None) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    for k, i in enumerate(indices):
        name = names[k] if names else f"frame{k}.png"
        Image.fromarray(frame_pixels(i)).save(folder / name)


def test_natural_order_and_context_by_content(tmp_path):
    names = ["img10.png", "img2.png", "img1.png", "IMG3.png"]
    _write_frames(tmp_path, [10, 2, 1, 3], names)
    assert sorted(names, key=natural_key) == ["img1.png", "img2.png", "IMG3.png", "img10.png"]
    ds = folder_dataset(tmp_path, H, W, intrinsics=_intrinsics_file(tmp_path))
    assert [s.target.name for s in ds.samples] == ["img2", "IMG3"]
    item = ds[0]
    assert np.array_equal(_as_uint8(item["context"][0]), frame_pixels(1))
    assert np.array_equal(_as_uint8(item["image"]), frame_pixels(2))
    assert np.array_equal(_as_uint8(item["context"][1]), frame_pixels(3))


def _intrinsics_file(folder, **extra):
    path = folder / "camera.yaml"
    path.write_text("fx: 40\nfy: 42\ncx: 31.5\ncy: 23.5\n" + "".join(
        f"{k}: {v}\n" for k, v in extra.items()))
    return path


def test_intrinsics_file_at_another_resolution_is_scaled(tmp_path):
    _write_frames(tmp_path / "f", range(3))
    # calibrated at 128x96 (twice the frames): fx 40 -> 20 at 64x48 -> 10 at the 32x24 output
    path = tmp_path / "cam.json"
    path.write_text(json.dumps({"fx": 40, "fy": 42, "cx": 63.5, "cy": 47.5,
                                "width": 128, "height": 96}))
    K = folder_dataset(tmp_path / "f", 24, 32, intrinsics=path)[0]["K"]
    assert torch.allclose(K, torch.tensor([[10.0, 0, 15.5], [0, 10.5, 11.5], [0, 0, 1]]))


def test_default_intrinsics_guess_warns(tmp_path):
    _write_frames(tmp_path, range(3))
    with pytest.warns(UserWarning, match=r"1.2 \* max\(W, H\)"):
        ds = folder_dataset(tmp_path, 24, 32)
    f = 1.2 * 64 / 2  # guessed at 64x48, output half size
    assert torch.allclose(ds[0]["K"], torch.tensor([[f, 0, 15.5], [0, f, 11.5], [0, 0, 1]]))


def test_stride_and_static_frames_are_skipped(tmp_path):
    _write_frames(tmp_path, [0, 1, 1, 1, 2, 3, 3, 4])  # a stop at frame 1 and at frame 3
    cam = _intrinsics_file(tmp_path)
    kept = folder_dataset(tmp_path, H, W, intrinsics=cam, skip_static=0.01, offsets=(1,))
    names = [s.target.name for s in kept.samples] + [kept.samples[-1].context[0].name]
    assert names == ["frame0", "frame1", "frame4", "frame5", "frame7"]
    strided = folder_dataset(tmp_path, H, W, intrinsics=cam, stride=3, offsets=(1,))
    assert [s.target.name for s in strided.samples] == ["frame0", "frame3"]


def test_empty_folder_is_an_error(tmp_path):
    with pytest.raises(PackdepthError, match=re.escape(f"{tmp_path}: no images")):
        folder_dataset(tmp_path, H, W)


def test_unreadable_image_names_the_file(tmp_path):
    _write_frames(tmp_path, range(3))
    (tmp_path / "frame1.png").write_bytes(b"definitely not a PNG file")
    with pytest.raises(PackdepthError, match=r"frame1.png: not a readable image"):
        folder_dataset(tmp_path, H, W, intrinsics=_intrinsics_file(tmp_path))


def test_bad_intrinsics_files(tmp_path):
    with pytest.raises(PackdepthError, match=r"missing.yaml: intrinsics file not found"):
        load_intrinsics(tmp_path / "missing.yaml")
    bad = tmp_path / "bad.yaml"
    bad.write_text("fx: 10\nfy: 10\n")
    with pytest.raises(PackdepthError, match=r"bad.yaml: missing cx, cy"):
        load_intrinsics(bad)


def _write_video(path, frames, codec: str, pix_fmt: str, options: dict) -> None:
    with av.open(str(path), "w") as container:
        stream = container.add_stream(codec, rate=10)
        stream.width, stream.height, stream.pix_fmt = W, H, pix_fmt
        stream.options = options
        for f in frames:
            container.mux(stream.encode(av.VideoFrame.from_ndarray(f, format="rgb24")))
        container.mux(stream.encode())


@pytest.mark.parametrize(
    ("name", "codec", "pix_fmt", "options", "tolerance"),
    [
        ("clip.mp4", "libx264", "yuv444p", {"crf": "0"}, 3),  # lossless luma, RGB<->YUV rounding
        ("clip.mkv", "ffv1", "bgr0", {}, 0),  # lossless RGB
    ],
)
def test_video_round_trip(tmp_path, name, codec, pix_fmt, options, tolerance):
    frames = [frame_pixels(i) for i in range(7)]
    path = tmp_path / name
    _write_video(path, frames, codec, pix_fmt, options)
    cam = _intrinsics_file(tmp_path)
    ds = video_dataset(path, H, W, intrinsics=cam)
    assert len(ds) == 5 and ds[0]["name"] == "clip/000001"
    for i in range(len(ds)):
        item = ds[i]
        for got, want in ((item["context"][0], i), (item["image"], i + 1),
                          (item["context"][1], i + 2)):
            err = np.abs(_as_uint8(got).astype(int) - frames[want].astype(int)).max()
            assert err <= tolerance
    assert torch.allclose(ds[0]["K"], torch.tensor([[40.0, 0, 31.5], [0, 42.0, 23.5], [0, 0, 1]]))
    strided = video_dataset(path, H, W, intrinsics=cam, stride=2, offsets=(1,))
    assert [s.target.name for s in strided.samples] == ["clip/000000", "clip/000002", "clip/000004"]
    small = video_dataset(path, 24, 32, intrinsics=cam)[0]["K"]
    assert torch.allclose(small, torch.tensor([[20.0, 0, 15.5], [0, 21.0, 11.5], [0, 0, 1]]))


def test_unreadable_video_names_the_file(tmp_path):
    path = tmp_path / "broken.mp4"
    path.write_bytes(b"\x00garbage" * 50)
    with pytest.raises(PackdepthError, match=r"broken.mp4: not a readable video"):
        video_dataset(path, H, W, intrinsics=_intrinsics_file(tmp_path))


def _grey_of(image: torch.Tensor) -> np.ndarray:
    """``[3,H,W]`` grey frame → ``[H,W]`` (its channels must agree)."""
    arr = image.numpy()
    np.testing.assert_allclose(arr[0], arr[2], atol=1e-6)
    return arr[0]


def test_16_bit_frames_read_like_their_8_bit_twins(tmp_path):
    for bits in (8, 16):
        for i in range(5):
            save_grey(tmp_path / f"f{bits}" / f"frame{i}.png", grey_pixels(i), bits)
    cam = _intrinsics_file(tmp_path)
    eight, sixteen = (folder_dataset(tmp_path / f"f{b}", H, W, intrinsics=cam, skip_static=0.005)
                      for b in (8, 16))
    assert [s.target.name for s in sixteen.samples] == ["frame1", "frame2", "frame3"]
    for i in range(3):
        a, b = _grey_of(eight[i]["image"]), _grey_of(sixteen[i]["image"])
        assert np.abs(a - b).max() <= 1 / 255 + 1e-6
        np.testing.assert_allclose(b, grey_pixels(i + 1), atol=0.5 / 255 + 1e-6)


def test_fit_keeps_every_frame_of_a_16_bit_folder(tmp_path):
    for i in range(6):
        save_grey(tmp_path / "frames" / f"img{i}.png", grey_pixels(i), 16)
    cfg = fit_config(tmp_path / "frames", tmp_path / "out", minutes=1, size=(H, W),
                     intrinsics=str(_intrinsics_file(tmp_path)), init=None)
    assert cfg.data.skip_static > 0  # what fit uses: static frames would be dropped
    ds = build_dataset(cfg.data)
    assert [s.target.name for s in ds.samples] == [f"img{i}" for i in range(1, 5)]


def test_every_frame_static_is_named_as_the_reason(tmp_path):
    _write_frames(tmp_path, [3] * 6)  # a parked car
    with pytest.raises(PackdepthError, match=rf"{re.escape(str(tmp_path))}: 5 of 6 frames "
                                             r"dropped as static \(skip_static 0.01"):
        folder_dataset(tmp_path, H, W, intrinsics=_intrinsics_file(tmp_path), skip_static=0.01)


def test_exif_rotated_photos_are_upright_with_their_upright_size(tmp_path):
    exif = Image.Exif()
    exif[0x0112] = 6  # stored turned a quarter counter-clockwise: shown turned back clockwise
    for i in range(3):  # stored landscape W x H, upright portrait H x W
        Image.fromarray(np.ascontiguousarray(np.rot90(frame_pixels(i, H, W), 1))).save(
            tmp_path / f"p{i}.jpg", quality=98, exif=exif.tobytes())
    cam = tmp_path / "cam.yaml"
    cam.write_text(f"fx: 40\nfy: 40\ncx: 23.5\ncy: 31.5\nwidth: {H}\nheight: {W}\n")
    item = folder_dataset(tmp_path, W, H, intrinsics=cam)[0]  # output at the upright size
    assert item["image"].shape == (3, W, H)
    assert np.abs(_as_uint8(item["image"]).astype(int) - frame_pixels(1, H, W)).mean() < 2
    assert torch.allclose(item["K"], torch.tensor([[40.0, 0, 23.5], [0, 40.0, 31.5], [0, 0, 1]]))
