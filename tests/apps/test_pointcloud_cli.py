"""``packdepth pointcloud`` end to end: npz/PNG depth files, a depth network, fusion with poses,
and one-line errors (exit 2, nothing written) for bad inputs."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from packdepth.apps.pointcloud import depth_to_cloud, read_ply
from packdepth.cli import main
from packdepth.data.kitti.layout import write_depth_png
from packdepth.data.synthetic import SynthParams, kitti_intrinsics, render_sequence
from packdepth.io.checkpoints import save_model
from packdepth.io.trajectory import write_kitti_poses
from packdepth.networks import ResNetDepth
from tests.cli_checks import one_line_error

pytest.importorskip("plyfile")
H, W = 48, 160


@pytest.fixture(scope="module")
def drive(tmp_path_factory):
    """Three synthetic frames as depth .npz (with K), 16-bit PNG depth, RGB PNGs and poses."""
    root = tmp_path_factory.mktemp("frames")
    frames = list(render_sequence(SynthParams(height=H, width=W, frames=3, seed=3)))
    K = kitti_intrinsics(H, W)
    for f in frames:
        np.savez(root / f"d{f.index}.npz", depth=f.depth, inv_depth=1 / np.maximum(f.depth, 1e-3),
                 K=K, metric=True)
        np.savez(root / f"noK{f.index}.npz", depth=f.depth)
        write_depth_png(root / f"d{f.index}.png", f.depth)
        Image.fromarray(f.rgb).save(root / f"rgb{f.index}.png")
    write_kitti_poses(root / "poses.txt", np.stack([f.pose for f in frames]))
    (root / "cam.yaml").write_text(
        f"fx: {K[0, 0]}\nfy: {K[1, 1]}\ncx: {K[0, 2]}\ncy: {K[1, 2]}\nwidth: {W}\nheight: {H}\n")
    return root, frames, K


def test_npz_with_K_and_image_gives_the_library_cloud(drive, tmp_path, capsys):
    root, frames, K = drive
    out = tmp_path / "c.ply"
    args = ["pointcloud", str(root / "d0.npz"), "--image", str(root / "rgb0.png"), "--out",
            str(out), "--max-depth", "30"]
    assert main(args) == 0
    cloud = read_ply(out)
    expected = depth_to_cloud(frames[0].depth, K, frames[0].rgb, max_depth=30)
    np.testing.assert_allclose(cloud.points, expected.points, atol=1e-5)
    np.testing.assert_array_equal(cloud.colors, expected.colors)
    assert out.with_suffix(".png").is_file()
    assert "(m)" in capsys.readouterr().out  # the npz says metric


def test_png_depth_with_intrinsics_and_a_folder_of_clouds(drive, tmp_path):
    root, frames, K = drive
    out = tmp_path / "clouds"
    args = ["pointcloud", str(root / "d0.png"), str(root / "d1.png"), "--intrinsics",
            str(root / "cam.yaml"), "--out", str(out), "--no-picture", "--voxel", "0.5"]
    assert main(args) == 0
    assert sorted(p.name for p in out.iterdir()) == ["d0.ply", "d1.ply"]
    cloud = read_ply(out / "d1.ply")
    full = depth_to_cloud(np.round(frames[1].depth * 256) / 256, K)
    assert 0 < len(cloud) < len(full) / 2  # one point per 0.5 m voxel
    assert np.abs(cloud.points).max() <= np.abs(full.points).max() + 1e-3


def test_fusion_with_poses_puts_both_frames_in_the_world(drive, tmp_path):
    root, frames, K = drive
    out = tmp_path / "fused.ply"
    args = ["pointcloud", str(root / "d0.npz"), str(root / "d1.npz"), str(root / "d2.npz"),
            "--fuse", "--poses", str(root / "poses.txt"), "--out", str(out), "--no-picture"]
    assert main(args) == 0
    cloud = read_ply(out)
    expected = [depth_to_cloud(f.depth, K, cam_to_world=f.pose) for f in frames]
    assert len(cloud) == sum(len(c) for c in expected)
    np.testing.assert_allclose(cloud.points[-len(expected[2]):], expected[2].points, atol=1e-4)


def test_a_depth_network_on_images(drive, tmp_path):
    root, _, _ = drive
    save_model(ResNetDepth(18).eval(), tmp_path / "model" / "depth_net.safetensors",
               info={"height": 64, "width": 192})
    out = tmp_path / "net.ply"
    args = ["pointcloud", "--model", str(tmp_path / "model"), str(root / "rgb0.png"),
            "--intrinsics", str(root / "cam.yaml"), "--out", str(out)]
    assert main(args) == 0
    cloud = read_ply(out)
    assert len(cloud) == H * W and (cloud.points[:, 2] > 0).all()
    rgb = np.asarray(Image.open(root / "rgb0.png").convert("RGB")).reshape(-1, 3)
    np.testing.assert_array_equal(cloud.colors, rgb)


def test_bad_inputs_are_one_line_errors_and_write_nothing(drive, tmp_path, capsys):
    root, _, _ = drive
    out = tmp_path / "out" / "c.ply"
    np.savez(tmp_path / "nodepth.npz", inv_depth=np.ones((4, 4)))
    (tmp_path / "broken.png").write_bytes(b"not an image")
    (tmp_path / "a_file").write_text("x")
    cases = [
        ([str(tmp_path / "nodepth.npz"), "--out", str(out)], ["nodepth.npz", "no 'depth'"]),
        ([str(root / "noK0.npz"), "--out", str(out)], ["noK0.npz", "--intrinsics"]),
        ([str(root / "d0.npz"), "--image", str(tmp_path / "broken.png"), "--out", str(out)],
         ["broken.png", "not a readable image"]),
        ([str(root / "d0.npz"), "--out", str(tmp_path / "a_file" / "c.ply")],
         ["a_file", "not a folder"]),
        ([str(root / "d0.npz"), str(root / "d1.npz"), "--fuse", "--poses",
          str(root / "poses.txt"), "--out", str(out)], ["poses.txt", "3 poses for 2 inputs"]),
        ([str(root / "d0.npz"), str(root / "d1.npz"), "--out", str(out)], ["must be a folder"]),
        ([str(root / "d0.npz"), str(root / "d0.png"), "--out", str(tmp_path / "out")],
         ["d0.npz", "another input has the name 'd0'"]),
        ([str(tmp_path / "missing.npz"), "--out", str(out)], ["missing.npz"]),
    ]
    for args, fragments in cases:
        assert main(["pointcloud", *args]) == 2, args
        one_line_error(capsys, *fragments)
    assert not (tmp_path / "out").exists()


def test_an_image_of_another_size_colours_only_at_the_same_aspect(drive, tmp_path, capsys):
    root, frames, K = drive
    rgb = frames[0].rgb
    double = tmp_path / "double.png"  # the same view at twice the resolution
    Image.fromarray(np.repeat(np.repeat(rgb, 2, axis=0), 2, axis=1)).save(double)
    out = tmp_path / "c.ply"
    args = ["pointcloud", str(root / "d0.npz"), "--out", str(out), "--no-picture", "--image"]
    assert main([*args, str(double)]) == 0
    colours = read_ply(out).colors.astype(int)
    expected = depth_to_cloud(frames[0].depth, K, rgb).colors.astype(int)
    assert colours.shape == expected.shape and np.abs(colours - expected).mean() < 3
    capsys.readouterr()
    other = tmp_path / "other.png"  # a crop: another aspect ratio, pixels that do not match
    Image.fromarray(rgb[:, : W // 2]).save(other)
    out.unlink()
    assert main([*args, str(other)]) == 2
    one_line_error(capsys, "other.png: a 80x48 image for the 160x48 depth of",
                    "another aspect ratio")
    assert not out.exists()


def test_inputs_of_another_kind_say_what_pointcloud_takes(drive, tmp_path, capsys):
    root, _, _ = drive
    out = tmp_path / "out" / "c.ply"
    (tmp_path / "notes.txt").write_text("x")
    (tmp_path / "empty.npz").write_bytes(b"")
    (tmp_path / "noise.npz").write_bytes(np.random.default_rng(0).bytes(4096))
    np.savez(tmp_path / "nan.npz", depth=np.full((4, 6), np.nan, np.float32), K=np.eye(3))
    Image.fromarray(np.zeros((8, 8, 3), np.uint8)).save(tmp_path / "photo.jpg")
    takes = "pointcloud takes depth files: packdepth infer's .npz (with 'K'), or a 16-bit depth PNG"
    model = ["--model", str(tmp_path / "model")]
    cases = [
        ([str(root)], [str(root), "a folder; give the depth files it holds", takes]),
        ([str(root / "rgb0.png")], ["rgb0.png: a picture (mode RGB), not a 16-bit depth PNG",
                                    "--model MODEL"]),
        ([str(tmp_path / "photo.jpg")], ["photo.jpg: an image, not a depth file", takes]),
        ([str(tmp_path / "notes.txt")], ["notes.txt: not a depth file", takes]),
        ([str(tmp_path / "empty.npz")], ["empty.npz: empty file, not a NumPy .npz archive"]),
        ([str(tmp_path / "noise.npz")], ["noise.npz: not a NumPy .npz archive"]),
        ([str(tmp_path / "nan.npz")], ["nan.npz: no valid depth (every pixel is NaN"]),
        ([str(root / "noK0.npz")], ["noK0.npz: no camera intrinsics (this .npz has no 'K'",
                                    "pass --intrinsics FILE"]),
        ([str(root / "d0.png")], ["d0.png: no camera intrinsics (a depth PNG holds none)",
                                  "pass --intrinsics FILE"]),
        ([str(root / "d0.npz"), *model], ["d0.npz: a depth file, not an image"]),
        ([str(root), *model], ["a folder; give the image files it holds"]),
    ]
    for args, fragments in cases:
        assert main(["pointcloud", *args, "--out", str(out)]) == 2, args
        one_line_error(capsys, *fragments)
    assert not (tmp_path / "out").exists()


def test_a_refused_write_is_one_line_naming_the_output(drive, tmp_path, monkeypatch, capsys):
    """As in a folder made immutable (chattr +i): the system refuses the hidden temporary file's
    rename; the message names the user's --out, and nothing is left behind."""
    import errno
    import os

    root, _, _ = drive

    def refuse(src, dst):
        raise PermissionError(errno.EPERM, os.strerror(errno.EPERM), str(src), None, str(dst))

    monkeypatch.setattr(os, "replace", refuse)
    out = tmp_path / "imm" / "x.ply"
    assert main(["pointcloud", str(root / "d0.npz"), "--out", str(out), "--no-picture"]) == 2
    assert capsys.readouterr().err == f"packdepth: error: {out}: {os.strerror(errno.EPERM)}\n"
    assert list(tmp_path.iterdir()) == []
