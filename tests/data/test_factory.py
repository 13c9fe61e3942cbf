"""build_dataset: every kind from one DataConfig; bad settings are one-line errors."""

from __future__ import annotations

import pytest
import torch
from PIL import Image

from packdepth.data.augment import AugmentConfig
from packdepth.data.factory import DataConfig, build_dataset
from packdepth.data.synthetic import SYNTH_DATE, SynthParams, kitti_intrinsics, write_dataset
from packdepth.errors import PackdepthError
from tests.data.layouts import frame_pixels, make_drive


def test_kitti_kind_on_kitti_tiny(kitti_tiny):
    ds = build_dataset(DataConfig(kind="kitti", root=str(kitti_tiny), height=32, width=96,
                                  require_depth=True))
    assert len(ds) == 9 and ds[0]["depth_gt"].shape == (1, 375, 1242)


def test_synthetic_kind_reads_the_kitti_layout(tmp_path):
    make_drive(tmp_path, 4, depth=True)
    cfg = DataConfig(kind="synthetic", root=str(tmp_path), height=24, width=32, offsets=[-1],
                     augmentation=AugmentConfig(flip=False, color_jitter=False))
    item = build_dataset(cfg)[0]
    assert item["context"].shape == (1, 3, 24, 32) and float(item["depth_gt"].max()) == 11.0
    assert torch.equal(item["image_aug"], item["image"])  # augmentation switched off


def test_synthetic_kind_on_the_rendered_world(tmp_path):
    write_dataset(tmp_path, SynthParams(height=24, width=80, frames=5, seed=3))
    cfg = DataConfig(kind="synthetic", root=str(tmp_path), split="splits/all_files.txt",
                     height=24, width=80, augmentation=AugmentConfig(enabled=False))
    ds = build_dataset(cfg)
    assert len(ds) == 3 and {"depth_gt", "pose_gt", "translation_gt", "semantic"} <= set(ds[0])
    assert torch.allclose(ds[0]["K"], torch.from_numpy(kitti_intrinsics(24, 80)).float())
    # Metres travelled from the exact poses agree with the written speeds x frame interval.
    drive = next((tmp_path / SYNTH_DATE).glob("*_sync"))
    (drive / "poses.txt").rename(drive / "poses.bak")
    from_speed = build_dataset(cfg)
    for i in range(len(ds)):
        assert "pose_gt" not in from_speed[i]
        assert torch.allclose(ds[i]["translation_gt"], from_speed[i]["translation_gt"], rtol=1e-3)
        assert float(ds[i]["translation_gt"].min()) > 0.1


def test_folder_kind_with_explicit_intrinsics(tmp_path):
    for i in range(3):
        Image.fromarray(frame_pixels(i)).save(tmp_path / f"{i}.png")
    cfg = DataConfig(kind="folder", root=str(tmp_path), height=48, width=64,
                     fx=30.0, fy=31.0, cx=32.0, cy=24.0,
                     augmentation=AugmentConfig(enabled=False))
    assert torch.allclose(build_dataset(cfg)[0]["K"],
                          torch.tensor([[30.0, 0, 32.0], [0, 31.0, 24.0], [0, 0, 1]]))
    with pytest.raises(PackdepthError, match=r"give all four"):
        build_dataset(DataConfig(kind="folder", root=str(tmp_path), fx=30.0))
    with pytest.raises(PackdepthError, match=r"is a folder"):
        build_dataset(DataConfig(kind="video", root=str(tmp_path)))


def test_ddad_kind(ddad_mini):
    cfg = DataConfig(kind="ddad", root=str(ddad_mini), height=32, width=48,
                     split="val")
    ds = build_dataset(cfg)
    assert len(ds) == 2 and {"depth_gt", "pose_gt", "translation_gt"} <= set(ds[0])


def test_unknown_kind_and_missing_root():
    with pytest.raises(PackdepthError, match=r"data.kind: unknown dataset kind 'lidar'"):
        build_dataset(DataConfig(kind="lidar", root="x"))
    with pytest.raises(PackdepthError, match=r"data.root: not set"):
        build_dataset(DataConfig(kind="kitti"))
    with pytest.raises(PackdepthError, match=r"data.offsets: 0 is the target"):
        build_dataset(DataConfig(kind="kitti", root="x", offsets=[0, 1]))
