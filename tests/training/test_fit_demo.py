"""`packdepth demo` and `packdepth fit` end to end at tiny sizes (real KITTI frames included)."""

from __future__ import annotations

import json

import numpy as np
from PIL import Image

from packdepth.cli import main
from packdepth.data.synthetic import SynthParams, render_sequence
from packdepth.io.checkpoints import load_model, read_model_info
from tests.data.layouts import frame_pixels

TINY = ["--size", "48x160", "--minutes", "0.05"]
SCRATCH = ["--init", "none"]  # fit from scratch (the default starts from the shipped model)


def test_demo_writes_metrics_picture_and_model(tmp_path, capsys):
    out = tmp_path / "demo"
    args = ["demo", "--out", str(out), "--sequences", "2", "--frames", "8", *TINY]
    assert main([*args, "--set", "trainer.progress_bar=false"]) == 0
    printed = capsys.readouterr().out
    assert "constant depth, median scaling" in printed and "abs_rel" in printed
    report = json.loads((out / "metrics.json").read_text())
    model, constant = report["model"]["metrics"], report["constant_depth"]
    assert 0 < model["abs_rel"] < 5 and 0 < constant["abs_rel"] < 5
    assert report["model"]["protocol"]["num_images"] == 38  # every held-out frame with neighbours
    table = (out / "metrics.md").read_text()
    assert "| model, median scaling |" in table
    assert "| model, no scaling (scale-free" in table and "metric (no scaling)" not in table
    with Image.open(out / "depth_examples.png") as img:
        assert img.width == 3 * 160 + 2 * 2 and img.height >= 48
    net = load_model(out / "model" / "depth_net.safetensors")
    assert type(net).__name__ == "ResNetDepth"


def test_fit_on_an_image_folder_writes_depth_for_every_frame(tmp_path):
    frames = tmp_path / "frames"
    frames.mkdir()
    for f in render_sequence(SynthParams(height=60, width=200, frames=6, seed=7)):
        Image.fromarray(f.rgb).save(frames / f"img_{f.index}.png")
    (tmp_path / "cam.yaml").write_text("fx: 115.0\nfy: 115.0\ncx: 99.5\ncy: 29.5\n")
    out = tmp_path / "fit"
    args = ["fit", str(frames), "--out", str(out), "--intrinsics", str(tmp_path / "cam.yaml")]
    # 24x80: under 32 pixels a side, where the ResNet depth net used to crash (issue 15, item 4)
    assert main([*args, *TINY, *SCRATCH, "--size", "24x80", "--set",
                 "trainer.progress_bar=false"]) == 0
    maps = sorted((out / "depth").glob("*.npz"))
    assert [m.stem for m in maps] == [f"img_{i}" for i in range(6)]
    depth = np.load(maps[0])["depth"]
    assert depth.shape == (60, 200) and np.isfinite(depth).all() and (depth > 0).all()
    assert (out / "depth" / "img_0_depth.png").is_file()  # colours, named as infer names them
    _, info = read_model_info(out / "run" / "model" / "depth_net.safetensors")
    assert (info["height"], info["width"]) == (24, 80)


def test_fit_on_real_kitti_then_eval(kitti_tiny, tmp_path, capsys):
    out = tmp_path / "fit"
    args = ["fit", str(kitti_tiny), "--out", str(out), *TINY, *SCRATCH]
    assert main([*args, "--set", "trainer.progress_bar=false"]) == 0
    drive = "2011_09_26/2011_09_26_drive_9999_sync"
    maps = sorted((out / "depth" / drive / "image_02" / "data").glob("*.npz"))
    assert len(maps) == 40
    assert np.load(maps[0])["depth"].shape == (375, 1242)
    split = tmp_path / "split.txt"
    split.write_text("".join(f"{drive} {i} l\n" for i in range(0, 40, 4)))
    capsys.readouterr()
    assert main(["eval", "--pred-dir", str(out / "depth"), "--data", str(kitti_tiny),
                 "--split", str(split), "--json", str(tmp_path / "m.json")]) == 0
    metrics = json.loads((tmp_path / "m.json").read_text())
    assert metrics["protocol"]["num_images"] == 10 and metrics["metrics"]["abs_rel"] > 0


def test_bad_inputs_are_one_line_errors(tmp_path, capsys):
    empty = tmp_path / "empty"
    empty.mkdir()
    assert main(["fit", str(empty), "--out", str(tmp_path / "o"), *TINY, *SCRATCH]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and str(empty) in err
    assert main(["fit", str(tmp_path / "nope.mp4"), "--out", str(tmp_path / "o"), *SCRATCH]) == 2
    assert "no such video file or folder" in capsys.readouterr().err
    assert main(["demo", "--out", str(tmp_path / "d"), "--minutes", "0"]) == 2
    assert "--minutes" in capsys.readouterr().err
    assert not (tmp_path / "d").exists()



def test_intrinsics_that_do_not_fit_the_frames_are_one_line_errors(tmp_path, capsys):
    frames = tmp_path / "frames"
    frames.mkdir()
    for i in range(6):
        Image.fromarray(frame_pixels(i)).save(frames / f"{i}.png")  # 64x48
    cases = {
        "kitti.yaml": ("fx: 721.5\nfy: 721.5\ncx: 609.6\ncy: 172.9\nwidth: 1242\nheight: 375\n",
                       "intrinsics for 1242x375 (aspect 3.312) but the frames are 64x48"),
        "mono.yaml": ("fx: 0.58\nfy: 1.92\ncx: 0.5\ncy: 0.5\n", "look normalised"),
    }
    for name, (text, reason) in cases.items():
        (tmp_path / name).write_text(text)
        out = tmp_path / f"out_{name}"
        args = ["fit", str(frames), "--out", str(out), "--intrinsics", str(tmp_path / name)]
        assert main([*args, *TINY, *SCRATCH]) == 2
        err = capsys.readouterr().err
        assert err.count("\n") == 1 and f"{tmp_path / name}: " in err and reason in err
        assert not out.exists()  # nothing written


def test_fit_on_a_video_writes_depth_at_the_videos_own_size(tmp_path):
    import av

    from tests.data.layouts import frame_pixels

    video = tmp_path / "drive.mp4"  # 90x160: the 180x320 kind, another aspect than 48x160
    with av.open(str(video), "w") as container:
        stream = container.add_stream("mpeg4", rate=10)
        stream.width, stream.height, stream.pix_fmt = 160, 90, "yuv420p"
        for i in range(8):
            frame = av.VideoFrame.from_ndarray(frame_pixels(i, 160, 90), format="rgb24")
            container.mux(stream.encode(frame))
        container.mux(stream.encode(None))
    (tmp_path / "cam.yaml").write_text("fx: 93.0\nfy: 93.0\ncx: 79.5\ncy: 44.5\n")
    out = tmp_path / "fit"
    assert main(["fit", str(video), "--out", str(out), "--intrinsics", str(tmp_path / "cam.yaml"),
                 *TINY, *SCRATCH, "--set", "trainer.progress_bar=false"]) == 0
    maps = sorted((out / "depth" / "drive").glob("*.npz"))
    assert [m.stem for m in maps] == [f"{i:06d}" for i in range(8)]
    assert all(np.load(m)["depth"].shape == (90, 160) for m in maps)
    np.testing.assert_allclose(np.load(maps[0])["K"], [[93, 0, 79.5], [0, 93, 44.5], [0, 0, 1]])
