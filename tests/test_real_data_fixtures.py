"""Without the real data the tests that need it skip with the reason, and fail under CI
(issue 15, item 9). Runs pytest in a subprocess on two small files that read the samples
(``kitti_tiny``) and the reference facts, pointed at a folder that does not exist."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import DATA_ENV, REFERENCE_ENV, REPO_ROOT, configured_path

NODES = ["tests/data/kitti/test_calibration.py",  # 2 of its 4 tests read kitti_tiny
         "tests/networks/test_pose.py::test_posenet_keys_and_count"]  # reads the reference


def _pytest(tmp_path: Path, **env: str) -> tuple[int, str]:
    environ = {k: v for k, v in os.environ.items() if k not in ("CI", DATA_ENV, REFERENCE_ENV)}
    environ.update(env, PYTHONPATH=str(REPO_ROOT))
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-rsE", "-p", "no:cacheprovider", *NODES],
        cwd=REPO_ROOT, env=environ, capture_output=True, text=True,
    )
    return result.returncode, result.stdout + result.stderr


def _counts(output: str) -> dict[str, int]:
    summary = output.strip().splitlines()[-1]
    return {word: int(n) for n, word in re.findall(r"(\d+) (passed|skipped|failed|errors?)",
                                                    summary)}


def test_absent_data_skips_with_the_reason_and_fails_under_ci(tmp_path: Path) -> None:
    absent = tmp_path / "nonexistent"
    code, output = _pytest(tmp_path, **{DATA_ENV: str(absent)})
    assert code == 0, output
    assert _counts(output) == {"passed": 2, "skipped": 3}, output
    reason = (f"needs the real-data samples (KITTI, DDAD) at {absent}: put that folder there "
              f"or point {DATA_ENV} at it")
    assert output.count(reason) == 2, output  # one line per skipped kitti_tiny test
    assert f"needs the reference facts (packnet-sfm and monodepth2 state-dict shapes) at " \
           f"{tmp_path / 'reference'}" in output, output  # beside the data folder by default

    code, output = _pytest(tmp_path, **{DATA_ENV: str(absent), "CI": "true"})
    assert code == 1, output
    counts = _counts(output)
    assert counts.get("skipped", 0) == 0 and counts["passed"] == 2, output
    assert counts.get("errors", counts.get("error", 0)) + counts.get("failed", 0) == 3, output
    assert "CI=true, so missing data is a failure" in output


def test_paths_come_from_the_environment_relative_to_the_repository(monkeypatch) -> None:
    monkeypatch.setenv(DATA_ENV, "somewhere/data")
    assert configured_path(DATA_ENV, Path("x")) == REPO_ROOT / "somewhere" / "data"
    monkeypatch.delenv(DATA_ENV)
    assert configured_path(DATA_ENV, Path("..") / "shared" / "data") == (
        REPO_ROOT.parent / "shared" / "data").resolve()


@pytest.mark.parametrize("value", ["true", "1", "TRUE"])
def test_ci_values(monkeypatch, value: str) -> None:
    from tests.conftest import on_ci

    monkeypatch.setenv("CI", value)
    assert on_ci()
    monkeypatch.setenv("CI", "false")
    assert not on_ci()
