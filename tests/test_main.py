"""``python -m packdepth`` runs the same command line as the ``packdepth`` script."""

from __future__ import annotations

import subprocess
import sys

from packdepth import __version__


def test_python_m_packdepth_runs_the_cli() -> None:
    out = subprocess.run([sys.executable, "-m", "packdepth", "--version"],
                         capture_output=True, text=True, check=True)
    assert out.stdout.strip() == f"packdepth {__version__}"
    bad = subprocess.run(
        [sys.executable, "-m", "packdepth", "eval", "--checkpoint", "/nonexistent"],
        capture_output=True, text=True,
    )
    assert bad.returncode == 2 and "Traceback" not in bad.stderr
