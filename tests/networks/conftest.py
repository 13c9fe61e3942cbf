"""Fixtures for network tests: the reference state-dict shapes read from ``shared/reference``.

The folder is ``$PACKDEPTH_TEST_REFERENCE`` when set, else ``reference`` beside the real-data
samples folder (``../shared/reference`` by default); absent, the tests that need it are skipped
(failed under ``CI=true``), as described in ``tests/conftest.py``.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.conftest import REFERENCE_ENV, configured_path, data_path, require_folder


@pytest.fixture(scope="session")
def reference_dir() -> Path:
    """Facts about the reference implementations (README + state-dict shape JSON)."""
    path = configured_path(REFERENCE_ENV, data_path().parent / "reference")
    return require_folder(path, "the reference facts (packnet-sfm and monodepth2 state-dict "
                          "shapes)", REFERENCE_ENV)


@pytest.fixture(scope="session")
def packnet_shapes(reference_dir: Path) -> dict[str, dict[str, list[int]]]:
    """packnet-sfm key → shape maps: PackNet01-A/B, PackNetSlim01-A, PoseNet."""
    return json.loads((reference_dir / "packnet_sfm_state_dict_shapes.json").read_text())


@pytest.fixture(scope="session")
def monodepth2_shapes(reference_dir: Path) -> dict[str, dict[str, list[int]]]:
    """monodepth2 key → shape maps of encoder.pth / depth.pth / pose_encoder.pth / pose.pth."""
    return json.loads((reference_dir / "monodepth2_state_dict_shapes.json").read_text())
