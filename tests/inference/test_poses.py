"""infer --poses: the pose network's trajectory of each input sequence, written with the depth."""

from __future__ import annotations

import json

import numpy as np
import torch
from PIL import Image

import packdepth
from packdepth.cli import main
from packdepth.inference.trajectory import estimate_trajectory
from packdepth.io.trajectory import read_kitti_poses
from tests.cli_checks import one_line_error
from tests.inference.conftest import save_image, save_model_dir
from tests.inference.test_runner import files_below


def test_folder_and_video_trajectories_equal_the_pose_net_on_their_frames(
        model_dir, make_video, tmp_path, capsys):
    folder = tmp_path / "frames"
    for i in (0, 1, 2, 10):  # natural order: 10 after 2
        save_image(folder / f"f{i}.png", 48, 80, seed=i)
    video = make_video(tmp_path / "drive.mp4", frames=5)
    out = tmp_path / "out"
    assert main(["infer", str(model_dir), str(folder), str(video), "--out", str(out),
                 "--poses", "--tum", "--save", "npz"]) == 0
    assert "camera trajectory (scale-free)" in capsys.readouterr().out

    model = packdepth.load(model_dir)
    frames = [torch.from_numpy(np.asarray(Image.open(folder / f"f{i}.png").convert("RGB")))
              .permute(2, 0, 1).float() / 255 for i in (0, 1, 2, 10)]
    expected = estimate_trajectory(model.pose_net, frames, size=model.size)
    images = read_kitti_poses(out / "poses_kitti.txt")
    np.testing.assert_allclose(images, expected, atol=1e-6)
    np.testing.assert_allclose(images[0], np.eye(4), atol=1e-9)
    sidecar = json.loads((out / "poses.json").read_text())
    assert sidecar["frames"] == ["f0", "f1", "f2", "f10"] and sidecar["metric"] is False
    tum = [line for line in (out / "poses_tum.txt").read_text().splitlines()
           if not line.startswith("#")]
    assert [float(line.split()[0]) for line in tum] == [0, 1, 2, 3]  # no times: frame indices

    assert read_kitti_poses(out / "drive" / "poses_kitti.txt").shape == (5, 4, 4)
    assert len(read_kitti_poses(out / "drive" / "poses_relative.txt")) == 4
    # eval-pose reads what infer wrote: a trajectory against itself has no error
    assert main(["eval-pose", "--pred", str(out / "poses_relative.txt"),
                 "--gt", str(out / "poses_kitti.txt"), "--snippet", "3"]) == 0
    assert "0.0000" in capsys.readouterr().out


def test_poses_refusals_write_nothing(model_dir, tmp_path, capsys):
    image = save_image(tmp_path / "one.png", 48, 80)
    out = tmp_path / "out"
    assert main(["infer", str(model_dir), str(image), "--out", str(out), "--poses"]) == 2
    one_line_error(capsys, "one.png", "at least two frames")
    no_pose = save_model_dir(tmp_path / "depth_only", pose=False)
    assert main(["infer", str(no_pose), str(image), str(image), "--out", str(out),
                 "--poses"]) == 2
    one_line_error(capsys, "no pose network")
    assert not out.exists() or files_below(out) == []
