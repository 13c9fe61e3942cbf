"""Fixtures for the ONNX export tests: networks with random weights and randomised norms, a
saved model folder, and the independent parity measure."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

from tests.inference.conftest import save_model_dir

# the official layouts' builders (tests/io/conftest.py), shared here
from tests.io.conftest import (  # noqa: F401
    _randomise_norms,
    fake_yacs,
    monodepth2_pair,
    packnet_pair,
    write_monodepth2_folder,
    write_packnet_ckpt,
)


def random_net(factory, seed: int = 0) -> torch.nn.Module:
    """``factory()`` with seeded random weights and randomised norm parameters, in eval mode."""
    torch.manual_seed(seed)
    return _randomise_norms(factory()).eval()


def parity(onnx_out: np.ndarray, torch_out: np.ndarray) -> float:
    """max|a − b| / max|b|, computed here (not with packdepth's helper)."""
    assert onnx_out.shape == torch_out.shape, (onnx_out.shape, torch_out.shape)
    return float(np.abs(onnx_out - torch_out).max() / np.abs(torch_out).max())


def rand(*shape: int, seed: int = 0) -> torch.Tensor:
    return torch.rand(*shape, generator=torch.Generator().manual_seed(seed))


@pytest.fixture(scope="session")
def saved_model(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A packdepth model folder (ResNet18 depth + PoseResNet18, 64x96, randomised norms) whose
    info says metric and 7 training steps. Read-only."""
    return save_model_dir(tmp_path_factory.mktemp("export") / "model",
                          info={"metric": True, "steps": 7})
