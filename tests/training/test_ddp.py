"""Two CPU processes with Lightning's DDP strategy (gloo), launched through the CLI."""

from __future__ import annotations

import csv
import os
import subprocess
import sys
from pathlib import Path

from packdepth.data.synthetic import SynthParams, write_dataset

REPO = Path(__file__).resolve().parents[2]


def test_two_process_ddp_run(tmp_path):
    world = tmp_path / "world"
    write_dataset(world, SynthParams(height=48, width=160, frames=10, seed=4), sequences=2)
    out = tmp_path / "run"
    sets = [
        "data.kind=synthetic", f"data.root={world}", "data.split=splits/train_files.txt",
        "data.height=48", "data.width=160", "trainer.batch_size=2", "trainer.max_steps=3",
        "trainer.max_epochs=-1", "trainer.devices=2", "trainer.strategy=ddp",
        "trainer.progress_bar=false", "trainer.log_every_steps=1", f"trainer.out_dir={out}",
    ]
    config = tmp_path / "c.yaml"
    config.write_text("{}\n")
    cmd = [sys.executable, "-m", "packdepth.cli", "train", str(config)]
    for s in sets:
        cmd += ["--set", s]
    env = {**os.environ, "PYTHONPATH": str(REPO)}  # the checkout under test, not an install
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=300, cwd=tmp_path, env=env)
    assert done.returncode == 0, done.stderr[-2000:]
    assert "trained 3 steps in 2 processes" in done.stdout
    with open(out / "csv" / "metrics.csv") as f:
        steps = [r for r in csv.DictReader(f) if r.get("train/total")]
    assert len(steps) == 3
    assert (out / "model" / "depth_net.safetensors").is_file()
    assert (out / "checkpoints" / "last.ckpt").is_file()
