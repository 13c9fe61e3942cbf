"""The console entry point."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from packdepth import __version__
from packdepth.cli import main


def test_version_and_help(capsys):
    with pytest.raises(SystemExit) as exc:
        main(["--version"])
    assert exc.value.code == 0
    assert capsys.readouterr().out.strip() == f"packdepth {__version__}"
    assert main([]) == 0
    assert "usage: packdepth" in capsys.readouterr().out


def test_console_script_is_installed():
    script = Path(sys.executable).parent / "packdepth"
    out = subprocess.run([str(script), "--help"], capture_output=True, text=True, check=True)
    assert "Self-supervised monocular depth" in out.stdout
