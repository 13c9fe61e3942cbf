"""``--stride`` means one thing for folders and videos (every N-th frame of a sequence: a
folder's images, per subfolder, or a video's frames), and ``--pattern`` picks a folder's files;
a folder mixing colour frames and depth maps is warned about."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from packdepth.cli import main
from packdepth.errors import PackdepthError
from packdepth.inference.sources import expand_inputs, iter_frames
from tests.inference.conftest import save_image


def _frames(inputs, stride: int) -> list[str]:
    return [f.name for item in inputs for f in iter_frames(item, stride=stride)]


def test_stride_takes_every_nth_frame_of_folders_and_videos_alike(tmp_path, make_video):
    video = make_video(tmp_path / "v.mp4", frames=7)
    for i in range(7):  # the same sequence as a folder of frames, and a subfolder of 5
        save_image(tmp_path / "f" / f"{i:06d}.png", 64, 96, seed=i)
    for i in range(5):
        save_image(tmp_path / "f" / "sub" / f"{i}.png", 8, 8, seed=i)
    folder = expand_inputs([tmp_path / "f"], recursive=True, stride=3)
    assert _frames(folder, 3) == ["000000", "000003", "000006", "sub/0", "sub/3"]
    assert _frames(expand_inputs([video], stride=3), 3) == ["v/000000", "v/000003", "v/000006"]
    # a video inside a folder is its own sequence: its frames are strided, not its position
    make_video(tmp_path / "f" / "w.mp4", frames=4)
    assert _frames(expand_inputs([tmp_path / "f"], stride=2), 2) == [
        "000000", "000002", "000004", "000006", "w/000000", "w/000002"]
    # image files given one by one are all taken
    files = sorted((tmp_path / "f").glob("*.png"))
    assert len(expand_inputs(files, stride=3)) == 7


@pytest.fixture
def rgbd(tmp_path):
    """7-Scenes' form: colour frames beside 16-bit depth maps of their size."""
    folder = tmp_path / "rgbd"
    for i in range(5):
        save_image(folder / f"frame-{i:06d}.color.png", 64, 96, seed=i)
        Image.fromarray(np.full((64, 96), 1500 + i, np.uint16)).save(
            folder / f"frame-{i:06d}.depth.png")
    return folder


def test_mixed_kinds_are_refused_and_a_pattern_picks_the_frames(rgbd):
    with pytest.raises(PackdepthError, match=(
            r"rgbd: images of two kinds: frame-000000.color.png is colour \(RGB\), "
            r"frame-000000.depth.png is single-channel 16-bit .*; take one kind with "
            r"--pattern, e.g. '\*.color.png'")):
        expand_inputs([rgbd])
    picked = expand_inputs([rgbd], pattern="*.color.png", stride=2)
    assert [i.name for i in picked] == [f"frame-{i:06d}.color" for i in (0, 2, 4)]


def test_infer_cli_stride_and_pattern_on_a_folder(model_dir, rgbd, tmp_path, capsys):
    out = tmp_path / "out"
    assert main(["infer", str(model_dir), str(rgbd), "--out", str(out), "--save", "npz",
                 "--pattern", "*.color.png", "--stride", "2"]) == 0
    assert sorted(p.name for p in out.iterdir()) == [
        f"frame-{i:06d}.color.npz" for i in (0, 2, 4)]
    assert "images of two kinds" not in capsys.readouterr().err
    assert main(["infer", str(model_dir), str(rgbd), "--out", str(tmp_path / "o2"),
                 "--pattern", "*.jpg"]) == 2
    err = capsys.readouterr().err.strip()
    assert err == (f"packdepth: error: {rgbd}: none of its 10 images matches the pattern "
                   "'*.jpg' (e.g. frame-000000.color.png)")


def test_max_frames_without_a_video_is_warned_about(tmp_path, model_dir, make_video, capsys):
    for i in range(3):
        save_image(tmp_path / "f" / f"{i}.png", 32, 48, seed=i)
    options = ["--max-frames", "1", "--save", "npz", "--device", "cpu", "--threads", "1"]
    folder = ["infer", str(model_dir), str(tmp_path / "f")]
    assert main([*folder, *options, "--out", str(tmp_path / "o1")]) == 0
    err = capsys.readouterr().err
    assert err.count("packdepth: warning: --max-frames applies to videos") == 1
    assert "use --stride or --pattern" in err
    assert len(list((tmp_path / "o1").glob("*.npz"))) == 3  # the folder is taken whole
    make_video(tmp_path / "v.mp4", frames=3)
    assert main([*folder, str(tmp_path / "v.mp4"), *options, "--out", str(tmp_path / "o2")]) == 0
    assert "--max-frames" not in capsys.readouterr().err
    assert len(list((tmp_path / "o2" / "v").glob("*.npz"))) == 1
