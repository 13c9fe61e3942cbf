"""``infer --poses`` warns once per name clash, in one line, and not about torch internals."""

from __future__ import annotations

import subprocess
import sys

from tests.inference.conftest import save_image


def test_poses_with_a_name_clash_warns_once_in_one_line(model_dir, tmp_path):
    images = [save_image(tmp_path / "a" / "x.png", 64, 96, 0),
              save_image(tmp_path / "b" / "x.png", 64, 96, 1),  # clashes with a/x.png
              save_image(tmp_path / "a" / "y.png", 64, 96, 2)]
    run = subprocess.run(  # a fresh process: torch shows its array warning once per process
        [sys.executable, "-m", "packdepth", "infer", str(model_dir), *map(str, images),
         "--out", str(tmp_path / "out"), "--poses"],
        capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, run.stderr
    warnings = [line for line in run.stderr.splitlines() if "warning" in line.lower()]
    assert warnings == [f"packdepth: warning: {images[1]}: output name 'x' already taken by "
                        "another input; writing it as 'x-2'"]
    assert (tmp_path / "out" / "x-2.npz").is_file() and (tmp_path / "out" / "poses.json").is_file()
