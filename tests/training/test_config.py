"""The training configuration refuses contradictory settings when it is loaded."""

from __future__ import annotations

from pathlib import Path

import pytest

from packdepth.cli import main
from packdepth.config import load_config
from packdepth.errors import PackdepthError
from packdepth.training.config import TrainConfig


def test_oracle_pose_with_alignment_is_refused_naming_both_keys() -> None:
    with pytest.raises(PackdepthError, match=r"^loss\.oracle_pose and loss\.align_pose: "):
        load_config(TrainConfig, None, ["loss.oracle_pose=true", "loss.align_pose=true"])
    for ok in (["loss.oracle_pose=true"], ["loss.align_pose=true"]):
        load_config(TrainConfig, None, ok)


def test_anchor_without_an_initial_model_is_refused() -> None:
    with pytest.raises(PackdepthError, match=r"loss\.anchor_weight > 0 needs model\.init"):
        load_config(TrainConfig, None, ["loss.anchor_weight=0.1"])
    cfg = load_config(TrainConfig, None, ["loss.anchor_weight=0.1", "model.init=some/model"])
    assert cfg.loss.anchor_weight == 0.1


def test_train_refuses_the_config_file_in_one_line_before_writing(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = tmp_path / "bad.yaml"
    out = tmp_path / "run"
    config.write_text(f"loss: {{oracle_pose: true, align_pose: true}}\n"
                      f"trainer: {{out_dir: {out}}}\n")
    assert main(["train", str(config)]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and str(config) in err and "loss.oracle_pose" in err
    assert not out.exists()
