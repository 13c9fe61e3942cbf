"""``packdepth infer`` says when its options do nothing: ``--save video`` for images, a 16-bit
PNG of relative depth, ``--tum`` without ``--poses``, ``--max-frames 0``."""

from __future__ import annotations

import pytest

from packdepth.cli import main
from packdepth.errors import PackdepthError
from packdepth.inference import InferOptions, infer, load
from tests.cli_checks import one_line_error
from tests.inference.conftest import save_image
from tests.inference.test_runner import files_below


def warning_lines(err: str, needle: str) -> list[str]:
    return [line for line in err.splitlines()
            if line.startswith("packdepth: warning: ") and needle in line]


def test_save_video_for_images_only_is_refused_and_writes_nothing(model_dir, tmp_path, capsys):
    image = save_image(tmp_path / "a.png", 30, 40)
    out = tmp_path / "out"
    assert main(["infer", str(model_dir), str(image), "--out", str(out), "--save", "video"]) == 2
    one_line_error(capsys, "nothing to write for image inputs",
                   "--save video applies to video inputs; images take npz, png16, viz, panel")
    assert not out.exists()


def test_save_video_warns_once_about_the_images_beside_a_video(model_dir, make_video, tmp_path,
                                                             capsys):
    images = [save_image(tmp_path / f"{i}.png", 30, 40, seed=i) for i in range(2)]
    video = make_video(tmp_path / "v.mp4", frames=3, width=64, height=48)
    out = tmp_path / "out"
    assert main(["infer", str(model_dir), *map(str, images), str(video), "--out", str(out),
                 "--save", "video"]) == 0
    err = capsys.readouterr().err
    assert len(warning_lines(err, "nothing is written for 2 image inputs")) == 1, err
    assert files_below(out) == ["v_depth.mp4"]


def test_png16_of_relative_depth_warns_once(model_dir, tmp_path, capsys):
    images = [str(save_image(tmp_path / f"{i}.png", 30, 40, seed=i)) for i in range(3)]
    run = ["infer", str(model_dir), *images, "--save", "png16"]
    assert main([*run, "--out", str(tmp_path / "rel")]) == 0
    err = capsys.readouterr().err
    assert len(warning_lines(err, "png16 of relative depth")) == 1, err
    assert "--scale S or --camera-height H" in err
    assert files_below(tmp_path / "rel") == ["0.png", "1.png", "2.png"]
    assert main([*run, "--out", str(tmp_path / "metric"), "--scale", "2"]) == 0
    assert warning_lines(capsys.readouterr().err, "png16") == []  # metres: nothing to say
    assert main(["infer", str(model_dir), *images, "--out", str(tmp_path / "npz")]) == 0
    assert warning_lines(capsys.readouterr().err, "png16") == []  # no PNG16 written


def test_tum_without_poses_is_refused(model_dir, tmp_path, capsys):
    images = [str(save_image(tmp_path / f"{i}.png", 30, 40, seed=i)) for i in range(2)]
    out = tmp_path / "out"
    assert main(["infer", str(model_dir), *images, "--out", str(out), "--tum"]) == 2
    one_line_error(capsys, "--tum goes with --poses")
    assert not out.exists()


def test_zero_max_frames_is_refused_by_the_function_too(model_dir, tmp_path):
    image = save_image(tmp_path / "a.png", 30, 40)
    model = load(model_dir, device="cpu")
    with pytest.raises(PackdepthError, match="--max-frames: must be at least 1, got 0"):
        infer(model, [image], tmp_path / "out", InferOptions(max_frames=0, progress=False))
    assert not (tmp_path / "out").exists()
