"""A stand-in shipped model: a small random depth net saved as float16 in a temporary folder,
with ``packdepth.weights.SHIPPED_DIR`` pointed at it, so that the name ``shipped`` is tested
without the real weights file (which the release adds)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import torch

import packdepth.weights as weights
from packdepth.io.checkpoints import save_model
from packdepth.networks import PackNetSmall
from tests.io.conftest import _randomise_norms

INFO = {"height": 32, "width": 64, "steps": 7}


@pytest.fixture(scope="session")
def stand_in_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A model folder holding only a float16 ``depth_net.safetensors`` (PackNetSmall B)."""
    folder = tmp_path_factory.mktemp("shipped_stand_in") / "streets"
    torch.manual_seed(3)
    save_model(_randomise_norms(PackNetSmall("B")).eval(), folder / weights.SHIPPED_FILE,
               info=INFO, dtype=torch.float16)
    return folder


@pytest.fixture
def stand_in(stand_in_dir: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """``SHIPPED_DIR`` pointed at :func:`stand_in_dir` for one test."""
    monkeypatch.setattr(weights, "SHIPPED_DIR", stand_in_dir)
    yield stand_in_dir


@pytest.fixture
def no_shipped(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """``SHIPPED_DIR`` pointed at an empty folder: an install without the weights file."""
    folder = tmp_path / "weights_missing" / "streets"
    folder.mkdir(parents=True)
    monkeypatch.setattr(weights, "SHIPPED_DIR", folder)
    return folder
