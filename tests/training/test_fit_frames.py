"""``packdepth fit`` writes depth for exactly the frames it fitted (stride, pattern: the
trajectory's frames), each npz with the K it trained with (a guess marked ``K_guessed``), and
refuses a folder of colour frames and depth maps until ``--pattern`` picks the frames."""

from __future__ import annotations

import json

import av
import numpy as np
import pytest
from PIL import Image

from packdepth.apps.depth_frames import read_depth_npz
from packdepth.cli import main
from packdepth.data.augment import AugmentConfig
from packdepth.data.factory import DataConfig
from packdepth.data.synthetic import SynthParams, render_sequence
from packdepth.errors import PackdepthError
from packdepth.training.fit import _fitted_inputs, fit_config
from tests.cli_checks import one_line_error
from tests.data.layouts import frame_pixels

W, H = 200, 60
#: packdepth's documented guess (data/intrinsics.py): fx = fy = 1.2 max(W, H), centred.
GUESS = [[1.2 * W, 0, (W - 1) / 2], [0, 1.2 * W, (H - 1) / 2], [0, 0, 1]]


@pytest.fixture
def rgbd(tmp_path):
    """15 rendered colour frames, each beside a 16-bit depth map of its size (7-Scenes' form)."""
    folder = tmp_path / "rgbd"
    folder.mkdir()
    for f in render_sequence(SynthParams(height=H, width=W, frames=15, seed=7)):
        Image.fromarray(f.rgb).save(folder / f"frame-{f.index:06d}.color.png")
        depth_mm = np.clip(f.depth * 1000, 0, 65535).astype(np.uint16)
        Image.fromarray(depth_mm).save(folder / f"frame-{f.index:06d}.depth.png")
    return folder


def test_fit_refuses_mixed_kinds_then_fits_the_pattern_every_stride(rgbd, tmp_path, capsys):
    out = tmp_path / "fit"
    base = ["fit", str(rgbd), "--out", str(out), "--size", "48x160", "--minutes", "0.05",
            "--init", "none",
            "--set", "trainer.progress_bar=false", "--set", "trainer.batch_size=2"]
    assert main(base) == 2
    one_line_error(capsys, f"{rgbd}: images of two kinds: frame-000000.color.png is colour",
                    "frame-000000.depth.png is single-channel 16-bit",
                    "fit --pattern", "'*.color.png'")
    assert not out.exists()
    assert main([*base, "--pattern", "*.color.png", "--stride", "3"]) == 0
    warned = [line for line in capsys.readouterr().err.splitlines() if "warning" in line]
    assert len(warned) == 1 and warned[0].startswith("packdepth: warning: ") \
        and "no intrinsics given" in warned[0]  # once, one line (the command line's warnings)
    fitted = [f"frame-{i:06d}.color" for i in (0, 3, 6, 9, 12)]
    assert json.loads((out / "poses.json").read_text())["frames"] == fitted
    maps = sorted((out / "depth").glob("*.npz"))
    assert [m.stem for m in maps] == fitted  # the trajectory's frames, not every file
    for path in maps:
        with np.load(path) as npz:
            assert npz["depth"].shape == (H, W) and bool(npz["K_guessed"])
            np.testing.assert_allclose(npz["K"], GUESS)
        read_depth_npz(path)  # what pointcloud --fuse reads: K present


def test_a_folder_fit_writes_the_strided_frames_with_the_given_K(tmp_path):
    """``write_depth_maps``' inputs: the K a folder fit trains with, at native size."""
    frames = tmp_path / "frames"
    frames.mkdir()
    for i in range(5):
        Image.fromarray(frame_pixels(i, 64, 48)).save(frames / f"{i}.png")
    cfg = DataConfig(kind="folder", root=str(frames), height=24, width=32, stride=2,
                     fx=40, fy=41, cx=31.5, cy=23.5, augmentation=AugmentConfig(enabled=False))
    inputs = _fitted_inputs(cfg)
    assert [i.name for i in inputs] == ["0", "2", "4"]
    for item in inputs:
        np.testing.assert_allclose(item.K, [[40, 0, 31.5], [0, 41, 23.5], [0, 0, 1]])


def test_a_video_fit_keeps_its_guessed_intrinsics_at_native_size(tmp_path):
    path = tmp_path / "v.mp4"
    with av.open(str(path), "w") as container:
        stream = container.add_stream("mpeg4", rate=10)
        stream.width, stream.height, stream.pix_fmt = 96, 64, "yuv420p"
        for i in range(4):
            frame = av.VideoFrame.from_ndarray(frame_pixels(i, 96, 64), format="rgb24")
            container.mux(stream.encode(frame))
        container.mux(stream.encode(None))
    (item,) = _fitted_inputs(DataConfig(kind="video", root=str(path), height=24, width=32))
    assert (item.kind, item.name) == ("video", "v")
    np.testing.assert_allclose(item.K, [[115.2, 0, 47.5], [0, 115.2, 31.5], [0, 0, 1]])


def test_pattern_is_for_image_folders(kitti_tiny, tmp_path):
    with pytest.raises(PackdepthError, match=r"^--pattern: picks the frames of an image folder; "
                                             r".*kitti_tiny is a KITTI raw folder"):
        fit_config(kitti_tiny, tmp_path, minutes=1, size=(48, 160), pattern="*.png", init=None)
    cfg = fit_config(tmp_path, tmp_path / "o", minutes=1, size=(48, 160), pattern="*.color.png",
                     init=None)
    assert cfg.data.pattern == "*.color.png"  # not a YAML alias
