"""`packdepth train` with its output in a file: bf16 mixed precision validates and logs depth
pictures (it crashed converting bfloat16 to NumPy), and progress comes as short plain lines."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch

from packdepth.config import CONFIG_DIR
from packdepth.data.synthetic import SynthParams, write_dataset

REPO = Path(__file__).resolve().parents[2]
STEPS, EVERY, VAL_EVERY = 6, 2, 3


@pytest.fixture(scope="module")
def redirected_run(tmp_path_factory) -> tuple[int, bytes, Path]:
    """The synthetic CPU config at 48x160 for 6 steps in bf16-mixed, validating every 3 steps,
    stdout and stderr redirected to a file: (exit status, the file's bytes, run folder)."""
    root = tmp_path_factory.mktemp("redirected")
    world = root / "world"
    write_dataset(world, SynthParams(height=48, width=160, frames=8, seed=3), sequences=2)
    out = root / "run"
    sets = [f"data.root={world}", f"val_data.root={world}", "data.height=48", "data.width=160",
            "val_data.height=48", "val_data.width=160", "trainer.precision=bf16-mixed",
            f"trainer.max_steps={STEPS}", f"trainer.val_every_steps={VAL_EVERY}",
            f"trainer.progress_every_steps={EVERY}", "trainer.num_log_images=2",
            f"trainer.out_dir={out}"]
    cmd = [sys.executable, "-m", "packdepth", "train", str(CONFIG_DIR / "synthetic_cpu.yaml")]
    cmd += [a for s in sets for a in ("--set", s)]
    log = root / "output.txt"
    with open(log, "wb") as f:
        env = {**os.environ, "PYTHONPATH": str(REPO)}  # the checkout under test, not an install
        done = subprocess.run(cmd, stdout=f, stderr=subprocess.STDOUT, cwd=root, timeout=600,
                              env=env)
    return done.returncode, log.read_bytes(), out


def test_bf16_training_validates_and_logs_depth_pictures(redirected_run):
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    status, output, out = redirected_run
    assert status == 0, output.decode()[-3000:]
    text = output.decode()
    assert "trained 6 steps" in text and "val/abs_rel" in text
    events = EventAccumulator(str(out / "tensorboard"), size_guidance={"images": 0}).Reload()
    assert set(events.Tags()["images"]) == {"val/depth_0", "val/depth_1"}
    pictures = events.Images("val/depth_0")
    assert [p.step for p in pictures] == [3, 6]
    assert (pictures[0].height, pictures[0].width) == (3 * 48, 160)  # input, depth, GT


def test_redirected_output_has_plain_progress_lines(redirected_run):
    status, output, _ = redirected_run
    assert status == 0
    assert b"\r" not in output and len(output) < 8000, len(output)
    lines = output.decode().splitlines()
    steps = [int(m.group(1)) for line in lines if (m := re.match(r"epoch \d+ step (\d+)/6 loss "
                                                                  r"[\d.]+ [\d.]+ steps/s$", line))]
    assert steps == [2, 4, 6]
    validations = [line for line in lines if line.startswith("validation at step ")]
    assert [v.split(":")[0] for v in validations] == ["validation at step 3",
                                                      "validation at step 6"]
    assert all("abs_rel " in v for v in validations)
    assert max(len(line) for line in lines) < 300


def test_terminal_gets_the_bar_and_files_get_lines(monkeypatch):
    from lightning.pytorch.callbacks import TQDMProgressBar

    from packdepth.training.callbacks import ProgressLines, progress_display

    monkeypatch.setattr(sys.stdout, "isatty", lambda: True)
    assert isinstance(progress_display(10), TQDMProgressBar)
    monkeypatch.setattr(sys.stdout, "isatty", lambda: False)
    display = progress_display(10)
    assert isinstance(display, ProgressLines) and display.every == 10


class _Logger:
    def __init__(self) -> None:
        self.images: list[tuple[str, np.ndarray, int]] = []
        self.experiment = self

    def add_image(self, tag: str, image: np.ndarray, step: int, dataformats: str) -> None:
        assert dataformats == "HWC"
        self.images.append((tag, image, step))


class _Trainer:
    sanity_checking, global_step = False, 7

    def __init__(self) -> None:
        self.loggers = [_Logger()]


@pytest.mark.parametrize("dtype", [torch.bfloat16, torch.float16])
def test_depth_pictures_from_reduced_precision_outputs(dtype):
    """Validation under autocast returns bfloat16/float16 depth: pictured as its float values,
    frames without GT skipped, the GT resized to the prediction."""
    from packdepth.io.viz import colorize_depth
    from packdepth.training.callbacks import DepthImageLogger

    trainer, logger = _Trainer(), DepthImageLogger(num_images=2)
    depth = (torch.rand(3, 1, 8, 12) * 20 + 1).to(dtype)
    gt = torch.rand(3, 1, 16, 24) * 20
    gt[0] = 0  # no GT: not pictured
    batch = {"image": torch.rand(3, 3, 8, 12).to(dtype), "depth_gt": gt}
    logger.on_validation_batch_end(trainer, None, {"depth": depth}, batch, 0)
    logger.on_validation_epoch_end(trainer, None)
    images = trainer.loggers[0].images
    assert [(tag, step) for tag, _, step in images] == [("val/depth_0", 7), ("val/depth_1", 7)]
    grid = images[0][1]
    assert grid.dtype == np.uint8 and grid.shape == (24, 12, 3)
    np.testing.assert_array_equal(grid[8:16], colorize_depth(depth[1, 0].float().numpy()))
