"""The ready-made configs in packdepth/configs/ are valid, each one builds its data on a real
sample, and the recipes compose."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest
import torch

from packdepth.config import CONFIG_DIR, RECIPE_DIR, load_config, recipe
from packdepth.data.factory import build_dataset
from packdepth.data.synthetic import SynthParams, write_dataset
from packdepth.errors import PackdepthError
from packdepth.networks import build_depth_net, build_pose_net
from packdepth.training.config import TrainConfig

CONFIGS = sorted(CONFIG_DIR.glob("*.yaml"))


def test_every_config_is_listed():
    assert [p.stem for p in CONFIGS] == [
        "ddad_packnet01", "kitti_gpu", "kitti_packnet01", "kitti_resnet18", "synthetic_cpu"
    ]


def test_the_gpu_config_is_the_fields_setting_on_one_gpu():
    """192x640, batch 12 (monodepth2's setting) on one GPU; the rest as kitti_resnet18."""
    folder = CONFIGS[0].parent
    gpu = load_config(TrainConfig, folder / "kitti_gpu.yaml")
    cpu_recipe = load_config(TrainConfig, folder / "kitti_resnet18.yaml")
    assert (gpu.data.height, gpu.data.width, gpu.trainer.batch_size) == (192, 640, 12)
    assert (gpu.trainer.accelerator, gpu.trainer.devices) == ("gpu", 1)
    assert gpu.trainer.channels_last and not gpu.trainer.deterministic
    for part in ("data", "val_data", "model", "loss", "optim"):
        assert getattr(gpu, part) == getattr(cpu_recipe, part), part


@pytest.mark.parametrize("path", CONFIGS, ids=lambda p: p.stem)
def test_config_loads_and_builds_its_networks(path):
    cfg = load_config(TrainConfig, path)
    assert cfg.val_data is not None and cfg.val_data.require_depth
    assert not cfg.val_data.augmentation.enabled
    with torch.device("meta"):  # shapes only: PackNet01 has 128 M parameters
        depth, pose = build_depth_net(cfg.model.depth), build_pose_net(cfg.model.pose)
    params = sum(p.numel() for p in depth.parameters())
    expected = {"PackNet01": 128_294_020, "ResNetDepth": 14_329_236}[cfg.model.depth["name"]]
    assert params == expected  # packnet-sfm's PackNet01-A / monodepth2's ResNet18 depth net
    assert pose.config["name"] == cfg.model.pose["name"]


def _real_root(path: Path, request: pytest.FixtureRequest, tmp_path: Path
               ) -> tuple[str, list[str]]:
    """The sample a config's data kind reads: a fixture of tests/conftest.py (skipped when the
    real data is absent) or, for the synthetic world, a tiny rendering."""
    if "kitti" in path.stem:  # the split files of a full KITTI copy are not here: all frames
        root = request.getfixturevalue("kitti_tiny")
        return str(root), ["data.split=null", "val_data.split=null"]
    if "ddad" in path.stem:
        root = request.getfixturevalue("ddad_mini")
        return str(root), ["data.split=train", "val_data.split=train"]
    write_dataset(tmp_path, SynthParams(height=48, width=160, frames=6, seed=2), sequences=2)
    return str(tmp_path), []


@pytest.mark.parametrize("path", CONFIGS, ids=lambda p: p.stem)
def test_config_data_on_real_samples(path, request, tmp_path):
    root, extra = _real_root(path, request, tmp_path)
    overrides = [f"data.root={root}", f"val_data.root={root}", "data.height=64",
                 "data.width=192", "val_data.height=64", "val_data.width=192", *extra]
    cfg = load_config(TrainConfig, path, overrides)
    train, val = build_dataset(cfg.data), build_dataset(cfg.val_data)
    item = train[0]
    assert item["image"].shape == (3, 64, 192) and item["context"].shape == (2, 3, 64, 192)
    assert (val[0]["depth_gt"] > 0).any()


def test_synthetic_config_is_the_demo_recipe_on_its_own_data():
    """configs/synthetic_cpu.yaml includes the recipes the demo and the benchmark compose:
    its settings are theirs except for its own data, validation and run length."""
    from packdepth.training.synthetic_recipe import SYNTHETIC_RECIPES

    path = CONFIG_DIR / "synthetic_cpu.yaml"
    composed = load_config(TrainConfig, [recipe(n) for n in SYNTHETIC_RECIPES])
    cfg = load_config(TrainConfig, path)
    assert cfg.loss == replace(composed.loss, smoothness_weight=0.001)
    assert cfg.optim == composed.optim
    assert (cfg.loss.num_scales, cfg.loss.prior_weight, cfg.optim.pose_lr) == (1, 0.1, 1e-3)
    assert replace(cfg.trainer, out_dir="x", max_minutes=None, max_epochs=1, val_every_steps=0) \
        == replace(composed.trainer, out_dir="x", max_epochs=1)


def test_recipes_merge_by_section_and_replace_network_settings(tmp_path):
    """Later files win key by key inside a section; a network's mapping is replaced whole; a
    file's include: comes under its own keys; overrides come last."""
    assert sorted(p.stem for p in RECIPE_DIR.glob("*.yaml")) == [
        "anchored", "fast_cpu", "from_scratch", "velocity"]
    base = tmp_path / "base.yaml"
    base.write_text("model: {depth: {name: PackNet01, version: A}}\n"
                    "loss: {prior_weight: 0.3, num_scales: 2}\n")
    top = tmp_path / "top.yaml"
    top.write_text("include: [base.yaml]\nloss: {num_scales: 3}\n")
    cfg = load_config(TrainConfig, [top, recipe("velocity")], ["optim.lr=1e-3"])
    assert cfg.model.depth == {"name": "PackNet01", "version": "A"}
    assert cfg.model.pose == {"name": "PoseNet", "translation_scale": 1.0}
    assert (cfg.loss.prior_weight, cfg.loss.num_scales, cfg.loss.velocity_weight) == (0.3, 3, 0.1)
    assert (cfg.optim.lr, cfg.optim.pose_lr, cfg.model.init_depth) == (1e-3, None, 15.0)
    (tmp_path / "bad.yaml").write_text("include: missing.yaml\n")
    with pytest.raises(PackdepthError, match=r"missing\.yaml: config file not found"):
        load_config(TrainConfig, tmp_path / "bad.yaml")
