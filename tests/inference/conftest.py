"""Fixtures for the inference tests: tiny saved models, images and videos made here."""

from __future__ import annotations

from collections.abc import Callable
from fractions import Fraction
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from packdepth.io.checkpoints import DEPTH_FILE, POSE_FILE, save_models
from packdepth.networks import PoseResNet, ResNetDepth
from tests.data.layouts import frame_pixels

# the official layouts' builders (tests/io/conftest.py), shared here
from tests.io.conftest import (  # noqa: F401
    _randomise_norms,
    fake_yacs,
    monodepth2_pair,
    packnet_pair,
    write_monodepth2_folder,
    write_packnet_ckpt,
)

#: The saved test model's network input (the smallest a ResNet encoder + reflection pads take).
NET_SIZE = (64, 96)


def save_model_dir(folder: Path, info: dict | None = None, pose: bool = True) -> Path:
    """A packdepth model folder: random ResNet18 depth (+ pose) net with varied outputs."""
    torch.manual_seed(0)
    info = {"height": NET_SIZE[0], "width": NET_SIZE[1], **(info or {})}
    items = [(_randomise_norms(ResNetDepth(18)).eval(), folder / DEPTH_FILE, None, info)]
    if pose:
        items.append((PoseResNet(18).eval(), folder / POSE_FILE, None, info))
    save_models(items)
    return folder


@pytest.fixture(scope="session")
def model_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Saved once per session (treat as read-only)."""
    return save_model_dir(tmp_path_factory.mktemp("model") / "model")


def image_pixels(height: int, width: int, seed: int = 0) -> np.ndarray:
    """A smooth, distinct ``[H,W,3]`` uint8 picture."""
    return frame_pixels(seed, width, height)


def save_image(path: Path, height: int, width: int, seed: int = 0) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(image_pixels(height, width, seed)).save(path)
    return path


@pytest.fixture
def make_video() -> Callable[..., Path]:
    """Write ``frames`` frames of ``width x height`` at ``rate`` frames/s with PyAV."""

    def make(path: Path, frames: int = 12, width: int = 96, height: int = 64,
             rate: int | Fraction = 10, codec: str = "mpeg4") -> Path:
        import av

        path.parent.mkdir(parents=True, exist_ok=True)
        with av.open(str(path), "w") as container:
            stream = container.add_stream(codec, rate=rate)
            stream.width, stream.height, stream.pix_fmt = width, height, "yuv420p"
            container.start_encoding()  # the header even without frames
            for i in range(frames):
                frame = av.VideoFrame.from_ndarray(frame_pixels(i, width, height), format="rgb24")
                container.mux(stream.encode(frame))
            container.mux(stream.encode(None))
        return path

    return make
