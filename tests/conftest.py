"""Shared fixtures: the real-data folder (``../shared/data``) and deterministic torch settings."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import torch

REPO_ROOT = Path(__file__).resolve().parents[1]
SHARED_DATA = (REPO_ROOT / ".." / "shared" / "data").resolve()


@pytest.fixture(scope="session")
def shared_data() -> Path:
    """The real-data samples (KITTI, DDAD); CI has them too, so their absence is a failure."""
    assert SHARED_DATA.is_dir(), f"real data not found at {SHARED_DATA} (see DEVELOPERS.md)"
    return SHARED_DATA


@pytest.fixture(scope="session")
def kitti_tiny(shared_data: Path) -> Path:
    return shared_data / "kitti_tiny"


@pytest.fixture(autouse=True)
def _seeded() -> Iterator[None]:
    """Seeded torch, one intra-op thread (on a busy 2-core machine two spinning OpenMP threads
    per process made the suite about 2x slower); both restored after each test."""
    torch.manual_seed(0)
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)
