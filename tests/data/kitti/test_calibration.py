"""KITTI calibration files, Velodyne projection and depth PNGs on the real kitti_tiny sample."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from packdepth.data.kitti.calibration import load_calibration, read_calib_file, write_calib_file
from packdepth.data.kitti.layout import read_depth_png, velodyne_path, write_depth_png
from packdepth.data.kitti.velodyne import velodyne_depth_map
from packdepth.errors import PackdepthError
from packdepth.geometry import project

DRIVE = "2011_09_26/2011_09_26_drive_9999_sync"


def test_reads_kitti_calibration(kitti_tiny):
    calib = load_calibration(kitti_tiny / "2011_09_26")
    assert calib.size == (1242, 375)
    np.testing.assert_allclose(
        calib.K, [[721.5377, 0, 609.5593], [0, 721.5377, 172.854], [0, 0, 1]]
    )
    assert calib.P_rect[0, 3] == pytest.approx(44.85728)
    assert calib.velo_to_cam is not None
    np.testing.assert_allclose(
        calib.velo_to_cam[:3, 3], [-4.069766e-03, -7.631618e-02, -2.717806e-01]
    )
    R = calib.velo_to_cam[:3, :3]
    np.testing.assert_allclose(R @ R.T, np.eye(3), atol=1e-5)


def test_velodyne_projects_into_the_image(kitti_tiny):
    calib = load_calibration(kitti_tiny / "2011_09_26")
    scan = np.fromfile(velodyne_path(kitti_tiny / DRIVE, 0), dtype=np.float32).reshape(-1, 4)
    # Velodyne -> rectified camera 2 as a rigid transform, then packdepth's `project` with K.
    # P_rect_02 = K [I | t02], so the camera-2 offset is K^-1 times its last column.
    K = calib.K
    T = np.eye(4)
    T[:3, 3] = np.linalg.solve(K, calib.P_rect[:, 3])
    T = T @ calib.R_rect @ calib.velo_to_cam
    pts = torch.from_numpy(scan[:, :3].T.astype(np.float64)).reshape(1, 3, 1, -1)
    pix, z = project(pts, torch.from_numpy(K)[None], torch.from_numpy(T)[None], return_depth=True)
    u, v, z = pix[0, 0, :, 0].numpy(), pix[0, 0, :, 1].numpy(), z[0, 0, 0].numpy()
    front = z > 0
    inside = front & (u >= -0.5) & (u < 1241.5) & (v >= -0.5) & (v < 374.5)
    # the camera sees a ~80 degree wedge of the 360 degree scan
    assert inside.sum() > 10_000
    assert 0.3 < inside.sum() / front.sum() < 0.7
    depth = z[inside]
    assert np.mean((depth > 3) & (depth < 80)) > 0.97
    # the laser sees nothing far above the horizon; the lowest rows hold the nearby road
    assert np.mean(v[inside] < 120) < 0.02
    assert np.median(depth[v[inside] > 330]) < 10
    # the sparse map of the reader agrees with this independent projection
    dmap = velodyne_depth_map(velodyne_path(kitti_tiny / DRIVE, 0), calib)
    assert dmap.shape == (375, 1242)
    ui, vi = np.round(u[inside]).astype(int), np.round(v[inside]).astype(int)
    nearest = np.full((375, 1242), np.inf)
    np.minimum.at(nearest, (vi, ui), depth)
    np.testing.assert_allclose(dmap[dmap > 0], nearest[dmap > 0], rtol=1e-5)
    assert (dmap > 0).sum() == np.isfinite(nearest).sum()


def test_calibration_and_depth_png_round_trip(tmp_path):
    P = np.array([[100.0, 0, 50.5, 1.0], [0, 100.0, 20.25, 0], [0, 0, 1, 0]])
    write_calib_file(
        tmp_path / "calib_cam_to_cam.txt",
        {
            "calib_time": "01-Jan-2020 00:00:00",
            "P_rect_02": P,
            "R_rect_00": np.eye(3),
            "S_rect_02": np.array([100.0, 40.0]),
        },
    )
    calib = load_calibration(tmp_path)
    np.testing.assert_allclose(calib.P_rect, P)
    assert calib.size == (100, 40) and calib.velo_to_cam is None
    depth = np.array([[0.0, 1.5, 80.25], [255.99, np.nan, 3.0]], dtype=np.float32)
    write_depth_png(tmp_path / "d.png", depth)
    back = read_depth_png(tmp_path / "d.png")
    np.testing.assert_allclose(back, np.nan_to_num(depth), atol=1 / 512)


def test_bad_calibration_names_the_file(tmp_path):
    path = tmp_path / "calib_cam_to_cam.txt"
    path.write_text("P_rect_02: 1 2 3\nR_rect_00: 1 0 0 0 1 0 0 0 1\nS_rect_02: 10 10\n")
    with pytest.raises(PackdepthError, match="P_rect_02 has 3 values"):
        load_calibration(tmp_path)
    with pytest.raises(PackdepthError, match=r"calib_cam_to_cam\.txt: calibration file not found"):
        load_calibration(tmp_path / "nowhere")
    assert "P_rect_02" in read_calib_file(path)
