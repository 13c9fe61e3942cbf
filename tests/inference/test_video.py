"""The depth-video writer: even sizes, frame count and rate, decoded back with PyAV."""

from __future__ import annotations

from fractions import Fraction

import av
import numpy as np
import pytest

from packdepth.errors import PackdepthError
from packdepth.inference.video import DepthVideoWriter, even
from tests.inference.conftest import image_pixels


def test_even_pads_with_black():
    padded = even(np.full((5, 7, 3), 200, np.uint8))
    assert padded.shape == (6, 8, 3)
    assert (padded[5] == 0).all() and (padded[:, 7] == 0).all() and (padded[:5, :7] == 200).all()


def test_written_video_plays_back(tmp_path):
    path = tmp_path / "d.mp4"
    with DepthVideoWriter(path, Fraction(30000, 1001)) as writer:
        for i in range(7):
            writer.write(image_pixels(33, 50, seed=i))  # odd height
    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        frames = [f.to_ndarray(format="rgb24") for f in container.decode(stream)]
        assert stream.codec_context.name == "h264"
        assert stream.average_rate == Fraction(30000, 1001)
    assert len(frames) == 7 and frames[0].shape == (34, 50, 3)
    error = np.abs(frames[3][:33].astype(int) - image_pixels(33, 50, seed=3)).mean()
    assert error < 6  # lossy, but the picture of frame 3


def test_a_frame_of_another_size_is_refused(tmp_path):
    with DepthVideoWriter(tmp_path / "d.mp4") as writer:
        writer.write(image_pixels(20, 30))
        with pytest.raises(PackdepthError, match="30x20"):
            writer.write(image_pixels(22, 30))
