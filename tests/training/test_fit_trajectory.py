"""``packdepth fit`` writes the fitted pose network's trajectory: one per sequence, frames in
temporal (not name) order, accepted by ``eval-pose``, labelled scale-free."""

from __future__ import annotations

import json

import numpy as np
from PIL import Image

from packdepth.cli import main
from packdepth.data.augment import AugmentConfig
from packdepth.data.factory import DataConfig, build_dataset
from packdepth.data.synthetic import SynthParams, render_sequence, write_dataset
from packdepth.io.trajectory import read_kitti_poses, read_tum, write_kitti_poses
from packdepth.training.fit import frame_sequences


def test_frame_sequences_are_in_temporal_order_per_drive(tmp_path):
    folder = tmp_path / "frames"
    folder.mkdir()
    for i in range(12):  # names sort img_0, img_1, img_10, img_11, img_2, ...
        Image.new("RGB", (16, 8), (20 * i, 0, 0)).save(folder / f"img_{i}.png")
    cfg = DataConfig(kind="folder", root=str(folder), height=8, width=16, fx=10, fy=10, cx=7.5,
                     cy=3.5, augmentation=AugmentConfig(enabled=False))
    (records,) = frame_sequences(build_dataset(cfg))
    assert [r.name for r in records] == [f"img_{i}" for i in range(12)]
    write_dataset(tmp_path / "synth", SynthParams(height=16, width=48, frames=4, seed=1),
                  sequences=2)
    cfg = DataConfig(kind="synthetic", root=str(tmp_path / "synth"), height=16, width=48,
                     augmentation=AugmentConfig(enabled=False))
    drives = frame_sequences(build_dataset(cfg))
    assert [len(d) for d in drives] == [4, 4]
    assert len({r.name.rpartition("/")[0] for d in drives for r in d}) == 2
    assert all(r.name.endswith(f"{i:010d}") for d in drives for i, r in enumerate(d))


def test_fit_writes_a_trajectory_eval_pose_accepts(tmp_path, capsys):
    frames = tmp_path / "frames"
    frames.mkdir()
    rendered = list(render_sequence(SynthParams(height=60, width=200, frames=7, seed=7)))
    for f in rendered:
        Image.fromarray(f.rgb).save(frames / f"img_{f.index}.png")
    write_kitti_poses(tmp_path / "gt.txt", np.stack([f.pose for f in rendered]))
    (tmp_path / "cam.yaml").write_text("fx: 115.0\nfy: 115.0\ncx: 99.5\ncy: 29.5\n")
    out = tmp_path / "fit"
    args = ["fit", str(frames), "--out", str(out), "--intrinsics", str(tmp_path / "cam.yaml"),
            "--size", "48x160", "--minutes", "0.05", "--tum", "--set", "trainer.progress_bar=false",
            "--init", "none"]
    assert main(args) == 0
    assert f"camera trajectory (scale-free, see poses.json): {out / 'poses_kitti.txt'}" in (
        capsys.readouterr().out)
    P = read_kitti_poses(out / "poses_kitti.txt")
    assert P.shape == (7, 4, 4) and np.isfinite(P).all()
    np.testing.assert_allclose(P[0], np.eye(4))
    assert len(read_kitti_poses(out / "poses_relative.txt")) == 6
    stamps, P_tum = read_tum(out / "poses_tum.txt")
    np.testing.assert_allclose(P_tum, P, atol=1e-6)
    np.testing.assert_allclose(stamps, np.arange(7))  # image files have no times
    sidecar = json.loads((out / "poses.json").read_text())
    assert sidecar["metric"] is False and sidecar["frames"] == [f"img_{i}" for i in range(7)]
    for pred, fmt in (("poses_kitti.txt", "absolute"), ("poses_relative.txt", "relative")):
        args = ["eval-pose", "--pred", str(out / pred), "--gt", str(tmp_path / "gt.txt"),
                "--pred-format", fmt]
        assert main(args) == 0
        assert "ATE mean" in capsys.readouterr().out
