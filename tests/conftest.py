"""Shared fixtures: the real-data samples and deterministic torch settings.

Real data. Every test that reads the real samples (KITTI, DDAD, the reference facts) takes them
through a fixture of this file or of ``tests/networks/conftest.py``; none builds the path itself.

- ``shared_data``: the samples folder (its ``README.md`` describes them): the environment variable
  ``PACKDEPTH_TEST_DATA`` when set (relative paths are taken from the repository root), else
  ``../shared/data`` beside the repository root.
- ``kitti_tiny``, ``kitti_annotated``, ``ddad_mini``: one sample each, inside it.
- ``reference_dir`` (``tests/networks/conftest.py``): facts about the reference implementations,
  ``PACKDEPTH_TEST_REFERENCE`` when set, else ``reference`` beside the samples folder
  (``../shared/reference`` by default).

When a folder is absent the tests that need it are skipped with a one-line reason naming the data
and where to put it, so ``make test`` passes on a clean clone. Under CI (``CI=true``, which
``.ci/run`` sets) an absent folder fails those tests instead: CI must keep running them. The
shipped model's weights file (``tests/weights/test_package_folder.py``) is required the same way
(:func:`skip_missing`).
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import NoReturn

import pytest
import torch

REPO_ROOT = Path(__file__).resolve().parents[1]
DATA_ENV, REFERENCE_ENV = "PACKDEPTH_TEST_DATA", "PACKDEPTH_TEST_REFERENCE"
DEFAULT_DATA = Path("..") / "shared" / "data"
SAMPLES = {
    "kitti_tiny": "40 KITTI raw frames with Velodyne scans",
    "kitti_annotated": "3 KITTI frames with annotated depth",
    "ddad_mini": "two DDAD scenes in DGP format",
}


# Child processes (``python -m packdepth``, ``python script.py`` in a temporary folder) import the
# packdepth of this checkout, as the tests do, not whichever checkout the environment's editable
# install points at (a git worktree beside the main checkout shares its virtual environment).
os.environ["PYTHONPATH"] = os.pathsep.join(
    p for p in (str(REPO_ROOT), os.environ.get("PYTHONPATH", "")) if p)


def on_ci() -> bool:
    """True under CI: ``CI`` set to ``true``/``1``/``yes`` (GitHub, GitLab and ``.ci/run``)."""
    return os.environ.get("CI", "").strip().lower() in ("true", "1", "yes")


def configured_path(env: str, default: Path) -> Path:
    """``$env`` when set, else ``default``; relative paths are taken from the repository root."""
    path = Path(os.environ.get(env) or default).expanduser()
    return (path if path.is_absolute() else REPO_ROOT / path).resolve()


def data_path() -> Path:
    """Where the real-data samples are expected (see the module docstring)."""
    return configured_path(DATA_ENV, DEFAULT_DATA)


def skip_missing(reason: str) -> NoReturn:
    """Skip with the one-line ``reason`` for absent data; fail with it under CI."""
    if on_ci():
        pytest.fail(f"{reason}; CI=true, so missing data is a failure", pytrace=False)
    pytest.skip(reason)


def require_folder(path: Path, what: str, env: str) -> Path:
    """``path`` if it is a folder; else skip (fail under CI) with a one-line reason."""
    if path.is_dir():
        return path
    skip_missing(f"needs {what} at {path}: put that folder there or point {env} at it "
                 "(tests/conftest.py)")


@pytest.fixture(scope="session")
def shared_data() -> Path:
    """The real-data samples folder (KITTI, DDAD)."""
    return require_folder(data_path(), "the real-data samples (KITTI, DDAD)", DATA_ENV)


def _sample(shared_data: Path, name: str) -> Path:
    return require_folder(shared_data / name, f"the real-data sample {name} ({SAMPLES[name]})",
                          DATA_ENV)


@pytest.fixture(scope="session")
def kitti_tiny(shared_data: Path) -> Path:
    """40 consecutive KITTI raw frames (KITTI raw layout), Velodyne scans every 4th frame."""
    return _sample(shared_data, "kitti_tiny")


@pytest.fixture(scope="session")
def kitti_annotated(shared_data: Path) -> Path:
    """3 KITTI frames (``rgb/``) with annotated depth PNGs (``depth/``)."""
    return _sample(shared_data, "kitti_annotated")


@pytest.fixture(scope="session")
def ddad_mini(shared_data: Path) -> Path:
    """Two tiny DDAD scenes in TRI's DGP JSON format."""
    return _sample(shared_data, "ddad_mini")


@pytest.fixture(autouse=True)
def _seeded() -> Iterator[None]:
    """Seeded torch, one intra-op thread (on a busy 2-core machine two spinning OpenMP threads
    per process made the suite about 2x slower); both restored after each test."""
    torch.manual_seed(0)
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)
