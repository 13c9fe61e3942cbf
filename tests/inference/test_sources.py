"""INPUTs → named inputs and frames: folders, natural order, recursion, clashes, videos."""

from __future__ import annotations

import numpy as np
import pytest

from packdepth.errors import PackdepthError
from packdepth.inference.sources import expand_inputs, iter_frames
from tests.inference.conftest import image_pixels, save_image


def names(inputs):
    return [(i.name, i.kind) for i in inputs]


def test_files_and_folders_in_natural_order(tmp_path, make_video):
    for name in ("img10.png", "img2.jpg", "img1.png", ".hidden.png", "notes.txt"):
        save_image(tmp_path / "f" / name, 8, 8) if name.endswith(("png", "jpg")) else \
            (tmp_path / "f" / name).write_text("x")
    save_image(tmp_path / "f" / "sub" / "deep.png", 8, 8)
    make_video(tmp_path / "f" / "clip.mp4", frames=2)
    single = save_image(tmp_path / "a" / "b.png", 8, 8)
    assert names(expand_inputs([single, tmp_path / "f"])) == [
        ("b", "image"), ("clip", "video"), ("img1", "image"), ("img2", "image"),
        ("img10", "image")]
    recursive = expand_inputs([tmp_path / "f"], recursive=True)
    assert [i.name for i in recursive] == ["clip", "img1", "img2", "img10", "sub/deep"]


def test_output_folder_is_never_an_input(tmp_path):
    save_image(tmp_path / "f" / "x.png", 8, 8)
    save_image(tmp_path / "f" / "out" / "x_depth.png", 8, 8)  # an earlier run's output
    assert names(expand_inputs([tmp_path / "f"], recursive=True, exclude=tmp_path / "f" / "out")
                 ) == [("x", "image")]
    with pytest.raises(PackdepthError, match="no images or videos"):
        expand_inputs([tmp_path / "f" / "out"], exclude=tmp_path / "f" / "out")


def test_name_clashes_get_numbered(tmp_path, make_video):
    a = save_image(tmp_path / "a" / "x.png", 8, 8)
    b = save_image(tmp_path / "b" / "X.jpg", 8, 8)
    save_image(tmp_path / "c" / "v" / "1.png", 8, 8)
    video = make_video(tmp_path / "c" / "v.mp4", frames=2)
    with pytest.warns(UserWarning, match="already taken"):
        inputs = expand_inputs([a, b, video, tmp_path / "c"], recursive=True)
    # images keep their names; the video's frame folder would hold c/v/1.png's outputs
    assert [i.name for i in inputs] == ["x", "X-2", "v-2", "v-3", "v/1"]
    assert len({i.name.lower() for i in inputs}) == len(inputs)


def test_missing_and_no_inputs(tmp_path):
    with pytest.raises(PackdepthError, match="no INPUT"):
        expand_inputs([])
    with pytest.raises(PackdepthError, match=r"nope\.png: no such"):
        expand_inputs([tmp_path / "nope.png"])


def test_frames_of_images_and_videos(tmp_path, make_video):
    image = save_image(tmp_path / "i.png", 37, 101, seed=2)
    (frame,) = iter_frames(expand_inputs([image])[0])
    np.testing.assert_array_equal(frame.image, image_pixels(37, 101, seed=2))
    video = expand_inputs([make_video(tmp_path / "v.mp4", frames=7, rate=12)])[0]
    frames = list(iter_frames(video, stride=3))
    assert [f.name for f in frames] == ["v/000000", "v/000003", "v/000006"]
    assert all(f.image.shape == (64, 96, 3) and f.rate == 12 for f in frames)
    assert [f.name for f in iter_frames(video, max_frames=2)] == ["v/000000", "v/000001"]
