"""Image sizes on the command line and in configs (issue 15, item 4).

Inference runs at any size from 1 pixel (the networks pad internally); training needs
``TRAIN_MIN_SIZE`` pixels a side, and a size below it is one line naming the option and the
minimum, exit status 2, nothing written. ``fit --size 24x80`` runs in
``tests/training/test_fit_demo.py``.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from packdepth.cli import main
from packdepth.config import CONFIG_DIR, check_image_size, parse_image_size
from packdepth.data.synthetic import SynthParams, write_dataset
from packdepth.errors import PackdepthError
from packdepth.io.checkpoints import save_model
from packdepth.networks import ResNetDepth
from packdepth.training.config import TRAIN_MIN_SIZE
from tests.cli_checks import one_line_error


@pytest.fixture(scope="module")
def world(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("world")
    write_dataset(root, SynthParams(height=40, width=120, frames=4, seed=5), sequences=1)
    return root


def test_size_helper_names_the_option_and_the_bound() -> None:
    assert check_image_size(1, 1, "--size") == (1, 1)
    assert parse_image_size("24X80") == (24, 80)
    with pytest.raises(PackdepthError, match=r"^--size: 8x80 is too small: at least 16 pixels"):
        check_image_size(8, 80, "--size", TRAIN_MIN_SIZE)
    with pytest.raises(PackdepthError, match="at most 4096"):
        check_image_size(5000, 8, "--height/--width", 8, 4096)
    with pytest.raises(PackdepthError, match="whole number"):
        check_image_size(2.5, 8, "data.height/data.width")
    with pytest.raises(PackdepthError, match="expected HxW"):
        parse_image_size("24x")


@pytest.mark.parametrize("size", ["32x96", "1x1", "7x13"])
def test_eval_runs_a_resnet_at_tiny_sizes(world, tmp_path, size, capsys) -> None:
    save_model(ResNetDepth(18), tmp_path / "model" / "depth_net.safetensors")
    report = tmp_path / "m.json"
    assert main(["eval", "--checkpoint", str(tmp_path / "model"), "--data", str(world),
                 "--split", str(world / "splits" / "all_files.txt"), "--crop", "none",
                 "--size", size, "--json", str(report)]) == 0
    result = json.loads(report.read_text())
    assert result["protocol"]["input_size"] == [int(v) for v in size.split("x")]
    assert result["protocol"]["num_images"] == 2 and 0 < result["metrics"]["abs_rel"] < 5


def test_training_sizes_below_the_minimum_are_one_line(world, tmp_path, capsys) -> None:
    assert main(["fit", str(world), "--out", str(tmp_path / "f"), "--size", "8x80"]) == 2
    one_line_error(capsys, "--size: 8x80 is too small", f"at least {TRAIN_MIN_SIZE} pixels")
    assert main(["demo", "--out", str(tmp_path / "d"), "--size", "15x80"]) == 2
    one_line_error(capsys, "--size: 15x80", f"at least {TRAIN_MIN_SIZE}")
    config = ["train", str(CONFIG_DIR / "synthetic_cpu.yaml"), "--set", f"data.root={world}",
              "--set", f"trainer.out_dir={tmp_path / 'r'}"]
    assert main([*config, "--set", "data.height=8"]) == 2
    one_line_error(capsys, "data.height/data.width: 8x320 is too small")
    assert main([*config, "--set", "data.height=16", "--set", "data.width=16",
                 "--set", "trainer.batch_size=1", "--set", "model.pose={name: PoseResNet}"]) == 2
    one_line_error(capsys, "16x16 with trainer.batch_size=1", "PoseResNet")
    assert main(["synth", str(tmp_path / "s"), "--height", "4", "--quiet"]) == 2
    one_line_error(capsys, "--height/--width: 4x640 is too small: at least 8 pixels")
    assert not any(tmp_path.iterdir())  # nothing written by any of them
