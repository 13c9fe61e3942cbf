"""``packdepth infer`` end to end: outputs per input kind, imported models, eval on its output,
progress, bad inputs (exit 2, one line, nothing under a final name)."""

from __future__ import annotations

import json
from pathlib import Path

import av
import numpy as np
import pytest
from PIL import Image

import packdepth
from packdepth.cli import main
from packdepth.evaluation.depth import predict_depth
from packdepth.inference.predict import as_image
from packdepth.io.checkpoints import load_model
from tests.cli_checks import one_line_error
from tests.data.layouts import DRIVE, make_drive
from tests.inference.conftest import image_pixels, save_image


def files_below(folder: Path) -> list[str]:
    return sorted(p.relative_to(folder).as_posix() for p in folder.rglob("*") if p.is_file())


def test_a_video_gives_every_frame_and_a_playable_depth_video(model_dir, make_video, tmp_path,
                                                              capsys):
    video = make_video(tmp_path / "clip.mp4", frames=12, width=96, height=64, rate=15)
    out = tmp_path / "out"
    assert main(["infer", str(model_dir), str(video), "--out", str(out),
                 "--save", "npz,video", "--batch", "5"]) == 0
    assert files_below(out) == [f"clip/{i:06d}.npz" for i in range(12)] + ["clip_depth.mp4"]
    for i in range(12):
        with np.load(out / "clip" / f"{i:06d}.npz") as z:
            assert z["depth"].shape == (64, 96)
    with av.open(str(out / "clip_depth.mp4")) as container:
        stream = container.streams.video[0]
        frames = [f.to_ndarray(format="rgb24") for f in container.decode(stream)]
        assert stream.average_rate == 15 and stream.codec_context.name == "h264"
    assert len(frames) == 12 and frames[0].shape == (64, 2 * 96 + 2, 3)
    # the left half is the video itself (lossy twice: the source and the depth video)
    assert np.abs(frames[5][:, :96].astype(int) - image_pixels(64, 96, seed=5)).mean() < 12
    err = capsys.readouterr().err
    assert "\r" not in err and "infer: 12/12 frames" in err  # stderr is not a terminal here
    # default outputs of a video: the depth video only
    assert main(["infer", str(model_dir), str(video), "--out", str(tmp_path / "d")]) == 0
    assert files_below(tmp_path / "d") == ["clip_depth.mp4"]


def test_images_folders_at_native_size_and_predict_agrees(model_dir, tmp_path):
    single = save_image(tmp_path / "a" / "odd.png", 37, 101, seed=1)
    for i, (h, w) in enumerate([(48, 64), (40, 90), (48, 64)]):
        save_image(tmp_path / "f" / f"frame{i}.png", h, w, seed=i)
    out = tmp_path / "out"
    assert main(["infer", str(model_dir), str(single), str(tmp_path / "f"), "--out", str(out),
                 "--fx", "50", "--fy", "50", "--cx", "50", "--cy", "18"]) == 0
    assert files_below(out) == sorted(
        [f"{n}{s}" for n in ("odd", "frame0", "frame1", "frame2") for s in (".npz", "_depth.png")])
    with np.load(out / "odd.npz") as z:
        assert z["depth"].shape == (37, 101) and not bool(z["metric"])
        np.testing.assert_array_equal(z["K"], [[50, 0, 50], [0, 50, 18], [0, 0, 1]])
        expected = packdepth.predict(packdepth.load(model_dir), single)
        np.testing.assert_allclose(z["depth"], expected.depth, rtol=1e-5)
        np.testing.assert_allclose(z["inv_depth"], expected.inv_depth, rtol=1e-5)
    with Image.open(out / "frame1_depth.png") as viz:
        assert viz.size == (90, 40)


def test_scale_labels_metric_and_intrinsics_file_scales(model_dir, tmp_path):
    image = save_image(tmp_path / "x.png", 40, 60)
    cam = tmp_path / "cam.yaml"
    cam.write_text("fx: 100\nfy: 100\ncx: 59.5\ncy: 39.5\nwidth: 120\nheight: 80\n")
    assert main(["infer", str(model_dir), str(image), "--out", str(tmp_path / "a"),
                 "--save", "npz"]) == 0
    assert main(["infer", str(model_dir), str(image), "--out", str(tmp_path / "b"),
                 "--save", "npz", "--scale", "3", "--intrinsics", str(cam)]) == 0
    with np.load(tmp_path / "a" / "x.npz") as a, np.load(tmp_path / "b" / "x.npz") as b:
        np.testing.assert_allclose(b["depth"], 3 * a["depth"], rtol=1e-6)
        assert bool(b["metric"]) and not bool(a["metric"])
        np.testing.assert_allclose(b["K"], [[50, 0, 29.5], [0, 50, 19.5], [0, 0, 1]])


@pytest.mark.parametrize("fmt", ["monodepth2", "packnet"])
def test_imported_official_models_give_the_networks_depth(
        fmt, monodepth2_pair, packnet_pair, write_monodepth2_folder, write_packnet_ckpt,
        tmp_path):
    if fmt == "monodepth2":
        source = write_monodepth2_folder(tmp_path / "mono", *monodepth2_pair)
    else:
        source = write_packnet_ckpt(tmp_path / "p.ckpt", *packnet_pair)
    image = save_image(tmp_path / "img.png", 45, 70, seed=4)
    out = tmp_path / "out"
    assert main(["infer", str(source), str(image), "--out", str(out), "--save", "npz",
                 "--post-process"]) == 0
    # the reference: import-weights to files, load_model, predict_depth at 192x640 (encoder.pth's
    # size for monodepth2; the documented default for a checkpoint that records none)
    assert main(["import-weights", str(source), "--format", fmt, "--out",
                 str(tmp_path / "w")]) == 0
    net = load_model(tmp_path / "w" / "depth_net.safetensors")
    expected = predict_depth(net, as_image(image)[None], size=(192, 640), post_process=True)
    with np.load(out / "img.npz") as z:
        np.testing.assert_allclose(z["depth"], expected[0, 0].numpy(), rtol=1e-5)
        assert z["depth"].shape == (45, 70) and not bool(z["metric"])


def test_eval_reads_an_infer_output_folder(model_dir, tmp_path, capsys):
    make_drive(tmp_path / "kitti", frames=3, depth=True)
    pred = tmp_path / "pred"
    assert main(["infer", str(model_dir), str(tmp_path / "kitti"), "--recursive",
                 "--out", str(pred), "--save", "png16"]) == 0
    assert (pred / DRIVE / "image_02" / "data" / "0000000002.png").is_file()
    split = tmp_path / "split.txt"
    split.write_text("".join(f"{DRIVE} {i} l\n" for i in range(3)))
    capsys.readouterr()
    assert main(["eval", "--pred-dir", str(pred), "--data", str(tmp_path / "kitti"),
                 "--split", str(split), "--crop", "none", "--json",
                 str(tmp_path / "m.json")]) == 0
    report = json.loads((tmp_path / "m.json").read_text())
    assert report["protocol"]["num_images"] == 3


def test_bad_inputs_stop_with_one_line_and_leave_nothing(model_dir, make_video, tmp_path,
                                                         capsys):
    out = tmp_path / "out"
    run = ["infer", str(model_dir)]
    folder = tmp_path / "f"
    for i in range(3):
        save_image(folder / f"{i}.png", 30, 40, seed=i)
    (folder / "3.png").write_bytes(b"\x89PNG\r\n\x1a\n broken")
    assert main([*run, str(folder), "--out", str(out)]) == 2
    one_line_error(capsys, "3.png")
    assert not out.exists()  # created by the run, removed again: nothing half-written
    out.mkdir()
    (out / "keep.txt").write_text("mine")
    assert main([*run, str(folder), "--out", str(out)]) == 2
    one_line_error(capsys, "3.png")
    assert files_below(out) == ["keep.txt"]  # no staging folder, nothing under final names
    # --skip-bad: the others are written, a warning names the bad one
    assert main([*run, str(folder), "--out", str(out), "--skip-bad", "--save", "npz"]) == 0
    assert "3.png" in capsys.readouterr().err
    assert files_below(out) == ["0.npz", "1.npz", "2.npz", "keep.txt"]

    late = tmp_path / "late"  # the bad file after some frames are done: still only the error
    for i in range(5):
        save_image(late / f"{i}.png", 30, 40, seed=i)
    (late / "5.png").write_bytes(b"\x89PNG\r\n\x1a\n broken")
    assert main([*run, str(late), "--out", str(tmp_path / "o3"), "--batch", "2"]) == 2
    one_line_error(capsys, "5.png")

    empty = make_video(tmp_path / "empty.avi", frames=0)  # a video stream without frames
    (tmp_path / "junk.mp4").write_bytes(b"not a video at all")
    for video, needle in ((empty, "no frames"), (tmp_path / "junk.mp4", "not a readable video")):
        assert main([*run, str(video), "--out", str(tmp_path / "o2")]) == 2
        one_line_error(capsys, video.name, needle)
        assert not (tmp_path / "o2").exists()

    image = folder / "0.png"
    cases = [
        (["infer", str(model_dir / "pose_net.safetensors"), str(image), "--out", str(out)],
         "not a depth network"),
        ([*run, "--out", str(out)], "no INPUT"),
        ([*run, str(tmp_path / "nope.jpg"), "--out", str(out)], "nope.jpg"),
        ([*run, str(image), "--out", str(out / "keep.txt" / "sub")], "keep.txt"),
        ([*run, str(image), "--out", str(out), "--save", "npz,jpeg"], "jpeg"),
        ([*run, str(image), "--out", str(folder), "--save", "png16"], "would replace"),
    ]
    for args, needle in cases:
        assert main(args) == 2, args
        one_line_error(capsys, needle)
    assert files_below(out) == ["0.npz", "1.npz", "2.npz", "keep.txt"]
    assert sorted(p.name for p in folder.iterdir()) == ["0.png", "1.png", "2.png", "3.png"]


def test_importing_packdepth_stays_light():
    import subprocess
    import sys

    code = ("import sys, packdepth; assert 'torch' not in sys.modules, 'torch imported'; "
            "assert callable(packdepth.load) and callable(packdepth.predict); "
            "assert 'torch' in sys.modules")
    subprocess.run([sys.executable, "-c", code], check=True)
