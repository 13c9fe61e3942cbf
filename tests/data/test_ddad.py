"""DDAD/DGP scenes on the real ddad_mini sample (two 3-sample scenes) and tiny synthesized ones."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch
from PIL import Image

from packdepth.data.ddad import ddad_dataset, pose_matrix, scene_files
from packdepth.errors import PackdepthError
from tests.data.layouts import HEIGHT, WIDTH, frame_pixels, grey_pixels, grey_writer, make_ddad


def _calibration(scene_dir, camera: str) -> dict:
    calib = json.loads(next((scene_dir / "calibration").glob("*.json")).read_text())
    return calib["intrinsics"][calib["names"].index(camera)]


def test_loads_images_intrinsics_and_context_order(ddad_mini):
    ds = ddad_dataset(ddad_mini, 64, 96, offsets=(-1,))
    assert [s.target.name.split("/")[0] for s in ds.samples] == ["scene_01"] * 2 + ["scene_02"] * 2
    first, second = ds[2], ds[3]  # scene_02 samples 1 and 2
    assert torch.equal(second["context"][0], first["image"])
    assert first["image"].shape == (3, 64, 96) and first["image"].std() > 0.05
    c = _calibration(ddad_mini / "scene_02", "CAMERA_01")  # at 1936x1216
    sx, sy = 96 / 1936, 64 / 1216
    expected = torch.tensor([
        [c["fx"] * sx, 0.0, (c["cx"] + 0.5) * sx - 0.5],
        [0.0, c["fy"] * sy, (c["cy"] + 0.5) * sy - 0.5],
        [0.0, 0.0, 1.0],
    ])
    assert torch.allclose(first["K"], expected, atol=1e-4)


def test_lidar_depth_lands_in_the_image_with_plausible_depths(ddad_mini):
    item = ddad_dataset(ddad_mini, 64, 96)[1]  # scene_02, the middle sample
    depth = item["depth_gt"]
    assert depth.shape == (1, 1216, 1936)
    valid = depth[depth > 0]
    assert valid.numel() > 2000
    assert float(valid.min()) > 1.0 and float(valid.max()) < 250.0
    assert 5.0 < float(valid.median()) < 60.0
    rows = torch.nonzero(depth[0] > 0)[:, 0].float()
    assert float(rows.median()) > 1216 / 2  # most returns below the horizon (cy ≈ 616)
    # Road just ahead: a camera ~1.56 m above the ground (its extrinsic height) sees the ground
    # at row ~1180 at depth fy * h / (v - cy) = 2181.6 * 1.56 / (1180 - 616) ≈ 6.0 m.
    bottom = depth[0, 1150:1216, 700:1300]
    assert 4.5 < float(bottom[bottom > 0].median()) < 7.5
    # Near returns are low in the image (road), far ones near the horizon.
    near = depth[0] > 0
    v = torch.arange(1216).float()[:, None].expand(1216, 1936)
    assert float(v[near & (depth[0] < 10)].mean()) > float(v[near & (depth[0] > 30)].mean())


def test_ego_motion_matches_the_scenes(ddad_mini):
    items = [ddad_dataset(ddad_mini, 32, 48)[i] for i in range(2)]
    stationary, moving = items
    assert stationary["name"].startswith("scene_01") and moving["name"].startswith("scene_02")
    assert float(stationary["translation_gt"].max()) < 0.01
    assert torch.allclose(moving["translation_gt"], torch.tensor([1.3, 1.3]), atol=0.1)
    # Driving forward: the next frame sees target points closer (negative z translation).
    assert float(moving["pose_gt"][1, 2, 3]) < -1.0 and float(moving["pose_gt"][0, 2, 3]) > 1.0


def test_pose_matrix_quaternion_convention():
    q = {"rotation": {"qw": np.cos(np.pi / 4), "qx": 0.0, "qy": 0.0, "qz": np.sin(np.pi / 4)},
         "translation": {"x": 1.0, "y": 2.0, "z": 3.0}}
    T = pose_matrix(q)  # 90° about z maps x to y
    np.testing.assert_allclose(T[:3, :3] @ [1, 0, 0], [0, 1, 0], atol=1e-12)
    np.testing.assert_allclose(T[:3, 3], [1, 2, 3])


def test_bad_ddad_input(tmp_path, ddad_mini):
    with pytest.raises(PackdepthError, match=r"scene_dataset_v1.0.json: file not found"):
        scene_files(tmp_path)
    with pytest.raises(PackdepthError, match=r"no split 'nope'"):
        scene_files(ddad_mini, "nope")
    with pytest.raises(PackdepthError, match=r"no calibration for CAMERA_99"):
        ddad_dataset(ddad_mini, 32, 48, cameras=("CAMERA_99",))


def test_16_bit_frames_read_like_their_8_bit_twins(tmp_path):
    for bits in (8, 16):
        make_ddad(tmp_path / f"b{bits}", write_image=grey_writer(bits))
    eight, sixteen = (ddad_dataset(tmp_path / f"b{b}", HEIGHT, WIDTH, lidar=None) for b in (8, 16))
    a, b = eight[0]["image"].numpy(), sixteen[0]["image"].numpy()
    assert np.abs(a - b).max() <= 1 / 255 + 1e-6
    np.testing.assert_allclose(b[2], grey_pixels(1), atol=0.5 / 255 + 1e-6)


def test_resized_images_get_the_calibration_scaled_and_bad_ones_refused(tmp_path):
    make_ddad(tmp_path / "half", write_image=lambda p, i: Image.fromarray(
        frame_pixels(i, WIDTH // 2, HEIGHT // 2)).save(p))  # calibrated at 64x48, stored 32x24
    K = ddad_dataset(tmp_path / "half", HEIGHT // 2, WIDTH // 2, lidar=None)[0]["K"]
    assert torch.allclose(K, torch.tensor([[25.0, 0, 15.5], [0, 25.0, 11.5], [0, 0, 1]]))
    make_ddad(tmp_path / "square", write_image=lambda p, i: Image.fromarray(
        frame_pixels(i, WIDTH, WIDTH)).save(p))
    with pytest.raises(PackdepthError, match=r"calib.json \(CAMERA_01, 64x48\) for .*000.png: "
                                             r"intrinsics for 64x48 .* frames are 64x64"):
        ddad_dataset(tmp_path / "square", 24, 32, lidar=None)
    make_ddad(tmp_path / "norm", K=np.array([[0.58, 0, 0.5], [0, 1.92, 0.5], [0, 0, 1]]))
    with pytest.raises(PackdepthError, match=r"calib.json \(CAMERA_01\): fx 0.58, fy 1.92 "
                                             r"cannot be pixels .* look normalised"):
        ddad_dataset(tmp_path / "norm", 24, 32, lidar=None)
