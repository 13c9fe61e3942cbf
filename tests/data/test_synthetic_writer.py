"""The synthetic dataset on disk: KITTI raw layout, calibration round trip, ground-truth files
that match the rendered frames, split files, byte-identical reruns and the ``synth`` CLI."""

from __future__ import annotations

import json
import re

import numpy as np
import pytest
import torch
from PIL import Image

from packdepth.cli import main
from packdepth.data.kitti.calibration import load_calibration
from packdepth.data.kitti.layout import drive_dir, gt_depth_path, image_path, read_depth_png
from packdepth.data.synthetic import (
    CLASSES,
    SYNTH_DATE,
    SynthParams,
    kitti_intrinsics,
    render_sequence,
    semantic_path,
    split_lines,
    write_dataset,
)
from packdepth.geometry import scale_intrinsics

PARAMS = SynthParams(height=40, width=128, frames=4, seed=2)


@pytest.fixture(scope="module")
def dataset(tmp_path_factory):
    out = tmp_path_factory.mktemp("synth")
    drives = write_dataset(out, PARAMS, sequences=2)
    frames = [list(render_sequence(PARAMS, sequence)) for sequence in range(2)]
    return out, drives, frames


def test_layout_is_kitti_raw(dataset):
    out, drives, _ = dataset
    assert drives == [drive_dir(out, SYNTH_DATE, 1), drive_dir(out, SYNTH_DATE, 2)]
    assert drives[0].name == "2000_01_01_drive_0001_sync"
    for drive in drives:
        for i in range(PARAMS.frames):
            assert image_path(drive, i).name == f"{i:010d}.png"
            for path in (image_path(drive, i), gt_depth_path(drive, i), semantic_path(drive, i)):
                assert path.is_file()
        for name in ("image_02/timestamps.txt", "poses.txt", "velocity.txt"):
            assert len((drive / name).read_text().splitlines()) == PARAMS.frames
    assert not list(out.rglob("*.tmp*"))  # atomic writes left nothing behind
    assert json.loads((out / "classes.json").read_text()) == {
        str(i): name for i, name in enumerate(CLASSES)
    }
    assert json.loads((out / "synth.json").read_text())["seed"] == PARAMS.seed


def test_calibration_round_trips_and_is_kitti_scaled(dataset, kitti_tiny):
    out, _, _ = dataset
    calib = load_calibration(out / SYNTH_DATE)
    assert calib.size == (PARAMS.width, PARAMS.height)
    assert calib.velo_to_cam is None
    np.testing.assert_array_equal(calib.R_rect, np.eye(4))
    np.testing.assert_allclose(calib.K, kitti_intrinsics(PARAMS.height, PARAMS.width), rtol=1e-11)
    # the real KITTI P_rect_02, scaled from 1242x375 with the pixel-centre convention
    kitti = load_calibration(kitti_tiny / "2011_09_26")
    expected = scale_intrinsics(torch.from_numpy(kitti.K), 128 / 1242, 40 / 375).numpy()
    np.testing.assert_allclose(calib.K, expected, rtol=1e-9)
    assert calib.K[0, 0] == pytest.approx(721.5377 * 128 / 1242)
    assert calib.K[0, 2] == pytest.approx((609.5593 + 0.5) * 128 / 1242 - 0.5)


def test_files_hold_the_rendered_frames(dataset):
    _, drives, frames = dataset
    for drive, sequence in zip(drives, frames):
        poses = np.loadtxt(drive / "poses.txt").reshape(-1, 3, 4)
        speeds = np.loadtxt(drive / "velocity.txt")
        for frame in sequence:
            i = frame.index
            np.testing.assert_array_equal(np.array(Image.open(image_path(drive, i))), frame.rgb)
            np.testing.assert_array_equal(np.array(Image.open(semantic_path(drive, i))),
                                          frame.semantic)
            depth = read_depth_png(gt_depth_path(drive, i))
            np.testing.assert_allclose(depth, frame.depth, atol=0.5 / 256 + 1e-6)
            np.testing.assert_array_equal(depth == 0, frame.depth == 0)
            np.testing.assert_allclose(poses[i], frame.pose[:3], atol=1e-8)
            assert speeds[i] == pytest.approx(frame.speed, abs=1e-6)
        # metres between frames = speed x 0.1 s (the velocity supervision signal)
        step = np.linalg.norm(np.diff(poses[:, :, 3], axis=0), axis=1)
        np.testing.assert_allclose(step, 0.05 * (speeds[1:] + speeds[:-1]), rtol=0.01)
        assert speeds.min() > 4.9 and speeds.max() < 15.1


def test_timestamps_use_the_kitti_format(dataset):
    _, drives, _ = dataset
    pattern = re.compile(r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{9}$")
    first = (drives[0] / "image_02/timestamps.txt").read_text().splitlines()
    second = (drives[1] / "image_02/timestamps.txt").read_text().splitlines()
    assert all(pattern.match(line) for line in first + second)
    assert first[:2] == ["2000-01-01 12:00:00.000000000", "2000-01-01 12:00:00.100000000"]
    assert second[3] == "2000-01-01 13:00:00.300000000"


def test_split_files_list_frames_with_both_neighbours(dataset):
    out, drives, _ = dataset
    splits = {s: (out / "splits" / f"{s}_files.txt").read_text().splitlines()
              for s in ("train", "val", "all")}
    name = f"{SYNTH_DATE}/{drives[0].name}"
    assert splits["train"] == [f"{name} 1 l", f"{name} 2 l"]
    assert splits["val"] == [f"{SYNTH_DATE}/{drives[1].name} {i} l" for i in (1, 2)]
    assert splits["all"] == splits["train"] + splits["val"]
    for line in splits["all"]:
        folder, index, side = line.split()
        assert side == "l"
        for i in (int(index) - 1, int(index), int(index) + 1):
            assert image_path(out / folder, i).is_file()


def test_single_drive_keeps_its_last_fifth_for_validation():
    lines = split_lines(["d"], 12)
    assert lines["all"] == [f"d {i} l" for i in range(1, 11)]
    assert lines["train"] == lines["all"][:8] and lines["val"] == lines["all"][8:]
    assert split_lines(["d"], 2) == {"train": [], "val": [], "all": []}


def _tree(root):
    return {p.relative_to(root): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


def test_reruns_are_byte_identical(tmp_path):
    params = SynthParams(height=24, width=80, frames=3, seed=7, dynamic=True, low_light=True)
    write_dataset(tmp_path / "a", params)
    write_dataset(tmp_path / "b", params)
    write_dataset(tmp_path / "c", SynthParams(height=24, width=80, frames=3, seed=8))
    a, b, c = _tree(tmp_path / "a"), _tree(tmp_path / "b"), _tree(tmp_path / "c")
    assert len(a) == 3 * 3 + 3 + 1 + 2 + 3  # PNGs, drive texts, calib, json, splits
    assert a == b
    image = image_path(drive_dir(".", SYNTH_DATE, 1), 0)
    assert a[image] != c[image]


def test_cli_writes_a_dataset(tmp_path, capsys):
    out = tmp_path / "cli"
    code = main(["synth", str(out), "--frames", "3", "--height", "24", "--width", "80",
                 "--seed", "1", "--sequences", "1", "--dynamic"])
    assert code == 0
    assert image_path(drive_dir(out, SYNTH_DATE, 1), 2).is_file()
    assert (out / "splits" / "train_files.txt").read_text() == ""  # one frame, in val
    assert json.loads((out / "synth.json").read_text())["dynamic"] is True
    assert "wrote 1 drive" in capsys.readouterr().out


@pytest.mark.parametrize(
    ("args", "word"),
    [
        (["--frames", "0"], "--frames"),
        (["--height", "0"], "--height"),
        (["--width", "-5"], "--width"),
        (["--sequences", "0"], "--sequences"),
        (["--seed", "-1"], "--seed"),
    ],
)
def test_cli_rejects_bad_arguments(tmp_path, capsys, args, word):
    try:  # counts are refused by argparse (SystemExit), other values by the command
        code = main(["synth", str(tmp_path / "out"), "--quiet", *args])
    except SystemExit as exc:
        code = exc.code
    err = capsys.readouterr().err
    assert code == 2
    assert err.startswith("packdepth: error: ") and word in err
    assert err.count("\n") == 1 and "Traceback" not in err
    assert not (tmp_path / "out").exists()


def test_cli_rejects_an_unwritable_out_dir(tmp_path, capsys):
    blocker = tmp_path / "file.txt"
    blocker.write_text("not a folder")
    for out in (blocker, blocker / "sub"):
        code = main(["synth", str(out), "--frames", "3", "--quiet"])
        err = capsys.readouterr().err
        assert code == 2
        assert err.startswith("packdepth: error: ") and str(blocker) in err
        assert err.count("\n") == 1
