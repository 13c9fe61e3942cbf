"""KITTI-layout datasets: real kitti_tiny and tiny drives with known poses, speeds and labels."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from PIL import Image

from packdepth.data.kitti.calibration import load_calibration, write_calib_file
from packdepth.data.kitti.dataset import kitti_dataset
from packdepth.data.kitti.layout import velodyne_path
from packdepth.data.kitti.splits import drive_split, find_drives, write_split
from packdepth.data.kitti.velodyne import velodyne_depth_map
from packdepth.errors import PackdepthError
from tests.data.layouts import (
    DRIVE,
    HEIGHT,
    WIDTH,
    frame_pixels,
    grey_pixels,
    grey_writer,
    make_drive,
)

TINY_DRIVE = "2011_09_26/2011_09_26_drive_9999_sync"


def test_kitti_tiny_intrinsics_scaled_by_hand(kitti_tiny):
    ds = kitti_dataset(kitti_tiny, 96, 320)
    # P_rect_02 at 1242x375: fx = fy = 721.5377, cx = 609.5593, cy = 172.854.
    sx, sy = 320 / 1242, 96 / 375
    expected = torch.tensor([
        [721.5377 * sx, 0.0, (609.5593 + 0.5) * sx - 0.5],
        [0.0, 721.5377 * sy, (172.854 + 0.5) * sy - 0.5],
        [0.0, 0.0, 1.0],
    ])
    item = ds[0]
    assert torch.allclose(item["K"], expected, atol=1e-4)
    assert item["image"].shape == (3, 96, 320)
    assert float(item["K"][0, 0]) == pytest.approx(185.9034, abs=1e-3)


def test_kitti_tiny_auto_split_and_context_order(kitti_tiny):
    ds = kitti_dataset(kitti_tiny, 48, 160)
    assert len(ds) == 38  # 40 frames, each with both neighbours except the ends
    assert ds[0]["name"] == f"{TINY_DRIVE}/image_02/data/0000000001"
    a, b, c = ds[4], ds[5], ds[6]
    assert torch.equal(b["context"][0], a["image"]) and torch.equal(b["context"][1], c["image"])
    assert not torch.equal(b["context"][0], b["context"][1])


def test_kitti_tiny_velodyne_depth_for_validation(kitti_tiny):
    ds = kitti_dataset(kitti_tiny, 48, 160, require_depth=True)
    names = [s.target.name[-10:] for s in ds.samples]
    assert names == [f"{i:010d}" for i in range(4, 40, 4)]  # Velodyne every 4th frame
    item = ds[1]  # frame 8
    calib = load_calibration(kitti_tiny / "2011_09_26")
    scan = velodyne_depth_map(velodyne_path(kitti_tiny / TINY_DRIVE, 8), calib)
    assert torch.equal(item["depth_gt"][0], torch.from_numpy(scan))
    depth = item["depth_gt"][item["depth_gt"] > 0]
    assert item["depth_gt"].shape == (1, 375, 1242) and depth.numel() > 5000
    assert float(depth.min()) > 1.0 and float(depth.max()) < 120.0
    # Road right in front of the car: the bottom rows see the ground ~1.65 m below the camera,
    # at depth fy * h / (v - cy) = 721.5 * 1.65 / (370 - 172.9) ≈ 6.0 m.
    bottom = item["depth_gt"][0, 360:375, 500:750]
    assert 4.5 < float(bottom[bottom > 0].median()) < 8.0


def test_split_file_round_trip_and_missing_context(tmp_path, kitti_tiny):
    entries = drive_split(kitti_tiny, TINY_DRIVE)[:3]
    split = tmp_path / "split.txt"
    write_split(split, entries)
    assert split.read_text().splitlines()[0] == f"{TINY_DRIVE} 1 l"
    ds = kitti_dataset(kitti_tiny, 24, 80, split_file=split)
    assert [s.target.name[-2:] for s in ds.samples] == ["01", "02", "03"]
    split.write_text(f"{TINY_DRIVE} 39 l\n")
    with pytest.raises(PackdepthError, match=r"split.txt:1: .*0000000040.png not found"):
        kitti_dataset(kitti_tiny, 24, 80, split_file=split)


def test_missing_split_file_names_it(tmp_path, kitti_tiny):
    with pytest.raises(PackdepthError, match=r"nope.txt: split file not found"):
        kitti_dataset(kitti_tiny, 24, 80, split_file=tmp_path / "nope.txt")


def test_missing_calibration_names_the_file(tmp_path):
    make_drive(tmp_path, 3)
    (tmp_path / "2030_01_01" / "calib_cam_to_cam.txt").unlink()
    with pytest.raises(PackdepthError, match=r"calib_cam_to_cam.txt: calibration file not found"):
        kitti_dataset(tmp_path, 24, 32)


def test_empty_root_is_an_error(tmp_path):
    with pytest.raises(PackdepthError, match=r"no KITTI drive folder"):
        find_drives(tmp_path)


def _yaw(angle: float) -> np.ndarray:
    T = np.eye(4)
    c, s = np.cos(angle), np.sin(angle)
    T[:3, :3] = [[c, 0, s], [0, 1, 0], [-s, 0, c]]
    return T


def test_poses_give_pose_and_translation_of_camera_2(tmp_path):
    # Camera 0 turns on the spot by 0.2 rad per frame; camera 2 sits b = 0.5 m to its right, so
    # its centre moves on a circle: chord 2 b sin(0.1) per frame, and no motion for camera 0.
    poses = np.stack([_yaw(0.2 * i) for i in range(4)])
    make_drive(tmp_path, 4, baseline=-0.5, poses=poses)  # P_rect_02[:,3] = K (-b, 0, 0)
    item = kitti_dataset(tmp_path, 24, 32)[0]
    chord = 2 * 0.5 * np.sin(0.1)
    assert torch.allclose(item["translation_gt"], torch.tensor([chord, chord]).float(), atol=1e-6)
    R_next = item["pose_gt"][1, :3, :3].double()
    assert torch.allclose(R_next, torch.from_numpy(_yaw(-0.2)[:3, :3]), atol=1e-6)
    # T_target_to_context maps the target camera's centre to where the context camera sees it.
    expected_t = (_yaw(-0.2) @ [0.5, 0, 0, 1])[:3] - [0.5, 0, 0]
    assert torch.allclose(item["pose_gt"][1, :3, 3].double(), torch.from_numpy(expected_t),
                          atol=1e-6)


def test_speed_and_timestamps_give_translation(tmp_path):
    make_drive(tmp_path, 4, speeds=[10.0, 10.0, 20.0, 20.0], timestamps=[0.0, 0.1, 0.2, 0.25])
    ds = kitti_dataset(tmp_path, 24, 32, depth_source="none")
    item = ds[0]  # frame 1: back 0.1 s at 10 m/s, forward 0.1 s at (10 + 20) / 2 m/s
    assert "pose_gt" not in item and "depth_gt" not in item
    assert torch.allclose(item["translation_gt"], torch.tensor([1.0, 1.5]))


def test_groundtruth_png_and_semantic_as_synthetic_kind(tmp_path):
    make_drive(tmp_path, 3, semantic=True, depth=True)
    item = kitti_dataset(tmp_path, 24, 32)[0]  # frame 1
    assert item["depth_gt"].shape == (1, 48, 64) and torch.all(item["depth_gt"] == 11.0)
    assert item["semantic"].shape == (24, 32)
    assert item["semantic"][:, :16].eq(0).all() and item["semantic"][:, 16:].eq(2).all()
    assert item["name"] == f"{DRIVE}/image_02/data/0000000001"


def test_16_bit_frames_read_like_their_8_bit_twins(tmp_path):
    for bits in (8, 16):
        make_drive(tmp_path / f"b{bits}", 4, write_image=grey_writer(bits))
    eight, sixteen = (kitti_dataset(tmp_path / f"b{b}", HEIGHT, WIDTH) for b in (8, 16))
    for i in range(2):
        a, b = eight[i]["image"].numpy(), sixteen[i]["image"].numpy()
        assert np.abs(a - b).max() <= 1 / 255 + 1e-6
        np.testing.assert_allclose(b[1], grey_pixels(i + 1), atol=0.5 / 255 + 1e-6)


def test_resized_images_get_the_calibration_scaled_to_them(tmp_path):
    make_drive(tmp_path, 3, write_image=lambda p, i: Image.fromarray(
        frame_pixels(i, WIDTH // 2, HEIGHT // 2)).save(p))  # calibrated at 64x48, stored 32x24
    K = kitti_dataset(tmp_path, HEIGHT // 2, WIDTH // 2)[0]["K"]
    # K_NATIVE (f 50, c 31.5, 23.5) halved edges to edges: c' = (c + 0.5) / 2 - 0.5
    assert torch.allclose(K, torch.tensor([[25.0, 0, 15.5], [0, 25.0, 11.5], [0, 0, 1]]))


def test_images_of_another_aspect_than_the_calibration_are_refused(tmp_path):
    make_drive(tmp_path, 3, write_image=lambda p, i: Image.fromarray(
        frame_pixels(i, WIDTH, WIDTH)).save(p))  # square crops of 64x48 frames
    with pytest.raises(PackdepthError, match=r"calib_cam_to_cam.txt \(S_rect_02\) for .*"
                                             r"0000000000.png: intrinsics for 64x48 .* 64x64"):
        kitti_dataset(tmp_path, 24, 32)


def test_calibration_that_cannot_be_pixels_is_refused(tmp_path):
    make_drive(tmp_path, 3)
    P = np.array([[0.58, 0, 0.5, 0], [0, 1.92, 0.5, 0], [0, 0, 1, 0]])  # monodepth2's K
    write_calib_file(tmp_path / "2030_01_01" / "calib_cam_to_cam.txt",
                     {"R_rect_00": np.eye(3), "P_rect_02": P, "S_rect_02": [WIDTH, HEIGHT]})
    with pytest.raises(PackdepthError, match=r"calib_cam_to_cam.txt \(P_rect_02\): fx 0.58, fy "
                                             r"1.92 cannot be pixels of a 64x48 image"):
        kitti_dataset(tmp_path, 24, 32)
