"""Fixtures for network tests: the reference state-dict shapes read from ``shared/reference``."""

from __future__ import annotations

import json
from pathlib import Path

import pytest


@pytest.fixture(scope="session")
def reference_dir(shared_data: Path) -> Path:
    """Facts about the reference implementations (README + state-dict shape JSON)."""
    path = shared_data.parent / "reference"
    assert path.is_dir(), f"reference facts not found at {path}"
    return path


@pytest.fixture(scope="session")
def packnet_shapes(reference_dir: Path) -> dict[str, dict[str, list[int]]]:
    """packnet-sfm key → shape maps: PackNet01-A/B, PackNetSlim01-A, PoseNet."""
    return json.loads((reference_dir / "packnet_sfm_state_dict_shapes.json").read_text())


@pytest.fixture(scope="session")
def monodepth2_shapes(reference_dir: Path) -> dict[str, dict[str, list[int]]]:
    """monodepth2 key → shape maps of encoder.pth / depth.pth / pose_encoder.pth / pose.pth."""
    return json.loads((reference_dir / "monodepth2_state_dict_shapes.json").read_text())
